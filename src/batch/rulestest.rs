//! `rules test`: classify a folder of sample files and compare every result with a CSV of expected results — what
//! an admin runs after editing the rules, to see what the edit changed.
//!
//! The expected CSV (docs/RULES.md, "Testing rules on a sample folder") has a header and one row per sample:
//! `path` (relative to the sample folder, `/` between folders), `decision` (`protect`, `skip` or `error`, or the
//! action words `protected`, `would-protect`, `skipped`, `failed`), `entities` (Purview entities expected to be
//! found, `;` between them, each optionally `Name@confidence`), and optionally `rules` (FSRM-style rules expected
//! to apply, same syntax) and `note` (free text, ignored). Every name must be one the rules define
//! ([`ExpectedSet::check_names`]); [`PathPrefix`] lets folder-scoped rules see a copy of the share at its real place.
//!
//! [`compare`] is pure: it turns the expected rows and the actual results into a confusion table for the decision
//! (protect is the positive class) and one per entity or rule name, and lists every file that differs.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use super::walk::{self, Entry, WalkOptions};
use super::{Feeder, RunOptions, stream};
use crate::classify::{MatchKind, MatchSummary, RuleSet};
use crate::error::Setting;
use crate::extract::Limits;
use crate::pipeline::verdict::{self, Source};
use crate::pipeline::{Decision, FileResult, VerdictKind};
use crate::{Error, ExitClass};

/// A name expected in a sample's results, with the confidence it must be reported at, when given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub name: String,
    pub confidence: Option<u8>,
}

/// One row of the expected CSV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedFile {
    /// Relative to the sample folder, with `/` separators.
    pub path: String,
    pub decision: VerdictKind,
    pub entities: Vec<Expectation>,
    /// `None` when the CSV has no `rules` column: rules are then not compared.
    pub rules: Option<Vec<Expectation>>,
    /// Line of the CSV the row starts on, for messages.
    pub line: usize,
}

/// The expected results of a sample folder.
#[derive(Clone, Debug, Default)]
pub struct ExpectedSet {
    pub files: Vec<ExpectedFile>,
    /// Whether the CSV has a `rules` column.
    pub checks_rules: bool,
}

const COLUMNS: [&str; 5] = ["path", "decision", "entities", "rules", "note"];

impl ExpectedSet {
    /// Read and parse the CSV at `path`.
    pub fn load(path: &Path) -> Result<ExpectedSet, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e, ExitClass::Config))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::new(ExitClass::Config, format!("{}: not UTF-8 text (save it as \"CSV UTF-8\")", path.display()))
        })?;
        ExpectedSet::parse(&text, path)
    }

    /// Parse CSV `text`; `source` names the file in error messages (`file:line: problem`, exit class Config).
    pub fn parse(text: &str, source: &Path) -> Result<ExpectedSet, Error> {
        let bad =
            |line: usize, msg: String| Error::new(ExitClass::Config, format!("{}:{line}: {msg}", source.display()));
        let records =
            parse_csv(text.strip_prefix('\u{feff}').unwrap_or(text)).map_err(|e| bad(e.line(), e.to_string()))?;
        let mut records = records.into_iter().filter(|(_, fields)| fields.iter().any(|f| !f.trim().is_empty()));
        let Some((header_line, header)) = records.next() else {
            return Err(bad(1, "empty: expected a header line `path,decision,entities`".into()));
        };
        let header: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        if header.len() == 1 && header[0].contains(';') {
            return Err(bad(header_line, "the header has no commas: save the file as comma-separated CSV".into()));
        }
        let mut index = BTreeMap::new();
        for (i, name) in header.iter().enumerate() {
            if !COLUMNS.contains(&name.as_str()) {
                return Err(bad(header_line, format!("unknown column \"{name}\" (columns: {})", COLUMNS.join(", "))));
            }
            if index.insert(name.as_str(), i).is_some() {
                return Err(bad(header_line, format!("column \"{name}\" appears twice")));
            }
        }
        for required in ["path", "decision", "entities"] {
            if !index.contains_key(required) {
                return Err(bad(header_line, format!("missing column \"{required}\"")));
            }
        }
        let checks_rules = index.contains_key("rules");
        let mut files: Vec<ExpectedFile> = Vec::new();
        let mut seen = BTreeMap::new();
        for (line, fields) in records {
            if fields.len() != header.len() {
                return Err(bad(line, format!("{} fields, but the header has {}", fields.len(), header.len())));
            }
            let field = |name: &str| index.get(name).map(|&i| fields[i].trim());
            let path = normalize(field("path").unwrap_or_default());
            if path.is_empty() {
                return Err(bad(line, "empty path".into()));
            }
            if let Some(first) = seen.insert(path.clone(), line) {
                return Err(bad(line, format!("\"{path}\" is already listed on line {first}")));
            }
            let word = field("decision").unwrap_or_default().to_ascii_lowercase();
            let Some(decision) = decision_word(&word) else {
                return Err(bad(
                    line,
                    format!(
                        "decision \"{word}\" is not protect, skip or error (or the action words protected, \
                         would-protect, skipped, failed)"
                    ),
                ));
            };
            let entities = expectations(field("entities").unwrap_or_default()).map_err(|m| bad(line, m.to_string()))?;
            let rules = field("rules").map(expectations).transpose().map_err(|m| bad(line, m.to_string()))?;
            files.push(ExpectedFile { path, decision, entities, rules, line });
        }
        Ok(ExpectedSet { files, checks_rules })
    }
}

