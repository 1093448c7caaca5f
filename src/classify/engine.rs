//! The scanning engine: the rule set compiled once, then one streaming pass per file.
//!
//! Text arrives as `&str` chunks of any size, split anywhere. The scanner buffers it into windows; each window gets
//! one multi-pattern pass (a `regex-automata` automaton over every linear pattern, reporting which occur) and one
//! Aho-Corasick pass over every keyword; only the patterns present are then searched for positions, and
//! backtracking patterns individually. The last [`OVERLAP`] bytes of a window are scanned again with the next one,
//! so a match that crosses a chunk boundary is found exactly once; only a single match longer than that could be
//! cut. Memory stays bounded: the buffer holds one window, and hits are dropped once no entity window can reach
//! them. Feeding the text in any chunking gives the same result as feeding it at once.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aho_corasick::AhoCorasick;
use regex_automata::{Input, PatternSet, meta};

use super::aggregate::{self, Setting};
use super::builtin::{checksums, dates};
use super::model::*;
use super::regex_dialect::{self, Engine};
use super::{Classification, Decision, MatchKind, MatchSummary, Problem};

/// Bytes buffered before a window is scanned.
pub const WINDOW: usize = 256 * 1024;
/// Bytes at the end of a window scanned again with the next: the longest match guaranteed across a boundary.
pub const OVERLAP: usize = 8 * 1024;
/// Bytes kept before the scan start so look-behind, `\b` and `^` see the preceding text.
const CONTEXT: usize = 1024;
/// Bytes scanned in this process before the keyword automaton is rebuilt as a DFA. Overlapping keyword search
/// walks the automaton byte by byte (no prefilter helps with a hundred-odd keywords on prose); the DFA takes
/// one table lookup per byte where the NFA follows failure links, and scans about 3x faster, but costs ~2 ms
/// to build: more than a small file's whole scan. So one FSRM invocation on a small file keeps the NFA, and a
/// large file or a folder run switches once this much text has been seen. Both find exactly the same matches.
const AC_DFA_AFTER: u64 = 1024 * 1024;
/// Stretches of text at least this long are scanned on two threads: the keyword pass beside the multi-pattern pass,
/// then the position searches of the detectors present split between both. Shorter ones (every file FSRM hands
/// over one at a time is mostly one short window) stay on one thread, where starting threads would cost more
/// than it saves.
pub const PARALLEL_FROM: usize = 128 * 1024;
/// Sample values kept per match name with `--show-values`.
const MAX_SAMPLES: usize = 5;

/// The rule set's detectors compiled for scanning.
pub struct Compiled {
    set: Option<meta::Regex>,
    set_dets: Vec<DetId>,
    /// Per detector: its slot in `positions` (linear regex detectors only).
    position_slot: Vec<Option<usize>>,
    /// Position regexes, one per distinct source (several functions share a pattern), compiled on first use.
    positions: Vec<(String, OnceLock<Result<meta::Regex, String>>)>,
    fancy: Vec<Option<fancy_regex::Regex>>,
    fancy_dets: Vec<DetId>,
    ac: Option<AhoCorasick>,
    /// The same keywords as a DFA, built once this process has scanned [`AC_DFA_AFTER`] bytes (see there).
    ac_dfa: OnceLock<Option<AhoCorasick>>,
    ac_patterns: Vec<String>,
    scanned: AtomicU64,
    /// Aho-Corasick pattern → (detector, term index) it stands for.
    ac_targets: Vec<Vec<(DetId, usize)>>,
    /// Hits of these detectors are kept with positions (entities and filters need them).
    positional: Vec<bool>,
    /// Per detector: the (entity, pattern) pairs it is the `IdMatch` of.
    id_patterns: Vec<Vec<(usize, usize)>>,
    /// Per detector: how far past a hit's end supporting evidence may lie.
    settle_lag: Vec<u64>,
    /// The widest window any entity or filter looks back.
    max_reach: u64,
    /// Per entity: every detector it uses.
    entity_dets: Vec<Vec<DetId>>,
}

