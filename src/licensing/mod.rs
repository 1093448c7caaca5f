//! The licensing protocol, shared by the service (`serve`) and the reader (`open`, `licenses`): the HTTP API's
//! bodies and denial codes ([`api`], specified in docs/SERVICE.md and docs/openapi.yaml), the HPKE sealing of a
//! content key to the reader's one-time key ([`seal`]), and the signed use license ([`use_license`]).
//!
//! Both ends call this one module, so the wire format has one definition.

pub mod api;
pub mod seal;
pub mod use_license;
