//! RTF: a streaming tokenizer that keeps the document's text (body, headers, footers, footnotes, comments,
//! document and custom properties) and drops control words, font and colour tables, pictures and embedded
//! object data (including `\binN` runs), decoding `\uN` escapes and `\'hh` bytes in the document's code page.

use std::io::Read;

use encoding_rs::{Encoding, WINDOWS_1252};

use super::budget::{Budget, read_failure};
use crate::Error;

/// Destinations that hold no document text.
const SKIPPED: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "listtable",
    "listoverridetable",
    "pict",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "mmathPr",
    "pgdsctbl",
    "filetbl",
    "revtbl",
    "objdata",
    "objclass",
    "fldinst",
    "nonshppict",
    "datafield",
    "fontemb",
    "panose",
    "falt",
    "wgrffmtfilter",
    "blipuid",
    "sp",
    "sn",
    "sv",
];

/// Ignorable (`\*`) destinations that do hold text a classifier should see.
const KEPT_STARRED: &[&str] = &["annotation", "userprops", "atnauthor", "footnote"];

#[derive(Clone, Copy)]
struct Group {
    skip: bool,
    /// Fallback characters that follow each `\uN`.
    uc: u32,
    /// The group started with `\*`: skip it unless its first control word is known text.
    starred: bool,
}

struct Parser<'b, 'l> {
    budget: &'b mut Budget<'l>,
    stack: Vec<Group>,
    group: Group,
    encoding: &'static Encoding,
    /// Consecutive `\'hh` bytes, decoded together (double-byte code pages need pairs).
    bytes: Vec<u8>,
    /// Fallback characters still to drop after a `\uN`.
    to_skip: u32,
    /// A UTF-16 high surrogate waiting for its pair.
    high_surrogate: Option<u16>,
    out: String,
}

/// Push the text of the RTF document read from `reader`.
pub(crate) fn read(reader: impl Read, budget: &mut Budget) -> Result<&'static str, Error> {
    let mut source = Source { reader, buf: vec![0; 64 * 1024], pos: 0, len: 0 };
    let mut parser = Parser {
        budget,
        stack: Vec::new(),
        group: Group { skip: false, uc: 1, starred: false },
        encoding: WINDOWS_1252,
        bytes: Vec::new(),
        to_skip: 0,
        high_surrogate: None,
        out: String::new(),
    };
    parser.run(&mut source)?;
    parser.flush_bytes();
    parser.budget.push(&parser.out)?;
    Ok("rtf")
}

impl Parser<'_, '_> {
    fn run(&mut self, src: &mut Source<impl Read>) -> Result<(), Error> {
        let max_depth = self.budget.limits.max_xml_depth;
        while let Some(byte) = src.next()? {
            match byte {
                b'{' => {
                    self.flush_bytes();
                    if self.stack.len() >= max_depth {
                        return Err(super::unreadable(format!(
                            "RTF groups nested deeper than max_xml_depth ({max_depth})"
                        )));
                    }
                    self.stack.push(self.group);
                    self.group.starred = false;
                }
                b'}' => {
                    self.flush_bytes();
                    if let Some(outer) = self.stack.pop() {
                        self.group = outer;
                    }
                }
                b'\\' => self.control(src)?,
                b'\r' | b'\n' => {}
                _ if byte >= 0x80 => self.byte(byte),
                _ => {
                    self.flush_bytes();
                    self.char(byte as char);
                }
            }
            if self.out.len() >= 16 * 1024 {
                self.budget.push(&self.out)?;
                self.out.clear();
                self.budget.check_time()?;
            }
        }
        Ok(())
    }

    fn control(&mut self, src: &mut Source<impl Read>) -> Result<(), Error> {
        let Some(first) = src.next()? else {
            return Ok(());
        };
        if !first.is_ascii_alphabetic() {
            return self.symbol(first, src);
        }
        let mut word = String::from(first as char);
        while let Some(b) = src.peek()? {
            if !b.is_ascii_alphabetic() || word.len() >= 32 {
                break;
            }
            word.push(b as char);
            src.next()?;
        }
        let mut param: Option<i64> = None;
        let negative = src.peek()? == Some(b'-');
        if negative {
            src.next()?;
        }
        let mut digits = 0;
        while let Some(b) = src.peek()?.filter(u8::is_ascii_digit) {
            if digits < 10 {
                param = Some(param.unwrap_or(0) * 10 + i64::from(b - b'0'));
            }
            digits += 1;
            src.next()?;
        }
        let param = param.map(|p| if negative { -p } else { p });
        if src.peek()? == Some(b' ') {
            src.next()?;
        }
        self.word(&word, param, src)
    }

    fn word(&mut self, word: &str, param: Option<i64>, src: &mut Source<impl Read>) -> Result<(), Error> {
        if self.group.starred {
            self.group.starred = false;
            if !KEPT_STARRED.contains(&word) {
                self.group.skip = true;
            }
        }
        if SKIPPED.contains(&word) {
            self.group.skip = true;
        }
        if word != "u" {
            self.flush_bytes();
        }
        match word {
            "bin" => {
                // Binary data of the given length, never text.
                src.skip(u64::try_from(param.unwrap_or(0)).unwrap_or(0))?;
            }
            "u" => {
                self.flush_bytes();
                let unit = param.unwrap_or(0).rem_euclid(65536) as u16;
                self.unicode(unit);
                self.to_skip = self.group.uc;
            }
            "uc" => self.group.uc = u32::try_from(param.unwrap_or(1)).unwrap_or(1).min(8),
            "ansicpg" => {
                if let Some(encoding) = param.and_then(codepage) {
                    self.encoding = encoding;
                }
            }
            "par" | "line" | "sect" | "page" | "row" => self.emit("\n"),
            "tab" | "cell" => self.emit("\t"),
            "emdash" | "endash" => self.emit("-"),
            "lquote" | "rquote" => self.emit("'"),
            "ldblquote" | "rdblquote" => self.emit("\""),
            "bullet" => self.emit("*"),
            // Property names and values in \info and \userprops: keep them apart.
            "propname" | "staticval" | "title" | "subject" | "author" | "keywords" | "doccomm" | "company" => {
                self.emit("\n")
            }
            _ => {}
        }
        Ok(())
    }

