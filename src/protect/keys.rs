//! RSA keys: generating template key pairs, reading public keys (SubjectPublicKeyInfo PEM) and private keys
//! (PKCS#8 PEM, optionally passphrase-encrypted with PBES2), key ids, and wrapping the content key with
//! RSA-OAEP-SHA256.
//!
//! The server that protects files only ever needs public keys. Private keys are for the key holders who
//! unprotect, and for `keys generate`.

use std::io::Write;
use std::path::{Path, PathBuf};

use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, PrivateKey, PublicKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::Setting;
use crate::{Error, ExitClass};

/// The OAEP label: binds a wrapped key to this format, so it cannot be replayed into another protocol that uses
/// the same RSA key.
pub const OAEP_LABEL: &[u8] = b"fci-connector/v1 content key";
/// Smallest modulus accepted for new and existing keys.
pub const MIN_BITS: usize = 2048;
/// Largest modulus accepted (bounds the cost of a hostile key).
pub const MAX_BITS: usize = 16384;

/// What is wrong with a public key; `origin` names where it came from.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{origin}: not an RSA public key in SubjectPublicKeyInfo PEM form ({cause})")]
    NotPublicKeyPem { origin: String, cause: String },
    #[error("{origin}: RSA key of {bits} bits; {MIN_BITS} to {MAX_BITS} are accepted")]
    Size { origin: String, bits: usize },
    #[error("{origin}: cannot encode public key ({cause})")]
    Encode { origin: String, cause: String },
}

/// A public key with its id.
#[derive(Clone, Debug)]
pub struct RecipientKey {
    pub key: PublicKey,
    /// Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo.
    pub id: String,
}

impl RecipientKey {
    /// Parse a SubjectPublicKeyInfo PEM. `origin` names where it came from, for errors.
    pub fn from_pem(pem: &str, origin: &str) -> Result<Self, KeyError> {
        let key = PublicKey::from_public_key_pem(pem.trim())
            .map_err(|e| KeyError::NotPublicKeyPem { origin: origin.into(), cause: e.to_string() })?;
        Self::from_key(key, origin)
    }

    /// Wrap an already parsed key, checking its size.
    pub fn from_key(key: PublicKey, origin: &str) -> Result<Self, KeyError> {
        let bits = key.size() * 8;
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(KeyError::Size { origin: origin.into(), bits });
        }
        let der =
            key.to_public_key_der().map_err(|e| KeyError::Encode { origin: origin.into(), cause: e.to_string() })?;
        Ok(RecipientKey { id: key_id(der.as_bytes()), key })
    }

    /// Read a public key file.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let pem = read_key_file(path)?;
        Self::from_pem(&pem, &path.display().to_string()).map_err(|e| Error::new(ExitClass::Template, e.to_string()))
    }

    /// Wrap `content_key` to this recipient with RSA-OAEP-SHA256 under [`OAEP_LABEL`].
    pub fn wrap(&self, content_key: &[u8]) -> Result<Vec<u8>, Error> {
        let padding = Oaep::<Sha256>::new_with_label(OAEP_LABEL);
        self.key.encrypt(&mut getrandom::SysRng, padding, content_key).map_err(|e| {
            Error::new(ExitClass::Template, format!("cannot wrap the content key to key {}: {e}", self.id))
        })
    }
}

/// The id of a key: lower-case hex SHA-256 of its DER SubjectPublicKeyInfo.
pub fn key_id(spki_der: &[u8]) -> String {
    hex(&Sha256::digest(spki_der))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A private key, with the id of its public half.
pub struct HolderKey {
    key: PrivateKey,
    /// The same key in AWS-LC, for a service that unwraps many keys ([`HolderKey::use_aws_lc`]).
    aws_lc: Option<aws_lc_rs::rsa::OaepPrivateDecryptingKey>,
    pub id: String,
}

/// The text of a key file. A key file that is not there is a key that cannot be used ([`ExitClass::Template`]), said
/// as such: not the "file not found" of the data file a run is about.
fn read_key_file(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::new(ExitClass::Template, format!("the key file {} does not exist", path.display())).with_source(e)
        }
        _ => Error::io("cannot read key", path, e, ExitClass::Template),
    })
}

