//! Reports of a folder run, chosen by the file extension: `.json` (summary and every file, one document), `.jsonl`
//! (one JSON object per file, then a summary line), `.csv` (one row per file) or `.html` (one self-contained page a
//! manager can read: charts of files by decision, by property value and by entity, and a sortable table; no
//! external scripts, fonts or images). Reports never contain matched values.
//!
//! The JSON report's `run` object (also on the last line of JSON lines) and the top of the HTML page say what a
//! manager asks first ([`RunInfo`]): when the run started and ended, on which host, with which template (id and
//! name) and which rules (the rule files and the SHA-256 of their bytes), and which program version; the HTML page
//! also says in words what each exit code in it means (the words of `src/exit.rs`) and shows sizes in KB, MB, GB
//! (the exact byte counts stay in the CSV and JSON reports).
//!
//! A [`Writer`] takes the files as the run finishes them and keeps none in memory: CSV, JSON and JSON lines go
//! straight to a temporary file beside the report (the JSON document lists the files first and ends with the
//! summary); the HTML page is spooled to a temporary JSON-lines file beside the report and put together at the
//! end, when the summary is known. Every report appears under its name
//! only when complete (renamed into place); a failed run leaves no partial report. An HTML page of more than
//! [`HTML_ALL_FILES`] files lists only the files that need attention (protected or to be protected, failed), at
//! most [`HTML_ATTENTION_FILES`] of them, and says how many it leaves out: the CSV and JSON reports list every file.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Summary, human_size};
use crate::classify::RulesVersion;
use crate::error::Setting;
use crate::pipeline::{ActionKind, Decision, FileResult, VerdictKind};
use crate::protect::templates::{self, Template, TemplateStore};
use crate::protect::tempname;
use crate::{Error, ExitClass};

/// Up to this many files, the HTML page lists every file.
pub const HTML_ALL_FILES: usize = 10_000;
/// Above [`HTML_ALL_FILES`], the HTML page lists at most this many of the files that need attention.
pub const HTML_ATTENTION_FILES: usize = 10_000;

/// What a report says about the run itself (the JSON report's `run` object, the top of the HTML page).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunInfo {
    /// When the run started, RFC 3339 in UTC, to the second.
    pub started: String,
    /// When its report was finished (the same form); empty until then.
    pub ended: String,
    /// The machine the run ran on.
    pub host: String,
    pub tool: Tool,
    /// The run's template (asked for, or the config's default); a protection policy line may name another for
    /// some files (each file's `template` says which). `None` when the run has none.
    pub template: Option<TemplateRef>,
    /// The rules the files were classified with; `None` when files were protected without classifying.
    pub rules: Option<RulesVersion>,
}

/// This program, as the reports name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
    /// The commit it was built from (`git rev-parse --short HEAD`), "unknown" outside a repository.
    pub commit: &'static str,
}

/// A template as the reports name it: its id and, when the template store has it, its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplateRef {
    pub id: String,
    pub name: Option<String>,
}

impl TemplateRef {
    /// The template `given` (any GUID spelling, shown canonical when it parses) as `store` names it; without a
    /// name when there is no store or it has no template by that id.
    pub fn lookup(given: &str, store: Option<&TemplateStore>) -> TemplateRef {
        match store.and_then(|s| s.get(given).ok()) {
            Some(t) => TemplateRef::from(t),
            None => TemplateRef {
                id: templates::parse_id(given).map_or_else(|_| given.to_string(), |id| id.to_string()),
                name: None,
            },
        }
    }
}

impl From<&Template> for TemplateRef {
    fn from(t: &Template) -> TemplateRef {
        TemplateRef { id: t.id.to_string(), name: Some(t.name.clone()) }
    }
}

impl RunInfo {
    /// A run starting now on this machine.
    pub fn start(template: Option<TemplateRef>, rules: Option<RulesVersion>) -> RunInfo {
        RunInfo {
            started: now(),
            ended: String::new(),
            host: crate::platform::host_name(),
            tool: Tool { name: "fci-connector", version: env!("CARGO_PKG_VERSION"), commit: env!("FCI_BUILD_COMMIT") },
            template,
            rules,
        }
    }
}

/// The time now, RFC 3339 in UTC, to the second.
fn now() -> String {
    crate::protect::container::license::timestamp(time::OffsetDateTime::now_utc())
}

