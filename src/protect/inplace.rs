//! Rewriting a file in place without ever losing it, and without being steered to another file: the original is
//! reached through its folder's handle ([`crate::platform::Target`]: no link beneath the task's root is followed),
//! locked, checked to be the file that was classified, and read under a read lease so that a writer opening it is
//! noticed; the new bytes go to a temporary file created in the same folder by handle, are flushed to disk, given
//! the original's owner, mode, extended attributes, ACLs and times, and renamed over the original by handle in one
//! step, after checking that the name still names the locked file and that nothing wrote to it. Until that rename
//! the original is untouched; if anything fails the temporary file is removed. A second process working on the
//! same file waits briefly for the lock and then either finds the file already rewritten or reports it busy.

use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::platform::{self, FileIdentity, Folder, ReadLease, Target};
use crate::{Error, ExitClass};

/// How long to wait for another process's lock on the same file before reporting it busy.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// An original file, open for reading through its folder's handle and locked against other fci-connector
/// processes.
#[derive(Debug)]
pub struct LockedFile {
    pub file: File,
    /// The path it was asked for by (messages only: everything else goes through `target`).
    pub path: PathBuf,
    pub metadata: Metadata,
    /// What the file was when it was locked.
    pub identity: FileIdentity,
    target: Target,
    lease: Arc<ReadLease>,
}

/// An open failure: a link on the way or a file that is not regular is "not found" (3), the rest by its kind.
fn open_error(path: &Path, e: io::Error) -> Error {
    Error::io("cannot open", path, e, ExitClass::NotFound)
}

fn busy(path: &Path, why: &str) -> Error {
    Error::new(ExitClass::Busy, format!("{}: busy: {why}; left as it was", path.display()))
}

impl LockedFile {
    /// Open and lock `path`, a regular file reached beneath `root` (see [`platform::resolve_target`]) without
    /// following any link.
    pub fn open(path: &Path, root: Option<&Path>) -> Result<LockedFile, Error> {
        let target = platform::resolve_target(path, root).map_err(|e| open_error(path, e))?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            let file = target.folder.open_file(&target.name).map_err(|e| open_error(path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25));
                    continue;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::new(
                        ExitClass::Busy,
                        format!(
                            "{}: busy: another process is working on this file (lock held for over {}s)",
                            path.display(),
                            LOCK_WAIT.as_secs()
                        ),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io("cannot lock", path, e, ExitClass::Busy));
                }
            }
            let attributes = |e| Error::io("cannot read the attributes of", path, e, ExitClass::Busy);
            let identity = platform::file_identity(&file).map_err(attributes)?;
            let metadata = file.metadata().map_err(attributes)?;
            // Another process may have replaced the file between our open and our lock: then we hold a lock on
            // the old version, and must look again at what the name means now.
            let now = target.folder.open_file(&target.name).and_then(|f| platform::file_identity(&f));
            if !matches!(&now, Ok(now) if now.same_file(&identity)) {
                if Instant::now() >= deadline {
                    return Err(busy(path, "the file keeps being replaced"));
                }
                continue;
            }
            return Ok(LockedFile {
                file,
                path: path.to_path_buf(),
                metadata,
                identity,
                target,
                lease: Arc::new(ReadLease::unsupported()),
            });
        }
    }

    /// Refuse (busy) unless this is still the file `expected` describes: the same file, same size, same change
    /// time (what was classified is what gets rewritten).
    pub fn expect(&self, expected: &FileIdentity) -> Result<(), Error> {
        if self.identity.unchanged(expected) {
            Ok(())
        } else {
            Err(busy(&self.path, "the file changed or was replaced after it was classified"))
        }
    }

    /// Take a read lease before reading the content (Linux): refused while anyone has the file open for writing,
    /// broken when someone opens it for writing; either is busy. Where leases do not work, the size and change
    /// time compared before the rename catch writes instead.
    pub fn take_lease(&mut self) -> Result<(), Error> {
        let lease = platform::read_lease(&self.file)
            .map_err(|e| Error::new(ExitClass::Busy, format!("{}: busy: {e}; left as it was", self.path.display())))?;
        self.lease = Arc::new(lease);
        Ok(())
    }

    /// A reader of the original from its current position, which fails (busy) as soon as a writer opens the file.
    pub fn reader(&self) -> Result<LeasedReader, Error> {
        let file = self.file.try_clone().map_err(|e| Error::io("cannot read", &self.path, e, ExitClass::Busy))?;
        Ok(LeasedReader { file, lease: Arc::clone(&self.lease) })
    }

    /// Read from the start again.
    pub fn rewind(&mut self) -> Result<(), Error> {
        self.file
            .seek(SeekFrom::Start(0))
            .map(|_| ())
            .map_err(|e| Error::io("cannot read", &self.path, e, ExitClass::Unreadable))
    }

    /// Busy when a writer opened the file or anything changed it since it was locked.
    fn check_unchanged(&self) -> Result<(), Error> {
        if self.lease.broken() {
            return Err(busy(&self.path, "another process opened the file for writing"));
        }
        let now = platform::file_identity(&self.file)
            .map_err(|e| Error::io("cannot read the attributes of", &self.path, e, ExitClass::Busy))?;
        if !now.unchanged(&self.identity) {
            return Err(busy(&self.path, "the file was written to while it was being rewritten"));
        }
        Ok(())
    }

    /// Replace the file with what `write` puts into a temporary file, keeping owner, permissions, extended
    /// attributes, ACLs and times. `write` gets the temporary file; its error (or any failure after it) leaves the
    /// original as it was and removes the temporary file. Returns `write`'s value and what could not be kept.
    pub fn replace_with<T>(
        self,
        write: impl FnOnce(&mut File, &Path) -> Result<T, Error>,
    ) -> Result<(T, Vec<String>), Error> {
        let folder = &self.target.folder;
        let (mut temp, temp_name) = folder
            .create_temp(Some(&self.file), &super::tempname::fresh)
            .map_err(|e| Error::io("cannot create a temporary file beside", &self.path, e, ExitClass::Write))?;
        let mut guard = TempName { folder, name: &temp_name, keep: false };
        super::stale::claim_and_sweep(folder, &temp);
        let temp_path = folder.path().join(&temp_name);
        let value = write(&mut temp, &temp_path)?;
        let fail = |doing: &str, e: io::Error| Error::io(doing, &temp_path, e, ExitClass::Write);
        let mut warnings = platform::copy_security(&self.file, &temp)
            .map_err(|e| fail("cannot give the original's owner, permissions and times to", e))?;
        temp.sync_all().map_err(|e| fail("cannot flush to disk", e))?;
        // The original stays locked, leased and open until the new version is in place.
        self.check_unchanged()?;
        // Closed before the swap: ReplaceFileW (Windows before 1607, and Wine) fails with a sharing violation
        // while the replacement is open.
        drop(temp);
        folder
            .replace(&temp_name, &self.target.name, &self.file)
            .map_err(|e| Error::io("cannot replace", &self.path, e, ExitClass::Write))?;
        guard.keep = true;
        if self.lease.broken() {
            warnings.push(format!(
                "{}: a process opened the file for writing just as it was replaced; what it writes goes to the old version",
                self.path.display()
            ));
        }
        folder.sync();
        Ok((value, warnings))
    }
}