/// Compile `model`'s detectors; `Err` names the detector that cannot be compiled.
pub fn compile(model: &Model) -> Result<Compiled, (DetId, String)> {
    let n = model.detectors.len();
    let mut set_sources = Vec::new();
    let mut set_dets = Vec::new();
    let mut fancy: Vec<Option<fancy_regex::Regex>> = (0..n).map(|_| None).collect();
    let mut fancy_dets = Vec::new();
    let mut ac_patterns: Vec<String> = Vec::new();
    let mut ac_targets: Vec<Vec<(DetId, usize)>> = Vec::new();
    for (id, det) in model.detectors.iter().enumerate() {
        match &det.matcher {
            Matcher::Regex { source, engine: Engine::Linear } => {
                set_sources.push(source.clone());
                set_dets.push(id);
            }
            Matcher::Regex { source, engine: Engine::Backtracking } => {
                fancy[id] = Some(regex_dialect::backtracking(source).map_err(|e| (id, e))?);
                fancy_dets.push(id);
            }
            Matcher::Keywords(terms) => {
                for (ti, term) in terms.iter().enumerate() {
                    for variant in case_variants(term) {
                        match ac_patterns.iter().position(|p| *p == variant) {
                            Some(pi) => ac_targets[pi].push((id, ti)),
                            None => {
                                ac_patterns.push(variant);
                                ac_targets.push(vec![(id, ti)]);
                            }
                        }
                    }
                }
            }
        }
    }
    let set = if set_sources.is_empty() {
        None
    } else {
        match regex_dialect::linear_set(&set_sources) {
            Ok(set) => Some(set),
            Err(e) => {
                // Name the culprit: the first pattern that fails alone, else the first one.
                let culprit = set_sources.iter().zip(&set_dets).find(|(src, _)| regex_dialect::linear(src).is_err());
                return Err((culprit.map_or(set_dets[0], |(_, &d)| d), e));
            }
        }
    };
    let ac = if ac_patterns.is_empty() {
        None
    } else {
        Some(
            keyword_automaton(&ac_patterns, Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
                .map_err(|e| (ac_targets[0][0].0, e.to_string()))?,
        )
    };
    let mut position_slot = vec![None; n];
    let mut positions: Vec<(String, OnceLock<Result<meta::Regex, String>>)> = Vec::new();
    for (id, det) in model.detectors.iter().enumerate() {
        if let Matcher::Regex { source, engine: Engine::Linear } = &det.matcher {
            position_slot[id] = Some(match positions.iter().position(|(s, _)| s == source) {
                Some(slot) => slot,
                None => {
                    positions.push((source.clone(), OnceLock::new()));
                    positions.len() - 1
                }
            });
        }
    }
    let mut positional = vec![false; n];
    let mut id_patterns = vec![Vec::new(); n];
    let mut settle_lag = vec![0u64; n];
    let mut max_reach = 0u64;
    let mut entity_dets = Vec::new();
    for (ei, e) in model.entities.iter().enumerate() {
        let mut dets = Vec::new();
        let mut mark = |d: DetId, dets: &mut Vec<DetId>| {
            positional[d] = true;
            if !dets.contains(&d) {
                dets.push(d);
            }
        };
        let mut filter_reach = 0;
        for f in &e.filters {
            if let Filter::TextMatch { processor, direction, .. } = f {
                mark(*processor, &mut dets);
                if matches!(direction, Direction::Prefix | Direction::Suffix) {
                    filter_reach = AFFIX_WINDOW;
                }
            }
        }
        for (pi, p) in e.patterns.iter().enumerate() {
            mark(p.id_match, &mut dets);
            id_patterns[p.id_match].push((ei, pi));
            let mut reach = filter_reach;
            for f in &p.filters {
                if let Filter::TextMatch { processor, direction, .. } = f {
                    mark(*processor, &mut dets);
                    if matches!(direction, Direction::Prefix | Direction::Suffix) {
                        reach = AFFIX_WINDOW;
                    }
                }
            }
            let mut stack: Vec<&Condition> = p.conditions.iter().collect();
            while let Some(c) = stack.pop() {
                match c {
                    Condition::Match { det, .. } => mark(*det, &mut dets),
                    Condition::Any { children, .. } => stack.extend(children),
                }
            }
            let lag = if p.conditions.is_empty() { reach } else { e.proximity.max(reach) };
            settle_lag[p.id_match] = settle_lag[p.id_match].max(lag);
            max_reach = max_reach.max(e.proximity).max(reach);
        }
        entity_dets.push(dets);
    }
    Ok(Compiled {
        set,
        set_dets,
        position_slot,
        positions,
        fancy,
        fancy_dets,
        ac,
        ac_dfa: OnceLock::new(),
        ac_patterns,
        scanned: AtomicU64::new(0),
        ac_targets,
        positional,
        id_patterns,
        settle_lag,
        max_reach,
        entity_dets,
    })
}

fn keyword_automaton(
    patterns: &[String],
    kind: Option<aho_corasick::AhoCorasickKind>,
) -> Result<AhoCorasick, aho_corasick::BuildError> {
    AhoCorasick::builder().ascii_case_insensitive(true).kind(kind).build(patterns)
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

impl Compiled {
    fn linear_regex(&self, det: DetId) -> Result<&meta::Regex, String> {
        let Some((source, cell)) = self.position_slot[det].map(|slot| &self.positions[slot]) else {
            return Err("not a linear regex".into());
        };
        cell.get_or_init(|| regex_dialect::positions(source)).as_ref().map_err(Clone::clone)
    }

    /// The keyword automaton for a window of `len` bytes: the DFA once enough text has been scanned.
    fn keywords(&self, len: usize) -> Option<&AhoCorasick> {
        let nfa = self.ac.as_ref()?;
        if self.scanned.fetch_add(len as u64, Ordering::Relaxed) < AC_DFA_AFTER {
            return Some(nfa);
        }
        let dfa = self
            .ac_dfa
            .get_or_init(|| keyword_automaton(&self.ac_patterns, Some(aho_corasick::AhoCorasickKind::DFA)).ok());
        // The DFA can only fail to build on its size limit; the NFA serves then.
        Some(dfa.as_ref().unwrap_or(nfa))
    }

    pub fn detectors_in_set(&self) -> usize {
        self.set_dets.len()
    }
}

/// One occurrence of a detector, in characters from the start of the text.
#[derive(Debug, Clone)]
struct Hit {
    start: u64,
    end: u64,
    /// The matched text, kept only while an entity may still need it.
    value: Box<str>,
}

/// An entity instance not yet final: best confidence so far, and the value when values are shown.
type OpenInstance = (u8, Option<Box<str>>);

/// A hit found in the current window, in bytes of the buffer.
struct RawHit {
    det: DetId,
    start: usize,
    end: usize,
}

/// One regex detector's position search in a window: where it resumes (absolute byte).
#[derive(Clone, Copy)]
struct PositionJob {
    det: DetId,
    resume: u64,
}

/// What one position search found, and the detector state it leaves.
struct PositionRun {
    det: DetId,
    hits: Vec<RawHit>,
    resume: Option<u64>,
    failed: Option<String>,
}

/// Find the matches of one linear regex detector that start in `text[from..limit]` (`buf_byte`: the absolute
/// offset of `text[0]`).
fn search_positions(
    compiled: &Compiled,
    job: PositionJob,
    text: &str,
    from: usize,
    limit: usize,
    buf_byte: u64,
) -> PositionRun {
    let mut run = PositionRun { det: job.det, hits: Vec::new(), resume: None, failed: None };
    let re = match compiled.linear_regex(job.det) {
        Ok(re) => re,
        Err(e) => {
            run.failed = Some(e);
            return run;
        }
    };
    let mut pos = from.max(job.resume.saturating_sub(buf_byte) as usize);
    while pos <= text.len() {
        let Some(m) = re.find(Input::new(text).range(pos..)) else {
            break;
        };
        if m.start() >= limit {
            break;
        }
        if m.is_empty() {
            pos = next_char(text, m.end());
            continue;
        }
        run.hits.push(RawHit { det: job.det, start: m.start(), end: m.end() });
        pos = m.end();
        run.resume = Some(buf_byte + pos as u64);
    }
    run
}

/// The keyword pass over `text[from..limit]`.
fn keyword_hits(compiled: &Compiled, model: &Model, text: &str, from: usize, limit: usize) -> Vec<RawHit> {
    let mut raw = Vec::new();
    let Some(ac) = compiled.keywords(limit - from) else { return raw };
    let input = aho_corasick::Input::new(text).range(from..);
    for m in ac.find_overlapping_iter(input) {
        if m.start() >= limit {
            continue;
        }
        for &(det, ti) in &compiled.ac_targets[m.pattern().as_usize()] {
            let Matcher::Keywords(terms) = &model.detectors[det].matcher else {
                continue;
            };
            let term = &terms[ti];
            let found = &text[m.start()..m.end()];
            if term.case_sensitive && found != term.text {
                continue;
            }
            if term.whole_word && !(word_boundary_before(text, m.start()) && word_boundary_after(text, m.end())) {
                continue;
            }
            raw.push(RawHit { det, start: m.start(), end: m.end() });
        }
    }
    raw
}

/// A scoped thread's result; a panic in it is the scanner's own panic.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Sizes of the streaming window (changed only by tests, to force many boundaries).
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub size: usize,
    pub overlap: usize,
    pub context: usize,
    /// Stretches of at least this many bytes are scanned on two threads (see [`PARALLEL_FROM`]).
    pub parallel_from: usize,
}

impl Default for Window {
    fn default() -> Self {
        Window { size: WINDOW, overlap: OVERLAP, context: CONTEXT, parallel_from: PARALLEL_FROM }
    }
}

/// Classifies one file: feed it the text, then [`Scanner::finish`].
pub struct Scanner<'r> {
    model: &'r Model,
    compiled: &'r Compiled,
    path: std::path::PathBuf,
    window: Window,
    show_values: bool,
    buf: String,
    /// Absolute byte and character offsets of `buf[0]`.
    buf_byte: u64,
    buf_char: u64,
    /// Byte in `buf` where the next scan starts.
    scan_from: usize,
    /// Per regex detector: absolute byte where its previous match ended (matches do not overlap).
    resume: Vec<u64>,
    counts: Vec<u64>,
    hits: Vec<VecDeque<Hit>>,
    settled: Vec<usize>,
    /// Per entity: instances by confidence, final.
    instances: Vec<BTreeMap<u8, u64>>,
    /// Per entity: instances still open, by span (several `IdMatch` detectors may find the same span; it counts
    /// once, at its best confidence). Moved to `instances` once no evaluation can reach the span again.
    open_instances: Vec<BTreeMap<(u64, u64), OpenInstance>>,
    failed: Vec<Option<String>>,
    fancy_time: Vec<Duration>,
    samples: Vec<Vec<String>>,
    entity_samples: Vec<Vec<String>>,
    text_chars: u64,
}

