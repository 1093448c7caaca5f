//! The use license: what the service answers a granted request with, and what the reader keeps for offline use. A
//! JWS (RFC 7515, compact) signed with the deployment's `signing_key` (RS256 for an RSA key as `keys generate`
//! writes it, ES256 for P-256, EdDSA for Ed25519), whose claims carry the rights granted, the offline window, and the
//! content key sealed to the reader's one-time key ([`crate::licensing::seal`]).

use base64ct::{Base64, Encoding};
use jsonwebtoken::jwk::{Jwk, JwkSet, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use pkcs8::der::Decode;
use pkcs8::der::pem::PemLabel;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::seal::SealedKey;

/// How long a use license is fresh for immediate use after it is issued. Offline use is governed by
/// `offline_until`, not by this.
pub const FRESH_SECONDS: i64 = 300;

/// Why a use license could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum UseLicenseError {
    #[error("signing key: {0}")]
    SigningKey(String),
    #[error("the use license does not verify: {0}")]
    Invalid(String),
}

/// The claims of a use license.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The service that issued it (its configured public URL).
    pub iss: String,
    /// The principal it was issued to.
    pub sub: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Fresh until, Unix seconds ([`FRESH_SECONDS`] after `iat`).
    pub exp: i64,
    /// The content id of the file.
    pub cid: Uuid,
    /// The template the license names.
    pub tid: Uuid,
    /// The rights granted, RMS names.
    pub rights: Vec<String>,
    /// The license's `ValidUntil`, Unix seconds.
    pub valid_until: Option<i64>,
    /// Until when the reader may keep and use this use license without asking again, Unix seconds; `None`: no
    /// offline use (a license without `OfflineAccessDays`).
    pub offline_until: Option<i64>,
    /// HPKE encapsulated key, base64.
    pub enc: String,
    /// The sealed content key, base64.
    pub key: String,
}

impl Claims {
    /// The sealed content key these claims carry.
    pub fn sealed_key(&self) -> Result<SealedKey, UseLicenseError> {
        let decode = |field: &str, text: &str| {
            Base64::decode_vec(text).map_err(|_| UseLicenseError::Invalid(format!("`{field}` is not base64")))
        };
        Ok(SealedKey { encapsulated: decode("enc", &self.enc)?, ciphertext: decode("key", &self.key)? })
    }

    /// Put a sealed key into the claims.
    pub fn set_sealed_key(&mut self, sealed: &SealedKey) {
        self.enc = Base64::encode_string(&sealed.encapsulated);
        self.key = Base64::encode_string(&sealed.ciphertext);
    }

    /// Whether the rights include `right` (or OWNER, which includes every right).
    pub fn allows(&self, right: &str) -> bool {
        self.rights.iter().any(|r| r.eq_ignore_ascii_case(right) || r.eq_ignore_ascii_case("OWNER"))
    }
}

/// The service's signing key.
pub struct Signer {
    key: SigningKey,
    algorithm: Algorithm,
    kid: String,
    jwk: Jwk,
}

/// The signing key, parsed once (jsonwebtoken's `encode` parses the PKCS#8 key again, and derives its public key,
/// on every call): ring's keys, whose signatures are the standard JWS ones (RS256 and EdDSA are deterministic, so
/// byte for byte what jsonwebtoken would make; ES256 in the fixed `r || s` form JWS uses).
enum SigningKey {
    Rsa(ring::signature::RsaKeyPair),
    P256(ring::signature::EcdsaKeyPair),
    Ed25519(ring::signature::Ed25519KeyPair),
}

