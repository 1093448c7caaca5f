//! Every extraction limit triggers on a crafted hostile file (built here, not by office software), naming the
//! limit, and the process survives: a 42-style nested zip, a billion-laughs part, a document whose XML
//! inflates past the limit, too many entries, too deep XML, too much text, too much time, and a PDF that makes
//! the PDF reader panic.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use fci_connector::ExitClass;
use fci_connector::extract::{Limits, extract};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// A zip holding `entries` (name, bytes), deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A minimal Word package whose main part is `document_xml`.
fn docx_with(document_xml: &[u8]) -> Vec<u8> {
    let types = br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    zip_of(&[("[Content_Types].xml", types), ("word/document.xml", document_xml)])
}

/// 42.zip in miniature: `levels` of zips, each holding 16 copies of the level below; the bottom holds
/// 4 MiB of zeros (about 4 KiB compressed).
fn nested_zip(levels: usize) -> Vec<u8> {
    let mut current = zip_of(&[("zeros.bin", &vec![0u8; 4 * 1024 * 1024])]);
    for _ in 0..levels {
        let copies: Vec<(String, Vec<u8>)> = (0..16).map(|i| (format!("{i:x}.zip"), current.clone())).collect();
        let entries: Vec<(&str, &[u8])> = copies.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        current = zip_of(&entries);
    }
    current
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Extract with `limits`; the error message, which must be "content unreadable".
fn refused(path: &Path, limits: &Limits) -> String {
    let err = extract(path, limits, &mut |_| {}).unwrap_err();
    assert_eq!(err.class(), ExitClass::Unreadable, "{}", err.message());
    assert!(err.message().starts_with(&path.display().to_string()), "{}", err.message());
    err.message().to_string()
}

/// Run `inspect` on `path`: exit code 7 and the message naming `limit` on stderr.
fn binary_refuses(path: &Path, limit: &str) {
    let output = Command::cargo_bin("fci-connector").unwrap().arg("inspect").arg(path).output().unwrap();
    assert_eq!(output.status.code(), Some(7));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(limit), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn nested_zip_bomb_stops_at_the_nesting_depth() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = write_temp(dir.path(), "42.zip", &nested_zip(3));
    binary_refuses(&bomb, "max_archive_depth (2)");
}

#[test]
fn nested_zip_bomb_stops_at_the_compression_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = write_temp(dir.path(), "42.zip", &nested_zip(3));
    let limits = Limits { max_archive_depth: 10, ..Limits::default() };
    assert!(refused(&bomb, &limits).contains("max_compression_ratio (200:1)"));
}

#[test]
fn nested_zip_bomb_stops_at_the_total_size() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = write_temp(dir.path(), "42.zip", &nested_zip(3));
    let limits = Limits {
        max_archive_depth: 10,
        max_compression_ratio: u64::MAX,
        max_decompressed_bytes: 32 * 1024 * 1024,
        ..Limits::default()
    };
    assert!(refused(&bomb, &limits).contains("max_decompressed_bytes (33554432 bytes)"));
}

#[test]
fn billion_laughs_in_a_docx_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut xml = String::from(r#"<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY lol "lol">"#);
    for level in 1..10 {
        let previous = if level == 1 { "lol".to_string() } else { format!("lol{}", level - 1) };
        xml.push_str(&format!("<!ENTITY lol{level} \"{}\">", format!("&{previous};").repeat(10)));
    }
    xml.push_str(r#"]><w:document xmlns:w="w"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"#);
    let bomb = write_temp(dir.path(), "laughs.docx", &docx_with(xml.as_bytes()));
    binary_refuses(&bomb, "word/document.xml: the XML declares entities");
}

#[test]
fn docx_inflating_past_the_limits_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Long runs of one character, as a bomb would use: about 1000:1 under deflate.
    let paragraph = format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", "0".repeat(8192));
    let mut xml = br#"<w:document xmlns:w="w"><w:body>"#.to_vec();
    while xml.len() < 24 * 1024 * 1024 {
        xml.extend_from_slice(paragraph.as_bytes());
    }
    xml.extend_from_slice(b"</w:body></w:document>");
    let bomb = write_temp(dir.path(), "inflating.docx", &docx_with(&xml));
    // The defaults stop it by its ratio...
    binary_refuses(&bomb, "entry word/document.xml expands more than max_compression_ratio (200:1)");
    // ...and a total-size limit stops it even when the ratio is allowed.
    let limits =
        Limits { max_compression_ratio: u64::MAX, max_decompressed_bytes: 8 * 1024 * 1024, ..Limits::default() };
    assert!(refused(&bomb, &limits).contains("max_decompressed_bytes"));
}

