//! Problems found while loading rule files, each pinned to `file:line:col` so an admin can go straight to it.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is: errors make the rule set invalid (exit 6), warnings only mean something is skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem in one rule file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}:{}:{}: {level}: {}", self.file.display(), self.line, self.col, self.message)
    }
}

/// Collects diagnostics for one file, turning byte offsets into line and column.
pub struct Diagnostics<'a> {
    file: &'a Path,
    text_pos: &'a dyn Fn(usize) -> (usize, usize),
    pub items: Vec<Diagnostic>,
}

impl<'a> Diagnostics<'a> {
    pub fn new(file: &'a Path, text_pos: &'a dyn Fn(usize) -> (usize, usize)) -> Self {
        Diagnostics { file, text_pos, items: Vec::new() }
    }

    pub fn error(&mut self, offset: usize, message: impl Into<String>) {
        self.push(offset, Severity::Error, message.into());
    }

    pub fn warning(&mut self, offset: usize, message: impl Into<String>) {
        self.push(offset, Severity::Warning, message.into());
    }

    fn push(&mut self, offset: usize, severity: Severity, message: String) {
        let (line, col) = (self.text_pos)(offset);
        self.items.push(Diagnostic { file: self.file.to_path_buf(), line, col, severity, message });
    }
}