/// Write the report of `files` and `summary` to `path`, in the format its extension names.
pub fn write(path: &Path, title: &str, run: RunInfo, summary: &Summary, files: &[FileResult]) -> Result<(), Error> {
    let mut writer = Writer::create(path, title, run)?;
    for r in files {
        writer.add(r)?;
    }
    writer.finish(summary)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Json,
    JsonLines,
    Csv,
    Html,
}

/// A report written file by file as a run goes (see the module's documentation).
pub struct Writer {
    path: PathBuf,
    title: String,
    run: RunInfo,
    format: Format,
    /// CSV, JSON and JSON lines: the report itself; HTML: the spool of its rows.
    out: BufWriter<Temp>,
    files: usize,
    /// The exit codes of the files so far (at most one per exit code), for the HTML page's legend.
    codes: BTreeSet<u8>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).field("format", &self.format).finish()
    }
}

/// One table row of the HTML page, as spooled (one JSON object a line).
#[derive(Serialize, Deserialize)]
struct HtmlRow {
    class: String,
    path: String,
    note: String,
    properties: String,
    matches: String,
    exit: u8,
    bytes: u64,
    attention: bool,
}

/// The report's format, from its file name's extension (a usage error naming the formats when there is none).
fn format_of(path: &Path) -> Result<Format, Error> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match ext.as_str() {
        "json" => Ok(Format::Json),
        "jsonl" => Ok(Format::JsonLines),
        "csv" => Ok(Format::Csv),
        "html" | "htm" => Ok(Format::Html),
        _ => {
            let detail = format!(" {}: the file name must end in .html, .csv, .json or .jsonl", path.display());
            Err(Error::about(ExitClass::Usage, Setting::Report, detail))
        }
    }
}

/// Whether `path` names a report format (see [`Writer::create`]), checked before a run.
pub fn check_name(path: &Path) -> Result<(), Error> {
    format_of(path).map(|_| ())
}

impl Writer {
    /// Start the report at `path` (a usage error when its extension names no format, a write error when no file can
    /// be created beside it): before the run, so that a bad report name costs nothing.
    pub fn create(path: &Path, title: &str, run: RunInfo) -> Result<Writer, Error> {
        let format = format_of(path)?;
        let mut writer = Writer {
            path: path.to_path_buf(),
            title: title.to_string(),
            run,
            format,
            out: BufWriter::new(Temp::beside(path)?),
            files: 0,
            codes: BTreeSet::new(),
        };
        match format {
            Format::Csv => writer.put(CSV_HEADER.as_bytes())?,
            Format::Json => writer.put(b"{\n  \"files\": [")?,
            Format::JsonLines | Format::Html => {}
        }
        Ok(writer)
    }

    /// Add one file's result.
    pub fn add(&mut self, r: &FileResult) -> Result<(), Error> {
        let text = match self.format {
            Format::Json => {
                // Through a `Value`, as the whole document was printed before it was streamed (the same bytes).
                let value = serde_json::to_value(r).unwrap_or_default();
                let entry = indent(&serde_json::to_string_pretty(&value).unwrap_or_default(), "    ");
                format!("{}\n{entry}", if self.files == 0 { "" } else { "," })
            }
            Format::JsonLines => serde_json::to_string(r).unwrap_or_default() + "\n",
            Format::Csv => csv_row(r),
            Format::Html => serde_json::to_string(&html_row(r)).unwrap_or_default() + "\n",
        };
        self.files += 1;
        self.codes.insert(r.class.code());
        self.put(text.as_bytes())
    }

    /// Close the report with the run's `summary` and put it in place.
    pub fn finish(self, summary: &Summary) -> Result<(), Error> {
        let Writer { path, title, mut run, format, out, files, mut codes } = self;
        run.ended = now();
        let failed = |e: std::io::Error| Error::io("cannot write the report", &path, e, ExitClass::Write);
        let mut out = out.into_inner().map_err(|e| failed(e.into_error()))?;
        let report = match format {
            Format::Csv => out,
            Format::JsonLines => {
                let line = serde_json::json!({ "run": run, "summary": summary });
                writeln!(out, "{}", serde_json::to_string(&line).unwrap_or_default()).map_err(failed)?;
                out
            }
            Format::Json => {
                let pretty = |value: serde_json::Value| {
                    indent(&serde_json::to_string_pretty(&value).unwrap_or_default(), "  ").trim_start().to_string()
                };
                let run = pretty(serde_json::to_value(&run).unwrap_or_default());
                let summary = pretty(serde_json::to_value(summary).unwrap_or_default());
                let close = if files == 0 { "]" } else { "\n  ]" };
                write!(out, "{close},\n  \"run\": {run},\n  \"summary\": {summary}\n}}\n").map_err(failed)?;
                out
            }
            Format::Html => {
                let mut report = BufWriter::new(Temp::beside(&path)?);
                out.file()?.rewind().map_err(failed)?;
                let spool = BufReader::new(out.file()?);
                codes.insert(summary.exit.code());
                let page = Page { title: &title, run: &run, summary, files, codes: &codes };
                page.write(&mut report, spool).map_err(failed)?;
                report.into_inner().map_err(|e| failed(e.into_error()))?
            }
        };
        report.place(&path).map_err(failed)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.out.write_all(bytes).map_err(|e| Error::io("cannot write the report", &self.path, e, ExitClass::Write))
    }
}

