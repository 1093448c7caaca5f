//! The protected-file container, format v1 (docs/FORMAT.md): a cleartext notice and license, the content key
//! wrapped to each recipient, a header MAC, and an AES-256-GCM STREAM payload.
//!
//! [`seal`] writes a container from a plaintext stream; [`Envelope::read`] reads the header and license without
//! any key (for `status`); [`Envelope::open`] unwraps the content key with a holder's private key, checks the
//! header MAC, and streams verified plaintext out.

pub mod header;
pub mod keyschedule;
pub mod license;
pub mod stream;

use std::io::{self, Read, Write};

use self::header::{Header, HeaderError};
use self::keyschedule::{ContentKey, FileKeys};
use self::license::License;
use self::stream::StreamError;
use super::keys::HolderKey;

/// Why a container could not be read or opened.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("damaged license: {0}")]
    License(crate::xml::XmlError),
    #[error("this key ({key}) is not a recipient; recipients: {recipients}")]
    NotRecipient { key: String, recipients: String },
    #[error("integrity check failed: the content key does not unwrap (the license was altered or the key is wrong)")]
    Unwrap,
    #[error("integrity check failed: the header was altered")]
    HeaderMac,
    #[error("integrity check failed: {0}")]
    Payload(StreamError),
    #[error(
        "the file is {actual} bytes, but a container of the {original}-byte original its license records is {expected} \
         bytes (truncated, or bytes added after its header)"
    )]
    Layout { actual: u64, expected: u64, original: u64 },
    #[error("damaged header: {0}")]
    VersionMismatch(&'static str),
    #[error(transparent)]
    Io(io::Error),
}

impl From<StreamError> for ContainerError {
    fn from(e: StreamError) -> Self {
        match e {
            StreamError::Io(io) => ContainerError::Io(io),
            other => ContainerError::Payload(other),
        }
    }
}

/// The text a person sees first when opening a protected file in an editor.
pub fn notice(template_name: &str, original_name: &str) -> String {
    format!(
        "\r\n\r\nThis file is protected by fci-connector.\r\n\
         Original file: {original_name}\r\n\
         Template: {template_name}\r\n\
         Its content is encrypted. A holder of a key named in its license can open it with:\r\n\
         \x20   fci-connector unprotect \"<this file>\" --key <private key file>\r\n\
         Ask your file server administrator.\r\n\r\n"
    )
}

/// The length of a whole container: `header_len` bytes of header, then the payload of an `original`-byte plaintext
/// in segments of `2^segment_log2` bytes, each followed by its tag (an empty plaintext is one empty segment).
/// `None` on overflow (no such file can exist).
pub fn container_len(header_len: u64, original: u64, segment_log2: u8) -> Option<u64> {
    let segment = 1u64.checked_shl(u32::from(segment_log2))?;
    let segments = original.div_ceil(segment).max(1);
    header_len.checked_add(original)?.checked_add(segments.checked_mul(stream::TAG_LEN as u64)?)
}

/// What a look at a file's start tells, without any key.
#[derive(Debug)]
pub enum Examined {
    /// Not an fci-connector container: it does not start with the magic.
    NotOurs,
    /// A whole container: the header parses, the license is well formed, and the file is exactly as long as the
    /// license's original size makes a container.
    Whole(Box<Envelope>),
    /// Starts with the magic but is not a whole container; why. Such a file is treated like any other file, so a
    /// planted header cannot exempt plaintext from the policy.
    Damaged(String),
}

/// Examine the file read by `r` (from its start), `file_len` bytes long. Errors are I/O failures only.
pub fn examine<R: Read>(r: &mut R, file_len: u64) -> io::Result<Examined> {
    let envelope = match Envelope::read(r) {
        Ok(envelope) => envelope,
        Err(ContainerError::Header(HeaderError::NotProtected)) => return Ok(Examined::NotOurs),
        Err(ContainerError::Header(HeaderError::Io(e)) | ContainerError::Io(e)) => return Err(e),
        Err(other) => return Ok(Examined::Damaged(other.to_string())),
    };
    let original = envelope.license.original_size;
    match container_len(envelope.header.len(), original, envelope.header.segment_log2) {
        Some(expected) if expected == file_len => Ok(Examined::Whole(Box::new(envelope))),
        expected => Ok(Examined::Damaged(
            ContainerError::Layout { actual: file_len, expected: expected.unwrap_or(u64::MAX), original }.to_string(),
        )),
    }
}

