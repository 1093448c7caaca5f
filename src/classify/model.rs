//! The loaded rule set as the engine sees it: detectors (what to look for in the text), Purview entities (how
//! detector matches combine into a sensitive-information type with a confidence), FSRM-style properties and rules,
//! and the protection policy. Both rule languages load into this one model.

use std::path::PathBuf;

use super::builtin::Function;
use super::regex_dialect::Engine;

/// Index of a detector in [`Model::detectors`].
pub type DetId = usize;

/// Something to find in the text; every occurrence is a hit at a position.
#[derive(Debug)]
pub struct Detector {
    /// Where it comes from, for messages: `Regex_employee_id (contoso.xml)`, `Func_ssn`, `rule "X" expression 2`.
    pub label: String,
    pub matcher: Matcher,
    /// Every check must accept a candidate for it to count.
    pub checks: Vec<Check>,
}

#[derive(Debug)]
pub enum Matcher {
    /// A regular expression (source already carries `(?i)` when case-insensitive).
    Regex { source: String, engine: Engine },
    /// A list of terms, matched through one Aho-Corasick automaton for the whole rule set.
    Keywords(Vec<Term>),
}

#[derive(Debug, Clone)]
pub struct Term {
    pub text: String,
    pub case_sensitive: bool,
    /// Purview `matchStyle="word"`: the term must not touch a letter, digit or `_` on either side.
    pub whole_word: bool,
}

/// A validator run on each candidate match.
pub enum Check {
    Function(&'static Function),
    DateSimple(String),
    Checksum(Checksum),
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Function(func) => write!(f, "Function({})", func.name),
            Check::DateSimple(p) => write!(f, "DateSimple({p})"),
            Check::Checksum(c) => write!(f, "{c:?}"),
        }
    }
}

/// Purview's generic `Checksum` validator: weighted sum of the other characters, modulo `modulus`, equals the
/// character at `check_position` (1-based).
#[derive(Debug, Clone)]
pub struct Checksum {
    pub weights: Vec<u32>,
    pub modulus: u32,
    pub check_position: usize,
    pub allow_letters: bool,
}

/// A Purview sensitive-information type.
#[derive(Debug)]
pub struct Entity {
    pub id: String,
    pub name: String,
    pub file: PathBuf,
    /// Characters on each side of the `IdMatch` within which supporting matches count.
    pub proximity: u64,
    pub recommended_confidence: u8,
    pub patterns: Vec<Pattern>,
    pub filters: Vec<Filter>,
}

#[derive(Debug)]
pub struct Pattern {
    pub confidence: u8,
    pub id_match: DetId,
    pub conditions: Vec<Condition>,
    pub filters: Vec<Filter>,
}

#[derive(Debug)]
pub enum Condition {
    /// At least `min_count` hits of `det` (distinct values when `unique`) near the `IdMatch`.
    Match { det: DetId, min_count: u32, unique: bool },
    /// Between `min` and `max` of the children hold (`0`/`0`: none of them may).
    Any { min: u32, max: u32, children: Vec<Condition> },
}

/// Purview filters, applied to the `IdMatch` hit.
#[derive(Debug)]
pub enum Filter {
    /// Drop matches whose digits are all the same.
    AllDigitsSame,
    /// Keep (`exclude == false`) or drop matches where `processor` matches in the place `direction` names.
    TextMatch { direction: Direction, exclude: bool, processor: DetId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Full,
    StartsWith,
    EndsWith,
    /// The processor matches just before the hit (ending at most [`AFFIX_WINDOW`] characters before it).
    Prefix,
    /// The processor matches just after the hit (starting at most [`AFFIX_WINDOW`] characters after it).
    Suffix,
}

/// How far before or after a hit a `Prefix`/`Suffix` filter looks, in characters.
pub const AFFIX_WINDOW: u64 = 32;

/// FSRM property types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PropertyType {
    YesNo,
    OrderedList,
    SingleChoice,
    MultiChoice,
    String,
    MultiString,
    Integer,
    DateTime,
}

impl PropertyType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "yesno" => PropertyType::YesNo,
            "orderedlist" => PropertyType::OrderedList,
            "singlechoice" => PropertyType::SingleChoice,
            "multichoice" => PropertyType::MultiChoice,
            "string" => PropertyType::String,
            "multistring" => PropertyType::MultiString,
            "integer" | "int" => PropertyType::Integer,
            "datetime" | "date" => PropertyType::DateTime,
            _ => return None,
        })
    }

    /// Whether a rule may set several values of this property at once (`A|B`).
    pub fn is_multi(self) -> bool {
        matches!(self, PropertyType::MultiChoice | PropertyType::MultiString)
    }
}

#[derive(Debug)]
pub struct Property {
    pub name: String,
    pub kind: PropertyType,
    /// Allowed values for list types, highest first for `OrderedList`.
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classifier {
    Content,
    Folder,
    FileName,
}

#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub property: usize,
    /// The value(s) set; several only for multi-valued properties.
    pub values: Vec<String>,
    pub classifier: Classifier,
    pub scope: super::scope::Scope,
    pub conditions: Vec<RuleCondition>,
    /// `true`: every condition must hold (FSRM); `false`: any one.
    pub require_all: bool,
}

#[derive(Debug)]
pub enum RuleCondition {
    /// Occurrences of a detector over the whole file, within `[min, max]`.
    Count { det: DetId, min: u64, max: Option<u64> },
    /// Instances of an entity at `min_confidence` or above, within `[min, max]`.
    Entity { entity: usize, min_confidence: u8, min: u64, max: Option<u64> },
}

/// One line of the protection policy.
#[derive(Debug)]
pub struct ProtectWhen {
    pub property: usize,
    pub test: ValueTest,
    pub template: Option<String>,
}

#[derive(Debug)]
pub enum ValueTest {
    /// The property has this value (or contains it, for multi-valued properties).
    Equals(String),
    /// An `OrderedList` property at this value or a higher one (listed earlier).
    AtLeast(usize),
}

/// Everything loaded, ready to compile.
#[derive(Debug, Default)]
pub struct Model {
    pub detectors: Vec<Detector>,
    pub entities: Vec<Entity>,
    pub properties: Vec<Property>,
    pub rules: Vec<Rule>,
    /// The rule files' `<ProtectionPolicy>`, in load order.
    pub protection_policy: Vec<ProtectWhen>,
    pub default_template: Option<String>,
    pub options: super::builtin::Options,
    /// Built-in functions already turned into detectors, so each runs once however many rules use it.
    pub function_dets: Vec<(&'static str, DetId)>,
}

impl Model {
    /// The detector for built-in function `f`, created on first use.
    pub fn function_detector(&mut self, f: &'static Function) -> DetId {
        if let Some(&(_, id)) = self.function_dets.iter().find(|(n, _)| *n == f.name) {
            return id;
        }
        let id = self.add(Detector {
            label: f.name.to_string(),
            matcher: Matcher::Regex { source: f.pattern.clone(), engine: Engine::Linear },
            checks: vec![Check::Function(f)],
        });
        self.function_dets.push((f.name, id));
        id
    }

    pub fn add(&mut self, det: Detector) -> DetId {
        self.detectors.push(det);
        self.detectors.len() - 1
    }

    pub fn property(&self, name: &str) -> Option<usize> {
        self.properties.iter().position(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// An entity by name or id (case-insensitive).
    pub fn entity(&self, name_or_id: &str) -> Option<usize> {
        self.entities
            .iter()
            .position(|e| e.id.eq_ignore_ascii_case(name_or_id) || e.name.eq_ignore_ascii_case(name_or_id))
    }
}
