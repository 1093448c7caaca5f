//! The single pass over a window: one lazy DFA over every linear pattern, run in overlapping mode, reports where
//! each pattern's matches end; a reverse DFA over the same patterns then gives, for each end, the leftmost start of
//! a match ending there. A detector's position search needs no scan of the text between its matches: no match
//! starts before the smallest start of any end still ahead, so each search begins there (see
//! [`Starts::search_from`]). A pattern of bounded length needs no regex of its own at all: its matches start
//! between its shortest and longest match before an end, and each such position is tried with one leftmost-first
//! automaton over the same NFA, anchored at that pattern ([`SinglePass::with_anchored`]). Validators and
//! proximity then see only the hits, as before.
//!
//! The lazy DFA can decline a window: a Unicode `\b` meeting non-ASCII text, or its cache thrashing. For the first,
//! a second pass over the patterns with those assertions relaxed (`regex_dialect::without_unicode_word_boundaries`:
//! they admit every match and maybe more) gives the hints, and each possible start is decided by the detector's
//! own regex anchored there. Otherwise the scanner asks the multi-pattern set which patterns occur and searches
//! each one present over the whole window, the engine this pass replaced. All of these find exactly the same
//! matches (tests/integration/scan_engines.rs and the `scan_engines` fuzz target compare them).

use std::sync::{Mutex, OnceLock};

use regex_automata::hybrid::dfa::{Cache, DFA, OverlappingState};
use regex_automata::nfa::thompson::NFA;
use regex_automata::{Anchored, Input, MatchKind, PatternID};
use regex_syntax::hir::Hir;

use super::super::regex_dialect;

/// Ends recorded per pattern and window. A pattern that ends more often than this in one window (a `\d+` over a
/// table of numbers) is searched over the whole window instead: the list would cost more memory than the search
/// saves.
const MAX_ENDS: usize = 4096;

/// The forward and reverse automata of the linear patterns, with their caches.
pub(super) struct SinglePass {
    forward: DFA,
    /// Built on the first window with a match: a file without one never pays for it.
    reverse: OnceLock<Option<DFA>>,
    /// Leftmost-first searches anchored at one pattern, over the forward automaton's NFA, built on first use: a
    /// pattern of bounded length is found from its ends without compiling a regex of its own.
    anchored: OnceLock<Option<DFA>>,
    forward_caches: Caches,
    reverse_caches: Caches,
    anchored_caches: Caches,
}

/// A search for matches starting exactly at a position, with a cache of its automaton held for one detector's
/// searches in one window.
pub(super) struct AnchoredSearch<'a> {
    dfa: &'a DFA,
    cache: &'a mut Cache,
}

impl AnchoredSearch<'_> {
    /// Where `pattern`'s leftmost-first match starting at `at` ends, if one starts there (what an unanchored
    /// search of that pattern alone finds when no match starts earlier). `Err` when the lazy DFA declines.
    pub(super) fn end_of_match_at(&mut self, text: &str, pattern: usize, at: usize) -> Result<Option<usize>, ()> {
        let pattern = PatternID::new(pattern).map_err(|_| ())?;
        let input = Input::new(text).range(at..).anchored(Anchored::Pattern(pattern));
        self.dfa.try_search_fwd(self.cache, &input).map(|m| m.map(|m| m.offset())).map_err(|_| ())
    }
}

/// Where one pattern's matches may start in a window.
pub(super) enum Starts {
    /// The pattern's match ends in the window in order, and for each the leftmost start of any match ending there
    /// or later.
    Known { ends: Vec<usize>, min_start_from: Vec<usize> },
    /// Only the ends (a short stretch, where building the reverse automaton would cost more than it saves), with
    /// the pattern's longest match in bytes when it has one: a match ending at the next end ahead or later starts
    /// no earlier than that end minus the longest match, so the search begins there instead of at the current
    /// position (an unbounded pattern searches from the current position while an end lies ahead).
    Ends { ends: Vec<usize>, longest: Option<usize> },
    /// Not tracked (too many ends, or the reverse automaton declined): search the whole window.
    Unknown,
}