impl<'r> Scanner<'r> {
    pub(crate) fn new(model: &'r Model, compiled: &'r Compiled, path: &Path) -> Self {
        let n = model.detectors.len();
        Scanner {
            model,
            compiled,
            path: path.to_path_buf(),
            window: Window::default(),
            show_values: false,
            buf: String::new(),
            buf_byte: 0,
            buf_char: 0,
            scan_from: 0,
            resume: vec![0; n],
            counts: vec![0; n],
            hits: vec![VecDeque::new(); n],
            settled: vec![0; n],
            instances: vec![BTreeMap::new(); model.entities.len()],
            open_instances: vec![BTreeMap::new(); model.entities.len()],
            failed: vec![None; n],
            fancy_time: vec![Duration::ZERO; n],
            samples: vec![Vec::new(); n],
            entity_samples: vec![Vec::new(); model.entities.len()],
            text_chars: 0,
        }
    }

    /// Keep up to five matched values per match name for [`MatchSummary::values`]. Off by default: matched values
    /// are the sensitive data itself.
    pub fn with_values(mut self, show: bool) -> Self {
        self.show_values = show;
        self
    }

    /// Use other window sizes (tests use tiny ones to put boundaries everywhere).
    #[doc(hidden)]
    pub fn with_window(mut self, window: Window) -> Self {
        self.window = Window { size: window.size.max(2 * window.overlap + 4), ..window };
        self
    }