/// A temporary file in the report's folder, named as this program's temporary files are (walks leave it out; a
/// killed run's leftover is swept like theirs), locked while this run writes it, created as the report itself
/// would be (the same permissions), and removed when dropped unless put in place.
struct Temp {
    path: PathBuf,
    file: Option<std::fs::File>,
    placed: bool,
}

impl Temp {
    fn beside(report: &Path) -> Result<Temp, Error> {
        let dir = match report.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let failed = |e: std::io::Error| Error::io("cannot write the report", report, e, ExitClass::Write);
        let mut tries = 0;
        loop {
            let path = dir.join(tempname::fresh().map_err(failed)?);
            match std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path) {
                Ok(file) => {
                    // Best effort: without locks, the stale sweep's grace period still protects a file being written.
                    let _ = file.try_lock();
                    return Ok(Temp { path, file: Some(file), placed: false });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 8 => tries += 1,
                Err(e) => return Err(failed(e)),
            }
        }
    }

    fn file(&mut self) -> Result<&mut std::fs::File, Error> {
        self.file.as_mut().ok_or_else(|| Error::new(ExitClass::Internal, "the report's temporary file is closed"))
    }

    /// Flush to disk, close, and rename over `at`.
    fn place(mut self, at: &Path) -> std::io::Result<()> {
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        std::fs::rename(&self.path, at)?;
        self.placed = true;
        Ok(())
    }
}

impl Write for Temp {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("closed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.placed {
            drop(self.file.take());
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `text` with every line indented by `by`.
fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}")).collect::<Vec<_>>().join("\n")
}

