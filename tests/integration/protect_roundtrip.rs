//! protect → status → unprotect through the real binary: bytes, attributes, recipients, keys.

use std::time::{Duration, SystemTime};

use crate::util::*;
use predicates::prelude::*;

#[test]
fn round_trip_at_every_segment_edge() {
    let s = Scratch::new();
    for len in [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 7, 10 * 1024 * 1024] {
        let original = pattern(len);
        let f = s.file(&format!("f{len}.bin"), &original);
        s.protect(&f).success().stdout(predicate::str::contains("protected:"));
        let protected = std::fs::read(&f).unwrap();
        assert!(protected.starts_with(b"FCI-PROT"), "len {len}");
        assert_ne!(protected, original);
        if len > 64 {
            // Ciphertext must not carry the plaintext.
            let probe = &original[len / 2..len / 2 + 32];
            assert!(!protected.windows(32).any(|w| w == probe), "plaintext visible, len {len}");
        }
        s.unprotect(&f, "issuer.key.pem").success();
        assert_eq!(std::fs::read(&f).unwrap(), original, "len {len}");
    }
    assert!(s.data_listing().iter().all(|n| !n.contains(".~fci-")), "temporary files left: {:?}", s.data_listing());
}

#[cfg(unix)]
#[test]
fn permissions_and_mtime_are_carried_over() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    let f = s.file("report.docx", b"quarterly numbers");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    std::fs::File::options().write(true).open(&f).unwrap().set_modified(mtime).unwrap();

    s.protect(&f).success();
    let meta = std::fs::metadata(&f).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert_eq!(meta.modified().unwrap(), mtime);

    s.unprotect(&f, "recovery.key.pem").success();
    let meta = std::fs::metadata(&f).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert_eq!(meta.modified().unwrap(), mtime);
    assert_eq!(std::fs::read(&f).unwrap(), b"quarterly numbers");
}

#[test]
fn already_protected_file_is_left_unchanged() {
    let s = Scratch::new();
    let f = s.file("a.txt", b"secret");
    s.protect(&f).success();
    let once = std::fs::read(&f).unwrap();
    s.protect(&f).success().stdout(predicate::str::contains("already protected"));
    assert_eq!(std::fs::read(&f).unwrap(), once);
}

