//! The license check every `/v1/licenses`, `/v1/access` and registration runs, in the order docs/SERVICE.md gives:
//! parse the license block (the same code as `status`) → find a wrap for one of this service's issuer keys (else
//! `unknown_template`) → unwrap the content key and verify the header MAC with it (else `invalid_license`) → the
//! template must be one this service serves (else `unknown_template`). Rights, expiry and revocation follow in the
//! HTTP layer ([`super::http`]), with the store.
//!
//! A failed unwrap and a failed MAC give the same answer after the same work: the service must not become an
//! oracle that tells an attacker whether a forged wrap decrypted. Content keys of recently opened files are kept in
//! a bounded cache (zeroized when evicted); a hit is used only if the header MAC verifies with it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use uuid::Uuid;

use crate::licensing::api::DenialCode;
use crate::protect::container::header::Header;
use crate::protect::container::keyschedule::{ContentKey, FileKeys};
use crate::protect::container::{ContainerError, Envelope};
use crate::protect::keys::HolderKey;

/// The one message for a license block that does not verify, whatever the reason.
pub const INVALID_LICENSE: &str = "the license does not verify: damaged, altered, or not protected for this service";

/// A refused request: the code and a message for people (never a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: DenialCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: DenialCode, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into() }
    }
}

/// A license block whose content key unwrapped and whose header MAC verified.
pub struct Verified {
    pub envelope: Envelope,
    pub content_key: ContentKey,
}

/// Content keys of recently opened files, by content id. Bounded: the oldest entry goes first (zeroized on drop).
pub struct KeyCache {
    capacity: usize,
    inner: Mutex<(HashMap<Uuid, ContentKey>, VecDeque<Uuid>)>,
}

impl KeyCache {
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache { capacity, inner: Mutex::new((HashMap::new(), VecDeque::new())) }
    }

    fn get(&self, cid: &Uuid) -> Option<ContentKey> {
        self.inner.lock().ok()?.0.get(cid).cloned()
    }

    fn put(&self, cid: Uuid, key: &ContentKey) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut guard) = self.inner.lock() else { return };
        let (map, order) = &mut *guard;
        if map.insert(cid, key.clone()).is_none() {
            order.push_back(cid);
        }
        while map.len() > self.capacity {
            match order.pop_front() {
                // Dropping the ContentKey zeroizes it.
                Some(old) => drop(map.remove(&old)),
                None => break,
            }
        }
    }

    /// Entries held (tests).
    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.0.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The issuer keys this service holds, by key id.
pub type IssuerKeys = HashMap<String, HolderKey>;

/// Parse a license block: the header from byte 0 through the MAC, nothing after it.
pub fn parse(block: &[u8]) -> Result<Envelope, Refusal> {
    let mut r = block;
    let header = Header::read(&mut r).map_err(|_| Refusal::new(DenialCode::InvalidLicense, INVALID_LICENSE))?;
    if !r.is_empty() {
        return Err(Refusal::new(DenialCode::InvalidLicense, INVALID_LICENSE));
    }
    // The same checks as `status` and `unprotect`, including the format version against the license's fields.
    Envelope::from_header(header).map_err(|_| Refusal::new(DenialCode::InvalidLicense, INVALID_LICENSE))
}

/// Find the issuer key, unwrap and verify a parsed license block (blocking: an RSA private-key operation on a
/// cache miss).
pub fn verify(envelope: Envelope, keys: &IssuerKeys, cache: &KeyCache) -> Result<Verified, Refusal> {
    match verify_cached(envelope, keys, cache)? {
        Ok(verified) => Ok(verified),
        Err(envelope) => verify_unwrapping(envelope, keys, cache),
    }
}

/// The holder key this service has for one of the license's wraps.
fn holder<'k>(envelope: &Envelope, keys: &'k IssuerKeys) -> Result<&'k HolderKey, Refusal> {
    envelope.license.wraps.iter().find_map(|w| keys.get(&w.key_id)).ok_or_else(|| {
        Refusal::new(DenialCode::UnknownTemplate, "none of the license's key wraps is for a key this service holds")
    })
}

/// [`verify`] without the private-key operation, cheap enough for an async worker: the issuer key must be held,
/// and a cached content key that verifies the header MAC answers at once. `Ok(Err(envelope))`: not cached (or
/// the cached key does not verify), [`verify_unwrapping`] must run.
pub fn verify_cached(
    envelope: Envelope,
    keys: &IssuerKeys,
    cache: &KeyCache,
) -> Result<Result<Verified, Envelope>, Refusal> {
    holder(&envelope, keys)?;
    if let Some(key) = cache.get(&envelope.license.content_id)
        && FileKeys::derive(&key, &envelope.header.salt)
            .verify_header(&envelope.header.authenticated, &envelope.header.mac)
    {
        return Ok(Ok(Verified { envelope, content_key: key }));
    }
    Ok(Err(envelope))
}

