//! Where the reader keeps its settings and its per-user offline cache, by operating system:
//!
//! | what | Linux and other Unix | Windows |
//! |---|---|---|
//! | machine-wide `reader.toml` | `/etc/fci-connector/` | `%ProgramData%\FciConnector\` |
//! | per-user `reader.toml` | `$XDG_CONFIG_HOME/fci-connector/` (default `~/.config/`) | `%APPDATA%\FciConnector\` |
//! | offline license cache | `$XDG_CACHE_HOME/fci-connector/licenses/` (default `~/.cache/`) | `%LOCALAPPDATA%\FciConnector\licenses\` |
//! | decrypted copies of `open --launch` | `$XDG_CACHE_HOME/fci-connector/open/` | `%LOCALAPPDATA%\FciConnector\open\` |
//!
//! The library takes paths; the command line asks here which ones.

use std::io;
use std::path::{Path, PathBuf};

/// A variable's value as a path, if it is set and not empty.
fn var_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The folder of the machine-wide reader configuration.
pub fn reader_machine_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        var_path("ProgramData").map(|p| p.join("FciConnector"))
    } else {
        Some(PathBuf::from("/etc/fci-connector"))
    }
}

/// The folder of the signed-in user's reader configuration.
pub fn reader_user_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        var_path("APPDATA").map(|p| p.join("FciConnector"))
    } else {
        var_path("XDG_CONFIG_HOME")
            .or_else(|| var_path("HOME").map(|h| h.join(".config")))
            .map(|p| p.join("fci-connector"))
    }
}

/// The folder of the signed-in user's offline license cache.
pub fn reader_cache_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        var_path("LOCALAPPDATA").map(|p| p.join("FciConnector").join("licenses"))
    } else {
        var_path("XDG_CACHE_HOME")
            .or_else(|| var_path("HOME").map(|h| h.join(".cache")))
            .map(|p| p.join("fci-connector").join("licenses"))
    }
}

/// The folder of the signed-in user's decrypted copies (`open --launch`): beside the offline cache.
pub fn reader_launch_dir() -> Option<PathBuf> {
    reader_cache_dir().and_then(|licenses| licenses.parent().map(|p| p.join("open")))
}

/// Create `path` (and the folders above it) for the running user's secrets: the last folder is mode 0700 on Unix
/// (made so if it already existed). On Windows it inherits the profile folder's ACL, which is already the user's
/// own (`%LOCALAPPDATA%`); the cache's key file gets an owner-only DACL and its key is sealed with DPAPI.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(path)
    }
}