/// What [`seal`] needs besides the plaintext.
pub struct SealParams<'a> {
    pub license: &'a License,
    pub content_key: &'a ContentKey,
    pub salt: [u8; 32],
    pub segment_log2: u8,
    pub notice: String,
}

/// The format version a license is written in: 1.1 when it names a licensing service, else 1.0 (so files without
/// one are byte for byte what earlier builds wrote).
pub fn version_for(license: &License) -> (u8, u8) {
    if license.license_server.is_some() { header::VERSION_LICENSE_SERVER } else { header::VERSION }
}

/// The whole header of the container [`seal`] writes, MAC included: what [`Envelope::header_bytes`] returns for it.
pub fn header_bytes(params: &SealParams<'_>) -> Vec<u8> {
    encode_header(&FileKeys::derive(params.content_key, &params.salt), params)
}

fn encode_header(keys: &FileKeys, params: &SealParams<'_>) -> Vec<u8> {
    let license = params.license;
    let mut out = Header::encode_authenticated_as(
        version_for(license),
        &params.notice,
        &license.to_xml(),
        params.segment_log2,
        &params.salt,
    );
    let mac = keys.header_mac(&out);
    out.extend_from_slice(&mac);
    out
}

/// Write a complete container for `input` to `output`. Returns the plaintext length.
pub fn seal<R: Read, W: Write + Send>(params: &SealParams<'_>, input: R, output: &mut W) -> io::Result<u64> {
    let keys = FileKeys::derive(params.content_key, &params.salt);
    output.write_all(&encode_header(&keys, params))?;
    stream::seal(&keys.payload, 1 << params.segment_log2, input, output)
}

/// A 1.0 header must not carry a `<LicenseServer>` (1.0 had none: a 1.0 reader would not know the term), and a 1.1
/// header must carry one.
fn check_version(header: &Header, license: &License) -> Result<(), ContainerError> {
    match (header.version, license.license_server.is_some()) {
        (header::VERSION, true) => Err(ContainerError::VersionMismatch(
            "a format 1.0 license cannot name a licensing service (<LicenseServer>)",
        )),
        (header::VERSION_LICENSE_SERVER, false) => {
            Err(ContainerError::VersionMismatch("a format 1.1 license must name a licensing service (<LicenseServer>)"))
        }
        _ => Ok(()),
    }
}

/// A container's header and license, read without any key.
#[derive(Debug)]
pub struct Envelope {
    pub header: Header,
    pub license: License,
}

impl Envelope {
    /// Read the header and license from the start of `r`, leaving `r` at the payload.
    pub fn read<R: Read>(r: &mut R) -> Result<Envelope, ContainerError> {
        let header = Header::read(r)?;
        Envelope::from_header(header)
    }

    /// The envelope of a header already read ([`Header::read`]): its license parsed and checked against the
    /// header's version.
    pub fn from_header(header: Header) -> Result<Envelope, ContainerError> {
        let license = License::parse(&header.license_xml).map_err(ContainerError::License)?;
        check_version(&header, &license)?;
        Ok(Envelope { header, license })
    }

