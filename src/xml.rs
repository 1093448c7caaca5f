//! A small element tree over quick-xml for the short XML documents this program reads itself (templates and
//! container licenses): every element keeps its source position so errors can say `line:col`, nesting is bounded,
//! and no entity other than XML's five predefined ones and character references is expanded (no DTD, no bombs).

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;

/// A parse or schema problem at a position in the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct XmlError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// One element: local name (namespace prefix dropped), attributes, direct text, children, and where it starts.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
    pub line: usize,
    pub col: usize,
}

impl Element {
    /// An error positioned at this element.
    pub fn error(&self, message: impl Into<String>) -> XmlError {
        XmlError { line: self.line, col: self.col, message: message.into() }
    }

    /// The value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of attribute `name`, or an error naming the element and the attribute.
    pub fn required_attr(&self, name: &str) -> Result<&str, XmlError> {
        self.attr(name).ok_or_else(|| self.error(format!("<{}> needs the attribute {name}", self.name)))
    }

    /// Child elements called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The only child called `name`, if any; more than one is an error.
    pub fn child<'a>(&'a self, name: &'a str) -> Result<Option<&'a Element>, XmlError> {
        let mut found = self.children_named(name);
        let first = found.next();
        if let Some(second) = found.next() {
            return Err(second.error(format!("<{name}> may appear only once in <{}>", self.name)));
        }
        Ok(first)
    }

    /// The trimmed text of the only child called `name`, if any.
    pub fn child_text<'a>(&'a self, name: &'a str) -> Result<Option<&'a str>, XmlError> {
        Ok(self.child(name)?.map(|c| c.text.trim()))
    }

    /// The trimmed text of the only child called `name`, or an error.
    pub fn required_child_text<'a>(&'a self, name: &'a str) -> Result<&'a str, XmlError> {
        self.child_text(name)?.ok_or_else(|| self.error(format!("<{}> needs a <{name}> element", self.name)))
    }

    /// Reject children not in `known`, so a typo in an admin's file is reported instead of silently ignored.
    pub fn only_children(&self, known: &[&str]) -> Result<(), XmlError> {
        match self.children.iter().find(|c| !known.contains(&c.name.as_str())) {
            Some(c) => Err(c.error(format!(
                "unknown element <{}> in <{}> (expected one of: {})",
                c.name,
                self.name,
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }
}

/// Parse `text` into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().expand_empty_elements = false;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let at = |offset: u64| position(text, offset);
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            let (line, col) = at(reader.error_position());
            XmlError { line, col, message: format!("not well-formed XML: {e}") }
        })?;
        let (line, col) = at(before);
        let err = |message: String| XmlError { line, col, message };
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(err("content after the root element".into()));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                stack.push(element(&start, line, col).map_err(err)?);
            }
            Event::Empty(start) => {
                let el = element(&start, line, col).map_err(err)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(err("closing tag without an opening tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(err("text outside the root element".into())),
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = resolve_reference(&r).map_err(err)?;
                match stack.last_mut() {
                    Some(el) => el.text.push(resolved),
                    None => return Err(err("entity reference outside the root element".into())),
                }
            }
            Event::DocType(_) => return Err(err("DOCTYPE declarations are not accepted".into())),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(open.error(format!("<{}> is not closed", open.name)));
    }
    root.ok_or_else(|| XmlError { line: 1, col: 1, message: "no root element".into() })
}

fn element(start: &BytesStart<'_>, line: usize, col: usize) -> Result<Element, String> {
    let name = start.local_name().as_ref().to_string();
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute in <{name}>: {e}"))?;
        let raw_key: &str = attr.key.as_ref();
        if raw_key == "xmlns" || raw_key.starts_with("xmlns:") {
            continue;
        }
        let key = attr.key.local_name().as_ref().to_string();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad value of {key} in <{name}>: {e}"))?;
        attributes.push((key, Cow::into_owned(value)));
    }
    Ok(Element { name, attributes, line, col, ..Default::default() })
}

/// Character references and XML's five predefined entities; anything else would need a DTD, which we refuse.
fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<char, String> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(format!("invalid character reference &{};", &**r)),
        };
    }
    match &**r {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(format!("unknown entity &{other}; (only XML's predefined entities are accepted)")),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn position(text: &str, offset: u64) -> (usize, usize) {
    let offset = usize::try_from(offset).unwrap_or(usize::MAX).min(text.len());
    let mut end = offset;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Escape text for an element body. A carriage return is written as a character reference, since XML readers
/// turn a literal one into a line feed.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, &['\r'])
}

/// Escape text for an attribute value. Tabs and line ends are written as character references, since XML readers
/// turn literal ones into spaces (attribute-value normalisation): a file name with a line break must read back as
/// it was written.
pub fn escape_attr(text: &str) -> Cow<'_, str> {
    escape_with(text, &['\t', '\n', '\r'])
}

fn escape_with<'a>(text: &'a str, whitespace: &[char]) -> Cow<'a, str> {
    let escaped = quick_xml::escape::escape(text);
    if !escaped.contains(whitespace) {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len() + 8);
    for c in escaped.chars() {
        match c {
            c if whitespace.contains(&c) => out.push_str(&format!("&#{};", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tree_with_positions() {
        let root = parse("<?xml version=\"1.0\"?>\n<a x=\"1\">\n  <b>hi &amp; &#65;</b>\n  <c/>\n</a>").unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x"), Some("1"));
        assert_eq!(root.children[0].text, "hi & A");
        assert_eq!((root.children[0].line, root.children[0].col), (3, 3));
        assert_eq!(root.children[1].name, "c");
    }

    #[test]
    fn refuses_doctype_and_unknown_entities() {
        let bomb = "<!DOCTYPE a [<!ENTITY x \"xx\">]><a>&x;</a>";
        assert!(parse(bomb).unwrap_err().message.contains("DOCTYPE"));
        assert!(parse("<a>&x;</a>").unwrap_err().message.contains("unknown entity"));
    }

    #[test]
    fn reports_unclosed_and_mismatched() {
        let e = parse("<a>\n<b>\n</a>").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(parse("<a>").is_err());
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
    }

    #[test]
    fn whitespace_in_attributes_and_text_survives_a_round_trip() {
        let value = "a\tb\nc\r\nd & <e>";
        let doc = format!("<a v=\"{}\">{}</a>", escape_attr(value), escape(value));
        let root = parse(&doc).unwrap();
        assert_eq!(root.attr("v"), Some(value));
        assert_eq!(root.text, value);
    }

    #[test]
    fn bounds_depth() {
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().message.contains("deeper"));
    }
}
