//! A guarded XML text walker shared by the Office Open XML and OpenDocument readers: bounded nesting depth,
//! bounded token size, and no entity expansion (a document type that declares entities is refused outright,
//! which is what defuses "billion laughs").

use std::io::{self, BufRead, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::budget::{Budget, from_io, limit_io};
use super::unreadable;
use crate::Error;

/// What a format does with the elements and text of one XML part.
pub(crate) trait Visitor {
    /// An element opens (also called for empty elements, followed by `end`).
    fn start(&mut self, element: &BytesStart, budget: &mut Budget) -> Result<(), Error>;
    /// An element closes; `local` is its name without prefix.
    fn end(&mut self, local: &str, budget: &mut Budget) -> Result<(), Error>;
    /// Character data, with character and predefined entity references already resolved.
    fn text(&mut self, text: &str, budget: &mut Budget) -> Result<(), Error>;
}

/// Parts of at most this many bytes (and at most `max_buffered_bytes`) are inflated whole and parsed in place: the
/// parser then borrows every token from that one buffer instead of copying it out of a chain of buffered readers,
/// and no token can outgrow the cap. Larger parts are streamed. Typical Office parts are well below it; a 64 KiB
/// docx holds a body part of about 400 KiB.
const IN_MEMORY: u64 = 1024 * 1024;

/// Walk the XML in `input` (named `part` in errors), calling `visitor`.
pub(crate) fn walk(
    mut input: impl Read,
    part: &str,
    budget: &mut Budget,
    visitor: &mut dyn Visitor,
) -> Result<(), Error> {
    let cap = budget.limits.max_buffered_bytes;
    let whole_up_to = IN_MEMORY.min(cap);
    let mut head = Vec::with_capacity(64 * 1024);
    (&mut input).take(whole_up_to + 1).read_to_end(&mut head).map_err(|e| from_io(part, &e))?;
    let mut walker = Walker { part, max_depth: budget.limits.max_xml_depth, depth: 0, events: 0 };
    if head.len() as u64 <= whole_up_to {
        let mut reader = Reader::from_reader(head.as_slice());
        reader.config_mut().allow_dangling_amp = true;
        loop {
            let event = reader.read_event().map_err(|e| xml_error(part, e))?;
            if !walker.event(event, budget, visitor)? {
                return Ok(());
            }
        }
    }
    let inner = io::BufReader::new(io::Cursor::new(head).chain(input));
    let mut reader = Reader::from_reader(TokenCap { inner, since_event: 0, cap });
    reader.config_mut().allow_dangling_amp = true;
    let mut buf = Vec::new();
    loop {
        reader.get_mut().since_event = 0;
        let event = reader.read_event_into(&mut buf).map_err(|e| xml_error(part, e))?;
        if !walker.event(event, budget, visitor)? {
            return Ok(());
        }
        buf.clear();
    }
}

/// The state of one part's walk, shared by the in-memory and the streaming parser.
struct Walker<'p> {
    part: &'p str,
    max_depth: usize,
    depth: usize,
    events: u32,
}

impl Walker<'_> {
    /// Hand one event to `visitor`; false at the end of the part.
    fn event(&mut self, event: Event<'_>, budget: &mut Budget, visitor: &mut dyn Visitor) -> Result<bool, Error> {
        let part = self.part;
        match event {
            Event::Start(e) => {
                self.depth += 1;
                if self.depth > self.max_depth {
                    let max_depth = self.max_depth;
                    return Err(unreadable(format!("{part}: XML nesting deeper than max_xml_depth ({max_depth})")));
                }
                visitor.start(&e, budget)?;
            }
            Event::Empty(e) => {
                visitor.start(&e, budget)?;
                visitor.end(local(&e), budget)?;
            }
            Event::End(e) => {
                self.depth = self.depth.saturating_sub(1);
                visitor.end(without_prefix(e.name().into_inner()), budget)?;
            }
            Event::Text(t) => visitor.text(&t.xml10_content(), budget)?,
            Event::CData(t) => visitor.text(&t, budget)?,
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    visitor.text(c.encode_utf8(&mut [0; 4]), budget)?;
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                    visitor.text(s, budget)?;
                }
                // Any other entity is left out: entities are never expanded.
            }
            Event::DocType(d) => {
                if d.contains("<!ENTITY") {
                    return Err(unreadable(format!(
                        "{part}: the XML declares entities (DOCTYPE with ENTITY); entity expansion is refused"
                    )));
                }
            }
            Event::Eof => return Ok(false),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
        self.events = self.events.wrapping_add(1);
        if self.events.is_multiple_of(4096) {
            budget.check_time()?;
        }
        Ok(true)
    }
}

fn xml_error(part: &str, err: quick_xml::Error) -> Error {
    match err {
        quick_xml::Error::Io(io) => from_io(part, &io),
        other => unreadable(format!("{part}: malformed XML: {other}")),
    }
}

