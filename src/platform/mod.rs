//! What differs between Windows and Unix, behind one interface: replacing a file with another in one step, writing
//! a large new file out to disk while it is written, the raw command line as the OS received it, and reporting
//! failures to the system's event log.
//!
//! The implementations live in `unix.rs` and `windows.rs`; `winpath.rs` holds the Windows path rules as pure
//! functions, compiled everywhere so their unit tests run on any machine.

use std::ffi::OsString;
use std::io;
use std::path::Path;

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

mod perms;
pub use perms::{
    Ace, TRUSTED_SIDS, Untrusted, check_trusted, dacl_problem, restrict_to_owner, system_config_dir, unix_problem,
};

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
