//! What the integration tests share: a scratch folder with a template store whose template is protected to the
//! committed test keys, the binary (through assert_cmd, or as a plain `std::process::Command` for tests that kill
//! it or run many at once), quick or long mode and a seeded random source for the reliability tests, and checks on
//! what a folder holds. Every test module imports from here; none declares its own copy.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use fci_connector::protect::stale::GRACE_ENV;

pub const TEMPLATE_ID: &str = "e6ee2481-26b9-45e5-b34a-f744eacd53b0";
pub const SEGMENT: usize = 64 * 1024;

/// The repository (the crate's folder).
/// Every `.rs` file under `dir`, in name order (the source scans of `architecture` and `platform_boundary`).
pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("tests/fixtures")
}

/// The repository's default rule folder.
pub fn rules() -> PathBuf {
    root().join("classification-rules")
}

pub fn key(name: &str) -> PathBuf {
    fixtures().join("keys").join(name)
}

/// A scratch folder with `templates/` holding one template (issuer + recovery key, by path) and `data/`.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir_all(templates.join("keys")).unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        for k in ["issuer.pub.pem", "recovery.pub.pem"] {
            std::fs::copy(key(k), templates.join("keys").join(k)).unwrap();
        }
        std::fs::write(
            templates.join("confidential.xml"),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<Template xmlns="urn:fci-connector:template:1">
  <Id>{{{}}}</Id>
  <Name>Contoso - Confidential</Name>
  <Description>Finance and HR only</Description>
  <Rights>
    <Grant principal="finance@contoso.com" rights="VIEW,EDIT,PRINT"/>
    <Grant principal="hr@contoso.com" rights="VIEW"/>
  </Rights>
  <ContentExpiry days="365"/>
  <OfflineAccessDays>7</OfflineAccessDays>
  <IssuerKey path="keys/issuer.pub.pem"/>
  <RecoveryKey path="keys/recovery.pub.pem"/>
</Template>
"#,
                TEMPLATE_ID.to_uppercase()
            ),
        )
        .unwrap();
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn templates(&self) -> PathBuf {
        self.path().join("templates")
    }

    /// Write a data file and return its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path().join("data").join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// The binary, with this scratch folder's template store.
    pub fn cmd(&self) -> Command {
        let mut c = cmd();
        c.arg("--templates").arg(self.templates());
        c
    }

    /// The binary with this scratch folder's templates, the repository's rules and its log in `logs/`: what an FSRM
    /// task runs.
    pub fn task(&self) -> Command {
        let mut c = self.cmd();
        c.arg("--rules").arg(rules()).arg("--log-dir").arg(self.path().join("logs"));
        c
    }

    /// The same as a plain `std::process::Command`, for a run that is started in the background, killed or piped.
    pub fn task_process(&self) -> std::process::Command {
        let mut c = bin(&self.templates());
        c.arg("--rules").arg(rules()).arg("--log-dir").arg(self.path().join("logs"));
        c
    }

    pub fn protect(&self, file: &Path) -> assert_cmd::assert::Assert {
        self.cmd().arg("protect").arg(file).args(["--template", TEMPLATE_ID, "--always"]).assert()
    }

    pub fn unprotect(&self, file: &Path, key_name: &str) -> assert_cmd::assert::Assert {
        self.cmd().arg("unprotect").arg(file).arg("--key").arg(key(key_name)).assert()
    }

    /// Names of everything in the data folder, sorted (to prove nothing was left behind).
    pub fn data_listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path().join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Deterministic, incompressible-looking test content.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// Where a protected file's payload starts: its header length, read with the library.
pub fn payload_offset(protected: &[u8]) -> usize {
    let mut r = protected;
    let h = fci_connector::protect::container::header::Header::read(&mut r).unwrap();
    h.len() as usize
}

/// The binary, with no options.
pub fn cmd() -> Command {
    Command::cargo_bin("fci-connector").unwrap()
}

/// Standard output of a finished run, as text.
pub fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

