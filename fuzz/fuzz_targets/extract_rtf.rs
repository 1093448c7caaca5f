//! The RTF extractor (`src/extract/rtf.rs`) on arbitrary bytes, prefixed with `{\rtf1` when they do not start
//! with it (so the sniffer hands them to the RTF reader) and written as `.rtf`. `extract` must never panic or
//! hang; errors are fine; the text it hands over is bounded by the limits (checks in `extract_support.rs`).
#![no_main]

#[path = "extract_support.rs"]
mod extract_support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    const MAGIC: &[u8] = b"{\\rtf1";
    if data.starts_with(MAGIC) {
        extract_support::run(".rtf", data);
    } else {
        extract_support::run(".rtf", &[MAGIC, data].concat());
    }
});
