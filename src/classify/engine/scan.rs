//! One streaming pass per file: the text buffered into windows, each window's passes (the single pass and the
//! position searches it calls for, keywords, backtracking patterns), and the validated hits kept.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use regex_automata::{Anchored, Input, PatternSet};
use regex_syntax::hir::Hir;

use super::super::builtin::dates;
use super::super::model::*;
use super::super::regex_dialect;
use super::super::{Classification, builtin};
use super::compile::Keywords;
use super::single_pass::{SinglePass, Starts};
use super::{Compiled, MAX_SAMPLES, Passes, Window, count_chars, next_char};

/// One occurrence of a detector, in characters from the start of the text.
#[derive(Debug, Clone)]
pub(super) struct Hit {
    pub(super) start: u64,
    pub(super) end: u64,
    /// The matched text, kept only while an entity may still need it.
    pub(super) value: Box<str>,
}

/// An entity instance not yet final: best confidence so far, and the value when values are shown.
pub(super) type OpenInstance = (u8, Option<Box<str>>);

/// A hit found in the current window, in bytes of the buffer.
pub(super) struct RawHit {
    pub(super) det: DetId,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// One regex detector's position search in a window: where it resumes (absolute byte), and where the single pass
/// says its matches may start.
struct PositionJob {
    det: DetId,
    /// Its pattern in the single pass.
    pattern: usize,
    resume: u64,
    starts: Starts,
    /// Whether the pass that gave `starts` was the rule set's own; else the relaxed one, whose anchored automaton
    /// finds only candidates for a pattern it relaxed (the position regex decides them).
    exact_pass: bool,
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
    job: &PositionJob,
    text: &str,
    from: usize,
    limit: usize,
    buf_byte: u64,
) -> PositionRun {
    let mut run = PositionRun { det: job.det, hits: Vec::new(), resume: None, failed: None };
    let mut pos = from.max(job.resume.saturating_sub(buf_byte) as usize);
    let linear = &compiled.linear;
    // The pass that gave the hints: the rule set's own, or the relaxed one for a window with non-ASCII text (see
    // `LinearSet::relaxed_pass`), and whether its matches of this pattern are more than the pattern's.
    let pass = if job.exact_pass {
        linear.single_pass.as_ref().map(|pass| (pass, &linear.patterns, false))
    } else {
        linear.relaxed_pass().map(|r| (&r.pass, &r.patterns, r.relaxed.get(job.pattern) == Some(&true)))
    };
    if let Some((pass, patterns, relaxed)) = pass
        && let Some(parsed) = patterns.get(job.pattern)
    {
        let found = PassPattern { pass, pattern: job.pattern, parsed, starts: &job.starts };
        let declined_at = if relaxed {
            // Each possible start is decided by the position regex anchored there (an unanchored search from a
            // hint that is no match would run on, over non-ASCII text, in the regex's slowest engine).
            let re = match compiled.linear_regex(job.det) {
                Ok(re) => re,
                Err(e) => {
                    run.failed = Some(e.to_string());
                    return run;
                }
            };
            let exact = |at, _| match re.search(&Input::new(text).range(at..).anchored(Anchored::Yes)) {
                Some(m) => Step::Hit(m.start(), m.end()),
                None => Step::Reject,
            };
            anchored_positions(&found, text, pos, limit, buf_byte, &mut run, exact)
        } else {
            let hit = |start, end| Step::Hit(start, end);
            anchored_positions(&found, text, pos, limit, buf_byte, &mut run, hit)
        };
        match declined_at {
            Some(declined_at) => pos = declined_at,
            None => return run,
        }
    }
    let re = match compiled.linear_regex(job.det) {
        Ok(re) => re,
        Err(e) => {
            run.failed = Some(e.to_string());
            return run;
        }
    };
    while pos <= text.len() {
        // No match starts between `pos` and where the single pass says the next one may (a char boundary, since
        // matches start on one; stepping back to one never skips a match).
        let Some(mut at) = job.starts.search_from(pos) else { break };
        while at > pos && !text.is_char_boundary(at) {
            at -= 1;
        }
        let Some(m) = re.find(Input::new(text).range(at..)) else {
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

/// What a candidate match found by an anchored search becomes.
enum Step {
    /// A match of the detector (the candidate itself, or the backtracker's match at its start).
    Hit(usize, usize),
    /// Not a match: try the next position.
    Reject,
    /// The detector's search stops for this file (the backtracker failed or ran out of time).
    Stop(String),
}

/// One pass's automata and parsed patterns, and where one pattern's matches may start in the window.
struct PassPattern<'a> {
    pass: &'a SinglePass,
    pattern: usize,
    parsed: &'a Hir,
    starts: &'a Starts,
}

/// A position search without a regex of the detector's own, for a pattern of bounded length whose match ends the
/// single pass reported: each position a match may start at (between its shortest and longest match before an end)
/// is tried in order with the single pass's anchored automaton, and the first that matches (and that `decide`
/// accepts: a look-around pattern's guards or backtracker) is the match an unanchored search from `pos` finds.
/// `None` when done; else the position to go on from with a search of its own (no ends known, an unbounded or
/// possibly empty pattern, or the lazy DFA declining).
fn anchored_positions(
    found: &PassPattern<'_>,
    text: &str,
    mut pos: usize,
    limit: usize,
    buf_byte: u64,
    run: &mut PositionRun,
    mut decide: impl FnMut(usize, usize) -> Step,
) -> Option<usize> {
    let properties = found.parsed.properties();
    let (Some(shortest), Some(longest)) = (properties.minimum_len(), properties.maximum_len()) else {
        return Some(pos);
    };
    if shortest == 0 || matches!(found.starts, Starts::Unknown) {
        return Some(pos);
    }
    found
        .pass
        .with_anchored(|mut search| {
            while let Some(at) = found.starts.candidate_start(pos, shortest, longest) {
                if at >= limit {
                    return None;
                }
                // A match is valid UTF-8 and not empty, so it starts on a character boundary.
                if !text.is_char_boundary(at) {
                    pos = at + 1;
                    continue;
                }
                let end = match search.end_of_match_at(text, found.pattern, at) {
                    Ok(Some(end)) => end,
                    Ok(None) => {
                        pos = at + 1;
                        continue;
                    }
                    Err(()) => return Some(pos),
                };
                match decide(at, end) {
                    Step::Hit(start, end) if start == end => pos = next_char(text, end),
                    Step::Hit(start, end) => {
                        run.hits.push(RawHit { det: run.det, start, end });
                        pos = end;
                        run.resume = Some(buf_byte + pos as u64);
                    }
                    Step::Reject => pos = at + 1,
                    Step::Stop(why) => {
                        run.failed = Some(why);
                        return None;
                    }
                }
            }
            None
        })
        .unwrap_or(Some(pos))
}

/// The keyword pass over `text[from..limit]`.
fn keyword_hits(compiled: &Compiled, model: &Model, text: &str, from: usize, limit: usize) -> Vec<RawHit> {
    let mut raw = Vec::new();
    let Some(ac) = compiled.keywords.for_window(limit - from) else { return raw };
    let folded = Keywords::fold(text.as_bytes().get(from..).unwrap_or_default());
    for m in ac.find_overlapping_iter(&folded) {
        let m = aho_corasick::Match::new(m.pattern(), from + m.start()..from + m.end());
        if m.start() >= limit {
            continue;
        }
        for &(det, ti) in &compiled.keywords.targets[m.pattern().as_usize()] {
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

/// One look-around detector's search in a window: where it resumes (absolute byte) and the time it has spent on
/// this file so far.
struct BacktrackJob {
    det: DetId,
    resume: u64,
    spent: Duration,
}

/// The matches of the look-around (backtracking) detectors that start in `text[from..limit]`, each under the time
/// budget (`buf_byte`, `buf_char`: the absolute byte and character offsets of `text[0]`). Runs beside the other
/// passes on a long stretch, so it reads only shared state and returns what the detector state becomes. With
/// `pass` (`Some(long)`: whether the stretch is long enough for the starts), one single pass over the patterns'
/// linear parts says where each one's matches may start, as for the linear detectors.
fn backtracking_runs(
    compiled: &Compiled,
    jobs: &[BacktrackJob],
    text: &str,
    from: usize,
    limit: usize,
    (buf_byte, buf_char): (u64, u64),
    pass: Option<bool>,
) -> Vec<(PositionRun, Duration)> {
    let lookaround = &compiled.backtracking;
    let present = match (&lookaround.single_pass, pass) {
        (Some(single_pass), Some(long)) => single_pass.run(text, from, long, &lookaround.patterns),
        _ => None,
    };
    let unknown = Starts::Unknown;
    let mut runs = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut run = PositionRun { det: job.det, hits: Vec::new(), resume: None, failed: None };
        let Some(re) = &lookaround.regexes[job.det] else {
            continue;
        };
        let started = Instant::now();
        let over_budget = || job.spent + started.elapsed() > regex_dialect::BACKTRACK_TIME_BUDGET;
        let budget_spent = || {
            format!(
                "took longer than {} s on this file; matches after that point not counted",
                regex_dialect::BACKTRACK_TIME_BUDGET.as_secs()
            )
        };
        let failure = |e: fancy_regex::Error, at: usize| {
            let at = buf_char + count_chars(&text[..at]);
            format!("{e} (searching from character {at}); matches after that point not counted")
        };
        let mut pos = from.max(job.resume.saturating_sub(buf_byte) as usize);
        let in_pass = lookaround.in_pass[job.det].zip(lookaround.single_pass.as_ref()).zip(present.as_ref());
        let mut starts = &unknown;
        if let Some(((pattern, single_pass), present)) = in_pass {
            // Its linear part does not occur in the window: neither does the pattern.
            let Some((_, found)) = present.iter().find(|(p, _)| *p == pattern) else {
                runs.push((run, started.elapsed()));
                continue;
            };
            starts = found;
            let found = PassPattern { pass: single_pass, pattern, parsed: &lookaround.patterns[pattern], starts };
            let decide = |start, end| {
                if re.backtracks() && over_budget() {
                    return Step::Stop(budget_spent());
                }
                match re.match_at(text, start, end) {
                    Ok(Some((start, end))) => Step::Hit(start, end),
                    Ok(None) => Step::Reject,
                    Err(e) => Step::Stop(failure(e, start)),
                }
            };
            match anchored_positions(&found, text, pos, limit, buf_byte, &mut run, decide) {
                Some(declined_at) => pos = declined_at,
                None => {
                    runs.push((run, started.elapsed()));
                    continue;
                }
            }
        }
        while pos <= text.len() {
            // As for the linear detectors: no match starts before where the pass says the next one may.
            let Some(mut at) = starts.search_from(pos) else { break };
            while at > pos && !text.is_char_boundary(at) {
                at -= 1;
            }
            match re.find_from_pos(text, at) {
                Ok(None) => break,
                Ok(Some((start, end))) => {
                    if start >= limit {
                        break;
                    }
                    if start == end {
                        pos = next_char(text, end);
                        continue;
                    }
                    run.hits.push(RawHit { det: job.det, start, end });
                    pos = end;
                    run.resume = Some(buf_byte + pos as u64);
                }
                Err(e) => {
                    run.failed = Some(failure(e, pos));
                    break;
                }
            }
            if over_budget() {
                run.failed = Some(budget_spent());
                break;
            }
        }
        runs.push((run, started.elapsed()));
    }
    runs
}

/// A scoped thread's result; a panic in it is the scanner's own panic.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Classifies one file: feed it the text, then [`Scanner::finish`].
pub struct Scanner<'r> {
    pub(super) model: &'r Model,
    pub(super) compiled: &'r Compiled,
    pub(super) path: std::path::PathBuf,
    pub(super) window: Window,
    pub(super) passes: Passes,
    pub(super) show_values: bool,
    pub(super) buf: String,
    /// Absolute byte and character offsets of `buf[0]`.
    pub(super) buf_byte: u64,
    pub(super) buf_char: u64,
    /// Byte in `buf` where the next scan starts.
    pub(super) scan_from: usize,
    /// Per regex detector: absolute byte where its previous match ended (matches do not overlap).
    pub(super) resume: Vec<u64>,
    pub(super) counts: Vec<u64>,
    pub(super) hits: Vec<VecDeque<Hit>>,
    pub(super) settled: Vec<usize>,
    /// Per entity: instances by confidence, final.
    pub(super) instances: Vec<BTreeMap<u8, u64>>,
    /// Per entity: instances still open, by span (several `IdMatch` detectors may find the same span; it counts
    /// once, at its best confidence). Moved to `instances` once no evaluation can reach the span again.
    pub(super) open_instances: Vec<BTreeMap<(u64, u64), OpenInstance>>,
    pub(super) failed: Vec<Option<String>>,
    pub(super) fancy_time: Vec<Duration>,
    pub(super) samples: Vec<Vec<String>>,
    pub(super) entity_samples: Vec<Vec<String>>,
    pub(super) text_chars: u64,
}

impl<'r> Scanner<'r> {
    pub(crate) fn new(model: &'r Model, compiled: &'r Compiled, path: &Path) -> Self {
        let n = model.detectors.len();
        Scanner {
            model,
            compiled,
            path: path.to_path_buf(),
            window: Window::default(),
            passes: Passes::default(),
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

    /// Find the linear detectors' matches with another engine (tests compare them).
    #[doc(hidden)]
    pub fn with_passes(mut self, passes: Passes) -> Self {
        self.passes = passes;
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

    /// Every pass over `text[from..limit]`: the single pass and the position searches of the regex detectors it
    /// found, the keyword pass, the look-around (backtracking) patterns. Long stretches use two threads, and a third
    /// for the look-around patterns when there are any (each of those is a whole pass of its own).
    fn scan_window(&mut self, text: &str, from: usize, limit: usize) -> Vec<RawHit> {
        let (compiled, model, buf_byte) = (self.compiled, self.model, self.buf_byte);
        let offsets = (buf_byte, self.buf_char);
        let search = move |job: &PositionJob| search_positions(compiled, job, text, from, limit, buf_byte);
        let backtrack_jobs = self.backtrack_jobs();
        let long = limit - from >= self.window.parallel_from;
        let pass = (self.passes == Passes::Single).then_some(long);
        let backtrack = |jobs: &[BacktrackJob]| backtracking_runs(compiled, jobs, text, from, limit, offsets, pass);
        let mut raw = Vec::new();
        let (mut runs, backtracked): (Vec<PositionRun>, _) = if long {
            std::thread::scope(|scope| {
                let backtracking = (!backtrack_jobs.is_empty()).then(|| scope.spawn(|| backtrack(&backtrack_jobs)));
                let keywords = scope.spawn(|| keyword_hits(compiled, model, text, from, limit));
                let jobs = self.position_jobs(text, from, true);
                // Alternate detectors between the threads: the present ones are of similar cost on real text.
                let (mine, theirs): (Vec<_>, Vec<_>) = jobs.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
                let other = scope.spawn(move || theirs.iter().map(|(_, job)| search(job)).collect::<Vec<_>>());
                let mut runs: Vec<PositionRun> = mine.iter().map(|(_, job)| search(job)).collect();
                raw.extend(join(keywords));
                runs.extend(join(other));
                (runs, backtracking.map(join).unwrap_or_default())
            })
        } else {
            raw.extend(keyword_hits(compiled, model, text, from, limit));
            let runs = self.position_jobs(text, from, false).iter().map(search).collect();
            (runs, backtrack(&backtrack_jobs))
        };
        for (run, spent) in backtracked {
            self.fancy_time[run.det] += spent;
            runs.push(run);
        }
        for run in runs {
            raw.extend(run.hits);
            if let Some(resume) = run.resume {
                self.resume[run.det] = resume;
            }
            if run.failed.is_some() {
                self.failed[run.det] = run.failed;
            }
        }
        raw
    }

    /// The look-around detectors still searched, with where each resumes and the time it has spent.
    fn backtrack_jobs(&self) -> Vec<BacktrackJob> {
        self.compiled
            .backtracking
            .dets
            .iter()
            .filter(|&&det| self.failed[det].is_none())
            .map(|&det| BacktrackJob { det, resume: self.resume[det], spent: self.fancy_time[det] })
            .collect()
    }

    /// The multi-pattern pass: which linear regex detectors occur in the window, each with where its search
    /// resumes (matches of one detector do not overlap across windows) and where its matches may start. When the
    /// single pass declines the window (or a test asks for the engine it replaced), the set says which occur and
    /// each is searched over the whole window.
    fn position_jobs(&self, text: &str, from: usize, long: bool) -> Vec<PositionJob> {
        let linear = &self.compiled.linear;
        // A window with non-ASCII text, which the pass declines when a pattern has a Unicode `\b`, takes its hints
        // from the relaxed pass.
        let mut exact_pass = true;
        let single = match (&linear.single_pass, self.passes) {
            (Some(pass), Passes::Single) => pass.run(text, from, long, &linear.patterns).or_else(|| {
                let relaxed = linear.relaxed_pass()?;
                exact_pass = false;
                relaxed.pass.run(text, from, long, &relaxed.patterns)
            }),
            _ => None,
        };
        let present: Vec<(usize, Starts)> = match single {
            Some(present) => present,
            None => match linear.set() {
                Some(set) => {
                    let mut present = PatternSet::new(set.pattern_len());
                    set.which_overlapping_matches(&Input::new(text).range(from..), &mut present);
                    present.iter().map(|pid| (pid.as_usize(), Starts::Unknown)).collect()
                }
                None => (0..linear.dets.len()).map(|p| (p, Starts::Unknown)).collect(),
            },
        };
        present
            .into_iter()
            .map(|(pattern, starts)| (pattern, linear.dets[pattern], starts))
            .filter(|&(_, det, _)| self.failed[det].is_none())
            .map(|(pattern, det, starts)| PositionJob { det, pattern, resume: self.resume[det], starts, exact_pass })
            .collect()
    }

    /// Validate, count and keep the hits of one window.
    fn record(&mut self, mut raw: Vec<RawHit>) {
        let text = self.buf.as_str();
        let model = self.model;
        raw.retain(|h| {
            let value = &text[h.start..h.end];
            model.detectors[h.det].checks.iter().all(|c| check(c, value, &model.options))
                && model.detectors[h.det].checks.iter().all(|c| match c {
                    Check::Function(f) => f.refuse_in_context.is_none_or(|refuse| !refuse(text, h.start, h.end)),
                    _ => true,
                })
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
            if self.compiled.plan.positional[h.det] {
                let end = at_char + count_chars(value);
                self.hits[h.det].push_back(Hit { start: at_char, end, value: value.into() });
            }
        }
    }
}

fn check(c: &Check, value: &str, options: &builtin::Options) -> bool {
    match c {
        Check::Function(f) => (f.validate)(value, options),
        Check::DateSimple(p) => dates::date_simple(value, p),
        Check::Checksum(cs) => cs.accepts(value),
    }
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
