//! The rule set's detectors compiled once for scanning: the linear regexes as one single-pass automaton, the
//! keywords as one Aho-Corasick automaton, the backtracking regexes one by one, and the plan of which hits entities
//! need.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex_automata::meta;
use regex_syntax::hir::Hir;

use super::super::builtin;
use super::super::lookaround::Backtracker;
use super::super::model::*;
use super::super::regex_dialect::{self, Engine, PatternError};
use super::single_pass::SinglePass;

/// Bytes scanned in this process before the keyword automaton is rebuilt as a DFA. Overlapping keyword search
/// walks the automaton byte by byte (no prefilter helps with a hundred-odd keywords on prose); the DFA takes
/// one table lookup per byte where the NFA follows failure links, and scans about 3x faster, but costs ~2 ms
/// to build: more than a small file's whole scan. So one FSRM invocation on a small file keeps the NFA, and a
/// large file or a folder run switches once this much text has been seen. Both find exactly the same matches.
const AC_DFA_AFTER: u64 = 1024 * 1024;

/// The rule set's detectors compiled for scanning.
pub struct Compiled {
    pub(super) linear: LinearSet,
    pub(super) keywords: Keywords,
    pub(super) backtracking: Backtracking,
    pub(super) plan: EntityPlan,
}

/// The linear (`regex-automata`) detectors: the single pass that says where each one's matches lie in a window,
/// then a position regex per detector present. The set that only says which occur serves the windows the single
/// pass declines.
pub(super) struct LinearSet {
    pub(super) single_pass: Option<SinglePass>,
    /// Set pattern → its pattern, parsed once for every automaton built from it.
    pub(super) patterns: Vec<Hir>,
    /// A second single pass over the patterns with their Unicode word boundaries relaxed, for the windows the first
    /// one declines because one of them met non-ASCII text; built on the first such window.
    relaxed: OnceLock<Option<RelaxedPass>>,
    /// The set built on first need.
    set: OnceLock<Option<meta::Regex>>,
    /// Set pattern → its detector.
    pub(super) dets: Vec<DetId>,
    /// Per detector: its slot in `positions` (linear regex detectors only).
    position_slot: Vec<Option<usize>>,
    /// Position regexes, one per distinct source (several functions share a pattern).
    positions: Vec<PositionRegex>,
}

/// A single pass over patterns that admit more than the rule set's (their Unicode word boundaries made ASCII or
/// dropped: `regex_dialect::without_unicode_word_boundaries`): where their matches end is where the real ones may,
/// so for a relaxed pattern it gives the position searches' hints, never their matches.
pub(super) struct RelaxedPass {
    pub(super) pass: SinglePass,
    pub(super) patterns: Vec<Hir>,
    /// Per pattern: whether it was relaxed. One that was not is exact here, and its matches need no regex.
    pub(super) relaxed: Vec<bool>,
}

/// A linear source's position regex, compiled on first use from its parsed pattern.
struct PositionRegex {
    source: String,
    /// A set pattern of this source (index into [`LinearSet::patterns`]).
    pattern: usize,
    regex: OnceLock<Result<meta::Regex, PatternError>>,
}

/// Every keyword term of every detector in one automaton, ASCII-case-insensitive by folding: its patterns are
/// ASCII-lower-cased and so is the text it searches ([`Keywords::fold`]). The same matches as aho-corasick's own
/// `ascii_case_insensitive`, built in about half the instructions (that option adds a transition for each letter's
/// other case to every state, and every FSRM invocation builds this automaton).
pub(super) struct Keywords {
    nfa: Option<AhoCorasick>,
    /// The same keywords as a DFA, built once this process has scanned [`AC_DFA_AFTER`] bytes (see there).
    dfa: OnceLock<Option<AhoCorasick>>,
    patterns: Vec<String>,
    scanned: AtomicU64,
    /// Automaton pattern → (detector, term index) it stands for.
    pub(super) targets: Vec<Vec<(DetId, usize)>>,
}

/// The look-around (`fancy-regex`) detectors, each under a time budget. Their linear parts (the core between a
/// pattern's guards, or the pattern without its look-arounds: [`Backtracker::linear_superset`]) are in a single
/// pass of their own, which says where each pattern's matches may start, as the linear detectors' pass does. It is
/// kept apart from that one: a lazy DFA over patterns that overlap in what they match has states for every
/// combination of their progress, and a look-around core beside the linear patterns (HealthCare's passport number
/// beside its e-mail address) made the lazy DFA give up on text dense with letters and digits.
pub(super) struct Backtracking {
    /// Per detector: its regex (backtracking regex detectors only).
    pub(super) regexes: Vec<Option<Backtracker>>,
    pub(super) dets: Vec<DetId>,
    pub(super) single_pass: Option<SinglePass>,
    /// Pass pattern → the linear part it is, parsed.
    pub(super) patterns: Vec<Hir>,
    /// Per detector: its pattern in the pass, if it has a linear part (used only when the pass was built).
    pub(super) in_pass: Vec<Option<usize>>,
}

