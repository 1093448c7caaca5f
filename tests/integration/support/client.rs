//! A small HTTPS client for the licensing API: rustls over a TCP stream, one HTTP/1.1 request per connection
//! (`Connection: close`), optionally with a client certificate. [`Client::open`] does what a reader does: asks for a
//! use license with a fresh [`ClientKey`], verifies it against the service's signing keys, opens the sealed content
//! key and decrypts the protected file.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;

use fci_connector::licensing::api::{self, Denial, LicenseAnswer, LicenseRequest};
use fci_connector::licensing::seal::ClientKey;
use fci_connector::licensing::use_license::{self, Claims, Use};
use fci_connector::protect::container::Envelope;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::pki::Identity;

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} answer is not the expected JSON ({e}): {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The denial, checked to carry the status its code documents.
    pub fn denial(&self) -> Denial {
        let d: Denial = self.json();
        assert_eq!(self.status, d.error.status(), "status of {:?}: {}", d.error, self.text());
        d
    }
}

/// What a reader got: the use license's claims and the plaintext.
#[derive(Debug)]
pub struct Opened {
    pub claims: Claims,
    pub plaintext: Vec<u8>,
}

pub struct Client {
    config: Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    pub user_agent: String,
}

impl Client {
    pub fn new(ca_pem: &str, addr: SocketAddr, identity: Option<&Identity>) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match identity {
            Some(id) => {
                let chain = CertificateDer::pem_slice_iter(id.cert_pem.as_bytes()).map(|c| c.unwrap()).collect();
                let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).unwrap();
                builder.with_client_auth_cert(chain, key).unwrap()
            }
            None => builder.with_no_client_auth(),
        };
        Client { config: Arc::new(config), addr, user_agent: "fci-connector-tests/1".into() }
    }

    /// Open a connection and send a request's head announcing `length` body bytes; the body follows with
    /// [`Pending::send`], the answer with [`Pending::answer`].
    pub fn begin(&self, method: &str, path: &str, bearer: Option<&str>, length: Option<usize>) -> Pending {
        self.begin_with(method, path, bearer, length, "")
    }

    /// [`Client::begin`] with `Expect: 100-continue`: [`Pending::await_continue`] then returns once the server reads
    /// the body.
    pub fn begin_expecting_continue(&self, method: &str, path: &str, bearer: Option<&str>, length: usize) -> Pending {
        self.begin_with(method, path, bearer, Some(length), "Expect: 100-continue\r\n")
    }

    fn begin_with(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        length: Option<usize>,
        extra: &str,
    ) -> Pending {
        self.try_begin_with(method, path, bearer, length, extra).unwrap()
    }

    fn try_begin_with(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        length: Option<usize>,
        extra: &str,
    ) -> std::io::Result<Pending> {
        let tcp = TcpStream::connect(self.addr)?;
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
        let conn =
            rustls::ClientConnection::new(self.config.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nUser-Agent: {}\r\n",
            self.user_agent
        );
        if let Some(token) = bearer {
            head += &format!("Authorization: Bearer {token}\r\n");
        }
        if let Some(length) = length {
            head += &format!("Content-Type: application/json\r\nContent-Length: {length}\r\n");
        }
        head += extra;
        head += "\r\n";
        tls.write_all(head.as_bytes())?;
        tls.flush()?;
        Ok(Pending { tls })
    }

    /// Send one request; `body` is sent with its length, or `declared_length` overrides the Content-Length header
    /// (and no body is sent), for the size limit.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&[u8]>,
        declared_length: Option<usize>,
    ) -> Answer {
        let body = body.unwrap_or_default();
        let length = (method != "GET" || !body.is_empty()).then(|| declared_length.unwrap_or(body.len()));
        let mut pending = self.begin(method, path, bearer, length);
        if declared_length.is_none() {
            pending.send(body).unwrap();
        }
        pending.answer()
    }

    /// POST a JSON body; an I/O failure (the service went away) is an error, not a panic.
    pub fn try_post<T: serde::Serialize>(&self, path: &str, bearer: Option<&str>, body: &T) -> std::io::Result<Answer> {
        let body = serde_json::to_vec(body).map_err(std::io::Error::other)?;
        let mut pending = self.try_begin_with("POST", path, bearer, Some(body.len()), "")?;
        pending.send(&body)?;
        pending.try_answer()
    }

    pub fn get(&self, path: &str, bearer: Option<&str>) -> Answer {
        self.raw("GET", path, bearer, None, None)
    }

    pub fn post<T: serde::Serialize>(&self, path: &str, bearer: Option<&str>, body: &T) -> Answer {
        self.raw("POST", path, bearer, Some(&serde_json::to_vec(body).unwrap()), None)
    }

    /// POST with no body.
    pub fn post_empty(&self, path: &str, bearer: Option<&str>) -> Answer {
        self.raw("POST", path, bearer, Some(b""), None)
    }

    /// The service's signing keys.
    pub fn signing_keys(&self) -> jsonwebtoken::jwk::JwkSet {
        let a = self.get(api::SIGNING_KEYS, None);
        assert_eq!(a.status, 200, "{}", a.text());
        a.json()
    }

    /// Ask for a use license for `license` (a header block) with a fresh client key.
    pub fn license(&self, bearer: Option<&str>, license: Vec<u8>) -> (Answer, ClientKey) {
        let key = ClientKey::generate().unwrap();
        let request = LicenseRequest { license, client_key: key.public_bytes().to_vec() };
        (self.post(api::LICENSES, bearer, &request), key)
    }

    /// Open the protected file at `path` through the service, as a reader does; the denial when refused.
    pub fn open(&self, bearer: Option<&str>, path: &Path) -> Result<Opened, Answer> {
        let bytes = std::fs::read(path).unwrap();
        let mut r = bytes.as_slice();
        let envelope = Envelope::read(&mut r).unwrap();
        let (answer, key) = self.license(bearer, envelope.header_bytes());
        if answer.status != 200 {
            return Err(answer);
        }
        let LicenseAnswer { use_license } = answer.json();
        let claims =
            use_license::verify(&use_license, &self.signing_keys(), time::OffsetDateTime::now_utc(), Use::Online)
                .unwrap();
        assert_eq!(claims.cid, envelope.license.content_id);
        let content_key = key.open(&claims.cid, &claims.sealed_key().unwrap()).unwrap();
        let mut plaintext = Vec::new();
        envelope.open_with_content_key(&content_key, r, &mut plaintext).unwrap();
        Ok(Opened { claims, plaintext })
    }
}

