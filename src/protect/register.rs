//! Registration for tracking: after `protect` has protected a file whose template says
//! `<LicenseServer url="…" register="true"/>`, the file's license block (its header, MAC included) is posted to the
//! licensing service's [`DOCUMENTS`](crate::licensing::api::DOCUMENTS) endpoint, so that owners see the document
//! before anyone opens it (as MIP's register-for-tracking does).
//!
//! Registration is best effort: it never fails or changes the outcome of a protect, and it is bounded by a short
//! timeout ([`TIMEOUT`]). The HTTP client is built only when a template asks for registration, once per process,
//! so the per-file path of every other template pays nothing for it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::licensing::api::{DOCUMENTS, Denial, RegisterRequest};

/// Connect and total time allowed for one registration.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// What registration did: the log line's `registered` (and `registration_error`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Registration {
    /// The service answered 2xx.
    Registered,
    /// Not registered, and why (unreachable, timed out, TLS, or the service's denial). The file is protected.
    NotRegistered(String),
}

impl Registration {
    /// True when the service accepted the registration.
    pub fn registered(&self) -> bool {
        matches!(self, Registration::Registered)
    }

    /// Why not, when not registered.
    pub fn error(&self) -> Option<&str> {
        match self {
            Registration::Registered => None,
            Registration::NotRegistered(why) => Some(why),
        }
    }
}

/// The registration endpoint of the service at `base` (the template's URL, with or without a trailing slash).
pub fn endpoint(base: &str) -> String {
    format!("{}{DOCUMENTS}", base.trim_end_matches('/'))
}

/// One agent per CA setting, built on first use: a folder run registers many files through one client.
static AGENTS: Mutex<Vec<(Option<PathBuf>, ureq::Agent)>> = Mutex::new(Vec::new());

/// Why a registration did not happen (the log's `registration_error`).
#[derive(Debug, thiserror::Error)]
enum RegisterError {
    #[error("cannot read license_server_ca {}: {source}", path.display())]
    ReadCa { path: PathBuf, source: std::io::Error },
    #[error("license_server_ca {}: {detail}", path.display())]
    BadCa { path: PathBuf, detail: String },
    #[error("license_server_ca {} holds no PEM certificate", path.display())]
    NoCertificate { path: PathBuf },
    /// No answer: `detail` says why in a few words.
    #[error("{url}: {detail}")]
    Transport { url: String, detail: String },
    /// The service refused with a denial.
    #[error("{url}: HTTP {status} {code}: {message}")]
    Denied { url: String, status: u16, code: String, message: String },
    /// The service answered something other than a denial.
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
}

fn agent(ca_file: Option<&Path>) -> Result<ureq::Agent, RegisterError> {
    let mut agents = AGENTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, agent)) = agents.iter().find(|(ca, _)| ca.as_deref() == ca_file) {
        return Ok(agent.clone());
    }
    let roots = match ca_file {
        None => ureq::tls::RootCerts::PlatformVerifier,
        Some(path) => {
            let pem =
                std::fs::read(path).map_err(|source| RegisterError::ReadCa { path: path.to_path_buf(), source })?;
            let certs = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(cert)) => Some(Ok(cert)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| RegisterError::BadCa { path: path.to_path_buf(), detail: e.to_string() })?;
            if certs.is_empty() {
                return Err(RegisterError::NoCertificate { path: path.to_path_buf() });
            }
            ureq::tls::RootCerts::new_with_certs(&certs)
        }
    };
    let tls = ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls).root_certs(roots).build();
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .timeout_connect(Some(TIMEOUT))
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("fci-connector/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build()
        .new_agent();
    agents.push((ca_file.map(Path::to_path_buf), agent.clone()));
    Ok(agent)
}

/// Register the file whose header (from byte 0 through the header MAC) is `header` with the service at
/// `server_url`. `ca_file`: a PEM bundle that replaces the operating system's trust store for this connection (a
/// private CA); `None`: the OS trust store. Never fails: the answer says whether it was registered and why not.
pub fn register(server_url: &str, header: &[u8], ca_file: Option<&Path>) -> Registration {
    match try_register(server_url, header, ca_file) {
        Ok(()) => Registration::Registered,
        Err(why) => Registration::NotRegistered(why.to_string()),
    }
}

fn try_register(server_url: &str, header: &[u8], ca_file: Option<&Path>) -> Result<(), RegisterError> {
    let url = endpoint(server_url);
    let agent = agent(ca_file)?;
    let body = RegisterRequest { license: header.to_vec() };
    let mut answer = agent
        .post(&url)
        .send_json(&body)
        .map_err(|e| RegisterError::Transport { url: url.clone(), detail: describe(&e) })?;
    let status = answer.status();
    if status.is_success() {
        return Ok(());
    }
    // The service answers every refusal with a Denial; anything else is reported by its status alone.
    let denial = answer.body_mut().with_config().limit(64 * 1024).read_json::<Denial>().ok();
    Err(match denial {
        Some(d) => RegisterError::Denied {
            url,
            status: status.as_u16(),
            code: d.error.to_string(),
            message: printable(&d.message),
        },
        None => RegisterError::Status { url, status: status.as_u16() },
    })
}

/// A service's message as one short line: no control characters, at most 300 characters.
fn printable(message: &str) -> String {
    message.chars().filter(|c| !c.is_control()).take(300).collect()
}

/// A transport error in a few words.
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s", TIMEOUT.as_secs()),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_below_the_base_url() {
        assert_eq!(endpoint("https://rms.contoso.com/"), "https://rms.contoso.com/v1/documents");
        assert_eq!(endpoint("https://rms.contoso.com"), "https://rms.contoso.com/v1/documents");
        assert_eq!(endpoint("https://h:8443/rms/"), "https://h:8443/rms/v1/documents");
    }

    #[test]
    fn a_closed_port_is_not_registered_and_says_why() {
        // Bind, learn the port, close: nothing listens there now.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let r = register(&format!("https://127.0.0.1:{port}/"), b"header", None);
        let why = r.error().unwrap_or_default().to_string();
        assert!(!r.registered() && why.contains(&format!("127.0.0.1:{port}/v1/documents")), "{r:?}");
    }
}
