//! What a folder run checks before it touches the first file: that the report can be written where it is asked
//! for (a known extension, a folder that exists and takes a new file) and that the invocation log's folder takes
//! one. A run over a whole share must not do all its work and then fail on a setting that could have been checked
//! first. (The template store, the template and the rules are checked when the session opens, also before any
//! file.)

use std::path::Path;

use crate::error::Setting;
use crate::protect::tempname;
use crate::{Error, ExitClass};

/// The report at `path` can be written: its extension names a format, its folder exists and a file can be
/// created there (one is created and removed).
pub fn report(path: &Path) -> Result<(), Error> {
    crate::batch::report::check_name(path)?;
    if path.is_dir() {
        let detail = format!(" {}: is a folder; give a file name in it", path.display());
        return Err(Error::about(ExitClass::Usage, Setting::Report, detail));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        let detail = format!(" {}: the folder {} does not exist", path.display(), folder.display());
        return Err(Error::about(ExitClass::Usage, Setting::Report, detail));
    }
    probe(folder).map_err(|e| {
        let detail = format!(" {}: cannot create a file in {}: {e}", path.display(), folder.display());
        Error::about(ExitClass::Usage, Setting::Report, detail)
    })
}

/// The invocation log can be written in `dir`: the folder is created if missing and takes a new file.
pub fn log_folder(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).and_then(|()| probe(dir)).map_err(|e| {
        Error::new(ExitClass::Config, format!("cannot write the invocation log in {}: {e}", dir.display()))
            .with_source(e)
    })
}

/// A report that could not be written at the end of a run: the run failed ([`ExitClass::ReportNotWritten`]), with
/// the writer's message.
pub fn report_not_written(err: &Error) -> Error {
    Error::new(ExitClass::ReportNotWritten, format!("the run is done, but {}", err.message()))
}

/// Create a file in `dir` with this program's temporary-file name (never taken for a document) and remove it.
fn probe(dir: &Path) -> std::io::Result<()> {
    let name = tempname::fresh()?;
    let path = dir.join(name);
    std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
    std::fs::remove_file(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_needs_a_known_extension_and_a_folder_that_takes_a_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(report(&dir.path().join("r.json")).is_ok());
        assert!(report(&dir.path().join("r.HTML")).is_ok());
        let e = report(&dir.path().join("r.txt")).unwrap_err();
        assert_eq!(e.class(), ExitClass::Usage);
        assert!(e.message().contains("must end in .html, .csv, .json or .jsonl"), "{}", e.message());
        let e = report(&dir.path().join("missing/r.json")).unwrap_err();
        assert!(e.message().contains("does not exist"), "{}", e.message());
        assert_eq!(e.setting(), Some(Setting::Report));
        assert!(report(dir.path()).is_err());
        // Nothing is left behind by the probe.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_log_folder_is_created_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(log_folder(&dir.path().join("logs/deeper")).is_ok());
        assert!(dir.path().join("logs/deeper").is_dir());
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        let e = log_folder(&dir.path().join("file/logs")).unwrap_err();
        assert!(e.message().contains("cannot write the invocation log in"), "{}", e.message());
    }
}