fn matches_text(r: &FileResult) -> String {
    r.matches
        .iter()
        .map(|m| match m.confidence {
            Some(c) => format!("{} x{} ({c}%)", m.name, m.count),
            None => format!("{} x{}", m.name, m.count),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn properties_text(r: &FileResult) -> String {
    r.sorted_properties().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

/// RFC 4180 quoting when the field needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

const CSV_HEADER: &str = "path,decision,reason,template,properties,matches,error,exit_code,bytes\n";

/// One row per file.
pub fn csv(files: &[FileResult]) -> String {
    files.iter().fold(CSV_HEADER.to_string(), |out, r| out + &csv_row(r))
}

fn csv_row(r: &FileResult) -> String {
    let fields = [
        r.path.clone(),
        r.decision.to_string(),
        r.reason.clone().unwrap_or_default(),
        r.template.clone().unwrap_or_default(),
        properties_text(r),
        matches_text(r),
        r.error.clone().unwrap_or_default(),
        r.class.code().to_string(),
        r.bytes.to_string(),
    ];
    fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",") + "\n"
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A path that may wrap after its separators rather than inside a name.
fn path_cell(path: &str) -> String {
    esc(path).replace('/', "/<wbr>").replace('\\', "\\<wbr>")
}

/// A bar chart as HTML: one row per (label, count), bars scaled to the largest count.
fn chart(id: &str, title: &str, rows: &[(String, usize)]) -> String {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let mut out = format!("<section class=\"chart\" id=\"{id}\"><h2>{}</h2>", esc(title));
    if rows.is_empty() {
        out += "<p class=\"none\">none</p>";
    }
    for (label, n) in rows {
        let width = (*n as f64 / max as f64 * 100.0).max(0.5);
        let _ = write!(
            out,
            "<div class=\"bar-row\"><span class=\"label\" title=\"{}\">{}</span><span class=\"bar\"><span style=\"width:{width:.1}%\"></span></span><span class=\"count\" data-chart=\"{id}\" data-label=\"{}\">{n}</span></div>",
            esc(label),
            esc(label),
            esc(label)
        );
    }
    out + "</section>"
}

const STYLE: &str = "body{font-family:Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:90em}\
h1{font-size:1.5em}h2{font-size:1.1em;margin:.2em 0 .6em}.cards{display:flex;gap:1em;flex-wrap:wrap}\
.card{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:8em}.card b{display:block;font-size:1.6em}\
.card.protect b{color:#2b6cb0}.card.failed b{color:#c53030}.charts{display:flex;gap:2em;flex-wrap:wrap;\
margin:1.5em 0}.chart{flex:1 1 26em;max-width:40em}.bar-row{display:flex;align-items:center;gap:.5em;margin:.25em 0}\
.label{flex:0 0 17em;overflow-wrap:anywhere;line-height:1.2}.bar{flex:1;background:#eee;height:1em;min-width:6em}\
.bar span{display:block;height:100%;background:#2b6cb0}.count{width:3em;text-align:right;\
font-variant-numeric:tabular-nums}table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid \
#ddd;padding:.3em .5em;text-align:left;vertical-align:top}th{background:#f3f3f3;cursor:pointer;position:sticky;top:0}\
th:hover{background:#e6e6e6}td:first-child{overflow-wrap:break-word;min-width:16em}tr:nth-child(even) td{background:#fafafa}\
tr.failed td,tr.error td{background:#fff0f0}tr.protected td:nth-child(2),tr.protect td:nth-child(2),\
tr.would-protect td:nth-child(2){color:#2b6cb0;font-weight:600}tr.failed td:nth-child(2),tr.error td:nth-child(2){\
color:#c53030;font-weight:600}.none{color:#888}.run{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;\
margin:0 0 1.2em}.run dt{color:#555}.run dd{margin:0;overflow-wrap:anywhere}.id{font-family:monospace;color:#555}\
.legend dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0}.legend dt{font-weight:600;\
text-align:right;font-variant-numeric:tabular-nums}.legend dd{margin:0}.legend{margin:1.2em 0}td:last-child{white-space:nowrap}";

const SCRIPT: &str = "document.querySelectorAll('th').forEach(function(th,col){th.addEventListener('click',function(){\
var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';\
rows.sort(function(a,b){var x=a.cells[col].dataset.sort||a.cells[col].textContent,y=b.cells[col].dataset.sort||\
b.cells[col].textContent,nx=parseFloat(x),ny=parseFloat(y);var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);\
return asc?c:-c;});rows.forEach(function(r){tb.appendChild(r);});});});";

/// The row of the HTML table for `r`.
fn html_row(r: &FileResult) -> HtmlRow {
    let attention = r.error.is_some()
        || r.class != ExitClass::Success
        || matches!(
            r.decision,
            Decision::Action(ActionKind::Protected | ActionKind::WouldProtect | ActionKind::Failed)
                | Decision::Verdict(VerdictKind::Protect | VerdictKind::Error)
        );
    HtmlRow {
        class: r.decision.as_str().to_string(),
        path: r.path.clone(),
        note: r.error.as_deref().or(r.reason.as_deref()).unwrap_or("").to_string(),
        properties: properties_text(r),
        matches: matches_text(r),
        exit: r.class.code(),
        bytes: r.bytes,
        attention,
    }
}

/// One self-contained page.
pub fn html(title: &str, run: &RunInfo, summary: &Summary, files: &[FileResult]) -> String {
    let mut spool = String::new();
    for r in files {
        spool += &(serde_json::to_string(&html_row(r)).unwrap_or_default() + "\n");
    }
    let mut codes: BTreeSet<u8> = files.iter().map(|r| r.class.code()).collect();
    codes.insert(summary.exit.code());
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = Page { title, run, summary, files: files.len(), codes: &codes }.write(&mut out, spool.as_bytes());
    String::from_utf8(out).unwrap_or_default()
}

/// What the HTML page is made of besides its table rows.
struct Page<'a> {
    title: &'a str,
    run: &'a RunInfo,
    summary: &'a Summary,
    /// How many rows the spool holds.
    files: usize,
    /// The exit codes of the files and of the run, explained in words.
    codes: &'a BTreeSet<u8>,
}

/// An RFC 3339 UTC time (as [`now`] writes it) as a person reads it: `2026-11-30 08:05:32 UTC`.
fn time_text(t: &str) -> String {
    match t.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => t.replacen('T', " ", 1),
    }
}

/// A duration as a person reads it: seconds to two places under a minute, else hours, minutes and seconds.
fn duration_text(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.2} s");
    }
    let whole = seconds.round() as u64;
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h > 0 { format!("{h} h {m:02} min {s:02} s") } else { format!("{m} min {s:02} s") }
}

