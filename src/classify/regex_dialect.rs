//! The regular-expression dialect of rule files: .NET (FSRM) and Boost (Purview) patterns, run in Rust.
//!
//! Each pattern is compiled with the linear-time `regex` crate when its syntax allows, and only otherwise (look-
//! around, back-references, atomic groups) with the backtracking `fancy-regex`, under a per-search backtrack limit
//! and a per-file time budget, so a pathological pattern costs bounded time and fails alone.
//!
//! Everywhere: `^` and `$` match at line boundaries (multi-line mode; `\r\n` counts as one line end for the
//! linear engine), `.` does not match a newline, and classes such as `\d`, `\w`, `\s` are Unicode-aware as in
//! .NET. Case-insensitive patterns get `(?i)` in front.

use std::time::Duration;

use regex_automata::meta;
use regex_syntax::hir::Hir;

/// Backtracking steps one search may take before it is abandoned.
pub const BACKTRACK_LIMIT: usize = 1_000_000;

/// Wall-clock time all searches of one backtracking pattern may take on one file.
pub const BACKTRACK_TIME_BUDGET: Duration = Duration::from_secs(5);

/// The longest pattern source accepted (a guard against pasted garbage).
const MAX_PATTERN_LEN: usize = 16 * 1024;

/// Compiled size a single pattern may reach.
const SIZE_LIMIT: usize = 8 * 1024 * 1024;

/// Which engine a pattern needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Finite automata: linear in the text, can join the multi-pattern pass.
    Linear,
    /// Backtracking, for look-around and back-references: bounded by [`BACKTRACK_LIMIT`].
    Backtracking,
}

/// A pattern as the engines see it: the source with the case flag applied.
pub fn effective_source(source: &str, case_insensitive: bool) -> String {
    if case_insensitive { format!("(?i){source}") } else { source.to_string() }
}

/// Why a pattern (or a detector's matcher) cannot be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("pattern longer than {MAX_PATTERN_LEN} bytes")]
    TooLong,
    #[error("empty pattern")]
    Empty,
    /// The regex crate's message, on one line.
    #[error("{0}")]
    Syntax(String),
    /// The keyword automaton's build error.
    #[error("{0}")]
    Keywords(String),
    #[error("not a linear regex")]
    NotLinear,
}

/// Decide which engine `source` needs, or say why it is not a valid pattern.
pub fn engine_for(source: &str) -> Result<Engine, PatternError> {
    if source.len() > MAX_PATTERN_LEN {
        return Err(PatternError::TooLong);
    }
    if source.is_empty() {
        return Err(PatternError::Empty);
    }
    let linear_err = match regex_syntax::ParserBuilder::new().multi_line(true).crlf(true).build().parse(source) {
        Ok(_) => return Ok(Engine::Linear),
        Err(e) => e,
    };
    match backtracking(source) {
        Ok(_) => Ok(Engine::Backtracking),
        // The linear parser's message is the more precise one for plain syntax errors.
        Err(_) => Err(one_line(&linear_err.to_string())),
    }
}

/// Why a pattern needs the backtracking engine (at candidate starts or everywhere), for `rules check`; `None` when
/// it runs on the linear engine (look-around guards included, see [`super::lookaround`]).
pub fn fallback(source: &str, engine: Engine) -> Option<String> {
    match engine {
        Engine::Linear => None,
        Engine::Backtracking => super::lookaround::fallback(source),
    }
}

