//! Who is asking: an OpenID Connect bearer token (RS256/ES256 JWT checked against the issuer, the audience, its
//! times with a 60 s skew, and keys from a JWKS file or URL), or a TLS client certificate chained to the users' CA
//! (the principal from its SAN e-mail or UPN). A request with neither is refused; with a token, the token decides
//! (a certificate is not a fallback for a bad token).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use sha2::Digest;

use super::config::{ClientCertConfig, OidcConfig};
use super::policy::Principal;
use crate::licensing::api::DenialCode;
use crate::{Error, ExitClass};

/// Clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 60;
/// The JWKS is fetched again on an unknown key id at most this often.
pub const JWKS_REFRESH: Duration = Duration::from_secs(60);
/// The UPN otherName of Microsoft certificates (AD CS user certificates).
pub const OID_UPN: &str = "1.3.6.1.4.1.311.20.2.3";
/// Longest bearer token accepted.
const MAX_TOKEN: usize = 16 * 1024;
/// Verified tokens remembered (by SHA-256 of the whole token) until their `exp`: a reader opening many files sends
/// the same token each time, and its signature check was the largest cost of a repeated open (docs/PERFORMANCE.md).
const VERIFIED_TOKENS: usize = 10_000;

/// A refused sign-in: the denial code and a message that never quotes the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    pub code: DenialCode,
    pub message: String,
}

impl AuthFailure {
    fn token(message: impl Into<String>) -> AuthFailure {
        AuthFailure { code: DenialCode::BadToken, message: message.into() }
    }

    fn certificate(message: impl Into<String>) -> AuthFailure {
        AuthFailure { code: DenialCode::BadCertificate, message: message.into() }
    }
}

/// Where the JWKS comes from.
#[derive(Clone, Debug)]
enum JwksSource {
    File(PathBuf),
    Url(String),
}

/// OpenID Connect bearer tokens.
pub struct Oidc {
    issuer: String,
    audience: String,
    principal_claim: Option<String>,
    groups_claim: String,
    source: JwksSource,
    keys: RwLock<Arc<JwkSet>>,
    /// When the key set was last fetched again on an unknown key id (`None`: not yet).
    last_fetch: Mutex<Option<Instant>>,
    /// Tokens that verified: SHA-256 of the token → who it names and its `exp` (Unix seconds).
    verified: Mutex<std::collections::HashMap<[u8; 32], (Principal, i64)>>,
}

impl Oidc {
    /// Load the key set (a file now; a URL is fetched now too, so a bad URL fails the start).
    pub fn new(cfg: &OidcConfig) -> Result<Oidc, Error> {
        let source = match (&cfg.jwks_file, &cfg.jwks_url) {
            (Some(f), _) => JwksSource::File(f.clone()),
            (None, Some(u)) => JwksSource::Url(u.clone()),
            (None, None) => return Err(Error::new(ExitClass::Config, "[auth.oidc]: no jwks_file or jwks_url")),
        };
        let keys = fetch(&source).map_err(|m| Error::new(ExitClass::Config, format!("[auth.oidc]: {m}")))?;
        Ok(Oidc {
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
            principal_claim: cfg.principal_claim.clone(),
            groups_claim: cfg.groups_claim.clone(),
            source,
            keys: RwLock::new(Arc::new(keys)),
            last_fetch: Mutex::new(None),
            verified: Mutex::new(std::collections::HashMap::new()),
        })
    }

