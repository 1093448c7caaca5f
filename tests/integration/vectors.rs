//! Format v1 test vectors (tests/vectors/, described in docs/FORMAT.md): fixed key pair, content key, salt and
//! license → exact file bytes; and each vector file unprotects through the binary to its plaintext.
//!
//! The vectors were made once by `cargo test --test integration vectors::regenerate -- --ignored --exact`, which
//! writes only the vectors that do not exist yet: an existing vector is never rewritten, since a change to its bytes
//! is a format change (format 1.1 added `v1.1-license-server`; the 1.0 vectors are the bytes 1.0 writers made).

use std::path::PathBuf;

use crate::util::*;
use fci_connector::protect::container::keyschedule::ContentKey;
use fci_connector::protect::container::license::License;
use fci_connector::protect::container::{SealParams, seal};
use fci_connector::protect::keys::HolderKey;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Vector {
    description: String,
    /// Private key (PKCS#8 PEM, under tests/fixtures/keys) that opens it.
    key: String,
    content_key_hex: String,
    salt_hex: String,
    segment_log2: u8,
    notice: String,
    license_xml: String,
    /// Plaintext: `pattern(len)` from tests/integration/util.rs (xorshift32 bytes), or literal UTF-8 text.
    plaintext_len: Option<usize>,
    plaintext_text: Option<String>,
    /// The expected file, beside this description.
    file: String,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn plaintext(v: &Vector) -> Vec<u8> {
    match (&v.plaintext_text, v.plaintext_len) {
        (Some(t), _) => t.as_bytes().to_vec(),
        (None, Some(n)) => pattern(n),
        _ => panic!("vector has no plaintext"),
    }
}

fn build(v: &Vector) -> Vec<u8> {
    let license = License::parse(&v.license_xml).unwrap();
    assert_eq!(license.to_xml(), v.license_xml, "license serialisation is not deterministic");
    let content_key = ContentKey(unhex(&v.content_key_hex).try_into().unwrap());
    let params = SealParams {
        license: &license,
        content_key: &content_key,
        salt: unhex(&v.salt_hex).try_into().unwrap(),
        segment_log2: v.segment_log2,
        notice: v.notice.clone(),
    };
    let mut out = Vec::new();
    seal(&params, &plaintext(v)[..], &mut out).unwrap();
    out
}

fn vectors() -> Vec<(PathBuf, Vector)> {
    let mut found: Vec<_> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let v: Vector = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p, v)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[test]
fn writer_reproduces_every_vector_exactly() {
    let all = vectors();
    assert!(all.len() >= 4, "vectors missing");
    for (path, v) in all {
        let expected = std::fs::read(dir().join(&v.file)).unwrap();
        assert!(build(&v) == expected, "{}: bytes differ from {}", path.display(), v.file);
    }
}

#[test]
fn every_vector_unwraps_to_its_content_key_and_unprotects() {
    for (_, v) in vectors() {
        let holder = HolderKey::read(&key(&v.key), None).unwrap();
        let license = License::parse(&v.license_xml).unwrap();
        let wrap = license.wraps.iter().find(|w| w.key_id == holder.id).unwrap();
        assert_eq!(holder.unwrap_key(&wrap.wrapped).unwrap().as_slice(), unhex(&v.content_key_hex).as_slice());

        let s = Scratch::new();
        let f = s.file("vector.fcip", &std::fs::read(dir().join(&v.file)).unwrap());
        s.unprotect(&f, &v.key).success();
        assert_eq!(std::fs::read(&f).unwrap(), plaintext(&v), "{}", v.file);
    }
}

#[test]
fn each_vector_has_the_version_its_license_calls_for() {
    let mut seen = Vec::new();
    for (path, v) in vectors() {
        let bytes = std::fs::read(dir().join(&v.file)).unwrap();
        let license = License::parse(&v.license_xml).unwrap();
        let version = if license.license_server.is_some() { [1, 1] } else { [1, 0] };
        assert_eq!(bytes[8..10], version, "{}", path.display());
        seen.push(version);
    }
    assert!(seen.contains(&[1, 0]) && seen.contains(&[1, 1]), "both versions have a vector: {seen:?}");
}

/// Writes the vectors that do not exist yet (never rewrites one). Run by hand when the format gains a version;
/// never in CI (`--skip vectors::regenerate`).
#[test]
#[ignore = "writes tests/vectors/: run by hand only when the format version changes"]
fn regenerate() {
    use fci_connector::protect::container::license::KeyWrap;
    use fci_connector::protect::keys::RecipientKey;
    use fci_connector::protect::templates::Grant;

    let issuer = RecipientKey::read(&key("issuer.pub.pem")).unwrap();
    let recovery = RecipientKey::read(&key("recovery.pub.pem")).unwrap();
    let content_key: Vec<u8> = (0u8..32).collect();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    type Case<'a> = (&'a str, &'a str, Option<usize>, Option<&'a str>, Option<&'a str>);
    let cases: [Case; 4] = [
        ("v1-empty", "An empty file: one empty final segment.", None, Some(""), None),
        ("v1-hello", "A short text file: one short final segment.", None, Some("Hello, FCI!\n"), None),
        (
            "v1-three-segments",
            "Two full 64 KiB segments and a 100-byte final segment.",
            Some(2 * 65536 + 100),
            None,
            None,
        ),
        (
            "v1.1-license-server",
            "Format 1.1: a license that names its licensing service (<LicenseServer>); one short final segment.",
            None,
            Some("Hello, licensing service!\n"),
            Some("https://rms.contoso.com/"),
        ),
    ];
    for (i, (name, description, len, text, server)) in cases.into_iter().enumerate() {
        if dir().join(format!("{name}.json")).exists() {
            continue;
        }
        let plain_len = text.map_or(len.unwrap_or(0), str::len) as u64;
        let license = License {
            content_id: uuid::Uuid::from_u128(0x0123_4567_89ab_4cde_8f01_0000_0000_0000 + i as u128),
            template_id: uuid::Uuid::parse_str(TEMPLATE_ID).unwrap(),
            template_name: "Contoso - Confidential".into(),
            owner: Some("alice@contoso.com".into()),
            issued: time::macros::datetime!(2026-11-28 12:00:00 UTC),
            valid_until: Some(time::macros::datetime!(2027-11-28 12:00:00 UTC)),
            offline_days: Some(7),
            license_server: server.map(str::to_string),
            original_name: format!("{name}.txt"),
            original_size: plain_len,
            grants: vec![Grant::parse_assignment("finance@contoso.com=VIEW,EDIT,PRINT").unwrap()],
            wraps: vec![
                KeyWrap {
                    key_id: issuer.id.clone(),
                    role: "issuer".into(),
                    wrapped: issuer.wrap(&content_key).unwrap(),
                },
                KeyWrap {
                    key_id: recovery.id.clone(),
                    role: "recovery".into(),
                    wrapped: recovery.wrap(&content_key).unwrap(),
                },
            ],
        };
        let v = Vector {
            description: description.into(),
            key: "issuer.key.pem".into(),
            content_key_hex: hex(&content_key),
            salt_hex: hex(&(0x80u8..0xa0).collect::<Vec<_>>()),
            segment_log2: 16,
            notice: fci_connector::protect::container::notice("Contoso - Confidential", &format!("{name}.txt")),
            license_xml: license.to_xml(),
            plaintext_len: len,
            plaintext_text: text.map(str::to_string),
            file: format!("{name}.fcip"),
        };
        std::fs::write(dir().join(&v.file), build(&v)).unwrap();
        std::fs::write(dir().join(format!("{name}.json")), serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
    }
}
