//! Look-around patterns off the backtracker (src/classify/lookaround.rs): the rewritten search finds exactly what
//! fancy-regex finds, for every pattern of every interop package and of the default rules, on random text with
//! planted values and on the text of the sample share; `rules check` names the patterns that keep the backtracker.

use std::path::Path;

use assert_cmd::Command;
use fci_connector::classify::lookaround::Backtracker;
use fci_connector::classify::regex_dialect;
use predicates::prelude::*;

use crate::util::{Rng, regex_patterns_under, sample_share_texts};

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/interop/purview-rulepack");
const DEFAULT_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/classification-rules");

/// Shapes the packages do not have, for the parts of the rewrite they would not reach: guards on either side with
/// Unicode classes, flags, look-ahead at the start, look-behind at the end, alternatives of one and of different
/// lengths, anchors, and shapes that must stay on the backtracker.
const SHAPES: &[&str] = &[
    r"(?<!\d)\d{3}",
    r"(?<![\w-])[A-Z]{2}\d+",
    r"\d{4}(?!\d)",
    r"(?<=\s)\w{3}(?=\s|$)",
    r"(?i)(?<!x)ab(?!c)",
    r"(?<!\d)\d+(?!\d)",
    r"^(?!000)\d{3}$",
    r"(?<!é)\w{2}(?<!ü)",
    r"(?<=[^\d\s])\d{2}",
    r"(?<!^)\d{2}",
    r"\b(?=\w{5})\w+",
    r"(?<!\d)(?:\d{3}|\d{5})(?!\d)",
    r"(?<!\d)(?:12|34|é9)(?!\d)",
    r"(?<![0-9])[0-9]{4} ?[a-zA-Z]{2}(?![a-zA-Z])",
    r"(?<!\d)(?i)ab\d(?=[a-z])",
    r"(?<=ab|cd)\d",
    r"(?<=\d)-?(?=\d)",
    r"\w+(?<=\d)",
    r"(?<!\w)(\w)\w*\1(?!\w)",
    r"(?<!\d)(?:a(?=b)|\d{2})",
    r"(?<!\p{L})\p{Lu}{2}\d?(?!\d)",
    r"(?<=^|\s)[\d٠-٩]{3}(?=$|\s)",
    r"(?<![A-Z])[A-Z]{2}[A-Z0-9]{6}[0-9](?![0-9])",
];

/// The `<Regex>` patterns of every rule file under `dir`, with the case-insensitive form of each as well.
fn patterns_under(dir: &Path, out: &mut Vec<String>) {
    for source in regex_patterns_under(dir) {
        out.push(regex_dialect::effective_source(&source, true));
        out.push(source);
    }
}

fn all_patterns() -> Vec<String> {
    let mut patterns = Vec::new();
    patterns_under(Path::new(INTEROP), &mut patterns);
    let from_packages = patterns.len();
    patterns_under(Path::new(DEFAULT_RULES), &mut patterns);
    assert!(from_packages >= 10 && patterns.len() > from_packages, "{patterns:#?}");
    assert!(patterns.iter().filter(|p| p.contains("(?<!")).count() >= 4, "HealthCare's look-arounds are read");
    patterns.extend(SHAPES.iter().map(|s| s.to_string()));
    patterns
}

/// Random text from an alphabet that meets every guard on both sides, with values of the packages' shapes planted.
fn random_text(rng: &mut Rng, len: usize) -> String {
    const PIECES: &[&str] = &[
        "a", "b", "c", "x", "s", "S", "d", "A", "B", "Z", "é", "ü", "Ü", "中", "😀", "٣", "٠", "7", "0", "1", "2", "9",
        "-", "_", ".", "@", " ", " ", " ", "\n", "\r\n", "\t", ",", "/",
    ];
    const PLANTED: &[&str] = &[
        "AB123456C",
        "XY12Z4567",
        "1234 AB",
        "1234AB",
        "1234 sa",
        "1234SS",
        "5678 ab ",
        "1234567",
        "12345678",
        "john.doe@example.com",
        "a.b-c@contoso.nl",
        " 123456789 ",
        "X123456789012",
        "000",
        "123",
        "4111 1111 1111 1111",
        "078-05-1120",
        "NL91ABNA0417164300",
        "abc",
        "ab1x",
        "12-34",
        "٣٣٣",
    ];
    let mut s = String::new();
    while s.len() < len {
        if rng.below(6) == 0 {
            s.push_str(PLANTED[rng.below(PLANTED.len() as u64) as usize]);
        } else {
            s.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
        }
    }
    s
}