/// Standard error of a finished run, as text.
pub fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Whether the file at `path` is a protected file (starts with the container magic).
pub fn is_protected(path: &Path) -> bool {
    std::fs::read(path).unwrap().starts_with(b"FCI-PROT")
}

/// Copy the folder `from` (recursively) to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The reliability tests

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

    /// A fixed seed, for inputs that must be the same every run.
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// Uniform-enough in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The binary under test, as a plain command (no assert_cmd wrapper), with the scratch template store.
pub fn bin(templates: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fci-connector"));
    c.arg("--templates").arg(templates);
    c
}

/// The same, with leftovers of any age treated as abandoned: the next rewrite in the folder must remove them.
pub fn bin_sweeping(templates: &Path) -> std::process::Command {
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

// ---------------------------------------------------------------------------------------------------------------
// Test users (root only)

/// `useradd` and `userdel` lock /etc/passwd and fail when it is locked; every test runs in this one process, so
/// one at a time.
#[cfg(target_os = "linux")]
static USERADD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Make the user `name` (with its own group, no home, no shell), replacing a leftover of an earlier run.
#[cfg(target_os = "linux")]
pub fn add_user(name: &str) {
    let _guard = USERADD.lock().unwrap_or_else(|e| e.into_inner());
    let _ = std::process::Command::new("userdel").arg(name).output();
    let out = std::process::Command::new("useradd")
        .args(["--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin"])
        .arg(name)
        .output()
        .expect("useradd (run as root)");
    assert!(out.status.success(), "useradd {name}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Remove the user `name` (and its group), if it exists.
#[cfg(target_os = "linux")]
pub fn remove_user(name: &str) {
    let _guard = USERADD.lock().unwrap_or_else(|e| e.into_inner());
    let _ = std::process::Command::new("userdel").arg(name).output();
}

/// Every file under `dir` with its bytes.
pub fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

/// This machine's name as the OS gives it (what a folder report names as its host).
pub fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").or_else(|_| {
        std::process::Command::new("hostname").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    });
    name.unwrap().trim().to_string()
}

/// The rules' version a report gives, recomputed: the SHA-256 of the rule files' bytes in the order listed, in hex.
pub fn rules_sha256(dir: &Path, files: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for name in files {
        hash.update(std::fs::read(dir.join(name)).unwrap());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `*.xml` files of the repository's rule folder, in load order (file-name order).
pub fn rule_file_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(rules())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort_by_key(|n| n.to_lowercase());
    names
}

/// Every file under `dir`, in order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { stack.push(p) } else { files.push(p) }
        }
    }
    files.sort();
    files
}

/// The `<Regex>` patterns of every rule file under `dir` (UTF-8 or UTF-16), as written.
pub fn regex_patterns_under(dir: &Path) -> Vec<String> {
    let re = regex::Regex::new(r"(?s)<Regex\b[^>]*>(.*?)</Regex>").unwrap();
    let mut out = Vec::new();
    for file in files_under(dir).into_iter().filter(|f| f.extension().is_some_and(|e| e == "xml")) {
        let bytes = std::fs::read(&file).unwrap();
        let text = if bytes.starts_with(&[0xFF, 0xFE]) {
            let units: Vec<u16> = bytes[2..].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(&bytes).trim_start_matches('\u{feff}').to_string()
        };
        for m in re.captures_iter(&text) {
            out.push(
                m[1].trim().replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&"),
            );
        }
    }
    out
}

/// The text of every file of the sample share the extractor reads.
pub fn sample_share_texts() -> Vec<String> {
    let mut texts = Vec::new();
    for file in files_under(&root().join("samples/share")) {
        let mut text = String::new();
        if fci_connector::extract::extract(&file, &Default::default(), &mut |chunk| text.push_str(chunk)).is_ok() {
            texts.push(text);
        }
    }
    assert!(texts.len() >= 30, "the sample share's files are read: {}", texts.len());
    texts
}
