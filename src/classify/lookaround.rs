//! Look-around patterns without backtracking where the result provably stays the same.
//!
//! Most look-arounds in real rule packages are guards on the characters around a value: `(?<![0-9])[0-9]{7}(?![0-9])`.
//! Such a pattern is split into its leading and trailing look-arounds (the guards) and the rest (the core); the core
//! runs on the linear engine and each of its matches is accepted only if every guard holds at its start or end,
//! checked by an anchored search of the guard's own (linear) pattern there: constant time for a one-character guard.
//! The result is exactly the backtracker's ([`Plan::Guarded`]):
//! - a match whose start a guard rejects is not skipped whole: the search resumes one character after its start,
//!   where the backtracker would try next;
//! - trailing guards are only split off when every match of the core has the same length in characters, so no
//!   shorter or longer match the backtracker could pick instead exists;
//! - a look-behind guard must have a fixed length in characters (it is checked on the characters just before).
//!
//! Any other look-around pattern (look-around in the middle, a variable-length core before a trailing guard) keeps
//! the backtracker, but only at candidate starts ([`Plan::Candidates`]): the pattern with every look-around removed
//! matches wherever the pattern does (and more), so the linear engine finds the next possible start and the
//! backtracker, anchored there, decides; the text between candidates is never backtracked over. Patterns the linear
//! engine cannot read even then (back-references, atomic groups) run on the backtracker alone ([`Plan::Fancy`]).
//! [`Backtracker::fallback`] says which patterns keep the backtracker and why; `rules check` prints it.
//!
//! The scanner does not run these loops window by window: it finds the matches of every core and superset
//! ([`Backtracker::linear_superset`]) in one pass of its own over the window, and tries each possible start in
//! order with [`Backtracker::match_at`], as the loops here do; [`Backtracker::find_from_pos`] serves the windows
//! that pass declines.

use std::sync::OnceLock;

use regex_automata::{Anchored, Input, meta};
use regex_syntax::hir::{Class, Hir, HirKind};

use super::regex_dialect::{self, PatternError};

/// A pattern with look-around (or back-references), compiled for the fastest exact search its shape allows.
pub struct Backtracker {
    fancy: fancy_regex::Regex,
    plan: Plan,
}

enum Plan {
    /// Linear core, guards checked around each of its matches; the backtracker is never run.
    Guarded { core: Linear, at_start: Vec<Guard>, at_end: Vec<Guard> },
    /// The backtracker anchored at each start the look-around-free superset pattern finds.
    Candidates { superset: Linear, why: String },
    /// The backtracker alone.
    Fancy { why: String },
}

/// A linear pattern, parsed once when the plan is made, and its regex, compiled on first use: the scanner finds
/// its matches in a single pass of its own and needs the regex only for the windows that pass declines.
struct Linear {
    parsed: Hir,
    regex: OnceLock<Option<meta::Regex>>,
}

impl Linear {
    fn new(parsed: Hir) -> Linear {
        Linear { parsed, regex: OnceLock::new() }
    }

    /// `None` if it does not build (only a size limit can stop a parsed pattern).
    fn regex(&self) -> Option<&meta::Regex> {
        self.regex.get_or_init(|| regex_dialect::positions_of(&self.parsed).ok()).as_ref()
    }
}

/// One look-around checked at a position.
struct Guard {
    /// The look-around's content, anchored.
    re: meta::Regex,
    negative: bool,
    /// Look-behind: the content's length in characters (it must end exactly at the position).
    behind: Option<usize>,
}

impl Guard {
    fn holds(&self, text: &str, at: usize) -> bool {
        let found = match self.behind {
            None => self.re.is_match(Input::new(text).range(at..).anchored(Anchored::Yes)),
            Some(chars) => {
                let mut from = at;
                let mut enough = true;
                for _ in 0..chars {
                    match text[..from].chars().next_back() {
                        Some(c) => from -= c.len_utf8(),
                        None => {
                            enough = false;
                            break;
                        }
                    }
                }
                enough && self.re.is_match(Input::new(text).range(from..at).anchored(Anchored::Yes))
            }
        };
        found != self.negative
    }
}

