//! Continuous mode for Linux/Samba file servers (FSRM's "run continuously on new files" exists only on Windows):
//! watch folders for new and modified files, wait until each has settled, and hand it to the same per-file
//! pipeline as `protect`.
//!
//! The trees are watched as ordinary users of the share could shape them, so:
//! - no symbolic link or junction is followed: not by the watcher, not when a folder is scanned, not on the way
//!   from a root to a file (each event's path is checked again beneath its root, component by component);
//! - only writes that finished (close after write), new names (create) and names moved in count; opening or reading
//!   a file does not, so the watcher's own reads never wake it;
//! - a settled file is processed once: what was processed is remembered by identity (volume, file index, size,
//!   modification time), and so is what the rewrite left at that name, so the rewrite's own rename is not seen as
//!   new work;
//! - a folder created in or moved into a tree is scanned, since files written before its watch was added raise no
//!   event;
//! - the log folder, the template store and the rule folder are never processed, even inside a tree (recognised by
//!   identity, not by name).
//!
//! A file has settled when its size and modification time have not changed for the debounce interval and, where
//! the OS can tell (Linux: a read lease, which the kernel refuses while anyone has the file open for writing),
//! nobody has it open for writing. A watched folder that is renamed or removed is watched again when it reappears.
//!
//! Memory stays bounded whatever the size of the trees (issue 21): a scan (the initial one, a root watched again, a
//! folder moved in, a rescan after lost events) walks on a thread of its own and hands its files over a bounded
//! queue ([`crate::batch::WINDOW`]) to the loop as it finds them. A file found by a scan whose modification time is
//! older than the debounce interval and that nobody has open for writing has settled already and is processed at
//! once; only the files changed within the interval wait among the pending ones. What was processed is
//! remembered as a 64-bit digest of its identity, at most [`WatchOptions::remember`] of them.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::hash::BuildHasher;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher};

use crate::batch::walk::{self, Entry, Filter, FolderId};
use crate::{Error, ExitClass};

/// How the watcher behaves.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Size and modification time must stay unchanged this long.
    pub debounce: Duration,
    /// How often settled files are looked for, and vanished roots looked for again.
    pub tick: Duration,
    /// Glob patterns of files never processed, as in a folder run (relative path or file name).
    pub exclude: Vec<String>,
    /// Process the files already in the trees when the watch starts.
    pub initial_scan: bool,
    /// This program's own folders (log, templates, rules): never processed, wherever they lie.
    pub private: Vec<PathBuf>,
    /// How many processed files are remembered (the memory bound; the oldest are forgotten first).
    pub remember: usize,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_secs(3),
            tick: Duration::from_millis(250),
            exclude: Vec::new(),
            initial_scan: false,
            private: Vec::new(),
            remember: 200_000,
        }
    }
}

/// What the watcher tells its caller besides the files to process.
#[derive(Debug)]
pub enum Notice {
    /// Every root that exists is watched (sent once, at start).
    Watching,
    /// Something left alone or that went wrong, in one sentence naming the path.
    Warning(String),
}

/// A file seen changing, and what it looked like when last seen.
struct Pending {
    root: usize,
    len: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

/// What a file was when it was processed: its identity and the version of its content.
type Seen = (FolderId, u64, Option<SystemTime>);

/// Files already processed, by identity, with a bound: the oldest entries are forgotten first. Each is kept as a
/// 64-bit keyed digest of its [`Seen`] (16 bytes or so with the set's overhead, against some 150 for the whole
/// tuple); the key is drawn per process, so nobody can shape a file to collide with another on purpose.
struct Processed {
    keys: RandomState,
    seen: HashSet<u64>,
    order: VecDeque<u64>,
    limit: usize,
}

impl Processed {
    /// Room for `limit` digests is taken at once: the memory of the set is known from the start (some 4 MiB for
    /// the default 200,000) instead of growing, and doubling, with the number of files processed.
    fn new(limit: usize) -> Processed {
        let limit = limit.max(1);
        let (seen, order) = (HashSet::with_capacity(limit + 1), VecDeque::with_capacity(limit + 1));
        Processed { keys: RandomState::new(), seen, order, limit }
    }

