//! Encrypted Office documents. Office stores a password- or IRM-protected document not as a zip but as an
//! OLE compound file holding an `EncryptedPackage` stream; its `\x06DataSpaces` storage says which: the IRM
//! data space (`DRMEncryptedDataSpace`, with the publishing license in its transform) or the password one
//! (`StrongEncryptionDataSpace`). Legacy binary files carry their own password flags (Word's FIB, Excel's
//! FILEPASS record, PowerPoint's encrypted summary stream).

use std::fs::File;
use std::io::Read;

use cfb::CompoundFile;

use super::{ForeignProtection, Protector, find, xrml};

pub(super) const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

const DATA_SPACE_MAP: &str = "/\u{6}DataSpaces/DataSpaceMap";
const IRM_TRANSFORM: &str = "/\u{6}DataSpaces/TransformInfo/DRMEncryptedTransform";
const IRM_LICENSE: &str = "/\u{6}DataSpaces/TransformInfo/DRMEncryptedTransform/\u{6}Primary";

/// The most read of any stream consulted here.
const MAX_STREAM: u64 = 4 * 1024 * 1024;

/// The protection of an OLE compound file, if any. A file that is not a readable compound file has none.
pub(super) fn detect(file: File) -> Option<ForeignProtection> {
    let mut ole = CompoundFile::open(file).ok()?;
    if ole.is_stream("/EncryptedPackage") {
        return Some(encrypted_package(&mut ole));
    }
    let legacy_password = if ole.is_stream("/WordDocument") {
        // FibBase.fEncrypted.
        let head = read_stream(&mut ole, "/WordDocument", 12);
        head.get(10..12).is_some_and(|f| u16::from_le_bytes([f[0], f[1]]) & 0x0100 != 0).then_some("word-97")
    } else if ole.is_stream("/Workbook") {
        excel_filepass(&read_stream(&mut ole, "/Workbook", 64 * 1024)).then_some("excel-97")
    } else if ole.is_stream("/PowerPoint Document") && ole.is_stream("/EncryptedSummary") {
        Some("powerpoint-97")
    } else {
        None
    };
    legacy_password.map(|scheme| {
        let mut found = ForeignProtection::new(Protector::OfficePassword);
        found.scheme = Some(scheme.into());
        found
    })
}

/// IRM or password, from the data spaces; the publishing license's details for IRM.
fn encrypted_package(ole: &mut CompoundFile<File>) -> ForeignProtection {
    let map = read_stream(ole, DATA_SPACE_MAP, MAX_STREAM);
    let irm_name: Vec<u8> = "DRMEncryptedDataSpace".encode_utf16().flat_map(u16::to_le_bytes).collect();
    if find(&map, &irm_name).is_some() || ole.is_storage(IRM_TRANSFORM) {
        let mut found = ForeignProtection::new(Protector::OfficeIrm);
        let primary = read_stream(ole, IRM_LICENSE, MAX_STREAM);
        let utf16_start: Vec<u8> = "<XrML".encode_utf16().flat_map(u16::to_le_bytes).collect();
        // The license follows a binary transform header; start at its first element.
        let start = find(&primary, b"<XrML").or_else(|| find(&primary, &utf16_start));
        if let Some(start) = start {
            xrml::apply_license(&primary[start..], &mut found);
        }
        return found;
    }
    let mut found = ForeignProtection::new(Protector::OfficePassword);
    let info = read_stream(ole, "/EncryptionInfo", 8);
    found.scheme = match (info.first(), info.get(2)) {
        (Some(4), Some(4)) => Some("agile".into()),
        (Some(2..=4), Some(2)) => Some("standard".into()),
        (Some(3 | 4), Some(3)) => Some("extensible".into()),
        _ => None,
    };
    found
}

/// Up to `cap` bytes of a stream; empty if it is missing or unreadable.
fn read_stream(ole: &mut CompoundFile<File>, path: &str, cap: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Ok(stream) = ole.open_stream(path) {
        let _ = stream.take(cap).read_to_end(&mut bytes);
    }
    bytes
}

/// Excel 97-2003 puts a FILEPASS record (0x002F) in the workbook globals, before the first sheet's BOF.
fn excel_filepass(workbook: &[u8]) -> bool {
    let mut at = 0;
    let mut records = 0;
    while let Some(header) = workbook.get(at..at + 4) {
        let kind = u16::from_le_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        match kind {
            0x002F => return true,
            // BOUNDSHEET or EOF: the globals' header part is over.
            0x0085 | 0x000A => return false,
            _ => {}
        }
        at += 4 + len;
        records += 1;
        if records > 1000 {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filepass_is_found_before_the_sheets() {
        let bof = [0x09, 0x08, 0x02, 0x00, 0xAA, 0xBB];
        let filepass = [0x2F, 0x00, 0x00, 0x00];
        let boundsheet = [0x85, 0x00, 0x00, 0x00];
        assert!(excel_filepass(&[&bof[..], &filepass].concat()));
        assert!(!excel_filepass(&[&bof[..], &boundsheet, &filepass].concat()));
        assert!(!excel_filepass(&[0x09]));
    }
}
