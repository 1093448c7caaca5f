//! The Unix side of [`super`]: `rename(2)` for the swap, `sync_file_range(2)` for writeback on Linux, no raw
//! command line, no event log.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

pub fn replace_file(replacement: &Path, dest: &Path) -> io::Result<()> {
    std::fs::rename(replacement, dest)
}

pub fn raw_command_line() -> Option<OsString> {
    None
}

pub fn report_failure_event(_message: &str) {}

/// How much written data starts its writeback at once. Large enough that the calls cost nothing measurable, small
/// enough that a 1 GiB protect never holds more than two windows of dirty pages (8 MiB windows kept this disk
/// too idle between them: 1 GiB took 30% longer than with 32 MiB).
#[cfg(target_os = "linux")]
const WRITEBACK_WINDOW: u64 = 32 * 1024 * 1024;

/// See [`super::Writeback`]. Writeback of each full window starts as soon as it is written; the process then waits
/// for the window before it, which bounds the dirty pages to two windows and overlaps encryption with the disk.
pub struct Writeback<'a> {
    file: &'a File,
    #[cfg(target_os = "linux")]
    written: u64,
    #[cfg(target_os = "linux")]
    started: u64,
    #[cfg(target_os = "linux")]
    previous: Option<(u64, u64)>,
}

impl<'a> Writeback<'a> {
    /// Write through to `file`, which must be positioned at its start (a new temporary file).
    pub fn new(file: &'a File) -> Self {
        Writeback {
            file,
            #[cfg(target_os = "linux")]
            written: 0,
            #[cfg(target_os = "linux")]
            started: 0,
            #[cfg(target_os = "linux")]
            previous: None,
        }
    }

    #[cfg(target_os = "linux")]
    fn advance(&mut self, n: usize) {
        use std::os::fd::AsRawFd;
        self.written += n as u64;
        if self.written - self.started < WRITEBACK_WINDOW {
            return;
        }
        let fd = self.file.as_raw_fd();
        let window = (self.started, self.written - self.started);
        // Only hints to the kernel: a file system that does not support them still gets the full flush later, so
        // their result does not matter. Offsets fit in off64_t: a file is never 2^63 bytes.
        // SAFETY: plain system calls on a file descriptor this struct borrows for its whole life.
        unsafe {
            libc::sync_file_range(fd, window.0 as i64, window.1 as i64, libc::SYNC_FILE_RANGE_WRITE);
            if let Some((start, len)) = self.previous {
                let wait =
                    libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER;
                libc::sync_file_range(fd, start as i64, len as i64, wait);
            }
        }
        self.previous = Some(window);
        self.started = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn advance(&mut self, _n: usize) {}
}

impl Write for Writeback<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.advance(n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

// MERGE: path-based stand-ins of the handle-based interface so this branch builds and its tests run on Linux; the
// rewrite helper's unix.rs replaces everything below.

/// Stand-in: a path.
#[derive(Debug)]
pub struct Folder {
    path: std::path::PathBuf,
}

impl Folder {
    pub fn open_root(path: &Path) -> io::Result<Folder> {
        Ok(Folder { path: path.to_path_buf() })
    }

    pub fn open_beneath(&self, relative: &Path) -> io::Result<Folder> {
        Ok(Folder { path: self.path.join(relative) })
    }

    pub fn open_file(&self, name: &std::ffi::OsStr) -> io::Result<File> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(self.path.join(name))?;
        if !file.metadata()?.is_file() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
        }
        Ok(file)
    }

    pub fn create_temp(&self, _like: Option<&File>) -> io::Result<(File, OsString)> {
        let temp = tempfile::Builder::new()
            .prefix(crate::protect::inplace::TEMP_PREFIX)
            .suffix(crate::protect::inplace::TEMP_SUFFIX)
            .tempfile_in(&self.path)?;
        let (file, path) = temp.keep().map_err(|e| e.error)?;
        Ok((file, path.file_name().map(OsString::from).unwrap_or_default()))
    }

    pub fn replace(&self, temp: &std::ffi::OsStr, name: &std::ffi::OsStr, _original: &File) -> io::Result<()> {
        std::fs::rename(self.path.join(temp), self.path.join(name))
    }

    pub fn rename_new(&self, temp: &std::ffi::OsStr, name: &std::ffi::OsStr) -> io::Result<()> {
        std::fs::hard_link(self.path.join(temp), self.path.join(name))?;
        std::fs::remove_file(self.path.join(temp))
    }

    pub fn remove(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        std::fs::remove_file(self.path.join(name))
    }

    pub fn names(&self) -> io::Result<Vec<OsString>> {
        std::fs::read_dir(&self.path)?.map(|e| e.map(|e| e.file_name())).collect()
    }

    pub fn sync(&self) {
        if let Ok(d) = File::open(&self.path) {
            let _ = d.sync_all();
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

pub fn file_identity(file: &File) -> io::Result<super::FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata()?;
    Ok(super::FileIdentity {
        volume: meta.dev(),
        index: u128::from(meta.ino()),
        size: meta.len(),
        changed: Some(std::time::UNIX_EPOCH + std::time::Duration::new(meta.ctime() as u64, meta.ctime_nsec() as u32)),
        links: meta.nlink(),
    })
}

/// Stand-in: owner, mode and times, as the rewrite did before.
pub fn copy_security(from: &File, to: &File) -> io::Result<Vec<String>> {
    use std::os::unix::fs::MetadataExt;
    let meta = from.metadata()?;
    let _ = std::os::unix::fs::fchown(to, Some(meta.uid()), Some(meta.gid()));
    to.set_permissions(meta.permissions())?;
    let mut times = std::fs::FileTimes::new();
    if let Ok(m) = meta.modified() {
        times = times.set_modified(m);
    }
    if let Ok(a) = meta.accessed() {
        times = times.set_accessed(a);
    }
    to.set_times(times)?;
    Ok(Vec::new())
}

/// Stand-in: no lease.
#[derive(Debug)]
pub struct ReadLease;

impl ReadLease {
    pub fn unsupported() -> ReadLease {
        ReadLease
    }

    pub fn held(&self) -> bool {
        false
    }

    pub fn broken(&self) -> bool {
        false
    }

    pub fn release(&self) {}
}

pub fn read_lease(_file: &File) -> io::Result<ReadLease> {
    Ok(ReadLease)
}
