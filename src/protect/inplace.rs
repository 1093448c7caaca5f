//! Rewriting a file in place without ever losing it: lock the original, write the new bytes to a temporary file
//! in the same folder, flush them to disk, give them the original's permissions, owner and modification time, then
//! rename them over the original in one step. Until that rename the original is untouched; if anything fails the
//! temporary file is removed. A second process working on the same file waits briefly for the lock and then
//! either finds the file already rewritten or reports it busy.

use std::fs::{File, Metadata};
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::platform::{self, Target};
use crate::{Error, ExitClass};

/// Prefix of this program's temporary files, so leftovers are recognisable.
pub const TEMP_PREFIX: &str = ".~fci-";
/// Suffix of this program's temporary files.
pub const TEMP_SUFFIX: &str = ".tmp";
/// How long to wait for another process's lock on the same file before reporting it busy.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// An original file, open for reading and locked against other fci-connector processes.
#[derive(Debug)]
pub struct LockedFile {
    pub file: File,
    pub path: PathBuf,
    pub metadata: Metadata,
    // MERGE: the rewrite helper's inplace.rs replaces this file; this branch only wires the handle-based platform
    // calls in so the Windows build exercises them under Wine.
    target: Target,
}

impl LockedFile {
    /// Open and lock `path`, which must be a regular file (not a symlink, folder or device).
    pub fn open(path: &Path) -> Result<LockedFile, Error> {
        let target =
            platform::resolve_target(path, None).map_err(|e| Error::io("cannot open", path, e, ExitClass::NotFound))?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            let file = target
                .folder
                .open_file(&target.name)
                .map_err(|e| Error::io("cannot open", path, e, ExitClass::NotFound))?;
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
            let metadata =
                file.metadata().map_err(|e| Error::io("cannot read the attributes of", path, e, ExitClass::Busy))?;
            // Another process may have replaced the file between our open and our lock: then we hold a lock on
            // the old version, and must look again at what the path names now.
            let now = target.folder.open_file(&target.name).and_then(|f| platform::file_identity(&f));
            let same = matches!((&now, platform::file_identity(&file)), (Ok(a), Ok(b)) if a.same_file(&b));
            if !same {
                if Instant::now() >= deadline {
                    return Err(Error::new(
                        ExitClass::Busy,
                        format!("{}: busy: the file keeps being replaced", path.display()),
                    ));
                }
                continue;
            }
            return Ok(LockedFile { file, path: path.to_path_buf(), metadata, target });
        }
    }

    /// Read from the start again.
    pub fn rewind(&mut self) -> Result<(), Error> {
        self.file
            .seek(SeekFrom::Start(0))
            .map(|_| ())
            .map_err(|e| Error::io("cannot read", &self.path, e, ExitClass::Unreadable))
    }

    /// Replace the file with what `write` puts into a temporary file, keeping permissions, owner and modification
    /// time. `write` gets the temporary file; its error (or any failure after it) leaves the original as it was.
    pub fn replace_with<T>(self, write: impl FnOnce(&mut File, &Path) -> Result<T, Error>) -> Result<T, Error> {
        let folder = &self.target.folder;
        let (mut temp, temp_name) = folder
            .create_temp(Some(&self.file))
            .map_err(|e| Error::io("cannot create a temporary file beside", &self.path, e, ExitClass::Write))?;
        let temp_path = folder.path().join(&temp_name);
        let fail = |doing: &str, e: io::Error| Error::io(doing, &temp_path, e, ExitClass::Write);
        let written = (|| {
            super::stale::claim_and_sweep(folder.path(), &temp);
            let value = write(&mut temp, &temp_path)?;
            for warning in
                platform::copy_security(&self.file, &temp).map_err(|e| fail("cannot copy the security of", e))?
            {
                eprintln!("{}: {warning}", self.path.display());
            }
            temp.sync_all().map_err(|e| fail("cannot flush to disk", e))?;
            Ok(value)
        })();
        // Closed before the swap: Windows' ReplaceFileW fallback cannot move a file someone still has open.
        drop(temp);
        let result = written.and_then(|value| {
            folder
                .replace(&temp_name, &self.target.name, &self.file)
                .map_err(|e| Error::io("cannot replace", &self.path, e, ExitClass::Write))?;
            Ok(value)
        });
        if result.is_err() {
            let _ = folder.remove(&temp_name);
        }
        folder.sync();
        drop(self.file);
        result
    }
}

/// Write a new file at `dest` (which must not exist) through a temporary file, so a failure leaves nothing behind.
/// `like` gives the modification time to carry over.
pub fn write_new<T>(
    dest: &Path,
    like: Option<&Metadata>,
    write: impl FnOnce(&mut File, &Path) -> Result<T, Error>,
) -> Result<T, Error> {
    if dest.symlink_metadata().is_ok() {
        return Err(Error::new(
            ExitClass::Usage,
            format!("{} already exists; refusing to overwrite it", dest.display()),
        ));
    }
    let dir = parent_dir(dest);
    let mut temp = new_temp(dir, dest)?;
    let temp_path = temp.path().to_path_buf();
    let value = write(temp.as_file_mut(), &temp_path)?;
    finish_temp(temp.as_file(), &temp_path, like)?;
    temp.persist_noclobber(dest).map_err(|e| Error::io("cannot create", dest, e.error, ExitClass::Write))?;
    sync_dir(dir);
    Ok(value)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn new_temp(dir: &Path, for_path: &Path) -> Result<tempfile::NamedTempFile, Error> {
    // tempfile creates the file with mode 0600 on Unix, so plaintext or half-written data is never world-readable.
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file beside", for_path, e, ExitClass::Write))
}

/// Flush the new content to disk and give it the original's attributes.
fn finish_temp(file: &File, temp_path: &Path, original: Option<&Metadata>) -> Result<(), Error> {
    let fail = |doing: &str, e: io::Error| Error::io(doing, temp_path, e, ExitClass::Write);
    if let Some(meta) = original {
        copy_owner(file, meta);
        file.set_permissions(meta.permissions()).map_err(|e| fail("cannot set the permissions of", e))?;
        let mut times = std::fs::FileTimes::new();
        if let Ok(modified) = meta.modified() {
            times = times.set_modified(modified);
        }
        if let Ok(accessed) = meta.accessed() {
            times = times.set_accessed(accessed);
        }
        file.set_times(times).map_err(|e| fail("cannot set the times of", e))?;
    }
    file.sync_all().map_err(|e| fail("cannot flush to disk", e))
}

#[cfg(unix)]
fn copy_owner(file: &File, meta: &Metadata) {
    use std::os::unix::fs::MetadataExt;
    // Only a privileged process can give a file away; otherwise it keeps ours, which is the original's owner
    // whenever we could have written the original ourselves.
    let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
}

#[cfg(not(unix))]
fn copy_owner(_file: &File, _meta: &Metadata) {}

/// Make the rename durable (POSIX needs the folder itself flushed). Best effort: the data is already on disk.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
