//! Extraction from real documents, through the hidden `inspect` command of the real binary: every value
//! planted by tests/fixtures/make-fixtures.py in each place of each format is found, clean documents hold
//! none of them, and unknown binary files fall back to printable strings.

use assert_cmd::Command;
use serde_json::Value;

const BODY: &str = "Body card 4111 1111 1111 1111";
const HEADER: &str = "Header SSN 078-05-1120";
const FOOTER: &str = "Footer IBAN GB82 WEST 1234 5698 7654 32";
const FOOTNOTE: &str = "Footnote card 5500 0000 0000 0004";
const ENDNOTE: &str = "Endnote SSN 219-09-9999";
const COMMENT: &str = "Comment IBAN DE89 3704 0044 0532 0130 00";
const CELL: &str = "Cell card 3400 0000 0000 009";
const TITLE: &str = "Title SSN 457-55-5462";
const CUSTOM: &str = "Custom card 6011 0000 0000 0004";
const NOTES: &str = "Notes SSN 078-05-1120";
const SHEET2: &str = "Second sheet IBAN GB82 WEST 1234 5698 7654 32";

const ALL: [&str; 11] = [BODY, HEADER, FOOTER, FOOTNOTE, ENDNOTE, COMMENT, CELL, TITLE, CUSTOM, NOTES, SHEET2];

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/extract/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `inspect --json --text` on a fixture: the parsed report, after checking the command succeeded.
fn inspect(name: &str) -> Value {
    let output = Command::cargo_bin("fci-connector")
        .unwrap()
        .args(["inspect", "--json", "--text"])
        .arg(fixture(name))
        .output()
        .unwrap();
    assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The fixture is read as `format` and every value in `planted` is in its text.
fn assert_found(name: &str, format: &str, planted: &[&str]) {
    let report = inspect(name);
    assert_eq!(report["extract"]["format"], format, "{name}");
    assert_eq!(report["extract"]["fallback"], false, "{name}");
    let text = report["text"].as_str().unwrap();
    assert_eq!(report["extract"]["text_bytes"], text.len() as u64, "{name}");
    for value in planted {
        assert!(text.contains(value), "{name}: {value:?} not found in {text:?}");
    }
}

#[test]
fn word_processing_documents() {
    let everywhere = [BODY, HEADER, FOOTER, FOOTNOTE, ENDNOTE, COMMENT, CELL, TITLE, CUSTOM];
    assert_found("libreoffice.docx", "docx", &everywhere);
    assert_found("libreoffice.odt", "odt", &everywhere);
    assert_found("libreoffice.doc", "doc", &everywhere);
    assert_found("libreoffice.rtf", "rtf", &everywhere);
    assert_found("python-docx.docx", "docx", &[BODY, HEADER, FOOTER, COMMENT, CELL, TITLE]);
}

#[test]
fn spreadsheets() {
    let everywhere = [HEADER, FOOTER, COMMENT, CELL, TITLE, CUSTOM, SHEET2];
    assert_found("libreoffice.xlsx", "xlsx", &everywhere);
    assert_found("libreoffice.ods", "ods", &everywhere);
    assert_found("libreoffice.xls", "xls", &everywhere);
    assert_found("openpyxl.xlsx", "xlsx", &[HEADER, COMMENT, CELL, TITLE, SHEET2]);
}

#[test]
fn numeric_cells_are_read() {
    for name in ["libreoffice.xlsx", "libreoffice.ods", "libreoffice.xls", "openpyxl.xlsx"] {
        let report = inspect(name);
        assert!(report["text"].as_str().unwrap().contains("78051120"), "{name}");
    }
}

#[test]
fn presentations() {
    let everywhere = [BODY, NOTES, SHEET2, TITLE, CUSTOM];
    assert_found("libreoffice.pptx", "pptx", &everywhere);
    assert_found("libreoffice.odp", "odp", &everywhere);
    assert_found("libreoffice.ppt", "ppt", &everywhere);
    assert_found("python-pptx.pptx", "pptx", &[BODY, NOTES, TITLE]);
}

#[test]
fn pdf_pages_and_document_information() {
    assert_found("libreoffice.pdf", "pdf", &[BODY, HEADER, FOOTER, FOOTNOTE, ENDNOTE, CELL, TITLE]);
    assert_found("reportlab.pdf", "pdf", &[BODY, CELL]);
}

#[test]
fn plain_text_in_every_encoding() {
    assert_found("utf8.csv", "text/utf-8", &[BODY, CELL]);
    assert_found("utf16le-bom.txt", "text/utf-16le", &[BODY, "Grüße"]);
    assert_found("utf16be-nobom.txt", "text/utf-16be", &[HEADER, "Données"]);
    assert_found("windows1252.txt", "text/windows-1252", &[FOOTER, "Café crème – "]);
}

#[test]
fn mail_headers_bodies_and_text_attachments() {
    assert_found("message.eml", "eml", &[TITLE, BODY, CELL, "alice@example.test", "cards.txt"]);
    // The body is quoted-printable in one part and base64 in the other: no encoded form leaks through.
    let text = inspect("message.eml")["text"].as_str().unwrap().to_string();
    assert!(!text.contains("=0A") && !text.contains("PGh0bWw"), "{text}");
}

#[test]
fn unknown_binary_falls_back_to_strings() {
    let report = inspect("unknown.bin");
    assert_eq!(report["extract"]["format"], "strings");
    assert_eq!(report["extract"]["fallback"], true);
    let text = report["text"].as_str().unwrap();
    assert!(text.contains(BODY) && text.contains(HEADER), "{text}");
}

#[test]
fn clean_documents_hold_no_planted_value() {
    for name in ["clean.docx", "clean.pdf", "clean.txt"] {
        let report = inspect(name);
        let text = report["text"].as_str().unwrap();
        assert!(text.contains("canteen opens at nine"), "{name}: {text:?}");
        for value in ALL {
            assert!(!text.contains(value), "{name}: {value:?}");
        }
    }
}

#[test]
fn format_follows_content_not_extension() {
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("report.txt");
    std::fs::copy(fixture("libreoffice.docx"), &renamed).unwrap();
    let output =
        Command::cargo_bin("fci-connector").unwrap().args(["inspect", "--json"]).arg(&renamed).output().unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["extract"]["format"], "docx");
}

#[test]
fn plain_output_streams_the_text() {
    let output = Command::cargo_bin("fci-connector")
        .unwrap()
        .args(["inspect", "--text"])
        .arg(fixture("utf8.csv"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("foreign-protection: none\n"), "{stdout}");
    assert!(stdout.contains(&format!("Alice,\"{BODY}\"")), "{stdout}");
    assert!(stdout.contains("format: text/utf-8\n"), "{stdout}");
}