impl Starts {
    /// The first position at or after `pos` where a match of a pattern no shorter than `shortest` and no longer
    /// than `longest` bytes may start: one from which an end still ahead lies between `shortest` and `longest`
    /// bytes on, and no earlier than [`Starts::search_from`] says. `None` when none does, or the ends are unknown.
    pub(super) fn candidate_start(&self, pos: usize, shortest: usize, longest: usize) -> Option<usize> {
        let (Starts::Known { ends, .. } | Starts::Ends { ends, .. }) = self else { return None };
        let lower = self.search_from(pos)?;
        // The intervals [end - longest, end - shortest] rise with the ends: the first that reaches `lower` holds
        // the answer.
        let end = *ends.get(ends.partition_point(|&e| e < lower.saturating_add(shortest)))?;
        Some(lower.max(end.saturating_sub(longest)))
    }

    /// Where a search for this pattern's next match at or after `pos` may begin without missing one; `None` when
    /// no match starts at or after `pos`. A non-empty match starting at or after `pos` ends after `pos`, so it is
    /// one of the ends still ahead, and it starts no earlier than the leftmost start of those.
    pub(super) fn search_from(&self, pos: usize) -> Option<usize> {
        match self {
            Starts::Unknown => Some(pos),
            Starts::Ends { ends, longest } => {
                let next_end = *ends.get(ends.partition_point(|&e| e <= pos))?;
                Some(longest.map_or(pos, |longest| next_end.saturating_sub(longest).max(pos)))
            }
            Starts::Known { ends, min_start_from } => {
                let ahead = ends.partition_point(|&e| e <= pos);
                min_start_from.get(ahead).map(|&start| start.max(pos))
            }
        }
    }
}

impl SinglePass {
    /// `None` when the patterns are too large for a lazy DFA: the scanner then uses the set and whole-window
    /// searches for every window.
    pub(super) fn new(nfa: NFA) -> Option<SinglePass> {
        let forward = DFA::builder().configure(config().starts_for_each_pattern(false)).build_from_nfa(nfa).ok()?;
        Some(SinglePass {
            forward,
            reverse: OnceLock::new(),
            anchored: OnceLock::new(),
            forward_caches: Caches::default(),
            reverse_caches: Caches::default(),
            anchored_caches: Caches::default(),
        })
    }