impl Backtracker {
    /// Compile `source` (a pattern the linear engine cannot take as is).
    pub fn new(source: &str) -> Result<Backtracker, PatternError> {
        let fancy = regex_dialect::backtracking(source)?;
        let plan = plan(source);
        Ok(Backtracker { fancy, plan })
    }

    /// The backtracking regex itself (for short values, where the plan does not matter).
    pub fn fancy(&self) -> &fancy_regex::Regex {
        &self.fancy
    }

    /// Why this pattern still needs the backtracker (at candidate starts or everywhere); `None` when it runs on
    /// the linear engine alone.
    pub fn fallback(&self) -> Option<String> {
        match &self.plan {
            Plan::Guarded { .. } => None,
            Plan::Candidates { why, .. } => Some(candidates_note(why)),
            Plan::Fancy { why } => Some(fancy_note(why)),
        }
    }

    /// A linear pattern that matches wherever this one does, starting at the same place: the core between the
    /// guards, or the pattern without its look-arounds. `None` when the pattern needs the backtracker everywhere.
    /// A match of it becomes this pattern's through [`Backtracker::match_at`].
    pub fn linear_superset(&self) -> Option<&Hir> {
        match &self.plan {
            Plan::Guarded { core, .. } => Some(&core.parsed),
            Plan::Candidates { superset, .. } => Some(&superset.parsed),
            Plan::Fancy { .. } => None,
        }
    }

    /// This pattern's match at `start`, given that the linear superset's leftmost-first match there ends at
    /// `end`: the same match when the guards hold around it, or the backtracker's anchored at `start`.
    pub fn match_at(&self, text: &str, start: usize, end: usize) -> Result<Option<(usize, usize)>, fancy_regex::Error> {
        match &self.plan {
            Plan::Guarded { at_start, at_end, .. } => Ok((at_start.iter().all(|g| g.holds(text, start))
                && at_end.iter().all(|g| g.holds(text, end)))
            .then_some((start, end))),
            Plan::Candidates { .. } | Plan::Fancy { .. } => {
                let input = fancy_regex::RegexInput::new(text).from_pos(start).anchored(true);
                Ok(self.fancy.find_input(input)?.map(|found| (found.start(), found.end())))
            }
        }
    }

    /// Whether [`Backtracker::match_at`] may run the backtracker (and so take time worth watching).
    pub fn backtracks(&self) -> bool {
        !matches!(self.plan, Plan::Guarded { .. })
    }

    /// The first match starting at or after byte `pos` of `text` (the text before `pos` is context for
    /// look-behind): exactly what `fancy_regex::Regex::find_from_pos` returns.
    pub fn find_from_pos(&self, text: &str, pos: usize) -> Result<Option<(usize, usize)>, fancy_regex::Error> {
        let superset = match &self.plan {
            Plan::Guarded { core: linear, .. } | Plan::Candidates { superset: linear, .. } => linear.regex(),
            Plan::Fancy { .. } => None,
        };
        let Some(superset) = superset else {
            return Ok(self.fancy.find_from_pos(text, pos)?.map(|m| (m.start(), m.end())));
        };
        // The leftmost start of a superset match from `at` on is the next place a match may start.
        let mut at = pos;
        while at <= text.len() {
            let Some(m) = superset.find(Input::new(text).range(at..)) else { return Ok(None) };
            if let Some(found) = self.match_at(text, m.start(), m.end())? {
                return Ok(Some(found));
            }
            at = next_char(text, m.start());
        }
        Ok(None)
    }
}

fn next_char(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(at + 1, |c| at + c.len_utf8())
}