/// The decision a word of the `decision` column means: a decision (`protect`, `skip`, `error`) or the action the
/// reports show for it (`protected` and `would-protect`, `skipped`, `failed`), so a column copied from a report reads.
fn decision_word(word: &str) -> Option<VerdictKind> {
    VerdictKind::parse(word).or(match word {
        "protected" | "would-protect" => Some(VerdictKind::Protect),
        "skipped" => Some(VerdictKind::Skip),
        "failed" => Some(VerdictKind::Error),
        _ => None,
    })
}

impl ExpectedSet {
    /// Every entity and rule name the CSV at `source` expects must be one `rules` defines: a misspelt name would
    /// otherwise only show as a difference on every file that names it. Exit 6 naming the first unknown one.
    pub fn check_names(&self, rules: &RuleSet, source: &Path) -> Result<(), Error> {
        let entities: Vec<&str> = rules.entity_names().collect();
        let rule_names: Vec<&str> = rules.rule_names().collect();
        for f in &self.files {
            let lists = [
                ("entity", f.entities.as_slice(), &entities),
                ("rule", f.rules.as_deref().unwrap_or_default(), &rule_names),
            ];
            for (kind, wanted, known) in lists {
                if let Some(e) = wanted.iter().find(|e| !known.contains(&e.name.as_str())) {
                    let msg = format!(
                        "{}:{}: {kind} \"{}\" is not defined in the rules (they define: {})",
                        source.display(),
                        f.line,
                        e.name,
                        known.join("; ")
                    );
                    return Err(Error::new(ExitClass::Config, msg));
                }
            }
        }
        Ok(())
    }
}

/// A name list in the expected CSV that cannot be read.
#[derive(Debug, thiserror::Error)]
enum ListError {
    #[error("\"{0}\": the confidence after @ must be a number from 0 to 100")]
    Confidence(String),
    #[error("\"{0}\": no name before @")]
    NoName(String),
    #[error("\"{0}\" is listed twice")]
    Twice(String),
}