impl SigningKey {
    fn from_pkcs8(algorithm: Algorithm, der: &[u8]) -> Result<SigningKey, String> {
        use ring::signature as s;
        match algorithm {
            Algorithm::RS256 => s::RsaKeyPair::from_pkcs8(der).map(SigningKey::Rsa).map_err(|e| e.to_string()),
            Algorithm::ES256 => {
                s::EcdsaKeyPair::from_pkcs8(&s::ECDSA_P256_SHA256_FIXED_SIGNING, der, &ring::rand::SystemRandom::new())
                    .map(SigningKey::P256)
                    .map_err(|e| e.to_string())
            }
            Algorithm::EdDSA => {
                s::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map(SigningKey::Ed25519).map_err(|e| e.to_string())
            }
            other => Err(format!("{other:?} is not a signing algorithm of this service")),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let rng = ring::rand::SystemRandom::new();
        match self {
            SigningKey::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public().modulus_len()];
                pair.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|e| e.to_string())?;
                Ok(signature)
            }
            SigningKey::P256(pair) => pair.sign(&rng, message).map(|s| s.as_ref().to_vec()).map_err(|e| e.to_string()),
            SigningKey::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_ED25519: &str = "1.3.101.112";

impl Signer {
    /// Load an unencrypted PKCS#8 PEM private key: RSA, ECDSA P-256 or Ed25519.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Signer, UseLicenseError> {
        let bad = |m: String| UseLicenseError::SigningKey(m);
        let (label, der) =
            pkcs8::der::pem::decode_vec(pem.as_bytes()).map_err(|e| bad(format!("not a PEM file ({e})")))?;
        if label != pkcs8::PrivateKeyInfoRef::PEM_LABEL {
            return Err(bad(format!(
                "a PEM \"{label}\"; expected an unencrypted PKCS#8 \"PRIVATE KEY\" (RSA, ECDSA P-256 or Ed25519)"
            )));
        }
        let info = pkcs8::PrivateKeyInfoRef::from_der(&der).map_err(|e| bad(format!("not PKCS#8 ({e})")))?;
        let oid = info.algorithm.oid.to_string();
        let (algorithm, key) = match oid.as_str() {
            OID_RSA => (Algorithm::RS256, EncodingKey::from_rsa_pem(pem.as_bytes())),
            OID_EC => {
                let curve = info.algorithm.parameters_oid().map(|o| o.to_string()).unwrap_or_default();
                if curve != OID_P256 {
                    return Err(bad(format!("an EC key on curve {curve}; only P-256 is supported")));
                }
                (Algorithm::ES256, EncodingKey::from_ec_pem(pem.as_bytes()))
            }
            OID_ED25519 => (Algorithm::EdDSA, EncodingKey::from_ed_pem(pem.as_bytes())),
            other => return Err(bad(format!("key algorithm {other} is not RSA, ECDSA P-256 or Ed25519"))),
        };
        let key = key.map_err(|e| bad(e.to_string()))?;
        let mut jwk = match algorithm {
            // jsonwebtoken cannot derive an Ed25519 JWK (it panics); ring gives the public key.
            Algorithm::EdDSA => ed25519_jwk(&der)?,
            _ => Jwk::from_encoding_key(&key, algorithm).map_err(|e| bad(e.to_string()))?,
        };
        let kid = jwk.thumbprint(ThumbprintHash::SHA256);
        jwk.common.key_id = Some(kid.clone());
        let key = SigningKey::from_pkcs8(algorithm, &der).map_err(bad)?;
        Ok(Signer { key, algorithm, kid, jwk })
    }

    /// The key id: the RFC 7638 thumbprint of its public key.
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// Sign a use license: a compact JWS, as `jsonwebtoken::encode` makes it.
    pub fn sign(&self, claims: &Claims) -> Result<String, UseLicenseError> {
        use base64ct::Base64UrlUnpadded as B64;
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        let json = |e: serde_json::Error| UseLicenseError::SigningKey(e.to_string());
        let mut message = B64::encode_string(&serde_json::to_vec(&header).map_err(json)?);
        message.push('.');
        message.push_str(&B64::encode_string(&serde_json::to_vec(claims).map_err(json)?));
        let signature = self.key.sign(message.as_bytes()).map_err(UseLicenseError::SigningKey)?;
        message.push('.');
        message.push_str(&B64::encode_string(&signature));
        Ok(message)
    }

    /// The public key as a JWK Set, served at [`crate::licensing::api::SIGNING_KEYS`].
    pub fn jwks(&self) -> JwkSet {
        JwkSet { keys: vec![self.jwk.clone()] }
    }
}

/// The public JWK (RFC 8037 `OKP`) of an Ed25519 PKCS#8 private key.
fn ed25519_jwk(pkcs8_der: &[u8]) -> Result<Jwk, UseLicenseError> {
    use ring::signature::KeyPair;
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8_der)
        .map_err(|e| UseLicenseError::SigningKey(format!("not an Ed25519 key ({e})")))?;
    let x = base64ct::Base64UrlUnpadded::encode_string(pair.public_key().as_ref());
    serde_json::from_value(serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "EdDSA"}))
        .map_err(|e| UseLicenseError::SigningKey(e.to_string()))
}

/// Whether [`verify`] checks that the use license is fresh (online use) or only that it is still within its
/// offline window (a use license from the offline cache).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Online,
    Offline,
}

