//! The whole extractor on the raw bytes of any file: format sniffing, zip packages and nested archives,
//! OOXML, ODF, RTF, e-mail, PDF, OLE (legacy Office) and the strings fallback, as `classify` reads a file.
//! `extract` must never panic or hang; errors are fine; the text it hands over is bounded by the limits
//! (checks in `extract_support.rs`).
#![no_main]

#[path = "extract_support.rs"]
mod extract_support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| extract_support::run(".bin", data));
