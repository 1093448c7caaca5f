//! The invocation log: one JSON line per invocation, appended to `fci-connector.log` in the log folder (`logs/`
//! beside the executable, or the config's `[log] dir`, or `--log-dir`), rotated by size. FSRM keeps no output of
//! the process, so this is where an admin reads why each file was or was not protected.
//!
//! Many processes append at once (FSRM's continuous mode beside a scheduled run): every append and rotation
//! happens under an exclusive lock on a separate lock file (released by closing it), and each record is written with
//! one `write_all` of a whole line, so lines never interleave or tear. A log that cannot be written never fails the run; the problem is
//! reported on stderr.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::LogConfig;

/// File name of the current log.
pub const LOG_FILE: &str = "fci-connector.log";
const LOCK_FILE: &str = "fci-connector.log.lock";

/// Where the log goes: `--log-dir`, else the config's, else `logs/` beside the executable.
pub fn log_dir(explicit: Option<&Path>, config: &LogConfig) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| config.dir.clone())
        .or_else(|| crate::locate::exe_dir().map(|d| d.join(crate::locate::LOGS_DIR)))
}

/// Append `record` (one invocation: [`crate::pipeline::result::LogRecord`]) to the log in `dir`, rotating first when the log has reached `config.max_bytes`.
pub fn append(dir: &Path, config: &LogConfig, record: &impl Serialize) -> std::io::Result<()> {
    let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
    line.push('\n');
    std::fs::create_dir_all(dir)?;
    let lock = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(LOCK_FILE))?;
    lock.lock()?;
    let path = dir.join(LOG_FILE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() >= config.max_bytes) {
        rotate(dir, config.keep)?;
    }
    let mut log: File = OpenOptions::new().create(true).append(true).open(&path)?;
    log.write_all(line.as_bytes())?;
    drop(log);
    // Closing the handle releases the lock. Not `File::unlock`: on Windows it unlocks twice (for a handle that may
    // hold both a shared and an exclusive lock) and accepts only ERROR_NOT_LOCKED for the second, but Wine's
    // server answers an unlock of a range no longer locked with STATUS_FILE_LOCK_CONFLICT (ERROR_LOCK_VIOLATION,
    // 33): every line was written and then reported as a failure to write.
    drop(lock);
    Ok(())
}

/// `fci-connector.log` → `.1` → `.2` … → `.keep`, dropping the oldest.
fn rotate(dir: &Path, keep: u32) -> std::io::Result<()> {
    let numbered = |n: u32| dir.join(format!("{LOG_FILE}.{n}"));
    if keep == 0 {
        return std::fs::remove_file(dir.join(LOG_FILE));
    }
    let _ = std::fs::remove_file(numbered(keep));
    for n in (1..keep).rev() {
        if numbered(n).exists() {
            std::fs::rename(numbered(n), numbered(n + 1))?;
        }
    }
    std::fs::rename(dir.join(LOG_FILE), numbered(1))
}

/// The current time as the log writes it.
pub fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
