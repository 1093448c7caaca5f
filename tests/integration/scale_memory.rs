//! Folder runs in bounded memory (issue 21): `classify --recurse --format json` and `protect --recurse --dry-run
//! --report r.json` over 2,000 and over 20,000 generated files. The larger run's peak resident memory (the child's
//! maximum RSS as `wait4` reports it, through GNU time: not an address-space size, which thread stacks and allocator
//! arenas make meaningless) must be within 1.2x of the smaller's, and every file must be counted and reported once.
//! The same for `watch --initial-scan --dry-run` (Linux): the watcher is stopped with Ctrl+C (SIGINT, which GNU time
//! ignores and the watcher obeys) once its log holds a line for every file, and each file must be logged once.
//!
//! Needs /usr/bin/time (Debian package `time`, which .ci/run installs); without it the test fails and says so.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{Scratch, TEMPLATE_ID, rules};

const TIME: &str = "/usr/bin/time";
const SENSITIVE: &str = "Employee record. Social Security Number: 536-22-8175\n";
const CLEAN: &str = "Minutes of the weekly meeting: nothing to report.\n";

/// `n` small text files in folders of 100 (as a share is: many folders, none huge); one in ten is sensitive.
fn share(s: &Scratch, n: usize) -> PathBuf {
    let root = s.path().join(format!("data/share{n}"));
    for i in 0..n {
        let dir = root.join(format!("dept{:03}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let body = if i % 10 == 0 { SENSITIVE } else { CLEAN };
        std::fs::write(dir.join(format!("note{i:05}.txt")), format!("{body}file {i}\n")).unwrap();
    }
    root
}

/// The binary with `args` under GNU time, which writes the peak RSS to `peak`; stderr is dropped.
fn timed(s: &Scratch, args: &[&std::ffi::OsStr], peak: &Path) -> Command {
    let mut command = Command::new(TIME);
    command
        .args(["-f", "%M", "-o"])
        .arg(peak)
        .arg(env!("CARGO_BIN_EXE_fci-connector"))
        .arg("--templates")
        .arg(s.templates())
        .arg("--rules")
        .arg(rules())
        .arg("--log-dir")
        .arg(s.path().join("logs"))
        .args(args)
        .stderr(Stdio::null());
    command
}

/// The peak RSS in KiB that GNU time wrote to `peak`.
fn read_peak(peak: &Path) -> u64 {
    let text = std::fs::read_to_string(peak).unwrap();
    text.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("no peak in {text:?}"))
}

/// Run the binary with `args` under GNU time; its stdout goes to `stdout`. Returns the peak RSS in KiB.
fn peak_kib(s: &Scratch, args: &[&std::ffi::OsStr], stdout: &Path) -> u64 {
    let peak = s.path().join("peak.txt");
    let status = timed(s, args, &peak).stdout(Stdio::from(std::fs::File::create(stdout).unwrap())).status().unwrap();
    assert!(status.success(), "{args:?}: {status:?}");
    read_peak(&peak)
}

/// Classify and protect (dry run, JSON report) a share of `n` files; check the counts; the two peaks in KiB.
fn run(n: usize) -> (u64, u64) {
    let s = Scratch::new();
    let root = share(&s, n);
    let out = s.path().join("classify.jsonl");
    let classify = peak_kib(
        &s,
        &["classify".as_ref(), root.as_os_str(), "--recurse".as_ref(), "--format".as_ref(), "json".as_ref()],
        &out,
    );
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), n, "one JSON line per file");
    assert_eq!(lines.iter().filter(|l| l["decision"] == "protect").count(), n / 10);
    assert!(lines.windows(2).all(|w| w[0]["path"].as_str() < w[1]["path"].as_str()), "walk order, each file once");

    let report = s.path().join("r.json");
    let protect = peak_kib(
        &s,
        &[
            "protect".as_ref(),
            root.as_os_str(),
            "--recurse".as_ref(),
            "--dry-run".as_ref(),
            "--quiet".as_ref(),
            "--template".as_ref(),
            TEMPLATE_ID.as_ref(),
            "--report".as_ref(),
            report.as_os_str(),
        ],
        &s.path().join("protect.out"),
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["summary"]["files"], n);
    assert_eq!(json["summary"]["decisions"]["would-protect"], n / 10);
    assert_eq!(json["summary"]["decisions"]["skipped"], n - n / 10);
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), n, "one report entry per file");
    let mut paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    paths.dedup();
    assert_eq!(paths.len(), n, "each file once");
    (classify, protect)
}

