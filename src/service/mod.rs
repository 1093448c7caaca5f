//! The licensing service (`serve`).

pub mod ldap;
