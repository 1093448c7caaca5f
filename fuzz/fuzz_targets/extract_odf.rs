//! The OpenDocument extractor (`src/extract/odf.rs`) on arbitrary XML: the first input byte picks the part
//! (`content.xml` or `meta.xml`) and the package (.odt or .ods), the rest is that part's XML, wrapped by the
//! target into an otherwise valid package (`mimetype` first and stored, as the format requires). `extract`
//! must never panic or hang; errors are fine; the text it hands over is bounded by the limits (checks in
//! `extract_support.rs`).
#![no_main]

#[path = "extract_support.rs"]
mod extract_support;

const CONTENT: &[u8] = br#"<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text><text:p>Payroll</text:p></office:text></office:body></office:document-content>"#;
const META: &[u8] = br#"<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"><office:meta><meta:user-defined meta:name="Department">HR</meta:user-defined></office:meta></office:document-meta>"#;
const MANIFEST: &[u8] = br#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/></manifest:manifest>"#;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&selector, xml)) = data.split_first() else { return };
    let (suffix, mimetype): (&str, &[u8]) = if selector & 2 == 0 {
        (".odt", b"application/vnd.oasis.opendocument.text")
    } else {
        (".ods", b"application/vnd.oasis.opendocument.spreadsheet")
    };
    let (content, meta) = if selector & 1 == 0 { (xml, META) } else { (CONTENT, xml) };
    let package = extract_support::package(&[
        ("mimetype", mimetype),
        ("content.xml", content),
        ("meta.xml", meta),
        ("META-INF/manifest.xml", MANIFEST),
    ]);
    extract_support::run(suffix, &package);
});
