//! Text extraction: turn a file on disk into a stream of text chunks for the classifier, with bounded memory.
//!
//! The classifier never sees a file, only `&str` chunks pushed into a sink, in document order. Chunks carry no
//! guarantee of ending on a word or line boundary; the classifier keeps its own overlap between chunks.
//!
//! [`extract`] sniffs the format from the first bytes (zip, OLE, PDF, RTF magic), then the extension, and hands
//! the file to one reader per format. Every reader pushes text through [`budget::Budget`], which enforces the
//! [`Limits`]; archive readers also meter decompression through [`zipguard`].

use std::path::Path;

use crate::{Error, ExitClass};

mod archive;
mod budget;
mod eml;
mod odf;
mod ole;
mod ooxml;
mod pdf;
mod rtf;
mod sniff;
mod strings;
mod text;
mod xml;
mod zipguard;

use budget::Budget;
use sniff::Format;

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
    /// Element nesting depth in any XML part (and group nesting in RTF).
    pub max_xml_depth: usize,
    /// Bytes of extracted text handed to the classifier.
    pub max_text_bytes: u64,
    /// Wall-clock seconds for one file. Readers check it as they go; the PDF reader, which cannot be
    /// interrupted, is abandoned on its thread when the time is up.
    pub max_seconds: u64,
    /// Bytes a reader may hold in memory at once: a whole PDF, e-mail or legacy Office stream, a nested archive,
    /// or one XML token. Formats that cannot be streamed are refused above it rather than exhausting memory.
    pub max_buffered_bytes: u64,
    /// Archives nested inside archives (a zip in a zip is depth 2).
    pub max_archive_depth: usize,
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
            max_buffered_bytes: 16 * 1024 * 1024,
            max_archive_depth: 2,
        }
    }
}

/// What extraction found out about the file besides its text.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ExtractInfo {
    /// The format the text was read as: `text/<encoding>` (e.g. `text/utf-8`, `text/utf-16le`,
    /// `text/windows-1252`), `eml`, `docx`, `xlsx`, `pptx`, `odt`, `ods`, `odp`, `odg`, `odf`, `rtf`, `pdf`,
    /// `doc`, `xls`, `ppt`, `ole` (another compound file), `zip` (a plain archive), or `strings`.
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
pub fn extract(path: &Path, limits: &Limits, sink: &mut dyn FnMut(&str)) -> Result<ExtractInfo, Error> {
    let (file, head) = crate::detect::open_regular(path)?;
    extract_after_head(file, head, path, limits, sink)
}

/// Stream the text of `file`, already open (by handle, beneath the task's folder), into `sink`; `path` names it
/// in errors and gives the extension.
pub fn extract_file(
    mut file: std::fs::File,
    path: &Path,
    limits: &Limits,
    sink: &mut dyn FnMut(&str),
) -> Result<ExtractInfo, Error> {
    let mut budget = Budget::new(limits, sink);
    // From the start, whatever read the file before (the header checks share its position).
    let outcome = std::io::Seek::rewind(&mut file)
        .map_err(|e| io_error("cannot read", e))
        .and_then(|()| read_head(&mut file))
        .and_then(|head| read(file, head, path, &mut budget));
    finish(budget, outcome, path)
}

/// Stream the text of `file` into `sink`, going on from `head`, its start, already read (by
/// [`crate::detect::open_regular`]); `file` is positioned just after the head, or anywhere if its first bytes
/// name a format other than text (those readers start from the beginning again). `path` names it in errors and
/// gives the extension.
pub fn extract_after_head(
    file: std::fs::File,
    head: crate::detect::Head,
    path: &Path,
    limits: &Limits,
    sink: &mut dyn FnMut(&str),
) -> Result<ExtractInfo, Error> {
    let mut budget = Budget::new(limits, sink);
    let outcome = read(file, head, path, &mut budget);
    finish(budget, outcome, path)
}

fn read_head(file: &mut std::fs::File) -> Result<crate::detect::Head, Error> {
    let len = file.metadata().map_err(|e| io_error("cannot read", e))?.len();
    crate::detect::Head::read(file, len).map_err(|e| io_error("cannot read", e))
}

fn finish(budget: Budget<'_>, outcome: Result<(String, bool), Error>, path: &Path) -> Result<ExtractInfo, Error> {
    let text_bytes = budget.finish();
    let (format, fallback) = outcome.map_err(|err| err.context(path.display()))?;
    Ok(ExtractInfo { format, fallback, text_bytes })
}

/// Sniff the format from `head` and run its reader; returns the format name and whether it was the strings
/// fallback. Text goes on from the head (a small file is not read again); the other readers start over.
fn read(
    mut file: std::fs::File,
    head: crate::detect::Head,
    path: &Path,
    budget: &mut Budget,
) -> Result<(String, bool), Error> {
    let format = sniff::sniff(head.bytes(), path);
    if format != Format::Text {
        std::io::Seek::rewind(&mut file).map_err(|e| io_error("cannot read", e))?;
    }
    let name = match format {
        Format::Text => {
            let whole = head.is_whole_file();
            return text::read_after(head.into_bytes(), whole, file, budget).map(|enc| (format!("text/{enc}"), false));
        }
        Format::Zip => return archive::read_zip_file(file, budget),
        Format::Ole => return ole::read(file, budget),
        // `%PDF-` near the start does not make a file a PDF: without a PDF's structure (a version header, and a last
        // `startxref` pointing at a cross-reference section) it is read as text, so those bytes cannot keep its content from the rules; a
        // structured PDF the reader cannot parse stays unreadable.
        Format::Pdf if !crate::detect::pdf_structure(&file).map_err(|e| io_error("cannot read", e))? => {
            return text::read(file, budget).map(|enc| (format!("text/{enc}"), false));
        }
        Format::Pdf => pdf::read(file, budget)?,
        Format::Rtf => rtf::read(file, budget)?,
        Format::Eml => eml::read(file, budget)?,
        Format::Binary => {
            strings::read(file, budget)?;
            return Ok(("strings".into(), true));
        }
    };
    Ok((name.into(), false))
}

/// A content problem: the document is corrupt, or a reader refused it.
pub(crate) fn unreadable(message: impl Into<String>) -> Error {
    Error::new(ExitClass::Unreadable, message)
}

/// An I/O failure while reading the file (the path is added by [`extract`]).
pub(crate) fn io_error(doing: &str, err: std::io::Error) -> Error {
    let class = crate::error::io_class(&err, ExitClass::Unreadable);
    Error::new(class, format!("{doing}: {err}")).with_source(err)
}
