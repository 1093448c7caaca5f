//! Ways around the policy that a user of the share could try (issue 13, points 8 and 9): files that only look
//! protected, hostile licenses and file names, and planted or writable template stores, rule folders and configs.
//! Each test drives the real binary and failed before the fix it proves.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::util::{Scratch, TEMPLATE_ID, stderr, stdout};
use assert_cmd::Command;
use fci_connector::protect::container::header::{self, Header};

const SSN_TEXT: &[u8] = b"Annual review\n\nSocial Security Number: 536-22-8175\n";

/// `protect FILE` with classification (the repository's rules) and the scratch template.
fn protect_classified(s: &Scratch, file: &Path) -> assert_cmd::assert::Assert {
    s.task().arg("protect").arg(file).args(["--template", TEMPLATE_ID]).assert()
}

fn status_json(s: &Scratch, file: &Path) -> String {
    stdout(&s.cmd().args(["status", "--format", "json"]).arg(file).assert())
}

/// The protected file's header (it must now be a whole container of `original`).
fn assert_wraps(file: &Path, original: &[u8]) {
    let bytes = std::fs::read(file).unwrap();
    let envelope = fci_connector::protect::container::Envelope::read(&mut bytes.as_slice()).unwrap();
    assert_eq!(envelope.license.original_size, original.len() as u64, "{}", file.display());
    assert!(!bytes.windows(11).any(|w| w == b"536-22-8175"), "plaintext SSN left in {}", file.display());
}

