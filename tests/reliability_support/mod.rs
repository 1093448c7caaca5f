//! Helpers shared by the `reliability_*` tests: quick or long mode, a small seeded random source, the binary as a
//! plain `std::process::Command` (for tests that kill it or run many at once), and checks on what a folder holds.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use fci_connector::protect::stale::GRACE_ENV;

/// Set to `1` to run the long modes (several hundred crash trials, bigger files). `tests/long.sh` sets it.
pub const LONG_ENV: &str = "FCI_LONG_TESTS";

/// True when the long modes are asked for.
pub fn long_mode() -> bool {
    std::env::var(LONG_ENV).is_ok_and(|v| v == "1")
}

/// `quick` normally, `long` in long mode.
pub fn pick<T>(quick: T, long: T) -> T {
    if long_mode() { long } else { quick }
}

/// xorshift64*: reproducible randomness without a dependency. The seed is printed so a failure can be replayed
/// with `FCI_TEST_SEED`.
pub struct Rng(u64);

impl Rng {
    pub fn from_env(test: &str) -> Rng {
        let seed = std::env::var("FCI_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
        eprintln!("{test}: FCI_TEST_SEED={seed}");
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-enough in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The binary under test, as a plain command (no assert_cmd wrapper), with the scratch template store.
pub fn bin(templates: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fci-connector"));
    c.arg("--templates").arg(templates);
    c
}

/// The same, with leftovers of any age treated as abandoned: the next rewrite in the folder must remove them.
pub fn bin_sweeping(templates: &Path) -> Command {
    let mut c = bin(templates);
    c.env(GRACE_ENV, "0");
    c
}

/// Names in `dir` that look like this program's temporary files.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| fci_connector::protect::tempname::is_temp(p.file_name().unwrap()))
        .collect();
    v.sort();
    v
}

/// What a file on disk is, compared with its original bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum State {
    Original,
    /// A protected file that unprotects (with the issuer key) to the original bytes.
    Protected,
}

/// Classify `file` against `original`, unprotecting a copy into `scratch` to prove a protected file is whole.
/// Panics (with `what`) when the file is neither the original nor a valid protected copy of it.
pub fn state_of(templates: &Path, file: &Path, original: &[u8], scratch: &Path, what: &str) -> State {
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{what}: {} is gone: {e}", file.display()));
    if bytes == original {
        return State::Original;
    }
    assert!(bytes.starts_with(b"FCI-PROT"), "{what}: {} is neither the original nor protected", file.display());
    let out = scratch.join("check.bin");
    let _ = std::fs::remove_file(&out);
    let run = bin(templates)
        .arg("unprotect")
        .arg(file)
        .arg("--key")
        .arg(key("issuer.key.pem"))
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{what}: {} does not unprotect: {}",
        file.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    let plain = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    assert!(plain == original, "{what}: {} unprotects to different bytes", file.display());
    State::Protected
}

pub fn key(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys").join(name)
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                let bytes = std::fs::read(&p).unwrap();
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(p);
                }
            }
        }
    }
    found
}
