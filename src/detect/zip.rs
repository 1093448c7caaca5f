//! Encrypted zip archives (traditional ZipCrypto or WinZip AES), from the central directory only.
//!
//! An archive counts as protected only when every entry with content is encrypted: one encrypted dummy entry
//! must not exempt the plain entries beside it, which are classified like any content.

use std::fs::File;
use std::io::BufReader;

use zip::ZipArchive;

use super::{ForeignProtection, Protector};

pub(super) fn detect(file: File) -> Option<ForeignProtection> {
    let mut archive = ZipArchive::new(BufReader::new(file)).ok()?;
    let mut any_encrypted = false;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).ok()?;
        if entry.is_dir() || (entry.size() == 0 && !entry.encrypted()) {
            continue;
        }
        if !entry.encrypted() {
            return None;
        }
        any_encrypted = true;
    }
    any_encrypted.then(|| ForeignProtection::new(Protector::ZipEncryption))
}
