//! Office Open XML (.docx/.docm, .xlsx/.xlsm, .pptx): the text-bearing parts of the package (body, headers,
//! footers, footnotes, endnotes, comments; shared strings, inline strings and cell values; slides and notes)
//! and the core and custom document properties, where FSRM stores classifications for Office files.

use std::io::{Read, Seek};

use quick_xml::events::BytesStart;
use zip::ZipArchive;

use super::budget::Budget;
use super::xml::{self, Visitor};
use super::zipguard;
use crate::Error;

/// Which application's package this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Word,
    Excel,
    PowerPoint,
}

impl Kind {
    /// Recognise the package from its main part.
    pub fn of(names: &[String]) -> Option<Kind> {
        let has = |part: &str| names.iter().any(|n| n == part);
        if has("word/document.xml") {
            Some(Kind::Word)
        } else if has("xl/workbook.xml") {
            Some(Kind::Excel)
        } else if has("ppt/presentation.xml") {
            Some(Kind::PowerPoint)
        } else {
            None
        }
    }

    pub fn format(self) -> &'static str {
        match self {
            Kind::Word => "docx",
            Kind::Excel => "xlsx",
            Kind::PowerPoint => "pptx",
        }
    }
}

/// How a part's XML is turned into text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// Document content: only text elements count (drawing coordinates and ids are numbers, not text).
    Content,
    /// A worksheet: like content, plus cell values that are not indexes into the shared strings.
    Sheet,
    /// Core properties: every element's text, one per line.
    CoreProperties,
    /// Custom properties: `name: value` lines.
    CustomProperties,
}

/// The parts to read, in the order they are read, with the style to read them in.
fn parts(kind: Kind, names: &[String]) -> Vec<(usize, Style)> {
    let mut chosen: Vec<(u8, u64, usize, Style)> = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let rank_style = match (kind, name.as_str()) {
            (_, "docProps/core.xml") => Some((20, Style::CoreProperties)),
            (_, "docProps/custom.xml") => Some((21, Style::CustomProperties)),
            (Kind::Word, "word/document.xml") => Some((0, Style::Content)),
            (Kind::Word, n) if is_numbered(n, "word/header") => Some((1, Style::Content)),
            (Kind::Word, n) if is_numbered(n, "word/footer") => Some((2, Style::Content)),
            (Kind::Word, "word/footnotes.xml") => Some((3, Style::Content)),
            (Kind::Word, "word/endnotes.xml") => Some((4, Style::Content)),
            (Kind::Word, "word/comments.xml") => Some((5, Style::Content)),
            (Kind::Excel, "xl/sharedStrings.xml") => Some((0, Style::Content)),
            (Kind::Excel, n) if is_numbered(n, "xl/worksheets/sheet") => Some((1, Style::Sheet)),
            (Kind::Excel, n) if is_numbered(n, "xl/comments") || is_numbered(n, "xl/comments/comment") => {
                Some((2, Style::Content))
            }
            (Kind::PowerPoint, n) if is_numbered(n, "ppt/slides/slide") => Some((0, Style::Content)),
            (Kind::PowerPoint, n) if is_numbered(n, "ppt/notesSlides/notesSlide") => Some((1, Style::Content)),
            (Kind::PowerPoint, n) if is_numbered(n, "ppt/comments/comment") => Some((2, Style::Content)),
            _ => None,
        };
        if let Some((rank, style)) = rank_style {
            chosen.push((rank, part_number(name), index, style));
        }
    }
    // Slide 10 comes after slide 9, whatever the order inside the zip.
    chosen.sort_by_key(|&(rank, number, index, _)| (rank, number, index));
    chosen.into_iter().map(|(_, _, index, style)| (index, style)).collect()
}

/// `word/header12.xml` is a numbered `word/header` part; so is `word/header.xml`.
fn is_numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(".xml"))
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
}

fn part_number(name: &str) -> u64 {
    let stem = name.strip_suffix(".xml").unwrap_or(name);
    let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    stem[stem.len() - digits..].parse().unwrap_or(0)
}

/// Push the text of every text-bearing part of the package.
pub(crate) fn read<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    kind: Kind,
    names: &[String],
    budget: &mut Budget,
) -> Result<(), Error> {
    for (index, style) in parts(kind, names) {
        let entry = zipguard::entry(archive, index, budget)?;
        let name = entry.name.clone();
        xml::walk(entry, &name, budget, &mut PartText::new(style))?;
        budget.separate("\n")?;
    }
    Ok(())
}

