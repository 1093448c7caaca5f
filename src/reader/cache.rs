//! The offline cache: for a use license that allows offline use (`offline_until`), what opening the file again
//! without the service takes — the use license, the service's signing keys (JWKS) that verify it, the one-time
//! client key that opens its sealed content key, and the service's address — one entry per user and content id,
//! encrypted at rest.
//!
//! At-rest protection is a [`Protector`]. Implemented: [`CacheKeyProtector`], AES-256-GCM (ring) under a random
//! 256-bit key. Where the user's desktop session has a Secret Service (Linux: GNOME Keyring, KWallet) the key is kept
//! there; otherwise in a key file beside the entries, readable by the user only (Unix mode 0600, in a 0700 folder;
//! Windows an owner-only DACL), and on Windows the key in that file is itself sealed with DPAPI (`CryptProtectData`).
//! Both through `src/platform/`. A key file protects against other users, not against the user's own processes or
//! an administrator.
//!
//! An entry is used only while its use license verifies with [`Use::Offline`] at "now" (signature, `offline_until`,
//! `valid_until`); an entry found expired or unreadable is removed when seen. The service's refusal (revoked,
//! expired, not granted) removes the entry too (the caller does that: [`Cache::remove`]).

use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use jsonwebtoken::jwk::JwkSet;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::ReaderError;
use crate::licensing::seal::ClientKey;
use crate::licensing::use_license::{self, Claims, Use};

/// Name of the key file of [`CacheKeyProtector`] in the cache folder (where no Secret Service keeps the key).
pub const KEY_FILE: &str = "cache.key";
/// Extension of an entry file (`<content id>.ulic`).
pub const ENTRY_EXTENSION: &str = "ulic";
const AAD_PREFIX: &[u8] = b"fci-connector offline cache v1 ";
/// What the key is sealed for, where the system seals it for the user (DPAPI's entropy).
const KEY_PURPOSE: &str = "fci-connector offline cache key v1";
const BLOB_VERSION: u8 = 1;

/// Encrypts cache entries at rest for the current user.
pub trait Protector {
    /// For `licenses cache list` and the docs: what protects the entries.
    fn name(&self) -> &'static str;
    /// Encrypt `plain`, bound to `aad`.
    fn protect(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, ReaderError>;
    /// Decrypt what [`Protector::protect`] made with the same `aad`; an error when altered or made elsewhere.
    fn unprotect(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ReaderError>;
}

/// AES-256-GCM under a per-user key file (mode 0600).
pub struct CacheKeyProtector {
    key: LessSafeKey,
    name: &'static str,
}

impl CacheKeyProtector {
    /// The key of the folder `dir`: from the session's Secret Service where there is one (named after the folder, so
    /// each cache has its own), else from the key file [`KEY_FILE`] in `dir`.
    pub fn for_folder(dir: &Path) -> Result<CacheKeyProtector, ReaderError> {
        let account = format!("offline cache key {}", dir.display());
        match crate::platform::session_secret(&account, Self::random_key) {
            Some(Ok(key)) => Self::with_key(&key, "AES-256-GCM, the key kept in the session's Secret Service"),
            Some(Err(e)) => Err(ReaderError::Cache(format!("the Secret Service's key for {}: {e}", dir.display()))),
            None => Self::open_or_create(&dir.join(KEY_FILE)),
        }
    }

    fn with_key(key: &[u8], name: &'static str) -> Result<CacheKeyProtector, ReaderError> {
        let key = UnboundKey::new(&AES_256_GCM, key)
            .map_err(|_| ReaderError::Cache("the cache key is not a 32-byte key".into()))?;
        Ok(CacheKeyProtector { key: LessSafeKey::new(key), name })
    }

    fn random_key() -> std::io::Result<Zeroizing<Vec<u8>>> {
        let mut key = Zeroizing::new(vec![0u8; 32]);
        getrandom::fill(&mut key).map_err(std::io::Error::other)?;
        Ok(key)
    }

    /// Read the key file `path`, or create it with a fresh random key (owner only) when there is none.
    pub fn open_or_create(path: &Path) -> Result<CacheKeyProtector, ReaderError> {
        let bad =
            |doing: &str, e: &dyn std::fmt::Display| ReaderError::Cache(format!("{doing} {}: {e}", path.display()));
        let bytes = match std::fs::read(path) {
            Ok(bytes) => Self::unseal(path, Zeroizing::new(bytes))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path)?,
            Err(e) => return Err(bad("cannot read the key file", &e)),
        };
        let name = match crate::platform::user_seal_name() {
            Some(_) => "AES-256-GCM under a per-user key file (owner-only), the key sealed with Windows DPAPI",
            None => "AES-256-GCM under a per-user key file (owner-only)",
        };
        Self::with_key(&bytes, name)
            .map_err(|_| bad("key file", &"is not a 32-byte key (remove it and the cache entries with it)"))
    }

    /// Write a new key under a temporary name, then link it to `path` only if nothing has that name, so two
    /// readers starting at once agree on one key.
    fn create(path: &Path) -> Result<Zeroizing<Vec<u8>>, ReaderError> {
        let bad = |doing: &str, e: std::io::Error| ReaderError::Cache(format!("{doing} {}: {e}", path.display()));
        let key = Self::random_key().map_err(|e| ReaderError::Cache(format!("the OS random source failed: {e}")))?;
        let stored = match crate::platform::seal_for_user(&key, KEY_PURPOSE) {
            Some(sealed) => Zeroizing::new(sealed.map_err(|e| bad("cannot seal the key of", e))?),
            None => key.clone(),
        };
        let temp = path.with_extension(format!("new-{}", Uuid::new_v4().simple()));
        let result = (|| {
            use std::io::Write;
            let mut file = crate::platform::create_new(&temp, true)?;
            crate::platform::restrict_to_owner(&file)?;
            file.write_all(&stored)?;
            file.sync_all()?;
            std::fs::hard_link(&temp, path)
        })();
        let _ = std::fs::remove_file(&temp);
        match result {
            Ok(()) => Ok(key),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let bytes = std::fs::read(path).map(Zeroizing::new).map_err(|e| bad("cannot read the key file", e))?;
                Self::unseal(path, bytes)
            }
            Err(e) => Err(bad("cannot create the key file", e)),
        }
    }

