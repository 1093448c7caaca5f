//! The reader: a user opens a protected file with their own sign-in, through the licensing service (`serve`), or
//! from their offline cache within the offline window a use license allows.
//!
//! - [`config`]: `reader.toml` (machine-wide, then per user, or one file given): trusted services, the default
//!   service, an extra CA file, the OpenID Connect settings of a later `login`;
//! - [`trust`]: licensing URLs, normalised, and the rule that a credential goes only to a trusted service;
//! - [`client`]: the HTTPS client of the licensing API ([`crate::licensing::api`]), with bearer-token or
//!   client-certificate sign-in;
//! - [`cache`]: the per-user offline cache of use licenses, encrypted at rest;
//! - [`login`] and [`tokens`]: signing in with OpenID Connect (device flow, authorization code + PKCE), the
//!   per-user token store (encrypted like the cache) and renewing with the refresh token;
//! - [`open`]: asking for a use license, checking it, and decrypting a file with it (to a new file, or in place for
//!   `unprotect` through the service);
//! - [`launch`]: `open --launch`: a private copy opened in the user's application, an edit kept (re-protected in
//!   place) for EDIT, the copy wiped.
//!
//! The library takes paths and settings; which folders and options they come from is the command line's business.

pub mod cache;
pub mod client;
pub mod config;
pub mod launch;
pub mod login;
pub mod open;
pub mod tokens;
pub mod trust;

use time::OffsetDateTime;

use crate::licensing::api::DenialCode;
use crate::{Error, ExitClass};

/// The test-only override of "now" for the reader's time checks (offline window, expiry): an RFC 3339 time or Unix
/// seconds. Read only in debug builds (`cfg(debug_assertions)`, what `cargo test` builds); a release binary never
/// looks at it, so nobody can stretch an offline window by setting a variable.
pub const TEST_NOW_ENV: &str = "FCI_TEST_NOW";

/// The current time for the reader's checks: the system clock, or in a debug build [`TEST_NOW_ENV`] when set.
pub fn now() -> OffsetDateTime {
    #[cfg(debug_assertions)]
    if let Some(t) = std::env::var(TEST_NOW_ENV).ok().and_then(|v| parse_time(&v)) {
        return t;
    }
    OffsetDateTime::now_utc()
}

/// The test-only program `open --launch` starts with the decrypted copy instead of the default application (a
/// script that edits it). Read only in debug builds, like [`TEST_NOW_ENV`]: a release binary always starts the
/// default application.
pub const TEST_LAUNCHER_ENV: &str = "FCI_TEST_LAUNCHER";

/// The program of [`TEST_LAUNCHER_ENV`], in a debug build when set.
pub fn test_launcher() -> Option<std::ffi::OsString> {
    #[cfg(debug_assertions)]
    if let Some(program) = std::env::var_os(TEST_LAUNCHER_ENV).filter(|p| !p.is_empty()) {
        return Some(program);
    }
    None
}

/// An RFC 3339 time or Unix seconds.
#[cfg_attr(not(debug_assertions), allow(dead_code))]
fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return OffsetDateTime::from_unix_timestamp(secs).ok();
    }
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Why the reader could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    /// `reader.toml` (or a file it names) is invalid; the message names file:line:col.
    #[error("{0}")]
    Config(String),
    /// A URL that is not an `https://` service address.
    #[error("{url:?} is not a licensing service address: {why}")]
    BadUrl { url: String, why: String },
    /// The licensing service to ask is not trusted: nothing was sent to it.
    #[error(
        "{url} is not a trusted licensing service, so no request was made to it (a file could name any address to \
         collect sign-ins): if it is genuine, add it to trusted_servers in reader.toml{named_by}"
    )]
    Untrusted { url: String, named_by: String },
    /// No licensing service is known for this request.
    #[error("{0}")]
    NoServer(String),
    /// No sign-in was given, or its source cannot be read.
    #[error("{0}")]
    SignIn(String),
    /// A file given for the TLS connection (CA file, client certificate or key) cannot be used.
    #[error("{0}")]
    Tls(String),
    /// The service could not be reached.
    #[error("the licensing service {url} could not be reached: {why}")]
    Unreachable { url: String, why: String },
    /// The service answered with a denial.
    #[error("the licensing service {url} refused: {message} ({code})")]
    Denied { url: String, code: DenialCode, message: String },
    /// The service answered something the reader cannot use.
    #[error("the licensing service {url} gave an unusable answer: {why}")]
    Protocol { url: String, why: String },
    /// The offline cache failed.
    #[error("offline license cache {0}")]
    Cache(String),
}

