//! One file's result, typed: what every output (the log line, the HTML/CSV/JSON reports, the console) shows a view
//! of. The decision words are enums with their serialised names, so no output compares strings.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::SerializeSeq;

use super::verdict::{self, Judged, SkipReason, Verdict};
use crate::classify::MatchSummary;
use crate::{Error, ExitClass};

/// The answer to "protect, skip or error?" (`classify`, `rules test`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    Protect,
    Skip,
    Error,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 3] = [VerdictKind::Protect, VerdictKind::Skip, VerdictKind::Error];

    /// The serialised name.
    pub const fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Protect => "protect",
            VerdictKind::Skip => "skip",
            VerdictKind::Error => "error",
        }
    }

    /// The verdict named `word` (exactly as serialised).
    pub fn parse(word: &str) -> Option<VerdictKind> {
        VerdictKind::ALL.into_iter().find(|v| v.as_str() == word)
    }
}

/// What was done to the file (`protect`, `watch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    Protected,
    WouldProtect,
    Skipped,
    Failed,
}

impl ActionKind {
    /// The serialised name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActionKind::Protected => "protected",
            ActionKind::WouldProtect => "would-protect",
            ActionKind::Skipped => "skipped",
            ActionKind::Failed => "failed",
        }
    }
}

/// The decision column of a result: a verdict (classify) or an action (protect).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Decision {
    Verdict(VerdictKind),
    Action(ActionKind),
}

impl Decision {
    /// The serialised name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Verdict(v) => v.as_str(),
            Decision::Action(a) => a.as_str(),
        }
    }

    /// The file was deliberately left alone.
    pub fn is_skip(self) -> bool {
        matches!(self, Decision::Verdict(VerdictKind::Skip) | Decision::Action(ActionKind::Skipped))
    }
}

/// Decisions sort by their serialised names (the order of the summaries' `decisions`).
impl Ord for Decision {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Decision {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file's result. Serialised as the reports' `files` entries; matched values (`classify --show-values`) are
/// never serialised, only the console shows them.
#[derive(Clone, Debug, Serialize)]
pub struct FileResult {
    pub path: String,
    pub decision: Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Property name → value, in the rules' definition order (the console's); serialised sorted by name.
    #[serde(serialize_with = "sorted")]
    pub properties: Vec<(String, String)>,
    #[serde(serialize_with = "logged_matches")]
    pub matches: Vec<MatchSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(rename = "exit_code", serialize_with = "exit_code")]
    pub class: ExitClass,
    pub bytes: u64,
    /// Everything that went wrong on the way without deciding the result (the console lists them all; `reason`
    /// is the first).
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl FileResult {
    /// A result with this decision and class and nothing else.
    pub fn new(path: String, decision: Decision, class: ExitClass) -> FileResult {
        FileResult {
            path,
            decision,
            reason: None,
            template: None,
            properties: Vec::new(),
            matches: Vec::new(),
            error: None,
            class,
            bytes: 0,
            notes: Vec::new(),
        }
    }

    /// The result of a file that could not be looked at: `error` with `message` (the caller's wording of `err`).
    pub fn failed(path: String, err: &Error, message: String) -> FileResult {
        FileResult { error: Some(message), ..FileResult::new(path, Decision::Verdict(VerdictKind::Error), err.class()) }
    }

    /// The result of a [`verdict::verdict`] (`classify`, `rules test`): protect, skip or error, with what the
    /// classification found. A file another product protects is not read: its note says why it is left alone.
    pub fn of_verdict(path: String, judged: Judged, bytes: u64) -> FileResult {
        let (properties, matches, mut notes) = match judged.classification {
            Some(c) => (c.properties.clone(), c.matches.clone(), verdict::problems(&c)),
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        let (decision, template, error, class) = match judged.verdict {
            Verdict::Protect { template } => (VerdictKind::Protect, template, None, ExitClass::Success),
            Verdict::Skip(reason) => {
                if let SkipReason::ProtectedByOther(_) = reason {
                    notes.push(reason.describe());
                }
                (VerdictKind::Skip, None, None, ExitClass::Success)
            }
            Verdict::Error(e) => (VerdictKind::Error, None, Some(e.message().to_string()), e.class()),
        };
        FileResult {
            reason: notes.first().cloned(),
            template,
            properties,
            matches,
            error,
            bytes,
            notes,
            ..FileResult::new(path, Decision::Verdict(decision), class)
        }
    }

    /// The properties sorted by name, as the log and the reports show them.
    pub fn sorted_properties(&self) -> BTreeMap<&str, &str> {
        self.properties.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// This result as one invocation's log line.
    pub fn log_record<'a>(&'a self, invocation: Invocation<'a>) -> LogRecord<'a> {
        LogRecord { invocation, result: self }
    }
}

/// A match as the log and the reports show it: name, count, confidence (never the matched values).
#[derive(Serialize)]
struct LoggedMatch<'a> {
    name: &'a str,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<u8>,
}

impl<'a> From<&'a MatchSummary> for LoggedMatch<'a> {
    fn from(m: &'a MatchSummary) -> Self {
        LoggedMatch { name: &m.name, count: m.count, confidence: m.confidence }
    }
}

fn logged_matches<S: serde::Serializer>(matches: &[MatchSummary], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(matches.len()))?;
    for m in matches {
        seq.serialize_element(&LoggedMatch::from(m))?;
    }
    seq.end()
}