    /// Add the next piece of text. Pieces may be any size and split anywhere (between characters).
    pub fn feed(&mut self, mut text: &str) {
        while !text.is_empty() {
            let room = self.window.size.saturating_sub(self.buf.len()).max(1);
            let mut take = room.min(text.len());
            while !text.is_char_boundary(take) {
                take += 1;
            }
            self.buf.push_str(&text[..take]);
            text = &text[take..];
            if self.buf.len() >= self.window.size {
                self.scan(false);
            }
        }
    }

    /// Scan what is left, settle every entity, apply the rules and the policy.
    pub fn finish(mut self) -> Classification {
        self.scan(true);
        self.settle(u64::MAX);
        self.classify()
    }

    fn scan(&mut self, last: bool) {
        let mut limit = if last { self.buf.len() } else { self.buf.len().saturating_sub(self.window.overlap) };
        while !self.buf.is_char_boundary(limit) {
            limit -= 1;
        }
        let from = self.scan_from;
        if limit > from {
            // The passes read the buffer while the scanner's per-detector state is updated from their results.
            let buf = std::mem::take(&mut self.buf);
            let raw = self.scan_window(&buf, from, limit);
            self.buf = buf;
            self.record(raw);
        }
        let limit_char = self.buf_char + count_chars(&self.buf[..limit]);
        if last {
            self.text_chars = limit_char;
            return;
        }
        self.settle(limit_char);
        // Keep some text before `limit` as context for the next window.
        let mut drop = limit.saturating_sub(self.window.context);
        while !self.buf.is_char_boundary(drop) {
            drop -= 1;
        }
        self.buf_char += count_chars(&self.buf[..drop]);
        self.buf_byte += drop as u64;
        self.buf.drain(..drop);
        self.scan_from = limit - drop;
    }

