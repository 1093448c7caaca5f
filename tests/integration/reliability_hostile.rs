//! Hostile inputs through the real binary, each giving a clear error (or a correct result) and never a crash, a hang
//! or unbounded memory: XML bombs and very deep XML in template and rule files, invalid UTF-16, a huge file with no
//! newline, FIFOs, folders and devices passed as the file, a path swapped for a symlink while protect runs, and file
//! names with newlines.
#![cfg(unix)]

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::util::*;

/// Generous guard so a hang fails the test instead of stalling the suite (not a performance assertion).
const HANG: Duration = Duration::from_secs(120);

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"#;

fn deep(depth: usize, name: &str) -> String {
    format!("<{name}>").repeat(depth) + &format!("</{name}>").repeat(depth)
}

/// Run with an address-space limit, so "bounded memory" is checked, not hoped for.
fn with_memory_limit(mut c: std::process::Command, bytes: u64) -> std::process::Command {
    unsafe {
        c.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c
}

fn rules_dir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

fn rules_check(dir: &Path) -> assert_cmd::assert::Assert {
    assert_cmd::Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--rules")
        .arg(dir)
        .args(["rules", "check"])
        .timeout(HANG)
        .assert()
}

const GOOD_RULES: &str = r#"<ClassificationRules>
  <PropertyDefinition name="Marked" type="YesNo"/>
  <Rule name="marker" property="Marked" value="Yes"><String>confidential</String></Rule>
</ClassificationRules>"#;

#[test]
fn xml_bomb_and_deep_nesting_in_rule_files_are_config_errors() {
    let bomb = format!(
        "{BILLION_LAUGHS}<ClassificationRules><PropertyDefinition name=\"&lol9;\" type=\"YesNo\"/></ClassificationRules>"
    );
    let bomb_text = format!("{BILLION_LAUGHS}<ClassificationRules>&lol9;</ClassificationRules>");
    for (what, text) in [
        ("bomb in an attribute", bomb),
        ("bomb in text", bomb_text),
        ("deep nesting", deep(100_000, "ClassificationRules")),
    ] {
        let dir = rules_dir(&[("a.xml", GOOD_RULES.as_bytes()), ("b.xml", text.as_bytes())]);
        let out = rules_check(dir.path()).code(6);
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        let all = stdout + &stderr;
        assert!(all.contains("b.xml"), "{what}: names the file: {all}");
        assert!(all.contains("entity") || all.contains("deeper") || all.contains("DOCTYPE"), "{what}: says why: {all}");
        assert!(!all.contains("lollollol"), "{what}: an entity was expanded");
    }
}

#[test]
fn xml_bomb_and_deep_nesting_in_templates_leave_the_good_template_usable() {
    let s = Scratch::new();
    std::fs::write(s.templates().join("bomb.xml"), format!("{BILLION_LAUGHS}<Template><Name>&lol9;</Name></Template>"))
        .unwrap();
    std::fs::write(s.templates().join("deep.xml"), deep(100_000, "Template")).unwrap();
    let out = s.cmd().args(["templates", "list"]).timeout(HANG).assert();
    let out = out.get_output();
    let all = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(all.contains("bomb.xml") && all.contains("deep.xml"), "both problems reported: {all}");
    assert!(all.contains("DOCTYPE") && all.contains("deeper"), "{all}");
    assert!(!all.contains("lollol"));
    // Protect with the good template still works: one bad file does not take the store down.
    let f = s.file("a.txt", b"alpha");
    s.protect(&f).success();
}

#[test]
fn invalid_utf16_rule_file_is_a_config_error_naming_it() {
    // UTF-16LE with a BOM, then "<a>" and an unpaired high surrogate.
    let mut bytes = vec![0xFF, 0xFE];
    for u in "<ClassificationRules>".encode_utf16().chain([0xD800u16]).chain("</ClassificationRules>".encode_utf16()) {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let dir = rules_dir(&[("utf16.xml", &bytes)]);
    let out = rules_check(dir.path()).code(6);
    let all = String::from_utf8_lossy(&out.get_output().stdout).into_owned()
        + &String::from_utf8_lossy(&out.get_output().stderr);
    assert!(all.contains("utf16.xml") && all.contains("UTF-16"), "{all}");

    // An odd number of bytes after the BOM is invalid too.
    let dir = rules_dir(&[("odd.xml", &[0xFF, 0xFE, b'<', 0, b'a'])]);
    rules_check(dir.path()).code(6);
}

#[test]
fn invalid_utf16_data_file_is_classified_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    for u in "Contoso confidential ".encode_utf16().chain([0xDC00, 0xD800, 0xD800]).chain("tail".encode_utf16()) {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let f = dir.path().join("broken-utf16.txt");
    std::fs::write(&f, &bytes).unwrap();
    let rules = rules_dir(&[("r.xml", GOOD_RULES.as_bytes())]);
    let out = assert_cmd::Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--rules")
        .arg(rules.path())
        .args(["classify", "--format", "json"])
        .arg(&f)
        .timeout(HANG)
        .output()
        .unwrap();
    let code = out.status.code();
    assert!(matches!(code, Some(0) | Some(7)), "exit {code:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("broken-utf16.txt"));
}

#[test]
fn huge_file_without_a_newline_is_classified_in_bounded_memory() {
    // A sparse file: NUL is valid UTF-8 text and there is no line end anywhere. 2 GB in long mode.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("one-line.txt");
    let len: u64 = pick(256 << 20, 2 << 30);
    let file = std::fs::File::create(&f).unwrap();
    file.set_len(len).unwrap();
    drop(file);
    let rules = rules_dir(&[("r.xml", GOOD_RULES.as_bytes())]);
    let mut c = bin(Path::new("unused"));
    c.arg("--rules").arg(rules.path()).args(["classify", "--format", "json"]).arg(&f);
    // 1 GiB of address space: a reader that loads the whole file (or a line of it) fails this.
    let out = with_memory_limit(c, 1 << 30).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0) | Some(7)), "exit {:?}: {stderr}", out.status.code());
    assert!(stdout.contains("one-line.txt"), "{stdout}");
}

