//! Encrypted PDF: a PDF header, a last `startxref` (followed by `%%EOF`) pointing at a cross-reference section —
//! a classic `xref` table with its `trailer` dictionary, or (since PDF 1.5) a cross-reference stream whose
//! dictionary says `/Type /XRef` — and that trailer referring to an encryption dictionary with `/Encrypt`. For a
//! classic table the referred object is looked up through the table and must be a dictionary with a `/Filter`.
//! Only the header, the file's tail, the cross-reference section and that object are read.
//!
//! A file that merely contains the bytes `%PDF-` and `/Encrypt` (a text file, say) is not an encrypted PDF: it is
//! classified like any file, so those bytes cannot exempt plaintext from the policy.

use std::fs::File;
use std::io;

use super::{ForeignProtection, Protector, find, read_at, rfind};

/// How much of the file's end is searched for `startxref`.
const TAIL: u64 = 64 * 1024;
/// How much is read where `startxref` points.
const XREF_WINDOW: u64 = 256 * 1024;
/// How much is read where the encryption dictionary is.
const OBJECT_WINDOW: u64 = 16 * 1024;

/// `header_at`: where `%PDF-` is (readers accept some bytes before it, and then offsets may count from it).
pub(super) fn detect(
    file: &mut File,
    len: u64,
    header_at: u64,
    header: &[u8],
) -> io::Result<Option<ForeignProtection>> {
    let Some(version) = version(header) else { return Ok(None) };
    let tail_start = len.saturating_sub(TAIL);
    let Some(tail) = read_at(file, len, tail_start, len - tail_start, TAIL)? else {
        return Ok(None);
    };
    let Some(offset) = startxref(&tail) else { return Ok(None) };
    let mut encrypted = false;
    for base in [0, header_at] {
        let Some(at) = offset.checked_add(base) else { continue };
        let window = XREF_WINDOW.min(len.saturating_sub(at));
        let Some(xref) = read_at(file, len, at, window, XREF_WINDOW)? else { continue };
        encrypted = match xref_section(&xref) {
            Some(Section::Table { trailer, table }) => match encrypt_entry(trailer) {
                Some(Encrypt::Direct(dict)) => has_key(dict, b"/Filter"),
                Some(Encrypt::Reference(number, generation)) => match object_offset(table, number) {
                    Some(object_at) => {
                        let object_at = object_at.saturating_add(base);
                        let window = OBJECT_WINDOW.min(len.saturating_sub(object_at));
                        read_at(file, len, object_at, window, OBJECT_WINDOW)?
                            .is_some_and(|object| is_encryption_object(&object, number, generation))
                    }
                    None => false,
                },
                None => false,
            },
            Some(Section::Stream { dict }) => encrypt_entry(dict).is_some(),
            None => false,
        };
        if encrypted || base == header_at {
            break;
        }
    }
    if !encrypted {
        return Ok(None);
    }
    let mut found = ForeignProtection::new(Protector::PdfEncryption);
    found.version = Some(version);
    Ok(Some(found))
}