    /// Every pass over `text[from..limit]`: the multi-pattern pass and the position searches of the regex
    /// detectors it found, the keyword pass, the backtracking patterns. Long stretches use two threads.
    fn scan_window(&mut self, text: &str, from: usize, limit: usize) -> Vec<RawHit> {
        let (compiled, model, buf_byte) = (self.compiled, self.model, self.buf_byte);
        let search = move |job: &PositionJob| search_positions(compiled, *job, text, from, limit, buf_byte);
        let mut raw = Vec::new();
        let runs: Vec<PositionRun> = if limit - from >= self.window.parallel_from {
            std::thread::scope(|scope| {
                let keywords = scope.spawn(|| keyword_hits(compiled, model, text, from, limit));
                let jobs = self.position_jobs(text, from);
                // Alternate detectors between the threads: the present ones are of similar cost on real text.
                let theirs: Vec<PositionJob> = jobs.iter().skip(1).step_by(2).copied().collect();
                let other = scope.spawn(move || theirs.iter().map(search).collect::<Vec<_>>());
                let mut runs: Vec<PositionRun> = jobs.iter().step_by(2).map(search).collect();
                raw.extend(join(keywords));
                runs.extend(join(other));
                runs
            })
        } else {
            raw.extend(keyword_hits(compiled, model, text, from, limit));
            self.position_jobs(text, from).iter().map(search).collect()
        };
        for run in runs {
            raw.extend(run.hits);
            if let Some(resume) = run.resume {
                self.resume[run.det] = resume;
            }
            if run.failed.is_some() {
                self.failed[run.det] = run.failed;
            }
        }
        self.scan_backtracking(text, from, limit, &mut raw);
        raw
    }

    /// The multi-pattern pass: which linear regex detectors occur in the window, each with where its search
    /// resumes (matches of one detector do not overlap across windows).
    fn position_jobs(&self, text: &str, from: usize) -> Vec<PositionJob> {
        let Some(set) = &self.compiled.set else { return Vec::new() };
        let mut present = PatternSet::new(set.pattern_len());
        set.which_overlapping_matches(&Input::new(text).range(from..), &mut present);
        present
            .iter()
            .map(|pid| self.compiled.set_dets[pid.as_usize()])
            .filter(|&det| self.failed[det].is_none())
            .map(|det| PositionJob { det, resume: self.resume[det] })
            .collect()
    }

    fn scan_backtracking(&mut self, text: &str, from: usize, limit: usize, raw: &mut Vec<RawHit>) {
        let compiled = self.compiled;
        for &det in &compiled.fancy_dets {
            if self.failed[det].is_some() {
                continue;
            }
            let Some(re) = &compiled.fancy[det] else {
                continue;
            };
            let started = Instant::now();
            let mut pos = from.max(self.resume[det].saturating_sub(self.buf_byte) as usize);
            while pos <= text.len() {
                match re.find_from_pos(text, pos) {
                    Ok(None) => break,
                    Ok(Some(m)) => {
                        if m.start() >= limit {
                            break;
                        }
                        if m.start() == m.end() {
                            pos = next_char(text, m.end());
                            continue;
                        }
                        raw.push(RawHit { det, start: m.start(), end: m.end() });
                        pos = m.end();
                        self.resume[det] = self.buf_byte + pos as u64;
                    }
                    Err(e) => {
                        let at = self.buf_char + count_chars(&text[..pos]);
                        self.failed[det] =
                            Some(format!("{e} (searching from character {at}); matches after that point not counted"));
                        break;
                    }
                }
                if self.fancy_time[det] + started.elapsed() > regex_dialect::BACKTRACK_TIME_BUDGET {
                    self.failed[det] = Some(format!(
                        "took longer than {} s on this file; matches after that point not counted",
                        regex_dialect::BACKTRACK_TIME_BUDGET.as_secs()
                    ));
                    break;
                }
            }
            self.fancy_time[det] += started.elapsed();
        }
    }

