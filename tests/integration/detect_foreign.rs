//! Foreign protection detection: every real Microsoft RMS file of the shared interop set is recognised with
//! its template id; Office IRM and password protection, encrypted PDFs and zips are recognised; ordinary
//! documents are not; hostile input is survived.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use fci_connector::detect::{ForeignProtection, Protector, foreign_protection};

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/interop/ms-rms-pfile");

fn detect(path: impl AsRef<Path>) -> Option<ForeignProtection> {
    foreign_protection(path.as_ref()).unwrap()
}

fn extract_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract").join(name)
}

fn detect_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/detect").join(name)
}

#[test]
fn every_interop_pfile_is_rms_with_its_template() {
    let expected = [
        ("CleanAlice.txt.pfile", "3.0", "586b5746-aa26-4310-81b1-ea20d40cfc89", "Test Name"),
        (
            "windowsTest.txt.pfile",
            "3.0",
            "760cb90e-8715-4dcb-bf42-806b012d70f2",
            "Microsoft Corporation - Confidential Change All without Copy",
        ),
        (
            "linuxTest.txt.pfile",
            "3.0",
            "760cb90e-8715-4dcb-bf42-806b012d70f2",
            "Microsoft Corporation - Confidential Change All without Copy",
        ),
        ("mac_template_01.ptxt", "2.0", "bfa8d0f0-c965-4cce-b08c-f934f87faf4a", "Microsoft Corporation - Confidential"),
        (
            "android_template_01.ptxt",
            "2.0",
            "bfa8d0f0-c965-4cce-b08c-f934f87faf4a",
            "Microsoft Corporation - Confidential",
        ),
        ("rmsSharingAliceTest.ptxt", "2.1", "a22e480e-5b6f-4165-bd36-ed84763ff04f", "RESTRICTED ACCESS"),
        ("labeled-text.ptxt", "2.1", "6fcc6cff-78e2-411c-a656-9f171392a313", "Restricted Access"),
        ("labeled-Drawing.vsd.pfile", "2.1", "ee71da51-a031-4697-8abd-0acb181b2c25", "Confidential - Microsoft FTE"),
    ];
    let in_folder = std::fs::read_dir(INTEROP).unwrap().filter(|e| {
        let name = e.as_ref().unwrap().file_name();
        name != "README.md"
    });
    assert_eq!(in_folder.count(), expected.len(), "a file of the interop set has no expectation here");
    for (name, version, template_id, template_name) in expected {
        let found = detect(Path::new(INTEROP).join(name)).unwrap_or_else(|| panic!("{name} not recognised"));
        assert_eq!(found.protector, Protector::MicrosoftRms, "{name}");
        assert_eq!(found.version.as_deref(), Some(version), "{name}");
        assert_eq!(found.template_id.as_deref(), Some(template_id), "{name}");
        assert_eq!(found.template_name.as_deref(), Some(template_name), "{name}");
        let extension = if name.contains(".vsd") { ".vsd" } else { ".txt" };
        assert_eq!(found.original_extension.as_deref(), Some(extension), "{name}");
        assert!(found.owner.as_deref().is_some_and(|o| o.contains('@')), "{name}: {:?}", found.owner);
        assert!(found.content_id.is_some() && found.issuer.is_some(), "{name}: {found:?}");
    }
}

#[test]
fn pfile_owner_content_id_and_labels() {
    let found = detect(Path::new(INTEROP).join("labeled-text.ptxt")).unwrap();
    assert_eq!(found.owner.as_deref(), Some("Igor.Govorov@microsoft.com"));
    assert_eq!(found.content_id.as_deref(), Some("d48f326c-5c6b-41da-995c-c738d8060b3c"));
    assert_eq!(found.issued.as_deref(), Some("2017-08-30T09:55"));
    let labels: Vec<(&str, &str)> =
        found.labels.iter().map(|l| (l.id.as_deref().unwrap(), l.name.as_deref().unwrap())).collect();
    assert_eq!(
        labels,
        [
            ("074e257c-5848-4582-9a6f-34a182080e71", "Confidential"),
            ("d9f23ae3-a239-45ea-bf23-f515f824c57b", "Microsoft FTE")
        ]
    );
    let alice = detect(Path::new(INTEROP).join("CleanAlice.txt.pfile")).unwrap();
    assert_eq!(alice.owner.as_deref(), Some("alice@isvtenant999.onmicrosoft.com"));
    assert_eq!(alice.issuer.as_deref(), Some("Microsoft Corporation"));
    assert_eq!(alice.content_id.as_deref(), Some("1c5e0307-e03d-4de3-af21-81bcf961e73c"));
    assert!(alice.labels.is_empty());
}

