//! The HTTPS client of the licensing API ([`crate::licensing::api`]): ureq over rustls (ring), the OS trust store
//! by default and an extra CA file added to it, sign-in by bearer token (read fresh for every call) and/or a TLS
//! client certificate. It is built only for a [`TrustedServer`], so a sign-in never goes to an address that was not
//! checked against the trust list; redirects are not followed (a redirect could carry the token elsewhere).

use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use serde::de::DeserializeOwned;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::ReaderError;
use super::trust::TrustedServer;
use crate::licensing::api::{
    self, AccessAnswer, AccessRequest, Denial, LicenseAnswer, LicenseRequest, Revocation, Tracking,
};

/// How long to wait for a connection to the service before it counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a whole call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a bearer token comes from; read again for every call, so a script may refresh the file between calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A file holding the token (surrounding white space ignored).
    File(PathBuf),
    /// An environment variable holding the token.
    Env(String),
    /// The stored sign-in of `login`, refreshed when it is about to expire ([`super::tokens`]).
    SignedIn(super::tokens::SignedIn),
}

impl TokenSource {
    /// The token, now.
    pub fn read(&self) -> Result<Zeroizing<String>, ReaderError> {
        let token = match self {
            TokenSource::SignedIn(signed_in) => return signed_in.token(),
            TokenSource::File(path) => Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|e| ReaderError::SignIn(format!("cannot read the token file {}: {e}", path.display())))?,
            ),
            TokenSource::Env(var) => Zeroizing::new(std::env::var(var).map_err(|_| {
                ReaderError::SignIn(format!("the token variable {var} is not set (or not valid Unicode)"))
            })?),
        };
        let trimmed = Zeroizing::new(token.trim().to_string());
        if trimmed.is_empty() || trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            let from = match self {
                TokenSource::File(path) => format!("the token file {}", path.display()),
                TokenSource::Env(var) => format!("the token variable {var}"),
                TokenSource::SignedIn(_) => "the stored sign-in".to_string(),
            };
            return Err(ReaderError::SignIn(format!("{from} is empty or holds more than one token")));
        }
        Ok(trimmed)
    }
}

/// How the reader signs in and which TLS anchors it uses.
#[derive(Clone, Debug, Default)]
pub struct SignIn {
    pub token: Option<TokenSource>,
    /// Client certificate chain and its private key, PEM files.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// Extra trust anchors (PEM), added to the OS trust store.
    pub ca_file: Option<PathBuf>,
}

impl SignIn {
    /// Whether any sign-in is given.
    pub fn is_given(&self) -> bool {
        self.token.is_some() || self.client_cert.is_some()
    }
}

/// A client of one trusted licensing service.
pub struct Client {
    agent: ureq::Agent,
    server: TrustedServer,
    token: Option<TokenSource>,
}

impl Client {
    /// A client of `server` signing in with `sign_in`. Reads the certificate files now (an unusable one fails here,
    /// before any connection); makes no connection itself.
    pub fn new(server: TrustedServer, sign_in: &SignIn) -> Result<Client, ReaderError> {
        if !sign_in.is_given() {
            return Err(ReaderError::SignIn(format!(
                "no sign-in for {server}: give a bearer token or a client certificate"
            )));
        }
        let mut tls = TlsConfig::builder();
        tls = tls.root_certs(root_certs(sign_in.ca_file.as_deref())?);
        if let Some((cert, key)) = &sign_in.client_cert {
            tls = tls.client_cert(Some(client_cert(cert, key)?));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(true)
            .max_redirects(0)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(CALL_TIMEOUT))
            .user_agent(concat!("fci-connector/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build();
        Ok(Client { agent: config.new_agent(), server, token: sign_in.token.clone() })
    }

    /// The service this client talks to.
    pub fn server(&self) -> &TrustedServer {
        &self.server
    }

    /// `POST` [`api::LICENSES`].
    pub fn license(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ReaderError> {
        self.call(Method::Post(serde_json::to_value(request).map_err(|e| self.protocol(e.to_string()))?), api::LICENSES)
    }

    /// `GET` [`api::SIGNING_KEYS`].
    pub fn signing_keys(&self) -> Result<JwkSet, ReaderError> {
        self.call(Method::Get, api::SIGNING_KEYS)
    }

    /// `POST` [`api::ACCESS`].
    pub fn access(&self, request: &AccessRequest) -> Result<AccessAnswer, ReaderError> {
        self.call(Method::Post(serde_json::to_value(request).map_err(|e| self.protocol(e.to_string()))?), api::ACCESS)
    }

    /// `POST` revoke (`true`) or unrevoke (`false`).
    pub fn set_revoked(&self, content_id: &Uuid, revoked: bool) -> Result<Revocation, ReaderError> {
        let path = if revoked { api::revoke_path(content_id) } else { api::unrevoke_path(content_id) };
        self.call(Method::Post(serde_json::json!({})), &path)
    }

    /// `GET` the tracking of a content id.
    pub fn tracking(&self, content_id: &Uuid) -> Result<Tracking, ReaderError> {
        self.call(Method::Get, &api::tracking_path(content_id))
    }

    fn protocol(&self, why: String) -> ReaderError {
        ReaderError::Protocol { url: self.server.to_string(), why }
    }

    fn call<T: DeserializeOwned>(&self, method: Method, path: &str) -> Result<T, ReaderError> {
        let url = self.server.url().join(path);
        let token = self.token.as_ref().map(TokenSource::read).transpose()?;
        let bearer = token.as_ref().map(|t| Zeroizing::new(format!("Bearer {}", t.as_str())));
        let sent = match method {
            Method::Get => {
                let mut req = self.agent.get(&url).header("Accept", "application/json");
                if let Some(b) = &bearer {
                    req = req.header("Authorization", b.as_str());
                }
                req.call()
            }
            Method::Post(body) => {
                let mut req = self.agent.post(&url).header("Accept", "application/json");
                if let Some(b) = &bearer {
                    req = req.header("Authorization", b.as_str());
                }
                req.send_json(&body)
            }
        };
        let mut response = sent.map_err(|e| transport_error(&self.server, e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(api::MAX_REQUEST_BODY as u64 * 4)
            .read_to_string()
            .map_err(|e| transport_error(&self.server, e))?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&text).map_err(|e| {
                self.protocol(format!("{path}: HTTP {status} with a body that is not the documented JSON ({e})"))
            });
        }
        match serde_json::from_str::<Denial>(&text) {
            Ok(denial) => {
                Err(ReaderError::Denied { url: self.server.to_string(), code: denial.error, message: denial.message })
            }
            Err(_) => Err(self.protocol(format!("{path}: HTTP {status} without a denial body"))),
        }
    }
}

enum Method {
    Get,
    Post(serde_json::Value),
}

/// A transport failure: the service could not be reached (connection refused or reset, timeout, name not found,
/// TLS handshake failure).
fn transport_error(server: &TrustedServer, e: ureq::Error) -> ReaderError {
    let why = match &e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Rustls(tls) => format!("TLS: {tls} (for a service with a private CA, give its CA file)"),
        other => other.to_string(),
    };
    ReaderError::Unreachable { url: server.to_string(), why }
}

/// The trust anchors of the reader's connections (the licensing service, and the OpenID provider of `login`): the OS
/// trust store, or with `ca_file` its anchors and the OS store's.
pub(crate) fn root_certs(ca_file: Option<&Path>) -> Result<RootCerts, ReaderError> {
    match ca_file {
        None => Ok(RootCerts::PlatformVerifier),
        Some(path) => roots_with(path),
    }
}

/// The OS trust store's anchors and those of `ca_file`.
fn roots_with(ca_file: &Path) -> Result<RootCerts, ReaderError> {
    let text = std::fs::read(ca_file)
        .map_err(|e| ReaderError::Tls(format!("cannot read the CA file {}: {e}", ca_file.display())))?;
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    for item in ureq::tls::parse_pem(&text) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(ReaderError::Tls(format!("the CA file {}: {e}", ca_file.display()))),
        }
    }
    if certs.is_empty() {
        return Err(ReaderError::Tls(format!("the CA file {} holds no PEM certificate", ca_file.display())));
    }
    // Whatever the OS store cannot give (none on a minimal system) leaves the CA file's anchors.
    let native = rustls_native_certs::load_native_certs();
    certs.extend(native.certs.iter().map(|c| Certificate::from_der(c.as_ref()).to_owned()));
    Ok(RootCerts::new_with_certs(&certs))
}

