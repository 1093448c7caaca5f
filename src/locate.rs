//! Where the template store, the rule folder and the config file are, when the command line does not say.
//!
//! FSRM starts the program as Local System or Local Service, with no user profile and no environment of the
//! admin's: so the defaults are found from the executable's own location. A folder named `templates` or
//! `classification-rules` beside the executable or in any folder above it wins (so both
//! `C:\Program Files\FciConnector\fci-connector.exe` and `cargo run` inside the repository find theirs), then the
//! current folder.

use std::path::{Path, PathBuf};

/// Folder name of the template store.
pub const TEMPLATES_DIR: &str = "templates";
/// Folder name of the rule files.
pub const RULES_DIR: &str = "classification-rules";
/// File name of the optional config file.
pub const CONFIG_FILE: &str = "fci-connector.toml";
/// Folder name of the invocation log.
pub const LOGS_DIR: &str = "logs";

/// The folder of the running executable, if the OS tells it.
pub fn exe_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    exe.parent().map(Path::to_path_buf)
}

/// Find `name` (a folder or file) beside the executable or in any folder above it, then in the current folder.
pub fn find_default(name: &str) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = exe_dir() {
        candidates.extend(dir.ancestors().map(|d| d.join(name)));
    }
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join(name));
    }
    candidates.into_iter().find(|c| c.exists())
}

/// The template store: `explicit` when given, else the default search.
pub fn templates_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(|| find_default(TEMPLATES_DIR))
}

/// The rule folder: `explicit` when given, else the default search.
pub fn rules_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(|| find_default(RULES_DIR))
}