impl ReaderError {
    /// The exit class of this failure.
    pub fn class(&self) -> ExitClass {
        match self {
            ReaderError::Config(_) => ExitClass::Config,
            ReaderError::BadUrl { .. } | ReaderError::NoServer(_) | ReaderError::Tls(_) => ExitClass::Usage,
            ReaderError::Untrusted { .. } | ReaderError::SignIn(_) => ExitClass::SignInNeeded,
            ReaderError::Unreachable { .. } => ExitClass::ServiceUnreachable,
            ReaderError::Denied { code, .. } => denial_class(*code),
            ReaderError::Protocol { .. } => ExitClass::Internal,
            ReaderError::Cache(_) => ExitClass::Write,
        }
    }

    /// The denial code, when the service refused.
    pub fn denial(&self) -> Option<DenialCode> {
        match self {
            ReaderError::Denied { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// The exit class of each denial code the service answers with (docs/EXIT-CODES.md).
pub fn denial_class(code: DenialCode) -> ExitClass {
    match code {
        DenialCode::NotGranted => ExitClass::NotGranted,
        DenialCode::Revoked => ExitClass::Revoked,
        DenialCode::Expired => ExitClass::Expired,
        DenialCode::SignInRequired | DenialCode::BadToken | DenialCode::BadCertificate => ExitClass::SignInNeeded,
        DenialCode::UnknownTemplate => ExitClass::Template,
        DenialCode::UnknownDocument => ExitClass::NotFound,
        DenialCode::InvalidLicense | DenialCode::TooLarge => ExitClass::Unreadable,
        DenialCode::RateLimited => ExitClass::Busy,
        DenialCode::Internal => ExitClass::ServiceUnreachable,
        DenialCode::BadRequest => ExitClass::Internal,
    }
}

impl From<ReaderError> for Error {
    fn from(e: ReaderError) -> Error {
        let class = e.class();
        Error::new(class, e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_denial_maps_to_its_exit_class() {
        for code in DenialCode::ALL {
            let class = denial_class(code);
            let expected = match code {
                DenialCode::NotGranted => 15,
                DenialCode::Revoked => 16,
                DenialCode::Expired => 17,
                DenialCode::Internal => 18,
                DenialCode::SignInRequired | DenialCode::BadToken | DenialCode::BadCertificate => 19,
                DenialCode::UnknownTemplate => 5,
                DenialCode::UnknownDocument => 3,
                DenialCode::InvalidLicense | DenialCode::TooLarge => 7,
                DenialCode::RateLimited => 4,
                DenialCode::BadRequest => 1,
            };
            assert_eq!(class.code(), expected, "{code}");
            let e = ReaderError::Denied { url: "https://rms.test/".into(), code, message: "no".into() };
            assert_eq!(Error::from(e).class(), class);
        }
        let untrusted = ReaderError::Untrusted { url: "https://evil.test/".into(), named_by: String::new() };
        assert_eq!(untrusted.class(), ExitClass::SignInNeeded);
        let down = ReaderError::Unreachable { url: "https://rms.test/".into(), why: "refused".into() };
        assert_eq!(down.class(), ExitClass::ServiceUnreachable);
    }

    #[test]
    fn test_now_parses_rfc3339_and_unix_seconds() {
        assert_eq!(parse_time("86400").map(|t| t.unix_timestamp()), Some(86_400));
        assert_eq!(parse_time("1970-01-02T00:00:00Z").map(|t| t.unix_timestamp()), Some(86_400));
        assert_eq!(parse_time("tomorrow"), None);
    }
}