/// Compile a pattern the linear engine accepts.
pub fn linear(source: &str) -> Result<regex::Regex, PatternError> {
    regex::RegexBuilder::new(source)
        .multi_line(true)
        .crlf(true)
        .size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

/// `pattern` with its Unicode word-boundary assertions (`\b`, `\B` and the start/end forms) relaxed so that it
/// admits every match it had and maybe more, or `None` when it has none: an automaton of the result finds where
/// the pattern's matches may lie, which is what the scanner's hints need. A lazy DFA over a Unicode `\b` gives up
/// on the first non-ASCII byte (a curly quote, an accented letter, a euro sign); over the result it does not.
///
/// A `\b` next to a part whose edge is always an ASCII word character (`\b[0-9]{6,17}\b`) becomes the ASCII
/// `\b`: with a word character on one side, the Unicode boundary needs a non-word character on the other, and
/// that character is no ASCII word character either. Any other such assertion is dropped, which only admits more.
pub fn without_unicode_word_boundaries(pattern: &Hir) -> Option<Hir> {
    use regex_syntax::hir::{Capture, HirKind, Look, Repetition};
    fn relax(hir: &Hir) -> Hir {
        if !hir.properties().look_set().contains_word_unicode() {
            return hir.clone();
        }
        match hir.kind() {
            HirKind::Look(_) => Hir::empty(),
            HirKind::Repetition(rep) => Hir::repetition(Repetition { sub: Box::new(relax(&rep.sub)), ..rep.clone() }),
            HirKind::Capture(cap) => Hir::capture(Capture { sub: Box::new(relax(&cap.sub)), ..cap.clone() }),
            HirKind::Concat(subs) => Hir::concat(
                subs.iter()
                    .enumerate()
                    .map(|(i, sub)| match sub.kind() {
                        HirKind::Look(Look::WordUnicode)
                            if subs.get(i + 1).is_some_and(|next| edge_is_ascii_word(next, Edge::First))
                                || i.checked_sub(1).is_some_and(|p| edge_is_ascii_word(&subs[p], Edge::Last)) =>
                        {
                            Hir::look(Look::WordAscii)
                        }
                        _ => relax(sub),
                    })
                    .collect(),
            ),
            HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(relax).collect()),
            HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => hir.clone(),
        }
    }
    pattern.properties().look_set().contains_word_unicode().then(|| relax(pattern))
}

#[derive(Clone, Copy)]
enum Edge {
    First,
    Last,
}

/// Whether every match of `hir` begins (or ends) with an ASCII word character: `[0-9A-Za-z_]`.
fn edge_is_ascii_word(hir: &Hir, edge: Edge) -> bool {
    use regex_syntax::hir::{Class, HirKind};
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let word_range = |lo: u32, hi: u32| (lo..=hi).all(|c| u8::try_from(c).is_ok_and(word));
    match hir.kind() {
        HirKind::Literal(lit) => match edge {
            Edge::First => lit.0.first().is_some_and(|&b| word(b)),
            Edge::Last => lit.0.last().is_some_and(|&b| word(b)),
        },
        HirKind::Class(Class::Unicode(class)) => {
            class.ranges().iter().all(|r| word_range(u32::from(r.start()), u32::from(r.end())))
        }
        HirKind::Class(Class::Bytes(class)) => {
            class.ranges().iter().all(|r| word_range(u32::from(r.start()), u32::from(r.end())))
        }
        HirKind::Repetition(rep) => rep.min >= 1 && edge_is_ascii_word(&rep.sub, edge),
        HirKind::Capture(cap) => edge_is_ascii_word(&cap.sub, edge),
        HirKind::Concat(subs) => {
            let end = match edge {
                Edge::First => subs.first(),
                Edge::Last => subs.last(),
            };
            end.is_some_and(|sub| edge_is_ascii_word(sub, edge))
        }
        HirKind::Alternation(subs) => subs.iter().all(|sub| edge_is_ascii_word(sub, edge)),
        HirKind::Empty | HirKind::Look(_) => false,
    }
}

/// Compile a linear pattern for finding match positions in the scanner: the same dialect as [`linear`], built
/// with only the engines a search for match bounds uses (the lazy DFA, with the PikeVM as its fallback). The full
/// DFA, one-pass and bounded-backtracking engines only serve capture groups or tiny patterns, and building them
/// was half of the compile time every FSRM invocation paid for each pattern present in its file. No literal
/// prefilter either: extracting literals from the detectors' alternations of classes and repetitions (IBAN shapes,
/// month names) cost 14 M instructions per invocation, a fifth of a whole `protect`, to speed up long texts by 8%.
pub fn positions(source: &str) -> Result<meta::Regex, PatternError> {
    positions_of(&parse_linear(source)?)
}

