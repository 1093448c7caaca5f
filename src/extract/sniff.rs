//! Format sniffing: the first bytes decide (zip, OLE, PDF, RTF magic), the extension only breaks ties between
//! text formats, so a renamed file is still read by the right reader.

use std::path::Path;

use super::text;

/// The reader a file is handed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Plain text in a detected encoding (also CSV, XML, HTML, source code).
    Text,
    /// A zip container: Office Open XML, OpenDocument or a plain archive.
    Zip,
    /// An OLE compound file: legacy Office, or an encrypted Office document.
    Ole,
    Pdf,
    Rtf,
    /// An Internet mail message.
    Eml,
    /// Anything else: printable strings are pulled out.
    Binary,
}

/// Decide the format of a file from `head`, its first bytes (see [`crate::detect::HEAD_LEN`]), and `path`'s
/// extension.
pub fn sniff(head: &[u8], path: &Path) -> Format {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    classify(head, &extension)
}

/// The format for a file starting with `sample`, named with `extension` (lowercase, without the dot).
pub fn classify(sample: &[u8], extension: &str) -> Format {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if sample.starts_with(b"PK\x03\x04") || sample.starts_with(b"PK\x05\x06") {
        return Format::Zip;
    }
    if sample.starts_with(OLE) {
        return Format::Ole;
    }
    // PDF readers accept junk before the header within the first kilobyte.
    if find(&sample[..sample.len().min(1024)], b"%PDF-").is_some() {
        return Format::Pdf;
    }
    if sample.starts_with(b"{\\rtf") {
        return Format::Rtf;
    }
    if text::detect_encoding(sample).is_none() {
        return Format::Binary;
    }
    if extension == "eml" || looks_like_mail(sample) {
        return Format::Eml;
    }
    Format::Text
}

/// A message saved without the .eml extension still starts with mail headers.
fn looks_like_mail(sample: &[u8]) -> bool {
    const FIRST_HEADERS: [&[u8]; 6] =
        [b"received:", b"return-path:", b"mime-version:", b"from:", b"delivered-to:", b"message-id:"];
    let head: Vec<u8> = sample.iter().take(32).map(u8::to_ascii_lowercase).collect();
    FIRST_HEADERS.iter().any(|h| head.starts_with(h)) && find(sample, b"\n\r\n").or(find(sample, b"\n\n")).is_some()
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_wins_over_extension() {
        assert_eq!(classify(b"PK\x03\x04rest", "txt"), Format::Zip);
        assert_eq!(classify(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0], "docx"), Format::Ole);
        assert_eq!(classify(b"junk\n%PDF-1.7\n", "txt"), Format::Pdf);
        assert_eq!(classify(b"{\\rtf1\\ansi hello}", "doc"), Format::Rtf);
    }

    #[test]
    fn text_mail_and_binary() {
        assert_eq!(classify(b"name,card\nAlice,4111\n", "csv"), Format::Text);
        assert_eq!(classify(b"From: a@example.com\nSubject: x\n\nbody\n", "txt"), Format::Eml);
        assert_eq!(classify(b"Subject: x\n\nbody\n", "eml"), Format::Eml);
        assert_eq!(classify(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00", ""), Format::Binary);
    }
}
