//! Continuous mode for Linux/Samba file servers (FSRM's "run continuously on new files" exists only on Windows):
//! watch folders for new and modified files, wait until each has settled, and hand it to the same per-file
//! pipeline as `protect`.
//!
//! A file has settled when its size and modification time have not changed for the debounce interval and, where
//! the OS can tell (Linux: a read lease, which the kernel refuses while anyone has the file open for writing),
//! nobody has it open for writing. A watched folder that is renamed or removed is watched again when it reappears.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use notify::{EventKind, RecursiveMode, Watcher};

use crate::protect::inplace::{TEMP_PREFIX, TEMP_SUFFIX};
use crate::{Error, ExitClass};

/// How the watcher behaves.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Size and modification time must stay unchanged this long.
    pub debounce: Duration,
    /// How often settled files are looked for, and vanished roots looked for again.
    pub tick: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions { debounce: Duration::from_secs(3), tick: Duration::from_millis(250) }
    }
}

/// A file seen changing, and what it looked like when last seen.
struct Pending {
    len: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

/// True for files the watcher never hands on: this program's own temporary files and Office lock files.
fn ignored(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    (name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) || name.starts_with("~$")
}

/// Watch `roots` until `stop` returns true, calling `process` once for each file that settles. Runs on a tokio
/// runtime of its own; `process` runs on a blocking thread, one file at a time.
pub fn watch(
    roots: &[PathBuf],
    options: &WatchOptions,
    process: impl Fn(&Path) + Send + Sync + 'static,
    stop: impl Fn() -> bool + Send + 'static,
) -> Result<(), Error> {
    for root in roots {
        if !root.is_dir() {
            return Err(Error::new(ExitClass::NotFound, format!("{}: not a folder", root.display())));
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
        .map_err(|e| Error::new(ExitClass::Internal, format!("cannot start the watcher: {e}")))?;
    runtime.block_on(watch_loop(roots.to_vec(), options.clone(), std::sync::Arc::new(process), stop))
}

async fn watch_loop(
    roots: Vec<PathBuf>,
    options: WatchOptions,
    process: std::sync::Arc<dyn Fn(&Path) + Send + Sync>,
    stop: impl Fn() -> bool,
) -> Result<(), Error> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Access(_)) {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })
    .map_err(|e| Error::new(ExitClass::Internal, format!("cannot start the file watcher: {e}")))?;
    let mut watched: Vec<bool> = vec![false; roots.len()];
    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    let mut tick = tokio::time::interval(options.tick);
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            Some(path) = rx.recv() => note(&mut pending, path),
            _ = tick.tick() => {
                if stop() {
                    return Ok(());
                }
                rewatch(&mut watcher, &roots, &mut watched);
                for path in settled(&mut pending, options.debounce) {
                    let process = process.clone();
                    let _ = tokio::task::spawn_blocking(move || process(&path)).await;
                }
            }
        }
    }
}

/// Ctrl+C, or SIGTERM (systemd's stop) on Unix: the file in hand is finished first, since `process` runs to its
/// end before the loop looks again.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
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
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// (Re)attach the watch to every root that exists, and note the ones that vanished.
fn rewatch(watcher: &mut notify::RecommendedWatcher, roots: &[PathBuf], watched: &mut [bool]) {
    for (root, on) in roots.iter().zip(watched.iter_mut()) {
        let exists = root.is_dir();
        if exists && !*on {
            *on = watcher.watch(root, RecursiveMode::Recursive).is_ok();
        } else if !exists && *on {
            let _ = watcher.unwatch(root);
            *on = false;
        }
    }
}

fn note(pending: &mut HashMap<PathBuf, Pending>, path: PathBuf) {
    if ignored(&path) {
        return;
    }
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => {
            let (len, modified) = (m.len(), m.modified().ok());
            let entry = pending.entry(path).or_insert(Pending { len, modified, since: Instant::now() });
            if entry.len != len || entry.modified != modified {
                *entry = Pending { len, modified, since: Instant::now() };
            }
        }
        _ => {
            pending.remove(&path);
        }
    }
}

/// The pending files that have settled, removed from `pending`.
fn settled(pending: &mut HashMap<PathBuf, Pending>, debounce: Duration) -> Vec<PathBuf> {
    let mut ready = Vec::new();
    pending.retain(|path, p| {
        let Ok(m) = std::fs::symlink_metadata(path) else { return false };
        let (len, modified) = (m.len(), m.modified().ok());
        if len != p.len || modified != p.modified {
            *p = Pending { len, modified, since: Instant::now() };
            return true;
        }
        if p.since.elapsed() < debounce || open_for_writing(path) {
            return true;
        }
        ready.push(path.clone());
        false
    });
    ready.sort();
    ready
}

/// Linux: the kernel grants a read lease only when no process has the file open for writing. Where the lease
/// cannot be asked for (not the owner and no CAP_LEASE, another OS), the answer is "not known": false.
#[cfg(target_os = "linux")]
fn open_for_writing(path: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::File::open(path) else { return false };
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a file descriptor we own; F_SETLEASE takes an int argument.
    let got = unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) };
    if got == 0 {
        // SAFETY: as above; releasing the lease we just took.
        unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_UNLCK) };
        return false;
    }
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN)
}

#[cfg(not(target_os = "linux"))]
fn open_for_writing(_path: &Path) -> bool {
    false
}