    /// The key as stored in the key file: unsealed where the system seals it for the user.
    fn unseal(path: &Path, stored: Zeroizing<Vec<u8>>) -> Result<Zeroizing<Vec<u8>>, ReaderError> {
        match crate::platform::unseal_for_user(&stored, KEY_PURPOSE) {
            None => Ok(stored),
            Some(key) => key.map_err(|e| {
                ReaderError::Cache(format!(
                    "key file {}: cannot unseal it for this user ({e}; remove it and the cache entries with it)",
                    path.display()
                ))
            }),
        }
    }
}

impl Protector for CacheKeyProtector {
    fn name(&self) -> &'static str {
        self.name
    }

    fn protect(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, ReaderError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| ReaderError::Cache(format!("the OS random source failed: {e}")))?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut sealed)
            .map_err(|_| ReaderError::Cache("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(BLOB_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unprotect(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ReaderError> {
        let bad = || ReaderError::Cache("entry does not decrypt (altered, or made with another key)".into());
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != BLOB_VERSION {
            return Err(bad());
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN]).map_err(|_| bad())?;
        let mut buf = Zeroizing::new(sealed[1 + NONCE_LEN..].to_vec());
        let len = self.key.open_in_place(nonce, Aad::from(aad), &mut buf).map_err(|_| bad())?.len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// What an entry holds (encrypted as a whole).
#[derive(Serialize, Deserialize)]
struct Stored {
    server: String,
    use_license: String,
    jwks: JwkSet,
    /// The client key's private half, base64.
    client_secret: String,
}

/// A cached use license that verified for offline use at the time asked.
pub struct CachedLicense {
    pub server: String,
    pub claims: Claims,
    pub client_key: ClientKey,
}

/// One entry as `licenses cache list` shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CacheEntry {
    pub content_id: Uuid,
    pub server: String,
    pub principal: String,
    pub rights: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub offline_until: OffsetDateTime,
}

/// The current user's offline cache in one folder.
pub struct Cache {
    dir: PathBuf,
    protector: Box<dyn Protector>,
}

impl Cache {
    /// The cache in `dir` (created, owner-only) with the key-file protector.
    pub fn open(dir: &Path) -> Result<Cache, ReaderError> {
        crate::platform::create_private_dir(dir)
            .map_err(|e| ReaderError::Cache(format!("folder {}: cannot create it: {e}", dir.display())))?;
        let protector = CacheKeyProtector::for_folder(dir)?;
        Ok(Cache::with_protector(dir, Box::new(protector)))
    }