/// [`positions`] of a pattern already parsed.
pub fn positions_of(pattern: &Hir) -> Result<meta::Regex, PatternError> {
    meta::Regex::builder()
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(SIZE_LIMIT))
                .dfa(false)
                .onepass(false)
                .backtrack(false)
                .auto_prefilter(false),
        )
        .build_from_hir(pattern)
        .map_err(|e| one_line(&e.to_string()))
}

/// The linear dialect's syntax: `^` and `$` at line ends, `\r\n` one line end.
fn syntax() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new().multi_line(true).crlf(true)
}

/// Compile a pattern with the backtracking engine.
pub fn backtracking(source: &str) -> Result<fancy_regex::Regex, PatternError> {
    fancy_regex::RegexBuilder::new(source)
        .multi_line(true)
        .crlf(true)
        .backtrack_limit(BACKTRACK_LIMIT)
        .delegate_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

/// One automaton over many linear patterns that reports which of them occur anywhere in a text, for the windows the
/// scanner's single pass declines: only the patterns present are then searched for positions.
pub fn linear_set(patterns: &[Hir]) -> Result<meta::Regex, PatternError> {
    meta::Regex::builder()
        .configure(
            meta::Config::new()
                .match_kind(regex_automata::MatchKind::All)
                .nfa_size_limit(Some(8 * SIZE_LIMIT))
                .auto_prefilter(false),
        )
        .build_many_from_hir(patterns)
        .map_err(|e| one_line(&e.to_string()))
}

/// A linear pattern parsed once, in the dialect of [`linear`], for the automata built from it: the single pass's
/// forward and reverse automata ([`linear_set_nfa`]) and the detector's position regex ([`positions_of`]).
pub fn parse_linear(source: &str) -> Result<Hir, PatternError> {
    regex_automata::util::syntax::parse_with(source, &syntax()).map_err(|e| one_line(&e.to_string()))
}

/// The automaton of many linear patterns for the scanner's single pass ([`super::engine`]): the same size limit as
/// [`linear_set`], without capture groups (a DFA is built from it), forwards or `reversed` (to find where a match
/// that ends at a known position starts).
pub fn linear_set_nfa(patterns: &[Hir], reversed: bool) -> Result<regex_automata::nfa::thompson::NFA, PatternError> {
    use regex_automata::nfa::thompson;
    thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(8 * SIZE_LIMIT))
                .which_captures(thompson::WhichCaptures::None)
                .reverse(reversed),
        )
        .build_many_from_hir(patterns)
        .map_err(|e| one_line(&e.to_string()))
}