/// Verify a use license's signature against `keys` (the service's [`api::SIGNING_KEYS`](crate::licensing::api)),
/// then its times at `now`: fresh for [`Use::Online`]; within `offline_until` and `valid_until` for
/// [`Use::Offline`].
pub fn verify(token: &str, keys: &JwkSet, now: OffsetDateTime, usage: Use) -> Result<Claims, UseLicenseError> {
    let invalid = |m: String| UseLicenseError::Invalid(m);
    let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(e.to_string()))?;
    let kid = header.kid.ok_or_else(|| invalid("no key id".into()))?;
    let jwk = keys.find(&kid).ok_or_else(|| invalid(format!("signed by unknown key {kid}")))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(e.to_string()))?;
    let algorithm = match jwk.common.key_algorithm.map(|a| a.to_string()) {
        Some(a) => a.parse::<Algorithm>().map_err(|e| invalid(e.to_string()))?,
        None => return Err(invalid("the signing key names no algorithm".into())),
    };
    if header.alg != algorithm {
        return Err(invalid(format!("algorithm {:?} is not the signing key's {:?}", header.alg, algorithm)));
    }
    let mut validation = Validation::new(algorithm);
    // Times are checked below against `now`, which tests can move; the library would use the system clock.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| invalid(e.to_string()))?.claims;
    let now = now.unix_timestamp();
    if claims.valid_until.is_some_and(|until| now >= until) {
        return Err(invalid("the content has expired".into()));
    }
    match usage {
        Use::Online if now > claims.exp + 60 => Err(invalid("the use license is stale".into())),
        Use::Offline if claims.offline_until.is_none_or(|until| now >= until) => {
            Err(invalid("the offline window has ended".into()))
        }
        _ => Ok(claims),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPtG+EdaO8HIqOzIfe50ajW5ea0ZZWuKR+YqzNruFo1k\n-----END PRIVATE KEY-----\n";

    fn claims(now: i64) -> Claims {
        Claims {
            iss: "https://rms.test/".into(),
            sub: "alice@contoso.com".into(),
            iat: now,
            exp: now + FRESH_SECONDS,
            cid: Uuid::nil(),
            tid: Uuid::nil(),
            rights: vec!["VIEW".into()],
            valid_until: None,
            offline_until: Some(now + 86_400),
            enc: String::new(),
            key: String::new(),
        }
    }

    #[test]
    fn a_signed_use_license_verifies_online_then_offline_until_its_window_ends() {
        let signer = Signer::from_pkcs8_pem(ED25519).unwrap();
        let now = OffsetDateTime::now_utc();
        let c = claims(now.unix_timestamp());
        let token = signer.sign(&c).unwrap();
        let keys = signer.jwks();
        assert_eq!(verify(&token, &keys, now, Use::Online).unwrap(), c);
        let later = now + time::Duration::hours(2);
        assert!(verify(&token, &keys, later, Use::Online).is_err());
        assert!(verify(&token, &keys, later, Use::Offline).is_ok());
        assert!(verify(&token, &keys, now + time::Duration::days(2), Use::Offline).is_err());
        let mut forged = token.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert!(verify(&forged, &keys, now, Use::Online).is_err());
    }

    #[test]
    fn signatures_are_jsonwebtokens_byte_for_byte_and_es256_verifies() {
        let rsa = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys/issuer.key.pem"),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let c = claims(now.unix_timestamp());
        for (pem, algorithm, key) in [
            (ED25519.to_string(), Algorithm::EdDSA, EncodingKey::from_ed_pem(ED25519.as_bytes()).unwrap()),
            (rsa.clone(), Algorithm::RS256, EncodingKey::from_rsa_pem(rsa.as_bytes()).unwrap()),
        ] {
            let signer = Signer::from_pkcs8_pem(&pem).unwrap();
            let mut header = Header::new(algorithm);
            header.kid = Some(signer.key_id().to_string());
            assert_eq!(signer.sign(&c).unwrap(), jsonwebtoken::encode(&header, &c, &key).unwrap());
        }
        // ECDSA signatures are randomised: the token verifies with the published key, and a forged one does not.
        let rng = ring::rand::SystemRandom::new();
        let der =
            ring::signature::EcdsaKeyPair::generate_pkcs8(&ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .unwrap();
        let pem = pkcs8::der::pem::encode_string("PRIVATE KEY", pkcs8::der::pem::LineEnding::LF, der.as_ref()).unwrap();
        let signer = Signer::from_pkcs8_pem(&pem).unwrap();
        let token = signer.sign(&c).unwrap();
        assert_eq!(verify(&token, &signer.jwks(), now, Use::Online).unwrap(), c);
        let mut forged = token.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert!(verify(&forged, &signer.jwks(), now, Use::Online).is_err());
    }

    #[test]
    fn a_key_that_is_not_pkcs8_is_refused_with_its_label() {
        let err = Signer::from_pkcs8_pem("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assert!(err.err().map(|e| e.to_string()).unwrap_or_default().contains("RSA PRIVATE KEY"));
    }
}