#[test]
fn a_file_that_only_starts_with_the_magic_is_classified_and_protected() {
    let s = Scratch::new();
    let content = [&header::MAGIC[..], b"\n", SSN_TEXT].concat();
    let f = s.file("magic.txt", &content);
    let out = status_json(&s, &f);
    assert!(out.contains(r#""state":"damaged""#), "{out}");
    let a = protect_classified(&s, &f).code(0);
    assert!(stdout(&a).contains("protected:"), "{}", stdout(&a));
    assert!(stderr(&a).contains("damaged"), "{}", stderr(&a));
    assert_wraps(&f, &content);
    assert!(status_json(&s, &f).contains(r#""state":"protected""#));
}

#[test]
fn a_real_header_followed_by_plaintext_is_classified_and_protected() {
    let s = Scratch::new();
    // A genuine container of a harmless file, with the payload replaced by plaintext.
    let genuine = s.file("harmless.txt", b"nothing to see");
    s.protect(&genuine).code(0);
    let bytes = std::fs::read(&genuine).unwrap();
    let offset = crate::util::payload_offset(&bytes);
    let content = [&bytes[..offset], SSN_TEXT].concat();
    let f = s.file("disguised.txt", &content);
    let out = status_json(&s, &f);
    assert!(out.contains(r#""state":"damaged""#), "{out}");
    assert!(out.contains("bytes"), "the reason names the sizes: {out}");
    protect_classified(&s, &f).code(0);
    assert_wraps(&f, &content);
    // The genuine one is still recognised and left alone.
    let a = protect_classified(&s, &genuine).code(0);
    assert!(stdout(&a).contains("already protected"), "{}", stdout(&a));
}

#[test]
fn pdf_markers_in_a_text_file_do_not_exempt_it() {
    let s = Scratch::new();
    let content =
        [b"%PDF-1.7\n".as_slice(), SSN_TEXT, b"trailer\n<< /Root 1 0 R /Encrypt 2 0 R >>\nstartxref\n0\n%%EOF\n"]
            .concat();
    let f = s.file("notes.txt", &content);
    let out = status_json(&s, &f);
    assert!(out.contains(r#""state":"unprotected""#), "{out}");
    protect_classified(&s, &f).code(0);
    assert_wraps(&f, &content);
}

/// A zip of `entries`; the ones named in `encrypted` get the encryption flag (bit 0) in their local and central
/// headers, as an archiver that encrypted them would set it.
fn zip_with(entries: &[(&str, &[u8])], encrypted: &[&str]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }
    let mut bytes = out.into_inner();
    for (signature, flags_at, name_len_at, name_at) in [(b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)] {
        let mut at = 0;
        while let Some(found) = bytes[at..].windows(4).position(|w| w == signature) {
            let start = at + found;
            let name_len = u16::from_le_bytes([bytes[start + name_len_at], bytes[start + name_len_at + 1]]) as usize;
            let name = String::from_utf8_lossy(&bytes[start + name_at..start + name_at + name_len]).into_owned();
            if encrypted.contains(&name.as_str()) {
                bytes[start + flags_at] |= 1;
            }
            at = start + 4;
        }
    }
    bytes
}

#[test]
fn a_mixed_zip_has_its_plain_entries_classified() {
    let s = Scratch::new();
    let content = zip_with(&[("dummy.bin", b"random-looking dummy"), ("staff.txt", SSN_TEXT)], &["dummy.bin"]);
    let f = s.file("bundle.zip", &content);
    let out = status_json(&s, &f);
    assert!(out.contains(r#""state":"unprotected""#), "{out}");
    let a = protect_classified(&s, &f).code(0);
    assert!(stdout(&a).contains("protected:"), "{}", stdout(&a));
    assert_wraps(&f, &content);
}

#[test]
fn a_fully_encrypted_zip_is_still_left_to_its_encryption() {
    let s = Scratch::new();
    let content = zip_with(&[("a.txt", SSN_TEXT), ("b.txt", b"more")], &["a.txt", "b.txt"]);
    let f = s.file("sealed.zip", &content);
    assert!(status_json(&s, &f).contains(r#""protector":"zip-encryption""#));
    let a = protect_classified(&s, &f).code(0);
    assert!(stdout(&a).contains("zip-encryption"), "{}", stdout(&a));
    assert_eq!(std::fs::read(&f).unwrap(), content);
}

#[test]
fn a_license_with_thousands_of_key_wraps_is_refused_quickly() {
    let s = Scratch::new();
    let f = s.file("many.txt", b"some content");
    s.protect(&f).code(0);
    let bytes = std::fs::read(&f).unwrap();
    let header = Header::read(&mut bytes.as_slice()).unwrap();
    let payload = &bytes[header.len() as usize..];
    // 2,000 copies of the recovery key's wrap under made-up key ids: the issuer key would try every one.
    let recovery = header.license_xml.lines().find(|l| l.contains(r#"role="recovery""#)).unwrap().to_string();
    let id_at = recovery.find("keyId=\"").unwrap() + 7;
    let fake: String =
        (0..2000).map(|i| format!("{}{:064x}{}\n", &recovery[..id_at], i + 1, &recovery[id_at + 64..])).collect();
    let start = header.license_xml.find("  <KeyWraps>\n").unwrap() + "  <KeyWraps>\n".len();
    let end = header.license_xml.find("  </KeyWraps>").unwrap();
    let license = format!("{}{fake}{}", &header.license_xml[..start], &header.license_xml[end..]);
    let mut hostile = Header::encode_authenticated(&header.notice, &license, header.segment_log2, &header.salt);
    hostile.extend_from_slice(&header.mac);
    hostile.extend_from_slice(payload);
    std::fs::write(&f, &hostile).unwrap();

    let started = Instant::now();
    let a = s.unprotect(&f, "issuer.key.pem").failure();
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert!(stderr(&a).contains("2000 key wraps"), "{}", stderr(&a));
    assert_eq!(std::fs::read(&f).unwrap(), hostile);
    let out = status_json(&s, &f);
    assert!(out.contains(r#""state":"damaged""#) && out.contains("2000 key wraps"), "{out}");
}

#[test]
fn file_names_with_control_characters_are_printed_escaped() {
    let s = Scratch::new();
    let f = s.file("pay\nprotected: fake.txt\x1b[31m", SSN_TEXT);
    for a in [s.cmd().arg("status").arg(&f).assert().code(0), protect_classified(&s, &f).code(0)] {
        let out = stdout(&a) + &stderr(&a);
        assert!(!out.contains('\x1b'), "raw escape printed: {out:?}");
        assert!(!out.contains("\nprotected: fake"), "forged line printed: {out:?}");
        assert!(out.contains(r"pay\nprotected: fake.txt\u{1b}[31m"), "{out:?}");
    }
    // Status of the now protected file (name and license fields) is printed escaped too.
    let out = stdout(&s.cmd().arg("status").arg(&f).assert().code(0));
    assert!(!out.contains('\x1b') && out.contains(r"\u{1b}[31m"), "{out:?}");
    // JSON stays JSON.
    let json = status_json(&s, &f);
    assert!(json.contains(r#"\u001b[31m"#), "{json}");
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_world_writable_template_store_is_refused() {
    let s = Scratch::new();
    let f = s.file("a.txt", b"x");
    chmod(&s.templates(), 0o777);
    let a = s.protect(&f).code(6);
    let err = stderr(&a);
    assert!(err.contains(&s.templates().display().to_string()) && err.contains("chmod go-w"), "{err}");
    assert_eq!(std::fs::read(&f).unwrap(), b"x");
    // A writable file inside it, or a writable folder above it, is refused the same way.
    chmod(&s.templates(), 0o755);
    chmod(&s.templates().join("confidential.xml"), 0o666);
    assert!(stderr(&s.protect(&f).code(6)).contains("confidential.xml"));
    chmod(&s.templates().join("confidential.xml"), 0o644);
    chmod(s.path(), 0o777);
    let err = stderr(&s.protect(&f).code(6));
    assert!(err.contains(&format!("{}: it is writable", s.path().display())) || err.contains("writable"), "{err}");
    chmod(s.path(), 0o700);
    s.protect(&f).code(0);
}

#[test]
fn a_world_writable_rule_folder_is_refused() {
    let s = Scratch::new();
    let rules = s.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    for entry in std::fs::read_dir(crate::util::rules()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), rules.join(entry.file_name())).unwrap();
    }
    chmod(&rules, 0o777);
    let f = s.file("a.txt", SSN_TEXT);
    let a = s.cmd().arg("--rules").arg(&rules).arg("protect").arg(&f).args(["--template", TEMPLATE_ID]).assert();
    let err = stderr(&a.code(6));
    assert!(err.contains("rule folder") && err.contains("chmod go-w"), "{err}");
    assert_eq!(std::fs::read(&f).unwrap(), SSN_TEXT);
}

#[test]
fn a_world_writable_config_is_refused() {
    let s = Scratch::new();
    let config = s.path().join("fci-connector.toml");
    std::fs::write(&config, "[policy]\nunreadable = \"report\"\n").unwrap();
    chmod(&config, 0o666);
    let f = s.file("a.txt", b"x");
    let a = s
        .cmd()
        .arg("--config")
        .arg(&config)
        .arg("protect")
        .arg(&f)
        .args(["--template", TEMPLATE_ID, "--always"])
        .assert()
        .code(6);
    let err = stderr(&a);
    assert!(err.contains("config file") && err.contains("fci-connector.toml") && err.contains("chmod go-w"), "{err}");
}

#[test]
#[ignore = "needs root"]
fn a_template_store_owned_by_another_user_is_refused() {
    let s = Scratch::new();
    let f = s.file("a.txt", b"x");
    // As root, a store owned by an ordinary user (uid 4242, no account needed) is someone else's.
    std::os::unix::fs::chown(s.templates(), Some(4242), None).unwrap();
    let err = stderr(&s.protect(&f).code(6));
    assert!(err.contains("owned by uid 4242") && err.contains("chown root"), "{err}");
    std::os::unix::fs::chown(s.templates(), Some(0), None).unwrap();
    s.protect(&f).code(0);
}

#[test]
fn templates_in_the_current_folder_are_not_picked_up() {
    let s = Scratch::new();
    let a = Command::cargo_bin("fci-connector").unwrap().current_dir(s.path()).args(["templates", "list"]).assert();
    let err = stderr(&a.code(6));
    assert!(err.contains("no template store"), "{err}");
}

/// A child another test forks while the copy is still open for writing holds that descriptor until it execs, and
/// running the copy fails with "text file busy" for that moment (all tests share one process): wait it out.
fn wait_until_runnable(exe: &Path) {
    for _ in 0..100 {
        match std::process::Command::new(exe).arg("--version").output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(Duration::from_millis(50))
            }
            _ => return,
        }
    }
}

#[test]
fn templates_in_a_folder_above_the_executable_are_not_picked_up() {
    let s = Scratch::new();
    let bin = s.path().join("app/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("fci-connector");
    std::fs::copy(assert_cmd::cargo::cargo_bin("fci-connector"), &exe).unwrap();
    wait_until_runnable(&exe);
    std::fs::rename(s.templates(), s.path().join("app/templates")).unwrap();
    let a = Command::new(&exe).current_dir("/").args(["templates", "list"]).assert();
    let err = stderr(&a.code(6));
    assert!(err.contains("no template store"), "{err}");
    // Beside the executable it is found.
    std::fs::rename(s.path().join("app/templates"), bin.join("templates")).unwrap();
    let out = stdout(&Command::new(&exe).current_dir("/").args(["templates", "list"]).assert().code(0));
    assert!(out.contains("Contoso - Confidential"), "{out}");
}

#[test]
fn passphrase_protected_keys_use_scrypt_with_n_of_at_least_2_17() {
    use pkcs8::der::Decode;
    let s = Scratch::new();
    let out = s.path().join("keys");
    s.cmd()
        .args(["keys", "generate", "--name", "holder", "--bits", "2048", "--passphrase-env", "HOLDER_PASS"])
        .arg("--out")
        .arg(&out)
        .env("HOLDER_PASS", "correct horse battery staple")
        .assert()
        .code(0);
    let pem = std::fs::read_to_string(out.join("holder.key.pem")).unwrap();
    let (label, der) = pkcs8::der::Document::from_pem(&pem).unwrap();
    assert_eq!(label, "ENCRYPTED PRIVATE KEY");
    let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der.as_bytes()).unwrap();
    let pbes2 = info.encryption_algorithm.pbes2().expect("PBES2");
    let scrypt = pbes2.kdf.scrypt().expect("scrypt");
    assert!(scrypt.cost_parameter >= 1 << 17, "scrypt N = {}", scrypt.cost_parameter);
    // It still opens with its passphrase, and so do keys written with other parameters (the committed fixture).
    let pass = b"correct horse battery staple";
    assert!(fci_connector::protect::keys::HolderKey::read(&out.join("holder.key.pem"), Some(pass)).is_ok());
}
