//! Microsoft RMS protected files (the PFILE container behind .pfile, .ptxt, .pjpg, ...): the header gives the
//! version, the original extension, the publishing license (XrML: template, issuer, owner, content id) and,
//! from version 2.1, a metadata block that may hold an XMP packet with sensitivity labels.
//!
//! Layout: magic `.pfile`; u32 major and minor version; u32 length and the cleartext redirection text; then
//! u32 header size, extension offset and length, license offset and length, content offset; from 2.1 also a
//! u64 original size and u32 metadata offset and length. All little-endian, offsets from the file start.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use super::{ForeignProtection, Protector, read_at, xrml};

pub(super) const MAGIC: &[u8] = b".pfile";

/// The largest redirection text, publishing license and metadata block read; real ones are a few KiB to
/// a few hundred KiB.
const MAX_REDIRECT: u64 = 64 * 1024;
const MAX_LICENSE: u64 = 4 * 1024 * 1024;
const MAX_METADATA: u64 = 1024 * 1024;

/// Read what the PFILE header tells. The magic alone makes the file RMS-protected; details are best effort.
pub(super) fn detect(file: &mut File, len: u64) -> io::Result<ForeignProtection> {
    let mut found = ForeignProtection::new(Protector::MicrosoftRms);
    let mut fixed = [0u8; 18];
    if file.read_exact(&mut fixed).is_err() {
        return Ok(found);
    }
    let major = u32_at(&fixed, 6);
    let minor = u32_at(&fixed, 10);
    found.version = Some(format!("{major}.{minor}"));
    let redirect_len = u64::from(u32_at(&fixed, 14));
    if redirect_len > MAX_REDIRECT || 18 + redirect_len >= len {
        return Ok(found);
    }
    file.seek(SeekFrom::Start(18 + redirect_len))?;
    let mut header = [0u8; 40];
    let available = file.take(40).read(&mut header)?;
    if available < 24 {
        return Ok(found);
    }
    let field = |i: usize| u64::from(u32_at(&header, i * 4));
    let (ext_offset, ext_len, license_offset, license_len) = (field(1), field(2), field(3), field(4));
    // Version 2.0 headers stop after the content offset; later ones (2.1, 3.0) are 40 bytes or more.
    let has_metadata = field(0) >= 40 && available >= 40;
    let (metadata_offset, metadata_len) = if has_metadata { (field(8), field(9)) } else { (0, 0) };

    if let Some(ext) = read_at(file, len, ext_offset, ext_len, 256)? {
        let ext = String::from_utf8_lossy(&ext).trim_matches(char::from(0)).trim().to_string();
        found.original_extension = (!ext.is_empty()).then_some(ext);
    }
    if let Some(license) = read_at(file, len, license_offset, license_len, MAX_LICENSE)? {
        xrml::apply_license(&license, &mut found);
    }
    if metadata_len > 0
        && let Some(metadata) = read_at(file, len, metadata_offset, metadata_len, MAX_METADATA)?
    {
        found.labels = xrml::labels(&metadata);
    }
    Ok(found)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes).unwrap_or(0)
}
