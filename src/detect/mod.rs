//! Foreign protection: recognise files that another product already protects, so they are reported
//! (`status`: protected-by-other) and never wrapped a second time (`protect` skips them).
//!
//! Detection reads only the few structures it needs (a header, a trailer, a zip central directory, the streams
//! of an OLE directory), never the content, so it is cheap enough to run for every file. Hostile or corrupt
//! input never panics: what cannot be parsed is simply not reported in detail.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::{Error, ExitClass};

pub use head::{HEAD_LEN, Head, open_regular};

mod head;
mod office;
mod pdf;
mod pfile;
mod xrml;
mod zip;

/// The product or mechanism that protects a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protector {
    /// A Microsoft Rights Management protected file (PFILE container: .pfile, .ptxt, .pjpg, ...).
    MicrosoftRms,
    /// An Office document protected with Information Rights Management.
    OfficeIrm,
    /// An Office document encrypted with a password.
    OfficePassword,
    /// A PDF with an /Encrypt dictionary.
    PdfEncryption,
    /// A zip archive whose entries are encrypted.
    ZipEncryption,
}

impl Protector {
    /// The name used in output and logs, e.g. `microsoft-rms`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protector::MicrosoftRms => "microsoft-rms",
            Protector::OfficeIrm => "office-irm",
            Protector::OfficePassword => "office-password",
            Protector::PdfEncryption => "pdf-encryption",
            Protector::ZipEncryption => "zip-encryption",
        }
    }
}

impl std::fmt::Display for Protector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is known about a file's foreign protection: the protector, and whatever details its format yields.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ForeignProtection {
    pub protector: Protector,
    /// Container or format version, e.g. `2.1` for a PFILE, `1.7` for a PDF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The encryption scheme where the format names it, e.g. `agile` or `standard` for Office passwords.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// The extension the file had before protection, e.g. `.txt` (PFILE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_extension: Option<String>,
    /// The rights policy template's id (lowercase GUID without braces) from the publishing license.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_description: Option<String>,
    /// Who issued the license: the rights management service, or the person for ad-hoc (sharing) licenses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The issuer's address as the license gives it: the service URL, or an e-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_address: Option<String>,
    /// The owner (usually the person who protected the file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The protected content's id (lowercase GUID without braces).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// When the publishing license was issued, as written in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
    /// Sensitivity labels from the file's metadata.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
}

impl ForeignProtection {
    /// A finding with no details yet.
    pub fn new(protector: Protector) -> Self {
        ForeignProtection {
            protector,
            version: None,
            scheme: None,
            original_extension: None,
            template_id: None,
            template_name: None,
            template_description: None,
            issuer: None,
            issuer_address: None,
            owner: None,
            content_id: None,
            issued: None,
            labels: Vec::new(),
        }
    }

    /// One line for people: the protector and the most telling details.
    pub fn summary(&self) -> String {
        let mut out = self.protector.as_str().to_string();
        let details: Vec<String> = [
            self.template_name.as_ref().map(|n| format!("template \"{n}\"")),
            self.template_id.as_ref().map(|id| format!("template id {id}")),
            self.scheme.as_ref().map(|s| format!("scheme {s}")),
            (!self.labels.is_empty()).then(|| {
                let names: Vec<&str> =
                    self.labels.iter().filter_map(|l| l.name.as_deref().or(l.id.as_deref())).collect();
                format!("labels {}", names.join(", "))
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !details.is_empty() {
            out.push_str(" (");
            out.push_str(&details.join("; "));
            out.push(')');
        }
        out
    }
}

/// A sensitivity label found in a protected file's metadata.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Label {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Whether another product protects the file at `path`, and what it says about it.
///
/// Errors are I/O failures only (naming the file); a file whose structures cannot be parsed is not protected as
/// far as this function can tell, or protected with fewer details.
pub fn foreign_protection(path: &Path) -> Result<Option<ForeignProtection>, Error> {
    let (mut file, head) = open_regular(path)?;
    foreign_protection_in(&head, &mut file, path)
}

/// [`foreign_protection`] of a file already open for reading; `path` names it in errors.
pub fn foreign_protection_of(mut file: File, path: &Path) -> Result<Option<ForeignProtection>, Error> {
    let io = |doing: &str, e| Error::io(doing, path, e, ExitClass::Unreadable);
    file.seek(SeekFrom::Start(0)).map_err(|e| io("cannot read", e))?;
    let len = file.metadata().map_err(|e| io("cannot read", e))?.len();
    let head = Head::read(&mut file, len).map_err(|e| io("cannot read", e))?;
    foreign_protection_in(&head, &mut file, path)
}

/// [`foreign_protection`] of the open `file` whose start is `head`. Only a file whose first bytes name a
/// protecting format is read further (and its position moved); the rest are decided by the head alone.
pub fn foreign_protection_in(head: &Head, file: &mut File, path: &Path) -> Result<Option<ForeignProtection>, Error> {
    let io = |doing: &str, e| Error::io(doing, path, e, ExitClass::Unreadable);
    let len = head.len();
    let start = &head.bytes()[..head.bytes().len().min(1024)];
    let found = if start.starts_with(pfile::MAGIC) {
        file.seek(SeekFrom::Start(0)).map_err(|e| io("cannot read", e))?;
        Some(pfile::detect(file, len).map_err(|e| io("cannot read", e))?)
    } else if start.starts_with(office::OLE_MAGIC) {
        office::detect(file.try_clone().map_err(|e| io("cannot read", e))?)
    } else if start.starts_with(b"PK\x03\x04") {
        zip::detect(file.try_clone().map_err(|e| io("cannot read", e))?)
    } else if let Some(at) = find(start, b"%PDF-") {
        pdf::detect(file, len, at as u64, &start[at..]).map_err(|e| io("cannot read", e))?
    } else {
        None
    };
    Ok(found)
}

/// Whether the open `file` has a PDF's outer structure (a header, and a `startxref` at its end that points at a
/// cross-reference section), read from its start again afterwards; see [`pdf`].
pub fn pdf_structure(file: &File) -> std::io::Result<bool> {
    let mut file = file.try_clone()?;
    let len = file.metadata()?.len();
    let found = pdf::has_structure(&mut file, len)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(found)
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// `len` bytes at `offset`, or `None` if that range is not inside the file or longer than `cap`.
pub(crate) fn read_at(
    file: &mut File,
    file_len: u64,
    offset: u64,
    len: u64,
    cap: u64,
) -> std::io::Result<Option<Vec<u8>>> {
    if len > cap || offset.checked_add(len).is_none_or(|end| end > file_len) {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}
