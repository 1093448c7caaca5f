//! The Unix side of [`super`]: `rename(2)` for the swap, no raw command line, no event log.

use std::ffi::OsString;
use std::io;
use std::path::Path;

pub fn replace_file(replacement: &Path, dest: &Path) -> io::Result<()> {
    std::fs::rename(replacement, dest)
}

pub fn raw_command_line() -> Option<OsString> {
    None
}

pub fn report_failure_event(_message: &str) {}
