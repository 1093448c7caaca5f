//! Crash safety: `protect` and `unprotect` killed with SIGKILL at random moments never lose a file. After every
//! kill, and after the next normal run, each file is either its original bytes or a valid protected file that
//! unprotects to them; a killed run's temporary file is recognisable by name and the next rewrite in that folder
//! removes it (once it is unlocked and older than the grace period), while a live one is never touched.
//!
//! Quick mode: a few dozen trials on files up to 6 MB. `FCI_LONG_TESTS=1`: 400 trials on files up to 32 MB.
//! `FCI_TEST_SEED=<n>` replays a run.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::util::*;

/// Run one operation to completion and return how long it took.
fn timed(s: &Scratch, op: &str, file: &std::path::Path) -> Duration {
    let start = Instant::now();
    let out = command(s, op, file, false).output().unwrap();
    assert!(out.status.success(), "{op} {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    start.elapsed()
}

fn command(s: &Scratch, op: &str, file: &std::path::Path, sweeping: bool) -> std::process::Command {
    let mut c = if sweeping { bin_sweeping(&s.templates()) } else { bin(&s.templates()) };
    c.arg(op).arg(file);
    if op == "protect" {
        c.args(["--template", TEMPLATE_ID, "--always"]);
    } else {
        c.arg("--key").arg(key("issuer.key.pem"));
    }
    c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    c
}

#[derive(Debug, Default)]
struct Tally {
    kills: usize,
    before_or_during: usize,
    after_swap: usize,
    leftovers: usize,
    leftovers_0600: usize,
}

#[test]
fn sigkill_at_random_moments_never_loses_a_file() {
    let mut rng = Rng::from_env("sigkill_at_random_moments_never_loses_a_file");
    let s = Scratch::new();
    let data = s.path().join("data");
    let check = s.path().join("check");
    std::fs::create_dir(&check).unwrap();
    let sizes = pick(vec![1000, 300 * 1024, 6 << 20], vec![0, 1000, 64 * 1024 + 1, 1 << 20, 8 << 20, 32 << 20]);
    let trials = pick(36, 400);

    // Each file with its original bytes and how long a whole protect + unprotect takes (the window to kill in).
    let mut files: Vec<(PathBuf, Vec<u8>, Duration, State)> = Vec::new();
    for (i, &len) in sizes.iter().enumerate() {
        let mut original = pattern(len);
        if len > 0 {
            original[0] = i as u8; // distinct files
        }
        let f = s.file(&format!("doc{i}.bin"), &original);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let took = timed(&s, "protect", &f).max(timed(&s, "unprotect", &f));
        assert_eq!(std::fs::read(&f).unwrap(), original);
        files.push((f, original, took, State::Original));
    }

    let mut tally = Tally::default();
    for trial in 0..trials {
        let i = rng.below(files.len() as u64) as usize;
        let (f, original, took, state) = &mut files[i];
        let op = if *state == State::Original { "protect" } else { "unprotect" };
        let what = format!("trial {trial}: {op} {} killed", f.display());
        // Kill anywhere from before the process starts working to about when it would have finished.
        let window = (took.as_micros() as u64).max(2000);
        let delay = Duration::from_micros(rng.below(window));
        let mut child = command(&s, op, f, false).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        tally.kills += 1;

        let after = state_of(&s.templates(), f, original, &check, &what);
        if after == *state {
            tally.before_or_during += 1;
        } else {
            tally.after_swap += 1;
        }
        for left in temp_files(&data) {
            tally.leftovers += 1;
            let mode = std::fs::metadata(&left).unwrap().permissions().mode() & 0o777;
            // Private while being written; the original's mode only once complete, just before the rename.
            assert!(mode == 0o600 || mode == 0o644, "{what}: leftover {} has mode {mode:o}", left.display());
            if mode == 0o600 {
                tally.leftovers_0600 += 1;
            }
        }

        // The next normal run rewrites the file (so it sweeps the folder) and must leave no leftover behind.
        let next = if after == State::Original { "protect" } else { "unprotect" };
        let out = command(&s, next, f, true).output().unwrap();
        assert!(out.status.success(), "{what}; then {next}: exit {:?}", out.status.code());
        let now = state_of(&s.templates(), f, original, &check, &format!("{what}; then {next}"));
        assert_ne!(now, after, "{what}; then {next}: the normal run did not change the file");
        assert_eq!(temp_files(&data), Vec::<PathBuf>::new(), "{what}; then {next}: leftovers not cleaned");
        *state = now;
    }
    eprintln!("{tally:?}");

    // Every file ends unprotectable to its original, and nothing but the files is in the folder.
    for (f, original, _, _) in &files {
        state_of(&s.templates(), f, original, &check, "final");
    }
    assert_eq!(s.data_listing().len(), files.len(), "{:?}", s.data_listing());
}

#[test]
fn a_recent_or_locked_leftover_is_kept_and_an_abandoned_one_removed() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let leftover = data.join(".~fci-AbCd12.tmp");
    let locked = data.join(".~fci-LoCk34.tmp");
    let foreign = data.join("~$report.docx");
    std::fs::write(&leftover, b"half-written").unwrap();
    std::fs::write(&locked, b"still being written").unwrap();
    std::fs::write(&foreign, b"Office owner file").unwrap();
    // Stands for a live invocation: it holds the lock on its own temporary file.
    let holder = std::fs::File::open(&locked).unwrap();
    holder.lock().unwrap();

    // Default grace period: both leftovers are recent, so a protect in the folder leaves them.
    let a = s.file("a.txt", b"alpha");
    let out = command(&s, "protect", &a, false).output().unwrap();
    assert!(out.status.success());
    assert!(leftover.exists() && locked.exists());

    // Grace period 0: the unlocked one is abandoned and goes; the locked one and the foreign file stay.
    let b = s.file("b.txt", b"bravo");
    let out = command(&s, "protect", &b, true).output().unwrap();
    assert!(out.status.success());
    assert!(!leftover.exists(), "abandoned leftover not removed");
    assert!(locked.exists(), "a locked (live) temporary file was removed");
    assert_eq!(std::fs::read(&foreign).unwrap(), b"Office owner file");

    // Once its holder is gone, the next rewrite removes it too.
    drop(holder);
    let c = s.file("c.txt", b"charlie");
    assert!(command(&s, "protect", &c, true).output().unwrap().status.success());
    assert!(!locked.exists());
    assert_eq!(s.data_listing(), vec!["a.txt", "b.txt", "c.txt", "~$report.docx"]);
}

#[test]
fn a_symlink_named_like_a_leftover_is_not_followed() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let precious = s.path().join("precious.txt");
    std::fs::write(&precious, b"do not delete").unwrap();
    std::os::unix::fs::symlink(&precious, data.join(".~fci-EvIl56.tmp")).unwrap();
    let f = s.file("a.txt", b"alpha");
    assert!(command(&s, "protect", &f, true).output().unwrap().status.success());
    assert_eq!(std::fs::read(&precious).unwrap(), b"do not delete");
    assert!(data.join(".~fci-EvIl56.tmp").symlink_metadata().is_ok(), "the link itself is not ours either");
}
