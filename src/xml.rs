//! The one element tree for the XML documents this program reads itself: templates, container licenses, and rule
//! files (fci-connector's FSRM-style files and Purview rule packages). Documents are small and read once, so a tree
//! is simpler to interpret than a stream (`extract::xml` is the streaming walker for documents being classified).
//!
//! Every element keeps its `line:col` for error messages, nesting is bounded, no DOCTYPE is accepted and no entity
//! other than XML's five predefined ones and character references is expanded (no DTD, no bombs). Bytes may be
//! UTF-8 (with or without a BOM) or UTF-16 ([`decode`]), as Windows tools save XML.

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

/// Deepest element nesting accepted (these documents are shallow; this stops hostile input).
pub const MAX_DEPTH: usize = 64;

/// A parse or schema problem at a position in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub line: usize,
    pub col: usize,
    pub message: String,
    /// The XML reader itself rejected the text (as opposed to a rule of this tree or of the caller's schema).
    pub malformed: bool,
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.malformed { "not well-formed XML: " } else { "" };
        write!(f, "{}:{}: {kind}{}", self.line, self.col, self.message)
    }
}

impl std::error::Error for XmlError {}

impl XmlError {
    /// A problem at `line:col` (1-based).
    pub fn new(line: usize, col: usize, message: impl Into<String>) -> Self {
        XmlError { line, col, message: message.into(), malformed: false }
    }
}

/// One element: local name (namespace prefix dropped), attributes, direct text, children, and where it starts.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
    /// 1-based line and column (in characters) of the `<` that opens the element.
    pub line: usize,
    pub col: usize,
}

impl Element {
    /// An error positioned at this element.
    pub fn error(&self, message: impl Into<String>) -> XmlError {
        XmlError::new(self.line, self.col, message)
    }

    /// The value of attribute `name` (local name, case-sensitive as XML is), if present.
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

    /// The first child called `name`, if any; later ones are not looked at (lenient formats such as Purview's).
    pub fn first_child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The child called `name`, if any; more than one is an error (strict formats: templates, licenses).
    pub fn single_child<'a>(&'a self, name: &'a str) -> Result<Option<&'a Element>, XmlError> {
        let mut found = self.children_named(name);
        let first = found.next();
        if let Some(second) = found.next() {
            return Err(second.error(format!("<{name}> may appear only once in <{}>", self.name)));
        }
        Ok(first)
    }

    /// The trimmed text of [`Element::single_child`] `name`, if any.
    pub fn single_child_text<'a>(&'a self, name: &'a str) -> Result<Option<&'a str>, XmlError> {
        Ok(self.single_child(name)?.map(|c| c.text.trim()))
    }

    /// The trimmed text of [`Element::single_child`] `name`, or an error when it is missing.
    pub fn required_single_child_text<'a>(&'a self, name: &'a str) -> Result<&'a str, XmlError> {
        self.single_child_text(name)?.ok_or_else(|| self.error(format!("<{}> needs a <{name}> element", self.name)))
    }

    /// Reject children not in `known`, so a typo in an admin's file is reported instead of silently ignored.
    pub fn reject_unknown_children(&self, known: &[&str]) -> Result<(), XmlError> {
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

/// Bytes that are not text in an encoding XML files use.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid UTF-16 (unpaired surrogate {unpaired:#06x})")]
    Utf16 { unpaired: u16 },
    #[error("not UTF-8 or UTF-16 (invalid byte at offset {offset})")]
    NotText { offset: usize },
}

/// A start tag or a reference the tree cannot take (placed at its line and column by [`parse`]).
#[derive(Debug, thiserror::Error)]
enum Malformed {
    #[error("bad attribute in <{element}>: {detail}")]
    Attribute { element: String, detail: String },
    #[error("bad value of {key} in <{element}>: {detail}")]
    Value { key: String, element: String, detail: String },
    #[error("invalid character reference &{0};")]
    CharRef(String),
    #[error("unknown entity &{0}; (only XML's predefined entities are accepted)")]
    Entity(String),
}

/// Decode XML file bytes: UTF-16LE/BE with a BOM, UTF-16 without one when the text starts with `<` (`<\0` or
/// `\0<`), else UTF-8 (a BOM dropped). The `encoding` named in the XML declaration is not trusted over the bytes.
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    fn utf16(units: impl Iterator<Item = u16>) -> Result<String, DecodeError> {
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| DecodeError::Utf16 { unpaired: e.unpaired_surrogate() })
    }
    let le = |b: &[u8]| b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>();
    let be = |b: &[u8]| b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect::<Vec<_>>();
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(le(rest).into_iter()),
        [0xFE, 0xFF, rest @ ..] => utf16(be(rest).into_iter()),
        [b'<', 0, ..] => utf16(le(bytes).into_iter()),
        [0, b'<', ..] => utf16(be(bytes).into_iter()),
        _ => {
            let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            String::from_utf8(bytes.to_vec()).map_err(|e| DecodeError::NotText { offset: e.utf8_error().valid_up_to() })
        }
    }
}