    /// The cache in `dir` (which must exist) with another protector.
    pub fn with_protector(dir: &Path, protector: Box<dyn Protector>) -> Cache {
        Cache { dir: dir.to_path_buf(), protector }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What protects the entries.
    pub fn protection(&self) -> &'static str {
        self.protector.name()
    }

    fn entry_path(&self, content_id: &Uuid) -> PathBuf {
        self.dir.join(format!("{content_id}.{ENTRY_EXTENSION}"))
    }

    fn aad(content_id: &Uuid) -> Vec<u8> {
        let mut aad = AAD_PREFIX.to_vec();
        aad.extend_from_slice(content_id.as_bytes());
        aad
    }

    /// Keep a use license for offline use (replacing an older one for the same content).
    pub fn store(
        &self,
        content_id: &Uuid,
        server: &str,
        use_license: &str,
        jwks: &JwkSet,
        client_key: &ClientKey,
    ) -> Result<(), ReaderError> {
        let stored = Stored {
            server: server.to_string(),
            use_license: use_license.to_string(),
            jwks: jwks.clone(),
            client_secret: Base64::encode_string(client_key.secret_bytes()),
        };
        let plain = Zeroizing::new(serde_json::to_vec(&stored).map_err(|e| ReaderError::Cache(e.to_string()))?);
        let sealed = self.protector.protect(&Self::aad(content_id), &plain)?;
        let dest = self.entry_path(content_id);
        let fail = |e: std::io::Error| ReaderError::Cache(format!("entry {}: cannot write it: {e}", dest.display()));
        let temp = self.dir.join(format!("{content_id}.new-{}", Uuid::new_v4().simple()));
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
        written.map_err(fail)
    }