/// What [`plan`] will build for a pattern, found without compiling anything.
enum Shape {
    Guarded { core: Hir, at_start: Vec<GuardSpec>, at_end: Vec<GuardSpec> },
    Candidates { superset: Hir, why: String },
    Fancy { why: String },
}

struct GuardSpec {
    source: String,
    negative: bool,
    behind: Option<usize>,
}

/// Why `source` (a pattern the linear engine cannot take as is) still needs the backtracker, or `None` when it
/// runs on the linear engine with guards; for `rules check`, without compiling the pattern.
pub fn fallback(source: &str) -> Option<String> {
    match shape(source) {
        Shape::Guarded { .. } => None,
        Shape::Candidates { why, .. } => Some(candidates_note(&why)),
        Shape::Fancy { why } => Some(fancy_note(&why)),
    }
}

fn candidates_note(why: &str) -> String {
    format!("backtracking engine at the starts the linear engine finds, because {why}")
}

fn fancy_note(why: &str) -> String {
    format!("backtracking engine everywhere, because {why}")
}

fn shape(source: &str) -> Shape {
    let items = match scan(source) {
        Ok(items) => items,
        Err(why) => return Shape::Fancy { why },
    };
    let why = match guarded(source, &items) {
        Ok(shape) => return shape,
        Err(why) => why,
    };
    let superset = strip(source, &items);
    match parse(&superset) {
        Ok(superset) => Shape::Candidates { superset, why },
        Err(_) => {
            Shape::Fancy { why: "it needs more than look-around (back-references, atomic groups or the like)".into() }
        }
    }
}

/// The fastest exact plan for `source`.
fn plan(source: &str) -> Plan {
    let compile = |src: &str| regex_dialect::positions(src).map_err(|e| e.to_string());
    match shape(source) {
        Shape::Fancy { why } => Plan::Fancy { why },
        Shape::Candidates { superset, why } => Plan::Candidates { superset: Linear::new(superset), why },
        Shape::Guarded { core, at_start, at_end } => {
            let guards = |specs: Vec<GuardSpec>| -> Result<Vec<Guard>, String> {
                specs
                    .into_iter()
                    .map(|g| Ok(Guard { re: compile(&g.source)?, negative: g.negative, behind: g.behind }))
                    .collect()
            };
            let built = (|| {
                Ok::<_, String>(Plan::Guarded {
                    core: Linear::new(core),
                    at_start: guards(at_start)?,
                    at_end: guards(at_end)?,
                })
            })();
            built.unwrap_or_else(|e| Plan::Fancy { why: format!("a part does not compile: {e}") })
        }
    }
}

/// Split off leading and trailing look-around guards, or say why the pattern does not have that shape.
fn guarded(source: &str, items: &[Item]) -> Result<Shape, String> {
    if items.iter().any(|i| i.kind == Kind::Alternation) {
        return Err("a look-around applies to one alternative only (| at the top level)".into());
    }
    if items.iter().any(|i| i.kind == Kind::Nested) {
        return Err("a look-around is inside a group or repeated".into());
    }
    let first_core =
        items.iter().position(|i| !matches!(i.kind, Kind::Look { .. } | Kind::Flags)).unwrap_or(items.len());
    let last_core =
        items.iter().rposition(|i| !matches!(i.kind, Kind::Look { .. })).map_or(first_core, |p| p + 1).max(first_core);
    if items[first_core..last_core].iter().any(|i| matches!(i.kind, Kind::Look { .. })) {
        return Err("a look-around is in the middle of the pattern".into());
    }
    let mut flags = String::new();
    let mut at_start = Vec::new();
    for item in &items[..first_core] {
        let text = &source[item.span.clone()];
        match item.kind {
            Kind::Flags => flags.push_str(text),
            Kind::Look { .. } => at_start.push(guard(&flags, text, item.kind)?),
            _ => {}
        }
    }
    let core_start = items.get(first_core).map_or(source.len(), |i| i.span.start);
    let core_end = items.get(last_core).map_or(source.len(), |i| i.span.start);
    let core = format!("{flags}{}", &source[core_start..core_end]);
    // Flag groups inside the core also apply to what follows them: the trailing guards.
    let mut end_flags = flags.clone();
    end_flags
        .extend(items[first_core..last_core].iter().filter(|i| i.kind == Kind::Flags).map(|i| &source[i.span.clone()]));
    let mut at_end = Vec::new();
    for item in &items[last_core..] {
        at_end.push(guard(&end_flags, &source[item.span.clone()], item.kind)?);
    }
    let core_hir = parse(&core).map_err(|e| format!("the pattern between its look-arounds is not linear ({e})"))?;
    if !at_end.is_empty() && char_len(&core_hir).is_none() {
        return Err("the part before a trailing look-around can match different lengths".into());
    }
    Ok(Shape::Guarded { core: core_hir, at_start, at_end })
}

