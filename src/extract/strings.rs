//! The fallback for formats no reader understands: runs of printable ASCII and of UTF-16LE text (as Windows
//! programs store strings), like the Unix `strings` tool, so a sensitive value in an unknown binary format is
//! still seen by the classifier.

use std::io::Read;

use super::budget::{Budget, read_failure};
use crate::Error;

/// Shorter runs are mostly noise in binary data.
const MIN_RUN: usize = 4;
/// A longer run is handed over in pieces, so memory stays bounded.
const MAX_RUN: usize = 4096;

/// Scans bytes fed in any slicing for printable runs.
#[derive(Default)]
pub(crate) struct Strings {
    ascii: Run,
    /// UTF-16LE runs starting at even and at odd offsets.
    wide: [Run; 2],
    /// The previous byte and the parity of its offset.
    prev: Option<u8>,
    offset: u64,
}

/// One run being collected.
#[derive(Default)]
struct Run {
    text: String,
    chars: usize,
    /// Part of the run was already handed over (it was longer than `MAX_RUN`).
    flushed: bool,
}

impl Run {
    fn add(&mut self, c: char, budget: &mut Budget) -> Result<(), Error> {
        self.text.push(c);
        self.chars += 1;
        if self.text.len() >= MAX_RUN {
            budget.push(&self.text)?;
            self.text.clear();
            self.flushed = true;
        }
        Ok(())
    }

    /// Hand over a finished run if it is long enough, then a line break.
    fn end(&mut self, budget: &mut Budget) -> Result<(), Error> {
        if self.chars >= MIN_RUN || self.flushed {
            budget.push(&self.text)?;
            budget.separate("\n")?;
        }
        *self = Run::default();
        Ok(())
    }
}

impl Strings {
    pub fn feed(&mut self, bytes: &[u8], budget: &mut Budget) -> Result<(), Error> {
        for &byte in bytes {
            if byte == b'\t' || (0x20..0x7F).contains(&byte) {
                self.ascii.add(byte as char, budget)?;
            } else {
                self.ascii.end(budget)?;
            }
            if let Some(low) = self.prev {
                // The unit (low, byte) completes a run aligned like the offset of `low`.
                let run = &mut self.wide[((self.offset - 1) % 2) as usize];
                let unit = u16::from_le_bytes([low, byte]);
                match char::from_u32(unit.into()).filter(|&c| wide_printable(c)) {
                    Some(c) => run.add(c, budget)?,
                    None => run.end(budget)?,
                }
            }
            self.prev = Some(byte);
            self.offset += 1;
        }
        Ok(())
    }

    pub fn finish(mut self, budget: &mut Budget) -> Result<(), Error> {
        self.ascii.end(budget)?;
        for run in &mut self.wide {
            run.end(budget)?;
        }
        Ok(())
    }
}

/// Letters and punctuation of the scripts office documents mostly use; CJK is left out because ASCII bytes
/// read as UTF-16 land there and would flood the output with noise.
fn wide_printable(c: char) -> bool {
    matches!(c, '\t' | ' '..='~' | '\u{A0}'..='\u{52F}' | '\u{2010}'..='\u{20CF}')
}

/// Pull the printable runs out of `reader`.
pub fn read(mut reader: impl Read, budget: &mut Budget) -> Result<(), Error> {
    let mut strings = Strings::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_failure(e)),
        };
        strings.feed(&buf[..n], budget)?;
        budget.check_time()?;
    }
    strings.finish(budget)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;

    fn strings_of(bytes: &[u8], slice: usize) -> String {
        let limits = Limits::default();
        let mut got = String::new();
        let mut sink = |s: &str| got.push_str(s);
        let mut budget = Budget::new(&limits, &mut sink);
        let mut strings = Strings::default();
        for piece in bytes.chunks(slice) {
            strings.feed(piece, &mut budget).unwrap();
        }
        strings.finish(&mut budget).unwrap();
        budget.finish();
        got
    }

    #[test]
    fn ascii_and_utf16_runs_in_any_slicing() {
        let mut bytes = b"\x00\x01card 4111 1111 1111 1111\x00\x02\x03ab\x00".to_vec();
        bytes.push(0x07); // odd alignment for the wide run
        bytes.extend("SSN 078-05-1120".encode_utf16().flat_map(u16::to_le_bytes));
        bytes.extend([0xFF, 0xFF, 0x01]);
        for slice in [1, 3, 7, 1000] {
            let got = strings_of(&bytes, slice);
            assert!(got.contains("card 4111 1111 1111 1111\n"), "{slice}: {got:?}");
            assert!(got.contains("SSN 078-05-1120"), "{slice}: {got:?}");
            assert!(!got.contains("ab"), "{slice}: {got:?}");
        }
    }
}
