//! `open --launch`: decrypt a protected file into a private folder, open it in the user's application, wait until
//! nothing holds the copy any more, keep an edit (re-protected in place under the same license, for a user the
//! service granted EDIT), and wipe the copy.
//!
//! - **Where**: each launch gets its own folder `<launch folder>/<random>/` holding the copy under the file's own
//!   name (so the application recognises its type). The launch folder is the user's only (Unix 0700; Windows a
//!   protected DACL with the user alone, inherited by what is created in it).
//! - **Waiting**: the started process is not enough (an opener such as `xdg-open` or the Windows shell returns at
//!   once, and a single-instance application hands the file to its running instance). The wait goes on while the
//!   started process runs, while any process holds the copy open ([`crate::platform::is_held_open`]: `/proc` on
//!   Linux, the Restart Manager on Windows), or while anything else is in the copy's folder (an application's lock
//!   or swap file: `.~lock.<name>#`, `~$<name>`, `.<name>.swp`), and ends after [`QUIET`] with none of them. When an
//!   opener handed the file over and no sign of the application has been seen yet, it waits [`STARTUP_GRACE`]
//!   instead (an application may take that long to start and open the file).
//! - **Keeping an edit**: the copy's SHA-256 after the wait is compared with the decrypted content. Changed, and the
//!   use license grants EDIT (or OWNER): the copy is sealed again under the original's license and content key
//!   ([`crate::protect::container::Envelope::seal_again`]: same content id, template, owner, rights, expiry and
//!   key wraps; a fresh salt) and replaces the original with the crash-safe rewrite of `protect`
//!   ([`crate::protect::inplace::LockedFile::replace_with`]: what of the owner and ACL could not be kept is
//!   reported) — only if the original is still the file that was opened. Changed without EDIT: the original stays
//!   byte for byte as it was.
//! - **Wiping**: every file in the copy's folder is overwritten with zeros, flushed and deleted, then the folder;
//!   whatever the outcome. A crash (or Ctrl+C) during the wait leaves the folder: [`sweep`] at the start of every
//!   `open` wipes such folders, except one whose files a live process still holds open.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::open::{Granted, Reader, container_failure, decrypt};
use crate::platform::{self, Writeback};
use crate::protect::container::Envelope;
use crate::protect::container::license::License;
use crate::protect::inplace::LockedFile;
use crate::{Error, ExitClass};

/// The right that lets a reader keep an edit (OWNER includes it).
pub const EDIT: &str = "EDIT";
/// How long nothing must hold or use the copy before the wait ends.
pub const QUIET: Duration = Duration::from_secs(2);
/// How long an application handed the file by an opener may take to show any sign of it.
pub const STARTUP_GRACE: Duration = Duration::from_secs(30);
/// How often the wait looks.
const POLL: Duration = Duration::from_millis(200);

/// Where and with what `open --launch` opens the copy.
pub struct LaunchSettings {
    /// The user's launch folder (created owner-only if missing).
    pub folder: PathBuf,
    /// The program to start with the copy instead of the default application.
    pub program: Option<OsString>,
}

/// What became of the copy.
#[derive(Debug, PartialEq, Eq)]
pub enum Kept {
    /// Not changed: nothing to keep.
    Unchanged,
    /// Changed, and the original now holds the change (protected as before): plaintext bytes sealed.
    Reprotected { bytes: u64 },
    /// Changed, but the rights do not include EDIT: the original is as it was.
    NotAllowed,
}

/// What [`Reader::open_launched`] did.
pub struct Launched {
    pub license: License,
    pub granted: Granted,
    /// The copy's path while it existed (it is wiped).
    pub copy: PathBuf,
    pub kept: Kept,
    /// What of the original's security could not be kept, and what could not be wiped.
    pub warnings: Vec<String>,
    /// Folders left by an earlier run, wiped before this one.
    pub swept: usize,
}

