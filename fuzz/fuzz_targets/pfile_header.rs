//! The PFILE header reader (`src/detect/pfile.rs`, through `fci_connector::detect::foreign_protection`) on
//! arbitrary bytes, forced to start with the `.pfile` magic and written to a temporary file. It must return
//! without panic or hang, and the magic alone makes the answer "Microsoft RMS"; what it reads from the header
//! (extension, license, labels) is best effort but stays within the reader's caps.
#![no_main]

use std::io::Write;

use fci_connector::detect::{Protector, foreign_protection};

const MAGIC: &[u8] = b".pfile";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Removed when dropped: runs leave nothing behind in the temporary folder (except the input of a crash).
    let mut file = tempfile::Builder::new().prefix("fuzz").suffix(".pfile").tempfile().expect("temporary file");
    if !data.starts_with(MAGIC) {
        file.write_all(MAGIC).expect("write the input file");
    }
    file.write_all(data).expect("write the input file");
    let path = file.path();
    let found = foreign_protection(path).expect("only I/O fails, and the file is there");
    let found = found.expect("the magic makes the file RMS-protected");
    assert_eq!(found.protector, Protector::MicrosoftRms);
    // The extension is read through a 256-byte cap.
    assert!(found.original_extension.as_ref().is_none_or(|ext| ext.len() <= 256 * 3), "{found:?}");
});
