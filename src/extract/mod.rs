//! Text extraction: turn a file on disk into a stream of text chunks for the classifier, with bounded memory.
//!
//! The classifier never sees a file, only `&str` chunks pushed into a sink, in document order. Chunks carry no
//! guarantee of ending on a word or line boundary; the classifier keeps its own overlap between chunks.

use std::io::Read;
use std::path::Path;

use crate::{Error, ExitClass};

/// Limits that bound what one file may cost to read. Over any of them, the file is "content unreadable".
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Total bytes decompressed from all archive entries of one document.
    pub max_decompressed_bytes: u64,
    /// Entries in one archive.
    pub max_entries: usize,
    /// Decompressed size / compressed size of one entry.
    pub max_compression_ratio: u64,
    /// Element nesting depth in any XML part.
    pub max_xml_depth: usize,
    /// Bytes of extracted text handed to the classifier.
    pub max_text_bytes: u64,
    /// Wall-clock seconds for one file.
    pub max_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decompressed_bytes: 512 * 1024 * 1024,
            max_entries: 10_000,
            max_compression_ratio: 200,
            max_xml_depth: 256,
            max_text_bytes: 256 * 1024 * 1024,
            max_seconds: 60,
        }
    }
}

/// What extraction found out about the file besides its text.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ExtractInfo {
    /// The format the text was read as, e.g. `text/utf-8`, `docx`, `pdf`, `strings`.
    pub format: String,
    /// True when no real reader applied and printable runs were pulled out instead.
    pub fallback: bool,
    /// Bytes of text handed to the sink.
    pub text_bytes: u64,
}

/// Stream the text of `path` into `sink`.
///
/// Errors name the file and the cause; content problems (corrupt document, a limit reached) carry
/// [`ExitClass::Unreadable`], I/O problems their own class.
pub fn extract(
    path: &Path,
    limits: &Limits,
    sink: &mut dyn FnMut(&str),
) -> Result<ExtractInfo, Error> {
    // Interim reader: UTF-8 text only (replaced by the format dispatch).
    let mut file = std::fs::File::open(path)
        .map_err(|e| Error::io("cannot open", path, e, ExitClass::Unreadable))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut info = ExtractInfo {
        format: "text/utf-8".into(),
        ..Default::default()
    };
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("cannot read", path, e, ExitClass::Unreadable))?;
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&buf[..n]);
        let valid = match std::str::from_utf8(&carry) {
            Ok(s) => s.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = String::from_utf8_lossy(&carry[..valid]).into_owned();
        info.text_bytes += text.len() as u64;
        if info.text_bytes > limits.max_text_bytes {
            return Err(Error::new(
                ExitClass::Unreadable,
                format!(
                    "{}: extracted text exceeds max_text_bytes ({})",
                    path.display(),
                    limits.max_text_bytes
                ),
            ));
        }
        sink(&text);
        carry.drain(..valid.max(carry.len().saturating_sub(3)));
    }
    Ok(info)
}