/// Bounds the bytes one XML token may span, since the parser buffers a whole token (a text node can be
/// hundreds of megabytes in a hostile file).
struct TokenCap<R> {
    inner: R,
    since_event: u64,
    cap: u64,
}

impl<R: BufRead> Read for TokenCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for TokenCap<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_event > self.cap {
            return Err(limit_io(format!("an XML token is larger than max_buffered_bytes ({} bytes)", self.cap)));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.since_event += amount as u64;
        self.inner.consume(amount);
    }
}

/// The local name of an element (without its namespace prefix), borrowed from it.
pub(crate) fn local<'e>(element: &'e BytesStart<'_>) -> &'e str {
    without_prefix(element.name().into_inner())
}

/// `w:t` → `t`: what quick-xml's `local_name` gives, without its searcher set-up, which on Office XML's short
/// names cost more than the search (twice per element).
fn without_prefix(name: &str) -> &str {
    match name.bytes().position(|b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// The unescaped value of attribute `name` (qualified name as written, e.g. `t` or `meta:name`).
pub(crate) fn attribute(element: &BytesStart, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok().map(|v| v.into_owned()))
}

/// The text `visitor` makes of one part `xml` under the default limits (the format modules' tests).
#[cfg(test)]
pub(crate) fn text_of_part(xml: &str, visitor: &mut dyn Visitor) -> String {
    let limits = crate::extract::Limits::default();
    let mut got = String::new();
    let mut sink = |s: &str| got.push_str(s);
    let mut budget = Budget::new(&limits, &mut sink);
    walk(xml.as_bytes(), "part", &mut budget, visitor).unwrap();
    budget.finish();
    got
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;

    /// Collects all text, one line per closed element that held text.
    struct AllText;

    impl Visitor for AllText {
        fn start(&mut self, _: &BytesStart, _: &mut Budget) -> Result<(), Error> {
            Ok(())
        }
        fn end(&mut self, _: &str, budget: &mut Budget) -> Result<(), Error> {
            budget.separate("\n")
        }
        fn text(&mut self, text: &str, budget: &mut Budget) -> Result<(), Error> {
            budget.push(text)
        }
    }

    fn run(xml: &str, limits: &Limits) -> Result<String, Error> {
        let mut got = String::new();
        let mut sink = |s: &str| got.push_str(s);
        let mut budget = Budget::new(limits, &mut sink);
        let outcome = walk(xml.as_bytes(), "part.xml", &mut budget, &mut AllText);
        budget.finish();
        outcome.map(|()| got)
    }

    #[test]
    fn text_and_references() {
        let got = run("<a><b>4111 &amp; &#x31;&#49;</b><c><![CDATA[<x>]]></c></a>", &Limits::default()).unwrap();
        assert_eq!(got, "4111 & 11\n<x>\n");
    }

    #[test]
    fn billion_laughs_is_refused() {
        let xml =
            r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        let err = run(xml, &Limits::default()).unwrap_err();
        assert!(err.message().contains("entity expansion is refused"), "{}", err.message());
    }

    #[test]
    fn depth_limit() {
        let limits = Limits { max_xml_depth: 10, ..Limits::default() };
        let deep = format!("{}x{}", "<a>".repeat(11), "</a>".repeat(11));
        let err = run(&deep, &limits).unwrap_err();
        assert!(err.message().contains("max_xml_depth (10)"), "{}", err.message());
        assert!(run(&format!("{}x{}", "<a>".repeat(10), "</a>".repeat(10)), &limits).is_ok());
    }

    #[test]
    fn token_size_limit() {
        let limits = Limits { max_buffered_bytes: 100_000, ..Limits::default() };
        let big = format!("<a>{}</a>", "x".repeat(300_000));
        let err = run(&big, &limits).unwrap_err();
        assert!(err.message().contains("max_buffered_bytes"), "{}", err.message());
    }

    #[test]
    fn parts_read_in_memory_and_streamed_give_the_same_text() {
        let xml = format!("<a>{}<c>&amp;&#x31;<![CDATA[<x>]]></c></a>", "<b>4111 1111</b><e/>".repeat(50));
        let expected = format!("{}&1<x>\n", "4111 1111\n".repeat(50));
        // Within max_buffered_bytes: parsed in memory.
        assert_eq!(run(&xml, &Limits::default()).unwrap(), expected);
        // Larger than max_buffered_bytes, though no token is: streamed.
        let limits = Limits { max_buffered_bytes: 64, ..Limits::default() };
        assert!(xml.len() > 64);
        assert_eq!(run(&xml, &limits).unwrap(), expected);
        let err = run(&format!("{xml}<"), &limits).unwrap_err();
        assert!(err.message().starts_with("part.xml: malformed XML"), "{}", err.message());
    }

    #[test]
    fn malformed_xml_is_unreadable() {
        let err = run("<a><b></a>", &Limits::default()).unwrap_err();
        assert!(err.message().starts_with("part.xml: malformed XML"), "{}", err.message());
    }
}