/// A request whose head is sent.
pub struct Pending {
    tls: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
}

impl Pending {
    /// Wait for the server's `100 Continue` (after a head sent with [`Client::begin_expecting_continue`]): the
    /// handler has started and is reading the body.
    pub fn await_continue(&mut self) {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(self.tls.read(&mut byte).unwrap(), 1, "closed before 100 Continue");
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 100"), "{}", String::from_utf8_lossy(&head));
    }

    /// Send (more of) the body.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.tls.write_all(bytes)?;
        self.tls.flush()
    }

    /// Read the whole answer (the server closes after it).
    pub fn answer(self) -> Answer {
        self.try_answer().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The same; no answer at all is an error.
    pub fn try_answer(mut self) -> std::io::Result<Answer> {
        let mut raw = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.tls.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                // The server may close without close_notify after `Connection: close`.
                Err(_) => break,
            }
        }
        if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
            return Err(std::io::Error::other(format!("no HTTP answer ({} bytes)", raw.len())));
        }
        Ok(parse_response(&raw))
    }
}

/// Split a raw HTTP/1.1 response into status, headers and (de-chunked) body.
fn parse_response(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response ({} bytes): {}", raw.len(), String::from_utf8_lossy(raw)));
    let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
    let mut body = raw[split + 4..].to_vec();
    if headers.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = body.as_slice();
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        body = out;
    }
    Answer { status, headers, body }
}