    fn contains(&self, s: &Seen) -> bool {
        self.seen.contains(&self.keys.hash_one(s))
    }

    fn insert(&mut self, s: Seen) {
        let digest = self.keys.hash_one(s);
        if self.seen.insert(digest) {
            self.order.push_back(digest);
        }
        while self.order.len() > self.limit {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }
}

/// A folder for the scanning thread to walk: the index of its root, the root, the folder.
type ScanJob = (usize, PathBuf, PathBuf);

/// What the scanning thread finds, in walk order.
enum Scanned {
    /// A file of the tree (excludes and this program's own folders already left out).
    File(usize, PathBuf),
    Warning(String),
}

/// What reaches the loop from the watcher's thread.
enum Message {
    /// A name that was written, created or moved in.
    Path(PathBuf),
    /// Events were lost (queue overflow): look at everything again.
    Rescan,
    Error(String),
}

type Process = Arc<dyn Fn(&Path, &Path) + Send + Sync>;
type Notify = Arc<dyn Fn(Notice) + Send + Sync>;

/// Watch `roots` until `stop` returns true (or Ctrl+C / SIGTERM), calling `process(root, file)` once for each file
/// that settles, and `notice` for the rest. Runs on a tokio runtime of its own; `process` runs on a blocking
/// thread, one file at a time; folders are scanned on a thread of their own.
pub fn watch(
    roots: &[PathBuf],
    options: &WatchOptions,
    process: impl Fn(&Path, &Path) + Send + Sync + 'static,
    notice: impl Fn(Notice) + Send + Sync + 'static,
    stop: impl Fn() -> bool + Send + 'static,
) -> Result<(), Error> {
    let filter = Filter::new(&options.exclude, true)?;
    let private = walk::folder_ids(&options.private);
    let mut absolute = Vec::new();
    for root in roots {
        if !root.is_dir() {
            return Err(Error::new(ExitClass::NotFound, format!("{}: not a folder", root.display())));
        }
        if let Some(own) = walk::inside_private(root, &private) {
            return Err(Error::new(
                ExitClass::Usage,
                format!("{}: lies in {}, which holds this program's own files", root.display(), own.display()),
            ));
        }
        // Events name paths as the watch was given them; absolute, so they compare with the roots.
        absolute.push(std::path::absolute(root).map_err(|e| Error::io("cannot open", root, e, ExitClass::NotFound))?);
    }
    let (scan_tx, scanned) = scanner(filter.clone(), private.clone())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
        .map_err(|e| Error::new(ExitClass::Internal, format!("cannot start the watcher: {e}")))?;
    let state = State {
        roots: absolute,
        options: options.clone(),
        filter,
        private,
        pending: HashMap::new(),
        scans: Vec::new(),
        scan_tx,
        scanned,
        processed: Processed::new(options.remember),
        notice: Arc::new(notice),
    };
    runtime.block_on(state.run(Arc::new(process), stop))
}

struct State {
    roots: Vec<PathBuf>,
    options: WatchOptions,
    filter: Filter,
    private: HashSet<FolderId>,
    pending: HashMap<PathBuf, Pending>,
    /// Folders to scan, each not before its instant (so the watcher has added its watch first).
    scans: Vec<(usize, PathBuf, Instant)>,
    /// Where due folders go to be walked, and where their files come back (a bounded queue).
    scan_tx: std::sync::mpsc::Sender<ScanJob>,
    scanned: tokio::sync::mpsc::Receiver<Scanned>,
    processed: Processed,
    notice: Notify,
}

impl State {
    async fn run(mut self, process: Process, stop: impl Fn() -> bool) -> Result<(), Error> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
        // Links are not followed: a linked folder inside a tree is not watched, and its events never arrive.
        let config = notify::Config::default().with_follow_symlinks(false);
        let mut watcher = notify::RecommendedWatcher::new(
            move |event: notify::Result<notify::Event>| {
                for m in messages(event) {
                    let _ = tx.send(m);
                }
            },
            config,
        )
        .map_err(|e| Error::new(ExitClass::Internal, format!("cannot start the file watcher: {e}")))?;
        let mut watched: Vec<bool> = vec![false; self.roots.len()];
        self.rewatch(&mut watcher, &mut watched, true);
        (self.notice)(Notice::Watching);
        if self.options.initial_scan {
            let now = Instant::now();
            self.scans.extend(self.roots.iter().cloned().enumerate().map(|(i, r)| (i, r, now)));
        }
        let mut tick = tokio::time::interval(self.options.tick);
        let shutdown = crate::platform::shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                Some(message) = rx.recv() => match message {
                    Message::Path(path) => self.note(path),
                    Message::Rescan => {
                        let at = Instant::now() + self.options.tick;
                        self.scans.extend(self.roots.iter().cloned().enumerate().map(|(i, r)| (i, r, at)));
                    }
                    Message::Error(e) => (self.notice)(Notice::Warning(e)),
                },
                Some(found) = self.scanned.recv() => match found {
                    Scanned::File(root, path) => self.found(root, path, &process).await,
                    Scanned::Warning(w) => (self.notice)(Notice::Warning(w)),
                },
                _ = tick.tick() => {
                    if stop() {
                        return Ok(());
                    }
                    self.rewatch(&mut watcher, &mut watched, false);
                    self.scan_due();
                    for (root, path, seen) in self.settled() {
                        self.process_file(root, path, seen, &process).await;
                    }
                }
            }
        }
    }

    /// Process a settled file (checked again at the last moment: the tree may have changed since it settled) and
    /// remember it.
    async fn process_file(&mut self, root: usize, path: PathBuf, seen: Seen, process: &Process) {
        let root_path = self.roots[root].clone();
        if beneath(&root_path, &path).is_err() {
            return;
        }
        let run = process.clone();
        let (r, p) = (root_path.clone(), path.clone());
        let _ = tokio::task::spawn_blocking(move || run(&r, &p)).await;
        self.processed.insert(seen);
        // What the rewrite left at that name is processed too: its rename is not new work.
        if let Ok(after) = open_beneath(&root_path, &path).and_then(|f| seen_of(&f)) {
            self.processed.insert(after);
        }
    }

    /// A file a scan found: processed now if it has settled already (unchanged for the debounce interval by its
    /// modification time, nobody writing it) and was not processed before; pending like any changed file if not.
    async fn found(&mut self, root: usize, path: PathBuf, process: &Process) {
        if self.pending.contains_key(&path) {
            return self.note(path);
        }
        // Opened by handle at once (without blocking, refusing anything but a regular file) and measured on the
        // handle: the path is resolved once, not once by name and once more to open it.
        let file = match open_beneath(&self.roots[root], &path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            // No longer a plain file beneath the root (a folder, a link): looked at as an event would be.
            Err(_) => return self.note(path),
        };
        let Ok(meta) = file.metadata() else { return };
        let age = meta.modified().ok().and_then(|m| SystemTime::now().duration_since(m).ok());
        if age.is_none_or(|a| a < self.options.debounce) || open_for_writing(&file) {
            return self.note(path);
        }
        let Ok(seen) = seen_of(&file) else { return };
        drop(file);
        if !self.processed.contains(&seen) {
            self.process_file(root, path, seen, process).await;
        }
    }

    /// (Re)attach the watch to every root that exists, and note the ones that vanished. A root watched again is
    /// scanned: what was written into it before the watch was back raised no event.
    fn rewatch(&mut self, watcher: &mut notify::RecommendedWatcher, watched: &mut [bool], first: bool) {
        for (i, (root, on)) in self.roots.iter().zip(watched.iter_mut()).enumerate() {
            let exists = root.is_dir();
            if exists && !*on {
                match watcher.watch(root, RecursiveMode::Recursive) {
                    Ok(()) => {
                        *on = true;
                        if !first {
                            self.scans.push((i, root.clone(), Instant::now() + self.options.tick));
                        }
                    }
                    Err(e) => {
                        if first {
                            (self.notice)(Notice::Warning(format!("{}: cannot watch: {e}", root.display())));
                        }
                    }
                }
            } else if !exists && *on {
                let _ = watcher.unwatch(root);
                *on = false;
            }
        }
    }

    /// A name was written, created or moved in: a file becomes pending, a folder is scanned; anything not beneath
    /// a root by real folders, or inside this program's own folders, is dropped.
    fn note(&mut self, path: PathBuf) {
        let Some(root) = self.root_of(&path) else { return };
        let root_path = &self.roots[root];
        let Ok(relative) = path.strip_prefix(root_path) else { return };
        if relative.as_os_str().is_empty() {
            return;
        }
        let meta = match beneath(root_path, &path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
                (self.notice)(Notice::Warning(walk::link_skipped(&path)));
                return;
            }
            Err(_) => {
                self.pending.remove(&path);
                return;
            }
        };
        if meta.is_dir() {
            let at = Instant::now() + self.options.tick;
            self.scans.push((root, path, at));
            return;
        }
        if !meta.is_file() || self.filter.leaves_out(relative, false) || self.private_parent(root, &path) {
            return;
        }
        let (len, modified) = (meta.len(), meta.modified().ok());
        let entry = self.pending.entry(path).or_insert(Pending { root, len, modified, since: Instant::now() });
        if entry.len != len || entry.modified != modified {
            *entry = Pending { root, len, modified, since: Instant::now() };
        }
    }

    /// The root `path` lies beneath (the deepest, when roots nest).
    fn root_of(&self, path: &Path) -> Option<usize> {
        (0..self.roots.len())
            .filter(|&i| path.starts_with(&self.roots[i]))
            .max_by_key(|&i| self.roots[i].components().count())
    }

    /// True when a folder between the root (excluded: checked at start) and `path` is one of this program's own.
    fn private_parent(&self, root: usize, path: &Path) -> bool {
        if self.private.is_empty() {
            return false;
        }
        let root = &self.roots[root];
        path.ancestors()
            .skip(1)
            .take_while(|a| a.starts_with(root) && *a != root)
            .any(|a| walk::folder_id(a).is_some_and(|id| self.private.contains(&id)))
    }

    /// Hand the folders whose time has come to the scanning thread.
    fn scan_due(&mut self) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.scans).into_iter().partition(|s| s.2 <= now);
        self.scans = later;
        let mut done = HashSet::new();
        for (root, folder, _) in due {
            if !done.insert(folder.clone()) {
                continue;
            }
            let root_path = self.roots[root].clone();
            if folder != root_path && !beneath(&root_path, &folder).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            // The thread lives as long as the receiver of its findings, which this state holds.
            let _ = self.scan_tx.send((root, root_path, folder));
        }
    }

    /// The pending files that have settled and were not processed before, removed from `pending`, in name order.
    fn settled(&mut self) -> Vec<(usize, PathBuf, Seen)> {
        let mut ready = Vec::new();
        let (roots, debounce, processed) = (&self.roots, self.options.debounce, &self.processed);
        self.pending.retain(|path, p| {
            let Ok(m) = beneath(&roots[p.root], path) else { return false };
            let (len, modified) = (m.len(), m.modified().ok());
            if !m.is_file() {
                return false;
            }
            if len != p.len || modified != p.modified {
                *p = Pending { root: p.root, len, modified, since: Instant::now() };
                return true;
            }
            if p.since.elapsed() < debounce {
                return true;
            }
            let Ok(file) = open_beneath(&roots[p.root], path) else { return false };
            if open_for_writing(&file) {
                return true;
            }
            let Ok(seen) = seen_of(&file) else { return false };
            if !processed.contains(&seen) {
                ready.push((p.root, path.clone(), seen));
            }
            false
        });
        ready.sort_by(|a, b| a.1.cmp(&b.1));
        ready
    }
}

