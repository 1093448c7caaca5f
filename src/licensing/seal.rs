//! The content key sealed to the reader's one-time key: HPKE (RFC 9180), base mode, DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, AES-256-GCM. The content id is the associated data, so a sealed key cannot be presented as another
//! file's.

use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::protect::container::keyschedule::ContentKey;

/// HPKE `info`: binds the sealed key to this protocol.
pub const INFO: &[u8] = b"fci-connector/v1 use license";
/// Length of an X25519 public key, and of the encapsulated key.
pub const PUBLIC_KEY_LEN: usize = 32;

/// Why a sealed key could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the client key is not a {PUBLIC_KEY_LEN}-byte X25519 public key")]
    BadPublicKey,
    #[error("the sealed content key does not open with this key (altered, or sealed for another request)")]
    Open,
    #[error("the OS random source failed: {0}")]
    Random(String),
}

/// The reader's key pair for one request. The private half is kept (zeroized on drop) only as long as the use
/// license is: it opens the sealed content key again offline.
pub struct ClientKey {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; PUBLIC_KEY_LEN],
}

impl ClientKey {
    /// A fresh key pair from the OS random source.
    pub fn generate() -> Result<ClientKey, SealError> {
        let mut ikm = Zeroizing::new([0u8; 32]);
        getrandom::fill(ikm.as_mut()).map_err(|e| SealError::Random(e.to_string()))?;
        Ok(Self::from_seed(&ikm))
    }

    /// The key pair HPKE's DeriveKeyPair makes from `seed` (what the offline cache stores).
    pub fn from_seed(seed: &[u8; 32]) -> ClientKey {
        let (private, public) = X25519HkdfSha256::derive_keypair(seed);
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&private.to_bytes());
        let mut public_bytes = [0u8; PUBLIC_KEY_LEN];
        public_bytes.copy_from_slice(&public.to_bytes());
        ClientKey { secret, public: public_bytes }
    }

    /// The private key's bytes, to store encrypted at rest with the use license.
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    /// Rebuild from [`ClientKey::secret_bytes`].
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Result<ClientKey, SealError> {
        let private = <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(secret).map_err(|_| SealError::BadPublicKey)?;
        let public = X25519HkdfSha256::sk_to_pk(&private);
        let mut public_bytes = [0u8; PUBLIC_KEY_LEN];
        public_bytes.copy_from_slice(&public.to_bytes());
        Ok(ClientKey { secret: Zeroizing::new(*secret), public: public_bytes })
    }

    /// The public half, sent in [`crate::licensing::api::LicenseRequest::client_key`].
    pub fn public_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.public
    }

    /// Open a content key sealed by [`seal`] for this key and `content_id`.
    pub fn open(&self, content_id: &Uuid, sealed: &SealedKey) -> Result<ContentKey, SealError> {
        let private =
            <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(self.secret.as_ref()).map_err(|_| SealError::Open)?;
        let encapped =
            <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(&sealed.encapsulated).map_err(|_| SealError::Open)?;
        let plain = Zeroizing::new(
            hpke::single_shot_open::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
                &OpModeR::Base,
                &private,
                &encapped,
                INFO,
                &sealed.ciphertext,
                content_id.as_bytes(),
            )
            .map_err(|_| SealError::Open)?,
        );
        let key = <[u8; 32]>::try_from(plain.as_slice()).map_err(|_| SealError::Open)?;
        Ok(ContentKey(key))
    }
}

/// A content key sealed to one client key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedKey {
    /// HPKE's encapsulated key (`enc`), 32 bytes.
    pub encapsulated: Vec<u8>,
    /// The sealed content key: 32 bytes and a 16-byte tag.
    pub ciphertext: Vec<u8>,
}

/// Seal `content_key` to the client's public key, bound to `content_id`.
pub fn seal(client_public: &[u8], content_id: &Uuid, content_key: &ContentKey) -> Result<SealedKey, SealError> {
    let public =
        <X25519HkdfSha256 as Kem>::PublicKey::from_bytes(client_public).map_err(|_| SealError::BadPublicKey)?;
    let mut rng = OsRng { failed: None };
    let (encapped, ciphertext) = hpke::single_shot_seal_with_rng::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
        &OpModeS::Base,
        &public,
        INFO,
        &content_key.0,
        content_id.as_bytes(),
        &mut rng,
    )
    .map_err(|e| SealError::Random(e.to_string()))?;
    if let Some(e) = rng.failed {
        return Err(SealError::Random(e));
    }
    Ok(SealedKey { encapsulated: encapped.to_bytes().to_vec(), ciphertext })
}

/// The OS random source as HPKE's RNG; a failure is remembered (and the request refused) rather than a panic.
struct OsRng {
    failed: Option<String>,
}

impl hpke::rand_core::TryRng for OsRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.fill(dst);
        Ok(())
    }
}

impl hpke::rand_core::TryCryptoRng for OsRng {}

impl OsRng {
    fn fill(&mut self, dst: &mut [u8]) {
        if let Err(e) = getrandom::fill(dst) {
            self.failed.get_or_insert_with(|| e.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_its_client_key_and_content_id() {
        let client = ClientKey::generate().unwrap();
        let other = ClientKey::generate().unwrap();
        let cid = Uuid::new_v4();
        let key = ContentKey([7u8; 32]);
        let sealed = seal(&client.public_bytes(), &cid, &key).unwrap();
        assert_eq!(client.open(&cid, &sealed).unwrap().0, key.0);
        assert!(other.open(&cid, &sealed).is_err());
        assert!(client.open(&Uuid::new_v4(), &sealed).is_err());
        let mut altered = sealed.clone();
        altered.ciphertext[0] ^= 1;
        assert!(client.open(&cid, &altered).is_err());
        let again = ClientKey::from_secret_bytes(client.secret_bytes()).unwrap();
        assert_eq!(again.public_bytes(), client.public_bytes());
        assert_eq!(again.open(&cid, &sealed).unwrap().0, key.0);
    }

    #[test]
    fn a_public_key_of_the_wrong_length_is_refused() {
        assert!(matches!(seal(&[1u8; 31], &Uuid::nil(), &ContentKey([0; 32])), Err(SealError::BadPublicKey)));
    }
}
