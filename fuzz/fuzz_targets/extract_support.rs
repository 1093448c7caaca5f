//! Shared by the extractor targets: write the input as a file of a given name in a temporary folder, run
//! `fci_connector::extract::extract` on it with small limits, and check what the sink received: never more
//! than `max_text_bytes` in all (the chunks are `&str`, so valid UTF-8 by type), exactly what the returned
//! `ExtractInfo` reports, and an error that names the file.
//!
//! The limits are small so that a slow input shows up as a libFuzzer timeout (`-timeout=20`) or as the
//! reader's own "took longer than max_seconds" error, never as a hang.

#![allow(dead_code)] // Each target uses part of this module.

use std::io::{Cursor, Write};
use std::sync::OnceLock;

use fci_connector::extract::{Limits, extract};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub fn limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(|| Limits {
        max_decompressed_bytes: 64 * 1024 * 1024,
        max_entries: 1_000,
        max_text_bytes: 4 * 1024 * 1024,
        max_seconds: 3,
        max_buffered_bytes: 8 * 1024 * 1024,
        ..Limits::default()
    })
}

/// Write `bytes` to a temporary file named `fuzz…<suffix>` and extract it. The file is removed afterwards, so
/// runs leave nothing behind in the temporary folder (except the input of a crash).
pub fn run(suffix: &str, bytes: &[u8]) {
    let mut file = tempfile::Builder::new().prefix("fuzz").suffix(suffix).tempfile().expect("temporary file");
    file.write_all(bytes).expect("write the input file");
    let path = file.path();
    let name = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 temporary name");
    let mut received = 0u64;
    let mut sink = |chunk: &str| received += chunk.len() as u64;
    let outcome = extract(path, limits(), &mut sink);
    assert!(received <= limits().max_text_bytes, "{received} bytes of text past the limit");
    match outcome {
        Ok(info) => assert_eq!(info.text_bytes, received, "ExtractInfo.text_bytes"),
        Err(err) => assert!(err.message().contains(name), "the error does not name the file: {}", err.message()),
    }
}

/// A zip package of `entries` (name, content), every entry stored uncompressed: the compression-ratio limit
/// then never refuses a package because the fuzzer's XML compresses well.
pub fn package(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for (name, content) in entries {
        zip.start_file(*name, options).expect("zip entry");
        zip.write_all(content).expect("zip entry");
    }
    zip.finish().expect("zip directory").into_inner()
}