fn guard(flags: &str, text: &str, kind: Kind) -> Result<GuardSpec, String> {
    let Kind::Look { behind, negative, open } = kind else { return Err("not a look-around".into()) };
    let source = format!("{flags}(?:{})", &text[open..text.len() - 1]);
    let hir = parse(&source).map_err(|e| format!("a look-around's content is not linear ({e})"))?;
    let behind = if behind {
        Some(char_len(&hir).ok_or_else(|| "a look-behind can match different lengths".to_string())?)
    } else {
        None
    };
    Ok(GuardSpec { source, negative, behind })
}

fn parse(source: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new()
        .multi_line(true)
        .crlf(true)
        .build()
        .parse(source)
        .map_err(|e| e.to_string().lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().trim().to_string())
}

/// Every match's length in characters, when all matches have the same.
fn char_len(hir: &Hir) -> Option<usize> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(0),
        HirKind::Literal(lit) => std::str::from_utf8(&lit.0).ok().map(|s| s.chars().count()),
        HirKind::Class(Class::Unicode(_)) => Some(1),
        HirKind::Class(Class::Bytes(_)) => None,
        HirKind::Repetition(r) => match r.max {
            Some(max) if max == r.min => char_len(&r.sub)?.checked_mul(max as usize),
            _ => None,
        },
        HirKind::Capture(c) => char_len(&c.sub),
        HirKind::Concat(subs) => subs.iter().try_fold(0usize, |n, s| n.checked_add(char_len(s)?)),
        HirKind::Alternation(subs) => {
            let first = char_len(subs.first()?)?;
            subs.iter().all(|s| char_len(s) == Some(first)).then_some(first)
        }
    }
}

/// A top-level piece of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)` at the top level; `open`: bytes of the opening `(?<!`.
    Look { behind: bool, negative: bool, open: usize },
    /// A bare flag group such as `(?i)`.
    Flags,
    /// `|` at the top level.
    Alternation,
    /// A group containing a look-around.
    Nested,
    /// Anything else (an atom with its quantifier, a group without look-around).
    Other,
}

#[derive(Debug)]
struct Item {
    kind: Kind,
    span: std::ops::Range<usize>,
}

/// The top-level pieces of `source`, and every look-around anywhere in it (in `Item::span`s of kind `Look` for
/// top-level ones; nested ones mark their top-level group `Nested`). Err: a construct this scanner does not read
/// (comments, extended mode), so the pattern stays on the backtracker.
fn scan(source: &str) -> Result<Vec<Item>, String> {
    let b = source.as_bytes();
    let mut items = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let kind = match b[i] {
            b'|' => {
                i += 1;
                Kind::Alternation
            }
            b'(' => {
                let (end, _, nested) = group(b, i)?;
                i = end;
                match lookaround_at(b, start) {
                    Some((behind, negative, open)) => Kind::Look { behind, negative, open },
                    None if nested => Kind::Nested,
                    None if is_flag_group(&b[start..end]) => Kind::Flags,
                    None => Kind::Other,
                }
            }
            _ => {
                i = atom_end(b, i)?;
                Kind::Other
            }
        };
        // A quantifier binds to the piece before it: a quantified look-around is not a guard.
        let q = quantifier_end(b, i);
        let kind = if q > i && matches!(kind, Kind::Look { .. }) { Kind::Nested } else { kind };
        i = q;
        items.push(Item { kind, span: start..i });
    }
    Ok(items)
}

