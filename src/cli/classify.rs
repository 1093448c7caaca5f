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
    if let Some(path) = &args.folder.report {
        crate::preflight::report(path)?;
    }
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
    let rows = order.iter().map(|item| match item {
        Ok(i) => &reports[*i],
        Err(row) => row,
    });
    if args.format == Format::Table {
        let rows: Vec<&FileResult> = rows.collect();
        worst = rows.iter().fold(worst, |w, r| w.worst(r.class));
        print_table(&mut out, &rows);
    } else {
        for row in rows {
            worst = worst.worst(row.class);
            let _ = writeln!(out, "{}", format_row(row, args.format));
        }
    }
    if let Some(path) = &args.folder.report {
        let summary = batch::Summary::of(&reports, started.elapsed());
        let title = format!("fci-connector: classification of {}", paths_text(&args.paths));
        report::write(path, &title, &summary, &reports).map_err(|e| crate::preflight::report_not_written(&e))?;
    }
    Ok(worst)
}

fn paths_text(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn error_row(path: &Path, err: &Error) -> FileResult {
    FileResult::failed(path.display().to_string(), err, super::message(err).into_owned())
}

/// The table: a header, then one row per file, the decision, file and template columns aligned (the cells are
/// escaped before they are measured: names come from the share).
fn print_table(out: &mut impl Write, rows: &[&FileResult]) {
    if rows.is_empty() {
        return;
    }
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            // The matches, then an error or the notes.
            let mut details = matches(row).join("; ");
            let note = match &row.error {
                Some(e) => format!("error: {e}"),
                None if !row.notes.is_empty() => format!("note: {}", row.notes.join("; ")),
                None => String::new(),
            };
            if !note.is_empty() {
                details = if details.is_empty() { note } else { format!("{details}; {note}") };
            }
            [
                row.decision.as_str().to_string(),
                row.path.clone(),
                row.template.clone().unwrap_or_else(|| "-".into()),
                properties(row).join(", "),
                details,
            ]
            .map(|c| super::printable(&c).into_owned())
        })
        .collect();
    const HEADER: [&str; 5] = ["DECISION", "FILE", "TEMPLATE", "PROPERTIES", "MATCHES"];
    let width = |i: usize| cells.iter().map(|c| c[i].chars().count()).chain([HEADER[i].len()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..4).map(width).collect();
    let line = |c: [&str; 5]| {
        let mut l = String::new();
        for (i, w) in widths.iter().enumerate() {
            l.push_str(&format!("{:<w$}  ", c[i]));
        }
        l.push_str(c[4]);
        l.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(HEADER));
    for c in &cells {
        let _ = writeln!(out, "{}", line([&c[0], &c[1], &c[2], &c[3], &c[4]]));
    }
}

fn properties(row: &FileResult) -> Vec<String> {
    row.properties.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

fn matches(row: &FileResult) -> Vec<String> {
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
        .collect()
}

/// One row as JSON or CSV.
fn format_row(row: &FileResult, format: Format) -> String {
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
            properties(row).join("; "),
            matches(row).join("; "),
            row.error.clone().unwrap_or_default(),
        ]
        .iter()
        .map(|f| report::csv_field(f))
        .collect::<Vec<_>>()
        .join(","),
        // The table is printed whole by print_table.
        Format::Table => String::new(),
    }
}
