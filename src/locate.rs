//! Where the template store, the rule folder and the config file are, when the command line does not say, and
//! whether they can be trusted.
//!
//! FSRM starts the program as Local System or Local Service, with no user profile and no environment of the
//! admin's: so the defaults are found from the executable's own location. They are searched in fixed places only:
//! beside the executable, then (Linux) in `/etc/fci-connector/` where the packages put them — never in the folders
//! above the executable nor in the current folder, where anyone who can create a folder (`C:\templates`, a share)
//! could plant a store that receives every content key. Whatever is used, found or configured, must be writable by
//! nobody but its owner and the administrators ([`check_trusted`]).

use std::path::{Path, PathBuf};

use crate::{Error, ExitClass};

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

/// The places searched for `name`, in order: beside the executable, then the system's config folder (Linux).
pub fn search_places(name: &str) -> Vec<PathBuf> {
    exe_dir().into_iter().chain(crate::platform::system_config_dir()).map(|dir| dir.join(name)).collect()
}

/// Find `name` (a folder or file) in [`search_places`].
pub fn find_default(name: &str) -> Option<PathBuf> {
    search_places(name).into_iter().find(|c| c.exists())
}

/// The template store: `explicit` when given, else the default search.
pub fn templates_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(|| find_default(TEMPLATES_DIR))
}

/// The rule folder: `explicit` when given, else the default search.
pub fn rules_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(|| find_default(RULES_DIR))
}

/// Refuse `path` (a template store, rule folder or config file: `what`) when someone other than its owner and the
/// administrators can change it or what is in it (exit 6, naming the path and the fix).
pub fn check_trusted(path: &Path, what: &str) -> Result<(), Error> {
    match crate::platform::check_trusted(path) {
        Ok(None) => Ok(()),
        Ok(Some(u)) => Err(Error::new(
            ExitClass::Config,
            format!(
                "refusing the {what} {}: {} is not safe: {}; only its owner and the administrators may be able to \
                 change it (fix: {})",
                path.display(),
                u.path.display(),
                u.problem,
                u.fix
            ),
        )),
        Err(e) => Err(Error::io("cannot check who may change", path, e, ExitClass::Config).context(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searched_only_beside_the_executable_and_in_the_system_folder() {
        let places = search_places(TEMPLATES_DIR);
        let exe = exe_dir().unwrap();
        assert_eq!(places[0], exe.join(TEMPLATES_DIR));
        assert!(
            places.iter().all(|p| p.parent() == Some(exe.as_path()) || p.starts_with("/etc/fci-connector")),
            "{places:?}"
        );
        assert!(places.len() <= 2);
    }
}