/// Decode `bytes` ([`decode`]) and parse them into the root element; an encoding problem is an error at 1:1.
pub fn parse_bytes(bytes: &[u8]) -> Result<Element, XmlError> {
    let text = decode(bytes).map_err(|e| XmlError::new(1, 1, e.to_string()))?;
    parse(&text)
}

/// Parse `text` into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().expand_empty_elements = false;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut at = Positions::new(text);
    loop {
        let before = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let (line, col) = at.of(reader.error_position());
                return Err(XmlError { line, col, message: e.to_string(), malformed: true });
            }
        };
        let (line, col) = at.of(before);
        let err = |message: String| XmlError::new(line, col, message);
        let malformed = |e: Malformed| XmlError::new(line, col, e.to_string());
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(err("content after the root element".into()));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                stack.push(element(&start, line, col).map_err(malformed)?);
            }
            Event::Empty(start) => {
                let el = element(&start, line, col).map_err(malformed)?;
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
                let resolved = resolve_reference(&r).map_err(malformed)?;
                match stack.last_mut() {
                    Some(el) => el.text.push(resolved),
                    None => return Err(err("entity reference outside the root element".into())),
                }
            }
            // Refused rather than skipped: a DTD is how entity bombs and external entities come in, and none of
            // the documents read here (templates, licenses, rule files, real Purview packages) has one.
            Event::DocType(_) => return Err(err("DOCTYPE declarations are not accepted".into())),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(open.error(format!("<{}> is not closed", open.name)));
    }
    root.ok_or_else(|| XmlError::new(1, 1, "no root element"))
}

fn element(start: &BytesStart<'_>, line: usize, col: usize) -> Result<Element, Malformed> {
    let name = start.local_name().as_ref().to_string();
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| Malformed::Attribute { element: name.clone(), detail: e.to_string() })?;
        let raw_key: &str = attr.key.as_ref();
        if raw_key == "xmlns" || raw_key.starts_with("xmlns:") {
            continue;
        }
        let key = attr.key.local_name().as_ref().to_string();
        let value = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| Malformed::Value {
            key: key.clone(),
            element: name.clone(),
            detail: e.to_string(),
        })?;
        attributes.push((key, Cow::into_owned(value)));
    }
    Ok(Element { name, attributes, line, col, ..Default::default() })
}

/// Character references and XML's five predefined entities; anything else would need a DTD, which we refuse.
fn resolve_reference(r: &BytesRef<'_>) -> Result<char, Malformed> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(Malformed::CharRef(String::from(&**r))),
        };
    }
    match &**r {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(Malformed::Entity(other.to_string())),
    }
}

/// Line and column of increasing byte offsets, counted incrementally so a large one-line document stays linear.
struct Positions<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
    col: usize,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        Positions { text, offset: 0, line: 1, col: 1 }
    }

    fn of(&mut self, offset: u64) -> (usize, usize) {
        let mut end = usize::try_from(offset).unwrap_or(usize::MAX).min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        if end < self.offset {
            return position(self.text, offset);
        }
        for c in self.text[self.offset..end].chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        self.offset = end;
        (self.line, self.col)
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
    fn parses_utf16_with_entities_and_positions() {
        let xml = "<?xml version=\"1.0\" encoding=\"utf-16\"?>\n<a x=\"1\">\n  <b>(?&lt;![0-9])&#65;</b>\n</a>";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(xml.encode_utf16().flat_map(|u| u.to_le_bytes()));
        let root = parse_bytes(&bytes).unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x"), Some("1"));
        let b = root.first_child("b").unwrap();
        assert_eq!(b.text, "(?<![0-9])A");
        assert_eq!((b.line, b.col), (3, 3));
        assert!(parse_bytes(&[0xFF, 0xFE, 0x00, 0xD8]).unwrap_err().message.contains("UTF-16"));
    }

    #[test]
    fn first_child_and_single_child() {
        let root = parse("<a><b>1</b><c/><b>2</b></a>").unwrap();
        assert_eq!(root.first_child("b").map(|b| b.text.as_str()), Some("1"));
        assert!(root.single_child("b").unwrap_err().message.contains("only once"));
        assert_eq!(root.single_child("c").unwrap().map(|c| c.name.as_str()), Some("c"));
        assert!(root.single_child("d").unwrap().is_none());
        assert!(root.reject_unknown_children(&["b"]).unwrap_err().message.contains("<c>"));
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
        assert!(e.malformed && e.to_string().contains("not well-formed XML"), "{e}");
        let e = parse("<a>\n<b></c></a>").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(parse("<a>").is_err());
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
    }

    #[test]
    fn positions_count_characters_incrementally() {
        let text = "é\n  <a>\nxé<b/>";
        let mut at = Positions::new(text);
        for offset in [0, 3, 5, 9, 12, 3, text.len() as u64] {
            assert_eq!(at.of(offset), position(text, offset), "offset {offset}");
        }
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
