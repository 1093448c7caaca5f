//! The FSRM contract: the argument line of Microsoft's RMS-Protect-FCI.ps1,
//! `-File '[Source File Path]' -TemplateID <GUID> -OwnerMail '[Source File Owner Email]'`, and the order
//! Install-FciConnector.ps1 registers, `-TemplateID <GUID> -OwnerMail '[Source File Owner Email]' -File '[Source
//! File Path]'`, as FSRM expands them.
//!
//! FSRM replaces its macros as plain text and adds no quotes, and Windows does not treat single quotes as quotes, so
//! a path with spaces arrives split over several arguments (`'C:\Share\Q3`, `report.docx'`), and a file name can
//! hold text that looks like switches (`x -Always -File 'decoy.txt`). No file name may steer the run, so the line
//! is read as a whole, and the path is never looked for switches:
//!
//! - The line is split into words: on Windows the raw command line (`GetCommandLineW`) at blanks outside double
//!   quotes (FSRM never writes a double quote, and no Windows file name holds one); elsewhere each argument is one
//!   word, never split again, and a path over several words is the words joined by single spaces.
//! - A reading of the line is: the switches before the file (`head`), `-File` (or `-Path`, `-File:value`, or the
//!   subcommand `protect` followed by the path), the path, and the switches after it (`tail`). Head and tail must each
//!   be complete, valid sequences of known switches: any case, one or two dashes, `-Name value` and `-Name:value`,
//!   flags without a value, no switch twice, no second file. A value that starts with a quote ends with the same
//!   quote; only the owner's value (expanded from `[Source File Owner Email]`, so text fci-connector does not
//!   choose) may run over switch-like words to reach its closing quote. The path is everything between `-File` and
//!   the tail, as written (runs of spaces kept), with one layer of wrapping quotes removed (`'…'`, `"…"`, or `"'…'"`
//!   as PowerShell wrappers produce); a path that starts with a quote must end with it, and the other way round.
//!   Switch-like text inside the path is path text.
//! - Usually one reading is valid. Where several are, they are ranked, and the first whose path exists is taken:
//!   1. a path that arrived as one argument (one command-line argument on Linux, one double-quoted word on
//!      Windows) is used as it is: it is never joined with its neighbours;
//!   2. readings that keep more of Microsoft's switches `-TemplateID` and `-OwnerMail` out of the path come first:
//!      both are in every line FSRM is given (ours and Microsoft's), and FSRM's expansion of a path can only
//!      *add* words to the line. A reading whose path swallows the line's own `-TemplateID` or `-OwnerMail` (a
//!      file named `<name>' -TemplateID <GUID> -OwnerMail '<owner>` beside `<name>`) therefore loses to the reading
//!      that keeps them, and a reading that takes one of them out of a file name cannot exist: the line has it
//!      already, and no switch may appear twice;
//!   3. then the longer path: the path runs to the last possible switch. With `-File` last (the installer's
//!      order) the longest path runs to the end of the line, and nothing after it can be a longer file name; with
//!      Microsoft's order the line's `-TemplateID … -OwnerMail '…'` ends it (rule 2). So when the file FSRM named
//!      exists, the first reading is FSRM's, whatever the file name holds, and other files named like parts of it
//!      are never looked at.
//! - A reading further down the ranking is taken only if every reading above it names no existing file, and only
//!   if it takes none of fci-connector's own switches (`-Always`, `-Dry-Run`, `-Json`, `-Strict-Exit`, the global
//!   options) out of text that a reading above it counts as path: if FSRM's file vanished before the task started, a
//!   file named like the start of its name is not processed with switches read from the rest of that name.
//! - Where no reading names an existing file and a word looks like a misspelt switch (`-TemplatID`: at most two
//!   edits from a known one), the run stops with a usage error naming it (exit 2); otherwise the first reading's
//!   file is used and `protect` ends with exit 3, naming every path tried.
//!
//! The same switches work after `protect`, and the global options combine with them anywhere. A stray `"` at the end
//! of the owner's value (left by a move from Microsoft's `-Command "… -OwnerMail '…'"` line) is dropped.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::rc::Rc;

use super::GlobalOptions;
use super::protect::ProtectArgs;
use crate::{Error, ExitClass};

/// The switches of the legacy form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sw {
    File,
    Template,
    Owner,
    Templates,
    Rules,
    Config,
    LogDir,
    Always,
    Json,
    StrictExit,
    DryRun,
    /// Switches of Microsoft's script that fci-connector has no use for (cloud credentials): accepted, ignored,
    /// and warned about.
    Cloud(u8),
}

/// Every name we know, lower case, with its switch.
const NAMES: [(&str, Sw); 18] = [
    ("file", Sw::File),
    ("path", Sw::File),
    ("templateid", Sw::Template),
    ("template", Sw::Template),
    ("ownermail", Sw::Owner),
    ("owner", Sw::Owner),
    ("templates", Sw::Templates),
    ("rules", Sw::Rules),
    ("config", Sw::Config),
    ("log-dir", Sw::LogDir),
    ("logdir", Sw::LogDir),
    ("always", Sw::Always),
    ("json", Sw::Json),
    ("strict-exit", Sw::StrictExit),
    ("dry-run", Sw::DryRun),
    ("appprincipalid", Sw::Cloud(0)),
    ("symmetrickey", Sw::Cloud(1)),
    ("bpostenantid", Sw::Cloud(2)),
];

