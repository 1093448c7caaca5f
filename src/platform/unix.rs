//! The Unix side of [`super`]: folders as descriptors and everything beneath them reached with the `*at` calls
//! (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` on Linux, else `O_NOFOLLOW` one component at a time),
//! `renameat(2)` for the swap, extended attributes and ACLs copied by descriptor, read leases, `sync_file_range(2)`
//! for writeback on Linux, no raw command line, no event log.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::{FileIdentity, invalid, one_component};

/// See [`super::Folder`].
#[derive(Debug)]
pub struct Folder {
    fd: OwnedFd,
    path: PathBuf,
}

/// Flags every folder is opened with. Read access where we have it (to list and flush it), else `O_PATH`, which
/// is enough to open things beneath it.
const DIR_FLAGS: OFlags = OFlags::DIRECTORY.union(OFlags::CLOEXEC).union(OFlags::NOFOLLOW);

impl Folder {
    pub fn open_root(path: &Path) -> io::Result<Folder> {
        let flags = OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = match rustix::fs::open(path, flags | OFlags::RDONLY, Mode::empty()) {
            Err(Errno::ACCESS) => rustix::fs::open(path, flags | OFlags::PATH, Mode::empty())?,
            other => other?,
        };
        Ok(Folder { fd, path: path.to_path_buf() })
    }

    pub fn open_beneath(&self, relative: &Path) -> io::Result<Folder> {
        let mut clean = PathBuf::new();
        for part in relative.components() {
            match part {
                Component::Normal(name) => clean.push(name),
                Component::CurDir => {}
                _ => {
                    return Err(invalid(format!(
                        "{}: {} leads out of the folder",
                        self.path.display(),
                        relative.display()
                    )));
                }
            }
        }
        let path = self.path.join(&clean);
        if clean.as_os_str().is_empty() {
            return Ok(Folder { fd: self.fd.try_clone()?, path });
        }
        #[cfg(target_os = "linux")]
        {
            use rustix::fs::ResolveFlags;
            let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            // Any failure (an old kernel without openat2, a link on the way, a concurrent rename) is settled by the
            // walk below, which is as strict and names the component that failed.
            if let Ok(fd) = rustix::fs::openat2(&self.fd, &clean, DIR_FLAGS | OFlags::RDONLY, Mode::empty(), resolve) {
                return Ok(Folder { fd, path });
            }
        }
        let mut current: Option<OwnedFd> = None;
        let mut at = self.path.clone();
        for name in clean.components() {
            at.push(name);
            let dir = current.as_ref().map_or(self.fd.as_fd(), |fd| fd.as_fd());
            current = Some(open_dir_at(dir, name.as_os_str(), &at)?);
        }
        match current {
            Some(fd) => Ok(Folder { fd, path }),
            None => Ok(Folder { fd: self.fd.try_clone()?, path }),
        }
    }

