//! A test identity provider: a JWKS (one RSA and one P-256 key) and tokens minted with jsonwebtoken — good ones,
//! and expired, wrong-audience, forged (signed by another key under the same key id) and `alg: none` ones.

use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://login.test/";
pub const AUDIENCE: &str = "fci-connector";
pub const RSA_KID: &str = "test-rsa";
pub const EC_KID: &str = "test-ec";

/// The identity provider's keys.
pub struct Idp {
    rsa: EncodingKey,
    ec: EncodingKey,
    /// Another RSA key, for forged tokens.
    forger: EncodingKey,
    pub jwks: JwkSet,
}

fn fixture_key(name: &str) -> String {
    std::fs::read_to_string(super::super::util::key(name)).unwrap()
}

impl Default for Idp {
    fn default() -> Self {
        Self::new()
    }
}

impl Idp {
    pub fn new() -> Idp {
        let rsa = EncodingKey::from_rsa_pem(fixture_key("stranger.key.pem").as_bytes()).unwrap();
        let forger = EncodingKey::from_rsa_pem(fixture_key("recovery.key.pem").as_bytes()).unwrap();
        let ec_pem = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let ec = EncodingKey::from_ec_pem(ec_pem.as_bytes()).unwrap();
        let mut rsa_jwk = Jwk::from_encoding_key(&rsa, Algorithm::RS256).unwrap();
        rsa_jwk.common.key_id = Some(RSA_KID.into());
        let mut ec_jwk = Jwk::from_encoding_key(&ec, Algorithm::ES256).unwrap();
        ec_jwk.common.key_id = Some(EC_KID.into());
        Idp { rsa, ec, forger, jwks: JwkSet { keys: vec![rsa_jwk, ec_jwk] } }
    }

    /// The JWKS file's text.
    pub fn jwks_json(&self) -> String {
        serde_json::to_string_pretty(&self.jwks).unwrap()
    }

    /// Good claims for `upn` in `groups`, valid for ten minutes.
    pub fn claims(upn: &str, groups: &[&str]) -> Value {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        json!({"iss": ISSUER, "aud": AUDIENCE, "sub": upn, "upn": upn, "groups": groups,
               "iat": now, "nbf": now - 5, "exp": now + 600})
    }

    /// An RS256 token with these claims.
    pub fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(RSA_KID.into());
        jsonwebtoken::encode(&h, claims, &self.rsa).unwrap()
    }

    /// An ES256 token with these claims.
    pub fn sign_es256(&self, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(EC_KID.into());
        jsonwebtoken::encode(&h, claims, &self.ec).unwrap()
    }

    /// A good RS256 token for `upn` in `groups`.
    pub fn token(&self, upn: &str, groups: &[&str]) -> String {
        self.sign(&Self::claims(upn, groups))
    }

    /// Expired an hour ago (beyond any clock skew).
    pub fn expired(&self, upn: &str) -> String {
        let mut c = Self::claims(upn, &[]);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        c["exp"] = json!(now - 3600);
        c["nbf"] = json!(now - 7200);
        self.sign(&c)
    }

    /// For another audience.
    pub fn wrong_audience(&self, upn: &str) -> String {
        let mut c = Self::claims(upn, &[]);
        c["aud"] = json!("another-app");
        self.sign(&c)
    }

    /// Signed by a key the IdP does not have, under its key id.
    pub fn forged(&self, upn: &str) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(RSA_KID.into());
        jsonwebtoken::encode(&h, &Self::claims(upn, &[]), &self.forger).unwrap()
    }

    /// `alg: none`, no signature.
    pub fn alg_none(&self, upn: &str) -> String {
        let header = Base64UrlUnpadded::encode_string(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = Base64UrlUnpadded::encode_string(Self::claims(upn, &[]).to_string().as_bytes());
        format!("{header}.{payload}.")
    }
}
