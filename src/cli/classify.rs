//! `classify`: run the rule set over files and print, per file, the decision, the properties and the matches.
//! Changes nothing on disk.
//!
//! Exit code: 0 when every file was classified; 6 when the rules are invalid (nothing is classified); otherwise,
//! when some files failed, the highest exit code among them (e.g. 7 for unreadable content or a rule that could not
//! finish, 4 for a busy file, 3 for a missing one).

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{FolderArgs, GlobalOptions};
use crate::batch::walk::{self, Found};
use crate::batch::{self, report};
use crate::classify::MatchSummary;
use crate::pipeline::verdict::{self, Source};
use crate::pipeline::{Decision, FileResult, VerdictKind};
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    /// Files, or folders with --recurse
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format: a line per file (table), JSON lines, or CSV; in the order of the arguments and, in a folder,
    /// of the walk (by name), whatever --jobs
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

/// What the walk hands the workers: a file to classify, or a row already known (an error, a warning).
enum Job {
    File(Found),
    Row(Box<FileResult>),
    Warning(String),
}

/// What the workers hand the sink: a row, and whether it is a file of the report.
enum Done {
    File(FileResult),
    Row(Box<FileResult>),
    Warning(String),
}

pub fn run(global: &GlobalOptions, args: ClassifyArgs) -> Result<ExitClass, Error> {
    let started = std::time::Instant::now();
    let settings = global.load_settings()?;
    let (_, loaded) = super::load_rules(&settings)?;
    let config = &settings.config;
    // Everything that could fail the run at its end is checked before the first file is read.
    if let Some(path) = &args.folder.report {
        crate::preflight::report(path)?;
    }
    let walker = walk::Walker::new(&args.folder.walk_options())?;
    let title = format!("fci-connector: classification of {}", paths_text(&args.paths));
    // The template a protection would use when the policy line names none: the config's default (its name when the
    // template store has it; classify needs no template store).
    let template =
        settings.template_id().map(|id| report::TemplateRef::lookup(id, settings.template_store().ok().as_ref()));
    let run = || report::RunInfo::start(template.clone(), Some(loaded.rules.version().clone()));
    let mut report =
        args.folder.report.as_deref().map(|path| report::Writer::create(path, &title, run())).transpose()?;
    let mut summary = batch::Summary::default();
    // Line by line on a terminal; in 64 KiB writes into a file or a pipe (one write per file was a tenth of the
    // system calls of a folder run of small files).
    let stdout = std::io::stdout();
    let mut out: Box<dyn Write> = if stdout.is_terminal() {
        Box::new(stdout.lock())
    } else {
        Box::new(std::io::BufWriter::with_capacity(64 * 1024, stdout.lock()))
    };
    if args.format == Format::Csv {
        let _ = writeln!(out, "path,decision,template,properties,matches,error");
    }
    let mut worst = ExitClass::Success;
    let mut table = Table::default();
    let options = batch::RunOptions { jobs: args.folder.jobs, progress: !args.folder.quiet && args.folder.recurse };
    // Output follows the order of the arguments and, within a folder, the walk's (batch::stream keeps the feed's
    // order), so it is the same whatever the number of jobs.
    let feed = |feeder: &mut batch::Feeder<Job>| {
        for path in &args.paths {
            if path.is_dir() && args.folder.recurse {
                let flow = walker.walk(path, &mut |entry| {
                    let more = match entry {
                        walk::Entry::File(found) => {
                            let bytes = found.bytes;
                            feeder.send(Job::File(found), bytes)
                        }
                        walk::Entry::Problem(e) => feeder.send(Job::Row(Box::new(error_row(path, &e))), 0),
                        walk::Entry::Skipped(s) => feeder.send(Job::Warning(s), 0),
                    };
                    if more { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
                })?;
                if flow.is_break() {
                    break;
                }
            } else if path.is_dir() {
                let err = Error::new(ExitClass::NotFound, format!("{} is a folder (add --recurse)", path.display()));
                feeder.send(Job::Row(Box::new(error_row(path, &err))), 0);
            } else {
                let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
                feeder.send(Job::File(Found { path: path.clone(), bytes }), bytes);
            }
        }
        Ok::<(), Error>(())
    };
    let work = |job: Job| match job {
        Job::File(found) => {
            let judged = verdict::verdict(Source::Path(&found.path), &loaded.rules, &config.limits, args.show_values);
            let mut row = FileResult::of_verdict(found.path.display().to_string(), judged, found.bytes);
            if row.decision == Decision::Verdict(VerdictKind::Protect) && row.template.is_none() {
                row.template = template.as_ref().map(|t| t.id.clone());
            }
            Done::File(row)
        }
        Job::Row(row) => Done::Row(row),
        Job::Warning(s) => Done::Warning(s),
    };
    batch::stream(&options, feed, work, |done| {
        let row = match &done {
            Done::File(row) => row,
            Done::Row(row) => row.as_ref(),
            Done::Warning(s) => {
                eprintln!("fci-connector: warning: {s}");
                return Ok(());
            }
        };
        worst = worst.worst(row.class);
        if args.format == Format::Table {
            table.push(&mut out, row);
        } else {
            let _ = writeln!(out, "{}", format_row(row, args.format));
        }
        if let Done::File(row) = &done {
            summary.add(row);
            if let Some(report) = &mut report {
                report.add(row)?;
            }
        }
        Ok(())
    })?;
    table.flush(&mut out);
    let _ = out.flush();
    if let Some(report) = report {
        summary.finish(started.elapsed());
        report.finish(&summary).map_err(|e| crate::preflight::report_not_written(&e))?;
    }
    Ok(worst)
}

fn paths_text(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn error_row(path: &Path, err: &Error) -> FileResult {
    FileResult::failed(path.display().to_string(), err, super::message(err).into_owned())
}

/// Rows held to measure the table's columns before its first line is printed: the widths come from the first
/// `TABLE_WINDOW` rows (or all of them, if fewer), so memory does not grow with the share; a later, longer cell
/// widens only its own line.
const TABLE_WINDOW: usize = 1_000;
const TABLE_HEADER: [&str; 5] = ["DECISION", "FILE", "TEMPLATE", "PROPERTIES", "MATCHES"];

/// The table: a header, then one row per file, the decision, file, template and properties columns aligned (the
/// cells are escaped before they are measured: names come from the share).
#[derive(Default)]
struct Table {
    held: Vec<[String; 5]>,
    widths: Option<[usize; 4]>,
}

impl Table {
    fn push(&mut self, out: &mut impl Write, row: &FileResult) {
        let cells = table_cells(row);
        match self.widths {
            Some(widths) => table_line(out, &widths, &cells),
            None => {
                self.held.push(cells);
                if self.held.len() >= TABLE_WINDOW {
                    self.flush(out);
                }
            }
        }
    }

    /// Print what is held, measuring the columns first if that has not been done (no rows: no header either).
    fn flush(&mut self, out: &mut impl Write) {
        if self.widths.is_none() {
            if self.held.is_empty() {
                return;
            }
            let width = |i: usize| {
                self.held.iter().map(|c| c[i].chars().count()).chain([TABLE_HEADER[i].len()]).max().unwrap_or(0)
            };
            let widths = [width(0), width(1), width(2), width(3)];
            table_line(out, &widths, &TABLE_HEADER.map(str::to_string));
            self.widths = Some(widths);
        }
        if let Some(widths) = self.widths {
            for cells in self.held.drain(..) {
                table_line(out, &widths, &cells);
            }
        }
    }
}

fn table_cells(row: &FileResult) -> [String; 5] {
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
}

fn table_line(out: &mut impl Write, widths: &[usize; 4], cells: &[String; 5]) {
    let mut line = String::new();
    for (cell, w) in cells.iter().zip(widths) {
        line.push_str(&format!("{cell:<w$}  "));
    }
    line.push_str(&cells[4]);
    let _ = writeln!(out, "{}", line.trim_end());
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
        // The table is printed by Table, which aligns its columns.
        Format::Table => String::new(),
    }
}