/// Every match the scanner's loop takes from `pos` on (an empty match moves on one character), by both engines.
fn assert_same(source: &str, fast: &Backtracker, slow: &fancy_regex::Regex, text: &str, start: usize) {
    let mut pos = start;
    while pos <= text.len() {
        let a = fast.find_from_pos(text, pos).unwrap();
        let b = slow.find_from_pos(text, pos).unwrap().map(|m| (m.start(), m.end()));
        assert_eq!(a, b, "pattern {source:?} from byte {pos} of {text:?}");
        let Some((s, e)) = a else { break };
        pos = if s == e { text[e..].chars().next().map_or(e + 1, |c| e + c.len_utf8()) } else { e };
    }
}

#[test]
fn rewritten_look_arounds_find_exactly_what_the_backtracker_finds() {
    let mut rng = Rng::seeded(0x9E37_79B9_7F4A_7C15);
    let texts: Vec<String> = (0..12).map(|i| random_text(&mut rng, 200 + i * 700)).collect();
    let mut off_backtracker = 0;
    for source in all_patterns() {
        let fast = Backtracker::new(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
        let slow = regex_dialect::backtracking(&source).unwrap();
        if fast.fallback().is_none() {
            off_backtracker += 1;
        }
        for text in &texts {
            assert_same(&source, &fast, &slow, text, 0);
            // A search that starts inside the text sees the text before it as context (look-behind, \b, ^).
            let mut mid = rng.below(text.len() as u64) as usize;
            while !text.is_char_boundary(mid) {
                mid -= 1;
            }
            assert_same(&source, &fast, &slow, text, mid);
        }
    }
    assert!(off_backtracker > 20, "most patterns run without the backtracker: {off_backtracker}");
}

#[test]
fn rewritten_look_arounds_find_exactly_what_the_backtracker_finds_on_the_sample_share() {
    let texts = sample_share_texts();
    let total: usize = texts.iter().map(String::len).sum();
    assert!(total > 8_000, "{total} bytes of text");
    for source in all_patterns() {
        let fast = Backtracker::new(&source).unwrap();
        let slow = regex_dialect::backtracking(&source).unwrap();
        for text in &texts {
            assert_same(&source, &fast, &slow, text, 0);
        }
    }
}

fn rules_check(dir: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("fci-connector").unwrap().arg("--rules").arg(dir).args(["rules", "check"]).assert()
}

#[test]
fn rules_check_names_the_patterns_that_keep_the_backtracker_and_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(Path::new(INTEROP).join("HealthCare.xml"), dir.path().join("HealthCare.xml")).unwrap();
    let out = rules_check(dir.path())
        .success()
        .stdout(predicates::str::contains(
            "HealthCare.xml:347:2: note: Regex regex_dutch_zipcode: backtracking engine at the starts the linear \
             engine finds, because a look-around is in the middle of the pattern",
        ))
        // Notes are not warnings.
        .stdout(predicates::str::contains("0 error(s), 8 warning(s)"))
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    // The guard-only patterns (license plate, phone number) run on the linear engine: no note.
    assert_eq!(out.matches(": note: ").count(), 1, "{out}");

    // An FSRM rule file: a back-reference keeps the backtracker everywhere.
    let fsrm = tempfile::tempdir().unwrap();
    std::fs::write(
        fsrm.path().join("r.xml"),
        "<ClassificationRules>\n<PropertyDefinition name=\"P\" type=\"YesNo\"/>\n<Rule name=\"r\" property=\"P\" \
         value=\"Yes\">\n  <Regex>(?&lt;!\\d)(\\d)\\1</Regex>\n  <Regex>(?&lt;!\\d)\\d{7}(?!\\d)</Regex>\n</Rule>\n\
         </ClassificationRules>\n",
    )
    .unwrap();
    rules_check(fsrm.path())
        .success()
        .stdout(predicates::str::contains(
            "r.xml:4:3: note: regular expression \"(?<!\\\\d)(\\\\d)\\\\1\": backtracking engine everywhere, because it \
             needs more than look-around",
        ))
        .stdout(predicates::str::contains("\\\\d{7}").not())
        .stdout(predicates::str::contains("0 error(s), 0 warning(s)"));
}