impl Reader {
    /// Decrypt `file` into a private copy, open it with `settings`' program or the default application, wait until
    /// nothing uses it, keep an edit if the rights allow, and wipe the copy. `started` is told the copy's path once
    /// the application is started.
    pub fn open_launched(
        &self,
        file: &Path,
        settings: &LaunchSettings,
        started: impl FnOnce(&Path),
    ) -> Result<Launched, Error> {
        let folder_error = |e| Error::io("cannot create the private folder", &settings.folder, e, ExitClass::Write);
        platform::create_private_dir(&settings.folder).map_err(folder_error)?;
        platform::restrict_folder_to_owner(&settings.folder).map_err(folder_error)?;
        let (swept, mut warnings) = sweep(&settings.folder);

        let source = File::open(file).map_err(|e| Error::io("cannot open", file, e, ExitClass::NotFound))?;
        let identity = platform::file_identity(&source)
            .map_err(|e| Error::io("cannot read the attributes of", file, e, ExitClass::Busy))?;
        let mut reader = BufReader::with_capacity(64 * 1024, source);
        let envelope = Envelope::read(&mut reader).map_err(|e| container_failure(e, file))?;
        let granted = self.grant(&envelope, file)?;

        let id = Uuid::new_v4().simple().to_string();
        let dir = settings.folder.join(&id);
        let guard = Wiped::start(&dir, settings.folder.join(format!("{id}.{LOCK_EXTENSION}")))
            .map_err(|e| Error::io("cannot create the private folder", &dir, e, ExitClass::Write))?;
        let copy = dir.join(copy_name(file, &envelope.license));
        let mut out = platform::create_new(&copy, true)
            .map_err(|e| Error::io("cannot create the decrypted copy", &copy, e, ExitClass::Write))?;
        decrypt(&envelope, &granted.content_key, &mut reader, &mut out, &copy, file)?;
        drop(out);
        drop(reader);
        let before = digest(&copy)?;

        let mut process = platform::launch(&copy, settings.program.as_deref()).map_err(|e| {
            Error::io("cannot start the application for", &copy, e, ExitClass::Internal).context(file.display())
        })?;
        started(&copy);
        wait_until_unused(&mut process, &dir, &copy);

        let kept = match digest(&copy) {
            Ok(after) if after == before => Kept::Unchanged,
            Ok(_) if !granted.claims.allows(EDIT) => Kept::NotAllowed,
            Ok(_) => {
                let (bytes, lost) = reprotect(file, &identity, &envelope, &granted, &copy)?;
                warnings.extend(lost);
                Kept::Reprotected { bytes }
            }
            // The application removed or renamed the copy: nothing to keep.
            Err(_) => Kept::Unchanged,
        };
        warnings.extend(guard.wipe());
        Ok(Launched { license: envelope.license, granted, copy, kept, warnings, swept })
    }
}

/// The copy's name: the protected file's own name (protection keeps it), else the name its license records.
fn copy_name(file: &Path, license: &License) -> OsString {
    file.file_name()
        .map(OsString::from)
        .or_else(|| Path::new(&license.original_name).file_name().map(OsString::from))
        .unwrap_or_else(|| OsString::from("document"))
}

/// SHA-256 of the file at `path`.
fn digest(path: &Path) -> Result<[u8; 32], Error> {
    let read = |e| Error::io("cannot read the decrypted copy", path, e, ExitClass::Write);
    let mut file = File::open(path).map_err(read)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf).map_err(read)? {
            0 => break,
            n => hash.update(&buf[..n]),
        }
    }
    Ok(hash.finalize().into())
}

/// Wait while `process` runs, the copy is held open, or anything besides the copy is in its folder; then for
/// [`QUIET`] (or [`STARTUP_GRACE`], see the module) with none of them.
fn wait_until_unused(process: &mut platform::Launched, dir: &Path, copy: &Path) {
    let mut seen_application = !process.handed_over;
    let mut quiet_since = Instant::now();
    loop {
        let held = platform::is_held_open(copy).unwrap_or(false) || others_in(dir, copy);
        seen_application |= held;
        if held || !process.finished() {
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= if seen_application { QUIET } else { STARTUP_GRACE } {
            return;
        }
        std::thread::sleep(POLL);
    }
}

/// Whether the folder holds anything but the copy (an application's lock or swap file).
fn others_in(dir: &Path, copy: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().any(|e| Some(e.file_name().as_os_str()) != copy.file_name()))
        .unwrap_or(false)
}