    /// Run `search` with the anchored automaton; `None` when it cannot be built.
    pub(super) fn with_anchored<T>(&self, search: impl FnOnce(AnchoredSearch<'_>) -> T) -> Option<T> {
        let dfa = self
            .anchored
            .get_or_init(|| {
                let config = config().match_kind(MatchKind::LeftmostFirst).starts_for_each_pattern(true);
                DFA::builder().configure(config).build_from_nfa(self.forward.get_nfa().clone()).ok()
            })
            .as_ref()?;
        self.anchored_caches.with(dfa, |cache| Some(search(AnchoredSearch { dfa, cache })))
    }

    /// Per pattern that occurs in `text[from..]`: where its matches start (with `starts`; else only where they
    /// end). `None` when the forward automaton declines this window. `patterns` are the ones the pass was built
    /// from, for its reverse automaton.
    pub(super) fn run(&self, text: &str, from: usize, starts: bool, patterns: &[Hir]) -> Option<Vec<(usize, Starts)>> {
        let ends = self.forward_caches.with(&self.forward, |cache| self.ends(cache, text, from))?;
        let present: Vec<(usize, Option<Vec<usize>>)> =
            ends.into_iter().enumerate().filter(|(_, e)| !matches!(e, Some(e) if e.is_empty())).collect();
        if !starts {
            return Some(
                present
                    .into_iter()
                    .map(|(p, ends)| {
                        let longest = patterns.get(p).and_then(|hir| hir.properties().maximum_len());
                        (p, ends.map_or(Starts::Unknown, |ends| Starts::Ends { ends, longest }))
                    })
                    .collect(),
            );
        }
        if present.is_empty() {
            return Some(Vec::new());
        }
        let reverse = self.reverse.get_or_init(|| {
            let nfa = regex_dialect::linear_set_nfa(patterns, true).ok()?;
            DFA::builder().configure(config().starts_for_each_pattern(true)).build_from_nfa(nfa).ok()
        });
        Some(
            present
                .into_iter()
                .map(|(pattern, ends)| {
                    let starts = match (ends, reverse) {
                        (Some(ends), Some(reverse)) => self
                            .reverse_caches
                            .with(reverse, |cache| leftmost_starts(reverse, cache, text, pattern, ends))
                            .unwrap_or(Starts::Unknown),
                        _ => Starts::Unknown,
                    };
                    (pattern, starts)
                })
                .collect(),
        )
    }

    /// Every pattern's match ends in `text[from..]`, in order (`None` for a pattern with more than [`MAX_ENDS`]).
    fn ends(&self, cache: &mut Cache, text: &str, from: usize) -> Option<Vec<Option<Vec<usize>>>> {
        let mut ends: Vec<Option<Vec<usize>>> = vec![Some(Vec::new()); self.forward.pattern_len()];
        let input = Input::new(text).range(from..);
        let mut state = OverlappingState::start();
        loop {
            self.forward.try_search_overlapping_fwd(cache, &input, &mut state).ok()?;
            let Some(found) = state.get_match() else { break };
            let slot = &mut ends[found.pattern().as_usize()];
            match slot {
                Some(list) if list.len() == MAX_ENDS => *slot = None,
                Some(list) => list.push(found.offset()),
                None => {}
            }
        }
        Some(ends)
    }
}

/// For each end of `pattern`'s matches, the leftmost start of a match ending there, then the smallest of those
/// from each end on. `None` when the reverse automaton declines.
fn leftmost_starts(reverse: &DFA, cache: &mut Cache, text: &str, pattern: usize, ends: Vec<usize>) -> Option<Starts> {
    let anchored = Anchored::Pattern(PatternID::new(pattern).ok()?);
    let mut min_start_from = Vec::with_capacity(ends.len());
    for &end in &ends {
        let input = Input::new(text).range(..end).anchored(anchored);
        // A match ends here, so the reverse search finds its start; were it not to, searching from the current
        // position (start 0) is still correct.
        let start = reverse.try_search_rev(cache, &input).ok()?.map_or(0, |m| m.offset());
        min_start_from.push(start);
    }
    for i in (0..min_start_from.len().saturating_sub(1)).rev() {
        min_start_from[i] = min_start_from[i].min(min_start_from[i + 1]);
    }
    Some(Starts::Known { ends, min_start_from })
}

/// The lazy DFA settings the regex crate's own engines use: reporting every pattern's matches (`All`), Unicode
/// `\b` by quitting on non-ASCII text, and giving up rather than rebuilding states for every byte.
fn config() -> regex_automata::hybrid::dfa::Config {
    DFA::config()
        .match_kind(MatchKind::All)
        .unicode_word_boundary(true)
        .minimum_cache_clear_count(Some(3))
        .minimum_bytes_per_state(Some(10))
}

/// Lazy DFA caches for the threads scanning with one rule set (a folder run scans files on several).
#[derive(Default)]
struct Caches(Mutex<Vec<Cache>>);

impl Caches {
    fn with<T>(&self, dfa: &DFA, f: impl FnOnce(&mut Cache) -> Option<T>) -> Option<T> {
        let taken = self.0.lock().ok().and_then(|mut c| c.pop());
        let mut cache = taken.unwrap_or_else(|| dfa.create_cache());
        let result = f(&mut cache);
        if let Ok(mut caches) = self.0.lock() {
            caches.push(cache);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(sources: &[&str]) -> (SinglePass, Vec<Hir>) {
        let patterns: Vec<Hir> = sources.iter().map(|s| regex_dialect::parse_linear(s).unwrap()).collect();
        (SinglePass::new(regex_dialect::linear_set_nfa(&patterns, false).unwrap()).unwrap(), patterns)
    }

    fn starts(sources: &[&str], text: &str) -> Vec<(usize, Vec<usize>, Vec<usize>)> {
        let (pass, patterns) = pass(sources);
        pass.run(text, 0, true, &patterns)
            .unwrap()
            .into_iter()
            .map(|(p, s)| match s {
                Starts::Known { ends, min_start_from } => (p, ends, min_start_from),
                Starts::Ends { .. } | Starts::Unknown => panic!("pattern {p}: no starts"),
            })
            .collect()
    }

    #[test]
    fn reports_every_end_and_the_leftmost_start_from_each() {
        // Pattern 1 ends at 2 ("b") and at 3 ("abz", which starts earlier): a search from 0 must begin at 0.
        let found = starts(&[r"\d{3}", r"a\w*z|b"], "abz 123 x 4567");
        assert_eq!(found, vec![(0, vec![7, 13, 14], vec![4, 10, 11]), (1, vec![2, 3], vec![0, 0])]);
    }

    #[test]
    fn search_begins_at_the_leftmost_start_ahead() {
        let s = Starts::Known { ends: vec![7, 12, 13], min_start_from: vec![4, 9, 10] };
        assert_eq!(s.search_from(0), Some(4));
        assert_eq!(s.search_from(7), Some(9));
        assert_eq!(s.search_from(11), Some(11));
        assert_eq!(s.search_from(13), None);
        assert_eq!(Starts::Unknown.search_from(5), Some(5));
        let unbounded = Starts::Ends { ends: vec![7, 13], longest: None };
        assert_eq!(unbounded.search_from(5), Some(5));
        assert_eq!(unbounded.search_from(13), None);
        // The longest match is 4 bytes: nothing ending at 13 or later starts before 9, at 7 or later before 3.
        let bounded = Starts::Ends { ends: vec![7, 13], longest: Some(4) };
        assert_eq!(bounded.search_from(0), Some(3));
        assert_eq!(bounded.search_from(5), Some(5));
        assert_eq!(bounded.search_from(7), Some(9));
        assert_eq!(bounded.search_from(10), Some(10));
        assert_eq!(bounded.search_from(13), None);
    }

    #[test]
    fn candidate_starts_lie_between_the_shortest_and_longest_match_before_an_end() {
        // Matches of 2 to 4 bytes; ends at 7 and 13: starts 3-5, then 9-11.
        let ends = Starts::Ends { ends: vec![7, 13], longest: Some(4) };
        assert_eq!(ends.candidate_start(0, 2, 4), Some(3));
        assert_eq!(ends.candidate_start(5, 2, 4), Some(5));
        assert_eq!(ends.candidate_start(6, 2, 4), Some(9));
        assert_eq!(ends.candidate_start(11, 2, 4), Some(11));
        assert_eq!(ends.candidate_start(12, 2, 4), None);
        // Known starts raise the bound: nothing ending at 7 or later starts before 4, at 13 before 10.
        let known = Starts::Known { ends: vec![7, 13], min_start_from: vec![4, 10] };
        assert_eq!(known.candidate_start(0, 2, 4), Some(4));
        assert_eq!(known.candidate_start(6, 2, 4), Some(9));
        assert_eq!(known.candidate_start(8, 2, 4), Some(10));
        assert_eq!(Starts::Unknown.candidate_start(0, 2, 4), None);
    }

    #[test]
    fn the_anchored_search_finds_the_leftmost_first_match_of_one_pattern() {
        let (pass, _) = pass(&[r"\d{3}|\d{3}-\d{2}", r"[a-z]+-\d"]);
        let ends = |at| pass.with_anchored(|mut s| s.end_of_match_at("x 123-45 ab-1", 0, at)).unwrap();
        assert_eq!(ends(2), Ok(Some(5)), "the first alternative, not the longest");
        assert_eq!(ends(3), Ok(None), "a match of the second pattern does not count");
        assert_eq!(pass.with_anchored(|mut s| s.end_of_match_at("x 123-45 ab-1", 1, 9)).unwrap(), Ok(Some(13)));
    }

    #[test]
    fn a_pattern_that_never_matches_is_not_reported() {
        assert_eq!(starts(&["zzz", r"\d"], "a1"), vec![(1, vec![2], vec![1])]);
    }

    #[test]
    fn unicode_word_boundaries_on_non_ascii_text_decline_the_window_but_not_the_relaxed_pass() {
        let (pass, patterns) = pass(&[r"\b\w+\b", r"\b[0-9]{6,17}\b"]);
        assert!(pass.run("plain ascii", 0, true, &patterns).is_some());
        assert!(pass.run("naïve", 0, false, &patterns).is_none());
        let relaxed: Vec<Hir> =
            patterns.iter().map(|p| regex_dialect::without_unicode_word_boundaries(p).unwrap()).collect();
        let relaxed_pass = SinglePass::new(regex_dialect::linear_set_nfa(&relaxed, false).unwrap()).unwrap();
        let text = "naïve é1234567 “12345678”";
        let found = relaxed_pass.run(text, 0, false, &relaxed).unwrap();
        let digits = found.iter().find(|(p, _)| *p == 1).map(|(_, s)| s);
        // The digit runs' ends, each only once (the ASCII `\b` kept), hints for the runs the pattern may match.
        assert!(
            matches!(digits, Some(Starts::Ends { ends, .. }) if *ends == [text.find(" “").unwrap(), text.len() - 3])
        );
    }
}
