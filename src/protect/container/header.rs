//! The container header's binary layout (docs/FORMAT.md, "Header"): magic, version, the cleartext notice, the
//! license, the payload parameters and the header MAC. Reading is bounded: lengths are checked against limits
//! before anything is allocated.

use std::io::{self, Read};

/// First eight bytes of every protected file.
pub const MAGIC: [u8; 8] = *b"FCI-PROT";
/// Format version of a file whose license names no licensing service (written byte for byte as before 1.1).
pub const VERSION: (u8, u8) = (1, 0);
/// Format version of a file whose license has a `<LicenseServer>` (docs/FORMAT.md, "Versions").
pub const VERSION_LICENSE_SERVER: (u8, u8) = (1, 1);
/// Highest minor version of major version 1 this build reads.
pub const MAX_MINOR: u8 = 1;
/// Payload algorithm 1: AES-256-GCM, STREAM segments, keys from HKDF-SHA256.
pub const AEAD_AES256GCM_STREAM: u8 = 1;
/// Segment size written by this build: 2^16 = 64 KiB (measured: docs/PERFORMANCE.md).
pub const SEGMENT_LOG2: u8 = 16;
/// Segment sizes a reader accepts: 2^16 (64 KiB) to 2^20 (1 MiB).
pub const SEGMENT_LOG2_RANGE: std::ops::RangeInclusive<u8> = 16..=20;
/// Longest notice accepted.
pub const MAX_NOTICE: u32 = 16 * 1024;
/// Longest license accepted.
pub const MAX_LICENSE: u32 = 1024 * 1024;
/// Bytes of a header before the notice (magic, version, flags, notice length).
pub const FIXED_PREFIX: usize = 16;

/// Why a header could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("not a file protected by fci-connector")]
    NotProtected,
    #[error("format version {0}.{1} is not supported by this build (it reads {major}.0 to {major}.{MAX_MINOR})", major = VERSION.0)]
    UnsupportedVersion(u8, u8),
    #[error("damaged header: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A parsed header.
#[derive(Clone, Debug)]
pub struct Header {
    /// (major, minor): [`VERSION`] or [`VERSION_LICENSE_SERVER`].
    pub version: (u8, u8),
    pub notice: String,
    pub license_xml: String,
    pub segment_log2: u8,
    pub salt: [u8; 32],
    pub mac: [u8; 32],
    /// The bytes the MAC covers: everything from the magic to the end of the salt.
    pub authenticated: Vec<u8>,
}

impl Header {
    /// Plaintext bytes per segment.
    pub fn segment_size(&self) -> usize {
        1 << self.segment_log2
    }

    /// Total header length in the file: where the payload starts.
    pub fn len(&self) -> u64 {
        (self.authenticated.len() + self.mac.len()) as u64
    }

    /// Never true: a header has at least its fixed fields.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Encode every header field before the MAC, as version 1.0.
    pub fn encode_authenticated(notice: &str, license_xml: &str, segment_log2: u8, salt: &[u8; 32]) -> Vec<u8> {
        Self::encode_authenticated_as(VERSION, notice, license_xml, segment_log2, salt)
    }

    /// Encode every header field before the MAC, with the version `version`.
    pub fn encode_authenticated_as(
        version: (u8, u8),
        notice: &str,
        license_xml: &str,
        segment_log2: u8,
        salt: &[u8; 32],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_PREFIX + notice.len() + license_xml.len() + 40);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&[version.0, version.1, 0, 0]);
        out.extend_from_slice(&(notice.len() as u32).to_le_bytes());
        out.extend_from_slice(notice.as_bytes());
        out.extend_from_slice(&(license_xml.len() as u32).to_le_bytes());
        out.extend_from_slice(license_xml.as_bytes());
        out.extend_from_slice(&[AEAD_AES256GCM_STREAM, segment_log2, 0, 0]);
        out.extend_from_slice(salt);
        out
    }

    /// Read a header from the start of `r`, leaving `r` at the first payload byte.
    pub fn read<R: Read>(r: &mut R) -> Result<Header, HeaderError> {
        let mut auth = Vec::new();
        let mut fixed = [0u8; FIXED_PREFIX];
        read_exact(r, &mut fixed, "fixed header").map_err(|e| match e {
            HeaderError::Corrupt(_) => HeaderError::NotProtected,
            other => other,
        })?;
        if fixed[..8] != MAGIC {
            return Err(HeaderError::NotProtected);
        }
        if fixed[8] != VERSION.0 || fixed[9] > MAX_MINOR {
            return Err(HeaderError::UnsupportedVersion(fixed[8], fixed[9]));
        }
        if fixed[10..12] != [0, 0] {
            return Err(HeaderError::Corrupt("reserved flags are set".into()));
        }
        auth.extend_from_slice(&fixed);
        let notice_len = u32::from_le_bytes([fixed[12], fixed[13], fixed[14], fixed[15]]);
        let notice = read_text(r, notice_len, MAX_NOTICE, "notice", &mut auth)?;
        let mut len = [0u8; 4];
        read_exact(r, &mut len, "license length")?;
        auth.extend_from_slice(&len);
        let license_xml = read_text(r, u32::from_le_bytes(len), MAX_LICENSE, "license", &mut auth)?;
        let mut params = [0u8; 4 + 32];
        read_exact(r, &mut params, "payload parameters")?;
        auth.extend_from_slice(&params);
        if params[0] != AEAD_AES256GCM_STREAM {
            return Err(HeaderError::Corrupt(format!("unknown payload algorithm {}", params[0])));
        }
        let segment_log2 = params[1];
        if !SEGMENT_LOG2_RANGE.contains(&segment_log2) {
            return Err(HeaderError::Corrupt(format!("segment size 2^{segment_log2} is outside 2^16..2^20")));
        }
        if params[2..4] != [0, 0] {
            return Err(HeaderError::Corrupt("reserved payload bytes are set".into()));
        }
        let mut salt = [0u8; 32];
        salt.copy_from_slice(&params[4..]);
        let mut mac = [0u8; 32];
        read_exact(r, &mut mac, "header MAC")?;
        Ok(Header { version: (fixed[8], fixed[9]), notice, license_xml, segment_log2, salt, mac, authenticated: auth })
    }
}

fn read_exact<R: Read>(r: &mut R, buf: &mut [u8], what: &str) -> Result<(), HeaderError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => HeaderError::Corrupt(format!("the file ends inside the {what} (truncated)")),
        _ => HeaderError::Io(e),
    })
}

fn read_text<R: Read>(r: &mut R, len: u32, max: u32, what: &str, auth: &mut Vec<u8>) -> Result<String, HeaderError> {
    if len > max {
        return Err(HeaderError::Corrupt(format!("{what} length {len} exceeds the limit of {max} bytes")));
    }
    let mut buf = vec![0u8; len as usize];
    read_exact(r, &mut buf, what)?;
    auth.extend_from_slice(&buf);
    String::from_utf8(buf).map_err(|_| HeaderError::Corrupt(format!("the {what} is not UTF-8")))
}

/// True when `prefix` (the first bytes of a file) starts like a protected file.
pub fn has_magic(prefix: &[u8]) -> bool {
    prefix.starts_with(&MAGIC)
}
