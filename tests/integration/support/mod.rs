//! What the licensing tests (the service's and the reader's) share: a test PKI ([`pki`]), an identity provider
//! with its JWKS and tokens ([`oidc`]), a whole service deployment in a temporary folder started through the real
//! binary ([`service`]), and a small HTTPS client that opens protected files through the API ([`client`]).

#![allow(dead_code)]

pub mod client;
pub mod oidc;
pub mod pki;
pub mod service;