/// More words than this are not read: the readings are found in time quadratic in the words, and no real path has
/// thousands of blanks.
const MAX_WORDS: usize = 4096;

impl Sw {
    fn bit(self) -> u32 {
        match self {
            Sw::File => 1,
            Sw::Template => 1 << 1,
            Sw::Owner => 1 << 2,
            Sw::Templates => 1 << 3,
            Sw::Rules => 1 << 4,
            Sw::Config => 1 << 5,
            Sw::LogDir => 1 << 6,
            Sw::Always => 1 << 7,
            Sw::Json => 1 << 8,
            Sw::StrictExit => 1 << 9,
            Sw::DryRun => 1 << 10,
            Sw::Cloud(i) => 1 << (11 + u32::from(i)),
        }
    }

    fn takes_value(self) -> bool {
        !matches!(self, Sw::Always | Sw::Json | Sw::StrictExit | Sw::DryRun)
    }

    /// fci-connector's own switches: they change what is done or where the configuration comes from, so they are
    /// never read out of text that another reading counts as path.
    const OWN: u32 = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10);
    /// Microsoft's switches, in every line FSRM is given.
    const MICROSOFT: u32 = (1 << 1) | (1 << 2);
}

/// A switch word: which, the byte offset of its value in `-Name:value`, and the switch as written (dashes and case
/// kept, without `:value`), for messages.
type Switch = (Sw, Option<usize>, String);

/// The switch a word is (`-File:x` → File, with the byte offset of `x`), if it is one we know.
fn switch_of(word: &str) -> Option<Switch> {
    let body = word.strip_prefix("--").or_else(|| word.strip_prefix('-'))?;
    let dashes = word.len() - body.len();
    let (name, colon) = match body.find(':') {
        Some(i) => (&body[..i], Some(dashes + i + 1)),
        None => (body, None),
    };
    let written = word[..dashes + name.len()].to_string();
    let name = name.to_ascii_lowercase();
    NAMES.iter().find(|(n, _)| *n == name).map(|&(_, sw)| (sw, colon, written))
}

/// True when `args` (program name first) use Microsoft's switch form, with or without `protect` in front.
pub fn is_legacy(args: &[OsString]) -> bool {
    let mut words = args.iter().skip(1).filter_map(|a| a.to_str());
    // Global options may come first.
    let mut first = None;
    while let Some(w) = words.next() {
        match switch_of(w) {
            Some((Sw::Templates | Sw::Rules | Sw::Config | Sw::LogDir, colon, _)) => {
                if colon.is_none() {
                    words.next();
                }
            }
            _ => {
                first = Some(w);
                break;
            }
        }
    }
    // `-Path`, `-Template` and `-Owner` are fci-connector's own spellings: they alone do not make the legacy form.
    let is_legacy_switch = |w: &str| {
        switch_of(w).is_some_and(|(_, _, written)| {
            let name = written.trim_start_matches('-').to_ascii_lowercase();
            ["file", "templateid", "ownermail"].contains(&name.as_str())
        })
    };
    match first {
        Some(w) if is_legacy_switch(w) => true,
        // `protect -File …`, and a line that starts with one of our own switches (`-Always -TemplateID … -File …`,
        // as an admin may register it): legacy when one of Microsoft's switches follows.
        Some(w) if w.eq_ignore_ascii_case("protect") || switch_of(w).is_some() => words.any(is_legacy_switch),
        _ => false,
    }
}

/// A word of the line: where it starts and ends.
#[derive(Clone, Copy, Debug)]
struct Word {
    start: usize,
    end: usize,
}

/// The argument line and its words.
struct Line {
    text: String,
    words: Vec<Word>,
    /// The words are the process's arguments (not split out of a raw command line).
    argv: bool,
}

