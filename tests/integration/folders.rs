//! `protect <DIR> --recurse`: parallel equals sequential, reruns protect nothing, skips, reports, exit codes.

use std::path::{Path, PathBuf};

use crate::util::*;
use predicates::prelude::*;

const SENSITIVE: &str = "Social Security Number: 536-22-8175\n";
const CLEAN: &str = "Nothing to see here.\n";

/// A small share: 40 files in nested folders, every third one sensitive, plus files a run must skip.
fn share(s: &Scratch) -> PathBuf {
    let root = s.path().join("data/share");
    for i in 0..40 {
        let dir = root.join(format!("dept{}/sub{}", i % 4, i % 3));
        std::fs::create_dir_all(&dir).unwrap();
        let body = if i % 3 == 0 { format!("{SENSITIVE}file {i}\n") } else { format!("{CLEAN}file {i}\n") };
        std::fs::write(dir.join(format!("doc{i:02}.txt")), body).unwrap();
    }
    std::fs::write(root.join("dept0/~$doc00.txt"), SENSITIVE).unwrap();
    std::fs::write(root.join("dept0/.~fci-leftover.tmp"), SENSITIVE).unwrap();
    std::fs::write(root.join("dept1/.hidden.txt"), SENSITIVE).unwrap();
    std::fs::write(root.join("dept2/archive.pst"), SENSITIVE).unwrap();
    root
}

fn protect_folder(s: &Scratch, root: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    s.task()
        .arg("protect")
        .arg(root)
        .args(["--recurse", "--template", TEMPLATE_ID, "--exclude", "*.pst"])
        .args(extra)
        .assert()
}

