//! `status` of a whole share (issue 20): `--recurse`, `--summary` and `--format table|json|csv`, a folder with only
//! subfolders, a missing file's error on stderr, an unreadable folder as an error.

use std::path::{Path, PathBuf};

use crate::util::*;

/// A share: two files protected with the test template, one protected by another product, two unprotected, in
/// nested folders; the top folder holds only subfolders.
fn share(s: &Scratch) -> PathBuf {
    let root = s.path().join("data/share");
    for (dir, name) in [("HR/2026", "review.txt"), ("Finance", "q3.txt"), ("Finance", "menu.txt"), ("Public", "a.txt")]
    {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join(name), format!("{name}\n")).unwrap();
    }
    s.protect(&root.join("HR/2026/review.txt")).success();
    s.protect(&root.join("Finance/q3.txt")).success();
    std::fs::copy(fixtures().join("detect/encrypted.pdf"), root.join("Public/sealed.pdf")).unwrap();
    root
}

fn template_key() -> String {
    format!("Contoso - Confidential {{{TEMPLATE_ID}}}")
}

#[test]
fn status_recurse_summary_counts_files_per_state_product_and_template() {
    let s = Scratch::new();
    let root = share(&s);
    let a = s.cmd().arg("status").arg(&root).args(["--recurse", "--summary", "--format", "json"]).assert().success();
    let v: serde_json::Value = serde_json::from_str(stdout(&a).trim()).unwrap();
    assert_eq!(v["files"], 5, "{v}");
    assert_eq!(v["states"]["protected"], 2, "{v}");
    assert_eq!(v["states"]["protected-by-other"], 1, "{v}");
    assert_eq!(v["states"]["unprotected"], 2, "{v}");
    assert_eq!(v["states"]["damaged"], 0, "{v}");
    assert_eq!(v["protectors"]["fci-connector"], 2, "{v}");
    assert_eq!(v["protectors"]["pdf-encryption"], 1, "{v}");
    assert_eq!(v["templates"][template_key()], 2, "{v}");
    assert_eq!(v["exit_code"], 0, "{v}");

    let a = s.cmd().arg("status").arg(&root).args(["--recurse", "--summary", "--format", "csv"]).assert().success();
    let csv = stdout(&a);
    for row in ["kind,name,files", "state,protected,2", "protector,pdf-encryption,1", "total,,5"] {
        assert!(csv.lines().any(|l| l == row), "no row {row:?} in:\n{csv}");
    }
    assert!(csv.lines().any(|l| l == format!("template,{},2", template_key())), "{csv}");

    let a = s.cmd().arg("status").arg(&root).args(["--recurse", "--summary"]).assert().success();
    let table = stdout(&a);
    let count = |word: &str| -> Option<String> {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(word))
            .map(|l| l.split_whitespace().last().unwrap().to_string())
    };
    assert_eq!(count("protected").as_deref(), Some("2"), "{table}");
    assert_eq!(count("unprotected").as_deref(), Some("2"), "{table}");
    assert_eq!(count("total").as_deref(), Some("5"), "{table}");
    assert!(table.contains("TEMPLATE") && table.contains(&template_key()), "{table}");
}

#[test]
fn status_recurse_lists_every_file_below_in_each_format() {
    let s = Scratch::new();
    let root = share(&s);
    let a = s.cmd().arg("status").arg(&root).args(["--recurse", "--format", "csv"]).assert().success();
    let csv = stdout(&a);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "path,state,protector,template_id,template_name,owner,license_server,error");
    assert_eq!(lines.len(), 6, "{csv}");
    let review = root.join("HR/2026/review.txt").display().to_string();
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("{review},protected,fci-connector,")) && l.contains(TEMPLATE_ID)),
        "{csv}"
    );
    let a = s.cmd().arg("status").arg(&root).args(["--recurse", "--format", "json"]).assert().success();
    let states: Vec<String> = stdout(&a)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states.len(), 5);
    let a = s.cmd().arg("status").arg(&root).arg("--recurse").assert().success();
    assert_eq!(stdout(&a).lines().count(), 6, "a header and five rows: {}", stdout(&a));
}

#[test]
fn status_of_a_folder_with_only_subfolders_prints_no_empty_table() {
    let s = Scratch::new();
    let root = share(&s);
    let a = s.cmd().arg("status").arg(&root).assert().success();
    assert!(stdout(&a).is_empty(), "an empty table was printed: {}", stdout(&a));
    assert!(stderr(&a).contains("3 subfolder(s) (add --recurse"), "{}", stderr(&a));
}

#[test]
fn status_of_a_missing_file_says_so_on_stderr_not_in_the_template_column() {
    let s = Scratch::new();
    let present = s.file("here.txt", b"plain");
    let missing = s.path().join("data/gone.txt");
    let a = s.cmd().arg("status").arg(&missing).arg(&present).assert().code(3);
    let out = stdout(&a);
    assert!(!out.contains("no such file"), "the error is in the table: {out}");
    let row = out.lines().find(|l| l.contains("gone.txt")).unwrap();
    assert!(row.split_whitespace().nth(1) == Some("error"), "{row}");
    assert!(out.lines().any(|l| l.contains("here.txt") && l.contains("unprotected")), "{out}");
    let err = stderr(&a);
    assert!(err.contains("gone.txt") && err.contains("no such file") && err.contains("(exit 3)"), "{err}");
}

/// An unreadable folder is an error naming it, with and without --recurse. Root reads every folder, so as root the
/// binary runs as `nobody` (setpriv) over a folder only root may read.
#[cfg(target_os = "linux")]
#[test]
fn status_of_an_unreadable_folder_is_an_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("secret.txt"), b"x").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let root = std::process::Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    for recurse in [false, true] {
        let mut c = if root {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(bin_path());
            c
        } else {
            std::process::Command::new(bin_path())
        };
        c.arg("status").arg(&locked);
        if recurse {
            c.arg("--recurse");
        }
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "recurse {recurse}: {err}");
        assert!(err.contains(&locked.display().to_string()), "recurse {recurse}: {err}");
        assert!(out.stdout.is_empty(), "recurse {recurse}: {}", String::from_utf8_lossy(&out.stdout));
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn bin_path() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fci-connector"))
}