#[test]
fn fifo_folder_and_devices_are_refused_without_hanging() {
    let s = Scratch::new();
    let fifo = s.path().join("data/pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let folder = s.path().join("data");
    let targets: [&Path; 4] = [&fifo, &folder, Path::new("/dev/zero"), Path::new("/dev/null")];
    for target in targets {
        let what = target.display().to_string();
        s.cmd()
            .arg("protect")
            .arg(target)
            .args(["--template", TEMPLATE_ID, "--always"])
            .timeout(HANG)
            .assert()
            .code(3)
            .stderr(predicates::str::contains(what.as_str()));
        s.cmd().arg("unprotect").arg(target).arg("--key").arg(key("issuer.key.pem")).timeout(HANG).assert().code(3);
        if target != folder {
            // (status of a folder lists the files in it)
            s.cmd().arg("status").arg(target).timeout(HANG).assert().code(3);
        }
        let rules = rules_dir(&[("r.xml", GOOD_RULES.as_bytes())]);
        s.cmd().arg("--rules").arg(rules.path()).arg("classify").arg(target).timeout(HANG).assert().code(3);
    }
    assert!(fifo.exists(), "the FIFO is still there");
    assert!(temp_files(&folder).is_empty());
}

/// Exchange two directory entries atomically (Linux renameat2 RENAME_EXCHANGE).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    let ca = std::ffi::CString::new(a.as_os_str().as_encoded_bytes()).unwrap();
    let cb = std::ffi::CString::new(b.as_os_str().as_encoded_bytes()).unwrap();
    unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) == 0 }
}

