//! The signed-in user's tokens (from `login`): kept per user in the folder of the offline cache, encrypted at rest by
//! the cache's own [`CacheKeyProtector`] (the same key: the Secret Service's, or the key file `cache.key`), in one file [`STORE_FILE`]; and
//! [`current_token`], which hands out a valid token, renewing it with the refresh token when it has expired or
//! expires within [`REFRESH_MARGIN`] seconds.
//!
//! Which token goes to the licensing service is `[oidc] send` of reader.toml ([`SendToken`]): the ID token by
//! default, because every provider issues one as a JWT whose audience is the reader's own `client_id`, which the
//! service can check against the provider's JWKS with no further set-up; an access token only when the provider
//! issues JWT access tokens for the service's audience (Entra ID with a scope of the service's own app
//! registration, Keycloak with an audience mapper, AD FS with a resource), and then the service's audience is that.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::ReaderError;
use super::cache::{CacheKeyProtector, Protector};
use super::config::OidcConfig;

/// The file of the stored sign-in in the per-user cache folder.
pub const STORE_FILE: &str = "sign-in.tokens";
/// A token expiring within this many seconds is renewed before use.
pub const REFRESH_MARGIN: i64 = 60;
const AAD: &[u8] = b"fci-connector sign-in v1";
/// What a failed sign-in tells the user to do.
pub const SIGN_IN_AGAIN: &str = "sign in again with `fci-connector login`";

/// Which token the reader sends to the licensing service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendToken {
    /// The ID token (audience: the reader's `client_id`).
    #[default]
    IdToken,
    /// The access token (a JWT for the service's audience).
    AccessToken,
}

/// The stored sign-in. Debug shows no token.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Tokens {
    pub issuer: String,
    pub client_id: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub access_token: String,
    /// Unix seconds; `None` when the provider gave no `expires_in`.
    pub access_expires_at: Option<i64>,
    pub id_token: Option<String>,
    /// The ID token's `exp`.
    pub id_expires_at: Option<i64>,
    pub refresh_token: Option<String>,
    /// The ID token's `sub`.
    pub subject: String,
    /// For messages: the e-mail address, or the preferred user name, or the subject.
    pub user: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("user", &self.user)
            .field("access_expires_at", &self.access_expires_at)
            .field("id_expires_at", &self.id_expires_at)
            .field("refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// The token to send and its expiry.
    pub fn pick(&self, send: SendToken) -> Option<(&str, Option<i64>)> {
        match send {
            SendToken::IdToken => self.id_token.as_deref().map(|t| (t, self.id_expires_at)),
            SendToken::AccessToken => Some((self.access_token.as_str(), self.access_expires_at)),
        }
    }
}

/// The stored sign-in in one folder (the per-user cache folder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    pub fn new(dir: &Path) -> TokenStore {
        TokenStore { dir: dir.to_path_buf() }
    }

    /// The file holding the sign-in.
    pub fn path(&self) -> PathBuf {
        self.dir.join(STORE_FILE)
    }

    fn protector(&self) -> Result<CacheKeyProtector, ReaderError> {
        crate::platform::create_private_dir(&self.dir).map_err(|e| {
            ReaderError::SignIn(format!("cannot create the sign-in folder {}: {e}", self.dir.display()))
        })?;
        CacheKeyProtector::for_folder(&self.dir)
    }

    /// The stored sign-in, if any. One that does not decrypt (altered, or the key file was replaced) is removed.
    pub fn load(&self) -> Result<Option<Tokens>, ReaderError> {
        let path = self.path();
        let sealed = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ReaderError::SignIn(format!("cannot read the sign-in {}: {e}", path.display()))),
        };
        let plain = self.protector()?.unprotect(AAD, &sealed).ok();
        match plain.and_then(|p| serde_json::from_slice::<Tokens>(&p).ok()) {
            Some(tokens) => Ok(Some(tokens)),
            None => {
                self.remove()?;
                Ok(None)
            }
        }
    }

    /// Keep `tokens` (replacing the stored sign-in in one step).
    pub fn save(&self, tokens: &Tokens) -> Result<(), ReaderError> {
        let protector = self.protector()?;
        let plain = Zeroizing::new(serde_json::to_vec(tokens).map_err(|e| ReaderError::SignIn(e.to_string()))?);
        let sealed = protector.protect(AAD, &plain)?;
        let dest = self.path();
        let temp = self.dir.join(format!("{STORE_FILE}.new-{}", uuid::Uuid::new_v4().simple()));
        let written = (|| {
            use std::io::Write;
            let mut file = crate::platform::create_new(&temp, true)?;
            file.write_all(&sealed)?;
            file.sync_all()?;
            std::fs::rename(&temp, &dest)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written.map_err(|e| ReaderError::SignIn(format!("cannot write the sign-in {}: {e}", dest.display())))
    }

    /// Forget the stored sign-in; whether there was one.
    pub fn remove(&self) -> Result<bool, ReaderError> {
        let path = self.path();
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(ReaderError::SignIn(format!("cannot remove the sign-in {}: {e}", path.display()))),
        }
    }
}

