//! Inputs shared by the benchmarks: deterministic prose with planted sensitive values that pass the default rules'
//! validators (Luhn, SSA areas, IBAN mod-97), and a Word document built around it. bench/gen.py makes the same
//! kind of input for the side-by-side comparison.

#![allow(dead_code)] // each bench target uses a different part

use std::io::{Cursor, Write};
use std::path::PathBuf;

/// The repository root (benchmarks run with the package as working directory, but do not rely on it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small xorshift generator: the same text on every run and every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
}

const WORDS: &[&str] = &[
    "the",
    "quarterly",
    "report",
    "shows",
    "revenue",
    "growth",
    "across",
    "all",
    "regions",
    "while",
    "operating",
    "costs",
    "remained",
    "flat",
    "and",
    "board",
    "approved",
    "budget",
    "for",
    "next",
    "fiscal",
    "year",
    "including",
    "new",
    "hires",
    "in",
    "engineering",
    "sales",
    "support",
    "office",
    "move",
    "meeting",
    "notes",
    "action",
    "items",
    "follow",
    "up",
    "with",
    "legal",
    "on",
    "contract",
    "renewal",
    "review",
    "of",
    "vendor",
    "invoices",
    "month",
];

/// A Luhn-valid 16-digit Visa-style number, grouped in fours.
fn card(rng: &mut Rng) -> String {
    let body = format!("4{}", rng.digits(14));
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    let number = format!("{body}{}", (10 - sum % 10) % 10);
    number.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// A German IBAN with correct check digits, grouped in fours.
fn iban(rng: &mut Rng) -> String {
    let bban = rng.digits(18);
    // Check digits: 98 - (BBAN + "DE00" as digits) mod 97; D = 13, E = 14.
    let rem = format!("{bban}131400").bytes().fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    let compact = format!("DE{:02}{bban}", 98 - rem);
    compact.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

fn sensitive_line(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!(
            "Payment by Visa card number {}, expires {:02}/{}.",
            card(rng),
            1 + rng.below(12),
            26 + rng.below(4)
        ),
        1 => format!(
            "Employee SSN {:03}-{:02}-{:04} on file with payroll.",
            100 + rng.below(500),
            1 + rng.below(99),
            1 + rng.below(9999)
        ),
        2 => format!("Wire transfer to IBAN {} as agreed.", iban(rng)),
        _ => format!("Contact email person{}@example.com for questions.", rng.below(1000)),
    }
}

/// About `bytes` of prose lines, one line in twenty with a sensitive value next to its keyword.
pub fn text(bytes: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(bytes + 200);
    while out.len() < bytes {
        if rng.below(20) == 0 {
            out.push_str(&sensitive_line(&mut rng));
        } else {
            let words = 8 + rng.below(13);
            for i in 0..words {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
            }
            out.push('.');
        }
        out.push('\n');
    }
    out
}

/// A Word package whose body holds `text`, one paragraph per line, with the parts Word writes around it.
pub fn docx(text: &str) -> Vec<u8> {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut body = String::new();
    for line in text.lines() {
        body.push_str(r#"<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr><w:r><w:rPr><w:lang w:val="en-US"/></w:rPr><w:t xml:space="preserve">"#);
        body.push_str(&escape(line));
        body.push_str("</w:t></w:r></w:p>");
    }
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    let types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    let core = r#"<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Quarterly report</dc:title></cp:coreProperties>"#;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, part) in [("[Content_Types].xml", types), ("docProps/core.xml", core), ("word/document.xml", &document)]
    {
        zip.start_file(name, options).unwrap();
        zip.write_all(part.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}