    /// Validate, count and keep the hits of one window.
    fn record(&mut self, mut raw: Vec<RawHit>) {
        let text = self.buf.as_str();
        let model = self.model;
        raw.retain(|h| {
            let value = &text[h.start..h.end];
            model.detectors[h.det].checks.iter().all(|c| check(c, value, &model.options))
        });
        raw.sort_by_key(|h| (h.start, h.det, h.end));
        raw.dedup_by_key(|h| (h.start, h.det, h.end));
        let (mut at_byte, mut at_char) = (0usize, self.buf_char);
        for h in raw {
            at_char += count_chars(&text[at_byte..h.start]);
            at_byte = h.start;
            let value = &text[h.start..h.end];
            self.counts[h.det] += 1;
            if self.show_values && self.samples[h.det].len() < MAX_SAMPLES {
                self.samples[h.det].push(value.to_string());
            }
            if self.compiled.positional[h.det] {
                let end = at_char + count_chars(value);
                self.hits[h.det].push_back(Hit { start: at_char, end, value: value.into() });
            }
        }
    }

    /// Evaluate every `IdMatch` hit whose surroundings are all known (up to `final_char`), then drop hits no
    /// future evaluation can reach.
    fn settle(&mut self, final_char: u64) {
        let compiled = self.compiled;
        let mut lowest_pending = final_char;
        for det in 0..self.hits.len() {
            if compiled.id_patterns[det].is_empty() {
                continue;
            }
            while self.settled[det] < self.hits[det].len() {
                let h = &self.hits[det][self.settled[det]];
                if h.end.saturating_add(compiled.settle_lag[det]) > final_char {
                    break;
                }
                self.evaluate(det, self.settled[det]);
                self.settled[det] += 1;
            }
            if let Some(h) = self.hits[det].get(self.settled[det]) {
                lowest_pending = lowest_pending.min(h.start);
            }
        }
        for ei in 0..self.open_instances.len() {
            let keep = self.open_instances[ei].split_off(&(lowest_pending, 0));
            let done = std::mem::replace(&mut self.open_instances[ei], keep);
            for ((_, _), (confidence, value)) in done {
                *self.instances[ei].entry(confidence).or_default() += 1;
                if let Some(v) = value.filter(|_| self.entity_samples[ei].len() < MAX_SAMPLES) {
                    self.entity_samples[ei].push(v.into());
                }
            }
        }
        let floor = lowest_pending.saturating_sub(compiled.max_reach + AFFIX_WINDOW);
        for det in 0..self.hits.len() {
            while self.hits[det].front().is_some_and(|h| h.end < floor)
                && (compiled.id_patterns[det].is_empty() || self.settled[det] > 0)
            {
                self.hits[det].pop_front();
                if !compiled.id_patterns[det].is_empty() {
                    self.settled[det] -= 1;
                }
            }
        }
    }

    /// Give one `IdMatch` hit the confidence of the highest pattern it satisfies, per entity.
    fn evaluate(&mut self, det: DetId, index: usize) {
        let model = self.model;
        let h = self.hits[det][index].clone();
        let mut best: Vec<(usize, u8)> = Vec::new();
        for &(ei, pi) in &self.compiled.id_patterns[det] {
            let entity = &model.entities[ei];
            let pattern = &entity.patterns[pi];
            if best.iter().any(|&(e, c)| e == ei && c >= pattern.confidence) {
                continue;
            }
            let passes = entity.filters.iter().chain(&pattern.filters).all(|f| self.filter_keeps(f, &h))
                && pattern.conditions.iter().all(|c| self.holds(c, &h, det, entity.proximity));
            if passes {
                match best.iter_mut().find(|(e, _)| *e == ei) {
                    Some(b) => b.1 = b.1.max(pattern.confidence),
                    None => best.push((ei, pattern.confidence)),
                }
            }
        }
        for (ei, confidence) in best {
            let value = self.show_values.then(|| h.value.clone());
            let slot = self.open_instances[ei].entry((h.start, h.end)).or_insert((confidence, value));
            slot.0 = slot.0.max(confidence);
        }
    }

