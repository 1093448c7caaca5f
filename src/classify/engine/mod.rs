//! The scanning engine: the rule set compiled once, then one streaming pass per file.
//!
//! Text arrives as `&str` chunks of any size, split anywhere. The scanner buffers it into windows; each window gets one
//! single pass over every linear pattern (`single_pass`: a `regex-automata` lazy DFA reporting where each pattern's
//! matches end, and its reverse giving where they start) and one Aho-Corasick pass over every keyword; each linear
//! detector present is then searched only where its matches lie, and the look-around patterns likewise from a single
//! pass of their own over their linear parts (each possible start decided by the pattern's guards or the backtracker).
//! The last [`OVERLAP`] bytes of a window are scanned again with the next one, so a match that crosses a chunk boundary
//! is found exactly once; only a single match longer than that could be cut. Memory stays bounded: the buffer holds one
//! window, and hits are dropped once no entity window can reach them. Feeding the text in any chunking gives the same
//! result as feeding it at once.
//!
//! [`compile`] builds the [`Compiled`] detectors once per rule set; [`Scanner`] (`scan`) runs the passes over each
//! window and keeps the hits; `evidence` turns `IdMatch` hits and their surroundings into entity instances;
//! `verdict` applies the rules, aggregates the properties and asks the protection policy for the decision.

mod compile;
mod evidence;
mod scan;
mod single_pass;
mod verdict;

pub use compile::{Compiled, compile};
pub use scan::Scanner;
pub use verdict::protection_decision;

/// Bytes buffered before a window is scanned.
pub const WINDOW: usize = 256 * 1024;
/// Bytes at the end of a window scanned again with the next: the longest match guaranteed across a boundary.
pub const OVERLAP: usize = 8 * 1024;
/// Bytes kept before the scan start so look-behind, `\b` and `^` see the preceding text.
const CONTEXT: usize = 1024;
/// Stretches of text at least this long are scanned on two threads: the keyword pass beside the single pass, then
/// the position searches of the detectors present split between both; and the single pass finds where matches
/// start as well as where they end. Shorter ones (every file FSRM hands over one at a time is mostly one short
/// window) stay on one thread and get only the ends, where starting threads or building the reverse automaton
/// would cost more than it saves.
pub const PARALLEL_FROM: usize = 128 * 1024;
/// Sample values kept per match name with `--show-values`.
const MAX_SAMPLES: usize = 5;

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

/// How the linear detectors' matches are found in a window.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Passes {
    /// One pass reports where every pattern's matches end and start; each detector present is searched only there.
    #[default]
    Single,
    /// The engine the single pass replaced, kept for the windows it declines: a set says which patterns occur, and
    /// each is searched over the whole window.
    PerDetector,
}

/// Characters in `s`. The standard library counts a word of bytes at a time; the byte filter this replaced compiled
/// to about five instructions per byte (2.5 M of the 64 KiB docx's invocation, whose windows are counted whole).
fn count_chars(s: &str) -> u64 {
    s.chars().count() as u64
}

fn next_char(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(at + 1, |c| at + c.len_utf8())
}
