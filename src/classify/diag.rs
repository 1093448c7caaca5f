//! Problems found while loading rule files, each pinned to `file:line:col` so an admin can go straight to it.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::xml::Element;

/// How bad a problem is: errors make the rule set invalid (exit 6), warnings only mean something is skipped, notes
/// say how something runs (a pattern kept on the backtracking engine, and why) and are shown by `rules check` only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
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
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}:{}:{}: {level}: {}", self.file.display(), self.line, self.col, self.message)
    }
}

/// Collects diagnostics for one file, each at the element it is about.
pub struct Diagnostics<'a> {
    file: &'a Path,
    pub items: Vec<Diagnostic>,
}

impl<'a> Diagnostics<'a> {
    pub fn new(file: &'a Path) -> Self {
        Diagnostics { file, items: Vec::new() }
    }

    pub fn error(&mut self, at: &Element, message: impl Into<String>) {
        self.push(at, Severity::Error, message.into());
    }

    pub fn warning(&mut self, at: &Element, message: impl Into<String>) {
        self.push(at, Severity::Warning, message.into());
    }

    pub fn note(&mut self, at: &Element, message: impl Into<String>) {
        self.push(at, Severity::Note, message.into());
    }

    fn push(&mut self, at: &Element, severity: Severity, message: String) {
        let (line, col) = (at.line, at.col);
        self.items.push(Diagnostic { file: self.file.to_path_buf(), line, col, severity, message });
    }
}