/// A client certificate chain and its private key from PEM files.
fn client_cert(cert_file: &Path, key_file: &Path) -> Result<ClientCert, ReaderError> {
    let read = |path: &Path, what: &str| {
        std::fs::read(path).map_err(|e| ReaderError::Tls(format!("cannot read the {what} {}: {e}", path.display())))
    };
    let cert_pem = read(cert_file, "client certificate")?;
    let mut chain = Vec::new();
    for item in ureq::tls::parse_pem(&cert_pem) {
        match item {
            Ok(PemItem::Certificate(c)) => chain.push(c),
            Ok(_) => {}
            Err(e) => return Err(ReaderError::Tls(format!("the client certificate {}: {e}", cert_file.display()))),
        }
    }
    if chain.is_empty() {
        return Err(ReaderError::Tls(format!("{} holds no PEM certificate", cert_file.display())));
    }
    let key_pem = Zeroizing::new(read(key_file, "client key")?);
    let key = PrivateKey::from_pem(&key_pem).map_err(|e| {
        ReaderError::Tls(format!("the client key {} is not an unencrypted PEM private key: {e}", key_file.display()))
    })?;
    Ok(ClientCert::new_with_certs(&chain, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_read_fresh_and_must_be_one_word() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "first\n").unwrap();
        let source = TokenSource::File(file.clone());
        assert_eq!(source.read().unwrap().as_str(), "first");
        std::fs::write(&file, "  second  ").unwrap();
        assert_eq!(source.read().unwrap().as_str(), "second");
        std::fs::write(&file, "a b").unwrap();
        assert!(source.read().is_err());
        std::fs::write(&file, "\n").unwrap();
        assert_eq!(source.read().unwrap_err().class(), crate::ExitClass::SignInNeeded);
        assert!(TokenSource::Env("FCI_TEST_SURELY_UNSET_TOKEN_VAR".into()).read().is_err());
    }

    #[test]
    fn no_sign_in_and_unusable_tls_files_fail_before_any_connection() {
        let list =
            super::super::trust::TrustList::new([super::super::trust::ServiceUrl::parse("https://rms.test/").unwrap()]);
        let server = list.check(&super::super::trust::ServiceUrl::parse("https://rms.test/").unwrap(), "").unwrap();
        let err = Client::new(server.clone(), &SignIn::default()).err().unwrap();
        assert_eq!(err.class(), crate::ExitClass::SignInNeeded);
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let sign_in =
            SignIn { token: Some(TokenSource::Env("X".into())), ca_file: Some(empty.clone()), ..Default::default() };
        let err = Client::new(server.clone(), &sign_in).err().unwrap();
        assert!(err.to_string().contains("holds no PEM certificate"), "{err}");
        let sign_in = SignIn { client_cert: Some((empty.clone(), empty)), ..Default::default() };
        assert_eq!(Client::new(server, &sign_in).err().unwrap().class(), crate::ExitClass::Usage);
    }
}