/// `Name; Name@85; …` → expectations. A name may not be listed twice.
fn expectations(field: &str) -> Result<Vec<Expectation>, ListError> {
    let mut out: Vec<Expectation> = Vec::new();
    for item in field.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, confidence) = match item.rsplit_once('@') {
            Some((name, c)) if !c.trim().is_empty() && c.trim().bytes().all(|b| b.is_ascii_digit()) => {
                let c: u8 = c
                    .trim()
                    .parse()
                    .ok()
                    .filter(|c| *c <= 100)
                    .ok_or_else(|| ListError::Confidence(item.to_string()))?;
                (name.trim(), Some(c))
            }
            _ => (item, None),
        };
        if name.is_empty() {
            return Err(ListError::NoName(item.to_string()));
        }
        if out.iter().any(|e| e.name == name) {
            return Err(ListError::Twice(name.to_string()));
        }
        out.push(Expectation { name: name.to_string(), confidence });
    }
    Ok(out)
}

/// CSV that cannot be split into records, at a line.
#[derive(Debug, thiserror::Error)]
enum CsvError {
    #[error("text after a closing quote: a quote inside a field is written \"\"")]
    AfterQuote { line: usize },
    #[error("a quoted field is not closed")]
    Unclosed { line: usize },
}

impl CsvError {
    fn line(&self) -> usize {
        match self {
            CsvError::AfterQuote { line } | CsvError::Unclosed { line } => *line,
        }
    }
}

/// A CSV record: the line it starts on, and its fields.
type Record = (usize, Vec<String>);

/// RFC 4180 records: `,` between fields, `"` quoting (with `""` for a quote), CRLF or LF line ends. Each record
/// comes with the line it starts on. Errors carry a line number.
fn parse_csv(text: &str) -> Result<Vec<Record>, CsvError> {
    let mut records = Vec::new();
    let (mut fields, mut field) = (Vec::new(), String::new());
    let (mut line, mut start_line) = (1, 1);
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => {
                quoted = false;
                if !matches!(chars.peek(), None | Some(',' | '\r' | '\n')) {
                    return Err(CsvError::AfterQuote { line });
                }
            }
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                records.push((start_line, std::mem::take(&mut fields)));
                line += 1;
                start_line = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(CsvError::Unclosed { line: start_line });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start_line, fields));
    }
    Ok(records)
}

/// `\` to `/`, no leading `./` or `/`.
fn normalize(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.trim_start_matches("./").trim_start_matches('/');
    p.to_string()
}

/// Classify one file as `classify` does ([`verdict::verdict`]): a file another product protects is a skip;
/// content that cannot be read, or a classification that could not finish without protecting, is an error. `path`
/// names the file in the result (relative to the sample folder, with `/` separators).
pub fn classify_sample(rules: &RuleSet, file: &Path, path: String, limits: &Limits) -> FileResult {
    FileResult::of_verdict(path, verdict::verdict(Source::Path(file), rules, limits, false), 0)
}

/// The path the rules see for a sample under `from`: the same file under `to`, so rules scoped to a folder of the
/// real share (`<Folder>D:\Shares\HR</Folder>`) can be tested on a copy of it somewhere else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPrefix {
    pub from: PathBuf,
    pub to: PathBuf,
}

impl PathPrefix {
    /// `FROM=TO`; FROM is made absolute (samples are compared as absolute paths), TO is kept as written.
    pub fn parse(text: &str) -> Result<PathPrefix, String> {
        let Some((from, to)) = text.split_once('=') else {
            return Err(format!("\"{text}\" is not FROM=TO"));
        };
        if from.is_empty() || to.is_empty() {
            return Err(format!("\"{text}\": both FROM and TO must be given"));
        }
        let from = std::path::absolute(from).map_err(|e| format!("\"{from}\": {e}"))?;
        Ok(PathPrefix { from, to: PathBuf::from(to) })
    }

    /// `file` with `from` replaced by `to`; `None` when `file` is not under `from`.
    pub fn map(&self, file: &Path) -> Option<PathBuf> {
        let full = std::path::absolute(file).ok()?;
        let rest = full.strip_prefix(&self.from).ok()?;
        Some(if rest.as_os_str().is_empty() { self.to.clone() } else { self.to.join(rest) })
    }
}