/// `(behind, negative, opening length)` when a look-around group opens at `i`.
fn lookaround_at(b: &[u8], i: usize) -> Option<(bool, bool, usize)> {
    let rest = &b[i..];
    if rest.starts_with(b"(?=") {
        Some((false, false, 3))
    } else if rest.starts_with(b"(?!") {
        Some((false, true, 3))
    } else if rest.starts_with(b"(?<=") {
        Some((true, false, 4))
    } else if rest.starts_with(b"(?<!") {
        Some((true, true, 4))
    } else {
        None
    }
}

fn is_flag_group(g: &[u8]) -> bool {
    g.len() > 3
        && g.starts_with(b"(?")
        && g.ends_with(b")")
        && g[2..g.len() - 1].iter().all(|c| b"imsUuRx-".contains(c))
}

/// The group opening at `i`: (end after its `)`, whether it is a look-around, whether one is inside it).
fn group(b: &[u8], i: usize) -> Result<(usize, bool, bool), String> {
    if b[i..].starts_with(b"(?#") {
        return Err("it has a comment group".into());
    }
    if b[i..].starts_with(b"(?") {
        let flags_end =
            b[i + 2..].iter().position(|c| !c.is_ascii_alphabetic() && *c != b'-').map_or(b.len(), |p| i + 2 + p);
        if b[i + 2..flags_end].contains(&b'x') {
            return Err("it uses extended (x) mode".into());
        }
    }
    let look = lookaround_at(b, i).is_some();
    let mut nested = false;
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b')' => return Ok((j + 1, look, nested)),
            b'(' => {
                let (end, inner_look, inner_nested) = group(b, j)?;
                nested |= inner_look || inner_nested;
                j = end;
            }
            _ => j = atom_end(b, j)?,
        }
    }
    Err("unbalanced parentheses".into())
}

/// The end of the atom (escape, class or single character) at `i`, not a group.
fn atom_end(b: &[u8], i: usize) -> Result<usize, String> {
    match b[i] {
        b'\\' => {
            let mut j = i + 1;
            if j >= b.len() {
                return Err("a trailing backslash".into());
            }
            j += utf8_len(b[j]);
            // \p{…}, \x{…}, \u{…}: the braces are part of the escape.
            if j < b.len() && b[j] == b'{' && matches!(b[i + 1], b'p' | b'P' | b'x' | b'u' | b'k') {
                j = b[j..].iter().position(|&c| c == b'}').map_or(b.len(), |p| j + p + 1);
            }
            Ok(j)
        }
        b'[' => class_end(b, i),
        c => Ok(i + utf8_len(c)),
    }
}

fn class_end(b: &[u8], i: usize) -> Result<usize, String> {
    let mut j = i + 1;
    if j < b.len() && b[j] == b'^' {
        j += 1;
    }
    if j < b.len() && b[j] == b']' {
        j += 1;
    }
    while j < b.len() {
        match b[j] {
            b'\\' => j = atom_end(b, j)?,
            b'[' => j = class_end(b, j)?,
            b']' => return Ok(j + 1),
            c => j += utf8_len(c),
        }
    }
    Err("an unclosed character class".into())
}