    /// The entry for `content_id` if it verifies for offline use at `now`; an entry that does not (expired,
    /// unreadable, for another content) is removed.
    pub fn load(&self, content_id: &Uuid, now: OffsetDateTime) -> Result<Option<CachedLicense>, ReaderError> {
        let path = self.entry_path(content_id);
        let sealed = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ReaderError::Cache(format!("entry {}: cannot read it: {e}", path.display()))),
        };
        match self.decode(content_id, &sealed, now) {
            Some(entry) => Ok(Some(entry)),
            None => {
                self.remove(content_id)?;
                Ok(None)
            }
        }
    }

    fn decode(&self, content_id: &Uuid, sealed: &[u8], now: OffsetDateTime) -> Option<CachedLicense> {
        let plain = self.protector.unprotect(&Self::aad(content_id), sealed).ok()?;
        let stored: Stored = serde_json::from_slice(&plain).ok()?;
        let claims = use_license::verify(&stored.use_license, &stored.jwks, now, Use::Offline).ok()?;
        if claims.cid != *content_id {
            return None;
        }
        let secret = Zeroizing::new(Base64::decode_vec(&stored.client_secret).ok()?);
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(secret.as_slice().try_into().ok()?);
        let client_key = ClientKey::from_secret_bytes(&secret).ok()?;
        Some(CachedLicense { server: stored.server, claims, client_key })
    }

    /// Remove the entry for `content_id`; whether there was one.
    pub fn remove(&self, content_id: &Uuid) -> Result<bool, ReaderError> {
        let path = self.entry_path(content_id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(ReaderError::Cache(format!("entry {}: cannot remove it: {e}", path.display()))),
        }
    }

    fn content_ids(&self) -> Result<Vec<Uuid>, ReaderError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ReaderError::Cache(format!("folder {}: cannot list it: {e}", self.dir.display()))),
        };
        let mut ids: Vec<Uuid> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(&format!(".{ENTRY_EXTENSION}")).and_then(|id| Uuid::parse_str(id).ok())
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The entries valid at `now`; expired or unreadable ones are removed.
    pub fn list(&self, now: OffsetDateTime) -> Result<Vec<CacheEntry>, ReaderError> {
        let mut out = Vec::new();
        for id in self.content_ids()? {
            if let Some(entry) = self.load(&id, now)? {
                let until = entry.claims.offline_until.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
                out.push(CacheEntry {
                    content_id: id,
                    server: entry.server,
                    principal: entry.claims.sub,
                    rights: entry.claims.rights,
                    offline_until: until.unwrap_or(now),
                });
            }
        }
        Ok(out)
    }

    /// Remove every entry; how many there were.
    pub fn clear(&self) -> Result<usize, ReaderError> {
        let ids = self.content_ids()?;
        for id in &ids {
            self.remove(id)?;
        }
        Ok(ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::licensing::use_license::{FRESH_SECONDS, Signer};

    const ED25519: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPtG+EdaO8HIqOzIfe50ajW5ea0ZZWuKR+YqzNruFo1k\n-----END PRIVATE KEY-----\n";

    fn license(cid: Uuid, now: i64, offline: Option<i64>) -> (String, JwkSet) {
        let signer = Signer::from_pkcs8_pem(ED25519).unwrap();
        let claims = Claims {
            iss: "https://rms.test/".into(),
            sub: "alice@contoso.com".into(),
            iat: now,
            exp: now + FRESH_SECONDS,
            cid,
            tid: Uuid::nil(),
            rights: vec!["VIEW".into()],
            valid_until: None,
            offline_until: offline,
            enc: String::new(),
            key: String::new(),
        };
        (signer.sign(&claims).unwrap(), signer.jwks())
    }

    #[test]
    fn an_entry_round_trips_encrypted_and_is_removed_once_expired() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("licenses")).unwrap();
        let now = OffsetDateTime::now_utc();
        let cid = Uuid::new_v4();
        let (token, jwks) = license(cid, now.unix_timestamp(), Some(now.unix_timestamp() + 3600));
        let key = ClientKey::generate().unwrap();
        cache.store(&cid, "https://rms.test/", &token, &jwks, &key).unwrap();
        // Encrypted at rest: neither the token nor the secret is in the file.
        let raw = std::fs::read(cache.dir().join(format!("{cid}.ulic"))).unwrap();
        assert!(!raw.windows(20).any(|w| token.as_bytes().windows(20).any(|t| t == w)));
        assert!(!raw.windows(32).any(|w| w == key.secret_bytes()));
        let loaded = cache.load(&cid, now).unwrap().unwrap();
        assert_eq!(loaded.client_key.public_bytes(), key.public_bytes());
        assert_eq!((loaded.server.as_str(), loaded.claims.cid), ("https://rms.test/", cid));
        assert_eq!(cache.list(now).unwrap().len(), 1);
        // Past offline_until: not used, and gone.
        assert!(cache.load(&cid, now + time::Duration::hours(2)).unwrap().is_none());
        assert!(!cache.dir().join(format!("{cid}.ulic")).exists());
    }

    #[test]
    fn an_altered_or_renamed_entry_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let now = OffsetDateTime::now_utc();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let (token, jwks) = license(a, now.unix_timestamp(), Some(now.unix_timestamp() + 3600));
        cache.store(&a, "https://rms.test/", &token, &jwks, &ClientKey::generate().unwrap()).unwrap();
        std::fs::copy(dir.path().join(format!("{a}.ulic")), dir.path().join(format!("{b}.ulic"))).unwrap();
        assert!(cache.load(&b, now).unwrap().is_none());
        let path = dir.path().join(format!("{a}.ulic"));
        let mut raw = std::fs::read(&path).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        std::fs::write(&path, raw).unwrap();
        assert!(cache.load(&a, now).unwrap().is_none());
        // Another user's key (another key file) cannot read a copied entry either.
        let other = tempfile::tempdir().unwrap();
        let theirs = Cache::open(other.path()).unwrap();
        cache.store(&a, "https://rms.test/", &token, &jwks, &ClientKey::generate().unwrap()).unwrap();
        std::fs::copy(dir.path().join(format!("{a}.ulic")), other.path().join(format!("{a}.ulic"))).unwrap();
        assert!(theirs.load(&a, now).unwrap().is_none());
        assert_eq!(cache.clear().unwrap(), 1);
        assert!(cache.list(now).unwrap().is_empty());
    }

    #[test]
    fn a_license_without_an_offline_window_never_loads() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let now = OffsetDateTime::now_utc();
        let cid = Uuid::new_v4();
        let (token, jwks) = license(cid, now.unix_timestamp(), None);
        cache.store(&cid, "https://rms.test/", &token, &jwks, &ClientKey::generate().unwrap()).unwrap();
        assert!(cache.load(&cid, now).unwrap().is_none());
    }

    #[test]
    fn a_second_open_reads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("c");
        let cache = Cache::open(&folder).unwrap();
        let now = OffsetDateTime::now_utc();
        let cid = Uuid::new_v4();
        let (token, jwks) = license(cid, now.unix_timestamp(), Some(now.unix_timestamp() + 3600));
        cache.store(&cid, "https://rms.test/", &token, &jwks, &ClientKey::generate().unwrap()).unwrap();
        let again = Cache::open(&folder).unwrap();
        assert!(again.load(&cid, now).unwrap().is_some());
    }
}
