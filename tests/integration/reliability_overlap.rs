//! Overlap: 16 processes protecting the same 100 files at once (as when two FSRM tasks, or a task and an admin,
//! reach the same folder). Each file is protected exactly once: one run reports "protected", the others "already
//! protected" or busy, and ONE unprotect gives the original back (a double-protected file would need two).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::util::*;

#[test]
fn sixteen_processes_protect_each_of_100_files_exactly_once() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = (0..100)
        .map(|i| {
            // Mostly small files, a few spanning several segments, so some runs overlap for longer.
            let mut bytes = pattern(if i % 10 == 0 { 300 * 1024 } else { 1000 + i * 37 });
            bytes[0] = i as u8;
            (s.file(&format!("f{i:03}.txt"), &bytes), bytes)
        })
        .collect();

    // results[file] = every outcome reported for it.
    let results: Mutex<HashMap<usize, Vec<String>>> = Mutex::new(HashMap::new());
    std::thread::scope(|scope| {
        for worker in 0..16usize {
            let files = &files;
            let results = &results;
            let templates = s.templates();
            scope.spawn(move || {
                // Each worker walks the files from a different starting point and direction, so they collide.
                for k in 0..files.len() {
                    let i = if worker % 2 == 0 { (k + worker * 7) % 100 } else { (100 + worker * 13 - k) % 100 };
                    let out = bin(&templates)
                        .arg("protect")
                        .arg(&files[i].0)
                        .args(["--template", TEMPLATE_ID, "--always", "--json"])
                        .output()
                        .unwrap();
                    let outcome = match out.status.code() {
                        Some(0) => {
                            let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                            match (line["decision"].as_str().unwrap(), line["reason"].as_str().unwrap_or("")) {
                                ("protected", _) => "protected".to_string(),
                                ("skipped", reason) if reason.contains("already protected") => {
                                    "already-protected".to_string()
                                }
                                other => panic!("{}: unexpected outcome {other:?}", files[i].0.display()),
                            }
                        }
                        Some(4) => "busy".to_string(),
                        other => {
                            panic!("{}: exit {other:?}: {}", files[i].0.display(), String::from_utf8_lossy(&out.stderr))
                        }
                    };
                    results.lock().unwrap().entry(i).or_default().push(outcome);
                }
            });
        }
    });

    let results = results.into_inner().unwrap();
    let mut busy = 0;
    for (i, (path, original)) in files.iter().enumerate() {
        let outcomes = &results[&i];
        assert_eq!(outcomes.len(), 16);
        let protected = outcomes.iter().filter(|o| *o == "protected").count();
        assert_eq!(protected, 1, "{}: {outcomes:?}", path.display());
        busy += outcomes.iter().filter(|o| *o == "busy").count();
        // One unprotect must give the original back.
        let out =
            bin(&s.templates()).arg("unprotect").arg(path).arg("--key").arg(key("issuer.key.pem")).output().unwrap();
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        assert!(std::fs::read(path).unwrap() == *original, "{}: not the original after one unprotect", path.display());
    }
    eprintln!("busy outcomes: {busy} of 1600");
    assert!(temp_files(&data).is_empty(), "{:?}", temp_files(&data));
    assert_eq!(s.data_listing().len(), 100);
}