/// What entity evaluation needs from the hits: which detectors keep positions, which hits open an evaluation, and
/// how long hits must be kept.
pub(super) struct EntityPlan {
    /// Hits of these detectors are kept with positions (entities and filters need them).
    pub(super) positional: Vec<bool>,
    /// Per detector: the (entity, pattern) pairs it is the `IdMatch` of.
    pub(super) id_patterns: Vec<Vec<(usize, usize)>>,
    /// Per detector: how far past a hit's end supporting evidence may lie.
    pub(super) settle_lag: Vec<u64>,
    /// The widest window any entity or filter looks back.
    pub(super) max_reach: u64,
    /// Per entity: every detector it uses.
    pub(super) entity_dets: Vec<Vec<DetId>>,
}

/// Compile `model`'s detectors; `Err` names the detector that cannot be compiled.
pub fn compile(model: &Model) -> Result<Compiled, (DetId, PatternError)> {
    // In this order so the detector named on failure is the one it always was.
    let backtracking = Backtracking::compile(model)?;
    let linear = LinearSet::compile(model)?;
    let keywords = Keywords::compile(model)?;
    Ok(Compiled { linear, keywords, backtracking, plan: EntityPlan::new(model) })
}

impl Compiled {
    /// The position regex of linear detector `det`, compiled on first use.
    pub(super) fn linear_regex(&self, det: DetId) -> Result<&meta::Regex, PatternError> {
        self.linear.position_regex(det)
    }

    pub fn detectors_in_set(&self) -> usize {
        self.linear.dets.len()
    }
}

impl LinearSet {
    fn compile(model: &Model) -> Result<LinearSet, (DetId, PatternError)> {
        let mut patterns: Vec<Hir> = Vec::new();
        let mut dets = Vec::new();
        let mut position_slot = vec![None; model.detectors.len()];
        let mut positions: Vec<PositionRegex> = Vec::new();
        for (id, det) in model.detectors.iter().enumerate() {
            let Matcher::Regex { source, engine: Engine::Linear } = &det.matcher else {
                continue;
            };
            let slot = match positions.iter().position(|p| p.source == *source) {
                Some(slot) => {
                    patterns.push(patterns[positions[slot].pattern].clone());
                    slot
                }
                None => {
                    let parsed = match builtin::trees::tree_of(source) {
                        Some(tree) => tree,
                        None => regex_dialect::parse_linear(source).map_err(|e| (id, e))?,
                    };
                    patterns.push(parsed);
                    let pattern = patterns.len() - 1;
                    positions.push(PositionRegex { source: source.clone(), pattern, regex: OnceLock::new() });
                    positions.len() - 1
                }
            };
            position_slot[id] = Some(slot);
            dets.push(id);
        }
        let single_pass = if patterns.is_empty() {
            None
        } else {
            match regex_dialect::linear_set_nfa(&patterns, false) {
                Ok(nfa) => SinglePass::new(nfa),
                Err(e) => {
                    // Name the culprit: the first pattern that fails alone, else the first one.
                    let culprit = patterns
                        .iter()
                        .zip(&dets)
                        .find(|(p, _)| regex_dialect::linear_set_nfa(std::slice::from_ref(*p), false).is_err());
                    return Err((culprit.map_or(dets[0], |(_, &d)| d), e));
                }
            }
        };
        let relaxed = OnceLock::new();
        Ok(LinearSet { single_pass, patterns, relaxed, set: OnceLock::new(), dets, position_slot, positions })
    }

    /// The single pass for windows with non-ASCII text, when some pattern has a Unicode word boundary (the main
    /// pass declines those windows); `None` when none has, or it cannot be built.
    pub(super) fn relaxed_pass(&self) -> Option<&RelaxedPass> {
        self.relaxed
            .get_or_init(|| {
                let relaxed: Vec<Option<Hir>> =
                    self.patterns.iter().map(regex_dialect::without_unicode_word_boundaries).collect();
                if relaxed.iter().all(Option::is_none) {
                    return None;
                }
                let was_relaxed = relaxed.iter().map(Option::is_some).collect();
                let patterns: Vec<Hir> =
                    relaxed.into_iter().zip(&self.patterns).map(|(r, p)| r.unwrap_or_else(|| p.clone())).collect();
                let pass = SinglePass::new(regex_dialect::linear_set_nfa(&patterns, false).ok()?)?;
                Some(RelaxedPass { pass, patterns, relaxed: was_relaxed })
            })
            .as_ref()
    }

