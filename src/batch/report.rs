//! Reports of a folder run, chosen by the file extension: `.json` (summary and every file, one document), `.jsonl`
//! (one JSON object per file, then a summary line), `.csv` (one row per file) or `.html` (one self-contained page a
//! manager can read: charts of files by decision, by property value and by entity, and a sortable table; no
//! external scripts, fonts or images). Reports never contain matched values.
//!
//! A [`Writer`] takes the files as the run finishes them and keeps none in memory: CSV, JSON and JSON lines go
//! straight to a temporary file beside the report (the JSON document lists the files first and ends with the
//! summary); the HTML page is spooled to a temporary JSON-lines file beside the report and put together at the
//! end, when the summary is known. Every report appears under its name
//! only when complete (renamed into place); a failed run leaves no partial report. An HTML page of more than
//! [`HTML_ALL_FILES`] files lists only the files that need attention (protected or to be protected, failed), at
//! most [`HTML_ATTENTION_FILES`] of them, and says how many it leaves out: the CSV and JSON reports list every file.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Summary;
use crate::error::Setting;
use crate::pipeline::{ActionKind, Decision, FileResult, VerdictKind};
use crate::protect::tempname;
use crate::{Error, ExitClass};

/// Up to this many files, the HTML page lists every file.
pub const HTML_ALL_FILES: usize = 10_000;
/// Above [`HTML_ALL_FILES`], the HTML page lists at most this many of the files that need attention.
pub const HTML_ATTENTION_FILES: usize = 10_000;

/// Write the report of `files` and `summary` to `path`, in the format its extension names.
pub fn write(path: &Path, title: &str, summary: &Summary, files: &[FileResult]) -> Result<(), Error> {
    let mut writer = Writer::create(path, title)?;
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
    format: Format,
    /// CSV, JSON and JSON lines: the report itself; HTML: the spool of its rows.
    out: BufWriter<Temp>,
    files: usize,
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
    pub fn create(path: &Path, title: &str) -> Result<Writer, Error> {
        let format = format_of(path)?;
        let mut writer = Writer {
            path: path.to_path_buf(),
            title: title.to_string(),
            format,
            out: BufWriter::new(Temp::beside(path)?),
            files: 0,
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
        self.put(text.as_bytes())
    }

    /// Close the report with the run's `summary` and put it in place.
    pub fn finish(self, summary: &Summary) -> Result<(), Error> {
        let Writer { path, title, format, out, files } = self;
        let failed = |e: std::io::Error| Error::io("cannot write the report", &path, e, ExitClass::Write);
        let mut out = out.into_inner().map_err(|e| failed(e.into_error()))?;
        let report = match format {
            Format::Csv => out,
            Format::JsonLines => {
                let line = serde_json::to_string(&serde_json::json!({ "summary": summary })).unwrap_or_default();
                writeln!(out, "{line}").map_err(failed)?;
                out
            }
            Format::Json => {
                let value = serde_json::to_value(summary).unwrap_or_default();
                let summary = indent(&serde_json::to_string_pretty(&value).unwrap_or_default(), "  ");
                let close = if files == 0 { "]" } else { "\n  ]" };
                write!(out, "{close},\n  \"summary\": {}\n}}\n", summary.trim_start()).map_err(failed)?;
                out
            }
            Format::Html => {
                let mut report = BufWriter::new(Temp::beside(&path)?);
                out.file()?.rewind().map_err(failed)?;
                let spool = BufReader::new(out.file()?);
                html_page(&mut report, &title, summary, files, spool).map_err(failed)?;
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
color:#c53030;font-weight:600}.none{color:#888}";

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
pub fn html(title: &str, summary: &Summary, files: &[FileResult]) -> String {
    let mut spool = String::new();
    for r in files {
        spool += &(serde_json::to_string(&html_row(r)).unwrap_or_default() + "\n");
    }
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = html_page(&mut out, title, summary, files.len(), spool.as_bytes());
    String::from_utf8(out).unwrap_or_default()
}

/// The page, its table rows read from `spool` (one [`HtmlRow`] a line, `files` of them).
fn html_page(
    out: &mut impl Write,
    title: &str,
    summary: &Summary,
    files: usize,
    spool: impl BufRead,
) -> std::io::Result<()> {
    fn sorted<K: std::fmt::Display>(m: &std::collections::BTreeMap<K, usize>) -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = m.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
    let mut head = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = esc(title)
    );
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
    let cards = [
        ("files", "", summary.files.to_string()),
        (protect_card.0, "protect", protect_card.1.to_string()),
        ("failed", "failed", summary.failed.values().sum::<usize>().to_string()),
        ("elapsed", "", format!("{:.2} s", summary.elapsed_seconds)),
        ("exit code", "", summary.exit.code().to_string()),
    ];
    for (label, class, value) in cards {
        let _ = write!(head, "<div class=\"card {class}\"><b data-card=\"{label}\">{}</b>{label}</div>", esc(&value));
    }
    head += "</div><div class=\"charts\">";
    head += &chart("by-decision", "Files by decision", &sorted(&summary.decisions));
    head += &chart("by-property", "Files by property value", &sorted(&summary.properties));
    head += &chart("by-entity", "Files by rule or entity found", &sorted(&summary.entities));
    head += "</div><h2>Files</h2>";
    let all = files <= HTML_ALL_FILES;
    if !all {
        let _ = write!(
            head,
            "<p class=\"partial\" data-files=\"{files}\">This run looked at {files} files, too many for one page: the table \
             lists only the files that need attention (protected or to be protected, failed), at most \
             {HTML_ATTENTION_FILES} of them. The counts above include every file; a CSV or JSON report (a report file \
             name ending in .csv, .json or .jsonl) lists every file.</p>"
        );
    }
    head += "<table><thead><tr><th>Path</th><th>Decision</th><th>Reason</th><th>Properties</th>\
            <th>Rules and entities (count, confidence)</th><th>Exit</th><th>Bytes</th></tr></thead><tbody>";
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
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td data-sort=\"{}\">{}</td></tr>",
            esc(&r.class),
            path_cell(&r.path),
            esc(&r.class),
            esc(&r.note),
            esc(&r.properties),
            esc(&r.matches),
            r.exit,
            r.bytes,
            r.bytes
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
            confidence.</p><script>";
    tail += SCRIPT;
    tail += "</script></body></html>\n";
    out.write_all(tail.as_bytes())
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

    fn report(name: &str, files: &[FileResult]) -> (String, Summary) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let summary = Summary::of(files, std::time::Duration::from_millis(1500));
        write(&path, "t <1>", &summary, files).unwrap();
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
            let whole = serde_json::json!({ "summary": summary, "files": files });
            assert_eq!(text, serde_json::to_string_pretty(&whole).unwrap() + "\n", "{n} files");
        }
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
        assert_eq!(lines[5], serde_json::json!({ "summary": summary }));
        let (text, _) = report("r.csv", &files);
        assert_eq!(text, csv(&files));
        assert_eq!(text.lines().count(), 6);
    }

    #[test]
    fn a_bad_extension_is_refused_before_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let e = Writer::create(&dir.path().join("r.txt"), "t").unwrap_err();
        assert_eq!(e.class(), ExitClass::Usage);
        assert!(e.message().contains(".jsonl"), "{}", e.message());
        let e = Writer::create(&dir.path().join("missing/r.json"), "t").unwrap_err();
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
        assert_eq!(page, html("t <1>", &Summary::of(&small, std::time::Duration::from_millis(1500)), &small));

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
