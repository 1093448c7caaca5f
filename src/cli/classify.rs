//! `classify`: run the rule set over files and print, per file, the decision, the properties and the matches.
//! Changes nothing on disk.
//!
//! Exit code: 0 when every file was classified; 6 when the rules are invalid (nothing is classified); otherwise,
//! when some files failed, the highest exit code among them (e.g. 7 for unreadable content or a rule that could not
//! finish, 4 for a busy file, 3 for a missing one).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{FolderArgs, GlobalOptions};
use crate::batch::walk::{self, Found};
use crate::batch::{self, report};
use crate::classify::{MatchSummary, RuleSet};
use crate::extract::Limits;
use crate::log::LoggedMatch;
use crate::pipeline::verdict::{self, Judged, Source, Verdict};
use crate::pipeline::{Decision, FileResult, SkipReason, VerdictKind};
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    /// Files, or folders with --recurse
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format: a line per file (table), JSON lines, or CSV
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also print up to five matched values per match: THIS PRINTS THE SENSITIVE DATA ITSELF
    #[arg(long)]
    pub show_values: bool,
    #[command(flatten)]
    pub folder: FolderArgs,
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
    decision: VerdictKind,
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
    let started = std::time::Instant::now();
    let settings = global.load_settings()?;
    let (_, loaded) = super::load_rules(&settings)?;
    let config = &settings.config;
    // Output follows the order of the arguments: rows known up front (errors) and files to classify, interleaved.
    let mut order: Vec<Result<usize, Box<Row>>> = Vec::new();
    let mut files: Vec<Found> = Vec::new();
    let walk_options = args.folder.walk_options();
    for path in &args.paths {
        if path.is_dir() && args.folder.recurse {
            let walked = walk::files(std::slice::from_ref(path), &walk_options)?;
            for skipped in &walked.skipped {
                eprintln!("fci-connector: warning: {skipped}");
            }
            order.extend(walked.problems.iter().map(|e| Err(Box::new(error_row(path, e)))));
            order.extend((files.len()..files.len() + walked.files.len()).map(Ok));
            files.extend(walked.files);
        } else if path.is_dir() {
            let err = Error::new(ExitClass::NotFound, format!("{} is a folder (add --recurse)", path.display()));
            order.push(Err(Box::new(error_row(path, &err))));
        } else {
            order.push(Ok(files.len()));
            files.push(Found { path: path.clone(), bytes: std::fs::metadata(path).map_or(0, |m| m.len()) });
        }
    }
    let options = batch::RunOptions { jobs: args.folder.jobs, progress: !args.folder.quiet && args.folder.recurse };
    let reports = batch::run(&files, &options, |found| {
        let row = classify_file(&loaded.rules, &found.path, args.show_values, &config.limits);
        row.into_report(found.bytes)
    });
    // batch::run keeps the order of `files`, so the output is the same whatever the number of jobs.
    let mut out = std::io::stdout().lock();
    if args.format == Format::Csv {
        let _ = writeln!(out, "path,decision,template,properties,matches,error");
    }
    let mut worst = ExitClass::Success;
    for item in &order {
        let row = match item {
            Ok(i) => &reports[*i].0,
            Err(row) => row,
        };
        worst = worst.worst(row.class);
        let _ = writeln!(out, "{}", format_row(row, args.format));
    }
    if let Some(path) = &args.folder.report {
        let file_reports: Vec<FileResult> = reports.into_iter().map(|(_, r)| r).collect();
        let summary = batch::Summary::of(&file_reports, started.elapsed());
        let title = format!("fci-connector: classification of {}", paths_text(&args.paths));
        report::write(path, &title, &summary, &file_reports)?;
    }
    Ok(worst)
}

fn paths_text(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

impl Row {
    /// This row and its report form (never with matched values).
    fn into_report(self, bytes: u64) -> (Row, FileResult) {
        let report = FileResult {
            path: self.path.clone(),
            decision: Decision::Verdict(self.decision),
            reason: self.problems.first().cloned(),
            template: self.template.clone(),
            properties: self
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
            matches: self
                .matches
                .iter()
                .map(|m| LoggedMatch { name: m.name.clone(), count: m.count, confidence: m.confidence })
                .collect(),
            error: self.error.clone(),
            class: self.class,
            bytes,
        };
        (self, report)
    }
}

fn classify_file(rules: &RuleSet, path: &Path, show_values: bool, limits: &Limits) -> Row {
    row(path, verdict::verdict(Source::Path(path), rules, limits, show_values))
}

fn row(path: &Path, judged: Judged) -> Row {
    let (properties, matches, mut problems) = match judged.classification {
        Some(c) => (
            c.properties.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect(),
            c.matches.clone(),
            verdict::problems(&c),
        ),
        None => (serde_json::Map::new(), Vec::new(), Vec::new()),
    };
    let (decision, template, error, class) = match judged.verdict {
        Verdict::Protect { template } => (VerdictKind::Protect, template, None, ExitClass::Success),
        Verdict::Skip(reason) => {
            // A file another product protects is not read: the note says why it is left alone.
            if let SkipReason::ProtectedByOther(_) = reason {
                problems.push(reason.describe());
            }
            (VerdictKind::Skip, None, None, ExitClass::Success)
        }
        Verdict::Error(e) => (VerdictKind::Error, None, Some(e.message().to_string()), e.class()),
    };
    Row { path: path.display().to_string(), decision, template, properties, matches, problems, error, class }
}

fn error_row(path: &Path, err: &Error) -> Row {
    Row {
        path: path.display().to_string(),
        decision: VerdictKind::Error,
        template: None,
        properties: serde_json::Map::new(),
        matches: Vec::new(),
        problems: Vec::new(),
        error: Some(super::message(err).into_owned()),
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
        .map(|f| report::csv_field(f))
        .collect::<Vec<_>>()
        .join(","),
        Format::Table => {
            let mut line = format!("{:<8} {}", row.decision.as_str(), row.path);
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
            } else if !row.problems.is_empty() {
                line.push_str(&format!("  note: {}", row.problems.join("; ")));
            }
            super::printable(&line).into_owned()
        }
    }
}
