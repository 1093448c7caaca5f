//! What differs between Windows and Unix, behind one interface: folders opened by handle and files reached only
//! beneath them ([`Folder`], [`resolve_target`]), the identity of an open file, carrying a file's owner, mode,
//! extended attributes and ACLs over to its replacement ([`copy_security`]), read leases against open writers
//! ([`read_lease`]), replacing a file with another in one step, writing a large new file out to disk while it is
//! written, the raw command line as the OS received it, reporting failures to the system's event log, file modes
//! of new files, hidden files, sharing violations and the stop signal.
//!
//! The implementations live in `unix.rs` and `windows.rs`; `winpath.rs` holds the Windows path rules as pure
//! functions, compiled everywhere so their unit tests run on any machine. Every `unsafe` of the crate belongs here.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

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
#[cfg_attr(not(windows), allow(dead_code))]
mod winrules;
#[cfg_attr(not(windows), allow(dead_code))]
mod winservice;

#[cfg(windows)]
mod dpapi;
#[cfg(target_os = "linux")]
mod secret_service;

mod browser;
mod dirs;
mod launch;
mod perms;
pub use browser::{has_desktop, open_url};
pub use dirs::{create_private_dir, reader_cache_dir, reader_launch_dir, reader_machine_dir, reader_user_dir};
pub use launch::{Launched, is_held_open, launch};
pub use perms::{
    Ace, SECRET_READ_MASK, SECRET_READERS, TRUSTED_SIDS, Untrusted, check_trusted, dacl_problem,
    restrict_folder_to_owner, restrict_to_owner, secret_dacl_problem, secret_file_problem, secret_mode_problem,
    system_config_dir, unix_problem,
};

/// A folder opened by handle: everything beneath it is reached relative to this handle, one component at a time,
/// never through a symbolic link, junction or mount point (Linux: an `O_DIRECTORY` descriptor, `openat2` with
/// `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, else `O_NOFOLLOW` per component).
///
/// - `open_root(path)`: the root of a task, resolved once (links in `path` itself are the admin's choice);
/// - `open_beneath(relative)`: a folder beneath this one; a link on the way is an error of kind `InvalidInput`
///   whose message names the component;
/// - `open_file(name)`: the regular file `name` (one component) for reading, without following a link or
///   blocking on a FIFO;
/// - `create_temp(like, fresh_name)`: a new temporary file here named by `fresh_name` (tried again while the name
///   is taken; exclusive, never through a link, readable by its creator only), with its name;
/// - `replace(temp, name, original)`: rename `temp` over `name` in one step, after checking that `name` still
///   names `original`;
/// - `rename_new(temp, name)`: give `temp` the name `name` only if nothing has that name;
/// - `remove(name)`, `names()`, `sync()`, `path()`.
pub use imp::Folder;

/// A read lease on an open file (Linux `F_SETLEASE F_RDLCK`): the kernel refuses it while anyone has the file
/// open for writing, and breaks it when someone opens the file for writing. [`ReadLease::broken`] tells, and then
/// releases it at once so the writer does not wait. Where leases do not exist or cannot be taken, a lease that is
/// never broken ([`ReadLease::unsupported`]).
pub use imp::ReadLease;

/// Take a read lease on `file` (open read-only). A file someone has open for writing is an error of kind
/// `WouldBlock` (busy); a file system or a process that cannot take leases gets [`ReadLease::unsupported`].
pub fn read_lease(file: &File) -> io::Result<ReadLease> {
    imp::read_lease(file)
}

/// What identifies a file and tells it changed: (device, inode) on Unix, (volume serial, file index) on Windows,
/// its size, change time and number of hard links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileIdentity {
    pub volume: u64,
    pub index: u128,
    pub size: u64,
    pub changed: Option<SystemTime>,
    pub links: u64,
}

impl FileIdentity {
    /// The same file (not necessarily the same content).
    pub fn same_file(&self, other: &FileIdentity) -> bool {
        self.volume == other.volume && self.index == other.index
    }

    /// The same file, and nothing written to it or changed about it in between.
    pub fn unchanged(&self, other: &FileIdentity) -> bool {
        self.same_file(other) && self.size == other.size && self.changed == other.changed
    }
}

/// The identity of the open `file`.
pub fn file_identity(file: &File) -> io::Result<FileIdentity> {
    imp::file_identity(file)
}

/// Give `to` everything of `from` that decides who may do what with it: owner and group, mode, extended
/// attributes (all `user.*`, `security.NTACL` — Samba's copy of the Windows ACL — and `system.posix_acl_access`),
/// access and modification times; on Windows attributes and alternate data streams. What could not be kept is
/// returned as warnings, never silently dropped; an error means `to` must not replace `from`.
pub fn copy_security(from: &File, to: &File) -> io::Result<Vec<String>> {
    imp::copy_security(from, to)
}

