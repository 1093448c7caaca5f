//! Encrypted zip archives: any entry with the encryption flag (traditional ZipCrypto or WinZip AES) in the
//! central directory. Only the central directory is read.

use std::fs::File;
use std::io::BufReader;

use zip::ZipArchive;

use super::{ForeignProtection, Protector};

pub(super) fn detect(file: File) -> Option<ForeignProtection> {
    let mut archive = ZipArchive::new(BufReader::new(file)).ok()?;
    let encrypted = (0..archive.len()).any(|i| archive.by_index_raw(i).is_ok_and(|entry| entry.encrypted()));
    encrypted.then(|| ForeignProtection::new(Protector::ZipEncryption))
}
