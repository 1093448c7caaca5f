//! The licensing service's HTTP API (v1): paths, request and answer bodies, and denial codes. JSON; binary fields
//! are standard base64 with padding; times are RFC 3339 UTC. docs/SERVICE.md and docs/openapi.yaml pin the same.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// `POST`: a use license for one file ([`LicenseRequest`] → [`LicenseAnswer`]).
pub const LICENSES: &str = "/v1/licenses";
/// `POST`: which rights the caller has on one file, without any key ([`AccessRequest`] → [`AccessAnswer`]).
pub const ACCESS: &str = "/v1/access";
/// `GET`: the documents the service has seen, paged (`?page=1&per_page=100`) → [`DocumentPage`]. `POST`: register
/// a newly protected file ([`RegisterRequest`] → [`Document`]).
pub const DOCUMENTS: &str = "/v1/documents";
/// `GET`: the public keys that verify use licenses, as a JSON Web Key Set (RFC 7517).
pub const SIGNING_KEYS: &str = "/v1/signing-keys";
/// Liveness, on the TLS port and on the optional loopback health port.
pub const HEALTH: &str = "/healthz";
/// Prometheus metrics (admins only on the TLS port; open on the loopback health port).
pub const METRICS: &str = "/metrics";

/// `POST`: revoke a content id (its owner or an admin) → [`Revocation`].
pub fn revoke_path(content_id: &Uuid) -> String {
    format!("{DOCUMENTS}/{content_id}/revoke")
}

/// `POST`: lift a revocation (its owner or an admin) → [`Revocation`].
pub fn unrevoke_path(content_id: &Uuid) -> String {
    format!("{DOCUMENTS}/{content_id}/unrevoke")
}

/// `GET`: every request recorded for a content id (its owner or an admin) → [`Tracking`].
pub fn tracking_path(content_id: &Uuid) -> String {
    format!("{DOCUMENTS}/{content_id}/tracking")
}

/// Largest request body the service reads: a license block is at most 16 KiB of notice plus 1 MiB of license
/// (docs/FORMAT.md), which base64 makes 4/3 as long.
pub const MAX_REQUEST_BODY: usize = 1_500_000;

/// Ask for a use license.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseRequest {
    /// The protected file's header, from its first byte through the header MAC (`Envelope::header_bytes`).
    #[serde(with = "b64")]
    pub license: Vec<u8>,
    /// The reader's X25519 public key (32 bytes), generated for this request: the content key is sealed to it.
    #[serde(with = "b64")]
    pub client_key: Vec<u8>,
}

/// A granted use license.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LicenseAnswer {
    /// The use license: a JWS compact serialisation signed by the service's `signing_key`
    /// ([`crate::licensing::use_license::Claims`]).
    pub use_license: String,
}

/// Ask which rights the caller has, without any key released.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    #[serde(with = "b64")]
    pub license: Vec<u8>,
}

/// The caller's rights on one file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessAnswer {
    pub content_id: Uuid,
    pub principal: String,
    /// RMS right names (VIEW, EDIT, …, OWNER); empty when nothing is granted.
    pub rights: Vec<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
    /// Until when a use license issued now could be used offline; `None`: no offline use.
    #[serde(with = "time::serde::rfc3339::option")]
    pub offline_until: Option<OffsetDateTime>,
    pub revoked: bool,
}

/// Register a newly protected file for tracking (templates with `register="true"`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[serde(with = "b64")]
    pub license: Vec<u8>,
}

/// A document the service knows: registered at protection, or first seen in a request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Document {
    pub content_id: Uuid,
    pub original_name: String,
    pub template_id: Uuid,
    pub template_name: String,
    pub owner: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    pub revoked: bool,
}

/// One page of [`Document`]s, newest first.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DocumentPage {
    pub documents: Vec<Document>,
    pub page: u32,
    pub per_page: u32,
    /// `Some(page + 1)` when more follow.
    pub next_page: Option<u32>,
}

/// The answer to revoke and unrevoke.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Revocation {
    pub content_id: Uuid,
    pub revoked: bool,
}

/// `granted` or `denied`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Granted,
    Denied,
}

/// One recorded request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequestRecord {
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Who asked: the signed-in principal, or `None` when sign-in failed.
    pub principal: Option<String>,
    /// The endpoint: `license`, `access`, `register`, `revoke`, `unrevoke`, `tracking`.
    pub action: String,
    pub content_id: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub rights_granted: Vec<String>,
    pub decision: Decision,
    /// The denial code, when denied.
    pub code: Option<DenialCode>,
    pub client_address: String,
    pub user_agent: Option<String>,
}

