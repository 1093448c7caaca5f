//! From one random content key to the keys the container uses: HKDF-SHA256 with the header's random salt gives
//! a payload key (AES-256-GCM) and a header key (HMAC-SHA256 over the header). Distinct `info` strings keep the
//! two independent; the salt makes the payload key unique per file even if a content key were ever reused.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// HKDF info for the payload key.
pub const INFO_PAYLOAD: &[u8] = b"fci-connector/v1 payload";
/// HKDF info for the header MAC key.
pub const INFO_HEADER: &[u8] = b"fci-connector/v1 header";

/// The random 32-byte content key: the only secret wrapped to the recipients.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ContentKey(pub [u8; 32]);

impl ContentKey {
    /// A fresh key from the OS random source.
    pub fn random() -> std::io::Result<ContentKey> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| std::io::Error::other(format!("OS random source failed: {e}")))?;
        Ok(ContentKey(k))
    }
}

/// The derived keys for one file.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct FileKeys {
    pub payload: [u8; 32],
    header: [u8; 32],
}

impl FileKeys {
    /// Derive both keys from the content key and the header salt.
    pub fn derive(content_key: &ContentKey, salt: &[u8; 32]) -> FileKeys {
        let hk = Hkdf::<Sha256>::new(Some(salt), &content_key.0);
        let mut keys = FileKeys { payload: [0; 32], header: [0; 32] };
        // 32 bytes is far below HKDF-SHA256's 8160-byte output limit, so expand cannot fail.
        let _ = hk.expand(INFO_PAYLOAD, &mut keys.payload);
        let _ = hk.expand(INFO_HEADER, &mut keys.header);
        keys
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.header)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    /// HMAC-SHA256 of the authenticated header bytes.
    pub fn header_mac(&self, header: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(header);
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of a header MAC.
    pub fn verify_header(&self, header: &[u8], tag: &[u8; 32]) -> bool {
        let mut mac = self.mac();
        mac.update(header);
        mac.verify_slice(tag).is_ok()
    }
}