/// Where a file to work on is: the task root, the folder holding the file (opened beneath the root) and its name.
#[derive(Debug)]
pub struct Target {
    pub root: PathBuf,
    pub folder: Folder,
    pub name: OsString,
}

impl Target {
    /// The file's path, for messages.
    pub fn path(&self) -> PathBuf {
        self.folder.path().join(&self.name)
    }
}

/// The configured share roots (`share_roots` in the config), longest match wins in [`resolve_target`].
static SHARE_ROOTS: RwLock<Vec<PathBuf>> = RwLock::new(Vec::new());

/// Tell [`resolve_target`] where the shares are (the config's `share_roots`).
pub fn set_share_roots(roots: &[PathBuf]) {
    let roots = roots.iter().filter_map(|r| std::path::absolute(r).ok().map(|a| lexical(&a))).collect();
    if let Ok(mut held) = SHARE_ROOTS.write() {
        *held = roots;
    }
}

/// Resolve `path` beneath `root` (folder mode and watch pass their root). For a single file (`root` = `None`),
/// beneath the longest configured share root containing it, else beneath the file system root, so that no link
/// anywhere in the path below that root is followed: a folder on the way swapped for a link is an error (kind
/// `InvalidInput`, naming the component).
pub fn resolve_target(path: &Path, root: Option<&Path>) -> io::Result<Target> {
    let (root, relative) = match root {
        Some(root) => {
            let relative = match path.strip_prefix(root) {
                Ok(r) => r.to_path_buf(),
                Err(_) => {
                    let abs_root = lexical(&std::path::absolute(root)?);
                    let abs = lexical(&std::path::absolute(path)?);
                    abs.strip_prefix(&abs_root).map(Path::to_path_buf).map_err(|_| {
                        invalid(format!("{}: is not beneath the folder {}", path.display(), root.display()))
                    })?
                }
            };
            (root.to_path_buf(), relative)
        }
        None => {
            let abs = lexical(&std::path::absolute(path)?);
            let root = share_root_for(&abs).unwrap_or_else(|| abs.ancestors().last().unwrap_or(&abs).to_path_buf());
            let relative = abs.strip_prefix(&root).map(Path::to_path_buf).unwrap_or_default();
            (root, relative)
        }
    };
    let name = match relative.components().next_back() {
        Some(Component::Normal(name)) => name.to_os_string(),
        _ => return Err(invalid(format!("{}: names no file", path.display()))),
    };
    let parent = relative.parent().unwrap_or(Path::new(""));
    let folder = Folder::open_root(&root)?.open_beneath(parent)?;
    Ok(Target { root, folder, name })
}

fn share_root_for(abs: &Path) -> Option<PathBuf> {
    let roots = SHARE_ROOTS.read().ok()?;
    roots.iter().filter(|r| abs.starts_with(r) && abs != r.as_path()).max_by_key(|r| r.components().count()).cloned()
}

/// `path` with `.` dropped and `..` taken lexically: no link is followed, so `a/b/..` is `a` whatever `b` is.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// `name` if it is one plain component (no separator, not `.` or `..`). Windows has its own (`winrules`).
#[cfg_attr(windows, allow(dead_code))]
fn one_component<'a>(name: &'a OsStr, folder: &Path) -> io::Result<&'a OsStr> {
    let mut parts = Path::new(name).components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(n)), None) if n == name => Ok(name),
        _ => Err(invalid(format!("{}: {:?} is not a file name", folder.display(), name))),
    }
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

/// This machine's name, as the reports name it (Unix `gethostname`, Windows the DNS host name from
/// `GetComputerNameExW`, both through the `whoami` crate); "unknown" when the OS gives none.
pub fn host_name() -> String {
    whoami::hostname().ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "unknown".to_string())
}

/// Record a failure in the system's event log where there is one (Windows Application log, source
/// [`EVENT_SOURCE`]). Never fails the run: an event log that is full, missing or not allowed is ignored.
pub fn report_failure_event(message: &str) {
    imp::report_failure_event(message)
}

/// Open `path` (following links, as the admin named it) for reading without waiting on what cannot be read: a FIFO
/// opens at once instead of blocking until a writer comes. The caller checks the handle's type before reading; one
/// open and one status call per file instead of a status call by name first (a folder run of small files is bound
/// by system calls).
pub fn open_to_read(path: &Path) -> io::Result<File> {
    imp::open_to_read(path)
}

/// Create the new file `path` for writing, failing if anything has the name. `owner_only` (a secret): mode 0600
/// where modes exist, else 0644; on Windows the file gets its folder's inherited ACL, which [`restrict_to_owner`]
/// narrows before anything secret is written.
pub fn create_new(path: &Path, owner_only: bool) -> io::Result<File> {
    imp::create_new(path, owner_only)
}

/// What seals a user's secrets beyond file permissions, where the system has it: Windows DPAPI. `None` on Unix,
/// where the owner-only mode of the file holding the secret is the protection.
pub fn user_seal_name() -> Option<&'static str> {
    if cfg!(windows) { Some("Windows DPAPI") } else { None }
}