/// Start the thread that walks the folders sent to it, one after the other, and sends back what it finds through a
/// queue of at most [`crate::batch::WINDOW`] entries (it waits while the queue is full). It stops when either end
/// is dropped.
fn scanner(
    filter: Filter,
    private: HashSet<FolderId>,
) -> Result<(std::sync::mpsc::Sender<ScanJob>, tokio::sync::mpsc::Receiver<Scanned>), Error> {
    let (jobs_tx, jobs) = std::sync::mpsc::channel::<ScanJob>();
    let (found_tx, found) = tokio::sync::mpsc::channel(crate::batch::WINDOW);
    std::thread::Builder::new()
        .name("watch-scan".into())
        .spawn(move || {
            for (root, root_path, folder) in jobs {
                let flow = walk::walk_into(&root_path, &folder, &filter, &private, &mut |entry| {
                    let sent = match entry {
                        Entry::File(f) => found_tx.blocking_send(Scanned::File(root, f.path)),
                        Entry::Skipped(s) => found_tx.blocking_send(Scanned::Warning(s)),
                        Entry::Problem(e) => found_tx.blocking_send(Scanned::Warning(e.message().to_string())),
                    };
                    if sent.is_ok() { std::ops::ControlFlow::Continue(()) } else { std::ops::ControlFlow::Break(()) }
                });
                if flow.is_break() {
                    return;
                }
            }
        })
        .map_err(|e| Error::new(ExitClass::Internal, format!("cannot start the watcher's scanning thread: {e}")))?;
    Ok((jobs_tx, found))
}