    fn symbol(&mut self, symbol: u8, src: &mut Source<impl Read>) -> Result<(), Error> {
        match symbol {
            b'\'' => {
                let high = src.next()?;
                let low = src.next()?;
                let hex = [high.unwrap_or(b'0'), low.unwrap_or(b'0')];
                if let Some(byte) = std::str::from_utf8(&hex).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    self.byte(byte);
                }
            }
            b'*' => self.group.starred = true,
            b'\\' | b'{' | b'}' => {
                self.flush_bytes();
                self.char(symbol as char);
            }
            b'~' => self.char(' '),
            b'_' => self.char('-'),
            b'\r' | b'\n' => self.emit("\n"),
            _ => {}
        }
        Ok(())
    }

    /// A byte of text in the document's code page.
    fn byte(&mut self, byte: u8) {
        if self.to_skip > 0 {
            self.to_skip -= 1;
        } else if !self.group.skip {
            self.bytes.push(byte);
        }
    }

    fn flush_bytes(&mut self) {
        if !self.bytes.is_empty() {
            let (text, _) = self.encoding.decode_without_bom_handling(&self.bytes);
            self.out.push_str(&text);
            self.bytes.clear();
        }
    }

    fn char(&mut self, c: char) {
        if self.to_skip > 0 {
            self.to_skip -= 1;
        } else if !self.group.skip {
            self.out.push(c);
        }
    }

    fn unicode(&mut self, unit: u16) {
        if self.group.skip {
            return;
        }
        let decoded = match (self.high_surrogate.take(), unit) {
            (_, 0xD800..=0xDBFF) => {
                self.high_surrogate = Some(unit);
                return;
            }
            (Some(high), 0xDC00..=0xDFFF) => char::decode_utf16([high, unit]).next().and_then(Result::ok),
            _ => char::from_u32(unit.into()),
        };
        self.out.push(decoded.unwrap_or('\u{FFFD}'));
    }

    fn emit(&mut self, text: &str) {
        if !self.group.skip {
            self.out.push_str(text);
        }
    }
}

/// The encoding of a Windows code page number as used by `\ansicpgN`.
fn codepage(number: i64) -> Option<&'static Encoding> {
    let label = match number {
        932 => "shift_jis".to_string(),
        936 => "gbk".into(),
        949 => "euc-kr".into(),
        950 => "big5".into(),
        10000 => "macintosh".into(),
        n => format!("windows-{n}"),
    };
    Encoding::for_label(label.as_bytes())
}

/// Bytes of the RTF file, with one byte of look-ahead.
struct Source<R> {
    reader: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
}

impl<R: Read> Source<R> {
    fn fill(&mut self) -> Result<bool, Error> {
        if self.pos < self.len {
            return Ok(true);
        }
        loop {
            match self.reader.read(&mut self.buf) {
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_failure(e)),
            }
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, Error> {
        Ok(if self.fill()? { Some(self.buf[self.pos]) } else { None })
    }

    fn next(&mut self) -> Result<Option<u8>, Error> {
        let byte = self.peek()?;
        if byte.is_some() {
            self.pos += 1;
        }
        Ok(byte)
    }

    fn skip(&mut self, mut count: u64) -> Result<(), Error> {
        while count > 0 && self.fill()? {
            let step = count.min((self.len - self.pos) as u64);
            self.pos += step as usize;
            count -= step;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;

    fn text_of(rtf: &[u8]) -> String {
        let limits = Limits::default();
        let mut got = String::new();
        let mut sink = |s: &str| got.push_str(s);
        let mut budget = Budget::new(&limits, &mut sink);
        read(rtf, &mut budget).unwrap();
        budget.finish();
        got
    }

    #[test]
    fn text_escapes_and_skipped_groups() {
        let rtf = br"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Times;}}{\colortbl;\red0;}{\*\generator Foo;}\pard SSN 078-05-1120\par caf\'e9 \u8364?\uc2\u8364xx end{\pict\bin4 ABCD 4111}{\*\bkmkstart b}\tab x\}}";
        assert_eq!(text_of(rtf), "SSN 078-05-1120\ncafé €€ end\tx}");
    }

    #[test]
    fn kept_starred_destinations() {
        let rtf = br"{\rtf1{\*\userprops{\propname Classification}\proptype30{\staticval Secret}}body{\*\annotation note 4111}}";
        assert_eq!(text_of(rtf), "\nClassification\nSecretbodynote 4111");
    }

    #[test]
    fn double_byte_code_page() {
        // "日本" in Shift_JIS.
        assert_eq!(text_of(br"{\rtf1\ansicpg932 \'93\'fa\'96\'7b}"), "日本");
    }
}
