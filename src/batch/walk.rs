//! Which files a folder run looks at: every regular file under the roots, in name order, except this program's
//! own temporary files, Office lock files (`~$…`), files matching an exclude glob, (unless asked) hidden files,
//! and the folders this program keeps its own files in (invocation log, template store, rule folder), recognised by
//! file identity, not by name. Symbolic links and junctions are never followed, to files or to folders: each one
//! met is left alone and named ([`Entry::Skipped`]). Folders that cannot be read are reported, not fatal.
//!
//! A walk streams: [`Walker::walk`] hands each [`Entry`] to its caller as it meets it and keeps nothing per file,
//! so its memory depends on the depth of the tree and the size of the largest folder (walkdir reads one folder's
//! names at a time to sort them), never on the number of files. [`files`] collects a small walk into a [`Walked`].

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::Setting;
use crate::protect::tempname;
use crate::{Error, ExitClass};

/// A file to process, with its size for progress and summaries.
#[derive(Clone, Debug)]
pub struct Found {
    pub path: PathBuf,
    pub bytes: u64,
}

/// What to leave out of a walk.
#[derive(Clone, Debug, Default)]
pub struct WalkOptions {
    /// Glob patterns matched against the path relative to its root and against the file name, e.g. `*.pst`,
    /// `Archive/**`.
    pub exclude: Vec<String>,
    /// Include hidden files (dot files; on Windows, the hidden and system attributes).
    pub include_hidden: bool,
    /// Folders never looked into, wherever they lie (the log folder, the template store, the rule folder).
    pub private: Vec<PathBuf>,
}

/// One thing a walk meets, in walk order.
#[derive(Debug)]
pub enum Entry {
    /// A file to process.
    File(Found),
    /// A folder or entry that could not be read.
    Problem(Error),
    /// Something left alone on purpose that the admin should hear about (a link, this program's own folder): one
    /// sentence naming the path.
    Skipped(String),
}

/// A prepared walk: the compiled exclude patterns and the identities of this program's own folders.
#[derive(Debug)]
pub struct Walker {
    filter: Filter,
    private: HashSet<FolderId>,
}

impl Walker {
    /// Check and compile `options` (a bad `--exclude` pattern fails here, before anything is walked).
    pub fn new(options: &WalkOptions) -> Result<Walker, Error> {
        Ok(Walker {
            filter: Filter::new(&options.exclude, options.include_hidden)?,
            private: folder_ids(&options.private),
        })
    }

    /// Walk `root` (a folder or a single file), handing each entry to `each` in name order; `each` returns
    /// [`ControlFlow::Break`] to stop the walk, and the walk then returns it too. Fails only when `root` itself
    /// cannot be opened.
    pub fn walk(&self, root: &Path, each: &mut dyn FnMut(Entry) -> ControlFlow<()>) -> Result<ControlFlow<()>, Error> {
        std::fs::symlink_metadata(root).map_err(|e| Error::io("cannot open", root, e, ExitClass::NotFound))?;
        Ok(walk_into(root, root, &self.filter, &self.private, each))
    }
}

/// The outcome of a collected walk: files found, folders or entries that could not be read, and what was left alone on
/// purpose that the admin should hear about (links, this program's own folders).
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<Found>,
    pub problems: Vec<Error>,
    /// One sentence each, naming the path: warnings, not failures.
    pub skipped: Vec<String>,
}

/// (volume, file index) of a folder: what tells two paths name the same folder, whatever their text.
pub(crate) type FolderId = (u64, u128);

/// The identity of the folder at `path`, if it can be opened.
pub(crate) fn folder_id(path: &Path) -> Option<FolderId> {
    let folder = std::fs::File::open(path).ok()?;
    crate::platform::file_identity(&folder).ok().map(|id| (id.volume, id.index))
}

/// The identities of `folders` that exist (a folder that does not exist holds nothing to protect from a walk).
pub(crate) fn folder_ids(folders: &[PathBuf]) -> HashSet<FolderId> {
    folders.iter().filter_map(|f| folder_id(f)).collect()
}

/// Which of this program's own folders `path` is or lies in, by identity of it and each folder above it.
pub(crate) fn inside_private(path: &Path, private: &HashSet<FolderId>) -> Option<PathBuf> {
    if private.is_empty() {
        return None;
    }
    let full = std::path::absolute(path).ok()?;
    full.ancestors().find(|a| folder_id(a).is_some_and(|id| private.contains(&id))).map(Path::to_path_buf)
}