    /// Key ids of the recipients, comma-separated.
    pub fn recipient_ids(&self) -> String {
        self.license.wraps.iter().map(|w| w.key_id.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// Unwrap the content key with `holder`, verify the header, then decrypt the payload from `payload` (positioned
    /// right after the header) into `output`. Nothing written to `output` may be trusted unless this returns `Ok`.
    pub fn open<R: Read, W: Write>(
        &self,
        holder: &HolderKey,
        payload: R,
        output: &mut W,
    ) -> Result<u64, ContainerError> {
        let keys = self.file_keys(holder)?;
        stream::open(&keys.payload, self.header.segment_size(), payload, output).map_err(ContainerError::from)
    }

    /// The content key, unwrapped with `holder`, once the header MAC has verified with it: what the licensing
    /// service releases. A failed unwrap and a failed MAC are told apart here; the service must not tell them apart
    /// to its clients (docs/SERVICE.md).
    pub fn content_key(&self, holder: &HolderKey) -> Result<ContentKey, ContainerError> {
        let content_key = self.unwrap_content_key(holder)?;
        self.verified_keys(&content_key)?;
        Ok(content_key)
    }

    /// Verify the header with a content key obtained elsewhere (a use license), then decrypt the payload from
    /// `payload` into `output`, as [`Envelope::open`] does.
    pub fn open_with_content_key<R: Read, W: Write>(
        &self,
        content_key: &ContentKey,
        payload: R,
        output: &mut W,
    ) -> Result<u64, ContainerError> {
        let keys = self.verified_keys(content_key)?;
        stream::open(&keys.payload, self.header.segment_size(), payload, output).map_err(ContainerError::from)
    }

    /// Seal new content under this container's license and content key (the reader saving an edit): the same license
    /// (content id, template, owner, rights, expiry, key wraps) but for `size` bytes of plaintext, the same notice
    /// and segment size, and a fresh salt, so no payload key or nonce of the old content is used again. The content
    /// key must verify the header first. Returns the plaintext length written, which the caller compares with
    /// `size` (the whole container is void if they differ).
    pub fn seal_again<R: Read, W: Write + Send>(
        &self,
        content_key: &ContentKey,
        size: u64,
        input: R,
        output: &mut W,
    ) -> Result<u64, ContainerError> {
        self.verified_keys(content_key)?;
        let license = License { original_size: size, ..self.license.clone() };
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt)
            .map_err(|e| ContainerError::Io(io::Error::other(format!("the OS random source failed: {e}"))))?;
        let params = SealParams {
            license: &license,
            content_key,
            salt,
            segment_log2: self.header.segment_log2,
            notice: self.header.notice.clone(),
        };
        seal(&params, input, output).map_err(ContainerError::Io)
    }

    /// The header exactly as the file holds it, MAC included: the license block a reader sends to the service.
    pub fn header_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header.authenticated.len() + self.header.mac.len());
        out.extend_from_slice(&self.header.authenticated);
        out.extend_from_slice(&self.header.mac);
        out
    }

    /// The derived keys, after unwrapping and checking the header MAC.
    fn file_keys(&self, holder: &HolderKey) -> Result<FileKeys, ContainerError> {
        let content_key = self.unwrap_content_key(holder)?;
        self.verified_keys(&content_key)
    }

    fn verified_keys(&self, content_key: &ContentKey) -> Result<FileKeys, ContainerError> {
        let keys = FileKeys::derive(content_key, &self.header.salt);
        if !keys.verify_header(&self.header.authenticated, &self.header.mac) {
            return Err(ContainerError::HeaderMac);
        }
        Ok(keys)
    }

    fn unwrap_content_key(&self, holder: &HolderKey) -> Result<ContentKey, ContainerError> {
        let unwrapped = match self.license.wraps.iter().find(|w| w.key_id == holder.id) {
            Some(wrap) => holder.unwrap_key(&wrap.wrapped).ok_or(ContainerError::Unwrap)?,
            // No key id matches. If a wrap still opens with this key, its key id was altered: let the header MAC
            // report the tampering rather than calling the key a stranger.
            None => self.license.wraps.iter().find_map(|w| holder.unwrap_key(&w.wrapped)).ok_or_else(|| {
                ContainerError::NotRecipient { key: holder.id.clone(), recipients: self.recipient_ids() }
            })?,
        };
        Ok(ContentKey(<[u8; 32]>::try_from(unwrapped.as_slice()).map_err(|_| ContainerError::Unwrap)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_len_follows_the_segment_layout() {
        assert_eq!(container_len(100, 0, 16), Some(116));
        assert_eq!(container_len(100, 12, 16), Some(128));
        assert_eq!(container_len(100, 65536, 16), Some(100 + 65536 + 16));
        assert_eq!(container_len(100, 2 * 65536 + 100, 16), Some(100 + 2 * 65536 + 100 + 48));
        assert_eq!(container_len(100, u64::MAX, 16), None);
        assert_eq!(container_len(0, 1, 200), None);
    }

    fn license(server: Option<&str>) -> License {
        License {
            content_id: uuid::Uuid::from_u128(1),
            template_id: uuid::Uuid::from_u128(2),
            template_name: "T".into(),
            owner: None,
            issued: time::macros::datetime!(2026-11-28 10:00:00 UTC),
            valid_until: None,
            offline_days: None,
            license_server: server.map(str::to_string),
            original_name: "a.txt".into(),
            original_size: 3,
            grants: Vec::new(),
            wraps: vec![license::KeyWrap { key_id: "ab".repeat(32), role: "issuer".into(), wrapped: vec![1] }],
        }
    }

    fn sealed(license: &License) -> Vec<u8> {
        let params = SealParams {
            license,
            content_key: &ContentKey([9; 32]),
            salt: [3; 32],
            segment_log2: header::SEGMENT_LOG2,
            notice: notice("T", "a.txt"),
        };
        let mut out = Vec::new();
        seal(&params, &b"abc"[..], &mut out).unwrap();
        assert_eq!(out[..header_bytes(&params).len()], header_bytes(&params)[..]);
        out
    }

    #[test]
    fn the_version_follows_the_license_server() {
        let plain = sealed(&license(None));
        assert_eq!(plain[8..10], [1, 0]);
        let with = sealed(&license(Some("https://rms.contoso.com/")));
        assert_eq!(with[8..10], [1, 1]);
        for bytes in [&plain, &with] {
            let envelope = Envelope::read(&mut bytes.as_slice()).unwrap();
            assert_eq!(envelope.header_bytes(), bytes[..envelope.header.len() as usize]);
            let mut out = Vec::new();
            envelope
                .open_with_content_key(&ContentKey([9; 32]), &bytes[envelope.header.len() as usize..], &mut out)
                .unwrap();
            assert_eq!(out, b"abc");
        }
        assert_eq!(
            Envelope::read(&mut with.as_slice()).unwrap().license.license_server.as_deref(),
            Some("https://rms.contoso.com/")
        );
    }

    #[test]
    fn sealed_again_keeps_the_license_and_key_with_a_fresh_salt() {
        let with = sealed(&license(Some("https://rms.contoso.com/")));
        let envelope = Envelope::read(&mut with.as_slice()).unwrap();
        let mut again = Vec::new();
        assert_eq!(envelope.seal_again(&ContentKey([9; 32]), 5, &b"edits"[..], &mut again).unwrap(), 5);
        let resealed = Envelope::read(&mut again.as_slice()).unwrap();
        assert_eq!(resealed.license, License { original_size: 5, ..envelope.license.clone() });
        assert_eq!(resealed.header.notice, envelope.header.notice);
        assert_eq!(resealed.header.version, envelope.header.version);
        assert_ne!(resealed.header.salt, envelope.header.salt);
        let mut out = Vec::new();
        let payload = &again[resealed.header.len() as usize..];
        resealed.open_with_content_key(&ContentKey([9; 32]), payload, &mut out).unwrap();
        assert_eq!(out, b"edits");
        // Only with the file's own content key.
        let err = envelope.seal_again(&ContentKey([8; 32]), 5, &b"edits"[..], &mut Vec::new()).unwrap_err();
        assert!(matches!(err, ContainerError::HeaderMac), "{err}");
    }

    #[test]
    fn a_version_that_does_not_match_the_license_is_refused() {
        let mut with = sealed(&license(Some("https://rms.contoso.com/")));
        with[9] = 0;
        let e = Envelope::read(&mut with.as_slice()).unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("1.0"), "{e}");
        let mut without = sealed(&license(None));
        without[9] = 1;
        let e = Envelope::read(&mut without.as_slice()).unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("1.1"), "{e}");
        without[9] = 2;
        let e = Envelope::read(&mut without.as_slice()).unwrap_err().to_string();
        assert!(e.contains("1.2 is not supported"), "{e}");
    }
}