    fn current_keys(&self) -> Arc<JwkSet> {
        self.keys.read().map(|k| k.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Fetch the key set again if the last fetch is older than [`JWKS_REFRESH`] (on the blocking pool: a URL may
    /// take seconds); whether it was.
    async fn refresh(&self) -> bool {
        {
            let Ok(mut last) = self.last_fetch.lock() else { return false };
            if last.is_some_and(|t| t.elapsed() < JWKS_REFRESH) {
                return false;
            }
            *last = Some(Instant::now());
        }
        let source = self.source.clone();
        let fetched = tokio::task::spawn_blocking(move || fetch(&source))
            .await
            .unwrap_or_else(|e| Err(JwksError::Task(e.to_string())));
        match fetched {
            Ok(keys) => {
                if let Ok(mut k) = self.keys.write() {
                    *k = Arc::new(keys);
                }
                true
            }
            Err(m) => {
                tracing::warn!(problem = %m, "cannot refresh the JWKS");
                false
            }
        }
    }

    /// Verify a bearer token and say who it names. A token that verified before is answered from memory until its
    /// `exp` (the same bytes verified against the same issuer and audience; only its expiry can change the answer).
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthFailure> {
        if token.len() > MAX_TOKEN {
            return Err(AuthFailure::token("the token is too long"));
        }
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Ok(verified) = self.verified.lock()
            && let Some((principal, exp)) = verified.get(&digest)
            && now < *exp
        {
            return Ok(principal.clone());
        }
        let principal = self.verify_signature(token).await?;
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= VERIFIED_TOKENS {
                verified.retain(|_, (_, exp)| now < *exp);
            }
            if verified.len() < VERIFIED_TOKENS
                && let Some(exp) = principal.1
            {
                verified.insert(digest, (principal.0.clone(), exp));
            }
        }
        Ok(principal.0)
    }

    /// The full check: header, key, signature, issuer, audience, times. The principal and the token's `exp`.
    async fn verify_signature(&self, token: &str) -> Result<(Principal, Option<i64>), AuthFailure> {
        // `alg: none` and unknown algorithms do not even decode: jsonwebtoken knows no such algorithm.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthFailure::token("the token is not a JWT signed with RS256 or ES256"))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(AuthFailure::token(format!("algorithm {:?} is not accepted (RS256 or ES256)", header.alg)));
        }
        let mut keys = self.current_keys();
        let find = |keys: &JwkSet| match &header.kid {
            Some(kid) => keys.find(kid).cloned(),
            None if keys.keys.len() == 1 => keys.keys.first().cloned(),
            None => None,
        };
        let jwk = match find(&keys) {
            Some(jwk) => jwk,
            None => {
                if self.refresh().await {
                    keys = self.current_keys();
                }
                find(&keys)
                    .ok_or_else(|| AuthFailure::token("the token is signed by a key the issuer does not list"))?
            }
        };
        if let Some(alg) = jwk.common.key_algorithm
            && alg.to_string() != format!("{:?}", header.alg)
        {
            return Err(AuthFailure::token("the token's algorithm is not its key's"));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| AuthFailure::token("the issuer's key is not usable"))?;
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.required_spec_claims = ["exp", "iss", "aud"].into_iter().map(String::from).collect::<HashSet<_>>();
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                AuthFailure::token(match e.kind() {
                    K::ExpiredSignature => "the token has expired",
                    K::ImmatureSignature => "the token is not valid yet",
                    K::InvalidAudience => "the token is for another audience",
                    K::InvalidIssuer => "the token is from another issuer",
                    K::InvalidSignature => "the token's signature does not verify",
                    K::MissingRequiredClaim(_) => "the token lacks exp, iss or aud",
                    _ => "the token does not verify",
                })
            })?;
        let exp = data.claims.get("exp").and_then(serde_json::Value::as_i64);
        Ok((principal_from_claims(&data.claims, self.principal_claim.as_deref(), &self.groups_claim)?, exp))
    }
}