impl HolderKey {
    /// Read a PKCS#8 PEM private key; an encrypted one needs `passphrase`.
    pub fn read(path: &Path, passphrase: Option<&[u8]>) -> Result<Self, Error> {
        let pem = Zeroizing::new(read_key_file(path)?);
        let bad = |what: String| Error::new(ExitClass::Template, format!("{}: {what}", path.display()));
        let encrypted = pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        let key = match (encrypted, passphrase) {
            (true, Some(pass)) => PrivateKey::from_pkcs8_encrypted_pem(pem.trim(), pass)
                .map_err(|_| bad("cannot decrypt the private key: wrong passphrase or damaged key".into()))?,
            (true, None) => {
                let detail = format!("{}: the private key is passphrase-encrypted", path.display());
                return Err(Error::fixed_by(ExitClass::Template, detail, Setting::Passphrase, "; give its passphrase"));
            }
            (false, _) => PrivateKey::from_pkcs8_pem(pem.trim())
                .map_err(|e| bad(format!("not an RSA private key in PKCS#8 PEM form ({e})")))?,
        };
        let public = RecipientKey::from_key(key.to_public_key(), &path.display().to_string())
            .map_err(|e| Error::new(ExitClass::Template, e.to_string()))?;
        Ok(HolderKey { key, aws_lc: None, id: public.id })
    }

    /// Unwrap with AWS-LC from now on (the licensing service: one private-key operation per file it has not seen,
    /// ~3x faster than `rsa`; constant-time and blinded as well). `false`, and `rsa` kept, if AWS-LC refuses the key.
    pub fn use_aws_lc(&mut self) -> bool {
        let Ok(der) = self.key.to_pkcs8_der() else { return false };
        let key = aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(der.as_bytes())
            .ok()
            .and_then(|k| aws_lc_rs::rsa::OaepPrivateDecryptingKey::new(k).ok());
        self.aws_lc = key;
        self.aws_lc.is_some()
    }

    /// Unwrap a content key wrapped by [`RecipientKey::wrap`]. Uses blinding, so timing does not depend on the
    /// private key.
    pub fn unwrap_key(&self, wrapped: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if let Some(key) = &self.aws_lc {
            let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
            let n =
                key.decrypt(&aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256, wrapped, &mut out, Some(OAEP_LABEL)).ok()?.len();
            out.truncate(n);
            return Some(out);
        }
        let padding = Oaep::<Sha256>::new_with_label(OAEP_LABEL);
        self.key.decrypt_blinded(&mut getrandom::SysRng, padding, wrapped).ok().map(Zeroizing::new)
    }
}

/// Files written by [`generate`].
#[derive(Debug)]
pub struct GeneratedPair {
    pub public: PathBuf,
    pub private: PathBuf,
    pub id: String,
}

/// Generate a key pair of `bits` and write `<name>.pub.pem` and `<name>.key.pem` into `dir`, never overwriting.
pub fn generate(dir: &Path, name: &str, bits: usize, passphrase: Option<&[u8]>) -> Result<GeneratedPair, Error> {
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        let detail = format!(" {bits}: {MIN_BITS} to {MAX_BITS} are accepted");
        return Err(Error::about(ExitClass::Usage, Setting::KeyBits, detail));
    }
    if name.is_empty() || name.contains(['/', '\\', ':']) || name.starts_with('.') {
        return Err(Error::about(ExitClass::Usage, Setting::KeyName, format!(" {name:?}: give a plain file name")));
    }
    let public = dir.join(format!("{name}.pub.pem"));
    let private = dir.join(format!("{name}.key.pem"));
    for path in [&public, &private] {
        if path.exists() {
            return Err(Error::new(
                ExitClass::Usage,
                format!("{} already exists; refusing to overwrite a key", path.display()),
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e, ExitClass::Write))?;
    let key = PrivateKey::new(&mut getrandom::SysRng, bits)
        .map_err(|e| Error::new(ExitClass::Internal, format!("RSA key generation failed: {e}")))?;
    let private_pem = match passphrase {
        Some(pass) => encrypted_pem(&key, pass)?,
        None => key.to_pkcs8_pem(LineEnding::LF).map_err(|e| cannot_encode_private(&e))?,
    };
    let public_key = key.to_public_key();
    let public_pem = public_key
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::new(ExitClass::Internal, format!("cannot encode the public key: {e}")))?;
    let id = RecipientKey::from_key(public_key, name).map_err(|e| Error::new(ExitClass::Internal, e.to_string()))?.id;
    // Private key first: if it cannot be written, no orphan public key is left to be put in a template.
    write_new(&private, private_pem.as_bytes(), true)?;
    if let Err(e) = write_new(&public, public_pem.as_bytes(), false) {
        let _ = std::fs::remove_file(&private);
        return Err(e);
    }
    Ok(GeneratedPair { public, private, id })
}