/// Error texts from the regex crates span several lines with a caret diagram; diagnostics are one line.
fn one_line(message: &str) -> PatternError {
    let lines: Vec<&str> = message.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    PatternError::Syntax(match lines.iter().rev().find(|l| l.starts_with("error:")) {
        Some(last) => last.trim_start_matches("error:").trim().to_string(),
        None => lines.join(" "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_word_boundaries_are_relaxed_to_ascii_ones_beside_ascii_word_characters_else_dropped() {
        let relaxed = |source: &str| without_unicode_word_boundaries(&parse_linear(source).unwrap());
        let parsed = |source: &str| Some(parse_linear(source).unwrap());
        assert_eq!(relaxed(r"\b[0-9]{6,17}\b"), parsed(r"(?-u:\b)[0-9]{6,17}(?-u:\b)"));
        assert_eq!(relaxed(r"x\b(?:ab|c_)+"), parsed(r"x(?-u:\b)(?:ab|c_)+"));
        // A word character that may be non-ASCII, or a side that may be empty: the assertion goes.
        assert_eq!(relaxed(r"\b\w+\b"), parsed(r"\w+"));
        assert_eq!(relaxed(r"\b[0-9]*-"), parsed(r"[0-9]*-"));
        assert_eq!(relaxed(r"\B[0-9]{3}"), parsed(r"[0-9]{3}"));
        assert_eq!(relaxed(r"(?:\b|-)[0-9]{3}"), parsed(r"(?:|-)[0-9]{3}"));
        assert_eq!(relaxed(r"(?-u:\b)[0-9]{3}"), None, "no Unicode boundary");
    }

    #[test]
    fn a_relaxed_pattern_matches_wherever_the_pattern_does() {
        use regex_automata::{Anchored, Input};
        let sources = [r"\b[0-9]{6,17}\b", r"\b\w{2,4}\b", r"\B[0-9]{2}", r"a\b.\b", r"(?:\b|x)[a-z]{2}\b", r"\b"];
        let texts = ["é1234567 ü12345678ü “123456789” 1234567", "ab cd éf_g 中x 12a é٣٣ xab ax.b", "x12 é12 a é"];
        for source in sources {
            let original = regex::Regex::new(source).unwrap();
            let relaxed = without_unicode_word_boundaries(&parse_linear(source).unwrap()).unwrap();
            let relaxed = positions_of(&relaxed).unwrap();
            for text in texts {
                for m in original.find_iter(text) {
                    let input = Input::new(text).range(m.start()..m.end()).anchored(Anchored::Yes);
                    assert!(relaxed.is_match(input), "{source} on {text:?} at {:?}", m.range());
                }
            }
        }
    }

    #[test]
    fn picks_the_engine() {
        assert_eq!(engine_for(r"\d{3}-\d{2}-\d{4}"), Ok(Engine::Linear));
        assert_eq!(engine_for(r"^(?!000)\d{3}$"), Ok(Engine::Backtracking));
        assert_eq!(engine_for(r"(?<![0-9])[0-9]{7}"), Ok(Engine::Backtracking));
        assert_eq!(engine_for(r"(\d)\1"), Ok(Engine::Backtracking));
        assert!(engine_for(r"(unclosed").is_err());
        assert!(engine_for("").is_err());
    }

    #[test]
    fn anchors_match_at_line_boundaries() {
        let re = linear(r"^\d{3}$").unwrap();
        assert_eq!(re.find_iter("123\r\n456\nabc\n789").count(), 3);
        let re = backtracking(r"^(?!000)\d{3}$").unwrap();
        let text = "123\n000\n456";
        let mut n = 0;
        let mut pos = 0;
        while let Some(m) = re.find_from_pos(text, pos).unwrap() {
            n += 1;
            pos = m.end();
        }
        assert_eq!(n, 2);
    }

    #[test]
    fn positions_find_what_linear_finds() {
        let text = "SSN 123-45-6789\r\n078 05 1120 x\nabc 4111 1111 1111 1111 éé 987-65-4321";
        for source in [r"(?-u:\b)[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}(?-u:\b)", r"^\w+", r"\d+$", r"(?i)ssn"] {
            let a: Vec<_> = linear(source).unwrap().find_iter(text).map(|m| m.range()).collect();
            let b: Vec<_> = positions(source).unwrap().find_iter(text).map(|m| m.range()).collect();
            assert_eq!(a, b, "{source}");
        }
    }

    #[test]
    fn set_reports_which_patterns_occur() {
        let patterns: Vec<Hir> = [r"\d{4}", r"(?i)secret", "zzz"].iter().map(|p| parse_linear(p).unwrap()).collect();
        let set = linear_set(&patterns).unwrap();
        let mut found = regex_automata::PatternSet::new(set.pattern_len());
        set.which_overlapping_matches(&regex_automata::Input::new("a SECRET 1234"), &mut found);
        assert!(found.contains(0.into()) && found.contains(1.into()) && !found.contains(2.into()));
    }
}
