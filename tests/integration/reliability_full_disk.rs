//! Full disk: when the protected or decrypted copy cannot be written, the run exits 8, the original is
//! byte-identical and no temporary file is left.
//!
//! Two ways to run out of space: a small tmpfs the test mounts (needs root, as on CI machines: ignored unless run
//! with `--ignored`), and the file-size resource limit (RLIMIT_FSIZE), which needs no privilege and makes every
//! write past the limit fail with EFBIG.
#![cfg(target_os = "linux")]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::*;

fn protect(s: &Scratch, file: &Path) -> std::process::Command {
    let mut c = bin(&s.templates());
    c.arg("protect").arg(file).args(["--template", TEMPLATE_ID, "--always"]);
    c
}

fn unprotect(s: &Scratch, file: &Path, output: Option<&Path>) -> std::process::Command {
    let mut c = bin(&s.templates());
    c.arg("unprotect").arg(file).arg("--key").arg(key("issuer.key.pem"));
    if let Some(o) = output {
        c.arg("--output").arg(o);
    }
    c
}

/// Limit the child's file writes to `bytes`, and ignore SIGXFSZ so the write fails instead of killing it.
fn with_fsize_limit(mut c: std::process::Command, bytes: u64) -> std::process::Command {
    unsafe {
        c.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    c
}

fn assert_write_failure(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{what}: {stderr}");
    assert!(stderr.contains("(exit 8)"), "{what}: {stderr}");
}

fn assert_untouched(dir: &Path, file: &Path, bytes: &[u8], listing: &[PathBuf], what: &str) {
    assert!(std::fs::read(file).unwrap() == bytes, "{what}: the file changed");
    assert_eq!(&listing_of(dir), listing, "{what}: the folder changed");
    assert!(temp_files(dir).is_empty(), "{what}: temporary file left");
}

fn listing_of(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

#[test]
fn file_size_limit_exit_8_original_intact_no_temp() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let original = pattern(3 << 20);
    let f = s.file("big.bin", &original);
    let listing = listing_of(&data);

    let out = with_fsize_limit(protect(&s, &f), 1 << 20).output().unwrap();
    assert_write_failure(&out, "protect");
    assert!(String::from_utf8_lossy(&out.stderr).contains("big.bin"), "names the file");
    assert_untouched(&data, &f, &original, &listing, "protect");

    // Protected without a limit, then unprotect in place and to a new file under the limit.
    assert!(protect(&s, &f).output().unwrap().status.success());
    let protected = std::fs::read(&f).unwrap();
    let out = with_fsize_limit(unprotect(&s, &f, None), 1 << 20).output().unwrap();
    assert_write_failure(&out, "unprotect in place");
    assert_untouched(&data, &f, &protected, &listing, "unprotect in place");
    let copy = data.join("copy.bin");
    let out = with_fsize_limit(unprotect(&s, &f, Some(&copy)), 1 << 20).output().unwrap();
    assert_write_failure(&out, "unprotect --output");
    assert_untouched(&data, &f, &protected, &listing, "unprotect --output");
}

/// A file large enough for the sealing pipeline (past 8 MiB the protected copy is written on a thread of its own):
/// a write that fails there is the same exit 8, with the original intact and no temporary file.
#[test]
fn file_size_limit_in_the_sealing_pipeline_exit_8_original_intact_no_temp() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let original = pattern(14 << 20);
    let f = s.file("large.bin", &original);
    let listing = listing_of(&data);
    for limit in [9 << 20, 13 << 20] {
        let out = with_fsize_limit(protect(&s, &f), limit).output().unwrap();
        assert_write_failure(&out, "protect");
        assert!(String::from_utf8_lossy(&out.stderr).contains("large.bin"), "names the file");
        assert_untouched(&data, &f, &original, &listing, "protect");
    }
}

/// A tmpfs of `size` mounted for the life of the value.
pub(crate) struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    pub(crate) fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fill the disk until at most `leave` bytes are free.
    pub(crate) fn fill(&self, leave: u64) {
        let free = free_bytes(self.path());
        if free > leave {
            let filler = vec![0u8; (free - leave) as usize];
            // Writing may stop short on a nearly full tmpfs; what got written is enough.
            let _ = std::fs::write(self.path().join("filler"), &filler);
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

fn free_bytes(path: &Path) -> u64 {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    st.f_bavail as u64 * st.f_frsize as u64
}

#[test]
#[ignore = "needs root"]
fn full_tmpfs_exit_8_original_intact_no_temp() {
    let disk = SmallDisk::mount("8m").expect("cannot mount a tmpfs here: run as root (the test is ignored otherwise)");
    let s = Scratch::new();
    let dir = disk.path();

    // 5 MB cannot be protected beside itself on an 8 MB disk.
    let original = pattern(5 << 20);
    let f = dir.join("payroll.xlsx");
    std::fs::write(&f, &original).unwrap();
    let listing = listing_of(dir);
    let out = protect(&s, &f).output().unwrap();
    assert_write_failure(&out, "protect on a full disk");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no space left"), "{out:?}");
    assert_untouched(dir, &f, &original, &listing, "protect on a full disk");

    // 2 MB can; then fill the disk so that it cannot be unprotected.
    std::fs::remove_file(&f).unwrap();
    let original = pattern(2 << 20);
    std::fs::write(&f, &original).unwrap();
    assert!(protect(&s, &f).output().unwrap().status.success());
    let protected = std::fs::read(&f).unwrap();
    disk.fill(512 * 1024);
    let listing = listing_of(dir);
    let out = unprotect(&s, &f, None).output().unwrap();
    assert_write_failure(&out, "unprotect on a full disk");
    assert_untouched(dir, &f, &protected, &listing, "unprotect on a full disk");
    let out = unprotect(&s, &f, Some(&dir.join("copy.xlsx"))).output().unwrap();
    assert_write_failure(&out, "unprotect --output on a full disk");
    assert_untouched(dir, &f, &protected, &listing, "unprotect --output on a full disk");

    // With room again, it works: nothing was left in a bad state.
    std::fs::remove_file(dir.join("filler")).unwrap();
    assert!(unprotect(&s, &f, None).output().unwrap().status.success());
    assert!(std::fs::read(&f).unwrap() == original);
}