/// The events worth acting on, as messages: finished writes, creations and names moved in. Opens, reads, closes
/// without writing, attribute changes and removals are dropped here.
fn messages(event: notify::Result<notify::Event>) -> Vec<Message> {
    let event = match event {
        Ok(e) => e,
        Err(e) => {
            let paths = e.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
            return vec![Message::Error(format!("{paths}: the file watcher failed: {e}"))];
        }
    };
    if event.need_rescan() {
        return vec![Message::Rescan];
    }
    let paths = match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) | EventKind::Create(_) => event.paths,
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => event.paths,
        // From and to in one event: only the new name matters.
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => event.paths.into_iter().skip(1).collect(),
        _ => Vec::new(),
    };
    paths.into_iter().map(Message::Path).collect()
}

/// What the file is now, to tell it from what was processed.
fn seen_of(file: &File) -> io::Result<Seen> {
    let id = crate::platform::file_identity(file)?;
    let modified = file.metadata()?.modified().ok();
    Ok(((id.volume, id.index), id.size, modified))
}

/// The attributes of `path` if it lies beneath `root` through real folders only: every component between them is
/// a folder, not a symbolic link or junction, and `path` itself is not a link (`InvalidInput` if one is).
fn beneath(root: &Path, path: &Path) -> io::Result<std::fs::Metadata> {
    let relative = path.strip_prefix(root).map_err(|_| io::Error::from(io::ErrorKind::NotFound))?;
    let mut at = root.to_path_buf();
    let mut meta = std::fs::symlink_metadata(root)?;
    for part in relative.components() {
        let Component::Normal(name) = part else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a plain name"));
        };
        if !meta.is_dir() {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        at.push(name);
        meta = std::fs::symlink_metadata(&at)?;
        if meta.file_type().is_symlink() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "a symbolic link"));
        }
    }
    Ok(meta)
}

/// Open the regular file `path` beneath `root` for reading by handle, never through a link (the same resolution
/// the pipeline uses).
fn open_beneath(root: &Path, path: &Path) -> io::Result<File> {
    let target = crate::platform::resolve_target(path, Some(root))?;
    target.folder.open_file(&target.name)
}

/// True when someone has the file open for writing (Linux: the kernel refuses a read lease then). Where leases
/// cannot be taken, "not known": false. The lease is released at once.
fn open_for_writing(file: &File) -> bool {
    matches!(crate::platform::read_lease(file), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}
