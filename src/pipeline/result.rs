//! One file's result, typed: what every output (the log line, the HTML/CSV/JSON reports, the console) shows a view
//! of. The decision words are enums with their serialised names, so no output compares strings.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ExitClass;
use crate::log::LoggedMatch;

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

/// One file's result. Never holds matched values. Serialised as the reports' `files` entries.
#[derive(Clone, Debug, Serialize)]
pub struct FileResult {
    pub path: String,
    pub decision: Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    pub properties: BTreeMap<String, String>,
    pub matches: Vec<LoggedMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(rename = "exit_code", serialize_with = "exit_code")]
    pub class: ExitClass,
    pub bytes: u64,
}

fn exit_code<S: serde::Serializer>(class: &ExitClass, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u8(class.code())
}