/// The end of the quantifier (`*`, `+`, `?`, `{n,m}`, with a lazy/possessive suffix) at `i`, or `i`.
fn quantifier_end(b: &[u8], i: usize) -> usize {
    let mut j = i;
    loop {
        match b.get(j) {
            Some(b'*' | b'+' | b'?') => j += 1,
            Some(b'{') => match b[j..].iter().position(|&c| c == b'}') {
                Some(p) if b[j + 1..j + p].iter().all(|c| c.is_ascii_digit() || *c == b',' || *c == b' ') && p > 1 => {
                    j += p + 1
                }
                _ => return j,
            },
            _ => return j,
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// `source` with every look-around replaced by an empty group: a pattern matching wherever `source` does.
fn strip(source: &str, items: &[Item]) -> String {
    let b = source.as_bytes();
    let mut out = String::new();
    for item in items {
        strip_span(source, b, item.span.clone(), &mut out);
    }
    out
}

fn strip_span(source: &str, b: &[u8], span: std::ops::Range<usize>, out: &mut String) {
    let mut i = span.start;
    while i < span.end {
        if b[i] == b'(' {
            let Ok((end, _, _)) = group(b, i) else {
                out.push_str(&source[i..span.end]);
                return;
            };
            if lookaround_at(b, i).is_some() {
                out.push_str("(?:)");
            } else {
                // Copy the group's opening, then its content stripped in turn.
                let open_end = group_open_end(b, i);
                out.push_str(&source[i..open_end]);
                strip_span(source, b, open_end..end - 1, out);
                out.push(')');
            }
            i = end;
        } else {
            let end = atom_end(b, i).unwrap_or(span.end).min(span.end);
            out.push_str(&source[i..end]);
            i = end;
        }
    }
}

/// Where the content of the group opening at `i` begins: after `(`, `(?:`, `(?i:`, `(?<name>` or `(?P<name>`.
fn group_open_end(b: &[u8], i: usize) -> usize {
    if !b[i..].starts_with(b"(?") {
        return i + 1;
    }
    let mut j = i + 2;
    if b[j..].starts_with(b"P<") || b[j..].starts_with(b"<") {
        return b[j..].iter().position(|&c| c == b'>').map_or(j, |p| j + p + 1);
    }
    while j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'-') {
        j += 1;
    }
    if j < b.len() && b[j] == b':' { j + 1 } else { j }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(source: &str) -> &'static str {
        match Backtracker::new(source).unwrap().plan {
            Plan::Guarded { .. } => "guarded",
            Plan::Candidates { .. } => "candidates",
            Plan::Fancy { .. } => "fancy",
        }
    }

    #[test]
    fn picks_the_plan() {
        assert_eq!(kind(r"(?<![a-zA-Z])[A-Z]{2}[A-Z0-9]{6}[0-9](?![0-9])"), "guarded");
        assert_eq!(kind(r"(?<![0-9])[0-9]{7}(?![0-9])"), "guarded");
        assert_eq!(kind(r"(?i)(?<![\w-])\d+"), "guarded");
        assert_eq!(kind(r"(?<![0-9])[0-9]{4} ?(?!sa|sd|ss|SA|SD|SS)[a-zA-Z]{2}(?![a-zA-Z])"), "candidates");
        assert_eq!(kind(r"\d+(?!\d)"), "candidates");
        assert_eq!(kind(r"(?<!\d)a|b"), "candidates");
        assert_eq!(kind(r"(?<!\d+)a"), "candidates");
        assert_eq!(kind(r"(\d)\1"), "fancy");
        assert_eq!(kind(r"(?<!\d)(\d)\1"), "fancy");
    }

    #[test]
    fn strips_every_look_around() {
        let items = scan(r"(?<!\d)a(?:b(?=c)|[(?=])(?<n>x(?!y))\((?!z)").unwrap();
        assert_eq!(
            strip(r"(?<!\d)a(?:b(?=c)|[(?=])(?<n>x(?!y))\((?!z)", &items),
            r"(?:)a(?:b(?:)|[(?=])(?<n>x(?:))\((?:)"
        );
    }
}