fn protected_set(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        // A killed run may leave its temporary file (recognisable by name, removed later by the stale sweep).
        .filter(|e| !e.file_name().to_string_lossy().starts_with(".~fci-"))
        .filter(|e| e.file_type().is_file() && std::fs::read(e.path()).unwrap().starts_with(b"FCI-PROT"))
        .map(|e| e.path().strip_prefix(root).unwrap().display().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn parallel_run_equals_sequential_and_rerun_protects_nothing() {
    let (a, b) = (Scratch::new(), Scratch::new());
    let (ra, rb) = (share(&a), share(&b));
    protect_folder(&a, &ra, &["--jobs", "1", "--quiet"]).success();
    protect_folder(&b, &rb, &["--jobs", "4", "--quiet"]).success();
    let protected = protected_set(&ra);
    assert_eq!(protected.len(), 14, "{protected:?}");
    assert_eq!(protected, protected_set(&rb));
    // Skipped by default: Office lock files, our temporary files, hidden files; excluded by glob: *.pst.
    for skipped in ["dept0/~$doc00.txt", "dept0/.~fci-leftover.tmp", "dept1/.hidden.txt", "dept2/archive.pst"] {
        assert_eq!(std::fs::read_to_string(ra.join(skipped)).unwrap(), SENSITIVE, "{skipped}");
    }
    // Rerun: nothing new is protected and every protected file still unprotects in one step.
    let before: Vec<Vec<u8>> = protected.iter().map(|p| std::fs::read(ra.join(p)).unwrap()).collect();
    let report = a.path().join("rerun.json");
    protect_folder(&a, &ra, &["--quiet", "--report", report.to_str().unwrap()]).success();
    let after: Vec<Vec<u8>> = protected.iter().map(|p| std::fs::read(ra.join(p)).unwrap()).collect();
    assert_eq!(before, after);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["summary"]["skipped"]["already protected by fci-connector"], 14);
    assert!(json["summary"]["decisions"].get("protected").is_none());
    a.unprotect(&ra.join(&protected[0]), "issuer.key.pem").success();
}

#[test]
fn dry_run_changes_nothing_and_reports_agree() {
    let s = Scratch::new();
    let root = share(&s);
    let json_path = s.path().join("r.json");
    let csv_path = s.path().join("r.csv");
    let html_path = s.path().join("r.html");
    let jsonl_path = s.path().join("r.jsonl");
    for report in [&json_path, &csv_path, &html_path, &jsonl_path] {
        protect_folder(&s, &root, &["--dry-run", "--quiet", "--report", report.to_str().unwrap()]).success();
    }
    assert!(protected_set(&root).is_empty());
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(json["summary"]["files"], 40);
    assert_eq!(json["summary"]["decisions"]["would-protect"], 14);
    assert_eq!(json["summary"]["decisions"]["skipped"], 26);
    assert_eq!(json["files"].as_array().unwrap().len(), 40);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(csv.lines().count(), 41);
    assert_eq!(csv.lines().filter(|l| l.contains(",would-protect,")).count(), 14);
    // JSON lines: one object per file, in the JSON report's order, then the summary.
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&jsonl_path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 41);
    let paths = |files: &[serde_json::Value]| files.iter().map(|f| f["path"].clone()).collect::<Vec<_>>();
    assert_eq!(paths(&lines[..40]), paths(json["files"].as_array().unwrap()));
    assert_eq!(lines[40]["summary"]["decisions"], json["summary"]["decisions"]);
    // Each report was written beside itself and renamed into place: no temporary file is left.
    let mut names: Vec<String> =
        std::fs::read_dir(s.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["data", "logs", "r.csv", "r.html", "r.json", "r.jsonl", "templates"]);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains(r#"data-chart="by-decision" data-label="would-protect">14<"#), "chart count missing");
    assert!(html.contains(r#"data-card="files">40<"#));
    assert!(!html.contains("<script src") && !html.contains("<link ") && !html.contains("url("), "not self-contained");
    // Never the sensitive values.
    for text in
        [&csv, &html, &std::fs::read_to_string(&json_path).unwrap(), &std::fs::read_to_string(&jsonl_path).unwrap()]
    {
        assert!(!text.contains("536-22-8175"));
    }
}

#[test]
fn a_folder_without_recurse_is_exit_3_with_a_hint() {
    let s = Scratch::new();
    let root = share(&s);
    s.task()
        .arg("protect")
        .arg(&root)
        .args(["--template", TEMPLATE_ID])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--recurse"));
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_tree_are_not_followed_and_the_run_exit_code_is_the_worst() {
    let s = Scratch::new();
    let root = share(&s);
    let outside = s.file("outside.txt", SENSITIVE.as_bytes());
    std::os::unix::fs::symlink(&outside, root.join("dept0/link-out.txt")).unwrap();
    // A file the run cannot read counts as a failure of its own class.
    let config = s.path().join("c.toml");
    std::fs::write(&config, "[limits]\nmax_text_bytes = 60\n").unwrap();
    std::fs::write(root.join("dept3/huge.txt"), "x".repeat(1000)).unwrap();
    protect_folder(&s, &root, &["--quiet", "--config", config.to_str().unwrap()])
        .code(7)
        .stderr(predicate::str::contains("huge.txt").and(predicate::str::contains("failed with exit 7")));
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), SENSITIVE);
    assert_eq!(protected_set(&root).len(), 14);
}

#[test]
fn an_interrupted_folder_run_resumes_and_protects_each_file_once() {
    let s = Scratch::new();
    let root = share(&s);
    let mut child = s
        .task_process()
        .arg("protect")
        .arg(&root)
        .args(["--recurse", "--template", TEMPLATE_ID, "--exclude", "*.pst", "--jobs", "1", "--quiet"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once it has protected something (or it finished first, which the rerun must also handle).
    let start = std::time::Instant::now();
    while protected_set(&root).len() < 3 && start.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    protect_folder(&s, &root, &["--quiet"]).success();
    let protected = protected_set(&root);
    assert_eq!(protected.len(), 14, "{protected:?}");
    // Each file protected exactly once: one unprotect gives the plaintext back.
    for p in &protected {
        s.unprotect(&root.join(p), "issuer.key.pem").success();
        assert!(std::fs::read_to_string(root.join(p)).unwrap().starts_with(SENSITIVE), "{p}");
    }
}

#[cfg(unix)]
#[test]
fn links_in_the_tree_are_never_followed_and_each_is_named() {
    let s = Scratch::new();
    let root = share(&s);
    // Links that stay in the tree, to a file and to a folder: left alone all the same, each named in a warning.
    std::os::unix::fs::symlink(root.join("dept0/sub0/doc00.txt"), root.join("dept1/alias.txt")).unwrap();
    std::os::unix::fs::symlink(root.join("dept2"), root.join("dept3/linked-folder")).unwrap();
    let report = s.path().join("r.json");
    protect_folder(&s, &root, &["--quiet", "--report", report.to_str().unwrap()]).success().stderr(
        predicate::str::contains(root.join("dept1/alias.txt").display().to_string())
            .and(predicate::str::contains(root.join("dept3/linked-folder").display().to_string()))
            .and(predicate::str::contains("symbolic link")),
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let files: Vec<&str> = json["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 40, "{files:?}");
    assert!(files.iter().all(|f| !f.contains("alias") && !f.contains("linked-folder")), "{files:?}");
    assert!(std::fs::symlink_metadata(root.join("dept1/alias.txt")).unwrap().file_type().is_symlink());
}

#[cfg(unix)]
#[test]
fn the_log_template_and_rule_folders_inside_the_tree_are_never_processed() {
    let s = Scratch::new();
    let root = share(&s);
    // This program's own folders inside the tree, named on the command line by other paths than the walk meets
    // them by (a link, a `..`): they are recognised by identity.
    let own_rules = root.join("config/rules");
    copy_tree(&rules(), &own_rules);
    let own_templates = root.join("config/templates");
    copy_tree(&s.templates(), &own_templates);
    let logs = root.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("fci-connector.log"), format!("{{\"file\":\"SSN 123-45-6789.txt\"}}\n{SENSITIVE}"))
        .unwrap();
    let logs_link = s.path().join("logs-link");
    std::os::unix::fs::symlink(&logs, &logs_link).unwrap();
    let before: Vec<_> = [&own_rules, &own_templates, &logs].iter().flat_map(|d| contents(d)).collect();
    let report = s.path().join("r.json");
    assert_cmd::Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--templates")
        .arg(root.join("dept0/../config/templates"))
        .arg("--rules")
        .arg(root.join("config/./rules"))
        .arg("--log-dir")
        .arg(&logs_link)
        .arg("protect")
        .arg(&root)
        .args(["--recurse", "--template", TEMPLATE_ID, "--exclude", "*.pst", "--quiet", "--report"])
        .arg(&report)
        .assert()
        .success();
    // The run's own log lines were appended (and its lock file made); what was there before is untouched.
    for (path, bytes) in &before {
        let now = std::fs::read(path).unwrap();
        let kept = if path.ends_with("fci-connector.log") { &now[..bytes.len().min(now.len())] } else { &now[..] };
        assert!(kept == &bytes[..], "{} changed", path.display());
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let files: Vec<&str> = json["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(files.iter().all(|f| !f.contains("/config/") && !f.contains("/logs/")), "processed: {files:?}");
    assert_eq!(files.len(), 40, "{files:?}");
}

#[test]
fn folder_output_and_reports_are_in_walk_order_whatever_the_jobs() {
    let s = Scratch::new();
    let root = share(&s);
    let run = |args: &[&str]| {
        stdout(&s.task().args(args).arg(&root).args(["--recurse", "--exclude", "*.pst"]).assert().success())
    };
    let one = run(&["classify", "--format", "json", "--jobs", "1"]);
    assert_eq!(one, run(&["classify", "--format", "json", "--jobs", "4"]));
    let paths: Vec<String> = one
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths.len(), 40);
    let mut walk_order = paths.clone();
    walk_order.sort();
    assert_eq!(paths, walk_order, "name order within each folder (the share's names sort the same way)");
    let (r1, r4) = (s.path().join("r1.csv"), s.path().join("r4.csv"));
    let dry = |jobs: &str, report: &Path| {
        stdout(
            &protect_folder(&s, &root, &["--dry-run", "--jobs", jobs, "--report", report.to_str().unwrap()]).success(),
        )
    };
    assert_eq!(dry("1", &r1), dry("4", &r4));
    assert_eq!(std::fs::read(&r1).unwrap(), std::fs::read(&r4).unwrap());
}