/// The sentence for a link left alone.
pub(crate) fn link_skipped(path: &Path) -> String {
    format!("{}: a symbolic link or junction, left alone (links are never followed)", path.display())
}

/// The sentence for one of this program's own folders left alone.
pub(crate) fn private_skipped(path: &Path) -> String {
    format!("{}: holds this program's own files (log, templates or rules), left alone", path.display())
}

/// Compiled `--exclude` patterns and the hidden-file rule, shared by the walk and the watcher.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    exclude: GlobSet,
    include_hidden: bool,
}

impl Filter {
    pub(crate) fn new(exclude: &[String], include_hidden: bool) -> Result<Filter, Error> {
        Ok(Filter { exclude: globs(exclude)?, include_hidden })
    }

    /// True when the file or folder `relative` (to its root; never empty) is left out by name: this program's
    /// temporary files, Office lock files, excluded globs, hidden entries unless asked.
    pub(crate) fn leaves_out(&self, relative: &Path, hidden: bool) -> bool {
        let name = relative.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        tempname::is_not_a_document(&name)
            || (hidden && !self.include_hidden)
            || self.exclude.is_match(relative)
            || self.exclude.is_match(name.as_ref())
    }
}

impl Walked {
    /// Add `entry` to the collection.
    pub fn add(&mut self, entry: Entry) {
        match entry {
            Entry::File(found) => self.files.push(found),
            Entry::Problem(e) => self.problems.push(e),
            Entry::Skipped(s) => self.skipped.push(s),
        }
    }
}

/// Walk `roots` (folders or single files) and collect what is found: for small walks (a sample folder); a folder
/// run streams through [`Walker::walk`] instead.
pub fn files(roots: &[PathBuf], options: &WalkOptions) -> Result<Walked, Error> {
    let walker = Walker::new(options)?;
    let mut out = Walked::default();
    for root in roots {
        let _ = walker.walk(root, &mut |entry| {
            out.add(entry);
            ControlFlow::Continue(())
        })?;
    }
    Ok(out)
}

/// Hand the entries under `from` (a folder beneath `root`, or `root` itself) to `each`, until it says stop.
pub(crate) fn walk_into(
    root: &Path,
    from: &Path,
    filter: &Filter,
    private: &HashSet<FolderId>,
    each: &mut dyn FnMut(Entry) -> ControlFlow<()>,
) -> ControlFlow<()> {
    if let Some(own) = inside_private(from, private) {
        return each(Entry::Skipped(private_skipped(&own)));
    }
    // The root itself may be a link (the admin's choice); below it nothing is followed, `from` included.
    let mut entries =
        walkdir::WalkDir::new(from).follow_links(false).follow_root_links(from == root).sort_by_file_name().into_iter();
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| from.to_path_buf());
                let message = format!("cannot read {}: {e}", path.display());
                each(Entry::Problem(Error::new(ExitClass::Busy, message)))?;
                continue;
            }
        };
        let path = entry.path();
        let file_type = entry.file_type();
        if entry.depth() == 0 {
            if file_type.is_symlink() {
                each(Entry::Skipped(link_skipped(path)))?;
            } else if file_type.is_file() {
                // A single file given as a root.
                let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
                each(Entry::File(Found { path: path.to_path_buf(), bytes }))?;
            }
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(path);
        let hidden = crate::platform::is_hidden(entry.file_name(), || entry.metadata().ok());
        if file_type.is_dir() {
            // Folders are never left out by name (the rules apply to the files in them), only by identity.
            if !private.is_empty() && folder_id(path).is_some_and(|id| private.contains(&id)) {
                entries.skip_current_dir();
                each(Entry::Skipped(private_skipped(path)))?;
            }
            continue;
        }
        if filter.leaves_out(relative, hidden) {
            continue;
        }
        if file_type.is_symlink() {
            each(Entry::Skipped(link_skipped(path)))?;
            continue;
        }
        match entry.metadata() {
            Ok(m) if m.is_file() => each(Entry::File(Found { path: path.to_path_buf(), bytes: m.len() }))?,
            Ok(_) => {}
            Err(e) => {
                let message = format!("cannot read {}: {e}", path.display());
                each(Entry::Problem(Error::new(ExitClass::Busy, message)))?;
            }
        }
    }
    ControlFlow::Continue(())
}

fn globs(patterns: &[String]) -> Result<GlobSet, Error> {
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        let glob =
            Glob::new(p).map_err(|e| Error::about(ExitClass::Usage, Setting::Exclude, format!(" {p:?}: {e}")))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| Error::about(ExitClass::Usage, Setting::Exclude, format!(": {e}")))
}