    /// The set that says which patterns occur in a window, built on first need; `None` when there are no linear
    /// detectors or the set cannot be built (every detector is then searched).
    pub(super) fn set(&self) -> Option<&meta::Regex> {
        if self.patterns.is_empty() {
            return None;
        }
        self.set.get_or_init(|| regex_dialect::linear_set(&self.patterns).ok()).as_ref()
    }

    fn position_regex(&self, det: DetId) -> Result<&meta::Regex, PatternError> {
        let Some(p) = self.position_slot[det].map(|slot| &self.positions[slot]) else {
            return Err(PatternError::NotLinear);
        };
        p.regex.get_or_init(|| regex_dialect::positions_of(&self.patterns[p.pattern])).as_ref().map_err(Clone::clone)
    }
}

impl Keywords {
    fn compile(model: &Model) -> Result<Keywords, (DetId, PatternError)> {
        let mut patterns: Vec<String> = Vec::new();
        let mut targets: Vec<Vec<(DetId, usize)>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (id, det) in model.detectors.iter().enumerate() {
            let Matcher::Keywords(terms) = &det.matcher else {
                continue;
            };
            for (ti, term) in terms.iter().enumerate() {
                for variant in case_variants(term) {
                    match index.entry(variant.to_ascii_lowercase()) {
                        Entry::Occupied(pi) => {
                            let pi = *pi.get();
                            // A term's spellings can fold to one pattern: it stands for the term once.
                            if !targets[pi].contains(&(id, ti)) {
                                targets[pi].push((id, ti));
                            }
                        }
                        Entry::Vacant(slot) => {
                            patterns.push(slot.key().clone());
                            slot.insert(patterns.len() - 1);
                            targets.push(vec![(id, ti)]);
                        }
                    }
                }
            }
        }
        let nfa = if patterns.is_empty() {
            None
        } else {
            Some(
                automaton(&patterns, AhoCorasickKind::NoncontiguousNFA)
                    .map_err(|e| (targets[0][0].0, PatternError::Keywords(e.to_string())))?,
            )
        };
        Ok(Keywords { nfa, dfa: OnceLock::new(), patterns, scanned: AtomicU64::new(0), targets })
    }

    /// The automaton for a window of `len` bytes: the DFA once enough text has been scanned.
    pub(super) fn for_window(&self, len: usize) -> Option<&AhoCorasick> {
        let nfa = self.nfa.as_ref()?;
        if self.scanned.fetch_add(len as u64, Ordering::Relaxed) < AC_DFA_AFTER {
            return Some(nfa);
        }
        let dfa = self.dfa.get_or_init(|| automaton(&self.patterns, AhoCorasickKind::DFA).ok());
        // The DFA can only fail to build on its size limit; the NFA serves then.
        Some(dfa.as_ref().unwrap_or(nfa))
    }

    /// `text` as the automaton searches it: ASCII letters lower-cased, every other byte as it is (so offsets are
    /// unchanged).
    pub(super) fn fold(text: &[u8]) -> Vec<u8> {
        text.to_ascii_lowercase()
    }
}

/// An automaton over ASCII-lower-cased `patterns`, for text folded by [`Keywords::fold`].
fn automaton(patterns: &[String], kind: AhoCorasickKind) -> Result<AhoCorasick, aho_corasick::BuildError> {
    AhoCorasick::builder().kind(Some(kind)).build(patterns)
}

/// The spellings of a term the ASCII-case-insensitive automaton needs: as written, and for case-insensitive terms
/// with non-ASCII letters also all-lower and all-upper (so `patiëntnummer` finds `PATIËNTNUMMER`).
fn case_variants(term: &Term) -> Vec<String> {
    let mut v = vec![term.text.clone()];
    if !term.case_sensitive && !term.text.is_ascii() {
        for s in [term.text.to_lowercase(), term.text.to_uppercase()] {
            if !v.contains(&s) {
                v.push(s);
            }
        }
    }
    v
}

impl Backtracking {
    fn compile(model: &Model) -> Result<Backtracking, (DetId, PatternError)> {
        let mut regexes: Vec<Option<Backtracker>> = (0..model.detectors.len()).map(|_| None).collect();
        let mut dets = Vec::new();
        let mut patterns = Vec::new();
        let mut in_pass = vec![None; model.detectors.len()];
        for (id, det) in model.detectors.iter().enumerate() {
            if let Matcher::Regex { source, engine: Engine::Backtracking } = &det.matcher {
                let regex = Backtracker::new(source).map_err(|e| (id, e))?;
                if let Some(parsed) = regex.linear_superset() {
                    in_pass[id] = Some(patterns.len());
                    patterns.push(parsed.clone());
                }
                regexes[id] = Some(regex);
                dets.push(id);
            }
        }
        // Without the pass (none of the patterns has a linear part, or they are too large together), every window
        // is searched pattern by pattern.
        let single_pass = if patterns.is_empty() {
            None
        } else {
            regex_dialect::linear_set_nfa(&patterns, false).ok().and_then(SinglePass::new)
        };
        Ok(Backtracking { regexes, dets, single_pass, patterns, in_pass })
    }
}