/// The stored sign-in as a bearer-token source of the licensing client
/// ([`TokenSource::SignedIn`](super::client::TokenSource::SignedIn)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    pub store: TokenStore,
    /// reader.toml's `[oidc]`: which token to send, and the provider the sign-in must come from.
    pub oidc: OidcConfig,
    /// Extra trust anchors for the provider (reader.toml's `ca_file`).
    pub ca_file: Option<PathBuf>,
}

impl SignedIn {
    /// A valid token now (renewed if needed).
    pub fn token(&self) -> Result<Zeroizing<String>, ReaderError> {
        current_token(&self.store, &self.oidc, self.ca_file.as_deref()).map(|(token, _)| token)
    }
}

/// The token to send (`[oidc] send`) and the stored sign-in it came from, renewed with the refresh token when it has
/// expired or expires within [`REFRESH_MARGIN`] seconds of [`super::now`]. No sign-in, a sign-in from another
/// provider or client, or a refresh the provider refuses (the refresh token expired or was revoked): the stored
/// tokens are removed and the error says to sign in again. The provider unreachable: the tokens are kept.
pub fn current_token(
    store: &TokenStore,
    oidc: &OidcConfig,
    ca_file: Option<&Path>,
) -> Result<(Zeroizing<String>, Tokens), ReaderError> {
    let Some(tokens) = store.load()? else {
        return Err(ReaderError::SignIn(format!(
            "not signed in: sign in with `fci-connector login` (or give a bearer token or a client certificate); \
             no sign-in in {}",
            store.path().display()
        )));
    };
    if tokens.issuer != oidc.issuer || tokens.client_id != oidc.client_id {
        return Err(ReaderError::SignIn(format!(
            "the stored sign-in is for {} (client {}), not for the [oidc] issuer {} (client {}) of reader.toml: {SIGN_IN_AGAIN}",
            tokens.issuer, tokens.client_id, oidc.issuer, oidc.client_id
        )));
    }
    let now = super::now().unix_timestamp();
    let fresh = |t: &Tokens| match t.pick(oidc.send) {
        Some((token, exp)) if exp.is_none_or(|exp| exp - REFRESH_MARGIN > now) => {
            Some(Zeroizing::new(token.to_string()))
        }
        _ => None,
    };
    if let Some(token) = fresh(&tokens) {
        return Ok((token, tokens));
    }
    let Some(refresh_token) = tokens.refresh_token.clone().map(Zeroizing::new) else {
        store.remove()?;
        return Err(ReaderError::SignIn(format!(
            "the sign-in of {} has expired and the provider gave no refresh token: {SIGN_IN_AGAIN}",
            tokens.user
        )));
    };
    let renewed = match super::login::refresh(&tokens, &refresh_token, ca_file) {
        Ok(renewed) => renewed,
        Err(e @ ReaderError::Unreachable { .. }) => return Err(e),
        Err(e) => {
            store.remove()?;
            return Err(ReaderError::SignIn(format!(
                "the sign-in of {} has expired and could not be renewed ({e}): {SIGN_IN_AGAIN}",
                tokens.user
            )));
        }
    };
    // A provider issuing tokens shorter-lived than the margin: the renewed token only has to be unexpired.
    let usable = match renewed.pick(oidc.send) {
        Some((token, exp)) if exp.is_none_or(|exp| exp > now) => Some(Zeroizing::new(token.to_string())),
        _ => None,
    };
    match usable {
        Some(token) => {
            store.save(&renewed)?;
            Ok((token, renewed))
        }
        None => {
            store.remove()?;
            Err(ReaderError::SignIn(format!(
                "the provider renewed the sign-in of {} without a valid {}: {SIGN_IN_AGAIN}",
                tokens.user,
                match oidc.send {
                    SendToken::IdToken => "ID token",
                    SendToken::AccessToken => "access token",
                }
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample(exp: i64) -> Tokens {
        Tokens {
            issuer: "https://login.test".into(),
            client_id: "fci".into(),
            token_endpoint: "https://login.test/token".into(),
            jwks_uri: "https://login.test/jwks".into(),
            access_token: "access-secret-0123456789".into(),
            access_expires_at: Some(exp),
            id_token: Some("id-secret-0123456789".into()),
            id_expires_at: Some(exp),
            refresh_token: None,
            subject: "alice".into(),
            user: "alice@contoso.com".into(),
        }
    }

    fn oidc(send: SendToken) -> OidcConfig {
        OidcConfig { issuer: "https://login.test".into(), client_id: "fci".into(), scopes: vec![], send }
    }

    #[test]
    fn the_store_is_encrypted_at_rest_and_forgets_on_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(&dir.path().join("licenses"));
        assert!(store.load().unwrap().is_none());
        store.save(&sample(i64::MAX / 2)).unwrap();
        let raw = std::fs::read(store.path()).unwrap();
        for secret in ["access-secret", "id-secret", "alice@contoso.com"] {
            assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} in clear");
        }
        // Without a session's Secret Service (as on build machines), the key is the cache's key file.
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            assert!(dir.path().join("licenses").join(crate::reader::cache::KEY_FILE).exists());
        }
        let loaded = store.load().unwrap().unwrap();
        assert_eq!(loaded.access_token, "access-secret-0123456789");
        assert!(!format!("{loaded:?}").contains("secret"));
        assert!(store.remove().unwrap());
        assert!(!store.remove().unwrap());
        // An altered file is not used, and is removed.
        store.save(&sample(0)).unwrap();
        let mut raw = std::fs::read(store.path()).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        std::fs::write(store.path(), raw).unwrap();
        assert!(store.load().unwrap().is_none());
        assert!(!store.path().exists());
    }

    #[test]
    fn a_valid_token_is_handed_out_and_the_configured_one_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        let err = current_token(&store, &oidc(SendToken::IdToken), None).unwrap_err();
        assert_eq!(err.class(), crate::ExitClass::SignInNeeded);
        assert!(err.to_string().contains("fci-connector login"), "{err}");
        let later = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        store.save(&sample(later)).unwrap();
        let (t, _) = current_token(&store, &oidc(SendToken::IdToken), None).unwrap();
        assert_eq!(t.as_str(), "id-secret-0123456789");
        let (t, _) = current_token(&store, &oidc(SendToken::AccessToken), None).unwrap();
        assert_eq!(t.as_str(), "access-secret-0123456789");
        // Another provider in reader.toml: refused, not sent anywhere.
        let mut other = oidc(SendToken::IdToken);
        other.issuer = "https://other.test".into();
        assert!(current_token(&store, &other, None).unwrap_err().to_string().contains(SIGN_IN_AGAIN));
    }

    #[test]
    fn an_expiring_token_without_a_refresh_token_means_signing_in_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        // Within the margin counts as expired.
        let soon = time::OffsetDateTime::now_utc().unix_timestamp() + REFRESH_MARGIN / 2;
        store.save(&sample(soon)).unwrap();
        let err = current_token(&store, &oidc(SendToken::IdToken), None).unwrap_err();
        assert!(err.to_string().contains(SIGN_IN_AGAIN), "{err}");
        assert_eq!(err.class(), crate::ExitClass::SignInNeeded);
        assert!(store.load().unwrap().is_none());
    }
}