/// [`classify_sample`], with the rules seeing the file at `seen_as` (its content is read from `file`).
fn classify_sample_as(rules: &RuleSet, file: &Path, seen_as: &Path, path: String, limits: &Limits) -> FileResult {
    match crate::detect::foreign_protection(file) {
        Ok(None) => {}
        // As `classify` would answer: a file another product protects, or one it cannot open.
        _ => return classify_sample(rules, file, path, limits),
    }
    let judged = match std::fs::File::open(file) {
        Ok(open) => verdict::verdict(Source::Open(open, seen_as), rules, limits, false),
        Err(_) => return classify_sample(rules, file, path, limits),
    };
    FileResult::of_verdict(path, judged, 0)
}

/// True and false positives and negatives of one label over the samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Confusion {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
    /// Found as expected, but at another confidence than the CSV names.
    pub confidence_differs: usize,
}

impl Confusion {
    fn add(&mut self, expected: bool, actual: bool) {
        match (expected, actual) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    /// TP / (TP + FP); `None` when nothing was found.
    pub fn precision(&self) -> Option<f64> {
        let d = self.tp + self.fp;
        (d > 0).then(|| self.tp as f64 / d as f64)
    }

    /// TP / (TP + FN); `None` when nothing was expected.
    pub fn recall(&self) -> Option<f64> {
        let d = self.tp + self.fn_;
        (d > 0).then(|| self.tp as f64 / d as f64)
    }
}

/// A sample whose results differ from the expected ones, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub path: String,
    pub differences: Vec<String>,
}

/// The outcome of a rules test.
#[derive(Clone, Debug, Default)]
pub struct TestReport {
    /// Samples compared (listed in the CSV and found).
    pub compared: usize,
    /// Protect is the positive class.
    pub decision: Confusion,
    /// Per entity or rule name: its kind and its confusion table.
    pub labels: BTreeMap<String, (MatchKind, Confusion)>,
    pub mismatches: Vec<Mismatch>,
}

impl TestReport {
    /// No sample differs.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// The tables and the mismatches, as lines for a person.
    pub fn lines(&self) -> Vec<String> {
        let width = self.labels.keys().map(|k| k.chars().count()).max().unwrap_or(0).max(36);
        let row = |label: &str, kind: &str, c: &Confusion| {
            let ratio = |r: Option<f64>| r.map_or_else(|| "-".to_string(), |r| format!("{r:.3}"));
            format!(
                "  {label:<width$}  {kind:<6} {:>4} {:>4} {:>4} {:>4} {:>5}  {:>9}  {:>6}",
                c.tp,
                c.fp,
                c.fn_,
                c.tn,
                c.confidence_differs,
                ratio(c.precision()),
                ratio(c.recall())
            )
        };
        let header = format!(
            "  {:<width$}  {:<6} {:>4} {:>4} {:>4} {:>4} {:>5}  {:>9}  {:>6}",
            "(positive = protect, found, applied)", "kind", "TP", "FP", "FN", "TN", "conf≠", "precision", "recall"
        );
        let mut out = vec![header, row("decision: protect", "", &self.decision)];
        // Entities first, then the rules built on them.
        for (wanted, kind) in [(MatchKind::Entity, "entity"), (MatchKind::Rule, "rule")] {
            for (name, (_, c)) in self.labels.iter().filter(|(_, (k, _))| *k == wanted) {
                out.push(row(name, kind, c));
            }
        }
        if !self.mismatches.is_empty() {
            out.push(String::new());
            out.push(format!("{} file(s) differ from the expected results:", self.mismatches.len()));
            for m in &self.mismatches {
                out.push(format!("  {}", m.path));
                out.extend(m.differences.iter().map(|d| format!("    {d}")));
            }
        }
        out
    }
}

/// Compare the actual results with the expected ones.
pub fn compare(expected: &ExpectedSet, actual: &[FileResult]) -> TestReport {
    let mut comparison = Comparison::new(expected);
    for a in actual {
        comparison.add(a);
    }
    comparison.finish()
}

