//! The site's cookies: a value signed with HMAC-SHA256 under the session key (shared by every instance), so a
//! cookie made by one instance is good on all and cannot be changed or made without the key.
//!
//! - the session (`fci_portal`): who signed in (principal, e-mail, groups), how (OpenID Connect or a client
//!   certificate), when it ends (absolute expiry) and the last activity (idle timeout); a random session id to which
//!   the CSRF token is bound;
//! - the sign-in in progress (`fci_portal_signin`): state, nonce, PKCE verifier and the page to return to, for ten
//!   minutes.
//!
//! Cookie format: `base64url(JSON) "." base64url(HMAC-SHA256(key, purpose "." base64url(JSON)))`; the purpose keeps
//! a sign-in cookie from being taken for a session.

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{KeyInit, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::service::policy::Principal;

type HmacSha256 = hmac::Hmac<Sha256>;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fci_portal";
/// The sign-in cookie's name.
pub const SIGNIN_COOKIE: &str = "fci_portal_signin";
/// Shortest session key accepted.
pub const MIN_KEY_LEN: usize = 32;
/// Longest session, however active.
pub const MAX_SESSION_SECONDS: i64 = 12 * 3600;
/// How long a sign-in may take at the provider.
pub const SIGNIN_SECONDS: i64 = 600;
/// Groups kept in the cookie (a cookie must stay under 4 KB).
const MAX_GROUPS: usize = 40;

/// A signed-in browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Principal name.
    pub p: String,
    /// E-mail claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub g: Vec<String>,
    /// `oidc` or `cert`.
    pub via: String,
    /// Session id (random), the CSRF token's binding.
    pub sid: String,
    /// Absolute expiry, Unix seconds.
    pub exp: i64,
    /// Last activity, Unix seconds.
    pub last: i64,
}

/// Why a session or the session key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the OS random source failed: {0}")]
    Random(getrandom::Error),
    #[error("the session key has {len} bytes; at least {MIN_KEY_LEN} are needed")]
    ShortKey { len: usize },
}

impl Session {
    pub fn new(principal: &Principal, via: &str, now: i64) -> Result<Session, SessionError> {
        let mut sid = [0u8; 16];
        getrandom::fill(&mut sid).map_err(SessionError::Random)?;
        Ok(Session {
            p: principal.name.clone(),
            e: principal.email.clone(),
            g: principal.groups.iter().take(MAX_GROUPS).cloned().collect(),
            via: via.to_string(),
            sid: Base64UrlUnpadded::encode_string(&sid),
            exp: now + MAX_SESSION_SECONDS,
            last: now,
        })
    }

    pub fn principal(&self) -> Principal {
        Principal { name: self.p.clone(), email: self.e.clone(), groups: self.g.clone() }
    }

    /// Still good at `now` with an idle timeout of `idle` seconds.
    pub fn alive(&self, now: i64, idle: i64) -> bool {
        now < self.exp && now - self.last < idle && self.last <= now + 60
    }
}

/// A sign-in in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// The site path to return to.
    pub next: String,
    pub exp: i64,
}

/// The session key.
pub struct Keys {
    key: Zeroizing<Vec<u8>>,
}

impl Keys {
    pub fn new(key: &[u8]) -> Result<Keys, SessionError> {
        if key.len() < MIN_KEY_LEN {
            return Err(SessionError::ShortKey { len: key.len() });
        }
        Ok(Keys { key: Zeroizing::new(key.to_vec()) })
    }

    fn mac(&self, purpose: &str, data: &[u8]) -> HmacSha256 {
        // A key of any length is accepted by HMAC.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(purpose.as_bytes());
        mac.update(b".");
        mac.update(data);
        mac
    }

    /// The cookie value carrying `value`.
    pub fn seal<T: Serialize>(&self, purpose: &str, value: &T) -> String {
        let json = serde_json::to_vec(value).unwrap_or_default();
        let body = Base64UrlUnpadded::encode_string(&json);
        let tag = self.mac(purpose, body.as_bytes()).finalize().into_bytes();
        format!("{body}.{}", Base64UrlUnpadded::encode_string(&tag))
    }