/// A document and every request recorded for it, oldest first.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tracking {
    pub document: Document,
    pub requests: Vec<RequestRecord>,
}

/// Why a request was refused: the body of every non-2xx answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Denial {
    pub error: DenialCode,
    /// For people; never contains a secret.
    pub message: String,
}

/// Machine-readable denial codes, each with its own HTTP status where the check differs (docs/SERVICE.md).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum DenialCode {
    /// 400: the body is not the documented JSON, or a field is malformed (not base64, wrong key length).
    BadRequest,
    /// 413: the body is larger than [`MAX_REQUEST_BODY`].
    TooLarge,
    /// 401: no bearer token and no client certificate.
    SignInRequired,
    /// 401: a bearer token that does not verify (signature, `alg`, issuer, audience, expiry).
    BadToken,
    /// 401: a client certificate that does not chain to the configured users' CA, or names no principal.
    BadCertificate,
    /// 403: the principal has no right on this content (or, for revoke/track, is neither its owner nor an admin).
    NotGranted,
    /// 404: none of the license's key wraps is for an issuer key this service holds.
    UnknownTemplate,
    /// 404: a content id the service has never seen.
    UnknownDocument,
    /// 422: the license block does not parse, or its content key does not unwrap, or its header MAC does not
    /// verify. One code for all three, answered in the same time: telling them apart would help an attack on the
    /// key wraps.
    InvalidLicense,
    /// 410: the content has passed its `ValidUntil`.
    Expired,
    /// 451: the owner or an admin revoked this content.
    Revoked,
    /// 429: too many requests from this principal.
    RateLimited,
    /// 500: the store or another part of the service failed; the request is recorded where possible.
    Internal,
}

impl DenialCode {
    /// The HTTP status of this denial.
    pub fn status(self) -> u16 {
        match self {
            DenialCode::BadRequest => 400,
            DenialCode::TooLarge => 413,
            DenialCode::SignInRequired | DenialCode::BadToken | DenialCode::BadCertificate => 401,
            DenialCode::NotGranted => 403,
            DenialCode::UnknownTemplate | DenialCode::UnknownDocument => 404,
            DenialCode::InvalidLicense => 422,
            DenialCode::Expired => 410,
            DenialCode::Revoked => 451,
            DenialCode::RateLimited => 429,
            DenialCode::Internal => 500,
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DenialCode::BadRequest => "bad_request",
            DenialCode::TooLarge => "too_large",
            DenialCode::SignInRequired => "sign_in_required",
            DenialCode::BadToken => "bad_token",
            DenialCode::BadCertificate => "bad_certificate",
            DenialCode::NotGranted => "not_granted",
            DenialCode::UnknownTemplate => "unknown_template",
            DenialCode::UnknownDocument => "unknown_document",
            DenialCode::InvalidLicense => "invalid_license",
            DenialCode::Expired => "expired",
            DenialCode::Revoked => "revoked",
            DenialCode::RateLimited => "rate_limited",
            DenialCode::Internal => "internal",
        }
    }

    /// Every code, for docs tests and metrics labels.
    pub const ALL: [DenialCode; 13] = [
        DenialCode::BadRequest,
        DenialCode::TooLarge,
        DenialCode::SignInRequired,
        DenialCode::BadToken,
        DenialCode::BadCertificate,
        DenialCode::NotGranted,
        DenialCode::UnknownTemplate,
        DenialCode::UnknownDocument,
        DenialCode::InvalidLicense,
        DenialCode::Expired,
        DenialCode::Revoked,
        DenialCode::RateLimited,
        DenialCode::Internal,
    ];
}

impl std::fmt::Display for DenialCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Standard base64 (with padding) for `Vec<u8>` fields.
pub mod b64 {
    use base64ct::{Base64, Encoding};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Base64::encode_string(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Base64::decode_vec(&text).map_err(|_| serde::de::Error::custom("not standard base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_json_as_documented() {
        for code in DenialCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<DenialCode>(&json).unwrap(), code);
        }
    }

    #[test]
    fn a_request_with_bad_base64_or_an_unknown_field_is_refused() {
        assert!(serde_json::from_str::<LicenseRequest>(r#"{"license":"!!","client_key":"AAAA"}"#).is_err());
        assert!(serde_json::from_str::<AccessRequest>(r#"{"license":"AAAA","extra":1}"#).is_err());
        let ok: AccessRequest = serde_json::from_str(r#"{"license":"AAEC"}"#).unwrap();
        assert_eq!(ok.license, vec![0, 1, 2]);
    }
}
