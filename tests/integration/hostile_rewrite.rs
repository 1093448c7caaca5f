//! The in-place rewrite over a share whose users are hostile (issue 13): a folder swapped for a symbolic link
//! after the walk or while a file is being protected, hard links, extended attributes and ACLs, writers holding or
//! opening the file, and `unprotect --output` as root. Races are made deterministic with inotify: the swap (or the
//! writer) is triggered by an event the run itself causes, never by a sleep.
//!
//! Tests that need root (test users made with `useradd`, `chown`, `security.*` attributes) are ignored unless run
//! as root with `-- --ignored`, as .ci/run does.
#![cfg(target_os = "linux")]

use std::ffi::CString;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::util::{Scratch, TEMPLATE_ID, add_user, is_protected, pattern, remove_user, rules};
use inotify::{Inotify, WatchMask};

const SENSITIVE: &str = "Social Security Number: 536-22-8175\n";

// ---------------------------------------------------------------------------------------------------------------
// Test users

/// Two users made for one test (`mallory` and `alice` with a unique suffix), removed when dropped.
struct Users {
    mallory: User,
    alice: User,
}

struct User {
    name: String,
    uid: u32,
    gid: u32,
}

impl Users {
    fn new(tag: &str) -> Users {
        let suffix = format!("{}{}", std::process::id() % 100_000, tag);
        Users { mallory: User::add(&format!("mal{suffix}")), alice: User::add(&format!("ali{suffix}")) }
    }
}

impl User {
    fn add(name: &str) -> User {
        add_user(name);
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").arg(flag).arg(name).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        User { name: name.to_string(), uid: id("-u"), gid: id("-g") }
    }

    fn owns(&self, path: &Path) {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid)).unwrap();
    }
}

impl Drop for User {
    fn drop(&mut self) {
        remove_user(&self.name);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_encoded_bytes()).unwrap()
}

/// Swap the folder `dir` for a symbolic link to `to` in one step (`renameat2(RENAME_EXCHANGE)`, as mallory can do
/// with her own folder): afterwards `dir` is the link and `<dir>.real` the folder.
fn swap_for_link(dir: &Path, to: &Path) {
    let link = dir.with_extension("real");
    std::os::unix::fs::symlink(to, &link).unwrap();
    let (a, b) = (cstr(&link), cstr(dir));
    // SAFETY: two NUL-terminated paths that outlive the call.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    assert_eq!(r, 0, "renameat2: {}", std::io::Error::last_os_error());
}

/// Every file and folder under `root` (not following links) with its owner, mode and content.
fn snapshot(root: &Path) -> Vec<(PathBuf, u32, u32, u32, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        let bytes = if m.is_file() { std::fs::read(e.path()).unwrap() } else { Vec::new() };
        out.push((e.path().to_path_buf(), m.uid(), m.gid(), m.mode(), bytes));
    }
    out
}

/// Owners of every entry under `root`, by path relative to it.
fn owners(root: &Path) -> Vec<(PathBuf, u32, u32)> {
    snapshot(root)
        .into_iter()
        .filter(|(p, ..)| !p.file_name().unwrap().to_string_lossy().starts_with(".~fci-"))
        .map(|(p, u, g, ..)| (p.strip_prefix(root).unwrap().to_path_buf(), u, g))
        .collect()
}

/// Run `cmd` while watching `path` for `mask`: the first event (whose name passes `filter`, for a folder watch)
/// calls `react` once, on the watching thread, while the run goes on. Returns the run's output and whether `react`
/// ran.
fn run_with_trigger(
    mut cmd: Command,
    path: &Path,
    mask: WatchMask,
    filter: impl Fn(Option<&std::ffi::OsStr>) -> bool + Send,
    react: impl FnOnce() + Send,
) -> (std::process::Output, bool) {
    let mut inotify = Inotify::init().unwrap();
    inotify.watches().add(path, mask).unwrap();
    let finished = AtomicBool::new(false);
    let child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let finished_flag = &finished;
    std::thread::scope(|scope| {
        let watcher = scope.spawn(move || {
            let mut buffer = [0u8; 4096];
            loop {
                let Ok(events) = inotify.read_events_blocking(&mut buffer) else { return false };
                let hit = events.into_iter().any(|e| e.mask.intersects(mask_to_event(mask)) && filter(e.name));
                if finished_flag.load(Ordering::SeqCst) {
                    return false;
                }
                if hit {
                    react();
                    return true;
                }
            }
        });
        let out = child.wait_with_output().unwrap();
        finished.store(true, Ordering::SeqCst);
        if !watcher.is_finished() {
            // The run never caused the event: cause one so the watcher wakes up and sees the run is over.
            if path.is_dir() {
                let wake = path.join(".wake");
                let _ = std::fs::write(&wake, b"");
                let _ = std::fs::remove_file(&wake);
            } else {
                let _ = std::fs::File::open(path);
            }
        }
        let reacted = watcher.join().unwrap_or(false);
        (out, reacted)
    })
}

