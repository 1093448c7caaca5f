//! The template parser on arbitrary text, with key paths resolved next to the committed test template keys:
//! never panics.
#![no_main]

use fci_connector::protect::templates::Template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Key paths resolve relative to this (nonexistent) file's folder: tests/fixtures/, where keys/ holds real keys.
    let source = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/template.xml"));
    let _ = Template::parse(text, source);
});