    fn holds(&self, cond: &Condition, h: &Hit, id_det: DetId, proximity: u64) -> bool {
        match cond {
            Condition::Match { det, min_count, unique } => {
                let q = &self.hits[*det];
                let lo = h.start.saturating_sub(proximity);
                let hi = h.end.saturating_add(proximity);
                let a = q.partition_point(|x| x.start < lo);
                let b = q.partition_point(|x| x.start < hi);
                let near = q.range(a..b).filter(|x| !(*det == id_det && x.start == h.start && x.end == h.end));
                let n = if *unique { near.map(|x| &*x.value).collect::<HashSet<_>>().len() } else { near.count() };
                n >= *min_count as usize
            }
            Condition::Any { min, max, children } => {
                let n = children.iter().filter(|c| self.holds(c, h, id_det, proximity)).count() as u64;
                n >= u64::from(*min) && n <= u64::from(*max)
            }
        }
    }

    fn filter_keeps(&self, f: &Filter, h: &Hit) -> bool {
        match f {
            Filter::AllDigitsSame => !checksums::all_digits_same(&checksums::digits(&h.value)),
            Filter::TextMatch { direction, exclude, processor } => {
                let matched = match direction {
                    Direction::Prefix => {
                        self.hits[*processor].iter().any(|x| x.end <= h.start && x.end + AFFIX_WINDOW >= h.start)
                    }
                    Direction::Suffix => {
                        self.hits[*processor].iter().any(|x| x.start >= h.end && x.start <= h.end + AFFIX_WINDOW)
                    }
                    _ => self.value_matches(*processor, *direction, &h.value),
                };
                matched != *exclude
            }
        }
    }

    /// Whether `processor` matches the whole value, its start or its end.
    fn value_matches(&self, processor: DetId, direction: Direction, value: &str) -> bool {
        let fits = |s: usize, e: usize| match direction {
            Direction::Full => s == 0 && e == value.len(),
            Direction::StartsWith => s == 0,
            _ => e == value.len(),
        };
        match &self.model.detectors[processor].matcher {
            Matcher::Keywords(terms) => terms.iter().any(|t| {
                let eq = |a: &str| {
                    if t.case_sensitive { a == t.text } else { a.to_lowercase() == t.text.to_lowercase() }
                };
                let n = t.text.len();
                match direction {
                    Direction::Full => eq(value),
                    Direction::StartsWith => value.get(..n).is_some_and(eq),
                    _ => value.len() >= n && value.get(value.len() - n..).is_some_and(eq),
                }
            }),
            Matcher::Regex { engine: Engine::Linear, .. } => match self.compiled.linear_regex(processor) {
                Ok(re) => re.find_iter(value).any(|m| fits(m.start(), m.end())),
                Err(_) => false,
            },
            Matcher::Regex { engine: Engine::Backtracking, .. } => self.compiled.fancy[processor]
                .as_ref()
                .is_some_and(|re| re.find_iter(value).any(|m| m.is_ok_and(|m| fits(m.start(), m.end())))),
        }
    }