/// The issuer key's unwrap and the MAC check (blocking: an RSA private-key operation); the key is cached.
pub fn verify_unwrapping(envelope: Envelope, keys: &IssuerKeys, cache: &KeyCache) -> Result<Verified, Refusal> {
    let holder = holder(&envelope, keys)?;
    let cid = envelope.license.content_id;
    match envelope.content_key(holder) {
        Ok(content_key) => {
            cache.put(cid, &content_key);
            Ok(Verified { envelope, content_key })
        }
        Err(ContainerError::HeaderMac) => Err(Refusal::new(DenialCode::InvalidLicense, INVALID_LICENSE)),
        Err(_) => {
            // The unwrap failed: do the MAC work a successful unwrap would have done, with a dummy key, so the two
            // failures take the same time.
            let dummy = ContentKey([0u8; 32]);
            let keys = FileKeys::derive(&dummy, &envelope.header.salt);
            let _ = std::hint::black_box(keys.verify_header(&envelope.header.authenticated, &envelope.header.mac));
            Err(Refusal::new(DenialCode::InvalidLicense, INVALID_LICENSE))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_bounded_and_drops_the_oldest() {
        let cache = KeyCache::new(2);
        for n in 0..3u128 {
            cache.put(Uuid::from_u128(n), &ContentKey([n as u8; 32]));
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&Uuid::from_u128(0)).is_none());
        assert_eq!(cache.get(&Uuid::from_u128(2)).map(|k| k.0), Some([2; 32]));
        let off = KeyCache::new(0);
        off.put(Uuid::nil(), &ContentKey([1; 32]));
        assert!(off.is_empty());
    }

    use crate::protect::container::license::{KeyWrap, License};
    use crate::protect::container::{SealParams, notice, seal};
    use crate::protect::keys::RecipientKey;

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys").join(name)
    }

    /// A license block for the fixture issuer key, and the key that opens it.
    fn block() -> (Vec<u8>, IssuerKeys) {
        let issuer = RecipientKey::read(&fixture("issuer.pub.pem")).unwrap();
        let key = ContentKey([9; 32]);
        let license = License {
            content_id: Uuid::from_u128(42),
            template_id: Uuid::from_u128(7),
            template_name: "T".into(),
            owner: None,
            issued: time::macros::datetime!(2026-01-01 00:00 UTC),
            valid_until: None,
            offline_days: None,
            license_server: None,
            original_name: "a.txt".into(),
            original_size: 1,
            grants: Vec::new(),
            wraps: vec![KeyWrap {
                key_id: issuer.id.clone(),
                role: "issuer".into(),
                wrapped: issuer.wrap(&key.0).unwrap(),
            }],
        };
        let params = SealParams {
            license: &license,
            content_key: &key,
            salt: [3; 32],
            segment_log2: 16,
            notice: notice("T", "a.txt"),
        };
        let mut out = Vec::new();
        seal(&params, &b"x"[..], &mut out).unwrap();
        // The header: everything before the one payload segment (1 byte and its 16-byte tag).
        out.truncate(out.len() - 17);
        let holder = HolderKey::read(&fixture("issuer.key.pem"), None).unwrap();
        (out, IssuerKeys::from([(holder.id.clone(), holder)]))
    }

    fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        let mut out = bytes.to_vec();
        out[at..at + from.len()].copy_from_slice(to);
        out
    }

    #[test]
    fn a_swapped_field_and_a_bad_wrap_are_one_answer_even_after_the_key_was_cached() {
        let (good, keys) = block();
        let cache = KeyCache::new(8);
        let ok = verify(parse(&good).unwrap(), &keys, &cache).unwrap();
        assert_eq!(ok.content_key.0, [9; 32]);
        assert_eq!(cache.len(), 1);
        // The template id swapped: the cached key for this content id does not verify the MAC, the full check runs.
        let swapped =
            replace(&good, Uuid::from_u128(7).to_string().as_bytes(), Uuid::from_u128(8).to_string().as_bytes());
        let a = verify(parse(&swapped).unwrap(), &keys, &cache).err().unwrap();
        // The wrap replaced by other base64 of the same length: the unwrap fails.
        let text = String::from_utf8_lossy(&good).into_owned();
        let start = text.find("RSA-OAEP-SHA256\">").unwrap() + "RSA-OAEP-SHA256\">".len();
        let mut garbage = good.clone();
        garbage[start..start + 8].copy_from_slice(b"AAAAAAAA");
        let b = verify(parse(&garbage).unwrap(), &keys, &KeyCache::new(0)).err().unwrap();
        assert_eq!(a, b);
        assert_eq!((a.code, a.message.as_str()), (DenialCode::InvalidLicense, INVALID_LICENSE));
        // A key this service does not hold: unknown_template, and nothing unwrapped.
        let c = verify(parse(&good).unwrap(), &IssuerKeys::new(), &cache).err().unwrap();
        assert_eq!(c.code, DenialCode::UnknownTemplate);
    }

    #[test]
    fn garbage_and_trailing_bytes_are_the_one_invalid_license_answer() {
        let e = parse(b"not a license").err().unwrap();
        assert_eq!((e.code, e.message.as_str()), (DenialCode::InvalidLicense, INVALID_LICENSE));
        assert_eq!(parse(b"").err().unwrap().code, DenialCode::InvalidLicense);
        let (good, _) = block();
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(parse(&longer).err().unwrap().code, DenialCode::InvalidLicense);
        assert!(parse(&good).is_ok());
    }
}