/// The principal a verified token's claims name.
pub fn principal_from_claims(
    claims: &serde_json::Map<String, serde_json::Value>,
    principal_claim: Option<&str>,
    groups_claim: &str,
) -> Result<Principal, AuthFailure> {
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty());
    let name = match principal_claim {
        Some(c) => text(c).ok_or_else(|| AuthFailure::token(format!("the token has no {c:?} claim")))?,
        None => text("upn")
            .or_else(|| text("preferred_username"))
            .or_else(|| text("email"))
            .ok_or_else(|| AuthFailure::token("the token has no upn, preferred_username or email claim"))?,
    };
    let groups = match claims.get(groups_claim) {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).map(str::to_string).collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    Ok(Principal { name: name.to_string(), email: text("email").map(str::to_string), groups })
}

/// Why a JWK set could not be had.
#[derive(Debug, thiserror::Error)]
enum JwksError {
    #[error("cannot read the JWKS {}: {source}", path.display())]
    Read { path: std::path::PathBuf, source: std::io::Error },
    #[error("cannot fetch the JWKS {url}: {detail}")]
    Fetch { url: String, detail: String },
    /// `from`: the file or URL.
    #[error("{from}: not a JWK set ({detail})")]
    NotJwks { from: String, detail: String },
    /// The background task that fetched it did not finish.
    #[error("{0}")]
    Task(String),
}

/// Read or fetch a JWK set.
fn fetch(source: &JwksSource) -> Result<JwkSet, JwksError> {
    match source {
        JwksSource::File(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| JwksError::Read { path: path.clone(), source })?;
            serde_json::from_str(&text)
                .map_err(|e| JwksError::NotJwks { from: path.display().to_string(), detail: e.to_string() })
        }
        JwksSource::Url(url) => {
            let agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(10)))
                .tls_config(
                    ureq::tls::TlsConfig::builder()
                        .provider(ureq::tls::TlsProvider::Rustls)
                        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
                        .build(),
                )
                .build()
                .new_agent();
            agent
                .get(url)
                .call()
                .map_err(|e| JwksError::Fetch { url: url.clone(), detail: e.to_string() })?
                .body_mut()
                .read_json::<JwkSet>()
                .map_err(|e| JwksError::NotJwks { from: url.clone(), detail: e.to_string() })
        }
    }
}

/// TLS client certificates chained to the users' CA.
pub struct CertAuth {
    verifier: Arc<dyn ClientCertVerifier>,
}

impl CertAuth {
    /// Load the CA bundle.
    pub fn new(cfg: &ClientCertConfig, provider: Arc<rustls::crypto::CryptoProvider>) -> Result<CertAuth, Error> {
        use rustls::pki_types::pem::PemObject;
        let bad =
            |m: String| Error::new(ExitClass::Config, format!("[auth.client_certs] {}: {m}", cfg.ca_file.display()));
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(&cfg.ca_file)
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        for cert in certs {
            roots.add(cert).map_err(|e| bad(format!("not a CA certificate ({e})")))?;
        }
        if roots.is_empty() {
            return Err(bad("no certificate in the file".into()));
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        Ok(CertAuth { verifier })
    }

    /// Verify the chain the client presented (end entity first) and say who it names.
    pub fn verify(&self, chain: &[CertificateDer<'static>]) -> Result<Principal, AuthFailure> {
        let (end_entity, intermediates) =
            chain.split_first().ok_or_else(|| AuthFailure::certificate("no client certificate"))?;
        self.verifier
            .verify_client_cert(end_entity, intermediates, UnixTime::now())
            .map_err(|e| AuthFailure::certificate(format!("the client certificate is not accepted ({e})")))?;
        let name = certificate_principal(end_entity.as_ref())?;
        Ok(Principal { email: name.contains('@').then(|| name.clone()), name, groups: Vec::new() })
    }
}

/// The principal of a user certificate: its SAN e-mail (rfc822Name), else its UPN otherName.
pub fn certificate_principal(der: &[u8]) -> Result<String, AuthFailure> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|_| AuthFailure::certificate("the client certificate does not parse"))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|_| AuthFailure::certificate("the client certificate's subject alternative name does not parse"))?
        .ok_or_else(|| AuthFailure::certificate("the client certificate names no e-mail or UPN"))?;
    let names = &san.value.general_names;
    let email = names.iter().find_map(|n| match n {
        GeneralName::RFC822Name(e) if !e.trim().is_empty() => Some(e.trim().to_string()),
        _ => None,
    });
    let upn = || {
        names.iter().find_map(|n| match n {
            GeneralName::OtherName(oid, value) if oid.to_id_string() == OID_UPN => upn_value(value),
            _ => None,
        })
    };
    email.or_else(upn).ok_or_else(|| AuthFailure::certificate("the client certificate names no e-mail or UPN"))
}