impl EntityPlan {
    fn new(model: &Model) -> EntityPlan {
        let n = model.detectors.len();
        let mut plan = EntityPlan {
            positional: vec![false; n],
            id_patterns: vec![Vec::new(); n],
            settle_lag: vec![0u64; n],
            max_reach: 0,
            entity_dets: Vec::new(),
        };
        for (ei, e) in model.entities.iter().enumerate() {
            let mut dets = Vec::new();
            let mut mark = |d: DetId, dets: &mut Vec<DetId>| {
                plan.positional[d] = true;
                if !dets.contains(&d) {
                    dets.push(d);
                }
            };
            let filter_reach = filters_reach(&e.filters, |d| mark(d, &mut dets));
            for (pi, p) in e.patterns.iter().enumerate() {
                mark(p.id_match, &mut dets);
                plan.id_patterns[p.id_match].push((ei, pi));
                let reach = filter_reach.max(filters_reach(&p.filters, |d| mark(d, &mut dets)));
                let mut stack: Vec<&Condition> = p.conditions.iter().collect();
                while let Some(c) = stack.pop() {
                    match c {
                        Condition::Match { det, .. } => mark(*det, &mut dets),
                        Condition::Any { children, .. } => stack.extend(children),
                    }
                }
                let lag = if p.conditions.is_empty() { reach } else { e.proximity.max(reach) };
                plan.settle_lag[p.id_match] = plan.settle_lag[p.id_match].max(lag);
                plan.max_reach = plan.max_reach.max(e.proximity).max(reach);
            }
            plan.entity_dets.push(dets);
        }
        plan
    }
}

/// Call `uses` with each text-match filter's processor; how far the filters look around a hit.
fn filters_reach(filters: &[Filter], mut uses: impl FnMut(DetId)) -> u64 {
    let mut reach = 0;
    for f in filters {
        if let Filter::TextMatch { processor, direction, .. } = f {
            uses(*processor);
            if matches!(direction, Direction::Prefix | Direction::Suffix) {
                reach = AFFIX_WINDOW;
            }
        }
    }
    reach
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Folding the patterns and the text finds exactly what aho-corasick's own ASCII case-insensitivity finds over
    /// the spellings as written: the same spellings at the same places, in text of any case, with either kind of
    /// automaton the scanner uses.
    #[test]
    fn folded_keywords_find_what_ascii_case_insensitive_search_finds() {
        let spellings: Vec<String> = [
            "SSN",
            "SSN#",
            "ssns",
            "social security",
            "card verification",
            "cvv2",
            "Prüfziffer",
            "prüfziffer",
            "PRÜFZIFFER",
            "numéro de sécurité",
            "NUMÉRO DE SÉCURITÉ",
            "straße",
            "STRASSE",
            "sicherheits Kode",
            "IBAN",
            "iban#",
            "ban",
            "a",
            "Kode",
            "patiëntnummer",
            "PATIËNTNUMMER",
        ]
        .map(String::from)
        .to_vec();
        let reference = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::NoncontiguousNFA))
            .build(&spellings)
            .unwrap();
        let mut folded: Vec<String> = spellings.iter().map(|s| s.to_ascii_lowercase()).collect();
        folded.sort();
        folded.dedup();
        let pieces = ["", " ", "-", "#", "x", "É", "é", "ß", "Ë", "7", "\n"];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for kind in [AhoCorasickKind::NoncontiguousNFA, AhoCorasickKind::DFA] {
            let automaton = automaton(&folded, kind).unwrap();
            let mut found = 0;
            for _ in 0..300 {
                let mut text = String::new();
                for _ in 0..40 {
                    text.push_str(pieces[next(pieces.len())]);
                    // A spelling with each ASCII letter in a random case.
                    for c in spellings[next(spellings.len())].chars() {
                        text.push(if next(2) == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() });
                    }
                }
                let expected: BTreeSet<(usize, usize, String)> = reference
                    .find_overlapping_iter(&text)
                    .map(|m| (m.start(), m.end(), spellings[m.pattern().as_usize()].to_ascii_lowercase()))
                    .collect();
                let haystack = Keywords::fold(text.as_bytes());
                let got: BTreeSet<(usize, usize, String)> = automaton
                    .find_overlapping_iter(&haystack)
                    .map(|m| (m.start(), m.end(), folded[m.pattern().as_usize()].clone()))
                    .collect();
                assert_eq!(got, expected, "{text:?}");
                found += got.len();
            }
            assert!(found > 10_000, "the texts hold the keywords ({found})");
        }
    }
}