    fn classify(self) -> Classification {
        let model = self.model;
        let mut problems = Vec::new();
        for (det, failure) in self.failed.iter().enumerate() {
            if let Some(msg) = failure {
                problems.push(Problem { source: model.detectors[det].label.clone(), message: msg.clone() });
            }
        }
        let entity_failed = |ei: usize| self.compiled.entity_dets[ei].iter().any(|&d| self.failed[d].is_some());
        let mut matches = Vec::new();
        for (ei, e) in model.entities.iter().enumerate() {
            if let Some((&confidence, &count)) = self.instances[ei].last_key_value() {
                matches.push(MatchSummary {
                    name: e.name.clone(),
                    kind: MatchKind::Entity,
                    count,
                    confidence: Some(confidence),
                    values: self.entity_samples[ei].clone(),
                });
            }
        }
        let mut settings: Vec<Vec<(usize, &str)>> = vec![Vec::new(); model.properties.len()];
        let mut complete = true;
        for (ri, rule) in model.rules.iter().enumerate() {
            if !rule.scope.contains(&self.path) {
                continue;
            }
            let (applies, count, values) = match rule.classifier {
                Classifier::Folder | Classifier::FileName => (true, 1, Vec::new()),
                Classifier::Content => {
                    let broken = rule.conditions.iter().any(|c| match c {
                        RuleCondition::Count { det, .. } => self.failed[*det].is_some(),
                        RuleCondition::Entity { entity, .. } => entity_failed(*entity),
                    });
                    if broken {
                        complete = false;
                        problems.push(Problem {
                            source: format!("rule \"{}\"", rule.name),
                            message: "not applied: an expression it needs could not be evaluated".into(),
                        });
                        continue;
                    }
                    let mut total = 0;
                    let mut values = Vec::new();
                    let results: Vec<bool> = rule
                        .conditions
                        .iter()
                        .map(|c| {
                            let (n, min, max) = match c {
                                RuleCondition::Count { det, min, max } => {
                                    values.extend(self.samples[*det].iter().cloned());
                                    (self.counts[*det], *min, *max)
                                }
                                RuleCondition::Entity { entity, min_confidence, min, max } => {
                                    values.extend(self.entity_samples[*entity].iter().cloned());
                                    let n = self.instances[*entity].range(*min_confidence..).map(|(_, n)| n).sum();
                                    (n, *min, *max)
                                }
                            };
                            let ok = n >= min && max.is_none_or(|m| n <= m);
                            if ok {
                                total += n;
                            }
                            ok
                        })
                        .collect();
                    let applies =
                        if rule.require_all { results.iter().all(|&r| r) } else { results.iter().any(|&r| r) };
                    values.truncate(MAX_SAMPLES);
                    (applies, total, values)
                }
            };
            if applies {
                settings[rule.property].push((ri, rule.name.as_str()));
                matches.push(MatchSummary {
                    name: rule.name.clone(),
                    kind: MatchKind::Rule,
                    count,
                    confidence: None,
                    values,
                });
            }
        }
        let mut properties = Vec::new();
        let mut values_by_prop: Vec<Option<Vec<String>>> = vec![None; model.properties.len()];
        for (pi, prop) in model.properties.iter().enumerate() {
            if settings[pi].is_empty() {
                continue;
            }
            let s: Vec<Setting<'_>> = settings[pi]
                .iter()
                .map(|&(ri, name)| Setting { rule: name, values: &model.rules[ri].values })
                .collect();
            match aggregate::combine(prop, &s) {
                Ok(v) => {
                    properties.push((prop.name.clone(), v.join("|")));
                    values_by_prop[pi] = Some(v);
                }
                Err(conflict) => {
                    problems.push(Problem { source: format!("property \"{}\"", prop.name), message: conflict })
                }
            }
        }
        let decision = super::policy::decide(model, &values_by_prop);
        Classification { properties, matches, problems, decision, complete, text_chars: self.text_chars }
    }
}

fn check(c: &Check, value: &str, options: &super::builtin::Options) -> bool {
    match c {
        Check::Function(f) => (f.validate)(value, options),
        Check::DateSimple(p) => dates::date_simple(value, p),
        Check::Checksum(cs) => cs.accepts(value),
    }
}

/// Characters in `s` (UTF-8 bytes that start a character).
fn count_chars(s: &str) -> u64 {
    s.bytes().filter(|b| (b & 0xC0) != 0x80).count() as u64
}

fn next_char(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(at + 1, |c| at + c.len_utf8())
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn word_boundary_before(text: &str, at: usize) -> bool {
    let first = text[at..].chars().next();
    let prev = text[..at].chars().next_back();
    !(prev.is_some_and(is_word) && first.is_some_and(is_word))
}

fn word_boundary_after(text: &str, at: usize) -> bool {
    let last = text[..at].chars().next_back();
    let next = text[at..].chars().next();
    !(next.is_some_and(is_word) && last.is_some_and(is_word))
}

impl Classification {
    /// The decision, as the policy gives it for the properties found.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }
}