impl Line {
    /// The arguments joined by single spaces; each argument one word.
    fn from_args(args: &[&str]) -> Line {
        let mut text = String::new();
        let mut words = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            words.push(Word { start: text.len(), end: text.len() + a.len() });
            text.push_str(a);
        }
        Line { text, words, argv: true }
    }

    /// A raw Windows command line without the program, split at blanks outside double quotes.
    fn from_raw(raw: &str) -> Line {
        let text = strip_program(raw).to_string();
        let mut words = Vec::new();
        let mut start = None;
        let mut quoted = false;
        for (i, c) in text.char_indices() {
            let blank = (c == ' ' || c == '\t') && !quoted;
            if c == '"' {
                quoted = !quoted;
            }
            match (blank, start) {
                (true, Some(s)) => {
                    words.push(Word { start: s, end: i });
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            words.push(Word { start: s, end: text.len() });
        }
        Line { text, words, argv: false }
    }

    fn word(&self, i: usize) -> &str {
        &self.text[self.words[i].start..self.words[i].end]
    }
}

/// The raw command line without the program name: on Windows the program may be quoted and contain spaces.
///
/// Whether the task runner quotes a program path with a space (`C:\Program Files\FciConnector\fci-connector.exe`)
/// is not documented, and CreateProcessW accepts it unquoted: then the program runs to the first word ending in
/// `.exe` before any switch or quote.
fn strip_program(raw: &str) -> &str {
    let raw = raw.trim_start();
    let rest = match raw.strip_prefix('"') {
        Some(quoted) => quoted.find('"').map_or("", |i| &quoted[i + 1..]),
        None => {
            let mut end = raw.find(char::is_whitespace).unwrap_or(raw.len());
            let first = &raw[..end];
            // Only a path cut at a space (`C:\Program`) goes on; a bare program name never does.
            if first.contains(['\\', '/']) && !first.to_ascii_lowercase().ends_with(".exe") {
                let mut at = end;
                while at < raw.len() {
                    let word_start = at + raw[at..].find(|c: char| !c.is_whitespace()).unwrap_or(raw.len() - at);
                    if word_start >= raw.len() || raw[word_start..].starts_with(['-', '\'', '"']) {
                        break;
                    }
                    let word_end =
                        word_start + raw[word_start..].find(char::is_whitespace).unwrap_or(raw.len() - word_start);
                    if raw[word_start..word_end].to_ascii_lowercase().ends_with(".exe") {
                        end = word_end;
                        break;
                    }
                    at = word_end;
                }
            }
            &raw[end..]
        }
    };
    rest.trim_start()
}

/// `args` with the program name whole again: a program path with a space started unquoted
/// (`C:\Program Files\FciConnector\fci-connector.exe -TemplateID …`) reaches the C runtime's argument split as
/// several words (`C:\Program`, `Files\…\fci-connector.exe`); those words are the program, not arguments. `raw`
/// is the command line as the OS received it (Windows), `None` elsewhere.
pub fn rejoin_program(args: Vec<OsString>, raw: Option<&OsString>) -> Vec<OsString> {
    let Some(raw) = raw.and_then(|r| r.to_str()) else { return args };
    let raw = raw.trim_start();
    let program = raw[..raw.len() - strip_program(raw).len()].trim_end();
    let pieces: Vec<&str> = program.split_whitespace().collect();
    let split = pieces.len() > 1
        && !program.starts_with('"')
        && args.len() >= pieces.len()
        && args.iter().zip(&pieces).all(|(a, p)| a.to_str() == Some(p));
    if !split {
        return args;
    }
    std::iter::once(OsString::from(program)).chain(args.into_iter().skip(pieces.len())).collect()
}

/// A value or path that starts with a quote ends with it, and the other way round.
fn balanced(v: &str) -> bool {
    ['\'', '"'].iter().all(|&q| {
        let (s, e) = (v.starts_with(q), v.ends_with(q));
        s == e && (!s || v.len() >= 2)
    })
}

/// Remove one layer of wrapping quotes: `'…'`, `"…"`, or `"'…'"`.
fn unwrap(v: &str) -> &str {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        let inner = &v[1..v.len() - 1];
        if inner.len() >= 2 && inner.starts_with('\'') && inner.ends_with('\'') {
            return &inner[1..inner.len() - 1];
        }
        return inner;
    }
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        return &v[1..v.len() - 1];
    }
    v
}

/// A path argument of the commands (`protect <FILE>`, `status`, `classify`, `unprotect`, `open`) that arrived wrapped
/// in quotes Windows does not remove: `'C:\share\Q3 report.txt'`, or `"'…'"` when a wrapper passes `-File "'$path'"`
/// and the double quotes reach the program. Both layers are removed ([`unwrap`]), unless the text as given names
/// something (a file whose name really starts and ends with a quote).
pub fn unquoted(path: std::path::PathBuf) -> std::path::PathBuf {
    let Some(text) = path.to_str() else { return path };
    let inner = unwrap(text);
    if inner.len() == text.len() || std::fs::symlink_metadata(&path).is_ok() {
        return path;
    }
    PathBuf::from(inner)
}

/// One switch of a reading, with its value (quotes removed).
#[derive(Clone, Debug)]
struct Item {
    sw: Sw,
    name: String,
    value: String,
}

/// Reads sequences of switches, remembering what it found at each word (readings share their tails).
struct Reader<'a> {
    line: &'a Line,
    /// The switch each word is, if any.
    switches: Vec<Option<Switch>>,
    memo: HashMap<State, Option<Rc<Vec<Item>>>>,
}

/// Where a reading of switches stands: the word, where the sequence ends, the switches already read, and whether
/// the subcommand `protect` may still stand here.
type State = (usize, usize, u32, bool);