#[cfg(target_os = "linux")]
#[test]
fn a_path_swapped_for_a_symlink_during_protect_is_never_followed() {
    let s = Scratch::new();
    let outside = s.path().join("outside-secret.txt");
    let secret = b"SECRET OUTSIDE THE SHARE: must never be read into a protected file".to_vec();
    let original = pattern(200 * 1024);
    let victim = s.path().join("data/victim.bin");
    let other = s.path().join("data/victim.lnk");
    let check = s.path().join("check");
    std::fs::create_dir(&check).unwrap();
    let mut outcomes = std::collections::BTreeMap::<Option<i32>, usize>::new();
    for _ in 0..pick(25, 300) {
        std::fs::write(&outside, &secret).unwrap();
        let _ = std::fs::remove_file(&victim);
        let _ = std::fs::remove_file(&other);
        std::fs::write(&victim, &original).unwrap();
        std::os::unix::fs::symlink(&outside, &other).unwrap();
        let stop = AtomicBool::new(false);
        let code = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    exchange(&victim, &other);
                }
            });
            let out = bin(&s.templates())
                .arg("protect")
                .arg(&victim)
                .args(["--template", TEMPLATE_ID, "--always"])
                .output()
                .unwrap();
            stop.store(true, Ordering::Relaxed);
            out.status.code()
        });
        *outcomes.entry(code).or_default() += 1;
        assert!(matches!(code, Some(0) | Some(3) | Some(4) | Some(8)), "exit {code:?}");
        assert_eq!(std::fs::read(&outside).unwrap(), secret, "the symlink's target was changed");
        // Whatever the two names hold now: the link (to outside, untouched), or the original, plain or protected.
        // Never a protected copy of the outside file.
        let mut found_original = false;
        for name in [&victim, &other] {
            let meta = std::fs::symlink_metadata(name).unwrap();
            if meta.file_type().is_symlink() {
                assert_eq!(std::fs::read_link(name).unwrap(), outside);
                continue;
            }
            // Panics unless it is the original, or protected and unprotects to the original.
            state_of(&s.templates(), name, &original, &check, "after the race");
            found_original = true;
        }
        assert!(found_original, "the original is gone");
        assert!(temp_files(&s.path().join("data")).is_empty());
    }
    eprintln!("exit codes under the symlink race: {outcomes:?}");
}

#[test]
fn file_names_with_newlines_round_trip_and_stay_one_json_line() {
    let s = Scratch::new();
    let name = "evil\nname\r\n\"quoted\".txt";
    let f = s.file(name, b"payroll: 4485 3647 3952 7352");
    let out = s.cmd().arg("protect").arg(&f).args(["--template", TEMPLATE_ID, "--always", "--json"]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(stdout.trim_end().lines().count(), 1, "one JSON line: {stdout:?}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim_end()).unwrap();
    assert_eq!(line["path"].as_str().unwrap(), f.display().to_string());

    let out = s.cmd().arg("status").arg(&f).args(["--format", "json"]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(stdout.trim_end().lines().count(), 1, "{stdout:?}");
    let status: serde_json::Value = serde_json::from_str(stdout.trim_end()).unwrap();
    assert_eq!(status["state"], "protected");

    s.unprotect(&f, "issuer.key.pem").success();
    assert_eq!(std::fs::read(&f).unwrap(), b"payroll: 4485 3647 3952 7352");

    let rules = rules_dir(&[("r.xml", GOOD_RULES.as_bytes())]);
    let out = s.cmd().arg("--rules").arg(rules.path()).args(["classify", "--format", "csv"]).arg(&f).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("\"") && stdout.starts_with("path,"), "CSV quotes the name: {stdout:?}");
}

#[test]
fn the_license_keeps_a_file_name_with_line_ends_exactly() {
    let s = Scratch::new();
    let name = "evil\nname\r\n.txt";
    let f = s.file(name, b"alpha");
    s.protect(&f).success();
    let out = s.cmd().arg("status").arg(&f).args(["--format", "json"]).assert().success();
    let status: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(status["original_name"], name, "what status reports as the original name");
}