/// The meaning of an exit code in words (src/exit.rs, docs/EXIT-CODES.md).
fn meaning(code: u8) -> &'static str {
    ExitClass::from_code(code).map_or("not an exit code of this program", |c| c.meaning())
}

impl Page<'_> {
    /// When, where, with what: the run's facts, one per line.
    fn run_facts(&self) -> String {
        let (run, summary) = (self.run, self.summary);
        let template = match &run.template {
            Some(TemplateRef { id, name: Some(name) }) => {
                format!("{} <span class=\"id\">{}</span>", esc(name), esc(id))
            }
            Some(TemplateRef { id, name: None }) => {
                format!("<span class=\"id\">{}</span> (not in the template store)", esc(id))
            }
            None => "none given".to_string(),
        };
        let rules = match &run.rules {
            Some(rules) => format!(
                "version <b title=\"SHA-256 {}\">{}</b> (SHA-256 of the rule files), {} file{} in {}: {}",
                esc(&rules.sha256),
                esc(rules.short()),
                rules.files.len(),
                if rules.files.len() == 1 { "" } else { "s" },
                esc(&rules.folder),
                esc(&rules.files.join(", "))
            ),
            None => "none: the files were protected without classifying".to_string(),
        };
        let timed = |t: &str| format!("<time datetime=\"{}\">{}</time>", esc(t), esc(&time_text(t)));
        let facts = [
            ("started", "Started", timed(&run.started)),
            ("ended", "Ended", timed(&run.ended)),
            ("duration", "Duration", esc(&duration_text(summary.elapsed_seconds))),
            ("host", "Host", esc(&run.host)),
            ("template", "Template", template),
            ("rules", "Rules", rules),
            ("outcome", "Outcome", format!("exit code {}: {}", summary.exit.code(), esc(summary.exit.meaning()))),
            ("tool", "Program", format!("{} {} (commit {})", run.tool.name, run.tool.version, esc(run.tool.commit))),
        ];
        let mut out = String::from("<dl class=\"run\" id=\"run\">");
        for (key, label, value) in facts {
            let _ = write!(out, "<dt>{label}</dt><dd data-run=\"{key}\">{value}</dd>");
        }
        out + "</dl>"
    }

    /// What each exit code on the page means.
    fn legend(&self) -> String {
        let mut out = String::from("<section class=\"legend\" id=\"exit-codes\"><h2>What the exit codes mean</h2><dl>");
        for code in self.codes {
            let _ = write!(out, "<dt data-exit=\"{code}\">{code}</dt><dd>{}</dd>", esc(meaning(*code)));
        }
        out + "</dl></section>"
    }

    /// The page, its table rows read from `spool` (one [`HtmlRow`] a line, `files` of them).
    fn write(&self, out: &mut impl Write, spool: impl BufRead) -> std::io::Result<()> {
        fn sorted<K: std::fmt::Display>(m: &std::collections::BTreeMap<K, usize>) -> Vec<(String, usize)> {
            let mut v: Vec<(String, usize)> = m.iter().map(|(k, n)| (k.to_string(), *n)).collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v
        }
        let (summary, files) = (self.summary, self.files);
        let mut head = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
            t = esc(self.title)
        );
        head += &self.run_facts();
        head += "<div class=\"cards\">";
        let count = |decision: Decision| summary.decisions.get(&decision).copied().unwrap_or(0);
        let (protected, would) =
            (count(Decision::Action(ActionKind::Protected)), count(Decision::Action(ActionKind::WouldProtect)));
        // A dry run protects nothing: its card says what it would protect, so nobody reads "0 protected" as "safe".
        let protect_card = if would > 0 && protected == 0 {
            ("would protect", would)
        } else {
            ("protected", protected + count(Decision::Verdict(VerdictKind::Protect)))
        };
        let failed = summary.failed.values().sum::<usize>();
        let cards = [
            ("files", "", summary.files.to_string(), String::new()),
            ("size", "", human_size(summary.bytes), format!("{} bytes", summary.bytes)),
            (protect_card.0, "protect", protect_card.1.to_string(), String::new()),
            // Red only when something failed: "0 failed" is good news.
            ("failed", if failed > 0 { "failed" } else { "" }, failed.to_string(), String::new()),
            ("elapsed", "", duration_text(summary.elapsed_seconds), String::new()),
            ("exit code", "", summary.exit.code().to_string(), summary.exit.meaning().to_string()),
        ];
        for (label, class, value, title) in cards {
            let class = if class.is_empty() { "card".to_string() } else { format!("card {class}") };
            let title = if title.is_empty() { String::new() } else { format!(" title=\"{}\"", esc(&title)) };
            let _ =
                write!(head, "<div class=\"{class}\"{title}><b data-card=\"{label}\">{}</b>{label}</div>", esc(&value));
        }
        head += "</div>";
        head += &self.legend();
        head += "<div class=\"charts\">";
        head += &chart("by-decision", "Files by decision", &sorted(&summary.decisions));
        head += &chart("by-property", "Files by property value", &sorted(&summary.properties));
        head += &chart("by-entity", "Files by rule or entity found", &sorted(&summary.entities));
        head += "</div><h2>Files</h2>";
        let all = files <= HTML_ALL_FILES;
        if !all {
            let _ = write!(
                head,
                "<p class=\"partial\" data-files=\"{files}\">This run looked at {files} files, too many for one page: the \
                 table lists only the files that need attention (protected or to be protected, failed), at most \
                 {HTML_ATTENTION_FILES} of them. The counts above include every file; a CSV or JSON report (a report \
                 file name ending in .csv, .json or .jsonl) lists every file.</p>"
            );
        }
        head += "<table><thead><tr><th>Path</th><th>Decision</th><th>Reason</th><th>Properties</th>\
                <th>Rules and entities (count, confidence)</th><th>Exit</th><th>Size</th></tr></thead><tbody>";
        out.write_all(head.as_bytes())?;
        let (mut shown, mut line) = (0usize, String::new());
        let mut spool = spool;
        while {
            line.clear();
            spool.read_line(&mut line)? > 0
        } {
            let Ok(r) = serde_json::from_str::<HtmlRow>(&line) else { continue };
            if !all && (!r.attention || shown >= HTML_ATTENTION_FILES) {
                continue;
            }
            shown += 1;
            write!(
                out,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td title=\"{}\">{}</td><td data-sort=\"{}\" title=\"{} bytes\">{}</td></tr>",
                esc(&r.class),
                path_cell(&r.path),
                esc(&r.class),
                esc(&r.note),
                esc(&r.properties),
                esc(&r.matches),
                esc(meaning(r.exit)),
                r.exit,
                r.bytes,
                r.bytes,
                human_size(r.bytes)
            )?;
        }
        let mut tail = String::from("</tbody></table>");
        if !all {
            let _ = write!(
                tail,
                "<p class=\"partial\" data-shown=\"{shown}\" data-left-out=\"{}\">{shown} files listed; {} more not \
                 listed here.</p>",
                files - shown.min(files),
                files - shown.min(files)
            );
        }
        tail += "<p class=\"none\">Matched values are never shown: only rule and entity names, counts and \
                confidence. Sizes: 1 KB = 1,000 bytes (the CSV and JSON reports give every size in bytes).</p><script>";
        tail += SCRIPT;
        tail += "</script></body></html>\n";
        out.write_all(tail.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{MatchKind, MatchSummary};

    fn result(i: usize) -> FileResult {
        let decision = if i.is_multiple_of(3) { ActionKind::WouldProtect } else { ActionKind::Skipped };
        let mut r =
            FileResult::new(format!("share/d{}/f \"{i}\".txt", i % 7), Decision::Action(decision), ExitClass::Success);
        r.bytes = i as u64 * 10;
        if i.is_multiple_of(3) {
            r.properties = vec![("PII".into(), "Yes".into())];
            r.matches = vec![MatchSummary {
                name: "SSN".into(),
                kind: MatchKind::Entity,
                count: 2,
                confidence: Some(85),
                values: Vec::new(),
            }];
        } else {
            r.reason = Some("no rule matched".into());
        }
        r
    }

    /// A run with a template and a rule set, as a folder run of `protect` starts one.
    fn run() -> RunInfo {
        let rules = RulesVersion {
            folder: "rules <x>".into(),
            files: vec!["10-a.xml".into(), "20-b.xml".into()],
            sha256: "0123456789abcdef".repeat(4),
        };
        let template =
            TemplateRef { id: "e6ee2481-26b9-45e5-b34a-f744eacd53b0".into(), name: Some("Conf & co".into()) };
        RunInfo::start(Some(template), Some(rules))
    }

    fn report(name: &str, files: &[FileResult]) -> (String, Summary) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let summary = Summary::of(files, std::time::Duration::from_millis(1500));
        write(&path, "t <1>", run(), &summary, files).unwrap();
        // Created as a plain write would create it (a temporary file's owner-only mode is not kept).
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let permissions = |p: &Path| std::fs::metadata(p).unwrap().permissions();
        assert_eq!(permissions(&path), permissions(&plain));
        std::fs::remove_file(&plain).unwrap();
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, [std::ffi::OsString::from(name)], "no temporary file is left beside the report");
        (std::fs::read_to_string(&path).unwrap(), summary)
    }

    #[test]
    fn the_streamed_json_report_is_the_document_serde_prints() {
        for n in [0, 1, 5] {
            let files: Vec<FileResult> = (0..n).map(result).collect();
            let (text, summary) = report("r.json", &files);
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let run = &value["run"];
            let whole = serde_json::json!({ "summary": summary, "files": files, "run": run });
            assert_eq!(text, serde_json::to_string_pretty(&whole).unwrap() + "\n", "{n} files");
            let expected = RunInfo { ended: run["ended"].as_str().unwrap().to_string(), ..run_of(&value) };
            assert_eq!(run, &serde_json::to_value(expected).unwrap());
            assert!(run["started"].as_str().unwrap() <= run["ended"].as_str().unwrap(), "{run}");
        }
    }

    /// [`run`], started when the report `value` says.
    fn run_of(value: &serde_json::Value) -> RunInfo {
        RunInfo { started: value["run"]["started"].as_str().unwrap().to_string(), ..run() }
    }

    #[test]
    fn times_are_rfc_3339_utc_to_the_second() {
        let t = now();
        assert!(regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").unwrap().is_match(&t), "{t}");
        assert!(time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).is_ok());
        assert_eq!(time_text("2026-11-30T08:05:32Z"), "2026-11-30 08:05:32 UTC");
        assert_eq!(duration_text(1.5), "1.50 s");
        assert_eq!(duration_text(125.2), "2 min 05 s");
        assert_eq!(duration_text(3725.0), "1 h 02 min 05 s");
    }

    #[test]
    fn the_html_page_says_when_where_with_what_and_what_the_codes_mean() {
        let mut files: Vec<FileResult> = (0..4).map(result).collect();
        files[1].bytes = 2_345_678;
        let (page, summary) = report("r.html", &files);
        let host = crate::platform::host_name();
        for (key, text) in [
            ("host", esc(&host)),
            ("template", "Conf &amp; co <span class=\"id\">e6ee2481-26b9-45e5-b34a-f744eacd53b0</span>".into()),
            ("duration", "1.50 s".into()),
            ("outcome", format!("exit code 0: {}", esc(ExitClass::Success.meaning()))),
        ] {
            assert!(page.contains(&format!("<dd data-run=\"{key}\">{text}</dd>")), "{key}: {page}");
        }
        assert!(
            page.contains(
                ">0123456789ab</b> (SHA-256 of the rule files), 2 files in rules &lt;x&gt;: 10-a.xml, 20-b.xml"
            )
        );
        let times =
            regex::Regex::new(r#"data-run="(started|ended)"><time datetime="([^"]+)">([^<]+) UTC</time>"#).unwrap();
        let times: Vec<_> =
            times.captures_iter(&page).map(|c| (c[1].to_string(), c[2].to_string(), c[3].to_string())).collect();
        assert_eq!(times.len(), 2, "{page}");
        assert_eq!(times[0].2, times[0].1.trim_end_matches('Z').replace('T', " "));
        // The legend: the words of every code on the page, here only 0.
        assert!(page.contains(&format!("<dt data-exit=\"0\">0</dt><dd>{}</dd>", esc(ExitClass::Success.meaning()))));
        assert_eq!(page.matches("<dt data-exit=").count(), 1);
        // Sizes in decimal units, the exact count kept for sorting and on hover.
        assert!(page.contains(r#"<td data-sort="2345678" title="2345678 bytes">2.3 MB</td>"#), "{page}");
        assert!(page.contains(&format!(r#"<div class="card" title="{} bytes"><b data-card="size">"#, summary.bytes)));
        // "0 failed" is not red.
        assert!(page.contains(r#"<div class="card"><b data-card="failed">0</b>"#), "{page}");
        // Equal to the page made from the files in memory.
        let run = RunInfo { started: times[0].1.clone(), ended: times[1].1.clone(), ..run() };
        assert_eq!(page, html("t <1>", &run, &summary, &files));

        // A failed file: its code explained, the failed card red, the run's exit code explained.
        let busy = Error::new(ExitClass::Busy, "held open");
        files.push(FileResult::failed("share/busy.txt".into(), &busy, "held open".into()));
        let summary = Summary::of(&files, std::time::Duration::from_secs(90));
        let page = html("t", &run, &summary, &files);
        assert!(page.contains(r#"<div class="card failed"><b data-card="failed">1</b>"#), "{page}");
        assert!(page.contains(&format!("<dt data-exit=\"4\">4</dt><dd>{}</dd>", esc(ExitClass::Busy.meaning()))));
        assert!(page.contains(&format!("<td title=\"{}\">4</td>", esc(ExitClass::Busy.meaning()))));
        assert!(page.contains(r#"<dd data-run="outcome">exit code 4: "#));
        assert!(page.contains(r#"<dd data-run="duration">1 min 30 s</dd>"#));
        assert_eq!(page.matches("<dt data-exit=").count(), 2);
    }

    #[test]
    fn a_run_without_template_or_rules_says_so() {
        let run = RunInfo { template: None, rules: None, ..run() };
        let page = html("t", &run, &Summary::default(), &[]);
        assert!(page.contains(r#"<dd data-run="template">none given</dd>"#));
        assert!(page.contains(r#"<dd data-run="rules">none: the files were protected without classifying</dd>"#));
        let unknown = TemplateRef::lookup("{E6EE2481-26B9-45E5-B34A-F744EACD53B0}", None);
        assert_eq!(unknown, TemplateRef { id: "e6ee2481-26b9-45e5-b34a-f744eacd53b0".into(), name: None });
        let page = html("t", &RunInfo { template: Some(unknown), ..run }, &Summary::default(), &[]);
        assert!(page.contains("b0</span> (not in the template store)</dd>"), "{page}");
    }

    #[test]
    fn json_lines_and_csv_have_one_line_per_file() {
        let files: Vec<FileResult> = (0..5).map(result).collect();
        let (text, summary) = report("r.jsonl", &files);
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 6);
        for (line, file) in lines.iter().zip(&files) {
            assert_eq!(line, &serde_json::to_value(file).unwrap());
        }
        assert_eq!(lines[5]["summary"], serde_json::to_value(&summary).unwrap());
        let expected = RunInfo { ended: lines[5]["run"]["ended"].as_str().unwrap().to_string(), ..run_of(&lines[5]) };
        assert_eq!(lines[5], serde_json::json!({ "run": expected, "summary": summary }));
        let (text, _) = report("r.csv", &files);
        assert_eq!(text, csv(&files));
        assert_eq!(text.lines().count(), 6);
    }

    #[test]
    fn a_bad_extension_is_refused_before_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let e = Writer::create(&dir.path().join("r.txt"), "t", run()).unwrap_err();
        assert_eq!(e.class(), ExitClass::Usage);
        assert!(e.message().contains(".jsonl"), "{}", e.message());
        let e = Writer::create(&dir.path().join("missing/r.json"), "t", run()).unwrap_err();
        assert!(e.message().starts_with("cannot write the report"), "{}", e.message());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_large_html_page_lists_only_the_files_that_need_attention() {
        let row = regex::Regex::new(r#"<tr class="([a-z-]+)"><td>"#).unwrap();
        let small: Vec<FileResult> = (0..30).map(result).collect();
        let (page, _) = report("r.html", &small);
        assert_eq!(row.find_iter(&page).count(), 30);
        assert!(!page.contains("class=\"partial\""));
        assert!(page.contains(r#"data-run="host""#));

        let n = HTML_ALL_FILES + 3;
        let large: Vec<FileResult> = (0..n).map(result).collect();
        let (page, _) = report("r.html", &large);
        let listed: Vec<&str> = row.captures_iter(&page).map(|c| c.get(1).unwrap().as_str()).collect();
        let attention = large.iter().filter(|r| r.decision == Decision::Action(ActionKind::WouldProtect)).count();
        assert_eq!(listed.len(), attention);
        assert!(listed.iter().all(|d| *d == "would-protect"));
        assert!(page.contains(&format!(r#"data-card="files">{n}<"#)));
        assert!(page.contains(&format!(r#"data-left-out="{}""#, n - attention)), "the count of the rest");
        assert!(page.contains(".csv"), "a pointer to the full reports");
    }
}
