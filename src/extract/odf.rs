//! OpenDocument (.odt, .ods, .odp): the text of content.xml, of styles.xml (where page headers and footers
//! live) and of meta.xml (title, subject, keywords and user-defined properties).

use std::io::{Read, Seek};

use quick_xml::events::BytesStart;
use zip::ZipArchive;

use super::budget::Budget;
use super::xml::{self, Visitor};
use super::zipguard;
use crate::Error;

/// The format name for an OpenDocument package, from its `mimetype` entry or its parts; `None` if the archive
/// is not OpenDocument.
pub(crate) fn format<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    names: &[String],
    budget: &Budget,
) -> Result<Option<&'static str>, Error> {
    if !names.iter().any(|n| n == "content.xml") {
        return Ok(None);
    }
    let mut mimetype = String::new();
    if let Some(index) = names.iter().position(|n| n == "mimetype") {
        let entry = zipguard::entry(archive, index, budget)?;
        // A mimetype is short; anything longer is not one.
        let _ = entry.take(200).read_to_string(&mut mimetype);
    }
    let kind = mimetype.trim().strip_prefix("application/vnd.oasis.opendocument.").unwrap_or("");
    Ok(Some(match kind {
        "text" | "text-master" => "odt",
        "spreadsheet" => "ods",
        "presentation" => "odp",
        "graphics" => "odg",
        _ => "odf",
    }))
}

/// Push the text of the content, styles and meta parts.
pub(crate) fn read<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    names: &[String],
    budget: &mut Budget,
) -> Result<(), Error> {
    for part in ["content.xml", "styles.xml", "meta.xml"] {
        let Some(index) = names.iter().position(|n| n == part) else {
            continue;
        };
        let entry = zipguard::entry(archive, index, budget)?;
        xml::walk(entry, part, budget, &mut OdfText { meta: part == "meta.xml", property: None })?;
        budget.separate("\n")?;
    }
    Ok(())
}

/// Turns OpenDocument XML into text: all character data counts, elements only shape the spacing.
struct OdfText {
    /// meta.xml: one line per element.
    meta: bool,
    /// The name of the user-defined property being read, until its value starts.
    property: Option<String>,
}

impl Visitor for OdfText {
    fn start(&mut self, element: &BytesStart, budget: &mut Budget) -> Result<(), Error> {
        match xml::local(element) {
            "s" => budget.push(" "),
            "tab" => budget.push("\t"),
            "line-break" => budget.push("\n"),
            "user-defined" => {
                self.property = xml::attribute(element, "meta:name");
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn end(&mut self, local: &str, budget: &mut Budget) -> Result<(), Error> {
        if self.meta {
            return budget.separate("\n");
        }
        match local {
            "p" | "h" | "table-row" | "annotation" | "note-citation" | "creator" | "date" => budget.separate("\n"),
            "table-cell" => budget.separate("\t"),
            _ => Ok(()),
        }
    }

    fn text(&mut self, text: &str, budget: &mut Budget) -> Result<(), Error> {
        budget.push_property(&mut self.property, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(xml: &str, meta: bool) -> String {
        xml::text_of_part(xml, &mut OdfText { meta, property: None })
    }

    #[test]
    fn spaces_tabs_and_paragraphs() {
        let xml = r#"<office:text><text:p>078-05-<text:span>1120</text:span><text:s/>x<text:tab/>y</text:p><text:p>next</text:p></office:text>"#;
        assert_eq!(text_of(xml, false), "078-05-1120 x\ty\nnext\n");
    }

    #[test]
    fn user_defined_properties() {
        let xml = r#"<office:meta><dc:title>Payroll</dc:title><meta:user-defined meta:name="Classification">Secret</meta:user-defined></office:meta>"#;
        assert_eq!(text_of(xml, true), "Payroll\nClassification: Secret\n");
    }
}