impl Reader<'_> {
    /// A complete reading of words `i..end` as switches, none of them in `seen` or a file; `marker`: the
    /// subcommand `protect` may still stand here.
    fn seq(&mut self, i: usize, end: usize, seen: u32, marker: bool) -> Option<Rc<Vec<Item>>> {
        if i >= end {
            return Some(Rc::new(Vec::new()));
        }
        // Most dead ends are a word that is no switch: no need to remember those.
        if self.switches[i].is_none() && !(marker && self.line.word(i).eq_ignore_ascii_case("protect")) {
            return None;
        }
        let key = (i, end, seen, marker);
        if let Some(known) = self.memo.get(&key) {
            return known.clone();
        }
        let found = self.read(i, end, seen, marker);
        self.memo.insert(key, found.clone());
        found
    }

    fn read(&mut self, i: usize, end: usize, seen: u32, marker: bool) -> Option<Rc<Vec<Item>>> {
        #[cfg(test)]
        tests::READS.with(|n| n.set(n.get() + 1));
        let line = self.line;
        let word = line.word(i);
        if marker && word.eq_ignore_ascii_case("protect") {
            return self.seq(i + 1, end, seen, false);
        }
        let (sw, colon) = self.switches[i].as_ref().map(|(sw, colon, _)| (*sw, *colon))?;
        if sw == Sw::File || seen & sw.bit() != 0 {
            return None;
        }
        let name = self.switches[i].as_ref().map(|s| s.2.clone()).unwrap_or_default();
        let seen = seen | sw.bit();
        let with = |value: String, rest: Rc<Vec<Item>>| {
            let mut items = vec![Item { sw, name: name.clone(), value }];
            items.extend(rest.iter().cloned());
            Rc::new(items)
        };
        if !sw.takes_value() {
            return match colon {
                Some(_) => None,
                None => self.seq(i + 1, end, seen, marker).map(|rest| with(String::new(), rest)),
            };
        }
        let w = line.words[i];
        let (from, first) = match colon {
            Some(c) if w.start + c == w.end => {
                return self.seq(i + 1, end, seen, marker).map(|rest| with(String::new(), rest));
            }
            Some(c) => (w.start + c, i),
            None if i + 1 < end => (line.words[i + 1].start, i + 1),
            None => return None,
        };
        for last in self.value_ends(sw, from, first, end, marker) {
            let at_line_end = last + 1 == line.words.len();
            let Some(value) = value_of(&line.text[from..line.words[last].end], sw, at_line_end) else { continue };
            if let Some(rest) = self.seq(last + 1, end, seen, marker) {
                return Some(with(unwrap(value).to_string(), rest));
            }
        }
        None
    }

    /// Where a value starting at byte `from` (in word `first`) may end, in the order to try.
    fn value_ends(&self, sw: Sw, from: usize, first: usize, end: usize, marker: bool) -> Vec<usize> {
        let line = self.line;
        let is_switch =
            |j: usize| self.switches[j].is_some() || (marker && line.word(j).eq_ignore_ascii_case("protect"));
        let quote = line.text[from..].chars().next().filter(|c| *c == '\'' || *c == '"');
        match quote {
            Some(q) => {
                let mut ends = Vec::new();
                for j in first..end {
                    if j > first && sw != Sw::Owner && is_switch(j) {
                        break;
                    }
                    let text = &line.text[from..line.words[j].end];
                    let closes = text.len() >= 2 && text.ends_with(q);
                    // The owner's value may carry the `"` left over from Microsoft's `-Command "…"` line.
                    let stray = sw == Sw::Owner && j + 1 == line.words.len() && text.len() >= 3 && {
                        let t = &text[..text.len() - 1];
                        text.ends_with('"') && t.ends_with(q)
                    };
                    if closes || stray {
                        ends.push(j);
                        // Only the owner's value may run on over switch-like words to a later closing quote.
                        if sw != Sw::Owner {
                            break;
                        }
                    }
                }
                ends
            }
            None => {
                let mut last = first;
                while last + 1 < end && !is_switch(last + 1) {
                    last += 1;
                }
                vec![last]
            }
        }
    }
}

/// A value as written, checked, still quoted; `None` when it is not one.
fn value_of(raw: &str, sw: Sw, at_line_end: bool) -> Option<&str> {
    let mut v = raw;
    if sw == Sw::Owner && at_line_end && v.ends_with('"') && v.matches('"').count() % 2 == 1 {
        v = &v[..v.len() - 1];
    }
    balanced(v).then_some(v)
}

/// One reading of the line.
#[derive(Debug)]
struct Reading {
    path: String,
    items: Vec<Item>,
    /// The path is one argument, used as it is.
    one_argument: bool,
    /// How many of Microsoft's switches are outside the path.
    microsoft: u32,
    /// fci-connector's own switches outside the path.
    own: u32,
    /// The path's length as written.
    len: usize,
}