/// Seal the copy again under the original's license and replace the original with it, if the original is still
/// the file that was opened. The plaintext bytes and what of the original's security could not be kept.
fn reprotect(
    file: &Path,
    identity: &platform::FileIdentity,
    envelope: &Envelope,
    granted: &Granted,
    copy: &Path,
) -> Result<(u64, Vec<String>), Error> {
    let not_kept = |e: Error| e.context(format!("{}: your changes were not kept", file.display()));
    let mut locked = LockedFile::open(file, None).map_err(not_kept)?;
    locked.expect(identity).map_err(|_| {
        Error::new(
            ExitClass::Busy,
            format!(
                "{}: the protected file changed or was replaced while it was open; your changes were not kept",
                file.display()
            ),
        )
    })?;
    locked.take_lease().map_err(not_kept)?;
    let read = |e| Error::io("cannot read the decrypted copy", copy, e, ExitClass::Write);
    let plain = File::open(copy).map_err(read)?;
    let size = plain.metadata().map_err(read)?.len();
    locked
        .replace_with(|temp, temp_path| {
            let mut out = BufWriter::with_capacity(256 * 1024, Writeback::new(temp));
            let written = envelope
                .seal_again(&granted.content_key, size, BufReader::new(&plain), &mut out)
                .map_err(|e| container_failure(e, file))?;
            out.flush().map_err(|e| Error::io("cannot write", temp_path, e, ExitClass::Write))?;
            if written != size {
                return Err(Error::new(
                    ExitClass::Busy,
                    format!("{}: busy: the copy changed size while it was being protected", copy.display()),
                ));
            }
            Ok(written)
        })
        .map_err(not_kept)
}

/// Extension of the file beside each copy's folder that its run holds locked (`<id>.lock` for `<id>/`): [`sweep`]
/// leaves a folder alone while its run is alive.
pub const LOCK_EXTENSION: &str = "lock";

/// A run's copy folder, wiped (and its lock file removed) when dropped, on every way out of
/// [`Reader::open_launched`], or when told.
struct Wiped<'a> {
    dir: &'a Path,
    lock_path: PathBuf,
    _lock: File,
}

impl<'a> Wiped<'a> {
    /// Create and lock the run's lock file, then the folder (owner-only).
    fn start(dir: &'a Path, lock_path: PathBuf) -> io::Result<Wiped<'a>> {
        let lock = platform::create_new(&lock_path, true)?;
        let remove_lock = |e| {
            let _ = std::fs::remove_file(&lock_path);
            e
        };
        lock.lock().map_err(remove_lock)?;
        std::fs::create_dir(dir).map_err(remove_lock)?;
        let guard = Wiped { dir, lock_path, _lock: lock };
        platform::restrict_folder_to_owner(dir)?;
        Ok(guard)
    }

    /// Wipe now; what could not be wiped.
    fn wipe(self) -> Vec<String> {
        match wipe_tree(self.dir) {
            Ok(()) => Vec::new(),
            Err(e) => vec![format!("{}: the decrypted copy could not be wiped: {e}", self.dir.display())],
        }
    }
}

impl Drop for Wiped<'_> {
    fn drop(&mut self) {
        if self.dir.exists() {
            let _ = wipe_tree(self.dir);
        }
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Overwrite every file beneath `dir` with zeros, flush and delete it, then delete the folders. Links are removed,
/// never followed.
pub fn wipe_tree(dir: &Path) -> io::Result<()> {
    let mut first_error = None;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let result = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => wipe_tree(&path),
            Ok(meta) if meta.is_file() => overwrite(&path, meta.len()).and_then(|()| std::fs::remove_file(&path)),
            Ok(_) => std::fs::remove_file(&path),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => std::fs::remove_dir(dir),
    }
}

/// Overwrite the `len` bytes of the file at `path` with zeros and flush them to disk.
fn overwrite(path: &Path, len: u64) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    file.sync_all()
}

