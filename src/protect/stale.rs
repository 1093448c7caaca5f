//! Cleaning up temporary files that a killed or crashed invocation left behind (`.~fci-*.tmp`, see
//! [`super::tempname`]), by the next invocation that rewrites a file in the same folder.
//!
//! The rule is to never delete a temporary file another running invocation is still writing. A leftover is removed
//! only when all of these hold:
//!
//! - its name is this program's temporary-file name and it is a regular file (never a symlink or folder);
//! - nobody holds a lock on it: every invocation locks its own temporary file for as long as it writes it
//!   ([`claim_and_sweep`]), and a lock dies with its process, so a locked file belongs to a live invocation;
//! - it has not changed for a grace period ([`DEFAULT_GRACE`]): this covers the short moments a live invocation's
//!   file is not locked (between creating and locking it, between closing and renaming it) and the temporary files
//!   `unprotect --output` writes without the lock. On Unix "changed" is the inode change time, which every write,
//!   `chmod` and `utimes` moves forward and which nobody can set back.
//!
//! Even a wrong deletion cannot lose data: the original is replaced only by renaming the temporary file, and that
//! rename fails (the run reports a write error, exit 8) when the temporary file is gone. Cleanup is best effort and
//! never fails the run that does it.

use std::ffi::OsStr;
use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::tempname;
use crate::platform::{self, FileIdentity, Folder};

/// How long a temporary file must have been left unchanged before it counts as abandoned. Generous: a live
/// invocation writes continuously, so only a dead one leaves a file this still.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10 * 60);

/// Environment variable that overrides [`DEFAULT_GRACE`], in whole seconds (tests and admins who want leftovers
/// gone sooner). Values over a day are capped at a day.
pub const GRACE_ENV: &str = "FCI_CONNECTOR_STALE_TEMP_GRACE_SECS";

/// What one sweep did.
#[derive(Debug, Default)]
pub struct Sweep {
    /// Leftovers removed.
    pub removed: Vec<PathBuf>,
    /// Temporary files left alone: locked, too recent, or not regular files.
    pub kept: usize,
}

/// Lock `own` (this invocation's temporary file, just created in `dir`) so other invocations see it as live, then
/// remove abandoned temporary files in `dir`. Best effort: never fails.
pub fn claim_and_sweep(dir: &Folder, own: &File) {
    // If the lock cannot be taken (a file system without locks), the grace period still protects this file.
    let _ = own.try_lock();
    let _ = sweep(dir, grace(), SystemTime::now());
}

/// The grace period in force: [`GRACE_ENV`] when set to a number of seconds, else [`DEFAULT_GRACE`].
pub fn grace() -> Duration {
    std::env::var(GRACE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_GRACE, |secs| Duration::from_secs(secs.min(24 * 60 * 60)))
}

/// Remove the temporary files in `dir` that are unlocked and unchanged for longer than `grace` before `now`. Works
/// on the folder's handle: a name is opened without following links and removed with `unlinkat`, so neither a link
/// named like a leftover nor a folder swapped for one can make it remove anything else.
pub fn sweep(dir: &Folder, grace: Duration, now: SystemTime) -> std::io::Result<Sweep> {
    let mut done = Sweep::default();
    for name in dir.names()? {
        if !tempname::is_temp(&name) {
            continue;
        }
        if remove_if_abandoned(dir, &name, grace, now) {
            done.removed.push(dir.path().join(&name));
        } else {
            done.kept += 1;
        }
    }
    Ok(done)
}

/// Remove `name` if it is an abandoned temporary file; true when it was removed.
fn remove_if_abandoned(dir: &Folder, name: &OsStr, grace: Duration, now: SystemTime) -> bool {
    // Refuses links, folders and anything else that is not a regular file.
    let Ok(file) = dir.open_file(name) else { return false };
    let Ok(opened) = platform::file_identity(&file) else { return false };
    if !unchanged_for(&opened, grace, now) {
        return false;
    }
    // A live invocation holds the lock on its own file; so does another sweeper that got here first.
    if file.try_lock().is_err() {
        return false;
    }
    // Delete only the file we examined and locked, not whatever the name may mean by now.
    let Ok(named) = dir.open_file(name).and_then(|f| platform::file_identity(&f)) else { return false };
    if !named.same_file(&opened) || !unchanged_for(&named, grace, now) {
        return false;
    }
    dir.remove(name).is_ok()
}

/// True when the file's last change is more than `grace` before `now`. On Unix "change" is the inode change time
/// (ctime), not the modification time: the writer copies the original's (old) modification time onto its
/// temporary file just before renaming it, and anyone can set an mtime back; nobody can set back a ctime.
fn unchanged_for(id: &FileIdentity, grace: Duration, now: SystemTime) -> bool {
    match id.changed {
        Some(changed) => now.duration_since(changed).is_ok_and(|age| age > grace),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn folder(path: &std::path::Path) -> Folder {
        Folder::open_root(path).unwrap()
    }

    fn later() -> SystemTime {
        SystemTime::now() + HOUR
    }

    #[test]
    fn removes_abandoned_keeps_recent_and_foreign() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(".~fci-dead01.tmp");
        let other = dir.path().join("notes.tmp");
        std::fs::write(&old, b"x").unwrap();
        std::fs::write(&other, b"y").unwrap();

        let now = sweep(&folder(dir.path()), HOUR, SystemTime::now()).unwrap();
        assert!(now.removed.is_empty() && now.kept == 1, "{now:?}");
        assert!(old.exists());

        let then = sweep(&folder(dir.path()), HOUR / 2, later()).unwrap();
        assert_eq!(then.removed, vec![old.clone()]);
        assert!(!old.exists());
        assert!(other.exists(), "not ours: never touched");
    }

    #[test]
    fn a_locked_file_is_never_removed() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join(".~fci-live01.tmp");
        let file = File::create(&live).unwrap();
        file.lock().unwrap();
        let s = sweep(&folder(dir.path()), Duration::ZERO, later()).unwrap();
        assert!(s.removed.is_empty(), "{s:?}");
        assert!(live.exists());
        drop(file);
        assert_eq!(sweep(&folder(dir.path()), Duration::ZERO, later()).unwrap().removed.len(), 1);
    }

    #[test]
    fn claim_locks_the_callers_file() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join(".~fci-mine01.tmp");
        let file = File::create(&own).unwrap();
        claim_and_sweep(&folder(dir.path()), &file);
        assert!(sweep(&folder(dir.path()), Duration::ZERO, later()).unwrap().removed.is_empty());
        assert!(own.exists());
    }
}
