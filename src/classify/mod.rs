//! The classification engine: decides per file, from its text and path, which FSRM properties it gets and whether
//! `protect` protects it.
//!
//! Two rule languages load into one rule set ([`RuleSet::load`], a folder in file-name order): fci-connector's
//! FSRM-style rule files (properties, Content/Folder/FileName rules, protection policy; docs/RULES.md) and
//! Microsoft Purview sensitive-information-type packages ([`purview`]), with built-in functions ([`builtin`])
//! usable from both.
//!
//! ```no_run
//! # use std::path::Path;
//! # use fci_connector::classify::{RuleSet, Decision};
//! # fn main() -> Result<(), fci_connector::Error> {
//! let loaded = RuleSet::load(Path::new("classification-rules"))?;   // Err: ExitClass::Config, file:line:col
//! let path = Path::new(r"D:\Shares\HR\payroll.txt");
//! let mut scanner = loaded.rules.scanner(path);                      // path facts: scopes, Folder/FileName rules
//! fci_connector::extract::extract(path, &Default::default(), &mut |chunk| scanner.feed(chunk))?;
//! let result = scanner.finish();
//! match result.decision() {
//!     Decision::Protect { template } => { /* protect with `template`, else the command line's */ }
//!     Decision::Skip => {}
//! }
//! # Ok(()) }
//! ```
//!
//! A [`Classification`] holds the aggregated properties, the matches (rule and entity names with counts and
//! confidence, never the matched text unless [`Scanner::with_values`] asks for it) and the problems met on this
//! file. When a problem stopped a rule from being evaluated (a regex over its backtrack limit), the result is
//! incomplete ([`Classification::is_complete`]): callers must not treat `Skip` from an incomplete result as a
//! verdict.
//!
//! Modules: [`ruleset`] (loading a rule folder into a [`RuleSet`]), the two readers [`fsrm_rules`] (with
//! [`fsrm_params`]) and [`purview`], both over [`crate::xml`]'s element tree, [`regex_dialect`], [`builtin`],
//! [`model`] (what they load into), [`engine`] (compile, streaming scan, entity evidence, verdict and protection
//! policy), [`aggregate`], [`scope`].
//!
//! "Policy" here is always the rule files' protection policy (`<ProtectionPolicy>`:
//! [`engine::protection_decision`]); the config file's `[policy]` (unreadable and excluded files) is
//! [`crate::config::PolicyConfig`].

pub mod aggregate;
pub mod builtin;
pub mod diag;
pub mod engine;
pub mod fsrm_params;
pub mod fsrm_rules;
pub mod lookaround;
pub mod model;
pub mod purview;
pub mod regex_dialect;
pub mod ruleset;
pub mod schema;
pub mod scope;

pub use diag::{Diagnostic, Severity};
pub use engine::Scanner;
pub use ruleset::{CheckReport, LoadedRules, RuleSet, RulesVersion, Stats};

/// Whether to protect a file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "decision")]
pub enum Decision {
    /// Protect it, with this template (else the policy's default or the command line's).
    Protect { template: Option<String> },
    /// Leave it as it is.
    Skip,
}

/// What a match summary names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// An FSRM-style rule that applied.
    Rule,
    /// A Purview sensitive-information type found.
    Entity,
}

/// One rule that applied or one entity found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MatchSummary {
    pub name: String,
    pub kind: MatchKind,
    /// Rules: occurrences of the expressions that held (1 for Folder/FileName rules). Entities: instances found at
    /// the reported confidence.
    pub count: u64,
    /// Entities: the highest confidence any instance reached.
    pub confidence: Option<u8>,
    /// Up to five matched values, only when asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// Something that went wrong on this file: a detector that failed, a rule not applied, a property conflict.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Problem {
    pub source: String,
    pub message: String,
}

/// The outcome of classifying one file.
#[derive(Clone, Debug)]
pub struct Classification {
    /// Property name → value (multi-valued properties joined with `|`), in definition order.
    pub properties: Vec<(String, String)>,
    pub matches: Vec<MatchSummary>,
    pub problems: Vec<Problem>,
    decision: Decision,
    complete: bool,
    /// Characters of text scanned.
    pub text_chars: u64,
}

impl Classification {
    /// False when a rule or entity could not be evaluated on this file (see [`Classification::problems`]).
    pub fn is_complete(&self) -> bool {
        self.complete
    }
}
