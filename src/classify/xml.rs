//! A small element tree for rule files, with the line and column of every element for diagnostics.
//!
//! Rule files are small and read once, so a tree is simpler to interpret than a stream. Files may be UTF-8 (with
//! or without a BOM) or UTF-16 with a BOM, as Purview rule packages are saved; the `encoding` named in the XML
//! declaration is not trusted over the BOM.

use quick_xml::events::Event;

/// An XML element: its local name (namespace prefix dropped), attributes, child elements and direct text.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
    /// Byte offset of the `<` that opens the element in the decoded text.
    pub offset: usize,
}

impl Element {
    /// The value of attribute `name` (local name, case-sensitive as XML is).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Child elements named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// A parsed document: the decoded text (for line/column lookups) and its root element.
#[derive(Debug)]
pub struct Document {
    text: String,
    pub root: Element,
}

impl Document {
    /// 1-based line and column (in characters) of a byte offset of the decoded text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.text, offset)
    }
}

/// 1-based line and column (in characters) of `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// A parse failure at a byte offset of the decoded text.
#[derive(Debug)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
    /// The decoded text, when decoding succeeded (for line/column).
    pub text: Option<String>,
}

impl ParseError {
    /// 1-based line and column of the failure (1:1 when the bytes could not even be decoded).
    pub fn line_col(&self) -> (usize, usize) {
        self.text.as_deref().map_or((1, 1), |t| line_col(t, self.offset))
    }
}

/// Decode rule-file bytes: UTF-16LE/BE with a BOM, UTF-16LE without a BOM when it starts with `<\0`, else UTF-8.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    fn utf16(units: impl Iterator<Item = u16>) -> Result<String, String> {
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| format!("invalid UTF-16 (unpaired surrogate {:#06x})", e.unpaired_surrogate()))
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
            String::from_utf8(bytes.to_vec())
                .map_err(|e| format!("not UTF-8 or UTF-16 (invalid byte at offset {})", e.utf8_error().valid_up_to()))
        }
    }
}

/// Maximum element nesting accepted in a rule file (rule files are shallow; this stops hostile input).
const MAX_DEPTH: usize = 64;

/// Parse `bytes` into a document.
pub fn parse(bytes: &[u8]) -> Result<Document, ParseError> {
    let text = decode(bytes).map_err(|message| ParseError { offset: 0, message, text: None })?;
    match build_tree(&text) {
        Ok(root) => Ok(Document { text, root }),
        Err((offset, message)) => Err(ParseError { offset, message, text: Some(text) }),
    }
}

fn build_tree(text: &str) -> Result<Element, (usize, String)> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| (reader.error_position() as usize, e.to_string()))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err((before, "content after the root element".into()));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err((before, format!("elements nested deeper than {MAX_DEPTH}")));
                }
                stack.push(element(&start, before)?);
            }
            Event::Empty(start) => {
                let el = element(&start, before)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err((before, "unexpected closing tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.xml10_content();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => s.to_string(),
                            None => return Err((before, format!("unknown entity &{name};"))),
                        }
                    }
                    Err(e) => return Err((before, e.to_string())),
                };
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err((text.len(), format!("element <{}> is not closed", open.name)));
    }
    root.ok_or((0, "no root element".into()))
}

fn element(start: &quick_xml::events::BytesStart<'_>, offset: usize) -> Result<Element, (usize, String)> {
    let name = start.local_name().as_ref().to_string();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| (offset, format!("bad attribute in <{name}>: {e}")))?;
        let key = attr.key.local_name().as_ref().to_string();
        if attr.key.as_ref().starts_with("xmlns") {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| (offset, format!("bad value of attribute {key} in <{name}>: {e}")))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element { name, attrs, children: Vec::new(), text: String::new(), offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utf16_with_entities_and_positions() {
        let xml = "<?xml version=\"1.0\" encoding=\"utf-16\"?>\n<a x=\"1\">\n  <b>(?&lt;![0-9])&#65;</b>\n</a>";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(xml.encode_utf16().flat_map(|u| u.to_le_bytes()));
        let doc = parse(&bytes).unwrap();
        assert_eq!(doc.root.name, "a");
        assert_eq!(doc.root.attr("x"), Some("1"));
        let b = doc.root.child("b").unwrap();
        assert_eq!(b.text, "(?<![0-9])A");
        assert_eq!(doc.line_col(b.offset), (3, 3));
    }

    #[test]
    fn reports_position_of_errors() {
        let err = parse(b"<a>\n<b></c></a>").unwrap_err();
        assert_eq!(err.line_col().0, 2);
        assert!(parse(b"").is_err());
        assert!(parse(&[0xFF, 0xFE, 0x00, 0xD8]).is_err());
    }
}