#[test]
fn peak_memory_of_a_folder_run_does_not_grow_with_the_number_of_files() {
    assert!(
        Path::new(TIME).exists(),
        "{TIME} not found: install the Debian package `time` (.ci/run does) to measure the peak memory of folder runs"
    );
    let (classify_small, protect_small) = run(2_000);
    let (classify_large, protect_large) = run(20_000);
    eprintln!(
        "peak RSS (KiB), 2,000 -> 20,000 files: classify {classify_small} -> {classify_large}, protect --report {protect_small} -> {protect_large}"
    );
    assert!(classify_large * 10 <= classify_small * 12, "classify: {classify_small} KiB -> {classify_large} KiB");
    assert!(protect_large * 10 <= protect_small * 12, "protect: {protect_small} KiB -> {protect_large} KiB");
}

/// `watch --initial-scan --dry-run` over a share of `n` files: wait until the log has a line for each (bounded: a
/// guard against a watcher that never gets there, not a performance check), stop it with Ctrl+C, check that each
/// file was processed once; its peak in KiB.
#[cfg(target_os = "linux")]
fn watch_scan(n: usize) -> u64 {
    use std::os::unix::process::CommandExt;
    use std::time::{Duration, Instant};

    let s = Scratch::new();
    let root = share(&s, n);
    let peak = s.path().join("peak.txt");
    let args: [&std::ffi::OsStr; 8] = [
        "watch".as_ref(),
        root.as_os_str(),
        "--initial-scan".as_ref(),
        "--dry-run".as_ref(),
        "--template".as_ref(),
        TEMPLATE_ID.as_ref(),
        "--debounce".as_ref(),
        "0".as_ref(),
    ];
    // A process group of its own, so that Ctrl+C reaches the watcher through GNU time (which ignores it).
    let mut child = timed(&s, &args, &peak).stdout(Stdio::null()).process_group(0).spawn().unwrap();
    let log = s.path().join("logs/fci-connector.log");
    let lines = || std::fs::read_to_string(&log).map(|t| t.lines().count()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(900);
    while lines() < n && Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(200));
    }
    let logged = lines();
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-INT", "--", &group]).status();
    let status = child.wait().unwrap();
    assert_eq!(logged, n, "the watcher logged {logged} of {n} files");
    assert!(status.success(), "watch: {status:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut paths: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["path"].as_str().unwrap().to_string()
        })
        .collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), n, "each file logged once");
    read_peak(&peak)
}

#[test]
#[cfg(target_os = "linux")]
fn peak_memory_of_watch_s_initial_scan_does_not_grow_with_the_number_of_files() {
    assert!(Path::new(TIME).exists(), "{TIME} not found: install the Debian package `time` (.ci/run does)");
    let small = watch_scan(2_000);
    let large = watch_scan(20_000);
    eprintln!("peak RSS (KiB) of watch --initial-scan, 2,000 -> 20,000 files: {small} -> {large}");
    assert!(large * 10 <= small * 12, "watch --initial-scan: {small} KiB -> {large} KiB");
}

/// Protecting a large file (past 8 MiB the payload is sealed in a pipeline: a writer thread and a bounded set of
/// buffers) stays within the 32 MiB target, and the container opens to the same bytes.
#[test]
fn peak_memory_of_protecting_a_large_file_is_bounded_and_the_file_round_trips() {
    assert!(Path::new(TIME).exists(), "{TIME} not found: install the Debian package `time` (.ci/run does)");
    let s = Scratch::new();
    let original = crate::util::pattern(96 << 20);
    let f = s.file("large.bin", &original);
    let peak = peak_kib(
        &s,
        &["protect".as_ref(), f.as_os_str(), "--template".as_ref(), TEMPLATE_ID.as_ref(), "--always".as_ref()],
        &s.path().join("protect.out"),
    );
    eprintln!("peak RSS of protecting 96 MiB: {peak} KiB");
    assert!(peak <= 32 * 1024, "protect of 96 MiB: peak RSS {peak} KiB");
    assert!(std::fs::read(&f).unwrap() != original, "protected");
    let copy = s.path().join("data/copy.bin");
    let out = crate::util::bin(&s.templates())
        .arg("unprotect")
        .arg(&f)
        .arg("--key")
        .arg(crate::util::key("issuer.key.pem"))
        .arg("--output")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(&copy).unwrap() == original, "the same bytes back");
}