fn sorted<S: serde::Serializer>(properties: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(properties.iter().map(|(k, v)| (k, v)).collect::<BTreeMap<_, _>>())
}

/// Serialise an exit class as its code (`exit_code` fields).
pub fn exit_code<S: serde::Serializer>(class: &ExitClass, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(class.code())
}

/// What the log line says about the invocation beside the file's result.
#[derive(Debug, Default)]
pub struct Invocation<'a> {
    /// RFC 3339, UTC ([`crate::log::now`]).
    pub time: String,
    pub pid: u32,
    pub command: &'static str,
    pub owner: Option<&'a str>,
    pub duration_ms: u64,
    pub warnings: &'a [String],
    /// Protected with a template that has `<LicenseServer register="true">`: whether the licensing service
    /// accepted the registration (absent otherwise).
    pub registered: Option<bool>,
    /// Why the registration did not happen, when `registered` is false.
    pub registration_error: Option<&'a str>,
}

/// One invocation's log line (and `protect --json`'s object): a view of the file's result with the invocation's
/// fields, in the order the log has always had.
#[derive(Debug)]
pub struct LogRecord<'a> {
    pub invocation: Invocation<'a>,
    pub result: &'a FileResult,
}

/// The log line's fields, in order.
#[derive(Serialize)]
struct LogLine<'a> {
    time: &'a str,
    pid: u32,
    command: &'static str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    decision: Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty", serialize_with = "logged_matches")]
    matches: &'a [MatchSummary],
    #[serde(skip_serializing_if = "<[_]>::is_empty", serialize_with = "sorted")]
    properties: &'a [(String, String)],
    exit_code: u8,
    duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    registered: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_error: Option<&'a str>,
}

impl Serialize for LogRecord<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (i, r) = (&self.invocation, self.result);
        LogLine {
            time: &i.time,
            pid: i.pid,
            command: i.command,
            path: &r.path,
            template: r.template.as_deref(),
            owner: i.owner,
            decision: r.decision,
            reason: r.reason.as_deref(),
            matches: &r.matches,
            properties: &r.properties,
            exit_code: r.class.code(),
            duration_ms: i.duration_ms,
            error: r.error.as_deref(),
            warnings: i.warnings,
            registered: i.registered,
            registration_error: i.registration_error,
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::MatchKind;

    fn result() -> FileResult {
        let ssn = MatchSummary {
            name: "SSN".into(),
            kind: MatchKind::Entity,
            count: 2,
            confidence: Some(85),
            values: vec!["078-05-1120".into()],
        };
        FileResult {
            template: Some("t".into()),
            properties: vec![("Z".into(), "1".into()), ("A".into(), "Yes".into())],
            matches: vec![ssn],
            bytes: 9,
            notes: vec!["a note".into()],
            ..FileResult::new("f.txt".into(), Decision::Action(ActionKind::WouldProtect), ExitClass::Success)
        }
    }

    #[test]
    fn the_log_line_keeps_its_fields_in_order_and_never_the_values() {
        let result = result();
        let warnings = vec!["w".to_string()];
        let line = result.log_record(Invocation {
            time: "T".into(),
            pid: 7,
            command: "protect",
            owner: Some("o@example.com"),
            duration_ms: 3,
            warnings: &warnings,
            ..Invocation::default()
        });
        assert_eq!(
            serde_json::to_string(&line).unwrap(),
            r#"{"time":"T","pid":7,"command":"protect","path":"f.txt","template":"t","owner":"o@example.com","decision":"would-protect","matches":[{"name":"SSN","count":2,"confidence":85}],"properties":{"A":"Yes","Z":"1"},"exit_code":0,"duration_ms":3,"warnings":["w"]}"#
        );
    }

    #[test]
    fn a_report_entry_is_sorted_and_never_holds_values_or_notes() {
        let failed = FileResult {
            error: Some("e".into()),
            ..FileResult::new("g".into(), Decision::Verdict(VerdictKind::Error), ExitClass::Busy)
        };
        assert_eq!(
            serde_json::to_string(&result()).unwrap(),
            r#"{"path":"f.txt","decision":"would-protect","template":"t","properties":{"A":"Yes","Z":"1"},"matches":[{"name":"SSN","count":2,"confidence":85}],"exit_code":0,"bytes":9}"#
        );
        assert_eq!(
            serde_json::to_string(&failed).unwrap(),
            r#"{"path":"g","decision":"error","properties":{},"matches":[],"error":"e","exit_code":4,"bytes":0}"#
        );
    }
}
