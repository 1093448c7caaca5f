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
use crate::classify::MatchSummary;
use crate::pipeline::verdict::{self, Source};
use crate::pipeline::{Decision, FileResult};
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

/// One file's result as `--format json` prints it: the result with the matches in full (their kind, and their
/// values with `--show-values`) and every note.
#[derive(serde::Serialize)]
struct JsonView<'a> {
    path: &'a str,
    decision: Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a str>,
    properties: serde_json::Map<String, serde_json::Value>,
    matches: &'a [MatchSummary],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    problems: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

pub fn run(global: &GlobalOptions, args: ClassifyArgs) -> Result<ExitClass, Error> {
    let started = std::time::Instant::now();
    let settings = global.load_settings()?;
    let (_, loaded) = super::load_rules(&settings)?;
    let config = &settings.config;
    // Output follows the order of the arguments: rows known up front (errors) and files to classify, interleaved.
    let mut order: Vec<Result<usize, Box<FileResult>>> = Vec::new();
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
        let judged = verdict::verdict(Source::Path(&found.path), &loaded.rules, &config.limits, args.show_values);
        FileResult::of_verdict(found.path.display().to_string(), judged, found.bytes)
    });
    // batch::run keeps the order of `files`, so the output is the same whatever the number of jobs.
    let mut out = std::io::stdout().lock();
    if args.format == Format::Csv {
        let _ = writeln!(out, "path,decision,template,properties,matches,error");
    }
    let mut worst = ExitClass::Success;
    for item in &order {
        let row = match item {
            Ok(i) => &reports[*i],
            Err(row) => row,
        };
        worst = worst.worst(row.class);
        let _ = writeln!(out, "{}", format_row(row, args.format));
    }
    if let Some(path) = &args.folder.report {
        let summary = batch::Summary::of(&reports, started.elapsed());
        let title = format!("fci-connector: classification of {}", paths_text(&args.paths));
        report::write(path, &title, &summary, &reports)?;
    }
    Ok(worst)
}

fn paths_text(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn error_row(path: &Path, err: &Error) -> FileResult {
    FileResult::failed(path.display().to_string(), err, super::message(err).into_owned())
}

fn format_row(row: &FileResult, format: Format) -> String {
    let props = || row.properties.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
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
        Format::Json => serde_json::to_string(&JsonView {
            path: &row.path,
            decision: row.decision,
            template: row.template.as_deref(),
            properties: row.properties.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect(),
            matches: &row.matches,
            problems: &row.notes,
            error: row.error.as_deref(),
        })
        .unwrap_or_default(),
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
            } else if !row.notes.is_empty() {
                line.push_str(&format!("  note: {}", row.notes.join("; ")));
            }
            super::printable(&line).into_owned()
        }
    }
}