/// Whether `file` (of `len` bytes) has a PDF's outer structure: a `%PDF-M.m` header in its first KiB and a last
/// `startxref` (followed by `%%EOF`) that points at a cross-reference section. Leaves the file position where it was not: callers seek.
pub(super) fn has_structure(file: &mut File, len: u64) -> io::Result<bool> {
    let head_len = len.min(1024);
    let Some(head) = read_at(file, len, 0, head_len, 1024)? else { return Ok(false) };
    let Some(at) = find(&head, b"%PDF-") else { return Ok(false) };
    if version(&head[at..]).is_none() {
        return Ok(false);
    }
    let tail_start = len.saturating_sub(TAIL);
    let Some(tail) = read_at(file, len, tail_start, len - tail_start, TAIL)? else { return Ok(false) };
    let Some(offset) = startxref(&tail) else { return Ok(false) };
    // `startxref` must point at a cross-reference section (offsets count from the file's start, or from the
    // header where bytes precede it): text that merely ends like a PDF is not one.
    for base in [0, at as u64] {
        let Some(xref_at) = offset.checked_add(base) else { continue };
        let window = XREF_WINDOW.min(len.saturating_sub(xref_at));
        if read_at(file, len, xref_at, window, XREF_WINDOW)?.is_some_and(|bytes| xref_section(&bytes).is_some()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The version of a `%PDF-M.m` header, if `header` starts with one.
fn version(header: &[u8]) -> Option<String> {
    let rest = header.strip_prefix(b"%PDF-")?;
    let version: String = rest.iter().take_while(|b| b.is_ascii_digit() || **b == b'.').map(|&b| b as char).collect();
    let (major, minor) = version.split_once('.')?;
    (!major.is_empty() && !minor.is_empty() && !minor.contains('.')).then_some(version)
}

/// The offset after the last `startxref` keyword, when `%%EOF` follows it.
fn startxref(tail: &[u8]) -> Option<u64> {
    let at = rfind(tail, b"startxref")? + b"startxref".len();
    let rest = skip_space(&tail[at..]);
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || !skip_space(&rest[digits..]).starts_with(b"%%EOF") {
        return None;
    }
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// A cross-reference section, as found where `startxref` points.
enum Section<'a> {
    /// A classic table: its entries, and the trailer dictionary after it.
    Table { table: &'a [u8], trailer: &'a [u8] },
    /// A cross-reference stream: its dictionary.
    Stream { dict: &'a [u8] },
}

fn xref_section(bytes: &[u8]) -> Option<Section<'_>> {
    let bytes = skip_space(bytes);
    if let Some(rest) = bytes.strip_prefix(b"xref") {
        let end = find(rest, b"trailer")?;
        let table = &rest[..end];
        // Entries are digits, spaces, line ends and the `n`/`f` flags, nothing else.
        if !table.iter().all(|b| b.is_ascii_digit() || b.is_ascii_whitespace() || matches!(b, b'n' | b'f')) {
            return None;
        }
        let trailer = dictionary(&rest[end + b"trailer".len()..])?;
        return Some(Section::Table { table, trailer });
    }
    let (_, _, rest) = object_header(bytes)?;
    let dict = dictionary(rest)?;
    let kind = find(dict, b"/Type").map(|at| skip_space(&dict[at + b"/Type".len()..]));
    kind.is_some_and(|k| k.starts_with(b"/XRef")).then_some(Section::Stream { dict })
}

/// `N G obj` at the start of `bytes`: the object number, generation and what follows.
fn object_header(bytes: &[u8]) -> Option<(u64, u64, &[u8])> {
    let (number, rest) = integer(skip_space(bytes))?;
    let (generation, rest) = integer(skip_space(rest))?;
    let rest = skip_space(rest).strip_prefix(b"obj")?;
    Some((number, generation, rest))
}

fn integer(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let value = std::str::from_utf8(&bytes[..digits]).ok()?.parse().ok()?;
    Some((value, &bytes[digits..]))
}

fn skip_space(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().take_while(|b| b.is_ascii_whitespace() || **b == 0).count();
    &bytes[n..]
}

/// The dictionary `<< … >>` at the start of `bytes` (after white space), nested dictionaries included.
fn dictionary(bytes: &[u8]) -> Option<&[u8]> {
    let bytes = skip_space(bytes);
    if !bytes.starts_with(b"<<") {
        return None;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match &bytes[i..i + 2] {
            b"<<" => {
                depth += 1;
                i += 2;
            }
            b">>" => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(&bytes[..i]);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// What a trailer's `/Encrypt` entry holds.
enum Encrypt<'a> {
    Reference(u64, u64),
    Direct(&'a [u8]),
}

fn encrypt_entry(dict: &[u8]) -> Option<Encrypt<'_>> {
    let at = key_at(dict, b"/Encrypt")?;
    let value = skip_space(&dict[at + b"/Encrypt".len()..]);
    if let Some(direct) = dictionary(value) {
        return Some(Encrypt::Direct(direct));
    }
    let (number, rest) = integer(value)?;
    let (generation, rest) = integer(skip_space(rest))?;
    skip_space(rest).starts_with(b"R").then_some(Encrypt::Reference(number, generation))
}

/// The offset of object `number` in a classic table (`first count` subsection lines, 20-byte entries).
fn object_offset(table: &[u8], number: u64) -> Option<u64> {
    let mut words = table.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty());
    while let (Some(first), Some(count)) = (words.next(), words.next()) {
        let first: u64 = std::str::from_utf8(first).ok()?.parse().ok()?;
        let count: u64 = std::str::from_utf8(count).ok()?.parse().ok()?;
        for i in 0..count {
            let (offset, _generation, kind) = (words.next()?, words.next()?, words.next()?);
            if first.checked_add(i) == Some(number) {
                return (kind == b"n").then(|| std::str::from_utf8(offset).ok()?.parse().ok())?;
            }
        }
    }
    None
}

/// `N G obj << … /Filter … >>`: the encryption dictionary the trailer refers to.
fn is_encryption_object(bytes: &[u8], number: u64, generation: u64) -> bool {
    object_header(bytes)
        .filter(|(n, g, _)| (*n, *g) == (number, generation))
        .and_then(|(_, _, rest)| dictionary(rest))
        .is_some_and(|dict| has_key(dict, b"/Filter"))
}

/// Where `key` is as a whole name (so `/EncryptMetadata` is not `/Encrypt`).
fn key_at(dict: &[u8], key: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find(&dict[from..], key) {
        let end = from + at + key.len();
        if !dict.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
            return Some(from + at);
        }
        from = end;
    }
    None
}

fn has_key(dict: &[u8], key: &[u8]) -> bool {
    key_at(dict, key).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_dictionaries_and_startxref() {
        assert!(has_key(b"<< /Size 5 /Encrypt 4 0 R >>", b"/Encrypt"));
        assert!(!has_key(b"<< /EncryptMetadata false >>", b"/Encrypt"));
        assert_eq!(dictionary(b" << /A << /B 1 >> /C 2 >> rest"), Some(&b"<< /A << /B 1 >> /C 2 >>"[..]));
        assert_eq!(dictionary(b"<< /A 1"), None);
        assert_eq!(startxref(b"...startxref\r\n1234\r\n%%EOF\r\n"), Some(1234));
        assert_eq!(startxref(b"startxref 1234 and then some text"), None);
        assert_eq!(startxref(b"no keyword"), None);
        assert_eq!(version(b"%PDF-1.7\n"), Some("1.7".into()));
        assert_eq!(version(b"%PDF- and /Encrypt"), None);
    }

    #[test]
    fn trailer_must_refer_to_an_object_listed_in_the_table() {
        let table = b"\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000057 00000 n \n";
        assert_eq!(object_offset(table, 2), Some(57));
        assert_eq!(object_offset(table, 0), None);
        assert_eq!(object_offset(table, 3), None);
        let Some(Section::Table { trailer, .. }) =
            xref_section(b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Encrypt 2 0 R >>")
        else {
            panic!("a table")
        };
        assert!(matches!(encrypt_entry(trailer), Some(Encrypt::Reference(2, 0))));
        assert!(xref_section(b"xref SSN 123-45-6789 trailer << /Encrypt 2 0 R >>").is_none());
        assert!(is_encryption_object(b"2 0 obj\n<< /Filter /Standard /V 2 >>\nendobj", 2, 0));
        assert!(!is_encryption_object(b"3 0 obj\n<< /Filter /Standard >>", 2, 0));
        assert!(matches!(
            xref_section(b"12 0 obj\n<< /Type /XRef /Encrypt 3 0 R /W [1 2 1] >>\nstream"),
            Some(Section::Stream { .. })
        ));
        assert!(xref_section(b"12 0 obj\n<< /Type /Catalog /Encrypt 3 0 R >>").is_none());
    }
}
