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

/// Walk the XML in `input` (named `part` in errors), calling `visitor`.
pub(crate) fn walk(input: impl Read, part: &str, budget: &mut Budget, visitor: &mut dyn Visitor) -> Result<(), Error> {
    let capped = TokenCap { inner: io::BufReader::new(input), since_event: 0, cap: budget.limits.max_buffered_bytes };
    let mut reader = Reader::from_reader(capped);
    reader.config_mut().allow_dangling_amp = true;
    let max_depth = budget.limits.max_xml_depth;
    let mut depth = 0usize;
    let mut buf = Vec::new();
    let mut events = 0u32;
    loop {
        reader.get_mut().since_event = 0;
        let event = reader.read_event_into(&mut buf).map_err(|e| xml_error(part, e))?;
        match event {
            Event::Start(e) => {
                depth += 1;
                if depth > max_depth {
                    return Err(unreadable(format!("{part}: XML nesting deeper than max_xml_depth ({max_depth})")));
                }
                visitor.start(&e, budget)?;
            }
            Event::Empty(e) => {
                visitor.start(&e, budget)?;
                visitor.end(e.local_name().as_ref(), budget)?;
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                visitor.end(e.local_name().as_ref(), budget)?;
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
            Event::Eof => return Ok(()),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
        buf.clear();
        events = events.wrapping_add(1);
        if events.is_multiple_of(4096) {
            budget.check_time()?;
        }
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

/// The local name of an element (without its namespace prefix).
pub(crate) fn local(element: &BytesStart) -> String {
    element.local_name().as_ref().to_owned()
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
    fn malformed_xml_is_unreadable() {
        let err = run("<a><b></a>", &Limits::default()).unwrap_err();
        assert!(err.message().starts_with("part.xml: malformed XML"), "{}", err.message());
    }
}
