//! The invocation log: one JSON line per invocation, appended to `fci-connector.log` in the log folder (`logs/`
//! beside the executable, or the config's `[log] dir`, or `--log-dir`), rotated by size. FSRM keeps no output of
//! the process, so this is where an admin reads why each file was or was not protected.
//!
//! Many processes append at once (FSRM's continuous mode beside a scheduled run): every append and rotation
//! happens under an exclusive lock on a separate lock file, and each record is written with one `write_all` of a
//! whole line, so lines never interleave or tear. A log that cannot be written never fails the run; the problem is
//! reported on stderr.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::LogConfig;

/// File name of the current log.
pub const LOG_FILE: &str = "fci-connector.log";
const LOCK_FILE: &str = "fci-connector.log.lock";

/// One invocation, as logged.
#[derive(Debug, Default, Serialize)]
pub struct Record {
    /// RFC 3339, UTC.
    pub time: String,
    pub pid: u32,
    pub command: &'static str,
    /// The file, as given (named `path` like every other JSON output of the program).
    #[serde(rename = "path")]
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// What was done: `protected`, `would-protect`, `skipped`, `failed` ([`crate::pipeline::ActionKind`]).
    pub decision: &'static str,
    /// Why, in a few words: `no rule matched`, `already protected by fci-connector`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<LoggedMatch>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    pub exit_code: u8,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Protected with a template that has `<LicenseServer register="true">`: whether the licensing service
    /// accepted the registration (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered: Option<bool>,
    /// Why the registration did not happen, when `registered` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_error: Option<String>,
}

/// A rule or entity that matched, with its count and confidence (never the matched text).
#[derive(Debug, Clone, Serialize)]
pub struct LoggedMatch {
    pub name: String,
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
}

/// Where the log goes: `--log-dir`, else the config's, else `logs/` beside the executable.
pub fn log_dir(explicit: Option<&Path>, config: &LogConfig) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| config.dir.clone())
        .or_else(|| crate::locate::exe_dir().map(|d| d.join(crate::locate::LOGS_DIR)))
}

/// Append `record` to the log in `dir`, rotating first when the log has reached `config.max_bytes`.
pub fn append(dir: &Path, config: &LogConfig, record: &Record) -> std::io::Result<()> {
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
    lock.unlock()
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
