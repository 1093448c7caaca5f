//! The Office Open XML extractor (`src/extract/ooxml.rs`) on arbitrary XML: the first input byte picks one part
//! (`word/document.xml`, `xl/sharedStrings.xml`, `xl/worksheets/sheet1.xml`, `ppt/slides/slide1.xml` or
//! `docProps/custom.xml`), the rest is that part's XML, wrapped by the target into an otherwise valid .docx,
//! .xlsx or .pptx. `extract` must never panic or hang; errors are fine; the text it hands over is bounded by
//! the limits (checks in `extract_support.rs`).
#![no_main]

#[path = "extract_support.rs"]
mod extract_support;

const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#;
const RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;
const DOCUMENT: &[u8] = br#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Payroll</w:t></w:r></w:p></w:body></w:document>"#;
const WORKBOOK: &[u8] = br#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>"#;
const SHARED_STRINGS: &[u8] =
    br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>Name</t></si></sst>"#;
const SHEET: &[u8] = br#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>card</t></is></c></row></sheetData></worksheet>"#;
const PRESENTATION: &[u8] =
    br#"<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>"#;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&selector, xml)) = data.split_first() else { return };
    let base: &[(&str, &[u8])] = &[("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", RELS)];
    let (suffix, rest): (&str, Vec<(&str, &[u8])>) = match selector % 5 {
        0 => (".docx", vec![("word/document.xml", xml)]),
        1 => (
            ".xlsx",
            vec![("xl/workbook.xml", WORKBOOK), ("xl/sharedStrings.xml", xml), ("xl/worksheets/sheet1.xml", SHEET)],
        ),
        2 => (
            ".xlsx",
            vec![
                ("xl/workbook.xml", WORKBOOK),
                ("xl/sharedStrings.xml", SHARED_STRINGS),
                ("xl/worksheets/sheet1.xml", xml),
            ],
        ),
        3 => (".pptx", vec![("ppt/presentation.xml", PRESENTATION), ("ppt/slides/slide1.xml", xml)]),
        _ => (".docx", vec![("word/document.xml", DOCUMENT), ("docProps/custom.xml", xml)]),
    };
    let entries: Vec<(&str, &[u8])> = base.iter().copied().chain(rest).collect();
    extract_support::run(suffix, &extract_support::package(&entries));
});