/// Seal a small secret so that only the current user can unseal it ([`user_seal_name`]); `purpose` binds it to
/// one use. `None` where the system has no such seal.
pub fn seal_for_user(secret: &[u8], purpose: &str) -> Option<io::Result<Vec<u8>>> {
    #[cfg(windows)]
    return Some(dpapi::protect(secret, purpose.as_bytes()));
    #[cfg(not(windows))]
    {
        let _ = (secret, purpose);
        None
    }
}

/// Unseal what [`seal_for_user`] sealed with the same `purpose`. `None` where the system has no such seal.
pub fn unseal_for_user(sealed: &[u8], purpose: &str) -> Option<io::Result<zeroize::Zeroizing<Vec<u8>>>> {
    #[cfg(windows)]
    return Some(dpapi::unprotect(sealed, purpose.as_bytes()));
    #[cfg(not(windows))]
    {
        let _ = (sealed, purpose);
        None
    }
}

/// The secret `account` from the desktop session's Secret Service (Linux: GNOME Keyring, KWallet), stored there with
/// `fresh()` when there is none. `None` where there is no such store (no session, or another system).
pub fn session_secret(
    account: &str,
    fresh: impl FnOnce() -> io::Result<zeroize::Zeroizing<Vec<u8>>>,
) -> Option<io::Result<zeroize::Zeroizing<Vec<u8>>>> {
    #[cfg(target_os = "linux")]
    return secret_service::get_or_create(account, fresh);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (account, fresh);
        None
    }
}

/// True for a file or folder the system shows as hidden (not the root of a walk, which is never left out): a
/// name starting with `.` on Unix, the hidden or system attribute on Windows, read from `metadata` (asked for only
/// there; `None` when it cannot be read: not hidden).
pub fn is_hidden(name: &OsStr, metadata: impl FnOnce() -> Option<std::fs::Metadata>) -> bool {
    imp::is_hidden(name, metadata)
}

/// True when `err` says another process holds the file (Windows ERROR_SHARING_VIOLATION and
/// ERROR_LOCK_VIOLATION; never on Unix, where such errors do not exist).
pub fn is_sharing_violation(err: &io::Error) -> bool {
    imp::is_sharing_violation(err)
}

/// Resolves when the service is asked to stop: Ctrl+C, on Unix SIGTERM (systemd's stop), and [`request_stop`]
/// (the Windows service's Stop and Shutdown controls).
pub async fn shutdown_signal() {
    let requested = async {
        loop {
            let notified = STOP.notified();
            tokio::pin!(notified);
            // Registered before the flag is read, so a request between the two is not missed.
            notified.as_mut().enable();
            if STOP_REQUESTED.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    };
    tokio::select! {
        _ = imp::shutdown_signal() => {}
        _ = requested => {}
    }
}

static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);
static STOP: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Ask the service to stop as Ctrl+C does: every [`shutdown_signal`], waiting now or later, resolves. Called from
/// the Windows service's control handler (a thread of the SCM's, outside the runtime).
pub fn request_stop() {
    STOP_REQUESTED.store(true, Ordering::SeqCst);
    STOP.notify_waiters();
}

/// Run `body` (which returns an exit code) as the Windows service `name`, started by the Service Control Manager:
/// status reports StartPending, then Running at [`service_ready`], StopPending at a Stop or Shutdown control (which
/// triggers [`request_stop`]) and Stopped with the body's exit code (a service-specific exit code when not 0);
/// blocks until then and returns that code. Errors: kind `NotConnected` when the process was not started by the
/// SCM; kind `Unsupported` where there are no Windows services.
pub fn run_service(name: &str, body: Box<dyn FnOnce() -> u8 + Send>) -> io::Result<u8> {
    imp::run_service(name, body)
}

/// The service is up (it listens): a Windows service reports Running. Nothing otherwise.
pub fn service_ready() {
    imp::service_ready()
}

/// The event source name in the Windows Application log (registered by `fci-scripts/Install-FciConnector.ps1`).
pub const EVENT_SOURCE: &str = "FciConnector";

#[cfg(test)]
mod tests {
    use super::*;

    /// The hook the Windows service's control handler uses: a stop requested from another thread, while the
    /// server waits and before it starts waiting, both end the wait. (Process-wide: no other unit test waits on
    /// the signal.)
    #[test]
    fn a_requested_stop_ends_the_wait_for_the_shutdown_signal() {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let waiting = tokio::spawn(shutdown_signal());
            // Not resolved before the request (bounded: the task is polled, then checked).
            tokio::task::yield_now().await;
            assert!(!waiting.is_finished());
            std::thread::spawn(request_stop).join().unwrap();
            tokio::time::timeout(std::time::Duration::from_secs(30), waiting).await.unwrap().unwrap();
            // A wait that starts after the request ends at once.
            tokio::time::timeout(std::time::Duration::from_secs(30), shutdown_signal()).await.unwrap();
        });
    }
}