    pub fn open_file(&self, name: &OsStr) -> io::Result<File> {
        let name = one_component(name, &self.path)?;
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::LOOP) => return Err(link_refused(&self.path.join(name))),
            Err(e) => return Err(e.into()),
        };
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            let what = if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
                "is a folder"
            } else {
                "is not a regular file"
            };
            return Err(invalid(format!("{}: {what}", self.path.join(name).display())));
        }
        Ok(File::from(fd))
    }

    pub fn create_temp(
        &self,
        _like: Option<&File>,
        fresh_name: &dyn Fn() -> io::Result<OsString>,
    ) -> io::Result<(File, OsString)> {
        let flags = OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        for _ in 0..64 {
            let name = fresh_name()?;
            match rustix::fs::openat(&self.fd, &name, flags, Mode::from_raw_mode(0o600)) {
                Ok(fd) => return Ok((File::from(fd), name)),
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary file name"))
    }

    pub fn replace(&self, temp: &OsStr, name: &OsStr, original: &File) -> io::Result<()> {
        let name = one_component(name, &self.path)?;
        let now = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)?;
        let locked = rustix::fs::fstat(original)?;
        if now.st_dev != locked.st_dev || now.st_ino != locked.st_ino {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!(
                    "{}: busy: the name was given to another file while it was rewritten",
                    self.path.join(name).display()
                ),
            ));
        }
        rustix::fs::renameat(&self.fd, one_component(temp, &self.path)?, &self.fd, name)?;
        Ok(())
    }

    pub fn rename_new(&self, temp: &OsStr, name: &OsStr) -> io::Result<()> {
        let temp = one_component(temp, &self.path)?;
        let name = one_component(name, &self.path)?;
        #[cfg(target_os = "linux")]
        match rustix::fs::renameat_with(&self.fd, temp, &self.fd, name, rustix::fs::RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            // File systems without RENAME_NOREPLACE: a hard link is just as exclusive.
            Err(Errno::INVAL) | Err(Errno::NOSYS) | Err(Errno::OPNOTSUPP) => {}
            Err(e) => return Err(e.into()),
        }
        rustix::fs::linkat(&self.fd, temp, &self.fd, name, AtFlags::empty())?;
        let _ = rustix::fs::unlinkat(&self.fd, temp, AtFlags::empty());
        Ok(())
    }

    pub fn remove(&self, name: &OsStr) -> io::Result<()> {
        // unlinkat removes a link itself, never what it points to.
        Ok(rustix::fs::unlinkat(&self.fd, one_component(name, &self.path)?, AtFlags::empty())?)
    }

    pub fn names(&self) -> io::Result<Vec<OsString>> {
        let fd =
            rustix::fs::openat(&self.fd, ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
        let mut dir = rustix::fs::Dir::new(fd)?;
        let mut names = Vec::new();
        while let Some(entry) = dir.read() {
            let bytes = entry?.file_name().to_bytes().to_vec();
            if bytes != b"." && bytes != b".." {
                names.push(OsString::from(OsStr::from_bytes(&bytes)));
            }
        }
        Ok(names)
    }

    pub fn sync(&self) {
        // Fails on an O_PATH descriptor; the data itself is already on disk.
        let _ = rustix::fs::fsync(&self.fd);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Open the folder `name` beneath `dir`, refusing a link (`at` is its path, for messages).
fn open_dir_at(dir: BorrowedFd<'_>, name: &OsStr, at: &Path) -> io::Result<OwnedFd> {
    let fd = match rustix::fs::openat(dir, name, DIR_FLAGS | OFlags::RDONLY, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ACCESS) => rustix::fs::openat(dir, name, DIR_FLAGS | OFlags::PATH, Mode::empty())?,
        Err(e @ (Errno::LOOP | Errno::NOTDIR)) => {
            return Err(match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => link_refused(at),
                Ok(_) => invalid(format!("{}: is not a folder", at.display())),
                Err(_) => e.into(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    // O_PATH with O_NOFOLLOW would open a link itself: make sure this step is a folder.
    if FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode) != FileType::Directory {
        return Err(link_refused(at));
    }
    Ok(fd)
}

fn link_refused(at: &Path) -> io::Error {
    invalid(format!("{}: is a symbolic link; links beneath the task's folder are never followed", at.display()))
}

pub fn file_identity(file: &File) -> io::Result<FileIdentity> {
    let meta = file.metadata()?;
    let changed = u64::try_from(meta.ctime())
        .ok()
        .zip(u32::try_from(meta.ctime_nsec()).ok())
        .and_then(|(s, n)| SystemTime::UNIX_EPOCH.checked_add(Duration::new(s, n)));
    Ok(FileIdentity {
        volume: meta.dev(),
        index: u128::from(meta.ino()),
        size: meta.len(),
        changed,
        links: meta.nlink(),
    })
}

/// True for the extended attributes that carry who may do what with a file: the user's (`user.*`, Samba's
/// `user.DOSATTRIB`), Samba's copy of the Windows ACL and the POSIX ACL. Not the others on purpose: the security
/// module's label is given by policy to every new file, and file capabilities must never be copied onto new
/// content.
fn kept_xattr(name: &[u8]) -> bool {
    name.starts_with(b"user.") || name == b"security.NTACL" || name == b"system.posix_acl_access"
}

pub fn copy_security(from: &File, to: &File) -> io::Result<Vec<String>> {
    let mut warnings = Vec::new();
    let want = rustix::fs::fstat(from)?;
    // Owner first: chown clears the set-id bits, which the mode below puts back.
    if let Err(e) = rustix::fs::fchown(
        to,
        Some(rustix::fs::Uid::from_raw(want.st_uid)),
        Some(rustix::fs::Gid::from_raw(want.st_gid)),
    ) {
        let now = rustix::fs::fstat(to)?;
        if now.st_uid != want.st_uid || now.st_gid != want.st_gid {
            warnings.push(format!("owner and group {}:{} not kept: {e}", want.st_uid, want.st_gid));
        }
    }
    rustix::fs::fchmod(to, Mode::from_raw_mode(want.st_mode & 0o7777))?;
    match xattr_names(from) {
        Ok(names) => {
            for name in names.iter().filter(|n| kept_xattr(n)) {
                if let Err(e) = copy_xattr(from, to, name) {
                    let shown = String::from_utf8_lossy(name);
                    warnings.push(format!("extended attribute {shown} not kept: {e}"));
                }
            }
        }
        // A file system without extended attributes: nothing to keep.
        Err(Errno::NOTSUP) => {}
        Err(e) => warnings.push(format!("extended attributes not read, so not kept: {e}")),
    }
    // Times last: nothing after this may move them.
    let meta = from.metadata()?;
    let mut times = std::fs::FileTimes::new();
    if let Ok(modified) = meta.modified() {
        times = times.set_modified(modified);
    }
    if let Ok(accessed) = meta.accessed() {
        times = times.set_accessed(accessed);
    }
    to.set_times(times)?;
    Ok(warnings)
}

fn xattr_names(file: &File) -> Result<Vec<Vec<u8>>, Errno> {
    // The list can grow between the size query and the read: try again then.
    for _ in 0..8 {
        let size = rustix::fs::flistxattr_query(file)?;
        let mut buf = vec![0u8; size.max(1)];
        match rustix::fs::flistxattr(file, &mut buf[..]) {
            Ok(len) => {
                buf.truncate(len);
                return Ok(buf.split(|b| *b == 0).filter(|n| !n.is_empty()).map(<[u8]>::to_vec).collect());
            }
            Err(Errno::RANGE) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Errno::RANGE)
}

fn copy_xattr(from: &File, to: &File, name: &[u8]) -> Result<(), Errno> {
    let name = OsStr::from_bytes(name);
    for _ in 0..8 {
        let size = rustix::fs::fgetxattr_query(from, name)?;
        let mut value = vec![0u8; size.max(1)];
        match rustix::fs::fgetxattr(from, name, &mut value[..]) {
            Ok(len) => {
                value.truncate(len);
                return rustix::fs::fsetxattr(to, name, &value, rustix::fs::XattrFlags::empty());
            }
            Err(Errno::RANGE) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Errno::RANGE)
}

/// See [`super::ReadLease`]. Holds its own descriptor of the same open file, so releasing does not need the
/// caller's.
#[derive(Debug)]
pub struct ReadLease {
    fd: Option<OwnedFd>,
    released: AtomicBool,
}

impl ReadLease {
    /// A lease that was never taken and is never broken.
    pub fn unsupported() -> ReadLease {
        ReadLease { fd: None, released: AtomicBool::new(true) }
    }

    /// True while the lease is held (not unsupported, not broken, not released).
    pub fn held(&self) -> bool {
        self.fd.is_some() && !self.released.load(Ordering::SeqCst)
    }

    /// True when a writer has opened the file since the lease was taken. The lease is then released at once, so
    /// the writer's open goes on without waiting for the kernel's lease-break timeout.
    pub fn broken(&self) -> bool {
        let Some(fd) = &self.fd else { return false };
        if self.released.load(Ordering::SeqCst) {
            return true;
        }
        // SAFETY: F_GETLEASE on a descriptor this struct owns; it takes no pointer.
        let state = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETLEASE) };
        if state == libc::F_RDLCK {
            return false;
        }
        self.release();
        true
    }

    /// Give the lease up (idempotent).
    pub fn release(&self) {
        let Some(fd) = &self.fd else { return };
        if !self.released.swap(true, Ordering::SeqCst) {
            // SAFETY: F_SETLEASE on a descriptor this struct owns; it takes no pointer.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK) };
        }
    }
}

impl Drop for ReadLease {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(target_os = "linux")]
pub fn read_lease(file: &File) -> io::Result<ReadLease> {
    ignore_sigio();
    let fd = OwnedFd::from(file.try_clone()?);
    // SAFETY: F_SETLEASE on a descriptor we own; it takes no pointer.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETLEASE, libc::F_RDLCK) } == 0 {
        return Ok(ReadLease { fd: Some(fd), released: AtomicBool::new(false) });
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EAGAIN) => {
            Err(io::Error::new(io::ErrorKind::WouldBlock, "another process has the file open for writing"))
        }
        // Not the file's owner without CAP_LEASE, a file system without leases, leases switched off: the final
        // size and change-time comparison before the rename has to do.
        _ => Ok(ReadLease::unsupported()),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn read_lease(_file: &File) -> io::Result<ReadLease> {
    Ok(ReadLease::unsupported())
}

/// The kernel signals a lease break with SIGIO, whose default action ends the process. Breaks are polled with
/// F_GETLEASE instead, so the signal is ignored (once, before the first lease).
#[cfg(target_os = "linux")]
fn ignore_sigio() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: installs the predefined SIG_IGN disposition; no handler code runs.
        unsafe { libc::signal(libc::SIGIO, libc::SIG_IGN) };
    });
}

pub fn raw_command_line() -> Option<OsString> {
    None
}

/// See [`super::Launched`]: the started process.
pub struct Launched(std::process::Child);

impl Launched {
    pub fn from_child(child: std::process::Child) -> Launched {
        Launched(child)
    }

    pub fn finished(&mut self) -> bool {
        // An error here means there is no such child any more.
        !matches!(self.0.try_wait(), Ok(None))
    }
}

/// `xdg-open` (macOS: `open`) with the file.
pub fn launch_default(path: &Path) -> io::Result<Launched> {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    let child = std::process::Command::new(opener).arg(path).stdin(std::process::Stdio::null()).spawn()?;
    Ok(Launched(child))
}

/// Linux: any `/proc/<pid>/fd/<n>` link (of the processes this user may read) naming the file.
#[cfg(target_os = "linux")]
pub fn is_held_open(path: &Path) -> io::Result<bool> {
    let target = path.canonicalize()?;
    for process in std::fs::read_dir("/proc")? {
        let Ok(process) = process else { continue };
        if !process.file_name().as_bytes().iter().all(u8::is_ascii_digit) {
            continue;
        }
        // Another user's process, or one that ended meanwhile: not readable, and not a holder of a 0700 file.
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|link| link == target) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Elsewhere there is no portable way to tell: never held.
#[cfg(not(target_os = "linux"))]
pub fn is_held_open(_path: &Path) -> io::Result<bool> {
    Ok(false)
}

pub fn report_failure_event(_message: &str) {}

pub fn open_to_read(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // Without blocking: a FIFO opens at once (and is then refused by its type) instead of waiting for a writer.
    let flags = OFlags::NONBLOCK | OFlags::NOCTTY;
    std::fs::OpenOptions::new().read(true).custom_flags(flags.bits() as i32).open(path)
}

pub fn create_new(path: &Path, owner_only: bool) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(if owner_only { 0o600 } else { 0o644 }).open(path)
}

pub fn is_hidden(name: &OsStr, _metadata: impl FnOnce() -> Option<std::fs::Metadata>) -> bool {
    name.as_bytes().starts_with(b".")
}

pub fn is_sharing_violation(_err: &io::Error) -> bool {
    false
}

pub fn run_service(_name: &str, _body: Box<dyn FnOnce() -> u8 + Send>) -> io::Result<u8> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "Windows services exist only on Windows"))
}