/// scrypt cost of passphrase-encrypted private keys: N = 2^17, r = 8, p = 1 (128 MiB and a fraction of a second per
/// try). pkcs8's own default is N = 2^14, chosen for OpenSSL 3's 32 MiB scrypt memory limit; a stolen key file is
/// attacked offline, so the cost is set here. Keys written with other parameters still open: the parameters are
/// read from the file.
pub const SCRYPT_LOG_N: u8 = 17;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

/// `key` as an `ENCRYPTED PRIVATE KEY` PEM: PKCS#8 PBES2, scrypt ([`SCRYPT_LOG_N`]) and AES-256-CBC.
fn encrypted_pem(key: &PrivateKey, passphrase: &[u8]) -> Result<Zeroizing<String>, Error> {
    use pkcs8::pkcs5::{pbes2, scrypt};
    let fail = |e: &dyn std::fmt::Display| cannot_encode_private(e);
    let der = key.to_pkcs8_der().map_err(|e| fail(&e))?;
    let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_bytes()).map_err(|e| fail(&e))?;
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    getrandom::fill(&mut salt)
        .and_then(|()| getrandom::fill(&mut iv))
        .map_err(|e| fail(&format_args!("OS random source: {e}")))?;
    let cost = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P).map_err(|e| fail(&e))?;
    let params = pbes2::Parameters::generate_scrypt_aes256cbc(cost, &salt, iv).map_err(|e| fail(&e))?;
    let encrypted = info.encrypt_with_params(params, passphrase).map_err(|e| fail(&e))?;
    encrypted.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF).map_err(|e| fail(&e))
}

fn cannot_encode_private(e: &dyn std::fmt::Display) -> Error {
    Error::new(ExitClass::Internal, format!("cannot encode the private key: {e}"))
}

/// Create `path` (failing if it exists) and write `bytes`; `secret` files get mode 0600 where modes exist.
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<(), Error> {
    let mut file =
        crate::platform::create_new(path, secret).map_err(|e| Error::io("cannot create", path, e, ExitClass::Write))?;
    if secret {
        // Before any key byte is written. Windows: an owner-only DACL instead of the folder's inherited one.
        if let Err(e) = crate::platform::restrict_to_owner(&file) {
            let _ = std::fs::remove_file(path);
            return Err(Error::io("cannot restrict access to", path, e, ExitClass::Write));
        }
    }
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("cannot write", path, e, ExitClass::Write))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys").join(name)
    }

    #[test]
    fn aws_lc_unwraps_what_rsa_unwraps_and_refuses_what_it_refuses() {
        let public = RecipientKey::read(&fixture("issuer.pub.pem")).unwrap();
        let plain = HolderKey::read(&fixture("issuer.key.pem"), None).unwrap();
        let mut fast = HolderKey::read(&fixture("issuer.key.pem"), None).unwrap();
        assert!(fast.use_aws_lc());
        let both = |wrapped: &[u8]| {
            let a = plain.unwrap_key(wrapped).map(|k| k.to_vec());
            let b = fast.unwrap_key(wrapped).map(|k| k.to_vec());
            assert_eq!(a, b);
            a
        };
        for n in 0..8u8 {
            let key = [n; 32];
            let wrapped = public.wrap(&key).unwrap();
            assert_eq!(both(&wrapped), Some(key.to_vec()));
            let mut flipped = wrapped.clone();
            flipped[n as usize * 7] ^= 1 << n;
            assert_eq!(both(&flipped), None);
            assert_eq!(both(&wrapped[1..]), None);
        }
        // The OAEP label binds a wrap to this format: a wrap under another label is refused by both.
        let other = Oaep::<Sha256>::new_with_label(b"another protocol".as_slice());
        let foreign = public.key.encrypt(&mut getrandom::SysRng, other, &[1; 32]).unwrap();
        assert_eq!(both(&foreign), None);
        // A wrap for another key, and no bytes at all.
        let stranger = RecipientKey::read(&fixture("stranger.pub.pem")).unwrap();
        assert_eq!(both(&stranger.wrap(&[2; 32]).unwrap()), None);
        assert_eq!(both(&[]), None);
    }
}