#[test]
fn inspect_reports_rms_as_json() {
    let output = Command::cargo_bin("fci-connector")
        .unwrap()
        .args(["inspect", "--json"])
        .arg(Path::new(INTEROP).join("rmsSharingAliceTest.ptxt"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let protection = &report["foreign_protection"];
    assert_eq!(protection["protector"], "microsoft-rms");
    assert_eq!(protection["template_id"], "a22e480e-5b6f-4165-bd36-ed84763ff04f");
    assert_eq!(protection["owner"], "admuller@microsoft.com");
}

#[test]
fn password_protected_docx() {
    let found = detect(detect_fixture("password.docx")).unwrap();
    assert_eq!(found.protector, Protector::OfficePassword);
    assert_eq!(found.scheme.as_deref(), Some("agile"));
    // And extraction says why it cannot read it.
    let output = Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("inspect")
        .arg(detect_fixture("password.docx"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("foreign-protection: office-password (scheme agile)"), "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("encrypted"));
}

/// An Office-IRM-like document as Office writes it: an OLE compound file with the encrypted package and the
/// IRM data space, whose transform holds the publishing license.
fn irm_docx(dir: &Path) -> PathBuf {
    let path = dir.join("irm.docx");
    let mut ole = cfb::create(&path).unwrap();
    ole.create_stream("/EncryptedPackage").unwrap().write_all(&[0x55; 256]).unwrap();
    ole.create_storage("/\u{6}DataSpaces").unwrap();
    let mut map = vec![8, 0, 0, 0, 1, 0, 0, 0];
    map.extend("DRMEncryptedDataSpace".encode_utf16().flat_map(u16::to_le_bytes));
    ole.create_stream("/\u{6}DataSpaces/DataSpaceMap").unwrap().write_all(&map).unwrap();
    ole.create_storage("/\u{6}DataSpaces/TransformInfo").unwrap();
    ole.create_storage("/\u{6}DataSpaces/TransformInfo/DRMEncryptedTransform").unwrap();
    let license = r#"<?xml version="1.0"?><XrML version="1.2"><BODY type="Microsoft Rights Label"><DESCRIPTOR><OBJECT><ID type="MS-GUID">{AAAABBBB-1111-2222-3333-444455556666}</ID><NAME>LCID 1033:NAME Payroll - Confidential:DESCRIPTION HR only.;</NAME></OBJECT></DESCRIPTOR><ISSUER><OBJECT type="MS-DRM-Server"><NAME>Contoso RMS</NAME></OBJECT></ISSUER><WORK><OBJECT><ID type="MS-GUID">{12345678-aaaa-bbbb-cccc-1234567890ab}</ID></OBJECT><METADATA><OWNER><OBJECT><NAME>hr@contoso.test</NAME></OBJECT></OWNER></METADATA></WORK></BODY></XrML>"#;
    let mut primary = vec![0x58, 0, 0, 0, 1, 0, 0, 0, 0x04, 0, 0, 0];
    primary.extend_from_slice(&(license.len() as u32).to_le_bytes());
    primary.extend_from_slice(license.as_bytes());
    ole.create_stream("/\u{6}DataSpaces/TransformInfo/DRMEncryptedTransform/\u{6}Primary")
        .unwrap()
        .write_all(&primary)
        .unwrap();
    ole.flush().unwrap();
    path
}

#[test]
fn office_irm_with_its_template() {
    let dir = tempfile::tempdir().unwrap();
    let found = detect(irm_docx(dir.path())).unwrap();
    assert_eq!(found.protector, Protector::OfficeIrm);
    assert_eq!(found.template_id.as_deref(), Some("aaaabbbb-1111-2222-3333-444455556666"));
    assert_eq!(found.template_name.as_deref(), Some("Payroll - Confidential"));
    assert_eq!(found.owner.as_deref(), Some("hr@contoso.test"));
    assert_eq!(found.issuer.as_deref(), Some("Contoso RMS"));
}

#[test]
fn legacy_word_password_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("password.doc");
    std::fs::copy(extract_fixture("libreoffice.doc"), &path).unwrap();
    assert_eq!(detect(&path), None);
    // Set FibBase.fEncrypted, as Word does for a password-protected .doc.
    let mut ole = cfb::open_rw(&path).unwrap();
    let mut stream = ole.open_stream("/WordDocument").unwrap();
    use std::io::{Read, Seek, SeekFrom};
    let mut flags = [0u8; 2];
    stream.seek(SeekFrom::Start(10)).unwrap();
    stream.read_exact(&mut flags).unwrap();
    flags[1] |= 0x01;
    stream.seek(SeekFrom::Start(10)).unwrap();
    stream.write_all(&flags).unwrap();
    drop(stream);
    ole.flush().unwrap();
    drop(ole);
    let found = detect(&path).unwrap();
    assert_eq!(found.protector, Protector::OfficePassword);
    assert_eq!(found.scheme.as_deref(), Some("word-97"));
}

#[test]
fn encrypted_pdf_and_zip() {
    let pdf = detect(detect_fixture("encrypted.pdf")).unwrap();
    assert_eq!(pdf.protector, Protector::PdfEncryption);
    assert_eq!(pdf.version.as_deref(), Some("1.3"));
    assert_eq!(detect(detect_fixture("encrypted.zip")).unwrap().protector, Protector::ZipEncryption);
}

#[test]
fn ordinary_documents_are_not_protected() {
    for name in [
        "libreoffice.docx",
        "libreoffice.doc",
        "libreoffice.xls",
        "libreoffice.ppt",
        "libreoffice.odt",
        "libreoffice.pdf",
        "reportlab.pdf",
        "libreoffice.rtf",
        "utf8.csv",
        "unknown.bin",
    ] {
        assert_eq!(detect(extract_fixture(name)), None, "{name}");
    }
}

#[test]
fn hostile_headers_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let real = std::fs::read(Path::new(INTEROP).join("labeled-text.ptxt")).unwrap();
    // Truncated anywhere in the header, the magic still says RMS.
    for cut in [6, 10, 17, 18, 100, 0x1a0, 0x1c0, 0x1d0, 0x400] {
        let path = dir.path().join("cut.pfile");
        std::fs::write(&path, &real[..cut]).unwrap();
        assert_eq!(detect(&path).unwrap().protector, Protector::MicrosoftRms, "cut at {cut}");
    }
    // Offsets and lengths pointing anywhere.
    let mut wild = real.clone();
    for at in (0x19e..0x1ce).step_by(4) {
        wild[at..at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    }
    let path = dir.path().join("wild.pfile");
    std::fs::write(&path, &wild).unwrap();
    let found = detect(&path).unwrap();
    assert_eq!((found.protector, found.template_id), (Protector::MicrosoftRms, None));
    // Magic numbers followed by garbage.
    for (name, head) in [
        ("x.doc", &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..]),
        ("x.zip", b"PK\x03\x04"),
        ("x.pdf", b"%PDF-1.7\nstartxref\n99999999999999999999\n"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, [head, &[0xAB; 600][..]].concat()).unwrap();
        assert_eq!(detect(&path), None, "{name}");
    }
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let err = foreign_protection(Path::new("no-such-file.docx")).unwrap_err();
    assert_eq!(err.class(), fci_connector::ExitClass::NotFound);
    assert!(err.message().contains("no-such-file.docx"));
}

#[test]
fn folders_are_not_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let err = foreign_protection(dir.path()).unwrap_err();
    assert_eq!(err.class(), fci_connector::ExitClass::NotFound);
    assert!(err.message().ends_with("not a regular file"), "{}", err.message());
    let err = fci_connector::extract::extract(dir.path(), &Default::default(), &mut |_| {}).unwrap_err();
    assert_eq!(err.class(), fci_connector::ExitClass::NotFound);
    assert!(err.message().ends_with("not a regular file"), "{}", err.message());
}
