//! Secrets hygiene: protect runs on a machine with public keys only, generated private keys are 0600 (and
//! passphrase-encrypted on request), and no plaintext copy is left anywhere after protect — not in the folder, not
//! in the temporary-file folder, not in a killed run's leftover.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use crate::util::*;

/// A marker that appears in the plaintext and nowhere else.
const MARKER: &[u8] = b"PLAINTEXT-MARKER-7f3a9c-do-not-leak";

fn plaintext(len: usize) -> Vec<u8> {
    let mut bytes = pattern(len);
    for at in (0..len.saturating_sub(MARKER.len())).step_by(100_000) {
        bytes[at..at + MARKER.len()].copy_from_slice(MARKER);
    }
    bytes
}

#[test]
fn no_plaintext_copy_anywhere_after_protect() {
    let s = Scratch::new();
    let tmp = s.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut files = Vec::new();
    for (i, len) in [100usize, 70_000, 3 << 20].into_iter().enumerate() {
        files.push(s.file(&format!("doc{i}.bin"), &plaintext(len)));
    }
    for f in &files {
        let out = bin(&s.templates())
            .env("TMPDIR", &tmp)
            .arg("protect")
            .arg(f)
            .args(["--template", TEMPLATE_ID, "--always"])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    assert_eq!(files_containing(s.path(), MARKER), Vec::<std::path::PathBuf>::new());
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "nothing written to TMPDIR");
}

#[test]
fn a_killed_protect_leaves_only_ciphertext() {
    let s = Scratch::new();
    let f = s.file("big.bin", &plaintext(24 << 20));
    let data = s.path().join("data");
    let mut leftovers = 0;
    // Kill at increasing delays until some run is caught mid-write; each leftover must hold no plaintext.
    for delay_ms in (0..60).step_by(3) {
        let mut child = bin(&s.templates())
            .arg("protect")
            .arg(&f)
            .args(["--template", TEMPLATE_ID, "--always"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        for left in temp_files(&data) {
            leftovers += 1;
            let bytes = std::fs::read(&left).unwrap();
            assert!(!bytes.windows(MARKER.len()).any(|w| w == MARKER), "{} holds plaintext", left.display());
            let mode = std::fs::metadata(&left).unwrap().permissions().mode() & 0o777;
            assert!(mode == 0o600 || mode == 0o644, "{} has mode {mode:o}", left.display());
            std::fs::remove_file(left).unwrap();
        }
        if std::fs::read(&f).unwrap().starts_with(b"FCI-PROT") {
            break;
        }
    }
    eprintln!("leftovers examined: {leftovers}");
}

#[test]
fn generated_private_keys_are_0600_and_optionally_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let generate = |name: &str, pass: Option<&str>| {
        let mut c = assert_cmd::Command::cargo_bin("fci-connector").unwrap();
        c.args(["keys", "generate", "--name", name, "--bits", "2048", "--out"]).arg(&keys);
        if let Some(p) = pass {
            c.args(["--passphrase-env", "FCI_TEST_KEY_PASS"]).env("FCI_TEST_KEY_PASS", p);
        }
        c.assert().success();
    };
    generate("plain", None);
    generate("locked", Some("correct-horse-battery"));
    for name in ["plain", "locked"] {
        let private = keys.join(format!("{name}.key.pem"));
        let public = keys.join(format!("{name}.pub.pem"));
        assert_eq!(std::fs::metadata(&private).unwrap().permissions().mode() & 0o777, 0o600, "{name}");
        assert_eq!(std::fs::metadata(&public).unwrap().permissions().mode() & 0o077, 0o044, "{name}: readable");
        assert!(!std::fs::read_to_string(&public).unwrap().contains("PRIVATE"));
    }
    let locked = std::fs::read_to_string(keys.join("locked.key.pem")).unwrap();
    assert!(locked.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{locked:.40}");
    // A second run never overwrites a key.
    assert_cmd::Command::cargo_bin("fci-connector")
        .unwrap()
        .args(["keys", "generate", "--name", "plain", "--out"])
        .arg(&keys)
        .assert()
        .code(2);
}

#[test]
fn protect_works_with_no_private_key_reachable() {
    // The scratch store holds only .pub.pem files; make sure no private key is anywhere under it, then protect.
    let s = Scratch::new();
    assert!(files_containing(s.path(), b"PRIVATE KEY").is_empty());
    let f = s.file("a.txt", MARKER);
    s.protect(&f).success();
    assert!(files_containing(s.path(), MARKER).is_empty());
}
