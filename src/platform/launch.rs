//! Opening a file in the user's default application (`open --launch`), and telling whether any process still holds
//! a file open.
//!
//! - [`launch`]: `xdg-open` on Linux and other Unix (`open` on macOS), `ShellExecuteExW` (the shell's default verb)
//!   on Windows; or a program given by the caller, started with the file as its one argument.
//! - [`is_held_open`]: Linux reads the `/proc/<pid>/fd` links of every process it may read (another user's processes
//!   are unreadable, and cannot open a file in a 0700 folder anyway); Windows asks the Restart Manager
//!   (`RmGetList`), which sees every process with a handle on the file. Elsewhere never held: the caller's quiet
//!   period is all there is.

use std::ffi::OsStr;
use std::io;
use std::path::Path;

use super::imp;

/// What [`launch`] started: the opener, or the application itself.
pub struct Launched {
    inner: imp::Launched,
    /// The application was handed the file by an opener (`xdg-open`, the Windows shell), which may return before
    /// the application has even opened it.
    pub handed_over: bool,
}

impl Launched {
    /// Whether the started process has ended (or there was none to wait for: the shell handed the file to a
    /// running application).
    pub fn finished(&mut self) -> bool {
        self.inner.finished()
    }
}

/// Start `program` with `path` as its argument, or without a program the user's default application for `path`.
/// Returns once it is started; [`Launched::finished`] tells when the started process ends.
pub fn launch(path: &Path, program: Option<&OsStr>) -> io::Result<Launched> {
    match program {
        Some(program) => {
            let child = std::process::Command::new(program).arg(path).stdin(std::process::Stdio::null()).spawn()?;
            Ok(Launched { inner: imp::Launched::from_child(child), handed_over: false })
        }
        None => Ok(Launched { inner: imp::launch_default(path)?, handed_over: true }),
    }
}

/// Whether a process (this one included) has the file at `path` open. An error means it could not be told.
pub fn is_held_open(path: &Path) -> io::Result<bool> {
    imp::is_held_open(path)
}
