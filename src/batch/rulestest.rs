//! `rules test`: classify a folder of sample files and compare every result with a CSV of expected results — what
//! an admin runs after editing the rules, to see what the edit changed.
//!
//! The expected CSV (docs/RULES.md, "Testing rules on a sample folder") has a header and one row per sample:
//! `path` (relative to the sample folder, `/` between folders), `decision` (`protect`, `skip` or `error`),
//! `entities` (Purview entities expected to be found, `;` between them, each optionally `Name@confidence`), and
//! optionally `rules` (FSRM-style rules expected to apply, same syntax) and `note` (free text, ignored).
//!
//! [`compare`] is pure: it turns the expected rows and the actual results into a confusion table for the decision
//! (protect is the positive class) and one per entity or rule name, and lists every file that differs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::walk::{self, Found, WalkOptions};
use super::{RunOptions, run as run_batch};
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
            let Some(decision) = VerdictKind::parse(&word) else {
                return Err(bad(line, format!("decision \"{word}\" is not protect, skip or error")));
            };
            let entities = expectations(field("entities").unwrap_or_default()).map_err(|m| bad(line, m.to_string()))?;
            let rules = field("rules").map(expectations).transpose().map_err(|m| bad(line, m.to_string()))?;
            files.push(ExpectedFile { path, decision, entities, rules, line });
        }
        Ok(ExpectedSet { files, checks_rules })
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
    let mut report = TestReport::default();
    let by_path: BTreeMap<&str, &FileResult> = actual.iter().map(|a| (a.path.as_str(), a)).collect();
    let kinds = if expected.checks_rules { &[MatchKind::Entity, MatchKind::Rule][..] } else { &[MatchKind::Entity] };
    // Every name any row expects or any result reports gets a row in the table.
    for e in &expected.files {
        for x in &e.entities {
            report.labels.entry(x.name.clone()).or_insert((MatchKind::Entity, Confusion::default()));
        }
        for x in e.rules.iter().flatten() {
            report.labels.entry(x.name.clone()).or_insert((MatchKind::Rule, Confusion::default()));
        }
    }
    for a in actual {
        for m in a.matches.iter().filter(|m| kinds.contains(&m.kind)) {
            report.labels.entry(m.name.clone()).or_insert((m.kind, Confusion::default()));
        }
    }
    let listed: BTreeSet<&str> = expected.files.iter().map(|e| e.path.as_str()).collect();
    for e in &expected.files {
        let Some(a) = by_path.get(e.path.as_str()) else {
            report.mismatches.push(Mismatch {
                path: e.path.clone(),
                differences: vec![format!("listed on line {} of the expected results, but no such sample", e.line)],
            });
            continue;
        };
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
    for a in actual.iter().filter(|a| !listed.contains(a.path.as_str())) {
        let mut d = format!("not in the expected results (got {}", a.decision);
        let names: Vec<String> = a.matches.iter().filter(|m| kinds.contains(&m.kind)).map(|m| m.name.clone()).collect();
        if !names.is_empty() {
            let _ = write!(d, ": {}", names.join("; "));
        }
        d.push(')');
        report.mismatches.push(Mismatch { path: a.path.clone(), differences: vec![d] });
    }
    report.mismatches.sort_by(|a, b| a.path.cmp(&b.path));
    report
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
) -> Result<TestReport, Error> {
    if !samples.is_dir() {
        let detail = format!("{}: no such folder", samples.display());
        return Err(Error::fixed_by(ExitClass::NotFound, detail, Setting::Samples, " (the samples folder)"));
    }
    let walked = walk::files(&[samples.to_path_buf()], &WalkOptions::default())?;
    let skip = skip.and_then(|p| std::fs::canonicalize(p).ok());
    let files: Vec<Found> =
        walked.files.into_iter().filter(|f| skip.is_none() || std::fs::canonicalize(&f.path).ok() != skip).collect();
    let actual = run_batch(&files, &RunOptions { jobs, progress: true }, |found| {
        classify_sample(rules, &found.path, relative(samples, &found.path), limits)
    });
    let mut report = compare(expected, &actual);
    for problem in walked.problems {
        report
            .mismatches
            .push(Mismatch { path: samples.display().to_string(), differences: vec![problem.to_string()] });
    }
    Ok(report)
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
