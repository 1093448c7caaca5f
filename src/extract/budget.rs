//! The per-file budget: every reader pushes its text through here, so the text-size and time limits are
//! enforced in one place, and the sink receives a few large chunks instead of one call per XML text node.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{Limits, unreadable};
use crate::Error;

/// Text is handed to the sink in chunks of about this size.
const CHUNK: usize = 64 * 1024;

/// Limits, clock and text accounting for one file.
pub(crate) struct Budget<'a> {
    pub limits: &'a Limits,
    started: Instant,
    sink: &'a mut dyn FnMut(&str),
    pending: String,
    text_bytes: u64,
    /// Whether the text so far ends in whitespace, so separators are not doubled.
    ends_blank: bool,
    /// Bytes decompressed from all archive entries so far, shared with the entry readers (see `zipguard`).
    pub decompressed: Rc<Cell<u64>>,
}

impl<'a> Budget<'a> {
    pub fn new(limits: &'a Limits, sink: &'a mut dyn FnMut(&str)) -> Self {
        Budget {
            limits,
            started: Instant::now(),
            sink,
            pending: String::with_capacity(CHUNK),
            text_bytes: 0,
            ends_blank: true,
            decompressed: Rc::new(Cell::new(0)),
        }
    }

    /// Add `text`, after `name: ` when a document property's name is pending (`pending` is taken).
    pub fn push_property(&mut self, pending: &mut Option<String>, text: &str) -> Result<(), Error> {
        if let Some(name) = pending.take() {
            self.push(&name)?;
            self.push(": ")?;
        }
        self.push(text)
    }

    /// Add text. Fails once the text limit or the time limit is passed.
    pub fn push(&mut self, text: &str) -> Result<(), Error> {
        let Some(last) = text.chars().next_back() else {
            return Ok(());
        };
        self.text_bytes += text.len() as u64;
        if self.text_bytes > self.limits.max_text_bytes {
            return Err(unreadable(format!(
                "extracted text exceeds max_text_bytes ({} bytes)",
                self.limits.max_text_bytes
            )));
        }
        self.pending.push_str(text);
        self.ends_blank = last.is_whitespace();
        if self.pending.len() >= CHUNK {
            self.flush();
            self.check_time()?;
        }
        Ok(())
    }

    /// End a block (paragraph, cell, part) with `sep`, unless the text already ends in whitespace.
    pub fn separate(&mut self, sep: &str) -> Result<(), Error> {
        if self.ends_blank { Ok(()) } else { self.push(sep) }
    }

    /// Fail once the file has taken longer than `max_seconds`.
    pub fn check_time(&self) -> Result<(), Error> {
        if self.started.elapsed() > self.time_limit() {
            return Err(unreadable(format!("reading took longer than max_seconds ({} s)", self.limits.max_seconds)));
        }
        Ok(())
    }

    /// Time left before `max_seconds` is reached.
    pub fn remaining_time(&self) -> Duration {
        self.time_limit().saturating_sub(self.started.elapsed())
    }

    fn time_limit(&self) -> Duration {
        Duration::from_secs(self.limits.max_seconds)
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            (self.sink)(&self.pending);
            self.pending.clear();
        }
    }

    /// Hand over what is pending; returns the bytes of text handed to the sink in total.
    pub fn finish(mut self) -> u64 {
        self.flush();
        self.text_bytes
    }
}

/// A limit reached inside a `Read` implementation, carried through `io::Error` so that the reader above
/// (zip, XML) can report it as the limit it is rather than as an I/O failure.
#[derive(Debug)]
pub(crate) struct LimitExceeded(pub String);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitExceeded {}

/// An `io::Error` that carries a reached limit.
pub(crate) fn limit_io(message: String) -> std::io::Error {
    std::io::Error::other(LimitExceeded(message))
}

/// Turn an `io::Error` from a metered reader back into the limit it carries, or into a read failure of `what`.
pub(crate) fn from_io(what: &str, err: &std::io::Error) -> Error {
    match err.get_ref().and_then(|inner| inner.downcast_ref::<LimitExceeded>()) {
        Some(limit) => unreadable(format!("{what}: {limit}")),
        None => unreadable(format!("cannot read {what}: {err}")),
    }
}

/// A failed read of the file or of a metered stream: the limit it carries, or an I/O failure.
pub(crate) fn read_failure(err: std::io::Error) -> Error {
    match err.get_ref().and_then(|inner| inner.downcast_ref::<LimitExceeded>()) {
        Some(limit) => unreadable(limit.0.clone()),
        None => super::io_error("cannot read", err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_joined_and_separators_not_doubled() {
        let limits = Limits::default();
        let mut got = String::new();
        let mut sink = |s: &str| got.push_str(s);
        let mut budget = Budget::new(&limits, &mut sink);
        budget.separate("\n").unwrap();
        budget.push("a").unwrap();
        budget.separate("\n").unwrap();
        budget.separate("\n").unwrap();
        budget.push("b ").unwrap();
        budget.separate("\n").unwrap();
        assert_eq!(budget.finish(), 4);
        assert_eq!(got, "a\nb ");
    }

    #[test]
    fn text_limit_is_enforced() {
        let limits = Limits { max_text_bytes: 5, ..Limits::default() };
        let mut sink = |_: &str| {};
        let mut budget = Budget::new(&limits, &mut sink);
        budget.push("12345").unwrap();
        let err = budget.push("6").unwrap_err();
        assert!(err.message().contains("max_text_bytes"), "{}", err.message());
    }
}