fn mask_to_event(mask: WatchMask) -> inotify::EventMask {
    inotify::EventMask::from_bits_truncate(mask.bits())
}

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn bin(s: &Scratch) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fci-connector"));
    c.arg("--templates").arg(s.templates()).arg("--log-dir").arg(s.path().join("logs"));
    c
}

/// alice's folder outside the share with her private 0600 file.
fn alice_folder(s: &Scratch, users: &Users) -> (PathBuf, PathBuf, Vec<u8>) {
    let dir = s.path().join("alice");
    std::fs::create_dir(&dir).unwrap();
    let secret = format!("{SENSITIVE}alice's private notes\n").into_bytes();
    let file = dir.join("victim.txt");
    std::fs::write(&file, &secret).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    users.alice.owns(&file);
    users.alice.owns(&dir);
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    (dir, file, secret)
}

// ---------------------------------------------------------------------------------------------------------------
// (a) a folder swapped for a link after the walk

#[test]
#[ignore = "needs root"]
fn a_folder_swapped_for_a_link_after_the_walk_never_leads_out_of_the_tree() {
    let s = Scratch::new();
    let users = Users::new("a");
    let share = s.path().join("share");
    let mallory = share.join("mallory");
    std::fs::create_dir_all(&mallory).unwrap();
    // Processed just before the victim (name order, one job): its open is the trigger, its size the time to swap.
    let big = mallory.join("a-big.txt");
    let mut body = SENSITIVE.repeat(16).into_bytes();
    body.extend(pattern(16 * 1024 * 1024).iter().map(|b| b'a' + b % 26));
    std::fs::write(&big, &body).unwrap();
    std::fs::write(mallory.join("victim.txt"), SENSITIVE).unwrap();
    for p in [&mallory, &big, &mallory.join("victim.txt")] {
        users.mallory.owns(p);
    }
    let (alice_dir, alice_file, secret) = alice_folder(&s, &users);
    let alice_before = snapshot(&alice_dir);
    let owners_before = owners(&mallory);

    let mut cmd = bin(&s);
    cmd.arg("--rules").arg(rules()).arg("protect").arg(&share);
    cmd.args(["--recurse", "--jobs", "1", "--template", TEMPLATE_ID]);
    let (out, swapped) = run_with_trigger(cmd, &big, WatchMask::OPEN, |_| true, || swap_for_link(&mallory, &alice_dir));
    assert!(swapped, "the run never opened {}", big.display());

    assert_eq!(std::fs::read(&alice_file).unwrap(), secret, "alice's file was changed: {}", stderr(&out));
    assert_eq!(snapshot(&alice_dir), alice_before, "something in alice's folder changed");
    assert_ne!(code(&out), Some(0), "the victim behind the link must be refused: {}", stderr(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    // The files of the tree (mallory's folder is now mallory.real) kept their owners; the victim is untouched.
    let real = share.join("mallory.real");
    assert_eq!(owners(&real), owners_before, "a file changed owner");
    assert_eq!(std::fs::read(real.join("victim.txt")).unwrap(), SENSITIVE.as_bytes());
}

// ---------------------------------------------------------------------------------------------------------------
// (b) a folder swapped for a link while a single file is being protected

#[test]
#[ignore = "needs root"]
fn a_folder_swapped_for_a_link_while_one_file_is_protected_never_leads_out_of_the_tree() {
    // Swapped at the victim's first open (classification of a large file follows), and when the temporary file is
    // created (after the lock, before the rename).
    for when in ["first-open", "temp-created"] {
        let s = Scratch::new();
        let users = Users::new(if when == "first-open" { "b" } else { "c" });
        let mallory = s.path().join("share/mallory");
        std::fs::create_dir_all(&mallory).unwrap();
        let victim = mallory.join("victim.txt");
        let mut body = SENSITIVE.repeat(16).into_bytes();
        body.extend(pattern(16 * 1024 * 1024).iter().map(|b| b'a' + b % 26));
        std::fs::write(&victim, &body).unwrap();
        users.mallory.owns(&victim);
        users.mallory.owns(&mallory);
        // alice's file has the victim's name, so a run steered through the link would find it.
        let (alice_dir, alice_file, secret) = alice_folder(&s, &users);
        let alice_before = snapshot(&alice_dir);

        let mut cmd = bin(&s);
        cmd.arg("--rules").arg(rules()).arg("protect").arg(&victim).args(["--template", TEMPLATE_ID]);
        let (out, swapped) = if when == "first-open" {
            run_with_trigger(cmd, &victim, WatchMask::OPEN, |_| true, || swap_for_link(&mallory, &alice_dir))
        } else {
            run_with_trigger(
                cmd,
                &mallory,
                WatchMask::CREATE,
                |name| name.is_some_and(|n| n.to_string_lossy().starts_with(".~fci-")),
                || swap_for_link(&mallory, &alice_dir),
            )
        };
        assert!(swapped, "{when}: the trigger never fired: {}", stderr(&out));
        assert_eq!(std::fs::read(&alice_file).unwrap(), secret, "{when}: alice's file was changed: {}", stderr(&out));
        assert_eq!(snapshot(&alice_dir), alice_before, "{when}: something in alice's folder changed");
        let real = s.path().join("share/mallory.real/victim.txt");
        let meta = std::fs::metadata(&real).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (users.mallory.uid, users.mallory.gid), "{when}: owner changed");
        match code(&out) {
            // Refused: the link was found on the way.
            Some(3) => {
                assert!(stderr(&out).contains("symbolic link"), "{when}: {}", stderr(&out));
                assert_eq!(std::fs::read(&real).unwrap(), body, "{when}");
            }
            // The locked file was protected where it is, by its folder's handle.
            Some(0) => assert!(is_protected(&real), "{when}: exit 0 but not protected"),
            other => panic!("{when}: exit {other:?}: {}", stderr(&out)),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// (c) hard links

#[test]
fn a_hard_linked_file_is_refused_with_exit_14_and_both_names_keep_their_bytes() {
    let s = Scratch::new();
    let pay = s.file("pay.txt", SENSITIVE.as_bytes());
    let elsewhere = s.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let copy = elsewhere.join("copy.txt");
    std::fs::hard_link(&pay, &copy).unwrap();
    let out = bin(&s).arg("protect").arg(&pay).args(["--template", TEMPLATE_ID, "--always"]).output().unwrap();
    assert_eq!(code(&out), Some(14), "{}", stderr(&out));
    assert!(stderr(&out).contains("hard link"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&pay).unwrap(), SENSITIVE.as_bytes());
    assert_eq!(std::fs::read(&copy).unwrap(), SENSITIVE.as_bytes());
    let log = std::fs::read_to_string(s.path().join("logs/fci-connector.log")).unwrap();
    assert!(log.contains("\"exit_code\":14") && log.contains("hard link"), "{log}");
    let status = bin(&s).arg("status").arg(&pay).output().unwrap();
    assert!(!String::from_utf8_lossy(&status.stdout).contains("protected by fci"), "status must not say protected");
    let out =
        bin(&s).arg("protect").arg(&pay).args(["--template", TEMPLATE_ID, "--always", "--dry-run"]).output().unwrap();
    assert_eq!(code(&out), Some(14), "a dry run says the same: {}", stderr(&out));
    // A folder run ranks it above the skip codes.
    let out = bin(&s)
        .arg("protect")
        .arg(s.path().join("data"))
        .args(["--recurse", "--template", TEMPLATE_ID, "--always", "--strict-exit"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(14), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------------------------
// Single files: a link in the path

#[test]
fn a_link_in_a_single_files_path_is_refused_unless_it_is_the_configured_share_root() {
    let s = Scratch::new();
    let real = s.path().join("real-share");
    std::fs::create_dir_all(real.join("dept")).unwrap();
    std::fs::write(real.join("dept/a.txt"), SENSITIVE).unwrap();
    let link = s.path().join("share-link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let file = link.join("dept/a.txt");

    let out = bin(&s).arg("protect").arg(&file).args(["--template", TEMPLATE_ID, "--always"]).output().unwrap();
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("{}: is a symbolic link", link.display())), "{}", stderr(&out));
    assert!(!is_protected(&real.join("dept/a.txt")));

    // The admin's own link to the share is fine once the share is configured; one below it is not.
    let config = s.path().join("fci-connector.toml");
    std::fs::write(&config, format!("share_roots = [{:?}]\n", link.display().to_string())).unwrap();
    let out = bin(&s)
        .arg("--config")
        .arg(&config)
        .arg("protect")
        .arg(&file)
        .args(["--template", TEMPLATE_ID, "--always"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(is_protected(&real.join("dept/a.txt")));
    std::fs::write(real.join("b.txt"), SENSITIVE).unwrap();
    std::os::unix::fs::symlink(&real, real.join("loop")).unwrap();
    let out = bin(&s)
        .arg("--config")
        .arg(&config)
        .arg("protect")
        .arg(link.join("loop/b.txt"))
        .args(["--template", TEMPLATE_ID, "--always"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));
    assert!(!is_protected(&real.join("b.txt")));
}

// ---------------------------------------------------------------------------------------------------------------
// (d) extended attributes, POSIX ACL and security.NTACL

fn getfacl(path: &Path) -> String {
    let out = Command::new("getfacl").args(["--numeric", "--absolute-names"]).arg(path).output().unwrap();
    assert!(out.status.success(), "getfacl: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn getfattr(path: &Path) -> String {
    let out = Command::new("getfattr")
        .args(["--absolute-names", "--dump", "--match=-", "--encoding=hex"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "getfattr: {}", String::from_utf8_lossy(&out.stderr));
    // The security module's label is given to every new file by policy, not copied.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("security.selinux"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
#[ignore = "needs root"]
fn extended_attributes_acls_and_ntacl_survive_protect_and_unprotect() {
    let s = Scratch::new();
    let users = Users::new("d");
    let f = s.file("acl.txt", SENSITIVE.as_bytes());
    users.alice.owns(&f);
    std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    run_ok(
        Command::new("setfacl")
            .arg("-m")
            .arg(format!("u:{}:rw,g:{}:r", users.mallory.name, users.mallory.name))
            .arg(&f),
    );
    run_ok(Command::new("setfattr").args(["-n", "user.DOSATTRIB", "-v", "0x00000400"]).arg(&f));
    run_ok(Command::new("setfattr").args(["-n", "user.note", "-v", "kept"]).arg(&f));
    run_ok(Command::new("setfattr").args(["-n", "security.NTACL", "-v", "0x0400040000000000deadbeef"]).arg(&f));
    let acl = getfacl(&f);
    let attrs = getfattr(&f);
    let modified = std::fs::metadata(&f).unwrap().modified().unwrap();
    assert!(acl.contains(&format!("user:{}:rw-", users.mallory.uid)), "{acl}");
    assert!(attrs.contains("security.NTACL") && attrs.contains("user.DOSATTRIB"), "{attrs}");

    let out = bin(&s).arg("protect").arg(&f).args(["--template", TEMPLATE_ID, "--always"]).output().unwrap();
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not kept"), "{}", stderr(&out));
    assert!(is_protected(&f));
    assert_eq!(getfacl(&f), acl, "the ACL changed on protect");
    assert_eq!(getfattr(&f), attrs, "extended attributes changed on protect");
    assert_eq!(std::fs::metadata(&f).unwrap().modified().unwrap(), modified);

    let out = bin(&s).arg("unprotect").arg(&f).arg("--key").arg(crate::util::key("issuer.key.pem")).output().unwrap();
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(&f).unwrap(), SENSITIVE.as_bytes());
    assert_eq!(getfacl(&f), acl, "the ACL changed on unprotect");
    assert_eq!(getfattr(&f), attrs, "extended attributes changed on unprotect");
}

// ---------------------------------------------------------------------------------------------------------------
// (e) writers

#[test]
fn a_file_open_for_writing_is_busy_and_left_as_it_was() {
    let s = Scratch::new();
    let f = s.file("open.txt", SENSITIVE.as_bytes());
    let writer = std::fs::OpenOptions::new().append(true).open(&f).unwrap();
    let out = bin(&s).arg("protect").arg(&f).args(["--template", TEMPLATE_ID, "--always"]).output().unwrap();
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("open for writing"), "{}", stderr(&out));
    drop(writer);
    assert_eq!(std::fs::read(&f).unwrap(), SENSITIVE.as_bytes());
    assert_eq!(s.data_listing(), ["open.txt"], "no temporary file left");
}

#[test]
fn a_writer_opening_the_file_mid_protect_is_not_kept_waiting_and_its_data_is_kept() {
    let s = Scratch::new();
    let original = pattern(32 * 1024 * 1024);
    let f = s.file("big.bin", &original);
    let data = s.path().join("data");
    let mut cmd = bin(&s);
    cmd.arg("protect").arg(&f).args(["--template", TEMPLATE_ID, "--always"]);
    let waited = Mutex::new(None);
    // Once the temporary file exists the run is reading the original: a writer then rewrites its first bytes
    // (already read) in place, which a rewrite that did not notice would lose.
    let (out, fired) = run_with_trigger(
        cmd,
        &data,
        WatchMask::CREATE,
        |name| name.is_some_and(|n| n.to_string_lossy().starts_with(".~fci-")),
        || {
            // Let the run get past the first segments, so the bytes below were already read.
            let mut probe = Inotify::init().unwrap();
            probe.watches().add(&f, WatchMask::ACCESS).unwrap();
            let mut buffer = [0u8; 1024];
            for _ in 0..4 {
                let _ = probe.read_events_blocking(&mut buffer);
            }
            let started = Instant::now();
            let mut w = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NOCTTY).open(&f).unwrap();
            *waited.lock().unwrap() = Some(started.elapsed());
            w.seek(SeekFrom::Start(0)).unwrap();
            w.write_all(b"WRITER WAS HERE").unwrap();
        },
    );
    assert!(fired, "the run never created its temporary file: {}", stderr(&out));
    let waited = waited.lock().unwrap().expect("the writer ran");
    assert!(waited < Duration::from_secs(10), "the writer waited {waited:?} (the lease-break timeout)");
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    let now = std::fs::read(&f).unwrap();
    assert!(now.starts_with(b"WRITER WAS HERE"), "the writer's data was lost");
    assert_eq!(now[15..], original[15..]);
    assert_eq!(s.data_listing(), ["big.bin"], "no temporary file left");
}

// ---------------------------------------------------------------------------------------------------------------
// (f) unprotect --output as root

#[test]
#[ignore = "needs root"]
fn unprotect_output_as_root_belongs_to_root_and_never_goes_through_a_link() {
    let s = Scratch::new();
    let users = Users::new("f");
    let f = s.file("alice.txt", SENSITIVE.as_bytes());
    users.alice.owns(&f);
    let out = bin(&s).arg("protect").arg(&f).args(["--template", TEMPLATE_ID, "--always"]).output().unwrap();
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&f).unwrap().uid(), users.alice.uid, "protect keeps the owner");

    let plain = s.path().join("plain.txt");
    let out = bin(&s)
        .arg("unprotect")
        .arg(&f)
        .arg("--key")
        .arg(crate::util::key("issuer.key.pem"))
        .arg("--output")
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let meta = std::fs::metadata(&plain).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0), "the plaintext belongs to the caller (root)");
    assert_eq!(std::fs::read(&plain).unwrap(), SENSITIVE.as_bytes());

    // A dangling link at the output name: refused, and nothing is created where it points.
    let pointed = s.path().join("alice-owned-target.txt");
    let trap = s.path().join("trap.txt");
    std::os::unix::fs::symlink(&pointed, &trap).unwrap();
    let out = bin(&s)
        .arg("unprotect")
        .arg(&f)
        .arg("--key")
        .arg(crate::util::key("issuer.key.pem"))
        .arg("--output")
        .arg(&trap)
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(!pointed.exists());
}

// ---------------------------------------------------------------------------------------------------------------
// Leftover cleanup

/// The stale-temp sweep removes only regular files: a symbolic link or a folder named like a leftover is kept
/// (and what the link points to is untouched).
#[test]
fn the_stale_sweep_leaves_links_and_folders_with_the_name_alone() {
    use fci_connector::platform::Folder;
    use fci_connector::protect::stale;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, b"keep").unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join(".~fci-link01.tmp")).unwrap();
    std::fs::create_dir(dir.path().join(".~fci-dir001.tmp")).unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    let s = stale::sweep(&Folder::open_root(dir.path()).unwrap(), Duration::ZERO, later).unwrap();
    assert!(s.removed.is_empty(), "{s:?}");
    assert_eq!(s.kept, 2);
    assert_eq!(std::fs::read(&target).unwrap(), b"keep");
}