/// A comparison fed one result at a time, as a run finishes them: it keeps what the expected set bounds (which
/// rows were seen, a confusion table per name) and the differences, never the results.
pub struct Comparison<'a> {
    expected: &'a ExpectedSet,
    /// Expected row by path.
    rows: HashMap<&'a str, usize>,
    seen: Vec<bool>,
    kinds: &'static [MatchKind],
    /// Files compared so far whose row names entities (every row) and rules (rows of a CSV with a `rules` column):
    /// a name first found later was neither expected nor found in them.
    compared_entities: usize,
    compared_rules: usize,
    report: TestReport,
    /// Problems of the run, listed after the files.
    problems: Vec<Mismatch>,
}

impl<'a> Comparison<'a> {
    pub fn new(expected: &'a ExpectedSet) -> Comparison<'a> {
        let mut report = TestReport::default();
        // Every name any row expects or any result reports gets a row in the table.
        for e in &expected.files {
            for x in &e.entities {
                report.labels.entry(x.name.clone()).or_insert((MatchKind::Entity, Confusion::default()));
            }
            for x in e.rules.iter().flatten() {
                report.labels.entry(x.name.clone()).or_insert((MatchKind::Rule, Confusion::default()));
            }
        }
        let kinds: &'static [MatchKind] =
            if expected.checks_rules { &[MatchKind::Entity, MatchKind::Rule] } else { &[MatchKind::Entity] };
        Comparison {
            expected,
            rows: expected.files.iter().enumerate().map(|(i, e)| (e.path.as_str(), i)).collect(),
            seen: vec![false; expected.files.len()],
            kinds,
            compared_entities: 0,
            compared_rules: 0,
            report,
            problems: Vec::new(),
        }
    }

    /// Compare one sample's result.
    pub fn add(&mut self, a: &FileResult) {
        let report = &mut self.report;
        for m in a.matches.iter().filter(|m| self.kinds.contains(&m.kind)) {
            if !report.labels.contains_key(&m.name) {
                let earlier = if m.kind == MatchKind::Rule { self.compared_rules } else { self.compared_entities };
                report.labels.insert(m.name.clone(), (m.kind, Confusion { tn: earlier, ..Confusion::default() }));
            }
        }
        let Some(&row) = self.rows.get(a.path.as_str()) else {
            let mut d = format!("not in the expected results (got {}", a.decision);
            let names: Vec<String> =
                a.matches.iter().filter(|m| self.kinds.contains(&m.kind)).map(|m| m.name.clone()).collect();
            if !names.is_empty() {
                let _ = write!(d, ": {}", names.join("; "));
            }
            d.push(')');
            report.mismatches.push(Mismatch { path: a.path.clone(), differences: vec![d] });
            return;
        };
        let e = &self.expected.files[row];
        self.seen[row] = true;
        report.compared += 1;
        let mut differences = Vec::new();
        let protect = Decision::Verdict(VerdictKind::Protect);
        report.decision.add(e.decision == VerdictKind::Protect, a.decision == protect);
        if Decision::Verdict(e.decision) != a.decision {
            let mut d = format!("decision: expected {}, got {}", e.decision, a.decision);
            if let Some(err) = &a.error {
                let _ = write!(d, " ({err})");
            }
            differences.push(d);
        }
        for (kind, wanted) in [(MatchKind::Entity, Some(&e.entities)), (MatchKind::Rule, e.rules.as_ref())] {
            let Some(wanted) = wanted else { continue };
            if kind == MatchKind::Rule {
                self.compared_rules += 1;
            } else {
                self.compared_entities += 1;
            }
            let what = if kind == MatchKind::Rule { "rule" } else { "entity" };
            let found: Vec<&MatchSummary> = a.matches.iter().filter(|m| m.kind == kind).collect();
            for (name, (label_kind, confusion)) in report.labels.iter_mut() {
                if *label_kind != kind {
                    continue;
                }
                let want = wanted.iter().find(|x| &x.name == name);
                let got = found.iter().find(|m| &m.name == name);
                confusion.add(want.is_some(), got.is_some());
                match (want, got) {
                    (Some(_), None) => differences.push(format!("{what} \"{name}\": expected, not found")),
                    (None, Some(g)) => {
                        differences.push(format!("{what} \"{name}\": found ({}), not expected", describe(g)))
                    }
                    (Some(w), Some(g)) if w.confidence.is_some() && w.confidence != g.confidence => {
                        confusion.confidence_differs += 1;
                        differences.push(format!(
                            "{what} \"{name}\": expected at confidence {}, found {}",
                            w.confidence.unwrap_or_default(),
                            describe(g)
                        ));
                    }
                    _ => {}
                }
            }
        }
        if !differences.is_empty() {
            report.mismatches.push(Mismatch { path: e.path.clone(), differences });
        }
    }

    /// Record a problem of the run that no result shows (a folder that could not be read).
    pub fn problem(&mut self, path: String, problem: String) {
        self.problems.push(Mismatch { path, differences: vec![problem] });
    }

    /// The report: every row no sample answered is a difference too.
    pub fn finish(mut self) -> TestReport {
        for (e, seen) in self.expected.files.iter().zip(&self.seen) {
            if !seen {
                self.report.mismatches.push(Mismatch {
                    path: e.path.clone(),
                    differences: vec![format!("listed on line {} of the expected results, but no such sample", e.line)],
                });
            }
        }
        self.report.mismatches.sort_by(|a, b| a.path.cmp(&b.path));
        self.report.mismatches.append(&mut self.problems);
        self.report
    }
}

fn describe(m: &MatchSummary) -> String {
    match m.confidence {
        Some(c) => format!("x{} at confidence {c}", m.count),
        None => format!("x{}", m.count),
    }
}

/// Classify every file under `samples` (in parallel, `jobs` threads, 0 = one per core) and compare with
/// `expected`. `skip` is a file to leave out of the walk (the expected CSV when it sits among the samples).
pub fn run(
    rules: &RuleSet,
    samples: &Path,
    expected: &ExpectedSet,
    limits: &Limits,
    jobs: usize,
    skip: Option<&Path>,
    prefix: Option<&PathPrefix>,
) -> Result<TestReport, Error> {
    if !samples.is_dir() {
        let detail = format!("{}: no such folder", samples.display());
        return Err(Error::fixed_by(ExitClass::NotFound, detail, Setting::Samples, " (the samples folder)"));
    }
    let walker = walk::Walker::new(&WalkOptions::default())?;
    let skip = skip.and_then(|p| std::fs::canonicalize(p).ok());
    let mut comparison = Comparison::new(expected);
    let feed = |feeder: &mut Feeder<Entry>| {
        let _ = walker.walk(samples, &mut |entry| {
            let bytes = match &entry {
                // The expected CSV when it lies among the samples.
                Entry::File(found) if skip.is_some() && std::fs::canonicalize(&found.path).ok() == skip => {
                    return ControlFlow::Continue(());
                }
                Entry::File(found) => found.bytes,
                Entry::Problem(_) => 0,
                // Links are left alone, as any walk does; they are not samples.
                Entry::Skipped(_) => return ControlFlow::Continue(()),
            };
            if feeder.send(entry, bytes) { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
        })?;
        Ok::<(), Error>(())
    };
    let work = |entry: Entry| match entry {
        Entry::File(found) => {
            let path = relative(samples, &found.path);
            Ok(match prefix.and_then(|p| p.map(&found.path)) {
                Some(seen_as) => classify_sample_as(rules, &found.path, &seen_as, path, limits),
                None => classify_sample(rules, &found.path, path, limits),
            })
        }
        Entry::Problem(e) => Err(e.to_string()),
        Entry::Skipped(s) => Err(s),
    };
    stream(&RunOptions { jobs, progress: true }, feed, work, |done| {
        match done {
            Ok(result) => comparison.add(&result),
            Err(problem) => comparison.problem(samples.display().to_string(), problem),
        }
        Ok(())
    })?;
    Ok(comparison.finish())
}

fn relative(root: &Path, path: &Path) -> String {
    let rel: PathBuf = path.strip_prefix(root).map_or_else(|_| path.to_path_buf(), Path::to_path_buf);
    normalize(&rel.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ExpectedSet, Error> {
        ExpectedSet::parse(text, Path::new("expected.csv"))
    }

    fn entity(name: &str, confidence: Option<u8>) -> MatchSummary {
        MatchSummary { name: name.into(), kind: MatchKind::Entity, count: 1, confidence, values: Vec::new() }
    }

    fn rule(name: &str) -> MatchSummary {
        MatchSummary { name: name.into(), kind: MatchKind::Rule, count: 1, confidence: None, values: Vec::new() }
    }

    fn actual(path: &str, decision: &str, matches: Vec<MatchSummary>) -> FileResult {
        let decision = Decision::Verdict(VerdictKind::parse(decision).unwrap());
        FileResult { matches, ..FileResult::new(path.into(), decision, ExitClass::Success) }
    }

    const CSV: &str = "\u{feff}path,decision,entities,rules,note\r\n\
        HR/review.txt,protect,U.S. Social Security Number (SSN)@85,PII: U.S. SSN,\r\n\
        \"Public/menu, week 14.txt\",skip,,,\"a \"\"clean\"\" file\"\r\n\
        Finance\\pay.csv,protect,Credit Card Number@65; International Banking Account Number (IBAN),Moderate: bank details,\r\n";

    #[test]
    fn parses_quotes_bom_crlf_and_confidences() {
        let set = parse(CSV).unwrap();
        assert!(set.checks_rules);
        assert_eq!(set.files.len(), 3);
        assert_eq!(set.files[1].path, "Public/menu, week 14.txt");
        assert_eq!(set.files[2].path, "Finance/pay.csv", "backslashes become slashes");
        assert_eq!(set.files[2].line, 4);
        assert_eq!(
            set.files[2].entities,
            [
                Expectation { name: "Credit Card Number".into(), confidence: Some(65) },
                Expectation { name: "International Banking Account Number (IBAN)".into(), confidence: None },
            ]
        );
        assert_eq!(set.files[0].rules.as_deref().unwrap()[0].name, "PII: U.S. SSN");
    }

    #[test]
    fn malformed_files_name_the_line_and_problem() {
        let cases = [
            ("", "expected.csv:1: empty"),
            ("path;decision;entities\n", "save the file as comma-separated CSV"),
            ("path,decision,entites\n", "unknown column \"entites\""),
            ("path,decision\n", "missing column \"entities\""),
            ("path,decision,entities\na.txt,maybe,\n", "expected.csv:2: decision \"maybe\""),
            ("path,decision,entities\na.txt,skip\n", "expected.csv:2: 2 fields, but the header has 3"),
            (
                "path,decision,entities\na.txt,skip,\nb.txt,skip,\na.txt,protect,\n",
                ":4: \"a.txt\" is already listed on line 2",
            ),
            ("path,decision,entities\na.txt,protect,Credit Card Number@185\n", "from 0 to 100"),
            ("path,decision,entities\na.txt,protect,X;X@85\n", "\"X\" is listed twice"),
            ("path,decision,entities\n\"a.txt,skip,\n", ":2: a quoted field is not closed"),
            ("path,decision,entities\n\"a\"b.txt,skip,\n", "text after a closing quote"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.class(), ExitClass::Config, "{text:?}");
            assert!(err.message().contains(want), "{text:?}: {}", err.message());
        }
    }

    #[test]
    fn matching_results_pass_with_full_tables() {
        let set = parse(CSV).unwrap();
        let results = [
            actual(
                "HR/review.txt",
                "protect",
                vec![entity("U.S. Social Security Number (SSN)", Some(85)), rule("PII: U.S. SSN")],
            ),
            actual("Public/menu, week 14.txt", "skip", vec![]),
            actual(
                "Finance/pay.csv",
                "protect",
                vec![
                    entity("Credit Card Number", Some(65)),
                    entity("International Banking Account Number (IBAN)", Some(85)),
                    rule("Moderate: bank details"),
                ],
            ),
        ];
        let report = compare(&set, &results);
        assert!(report.passed(), "{:?}", report.mismatches);
        assert_eq!(report.compared, 3);
        assert_eq!(report.decision, Confusion { tp: 2, fp: 0, fn_: 0, tn: 1, confidence_differs: 0 });
        let (kind, ssn) = report.labels["U.S. Social Security Number (SSN)"];
        assert_eq!((kind, ssn.tp, ssn.tn), (MatchKind::Entity, 1, 2));
        assert_eq!(report.labels["Moderate: bank details"].0, MatchKind::Rule);
        assert_eq!(report.labels.len(), 5);
    }

    #[test]
    fn every_kind_of_difference_is_listed_and_counted() {
        let set = parse(CSV).unwrap();
        let results = [
            // SSN lost (false negative) and the decision with it.
            actual("HR/review.txt", "skip", vec![]),
            // A new entity found (false positive) and a confidence changed.
            actual(
                "Finance/pay.csv",
                "protect",
                vec![
                    entity("Credit Card Number", Some(85)),
                    entity("International Banking Account Number (IBAN)", Some(85)),
                    entity("Email Address", Some(65)),
                    rule("Moderate: bank details"),
                ],
            ),
            actual("Public/new.txt", "skip", vec![entity("Email Address", Some(65))]),
        ];
        let report = compare(&set, &results);
        // Fed one result at a time as a run finishes them: the order does not change the report.
        for order in [[2, 1, 0], [1, 2, 0], [0, 2, 1]] {
            let shuffled: Vec<FileResult> = order.iter().map(|&i| results[i].clone()).collect();
            let again = compare(&set, &shuffled);
            assert_eq!(
                (again.lines(), again.compared, again.decision),
                (report.lines(), report.compared, report.decision)
            );
            assert_eq!(again.labels, report.labels, "{order:?}");
        }
        assert!(!report.passed());
        let paths: Vec<&str> = report.mismatches.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(paths, ["Finance/pay.csv", "HR/review.txt", "Public/menu, week 14.txt", "Public/new.txt"]);
        let text = report.lines().join("\n");
        for want in [
            "decision: expected protect, got skip",
            "entity \"U.S. Social Security Number (SSN)\": expected, not found",
            "rule \"PII: U.S. SSN\": expected, not found",
            "entity \"Email Address\": found (x1 at confidence 65), not expected",
            "entity \"Credit Card Number\": expected at confidence 65, found x1 at confidence 85",
            "listed on line 3 of the expected results, but no such sample",
            "not in the expected results (got skip: Email Address)",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert_eq!(report.decision, Confusion { tp: 1, fp: 0, fn_: 1, tn: 0, confidence_differs: 0 });
        let cards = report.labels["Credit Card Number"].1;
        assert_eq!((cards.tp, cards.confidence_differs), (1, 1));
        let email = report.labels["Email Address"].1;
        assert_eq!((email.fp, email.tn), (1, 1), "the unlisted file is not counted");
        assert_eq!(email.precision(), Some(0.0));
        assert_eq!(email.recall(), None);
    }

    #[test]
    fn rules_are_not_compared_without_a_rules_column() {
        let set = parse("path,decision,entities\na.txt,protect,Email Address\n").unwrap();
        let report = compare(&set, &[actual("a.txt", "protect", vec![entity("Email Address", Some(65)), rule("R")])]);
        assert!(report.passed(), "{:?}", report.mismatches);
        assert!(!report.labels.contains_key("R"));
    }
}