/// Every reading of the line, best first (see the module documentation).
fn readings(line: &Line) -> Vec<Reading> {
    let switches = (0..line.words.len()).map(|i| switch_of(line.word(i))).collect();
    let mut reader = Reader { line, switches, memo: HashMap::new() };
    let n = line.words.len();
    let mut found = Vec::new();
    for s in 0..n {
        let word = line.word(s);
        let w = line.words[s];
        // Where the path starts (byte, word), and the head before it.
        let (from, first, head) = match switch_of(word) {
            Some((Sw::File, colon, _)) => {
                let Some(head) = reader.seq(0, s, 0, true) else { continue };
                match colon {
                    Some(c) if w.start + c < w.end => (w.start + c, s, head),
                    _ if s + 1 < n => (line.words[s + 1].start, s + 1, head),
                    _ => continue,
                }
            }
            None if word.eq_ignore_ascii_case("protect") && s + 1 < n && switch_of(line.word(s + 1)).is_none() => {
                let Some(head) = reader.seq(0, s, 0, false) else { continue };
                (line.words[s + 1].start, s + 1, head)
            }
            _ => continue,
        };
        let seen = head.iter().fold(0, |m, it| m | it.sw.bit());
        for last in first..n {
            let raw = &line.text[from..line.words[last].end];
            if raw.trim().is_empty() || !balanced(raw) {
                continue;
            }
            let Some(tail) = reader.seq(last + 1, n, seen, false) else { continue };
            let items: Vec<Item> = head.iter().chain(tail.iter()).cloned().collect();
            let bits = items.iter().fold(0, |m, it| m | it.sw.bit());
            found.push(Reading {
                path: unwrap(raw).to_string(),
                one_argument: last == first
                    && (line.argv || (raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"'))),
                microsoft: (bits & Sw::MICROSOFT).count_ones(),
                own: bits & Sw::OWN,
                len: raw.len(),
                items,
            });
        }
    }
    found.sort_by_key(|r| std::cmp::Reverse((r.one_argument, r.microsoft, r.len)));
    // A reading may not take fci-connector's own switches out of text that a reading above it counts as path.
    // A path that arrived as one argument is used as it is: never joined with its neighbours.
    if found.first().is_some_and(|r| r.one_argument) {
        found.retain(|r| r.one_argument);
    }
    let mut allowed = Vec::with_capacity(found.len());
    let mut own_above = Vec::new();
    for r in found {
        let ok = own_above.iter().all(|&above: &u32| r.own & !above == 0);
        own_above.push(r.own);
        if ok {
            allowed.push(r);
        }
    }
    allowed
}

/// A word that looks like a misspelt switch: starts with a dash, is not a switch we know, and is at most two edits
/// from one.
fn misspelt(line: &Line) -> Option<&str> {
    (0..line.words.len()).map(|i| line.word(i)).find(|word| {
        let Some(body) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else { return false };
        let name = body.split(':').next().unwrap_or_default().to_ascii_lowercase();
        name.chars().count() >= 3
            && switch_of(word).is_none()
            && NAMES.iter().any(|(known, _)| strsim::levenshtein(&name, known) <= 2)
    })
}

/// Parse the legacy form into the global options and `protect` arguments.
///
/// `raw` is the OS's raw command line where there is one; otherwise `args` (program name first) are the words.
pub fn parse(args: &[OsString], raw: Option<&OsString>) -> Result<(GlobalOptions, ProtectArgs), Error> {
    parse_with(args, raw, |p| std::fs::symlink_metadata(p).is_ok())
}

/// [`parse`], with `exists` telling which paths name something.
fn parse_with(
    args: &[OsString],
    raw: Option<&OsString>,
    exists: impl Fn(&str) -> bool,
) -> Result<(GlobalOptions, ProtectArgs), Error> {
    let line = match raw.and_then(|r| r.to_str()) {
        Some(r) => Line::from_raw(r),
        None => {
            let words = args
                .iter()
                .skip(1)
                .map(|a| {
                    a.to_str().ok_or_else(|| {
                        Error::new(ExitClass::Usage, format!("argument {} is not valid Unicode", a.to_string_lossy()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Line::from_args(&words)
        }
    };
    if line.words.len() > MAX_WORDS {
        return Err(Error::new(
            ExitClass::Usage,
            format!("the argument line has {} words; more than {MAX_WORDS} are not read", line.words.len()),
        ));
    }
    let readings = readings(&line);
    let chosen = match readings.iter().position(|r| exists(&r.path)) {
        Some(i) => i,
        None => {
            if let Some(word) = misspelt(&line) {
                return Err(Error::new(
                    ExitClass::Usage,
                    format!(
                        "{word:?} is not a switch (misspelt?), and no file was found in the argument line: {}",
                        line.text
                    ),
                ));
            }
            if readings.is_empty() {
                return Err(Error::new(
                    ExitClass::Usage,
                    format!(
                        "no file: expected -File '<path>' followed by known switches in the argument line: {}",
                        line.text
                    ),
                ));
            }
            0
        }
    };
    let mut tried: Vec<PathBuf> = Vec::new();
    for r in &readings {
        let p = PathBuf::from(&r.path);
        if !tried.contains(&p) {
            tried.push(p);
        }
    }
    let reading = &readings[chosen];

    let mut global = GlobalOptions::default();
    let mut protect = ProtectArgs::default();
    for item in &reading.items {
        let value = item.value.clone();
        match item.sw {
            Sw::Template => protect.template = Some(value),
            Sw::Owner => protect.owner = Some(value),
            Sw::Templates => global.templates = Some(PathBuf::from(value)),
            Sw::Rules => global.rules = Some(PathBuf::from(value)),
            Sw::Config => global.config = Some(PathBuf::from(value)),
            Sw::LogDir => global.log_dir = Some(PathBuf::from(value)),
            Sw::Always => protect.always = true,
            Sw::Json => protect.json = true,
            Sw::StrictExit => protect.strict_exit = true,
            Sw::DryRun => protect.dry_run = true,
            Sw::Cloud(_) => protect.ignored_switches.push(item.name.clone()),
            Sw::File => {}
        }
    }
    protect.file = PathBuf::from(&reading.path);
    protect.command_line = Some(line.text.clone());
    protect.tried = tried;
    Ok((global, protect))
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// How many switch sequences this thread's parses have read (the work a line costs).
        pub(super) static READS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("fci-connector").chain(words.iter().copied()).map(OsString::from).collect()
    }

    fn parsed(words: &[&str]) -> (GlobalOptions, ProtectArgs) {
        let a = argv(words);
        assert!(is_legacy(&a), "{words:?} not seen as the legacy form");
        parse(&a, None).unwrap()
    }

    /// The file `parse` picks when exactly the paths in `existing` exist.
    fn picked(words: &[&str], existing: &[&str]) -> PathBuf {
        parse_with(&argv(words), None, |p| existing.contains(&p)).unwrap().1.file
    }

    fn picked_raw(raw: &str, existing: &[&str]) -> PathBuf {
        parse_with(&argv(&["-File", "x"]), Some(&OsString::from(raw)), |p| existing.contains(&p)).unwrap().1.file
    }

    #[test]
    fn the_program_path_is_stripped_quoted_or_not() {
        let line = "-TemplateID x -File 'C:\\S\\a b.txt'";
        for program in [
            "\"C:\\Program Files\\FciConnector\\fci-connector.exe\"",
            "C:\\Program Files\\FciConnector\\fci-connector.exe",
            "C:\\Program Files\\FciConnector\\FCI-CONNECTOR.EXE",
            "fci-connector",
            "fci-connector.exe",
            "C:\\Tools\\fci-connector.exe",
        ] {
            assert_eq!(strip_program(&format!("{program} {line}")), line, "{program}");
        }
        // A bare program name never swallows what follows, even a word ending in .exe.
        assert_eq!(strip_program("fci-connector protect x.exe -TemplateID y"), "protect x.exe -TemplateID y");
    }

    #[test]
    fn an_unquoted_program_path_is_one_program_again() {
        let raw = OsString::from(r"C:\Program Files\Fci\fci-connector.exe protect -Always -File x");
        let args: Vec<OsString> = [r"C:\Program", r"Files\Fci\fci-connector.exe", "protect", "-Always", "-File", "x"]
            .map(OsString::from)
            .into();
        let whole = rejoin_program(args.clone(), Some(&raw));
        assert_eq!(whole[0], OsString::from(r"C:\Program Files\Fci\fci-connector.exe"));
        assert_eq!(&whole[1..], &args[2..]);
        // Quoted, or no raw line (Unix): unchanged.
        let quoted = OsString::from(r#""C:\Program Files\Fci\fci-connector.exe" protect"#);
        let one: Vec<OsString> = [r"C:\Program Files\Fci\fci-connector.exe", "protect"].map(OsString::from).into();
        assert_eq!(rejoin_program(one.clone(), Some(&quoted)), one);
        assert_eq!(rejoin_program(args.clone(), None), args);
    }

    #[test]
    fn a_line_may_start_with_our_own_switches() {
        let (_, p) = parsed(&["-Always", "-TemplateID", "x", "-File", "'C:\\S\\a.txt'"]);
        assert!(p.always);
        assert_eq!(p.file, PathBuf::from("C:\\S\\a.txt"));
        assert!(!is_legacy(&argv(&["--always"])));
    }

    #[test]
    fn microsofts_line_with_a_split_path() {
        let (_, p) = parsed(&[
            "-File",
            "'C:\\Share\\Q3",
            "report",
            "final.docx'",
            "-TemplateID",
            "e6ee2481-26b9-45e5-b34a-f744eacd53b0",
            "-OwnerMail",
            "'alice@contoso.com'",
        ]);
        assert_eq!(p.file, PathBuf::from("C:\\Share\\Q3 report final.docx"));
        assert_eq!(p.template.as_deref(), Some("e6ee2481-26b9-45e5-b34a-f744eacd53b0"));
        assert_eq!(p.owner.as_deref(), Some("alice@contoso.com"));
    }

    #[test]
    fn unquoted_apostrophes_and_colon_form() {
        let (_, p) =
            parsed(&["--file:/srv/share/O'Brien", "notes.txt", "-templateid:{E6EE2481-26B9-45E5-B34A-F744EACD53B0}"]);
        assert_eq!(p.file, PathBuf::from("/srv/share/O'Brien notes.txt"));
        assert_eq!(p.template.as_deref(), Some("{E6EE2481-26B9-45E5-B34A-F744EACD53B0}"));
        let (_, p) = parsed(&["-File", "'/srv/O'Brien.docx'", "-TemplateID", "x"]);
        assert_eq!(p.file, PathBuf::from("/srv/O'Brien.docx"));
    }

    #[test]
    fn globals_anywhere_and_after_protect() {
        let (g, p) = parsed(&[
            "--templates",
            "/t",
            "protect",
            "-File",
            "/a b.txt",
            "-TemplateID",
            "x",
            "--rules",
            "/r",
            "--json",
        ]);
        assert_eq!(g.templates, Some(PathBuf::from("/t")));
        assert_eq!(g.rules, Some(PathBuf::from("/r")));
        assert_eq!(p.file, PathBuf::from("/a b.txt"));
        assert!(p.json);
    }

    #[test]
    fn positional_file_after_protect() {
        let (g, p) = parsed(&["--log-dir", "/l", "PROTECT", "/srv/a b.txt", "-TemplateID", "x"]);
        assert_eq!(g.log_dir, Some(PathBuf::from("/l")));
        assert_eq!(p.file, PathBuf::from("/srv/a b.txt"));
        assert!(parse(&argv(&["stray", "-File", "/a"]), None).is_err());
    }

    #[test]
    fn raw_windows_command_line_keeps_double_spaces() {
        let raw = OsString::from(
            r#""C:\Program Files\FciConnector\fci-connector.exe" -File 'D:\Share\two  spaces [x] & 100%.docx' -TemplateID e6ee2481-26b9-45e5-b34a-f744eacd53b0 -OwnerMail '[Source File Owner Email]'"#,
        );
        let a = argv(&["-File", "ignored"]);
        let (_, p) = parse(&a, Some(&raw)).unwrap();
        assert_eq!(p.file, PathBuf::from(r"D:\Share\two  spaces [x] & 100%.docx"));
        assert_eq!(p.owner.as_deref(), Some("[Source File Owner Email]"));
    }

    #[test]
    fn ignored_cloud_switches_and_empty_owner() {
        let (_, p) = parsed(&[
            "-File",
            "/a",
            "-TemplateID",
            "x",
            "-OwnerMail",
            "''",
            "-AppPrincipalId",
            "abc",
            "--SYMMETRICKEY:k",
        ]);
        assert_eq!(p.owner.as_deref(), Some(""));
        assert_eq!(p.ignored_switches, vec!["-AppPrincipalId", "--SYMMETRICKEY"]);
    }

    #[test]
    fn not_legacy() {
        assert!(!is_legacy(&argv(&["protect", "/a", "--template", "x"])));
        assert!(!is_legacy(&argv(&["status", "-File"])));
        assert!(!is_legacy(&argv(&["--templates", "/t", "status", "/a"])));
        assert!(is_legacy(&argv(&["--templates", "/t", "-file", "/a"])));
    }

    #[test]
    fn missing_file_is_usage() {
        let a = argv(&["-TemplateID", "x", "-OwnerMail", "a@b"]);
        assert!(is_legacy(&a));
        assert_eq!(parse(&a, None).unwrap_err().class(), ExitClass::Usage);
    }

    const G: &str = "e6ee2481-26b9-45e5-b34a-f744eacd53b0";

    /// FSRM's raw line for `path` in Microsoft's order and in the installer's, as Windows would hand it over.
    fn both_orders(path: &str) -> [String; 2] {
        [
            format!(r#""C:\F\fci-connector.exe" -File '{path}' -TemplateID {G} -OwnerMail 'a@contoso.com'"#),
            format!(r#""C:\F\fci-connector.exe" -TemplateID {G} -OwnerMail 'a@contoso.com' -File '{path}'"#),
        ]
    }

    #[test]
    fn hostile_names_read_as_path_text_when_every_piece_exists() {
        for name in
            [r"D:\S\x -Always -File 'decoy.txt", r"D:\S\Payroll -path copy.txt", r"D:\S\Salaries -Dry-Run -Json .txt"]
        {
            let pieces = [r"D:\S\x", "decoy.txt", r"D:\S\Payroll", "copy.txt", r"D:\S\Salaries", ".txt"];
            let existing: Vec<&str> = pieces.iter().copied().chain([name]).collect();
            for raw in both_orders(name) {
                assert_eq!(picked_raw(&raw, &existing), PathBuf::from(name), "{raw}");
                let (_, p) = parse_with(&argv(&["-File", "x"]), Some(&OsString::from(&raw)), |_| true).unwrap();
                assert!(!p.always && !p.dry_run && !p.json, "{raw}: switches read out of the name");
            }
        }
    }

    #[test]
    fn a_file_named_after_the_line_tail_does_not_win() {
        // `<name>' -TemplateID <G> -OwnerMail '<owner>` beside `<name>`: the reading that swallows the line's own
        // switches into the path loses to the one that keeps them.
        let name = r"D:\S\pay.xlsx";
        let fake = format!("{name}' -TemplateID {G} -OwnerMail 'a@contoso.com");
        let raw = both_orders(name)[0].clone();
        assert_eq!(picked_raw(&raw, &[name, &fake]), PathBuf::from(name));
        // With -Always at the end (the installer's old FsrmRules line) too.
        let raw = format!("{raw} -Always");
        let (_, p) =
            parse_with(&argv(&["-File", "x"]), Some(&OsString::from(&raw)), |p| p == name || p == fake).unwrap();
        assert_eq!(p.file, PathBuf::from(name));
        assert!(p.always);
    }

    #[test]
    fn a_vanished_file_does_not_hand_its_switches_to_a_file_named_like_its_start() {
        // FSRM named `x' --config 'c.toml`; it is gone, `x` exists: `x` is not processed with that config.
        let raw = r#"fci.exe -Always -TemplateID G -OwnerMail 'o' -File 'D:\S\x' --config 'c.toml'"#;
        let (g, p) = parse_with(&argv(&["-File", "x"]), Some(&OsString::from(raw)), |p| p == r"D:\S\x").unwrap();
        assert_eq!(p.file, PathBuf::from(r"D:\S\x' --config 'c.toml"));
        assert_eq!(g.config, None);
        assert_eq!(p.tried, vec![p.file.clone()]);
    }

    #[test]
    fn one_argument_is_never_split_again() {
        let name = "/srv/x -Always -File 'decoy.txt";
        for existing in [&[name, "decoy.txt", "/srv/x"][..], &[][..]] {
            assert_eq!(picked(&["-File", name, "-TemplateID", G, "-OwnerMail", "o@c"], existing), PathBuf::from(name));
            assert_eq!(picked(&["-TemplateID", G, "-File", name], existing), PathBuf::from(name));
        }
        // A path that arrives as one argument wins even over a longer one that exists.
        assert_eq!(picked(&["-File", "/a", "--json", "-TemplateID", G], &["/a --json"]), PathBuf::from("/a"));
    }

    #[test]
    fn quote_forms() {
        for (arg, want) in [
            ("'/a b.txt'", "/a b.txt"),
            ("\"/a b.txt\"", "/a b.txt"),
            ("\"'/a b.txt'\"", "/a b.txt"),
            ("/a b.txt", "/a b.txt"),
            ("'/O'Brien'", "/O'Brien"),
        ] {
            assert_eq!(picked(&["-File", arg, "-TemplateID", G], &[]), PathBuf::from(want), "{arg}");
        }
        let raw = format!(r#"fci.exe -File "'D:\a  b.txt'" -TemplateID {G} -OwnerMail "'o@c'""#);
        let (_, p) = parse_with(&argv(&["x"]), Some(&OsString::from(raw)), |_| false).unwrap();
        assert_eq!(p.file, PathBuf::from(r"D:\a  b.txt"));
        assert_eq!(p.owner.as_deref(), Some("o@c"));
        let raw = r#"fci.exe -File "D:\x -Always -File 'decoy.txt" -TemplateID G"#;
        assert_eq!(picked_raw(raw, &["decoy.txt"]), PathBuf::from(r"D:\x -Always -File 'decoy.txt"));
    }

    #[test]
    fn a_path_argument_loses_both_layers_of_wrapping_quotes() {
        let dir = tempfile::tempdir().unwrap();
        let named = dir.path().join("'quoted'.txt");
        for (given, want) in [
            (r#""'C:\share\Q3 report.txt'""#, r"C:\share\Q3 report.txt"),
            (r"'C:\share\Q3 report.txt'", r"C:\share\Q3 report.txt"),
            (r#""C:\share\Q3 report.txt""#, r"C:\share\Q3 report.txt"),
            (r"C:\share\Q3 report.txt", r"C:\share\Q3 report.txt"),
            ("'", "'"),
            ("'/O'Brien'", "/O'Brien"),
        ] {
            assert_eq!(unquoted(PathBuf::from(given)), PathBuf::from(want), "{given}");
        }
        // A name that really has the quotes is kept as given.
        std::fs::write(&named, b"x").unwrap();
        let wrapped = dir.path().join("'quoted'.txt");
        assert_eq!(unquoted(wrapped.clone()), wrapped);
        let whole = PathBuf::from(format!("'{}'", dir.path().join("x.txt").display()));
        assert_eq!(unquoted(whole), dir.path().join("x.txt"));
    }

    #[test]
    fn owner_with_switch_like_text_and_a_stray_double_quote() {
        let raw = format!(r#"fci.exe -File 'D:\a.txt' -TemplateID {G} -OwnerMail 'a -Always b@c'"#);
        let (_, p) = parse_with(&argv(&["x"]), Some(&OsString::from(raw)), |p| p == r"D:\a.txt").unwrap();
        assert_eq!(p.owner.as_deref(), Some("a -Always b@c"));
        assert!(!p.always);
        for tail in ["'alice@contoso.com'\"", "alice@contoso.com\"", "'[Source File Owner Email]'\""] {
            let raw = format!(r#"fci.exe -File 'D:\a b.txt' -TemplateID {G} -OwnerMail {tail}"#);
            let (_, p) = parse_with(&argv(&["x"]), Some(&OsString::from(raw)), |p| p == r"D:\a b.txt").unwrap();
            assert_eq!(p.file, PathBuf::from(r"D:\a b.txt"));
            assert!(!p.owner.as_deref().unwrap().contains(['"', '\'']), "{tail}: {:?}", p.owner);
        }
    }

    #[test]
    fn misspelt_switch_is_usage_naming_it() {
        let err = parse_with(&argv(&["-File", "'/a.txt'", "-TemplatID", G]), None, |_| false).unwrap_err();
        assert_eq!(err.class(), ExitClass::Usage);
        assert!(err.message().contains("-TemplatID"), "{}", err.message());
        // A file that exists is still found: the misspelling is then part of its name.
        assert_eq!(
            picked(&["-File", "/a.txt", "-TemplatID", G], &["/a.txt -TemplatID e6ee2481-26b9-45e5-b34a-f744eacd53b0"]),
            PathBuf::from(format!("/a.txt -TemplatID {G}"))
        );
    }

    #[test]
    fn thousands_of_words_are_read_with_bounded_work() {
        let name = format!("/s/{}", "-OwnerMail 'a' -Always ".repeat(1300));
        READS.with(|n| n.set(0));
        let _ = parse_with(&argv(&["-TemplateID", G, "-File", &name]), None, |_| false);
        let words: Vec<String> = std::iter::once("-File".to_string())
            .chain(name.split(' ').map(str::to_string))
            .chain(["-TemplateID".to_string(), G.to_string()])
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let _ = parse_with(&argv(&words), None, |_| false);
        // Work, not time: the readings share their tails, so the switch sequences read grow with the square of the
        // words at most (without the memo they grow exponentially and this never ends).
        let reads = READS.with(std::cell::Cell::get);
        assert!(reads < 2 * 2650 * 2650, "{reads} switch sequences read for 2,650 words");
    }
}