/// Turns one part's XML events into text.
struct PartText {
    style: Style,
    /// Depth inside an element whose text counts (`w:t`, `a:t`, a cell value...); 0 outside.
    in_text: usize,
    /// The current cell's value is an index into the shared strings, not text.
    shared_string_cell: bool,
    /// Custom properties: the name of the property being read, until its value starts.
    property: Option<String>,
}

impl PartText {
    fn new(style: Style) -> Self {
        PartText { style, in_text: 0, shared_string_cell: false, property: None }
    }

    fn is_text_element(&self, local: &str) -> bool {
        match self.style {
            Style::Content => matches!(local, "t" | "delText" | "text"),
            Style::Sheet => {
                matches!(
                    local,
                    "t" | "oddHeader" | "oddFooter" | "evenHeader" | "evenFooter" | "firstHeader" | "firstFooter"
                ) || (local == "v" && !self.shared_string_cell)
            }
            Style::CoreProperties | Style::CustomProperties => true,
        }
    }
}

impl Visitor for PartText {
    fn start(&mut self, element: &BytesStart, budget: &mut Budget) -> Result<(), Error> {
        let local = xml::local(element);
        match local {
            "c" if self.style == Style::Sheet => {
                self.shared_string_cell = xml::attribute(element, "t").as_deref() == Some("s");
            }
            "property" if self.style == Style::CustomProperties => self.property = xml::attribute(element, "name"),
            // In-run breaks and tabs are characters of the text.
            "tab" if self.in_text == 0 && self.style == Style::Content => budget.push("\t")?,
            "br" | "cr" if self.style == Style::Content => budget.push("\n")?,
            _ => {}
        }
        if self.in_text > 0 || self.is_text_element(local) {
            self.in_text += 1;
        }
        Ok(())
    }

    fn end(&mut self, local: &str, budget: &mut Budget) -> Result<(), Error> {
        self.in_text = self.in_text.saturating_sub(1);
        match (self.style, local) {
            (Style::Content | Style::Sheet, "p" | "si" | "tr" | "row" | "comment") => budget.separate("\n"),
            (Style::Content | Style::Sheet, "tc" | "c") => budget.separate("\t"),
            (Style::CoreProperties | Style::CustomProperties, _) => budget.separate("\n"),
            _ => Ok(()),
        }
    }

    fn text(&mut self, text: &str, budget: &mut Budget) -> Result<(), Error> {
        if self.in_text == 0 {
            return Ok(());
        }
        budget.push_property(&mut self.property, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(xml: &str, style: Style) -> String {
        xml::text_of_part(xml, &mut PartText::new(style))
    }

    #[test]
    fn runs_join_and_paragraphs_break() {
        let xml = r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>4111 1111 </w:t></w:r><w:r><w:t>1111 1111</w:t></w:r></w:p><w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t></w:r></w:p><wp:posOffset xmlns:wp="wp">190500012</wp:posOffset></w:body></w:document>"#;
        assert_eq!(text_of(xml, Style::Content), "4111 1111 1111 1111\na\tb\n");
    }

    #[test]
    fn sheets_skip_shared_string_indexes_and_read_inline_strings() {
        let xml = r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>7</v></c><c r="B1"><v>078051120</v></c><c r="C1" t="inlineStr"><is><t>GB82 WEST</t></is></c><c r="D1"><f>SUM(B1)</f><v>42</v></c></row></sheetData></worksheet>"#;
        assert_eq!(text_of(xml, Style::Sheet), "078051120\tGB82 WEST\t42\t");
    }

    #[test]
    fn custom_properties_are_name_value_lines() {
        let xml = r#"<Properties><property fmtid="{x}" pid="2" name="Classification"><vt:lpwstr xmlns:vt="vt">Secret</vt:lpwstr></property><property pid="3" name="Owner"><vt:lpwstr xmlns:vt="vt">078-05-1120</vt:lpwstr></property></Properties>"#;
        assert_eq!(text_of(xml, Style::CustomProperties), "Classification: Secret\nOwner: 078-05-1120\n");
    }

    #[test]
    fn parts_are_ordered_naturally() {
        let names: Vec<String> = [
            "ppt/slides/slide10.xml",
            "docProps/core.xml",
            "ppt/slides/slide9.xml",
            "ppt/presentation.xml",
            "ppt/notesSlides/notesSlide1.xml",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let order: Vec<usize> = parts(Kind::PowerPoint, &names).into_iter().map(|(i, _)| i).collect();
        assert_eq!(order, vec![2, 0, 4, 1]);
    }
}
