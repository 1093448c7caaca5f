//! What differs between Windows and Unix, behind one interface: replacing a file with another in one step, writing
//! a large new file out to disk while it is written, the raw command line as the OS received it, and reporting
//! failures to the system's event log.
//!
//! The implementations live in `unix.rs` and `windows.rs`; `winpath.rs` holds the Windows path rules as pure
//! functions, compiled everywhere so their unit tests run on any machine.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

#[cfg(not(windows))]
mod unix;
#[cfg(not(windows))]
use unix as imp;

#[cfg(windows)]
pub(crate) mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg_attr(not(windows), allow(dead_code))]
mod winpath;
#[cfg_attr(not(windows), allow(dead_code))]
mod winrules;

// MERGE: the declarations below follow the shared interface as the rewrite helper's platform/mod.rs spells it
// (Folder and ReadLease re-exported from `imp`, resolve_target here); take that file's version.

/// A folder opened by handle: everything beneath it is reached relative to this handle, one component at a time,
/// never through a symbolic link, junction or mount point. (Windows: the chain of folder handles from the root held
/// open without `FILE_SHARE_DELETE`, so no folder in it can be renamed or replaced while we work; each opened with
/// `FILE_FLAG_OPEN_REPARSE_POINT` and refused if it is a symbolic link or junction.)
pub use imp::Folder;

/// A read lease on an open file (Linux `F_SETLEASE F_RDLCK`); elsewhere one that is never broken.
pub use imp::ReadLease;

/// Take a read lease on `file` (open read-only).
pub fn read_lease(file: &File) -> io::Result<ReadLease> {
    imp::read_lease(file)
}

/// What identifies a file and tells it changed: (device, inode) on Unix, (volume serial, file index) on Windows,
/// its size, change time and number of hard links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    pub volume: u64,
    pub index: u128,
    pub size: u64,
    pub changed: Option<SystemTime>,
    pub links: u64,
}

impl FileIdentity {
    /// The same file (not necessarily the same content).
    pub fn same_file(&self, other: &FileIdentity) -> bool {
        self.volume == other.volume && self.index == other.index
    }

    /// The same file, and nothing written to it or changed about it in between.
    pub fn unchanged(&self, other: &FileIdentity) -> bool {
        self.same_file(other) && self.size == other.size && self.changed == other.changed
    }
}

/// The identity of the open `file`.
pub fn file_identity(file: &File) -> io::Result<FileIdentity> {
    imp::file_identity(file)
}

/// Give `to` everything of `from` that decides who may do what with it (Windows: attributes, times and every
/// alternate data stream; the security descriptor was given at create). What could not be kept is returned as
/// warnings, never silently dropped.
pub fn copy_security(from: &File, to: &File) -> io::Result<Vec<String>> {
    imp::copy_security(from, to)
}

/// Where a file to work on is: the task root, the folder holding the file (opened beneath the root) and its name.
#[derive(Debug)]
pub struct Target {
    pub root: PathBuf,
    pub folder: Folder,
    pub name: OsString,
}

/// The configured share roots (`share_roots` in the config), longest match wins in [`resolve_target`].
static SHARE_ROOTS: RwLock<Vec<PathBuf>> = RwLock::new(Vec::new());

/// Resolve `path` beneath `root`; for a single file (`root` = `None`), beneath the longest configured share root
/// containing it, else beneath the file system root, so that no link anywhere in the path below it is followed.
pub fn resolve_target(path: &Path, root: Option<&Path>) -> io::Result<Target> {
    let (root, relative) = match root {
        Some(root) => {
            let abs_root = lexical(&std::path::absolute(root)?);
            let abs = lexical(&std::path::absolute(path)?);
            let relative = abs
                .strip_prefix(&abs_root)
                .map(Path::to_path_buf)
                .map_err(|_| invalid(format!("{}: is not beneath the folder {}", path.display(), root.display())))?;
            (root.to_path_buf(), relative)
        }
        None => {
            let abs = lexical(&std::path::absolute(path)?);
            let root = share_root_for(&abs).unwrap_or_else(|| abs.ancestors().last().unwrap_or(&abs).to_path_buf());
            let relative = abs.strip_prefix(&root).map(Path::to_path_buf).unwrap_or_default();
            (root, relative)
        }
    };
    let name = match relative.components().next_back() {
        Some(Component::Normal(name)) => name.to_os_string(),
        _ => return Err(invalid(format!("{}: names no file", path.display()))),
    };
    let parent = relative.parent().unwrap_or(Path::new(""));
    let folder = Folder::open_root(&root)?.open_beneath(parent)?;
    Ok(Target { root, folder, name })
}

fn share_root_for(abs: &Path) -> Option<PathBuf> {
    let roots = SHARE_ROOTS.read().ok()?;
    roots.iter().filter(|r| abs.starts_with(r) && abs != r.as_path()).max_by_key(|r| r.components().count()).cloned()
}

/// `path` with `.` dropped and `..` taken lexically.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Replace `dest` with `replacement` (a file in the same folder) in one step.
///
/// On Unix this is `rename(2)`, atomic on the same file system. On Windows it is `ReplaceFileW`, which keeps the
/// original's ACL, owner, attributes, creation time and alternate data streams (where FSRM keeps classification
/// properties), falling back to `MoveFileExW(REPLACE_EXISTING | WRITE_THROUGH)` where the file system or share does
/// not support it. A read-only original is replaced and the result made read-only again.
pub fn replace_file(replacement: &Path, dest: &Path) -> io::Result<()> {
    imp::replace_file(replacement, dest)
}

/// A writer over a new file that starts writing its data out to disk while more is being written, so the flush
/// before the swap finds little left to do (Linux: `sync_file_range`, one window behind; elsewhere a plain
/// pass-through). Bytes go to the file unchanged and in order; it never flushes anything itself on drop.
pub type Writeback<'a> = imp::Writeback<'a>;

/// The command line exactly as the process received it, where the OS keeps one (Windows: `GetCommandLineW`).
/// `None` where the OS passes only an argument vector (Unix).
pub fn raw_command_line() -> Option<OsString> {
    imp::raw_command_line()
}

/// Record a failure in the system's event log where there is one (Windows Application log, source
/// [`EVENT_SOURCE`]). Never fails the run: an event log that is full, missing or not allowed is ignored.
pub fn report_failure_event(message: &str) {
    imp::report_failure_event(message)
}

/// The event source name in the Windows Application log (registered by `fci-scripts/Install-FciConnector.ps1`).
pub const EVENT_SOURCE: &str = "FciConnector";