/// Wipe the copies an earlier run left in the launch folder `folder` (a crash, Ctrl+C during the wait), except the
/// folder of a run still going (its lock file is locked) and one whose files a live process still holds open. How
/// many were wiped, and what could not be.
pub fn sweep(folder: &Path) -> (usize, Vec<String>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return (0, Vec::new()) };
    let (mut wiped, mut warnings) = (0, Vec::new());
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        let result = if path.extension().is_some_and(|e| e == LOCK_EXTENSION) && meta.is_file() {
            // A run's lock file: removed with its folder, or here when its run ended before making one.
            if !path.with_extension("").exists() && claim(&path).is_some() {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        } else if meta.is_dir() {
            let lock_path = path.with_extension(LOCK_EXTENSION);
            let claimed = claim(&lock_path);
            if (lock_path.exists() && claimed.is_none()) || in_use(&path) {
                continue;
            }
            let result = wipe_tree(&path);
            if claimed.is_some() {
                let _ = std::fs::remove_file(&lock_path);
            }
            result
        } else if meta.is_file() {
            overwrite(&path, meta.len()).and_then(|()| std::fs::remove_file(&path))
        } else {
            std::fs::remove_file(&path)
        };
        match result {
            Ok(()) => wiped += 1,
            Err(e) => warnings
                .push(format!("{}: a decrypted copy left by an earlier run could not be wiped: {e}", path.display())),
        }
    }
    (wiped, warnings)
}

/// The lock file at `path`, locked by us: its run has ended. `None` while a run holds it (or it cannot be opened).
fn claim(path: &Path) -> Option<File> {
    let file = std::fs::OpenOptions::new().write(true).open(path).ok()?;
    file.try_lock().ok().map(|()| file)
}

/// Whether a process holds a file in the copy folder `dir` open.
fn in_use(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let path = e.path();
            std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
                && platform::is_held_open(&path).unwrap_or(false)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_left_copy_is_wiped_unless_a_process_holds_it_open() {
        let root = tempfile::tempdir().unwrap();
        let left = root.path().join("a");
        std::fs::create_dir_all(left.join("sub")).unwrap();
        std::fs::write(left.join("report.txt"), b"secret").unwrap();
        std::fs::write(left.join("sub/.~lock.report.txt#"), b"lock").unwrap();
        std::fs::write(root.path().join("stray"), b"secret").unwrap();
        let held = root.path().join("b");
        std::fs::create_dir(&held).unwrap();
        std::fs::write(held.join("open.txt"), b"in use").unwrap();
        let holder = File::open(held.join("open.txt")).unwrap();
        // A run still going (its lock file locked): left alone, whatever its application does.
        std::fs::create_dir(root.path().join("c")).unwrap();
        std::fs::write(root.path().join("c/new.txt"), b"being decrypted").unwrap();
        let running = File::create(root.path().join("c.lock")).unwrap();
        running.lock().unwrap();
        // A lock file whose run ended before it made its folder.
        File::create(root.path().join("d.lock")).unwrap();
        let (wiped, warnings) = sweep(root.path());
        assert!(root.path().join("c/new.txt").exists());
        assert!(!root.path().join("d.lock").exists());
        drop(running);
        std::fs::remove_file(root.path().join("c.lock")).unwrap();
        std::fs::remove_dir_all(root.path().join("c")).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut names: Vec<_> = std::fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        if platform::is_held_open(&held.join("open.txt")).unwrap() {
            assert_eq!(wiped, 2);
            assert_eq!(names, ["b"]);
        } else {
            // No way to tell on this system: everything goes.
            assert_eq!(wiped, 3);
            assert!(names.is_empty(), "{names:?}");
        }
        drop(holder);
        let expected = usize::from(held.exists());
        assert_eq!(sweep(root.path()).0, expected);
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_copy_keeps_the_files_name() {
        let license = |name: &str| License { original_name: name.into(), ..super::super::open::tests::license() };
        assert_eq!(copy_name(Path::new("/share/q3.xlsx"), &license("old.xlsx")), "q3.xlsx");
        assert_eq!(copy_name(Path::new("/"), &license("../../etc/old.docx")), "old.docx");
        assert_eq!(copy_name(Path::new("/"), &license("")), "document");
    }
}
