//! The licensing service (`serve`).

pub mod ldap;
pub mod store;