#[test]
fn status_reports_license_fields_without_a_key() {
    let s = Scratch::new();
    let f = s.file("Q3 report.txt", b"numbers");
    let plain = s.file("plain.txt", b"nothing");
    s.cmd()
        .arg("protect")
        .arg(&f)
        .args([
            "--template",
            "{E6EE2481-26B9-45E5-B34A-F744EACD53B0}",
            "--owner",
            "alice@contoso.com",
            "--json",
            "--always",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""decision":"protected""#));
    let out = s.cmd().arg("status").arg(&f).arg(&plain).args(["--format", "json"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    let p = &lines[0];
    assert_eq!(p["state"], "protected");
    assert_eq!(p["protector"], "fci-connector");
    assert_eq!(p["template_id"], TEMPLATE_ID);
    assert_eq!(p["template_name"], "Contoso - Confidential");
    assert_eq!(p["owner"], "alice@contoso.com");
    assert_eq!(p["format_version"], "1.0");
    assert_eq!(p["original_name"], "Q3 report.txt");
    assert_eq!(p["original_size"], 7);
    assert_eq!(p["recipients"].as_array().unwrap().len(), 2);
    assert_eq!(p["rights"][0]["principal"], "finance@contoso.com");
    assert_eq!(p["rights"][0]["rights"], serde_json::json!(["VIEW", "EDIT", "PRINT"]));
    assert!(p["content_id"].as_str().unwrap().len() == 36);
    // valid_until is issued + 365 days.
    let issued = p["issued"].as_str().unwrap();
    let until = p["valid_until"].as_str().unwrap();
    assert!(until > issued, "{issued} .. {until}");
    assert_eq!(lines[1]["state"], "unprotected");
    // Table form names both.
    s.cmd().arg("status").arg(&f).arg(&plain).assert().success().stdout(
        predicate::str::contains("protected")
            .and(predicate::str::contains("unprotected"))
            .and(predicate::str::contains("alice@contoso.com")),
    );
}

#[test]
fn status_of_missing_file_is_exit_3_and_others_still_reported() {
    let s = Scratch::new();
    let plain = s.file("plain.txt", b"x");
    let missing = s.path().join("data/missing.txt");
    s.cmd().arg("status").arg(&missing).arg(&plain).args(["--format", "json"]).assert().code(3).stdout(
        predicate::str::contains(r#""state":"error""#).and(predicate::str::contains(r#""state":"unprotected""#)),
    );
}

#[test]
fn protect_needs_only_public_keys_and_recovery_key_unprotects() {
    // The scratch template store holds only .pub.pem files.
    let s = Scratch::new();
    let keys: Vec<_> = std::fs::read_dir(s.templates().join("keys")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(keys.iter().all(|k| k.to_string_lossy().ends_with(".pub.pem")));
    let f = s.file("pay.csv", b"name,salary\nalice,1\n");
    s.protect(&f).success();
    s.unprotect(&f, "recovery.key.pem").success();
    assert_eq!(std::fs::read(&f).unwrap(), b"name,salary\nalice,1\n");
}

#[test]
fn unrelated_key_is_refused_naming_the_recipients() {
    let s = Scratch::new();
    let f = s.file("pay.csv", b"salary");
    s.protect(&f).success();
    let before = std::fs::read(&f).unwrap();
    s.unprotect(&f, "stranger.key.pem")
        .code(5)
        .stderr(predicate::str::contains("is not a recipient of").and(predicate::str::contains("recipients: ")));
    assert_eq!(std::fs::read(&f).unwrap(), before);
}

#[test]
fn unprotect_to_a_new_file_keeps_the_protected_one() {
    let s = Scratch::new();
    let f = s.file("a.txt", b"hello");
    s.protect(&f).success();
    let protected = std::fs::read(&f).unwrap();
    let out = s.path().join("data/a-plain.txt");
    s.cmd()
        .arg("unprotect")
        .arg(&f)
        .arg("--key")
        .arg(key("issuer.key.pem"))
        .arg("--output")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read(&out).unwrap(), b"hello");
    assert_eq!(std::fs::read(&f).unwrap(), protected);
    // An existing output is never overwritten.
    s.cmd()
        .arg("unprotect")
        .arg(&f)
        .arg("--key")
        .arg(key("issuer.key.pem"))
        .arg("--output")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
}

#[test]
fn unprotect_of_an_unprotected_file_is_a_usage_error() {
    let s = Scratch::new();
    let f = s.file("a.txt", b"plain");
    s.unprotect(&f, "issuer.key.pem").code(2).stderr(predicate::str::contains("not a file protected by fci-connector"));
    assert_eq!(std::fs::read(&f).unwrap(), b"plain");
}

#[test]
fn missing_file_and_folder_are_exit_3() {
    let s = Scratch::new();
    s.protect(&s.path().join("data/nope.txt")).code(3).stderr(predicate::str::contains("nope.txt"));
    s.protect(&s.path().join("data")).code(3).stderr(predicate::str::contains("is a folder"));
}

#[test]
fn unknown_template_is_exit_5_and_bad_id_exit_2() {
    let s = Scratch::new();
    let f = s.file("a.txt", b"x");
    s.cmd()
        .arg("protect")
        .arg(&f)
        .args(["--template", "00000000-0000-0000-0000-000000000001"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("is not in the template store"));
    s.cmd().arg("protect").arg(&f).args(["--template", "not-a-guid"]).assert().code(2);
    assert_eq!(std::fs::read(&f).unwrap(), b"x");
}

#[test]
fn passphrase_protected_private_key() {
    let s = Scratch::new();
    let f = s.file("a.txt", b"x");
    // A template whose issuer is the encrypted key's public half.
    s.cmd()
        .args([
            "templates",
            "create",
            "--id",
            "11111111-2222-3333-4444-555555555555",
            "--name",
            "Encrypted holder",
            "--key",
        ])
        .arg(key("encrypted.pub.pem"))
        .assert()
        .success();
    s.cmd()
        .arg("protect")
        .arg(&f)
        .args(["--template", "11111111-2222-3333-4444-555555555555", "--always"])
        .assert()
        .success();
    let unprotect = |passphrase: Option<&str>| {
        let mut cmd = s.cmd();
        cmd.arg("unprotect").arg(&f).arg("--key").arg(key("encrypted.key.pem"));
        if let Some(p) = passphrase {
            cmd.args(["--passphrase-env", "FCI_TEST_PASS"]).env("FCI_TEST_PASS", p);
        }
        cmd.assert()
    };
    unprotect(None).code(5).stderr(predicate::str::contains("passphrase-encrypted"));
    unprotect(Some("wrong")).code(5).stderr(predicate::str::contains("wrong passphrase"));
    unprotect(Some("correct-horse")).success();
    assert_eq!(std::fs::read(&f).unwrap(), b"x");
}