#[test]
fn too_many_entries() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..20).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let archive = write_temp(dir.path(), "many.zip", &zip_of(&entries));
    let limits = Limits { max_entries: 10, ..Limits::default() };
    assert!(refused(&archive, &limits).contains("20 entries, more than max_entries (10)"));
    assert!(extract(&archive, &Limits::default(), &mut |_| {}).is_ok());
}

#[test]
fn too_deep_xml() {
    let dir = tempfile::tempdir().unwrap();
    let xml = format!(r#"<w:document xmlns:w="w">{}{}</w:document>"#, "<w:p>".repeat(300), "</w:p>".repeat(300));
    let deep = write_temp(dir.path(), "deep.docx", &docx_with(xml.as_bytes()));
    binary_refuses(&deep, "word/document.xml: XML nesting deeper than max_xml_depth (256)");
}

#[test]
fn too_much_text() {
    let dir = tempfile::tempdir().unwrap();
    let text = write_temp(dir.path(), "big.txt", "Body card 4111 1111 1111 1111\n".repeat(10_000).as_bytes());
    let limits = Limits { max_text_bytes: 100_000, ..Limits::default() };
    assert!(refused(&text, &limits).contains("max_text_bytes (100000 bytes)"));
}

#[test]
fn too_much_time() {
    let dir = tempfile::tempdir().unwrap();
    let text = write_temp(dir.path(), "big.txt", "Body card 4111 1111 1111 1111\n".repeat(20_000).as_bytes());
    let limits = Limits { max_seconds: 0, ..Limits::default() };
    assert!(refused(&text, &limits).contains("max_seconds (0 s)"));
}

#[test]
fn large_text_streams_in_chunks_within_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let line = "Body card 4111 1111 1111 1111\n";
    let text = write_temp(dir.path(), "big.txt", line.repeat(100_000).as_bytes());
    let mut chunks = 0;
    let mut largest = 0;
    let info = extract(&text, &Limits::default(), &mut |chunk| {
        chunks += 1;
        largest = largest.max(chunk.len());
    })
    .unwrap();
    assert_eq!(info.text_bytes, (line.len() * 100_000) as u64);
    assert!(chunks > 1 && largest < 1024 * 1024, "{chunks} chunks, largest {largest}");
}

/// A well-formed PDF whose font names an encoding that does not exist, which makes pdf-extract panic. It has a PDF's
/// structure (a `startxref` pointing at its cross-reference table), so it reaches the PDF reader, whose error must
/// come back as unreadable.
fn panicking_pdf() -> Vec<u8> {
    padded_pdf(0)
}

/// [`panicking_pdf`] with a comment of `pad` spaces after the header.
fn padded_pdf(pad: usize) -> Vec<u8> {
    let content = b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET";
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /NoSuchEncoding >>".to_vec(),
        [format!("<< /Length {} >>\nstream\n", content.len()).as_bytes(), content, b"\nendstream"].concat(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    if pad > 0 {
        pdf.push(b'%');
        pdf.resize(pdf.len() + pad, b' ');
        pdf.push(b'\n');
    }
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    pdf
}

#[test]
fn a_panicking_pdf_is_unreadable_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = write_temp(dir.path(), "panics.pdf", &panicking_pdf());
    binary_refuses(&pdf, "the PDF reader failed on this file");
    // In-process too: the library call returns, and the next file is read normally.
    assert!(refused(&pdf, &Limits::default()).contains("NoSuchEncoding"));
    let clean = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extract/reportlab.pdf");
    assert!(extract(Path::new(clean), &Limits::default(), &mut |_| {}).is_ok());
}

#[test]
fn oversized_pdf_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    // Padded inside (a comment after the header), so it keeps a PDF's structure.
    let pdf = padded_pdf(2 * 1024 * 1024);
    let pdf = write_temp(dir.path(), "big.pdf", &pdf);
    let limits = Limits { max_buffered_bytes: 1024 * 1024, ..Limits::default() };
    assert!(refused(&pdf, &limits).contains("larger than max_buffered_bytes (1048576 bytes)"));
}

#[test]
fn corrupt_documents_are_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write_temp(dir.path(), "broken.docx", b"PK\x03\x04 this is not really a zip");
    binary_refuses(&broken, "not a readable zip archive");
    let mut truncated =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extract/libreoffice.doc")).unwrap();
    truncated.truncate(1500);
    let truncated = write_temp(dir.path(), "truncated.doc", &truncated);
    binary_refuses(&truncated, "truncated.doc");
}