    /// The value a cookie carries, if its signature is this key's for `purpose`.
    pub fn open<T: DeserializeOwned>(&self, purpose: &str, cookie: &str) -> Option<T> {
        if cookie.len() > 4096 {
            return None;
        }
        let (body, tag) = cookie.split_once('.')?;
        let tag = Base64UrlUnpadded::decode_vec(tag).ok()?;
        self.mac(purpose, body.as_bytes()).verify_slice(&tag).ok()?;
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(body).ok()?).ok()
    }

    /// The CSRF token of a session.
    pub fn csrf(&self, session: &Session) -> String {
        Base64UrlUnpadded::encode_string(&self.mac("csrf", session.sid.as_bytes()).finalize().into_bytes())
    }

    /// Whether `token` is the session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, session: &Session, token: &str) -> bool {
        match Base64UrlUnpadded::decode_vec(token) {
            Ok(bytes) => self.mac("csrf", session.sid.as_bytes()).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

/// A `Set-Cookie` value for the site: `HttpOnly; Secure; SameSite=Lax; Path=/portal`, for `max_age` seconds (0:
/// delete it).
pub fn set_cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/portal; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax")
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').map(str::trim).find_map(|kv| kv.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn a_session_cookie_round_trips_and_any_change_or_other_key_or_purpose_is_refused() {
        let k = keys();
        let p = Principal { name: "alice@contoso.com".into(), email: None, groups: vec!["finance".into()] };
        let s = Session::new(&p, "oidc", 1000).unwrap();
        let c = k.seal("session", &s);
        assert_eq!(k.open::<Session>("session", &c), Some(s.clone()));
        assert_eq!(k.open::<Session>("signin", &c), None);
        let other = Keys::new(b"another key of at least thirty-two bytes").unwrap();
        assert_eq!(other.open::<Session>("session", &c), None);
        // Another principal in the same signature: refused.
        let forged_body = Base64UrlUnpadded::encode_string(
            serde_json::to_string(&Session { p: "secadmin@contoso.com".into(), ..s.clone() }).unwrap().as_bytes(),
        );
        let forged = format!("{forged_body}.{}", c.split_once('.').unwrap().1);
        assert_eq!(k.open::<Session>("session", &forged), None);
        assert_eq!(k.open::<Session>("session", "garbage"), None);
        assert!(Keys::new(b"short").is_err());
    }

    #[test]
    fn idle_and_absolute_expiry_end_a_session() {
        let s = Session::new(&Principal::named("a"), "cert", 1000).unwrap();
        assert!(s.alive(1000 + 1799, 1800));
        assert!(!s.alive(1000 + 1800, 1800));
        let active = Session { last: 1000 + MAX_SESSION_SECONDS - 10, ..s.clone() };
        assert!(!active.alive(1000 + MAX_SESSION_SECONDS, 1800));
    }

    #[test]
    fn the_csrf_token_is_bound_to_the_session() {
        let k = keys();
        let a = Session::new(&Principal::named("a"), "oidc", 1).unwrap();
        let b = Session::new(&Principal::named("a"), "oidc", 1).unwrap();
        let t = k.csrf(&a);
        assert!(k.csrf_ok(&a, &t));
        assert!(!k.csrf_ok(&b, &t));
        assert!(!k.csrf_ok(&a, ""));
        assert!(!k.csrf_ok(&a, "not base64 !"));
    }

    #[test]
    fn cookies_are_http_only_secure_lax_and_scoped_to_the_site() {
        let c = set_cookie(SESSION_COOKIE, "v", 60);
        for part in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/portal"] {
            assert!(c.contains(part), "{c}");
        }
        assert_eq!(cookie_value("a=1; fci_portal=xyz; fci_portal_signin=q", SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie_value("fci_portal_signin=q", SESSION_COOKIE), None);
    }
}
