//! `classify`: run the rule set over files and print, per file, the decision, the properties and the matches.
//! Changes nothing on disk.
//!
//! Exit code: 0 when every file was classified; 6 when the rules are invalid (nothing is classified); otherwise,
//! when some files failed, the highest exit code among them (e.g. 7 for unreadable content or a rule that could not
//! finish, 4 for a busy file, 3 for a missing one).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::GlobalOptions;
use crate::classify::{Classification, Decision, MatchSummary, RuleSet};
use crate::extract::{self, Limits};
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    /// Files, or folders with --recurse
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Classify every file under the folders given
    #[arg(long, short = 'r')]
    pub recurse: bool,
    /// Output format: a line per file (table), JSON lines, or CSV
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also print up to five matched values per match: THIS PRINTS THE SENSITIVE DATA ITSELF
    #[arg(long)]
    pub show_values: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// One file's outcome, as printed.
#[derive(serde::Serialize)]
struct Row {
    path: String,
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    properties: serde_json::Map<String, serde_json::Value>,
    matches: Vec<MatchSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip)]
    class: ExitClass,
}

pub fn run(global: &GlobalOptions, args: ClassifyArgs) -> Result<ExitClass, Error> {
    let dir = super::rules::rules_folder(global)?;
    let loaded = RuleSet::load(&dir)?;
    if !loaded.warnings.is_empty() {
        eprintln!(
            "fci-connector: {} warning(s) in the rules in {} (see `fci-connector rules check`)",
            loaded.warnings.len(),
            dir.display()
        );
    }
    let mut out = std::io::stdout().lock();
    if args.format == Format::Csv {
        let _ = writeln!(out, "path,decision,template,properties,matches,error");
    }
    let mut worst = ExitClass::Success;
    let mut emit = |row: Row| {
        if row.class.code() > worst.code() {
            worst = row.class;
        }
        let _ = writeln!(out, "{}", format_row(&row, args.format));
    };
    for path in &args.paths {
        if path.is_dir() {
            if args.recurse {
                walk(path, &mut |file| emit(classify_file(&loaded.rules, file, args.show_values)));
            } else {
                let err = Error::new(ExitClass::NotFound, format!("{} is a folder (add --recurse)", path.display()));
                emit(error_row(path, &err));
            }
        } else {
            emit(classify_file(&loaded.rules, path, args.show_values));
        }
    }
    Ok(worst)
}

/// Every regular file under `dir`, in name order; symbolic links to folders are not followed. Folders that cannot
/// be listed are reported as rows.
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => {
            visit(dir);
            return;
        }
    };
    entries.sort();
    for p in entries {
        let is_dir = std::fs::symlink_metadata(&p).map(|m| m.is_dir()).unwrap_or(false);
        if is_dir { walk(&p, visit) } else { visit(&p) }
    }
}

fn classify_file(rules: &RuleSet, path: &Path, show_values: bool) -> Row {
    // Scopes compare full paths, so a relative argument is resolved first.
    let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if !full.is_file() {
        let err = if full.exists() {
            Error::new(ExitClass::NotFound, format!("{}: not a regular file", path.display()))
        } else {
            Error::new(ExitClass::NotFound, format!("{}: no such file", path.display()))
        };
        return error_row(path, &err);
    }
    let mut scanner = rules.scanner(&full).with_values(show_values);
    match extract::extract(path, &Limits::default(), &mut |chunk| scanner.feed(chunk)) {
        Ok(_) => row(path, &scanner.finish()),
        Err(err) => error_row(path, &err),
    }
}

fn row(path: &Path, c: &Classification) -> Row {
    let properties = c.properties.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    let problems: Vec<String> = c.problems.iter().map(|p| format!("{}: {}", p.source, p.message)).collect();
    let (decision, template, error, class) = match c.decision() {
        Decision::Protect { template } => ("protect", template.clone(), None, ExitClass::Success),
        Decision::Skip if c.is_complete() => ("skip", None, None, ExitClass::Success),
        // An incomplete classification cannot justify leaving the file unprotected.
        Decision::Skip => (
            "error",
            None,
            Some(format!("{}: classification incomplete: {}", path.display(), problems.join("; "))),
            ExitClass::Unreadable,
        ),
    };
    Row {
        path: path.display().to_string(),
        decision,
        template,
        properties,
        matches: c.matches.clone(),
        problems,
        error,
        class,
    }
}

fn error_row(path: &Path, err: &Error) -> Row {
    Row {
        path: path.display().to_string(),
        decision: "error",
        template: None,
        properties: serde_json::Map::new(),
        matches: Vec::new(),
        problems: Vec::new(),
        error: Some(err.message().to_string()),
        class: err.class(),
    }
}

fn format_row(row: &Row, format: Format) -> String {
    let props =
        || row.properties.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>();
    let matches = || {
        row.matches
            .iter()
            .map(|m| {
                let mut s = match m.confidence {
                    Some(c) => format!("{} x{} @{c}", m.name, m.count),
                    None => format!("{} x{}", m.name, m.count),
                };
                if !m.values.is_empty() {
                    s.push_str(&format!(" [{}]", m.values.join(", ")));
                }
                s
            })
            .collect::<Vec<_>>()
    };
    match format {
        Format::Json => serde_json::to_string(row).unwrap_or_default(),
        Format::Csv => [
            row.path.clone(),
            row.decision.to_string(),
            row.template.clone().unwrap_or_default(),
            props().join("; "),
            matches().join("; "),
            row.error.clone().unwrap_or_default(),
        ]
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(","),
        Format::Table => {
            let mut line = format!("{:<8} {}", row.decision, row.path);
            if let Some(t) = &row.template {
                line.push_str(&format!("  template={t}"));
            }
            if !row.properties.is_empty() {
                line.push_str(&format!("  {{{}}}", props().join(", ")));
            }
            if !row.matches.is_empty() {
                line.push_str(&format!("  [{}]", matches().join("; ")));
            }
            if let Some(e) = &row.error {
                line.push_str(&format!("  error: {e}"));
            }
            line
        }
    }
}

/// RFC 4180 quoting when the field needs it.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}
