//! Encrypted PDF: the trailer (or, since PDF 1.5, the cross-reference stream's dictionary) that the last
//! `startxref` points to holds an /Encrypt entry. Only the file's tail and that dictionary are read.

use std::fs::File;
use std::io;

use super::{ForeignProtection, Protector, find, read_at, rfind};

/// How much of the file's end is searched for `startxref` and a classic trailer.
const TAIL: u64 = 64 * 1024;
/// How much is read where `startxref` points.
const XREF_WINDOW: u64 = 16 * 1024;

pub(super) fn detect(file: &mut File, len: u64, header: &[u8]) -> io::Result<Option<ForeignProtection>> {
    let tail_start = len.saturating_sub(TAIL);
    let Some(tail) = read_at(file, len, tail_start, len - tail_start, TAIL)? else {
        return Ok(None);
    };
    let mut encrypted = trailers_encrypt(&tail);
    if !encrypted && let Some(offset) = startxref(&tail) {
        let window = XREF_WINDOW.min(len.saturating_sub(offset));
        if let Some(xref) = read_at(file, len, offset, window, XREF_WINDOW)? {
            encrypted = if xref.starts_with(b"xref") {
                trailers_encrypt(&xref)
            } else {
                // A cross-reference stream: its dictionary comes before the `stream` keyword.
                let dict_end = find(&xref, b"stream").unwrap_or(xref.len());
                has_key(&xref[..dict_end], b"/Encrypt")
            };
        }
    }
    if !encrypted {
        return Ok(None);
    }
    let mut found = ForeignProtection::new(Protector::PdfEncryption);
    found.version = header
        .get(5..)
        .map(|rest| rest.iter().take_while(|b| b.is_ascii_digit() || **b == b'.').map(|&b| b as char).collect())
        .filter(|v: &String| !v.is_empty());
    Ok(Some(found))
}

/// The offset after the last `startxref` keyword.
fn startxref(tail: &[u8]) -> Option<u64> {
    let at = rfind(tail, b"startxref")? + b"startxref".len();
    let digits: String = tail[at..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| b as char)
        .collect();
    digits.parse().ok()
}

/// Whether any classic `trailer` dictionary in `bytes` has an /Encrypt entry.
fn trailers_encrypt(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some(at) = find(rest, b"trailer") {
        rest = &rest[at + b"trailer".len()..];
        let end = find(rest, b"startxref").unwrap_or(rest.len());
        if has_key(&rest[..end], b"/Encrypt") {
            return true;
        }
    }
    false
}

/// `key` as a whole name (so `/EncryptMetadata` is not `/Encrypt`).
fn has_key(dict: &[u8], key: &[u8]) -> bool {
    let mut rest = dict;
    while let Some(at) = find(rest, key) {
        let next = rest.get(at + key.len()).copied();
        if !next.is_some_and(|b| b.is_ascii_alphanumeric()) {
            return true;
        }
        rest = &rest[at + key.len()..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_trailers() {
        assert!(has_key(b"<< /Size 5 /Encrypt 4 0 R >>", b"/Encrypt"));
        assert!(!has_key(b"<< /EncryptMetadata false >>", b"/Encrypt"));
        assert!(trailers_encrypt(b"xref\n0 1\ntrailer\n<< /Root 1 0 R /Encrypt 2 0 R >>\nstartxref\n9\n%%EOF"));
        assert!(!trailers_encrypt(b"trailer << /Root 1 0 R >> startxref 9 %%EOF"));
        assert_eq!(startxref(b"...startxref\r\n1234\r\n%%EOF"), Some(1234));
        assert_eq!(startxref(b"no keyword"), None);
    }
}
