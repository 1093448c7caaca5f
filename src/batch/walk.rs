//! Which files a folder run looks at: every regular file under the roots, in name order, except this program's
//! own temporary files, Office lock files (`~$…`), symbolic links that lead out of the tree, files matching an
//! `--exclude` glob, and (unless asked) hidden files. Folders that cannot be read are reported, not fatal.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::protect::inplace::{TEMP_PREFIX, TEMP_SUFFIX};
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
}

/// The outcome of a walk: files found, and folders or entries that could not be read.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<Found>,
    pub problems: Vec<Error>,
}

/// Walk `roots` (folders or single files).
pub fn files(roots: &[PathBuf], options: &WalkOptions) -> Result<Walked, Error> {
    let exclude = globs(&options.exclude)?;
    let mut out = Walked::default();
    for root in roots {
        let root_real =
            std::fs::canonicalize(root).map_err(|e| Error::io("cannot open", root, e, ExitClass::NotFound))?;
        for entry in walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| root.clone());
                    let message = format!("cannot read {}: {e}", path.display());
                    out.problems.push(Error::new(ExitClass::Busy, message));
                    continue;
                }
            };
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap_or(path);
            let hidden = is_hidden(&entry);
            if entry.depth() > 0 && hidden && !options.include_hidden && entry.file_type().is_dir() {
                continue;
            }
            if entry.file_type().is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            if (name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) || name.starts_with("~$") {
                continue;
            }
            if (hidden && !options.include_hidden) || exclude.is_match(relative) || exclude.is_match(name.as_ref()) {
                continue;
            }
            let meta = if entry.file_type().is_symlink() {
                // A link is followed only when it stays inside the tree; its target is then a file like any other.
                match std::fs::canonicalize(path) {
                    Ok(target) if target.starts_with(&root_real) => match std::fs::metadata(&target) {
                        Ok(m) if m.is_file() => m,
                        _ => continue,
                    },
                    _ => continue,
                }
            } else {
                match entry.metadata() {
                    Ok(m) if m.is_file() => m,
                    Ok(_) => continue,
                    Err(e) => {
                        out.problems.push(Error::new(ExitClass::Busy, format!("cannot read {}: {e}", path.display())));
                        continue;
                    }
                }
            };
            out.files.push(Found { path: path.to_path_buf(), bytes: meta.len() });
        }
    }
    Ok(out)
}

fn globs(patterns: &[String]) -> Result<GlobSet, Error> {
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| Error::new(ExitClass::Usage, format!("--exclude {p:?}: {e}")))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| Error::new(ExitClass::Usage, format!("--exclude: {e}")))
}

#[cfg(windows)]
fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    use std::os::windows::fs::MetadataExt;
    const HIDDEN: u32 = 0x2;
    const SYSTEM: u32 = 0x4;
    entry.metadata().is_ok_and(|m| m.file_attributes() & (HIDDEN | SYSTEM) != 0)
}

#[cfg(not(windows))]
fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
}