/// Reads the original, failing (busy) as soon as its read lease is broken, so a writer who opened the file waits
/// no longer than one read.
pub struct LeasedReader {
    file: File,
    lease: Arc<ReadLease>,
}

impl Read for LeasedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.lease.broken() {
            return Err(io::Error::new(io::ErrorKind::WouldBlock, "busy: another process opened the file for writing"));
        }
        self.file.read(buf)
    }
}

/// Removes the temporary file unless told to keep it (it was renamed into place).
struct TempName<'a> {
    folder: &'a Folder,
    name: &'a OsStr,
    keep: bool,
}

impl Drop for TempName<'_> {
    fn drop(&mut self) {
        if !self.keep {
            let _ = self.folder.remove(self.name);
        }
    }
}

/// Write a new file at `dest` (which must not exist) through a temporary file, so a failure leaves nothing behind.
/// The file belongs to whoever runs this (never given to someone else), is created exclusively and is never
/// written over an existing name or through a link. `like` gives the permissions and modification time to carry
/// over.
pub fn write_new<T>(
    dest: &Path,
    like: Option<&Metadata>,
    write: impl FnOnce(&mut File, &Path) -> Result<T, Error>,
) -> Result<T, Error> {
    let exists =
        || Error::new(ExitClass::Usage, format!("{} already exists; refusing to overwrite it", dest.display()));
    if dest.symlink_metadata().is_ok() {
        return Err(exists());
    }
    let target =
        platform::resolve_target(dest, None).map_err(|e| Error::io("cannot create", dest, e, ExitClass::Usage))?;
    let folder = &target.folder;
    let (mut temp, temp_name) = folder
        .create_temp(None, &super::tempname::fresh)
        .map_err(|e| Error::io("cannot create a temporary file beside", dest, e, ExitClass::Write))?;
    let mut guard = TempName { folder, name: &temp_name, keep: false };
    let temp_path = folder.path().join(&temp_name);
    let value = write(&mut temp, &temp_path)?;
    let fail = |doing: &str, e: io::Error| Error::io(doing, &temp_path, e, ExitClass::Write);
    if let Some(meta) = like {
        temp.set_permissions(meta.permissions()).map_err(|e| fail("cannot set the permissions of", e))?;
        let mut times = std::fs::FileTimes::new();
        if let Ok(modified) = meta.modified() {
            times = times.set_modified(modified);
        }
        temp.set_times(times).map_err(|e| fail("cannot set the times of", e))?;
    }
    temp.sync_all().map_err(|e| fail("cannot flush to disk", e))?;
    folder.rename_new(&temp_name, &target.name).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => exists(),
        _ => Error::io("cannot create", dest, e, ExitClass::Write),
    })?;
    guard.keep = true;
    folder.sync();
    Ok(value)
}
