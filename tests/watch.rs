//! `watch`: a file written into a watched folder is protected once it settles, a file still being written is not,
//! and the watch survives its folder being removed and made again.
#![cfg(target_os = "linux")]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

const SENSITIVE: &str = "Social Security Number: 536-22-8175\n";

struct Watcher(Child);

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(s: &Scratch, dir: &Path) -> Watcher {
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fci-connector"))
        .arg("--templates")
        .arg(s.templates())
        .arg("--rules")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("classification-rules"))
        .arg("--log-dir")
        .arg(s.path().join("logs"))
        .arg("watch")
        .arg(dir)
        .args(["--template", TEMPLATE_ID, "--debounce", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let it attach its watch before files appear.
    std::thread::sleep(Duration::from_millis(1500));
    Watcher(child)
}

fn protected(p: &Path) -> bool {
    std::fs::read(p).map(|b| b.starts_with(b"FCI-PROT")).unwrap_or(false)
}

/// Wait up to `limit` for `p` to be protected.
fn becomes_protected(p: &Path, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if protected(p) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn protects_settled_files_not_files_still_open_for_writing() {
    let s = Scratch::new();
    let dir: PathBuf = s.path().join("data/inbox");
    std::fs::create_dir_all(&dir).unwrap();
    let _watcher = start(&s, &dir);

    let done = dir.join("done.txt");
    std::fs::write(&done, SENSITIVE).unwrap();
    let clean = dir.join("menu.txt");
    std::fs::write(&clean, "Lentil soup\n").unwrap();

    let busy = dir.join("busy.txt");
    let mut writer = std::fs::File::create(&busy).unwrap();
    writer.write_all(SENSITIVE.as_bytes()).unwrap();
    writer.flush().unwrap();

    assert!(becomes_protected(&done, Duration::from_secs(20)), "a settled file was not protected");
    // Well past the debounce, the file still open for writing is left alone.
    std::thread::sleep(Duration::from_secs(3));
    assert!(!protected(&busy), "a file still open for writing was protected");
    drop(writer);
    assert!(becomes_protected(&busy, Duration::from_secs(20)), "the file was not protected after it was closed");
    assert_eq!(std::fs::read_to_string(&clean).unwrap(), "Lentil soup\n");
    s.unprotect(&busy, "issuer.key.pem").success();
    assert_eq!(std::fs::read_to_string(&busy).unwrap(), SENSITIVE);
}

#[test]
fn survives_its_folder_being_removed_and_made_again() {
    let s = Scratch::new();
    let dir: PathBuf = s.path().join("data/inbox");
    std::fs::create_dir_all(&dir).unwrap();
    let _watcher = start(&s, &dir);
    std::fs::remove_dir_all(&dir).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    std::fs::create_dir_all(&dir).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let f = dir.join("late.txt");
    std::fs::write(&f, SENSITIVE).unwrap();
    assert!(becomes_protected(&f, Duration::from_secs(20)), "not protected after the folder came back");
}