/// The UTF8String inside an otherName's `[0] EXPLICIT` value.
fn upn_value(bytes: &[u8]) -> Option<String> {
    let (tag, inner, _) = tlv(bytes)?;
    let (tag, text, _) = if tag == 0xA0 { tlv(inner)? } else { (tag, inner, &[][..]) };
    (tag == 0x0C)
        .then(|| std::str::from_utf8(text).ok().map(|s| s.trim().to_string()))
        .flatten()
        .filter(|s| !s.is_empty())
}

/// One DER tag-length-value: (tag, value, rest).
fn tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Both sign-in methods, as configured.
pub struct Authenticator {
    pub oidc: Option<Oidc>,
    pub certs: Option<CertAuth>,
}

impl Authenticator {
    /// Who sent a request with this `Authorization` header value and this client certificate chain.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        chain: Option<&[CertificateDer<'static>]>,
    ) -> Result<Principal, AuthFailure> {
        if let Some(value) = authorization {
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .map(str::trim)
                .ok_or_else(|| AuthFailure::token("the Authorization header is not a bearer token"))?;
            return match &self.oidc {
                Some(oidc) => oidc.verify(token).await,
                None => Err(AuthFailure::token("this service does not accept bearer tokens")),
            };
        }
        match (chain.filter(|c| !c.is_empty()), &self.certs) {
            (Some(chain), Some(certs)) => certs.verify(chain),
            (Some(_), None) => Err(AuthFailure::certificate("this service does not accept client certificates")),
            (None, _) => Err(AuthFailure {
                code: DenialCode::SignInRequired,
                message: "sign in: send a bearer token or a client certificate".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_principal_claim_falls_back_from_upn_to_preferred_username_to_email() {
        let claims = |v: serde_json::Value| v.as_object().unwrap().clone();
        let c = claims(serde_json::json!({"preferred_username": "a@x.com", "email": "b@x.com", "groups": ["g1", 2]}));
        let p = principal_from_claims(&c, None, "groups").unwrap();
        assert_eq!((p.name.as_str(), p.email.as_deref(), p.groups), ("a@x.com", Some("b@x.com"), vec!["g1".into()]));
        let c = claims(serde_json::json!({"upn": "u@x.com", "roles": "r"}));
        let p = principal_from_claims(&c, None, "roles").unwrap();
        assert_eq!((p.name.as_str(), p.groups), ("u@x.com", vec!["r".into()]));
        assert_eq!(principal_from_claims(&c, Some("sub"), "groups").unwrap_err().code, DenialCode::BadToken);
        assert!(principal_from_claims(&claims(serde_json::json!({"upn": " "})), None, "groups").is_err());
    }

    #[test]
    fn a_upn_other_name_decodes_and_garbage_does_not() {
        let upn = b"alice@contoso.com";
        let mut inner = vec![0x0C, upn.len() as u8];
        inner.extend_from_slice(upn);
        let mut explicit = vec![0xA0, inner.len() as u8];
        explicit.extend_from_slice(&inner);
        assert_eq!(upn_value(&explicit).as_deref(), Some("alice@contoso.com"));
        assert_eq!(upn_value(&[0xA0, 0x05, 0x0C]), None);
        assert_eq!(upn_value(&[0xA0, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(upn_value(&[]), None);
    }
}
