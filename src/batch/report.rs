//! Reports of a folder run, chosen by the file extension: `.json` (summary and every file), `.csv` (one row per
//! file) or `.html` (one self-contained page a manager can read: charts of files by decision, by property value and
//! by entity, and a sortable table; no external scripts, fonts or images). Reports never contain matched values.

use std::fmt::Write as _;
use std::path::Path;

use super::Summary;
use crate::error::Setting;
use crate::pipeline::{ActionKind, Decision, FileResult, VerdictKind};
use crate::{Error, ExitClass};

/// Write the report of `files` and `summary` to `path`, in the format its extension names.
pub fn write(path: &Path, title: &str, summary: &Summary, files: &[FileResult]) -> Result<(), Error> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    let text = match ext.as_str() {
        "json" => json(summary, files),
        "csv" => csv(files),
        "html" | "htm" => html(title, summary, files),
        _ => {
            let detail = format!(" {}: the file name must end in .html, .csv or .json", path.display());
            return Err(Error::about(ExitClass::Usage, Setting::Report, detail));
        }
    };
    std::fs::write(path, text).map_err(|e| Error::io("cannot write the report", path, e, ExitClass::Write))
}

/// `{"summary": {...}, "files": [...]}`.
pub fn json(summary: &Summary, files: &[FileResult]) -> String {
    let value = serde_json::json!({ "summary": summary, "files": files });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
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

/// One row per file.
pub fn csv(files: &[FileResult]) -> String {
    let mut out = String::from("path,decision,reason,template,properties,matches,error,exit_code,bytes\n");
    for r in files {
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
        out += &fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
        out.push('\n');
    }
    out
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

/// One self-contained page.
pub fn html(title: &str, summary: &Summary, files: &[FileResult]) -> String {
    fn sorted<K: std::fmt::Display>(m: &std::collections::BTreeMap<K, usize>) -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = m.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = esc(title)
    );
    out += "<div class=\"cards\">";
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
        let _ = write!(out, "<div class=\"card {class}\"><b data-card=\"{label}\">{}</b>{label}</div>", esc(&value));
    }
    out += "</div><div class=\"charts\">";
    out += &chart("by-decision", "Files by decision", &sorted(&summary.decisions));
    out += &chart("by-property", "Files by property value", &sorted(&summary.properties));
    out += &chart("by-entity", "Files by rule or entity found", &sorted(&summary.entities));
    out += "</div><h2>Files</h2><table><thead><tr><th>Path</th><th>Decision</th><th>Reason</th><th>Properties</th>\
            <th>Rules and entities (count, confidence)</th><th>Exit</th><th>Bytes</th></tr></thead><tbody>";
    for r in files {
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td data-sort=\"{}\">{}</td></tr>",
            esc(r.decision.as_str()),
            path_cell(&r.path),
            esc(r.decision.as_str()),
            esc(r.error.as_deref().or(r.reason.as_deref()).unwrap_or("")),
            esc(&properties_text(r)),
            esc(&matches_text(r)),
            r.class.code(),
            r.bytes,
            r.bytes
        );
    }
    out += "</tbody></table><p class=\"none\">Matched values are never shown: only rule and entity names, counts and \
            confidence.</p><script>";
    out += SCRIPT;
    out + "</script></body></html>\n"
}