pub fn service_ready() {}

pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::super::{file_identity, resolve_target};
    use super::*;

    #[test]
    fn a_link_on_the_way_is_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("real/sub")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        let root = Folder::open_root(dir.path()).unwrap();
        assert!(root.open_beneath(Path::new("real/sub")).is_ok());
        let e = root.open_beneath(Path::new("link/sub")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains(&format!("{}: is a symbolic link", dir.path().join("link").display())), "{e}");
        assert!(root.open_beneath(Path::new("real/../..")).is_err());
        let e = resolve_target(&dir.path().join("link/sub/f.txt"), Some(dir.path())).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }

    #[test]
    fn only_regular_files_open_and_never_through_a_final_link() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("f.txt"), dir.path().join("l.txt")).unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, dir.path().join("fifo"), Mode::from_raw_mode(0o600)).unwrap();
        let folder = Folder::open_root(dir.path()).unwrap();
        assert!(folder.open_file(OsStr::new("f.txt")).is_ok());
        for (name, says) in [("l.txt", "symbolic link"), ("fifo", "not a regular file"), ("..", "not a file name")] {
            let e = folder.open_file(OsStr::new(name)).unwrap_err();
            assert!(e.to_string().contains(says), "{name}: {e}");
        }
        assert!(folder.open_file(OsStr::new("a/b")).is_err());
    }

    #[test]
    fn replace_checks_the_name_still_names_the_original_and_rename_new_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f.txt"), b"old").unwrap();
        let folder = Folder::open_root(dir.path()).unwrap();
        let original = folder.open_file(OsStr::new("f.txt")).unwrap();
        let (mut temp, name) = folder.create_temp(None, &|| Ok(OsString::from(".~fci-test01.tmp"))).unwrap();
        assert_eq!(std::fs::metadata(dir.path().join(&name)).unwrap().mode() & 0o777, 0o600);
        temp.write_all(b"new").unwrap();
        // Someone else's file now has the name: refused, busy.
        std::fs::rename(dir.path().join("f.txt"), dir.path().join("moved.txt")).unwrap();
        std::fs::write(dir.path().join("f.txt"), b"other").unwrap();
        let e = folder.replace(&name, OsStr::new("f.txt"), &original).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ResourceBusy);
        assert_eq!(std::fs::read(dir.path().join("f.txt")).unwrap(), b"other");
        let e = folder.rename_new(&name, OsStr::new("f.txt")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        folder.rename_new(&name, OsStr::new("g.txt")).unwrap();
        assert_eq!(std::fs::read(dir.path().join("g.txt")).unwrap(), b"new");
        assert!(folder.names().unwrap().contains(&OsString::from("g.txt")));
        let id = file_identity(&original).unwrap();
        assert_eq!((id.size, id.links), (3, 1));
    }

    #[test]
    fn a_lease_is_refused_while_a_writer_has_the_file_and_broken_when_one_opens_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, b"x").unwrap();
        let reader = File::open(&path).unwrap();
        let writer = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        assert_eq!(read_lease(&reader).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        drop(writer);
        let lease = read_lease(&reader).unwrap();
        if !lease.held() {
            return; // a file system without leases: nothing more to see here
        }
        assert!(!lease.broken());
        let opener = std::thread::spawn(move || std::fs::OpenOptions::new().append(true).open(path).map(drop));
        // The writer's open waits for the break to be noticed; polling notices it and lets the writer go on.
        let started = std::time::Instant::now();
        while !lease.broken() {
            assert!(started.elapsed() < Duration::from_secs(10), "the break was never seen");
            std::thread::yield_now();
        }
        opener.join().unwrap().unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
