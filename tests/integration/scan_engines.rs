//! The single pass (src/classify/engine/single_pass.rs) finds exactly what the engine it replaced finds (a set
//! saying which patterns occur, then each one present searched over the whole window): the same counts, values,
//! entities, properties and decision, for the default rules, the interop packages and a rule set of every pattern
//! they contain (look-around ones too: a single pass of their own finds where their linear parts match, and each
//! possible start is decided by the guards or the backtracker anchored there; the engine it replaced searches each
//! pattern over the whole window), on the text of the sample share and on random text with planted values, in
//! windows of the real size and in small ones that put boundaries everywhere.

use std::path::Path;

use fci_connector::classify::engine::{Passes, Window};
use fci_connector::classify::regex_dialect::{self, Engine};
use fci_connector::classify::{Classification, RuleSet};

use crate::util::{Rng, regex_patterns_under, sample_share_texts};

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/interop/purview-rulepack");
const DEFAULT_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/classification-rules");

/// Every `<Regex>` pattern under `dir`, as written and case-insensitive.
fn patterns_under(dir: &Path, out: &mut Vec<String>) {
    for source in regex_patterns_under(dir) {
        for s in [regex_dialect::effective_source(&source, true), source] {
            if regex_dialect::engine_for(&s).is_ok() && !out.contains(&s) {
                out.push(s);
            }
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A rule folder with one rule per pattern of the packages and the default rules, plus shapes that make matches
/// overlap, nest, repeat and run long, bounded ones whose leftmost-first match is not the longest, and look-around
/// patterns of every plan: guards around a linear core (on either side, a core of unbounded length, one that can
/// match empty), the backtracker at the starts of the pattern without its look-arounds, the backtracker alone.
fn all_patterns_rules() -> tempfile::TempDir {
    let mut patterns = Vec::new();
    patterns_under(Path::new(INTEROP), &mut patterns);
    patterns_under(Path::new(DEFAULT_RULES), &mut patterns);
    assert!(patterns.len() >= 6, "{patterns:#?}");
    let linear = patterns.iter().filter(|p| regex_dialect::engine_for(p) == Ok(Engine::Linear)).count();
    assert!(linear >= 6 && patterns.len() > linear + 4, "the packages' look-around patterns are read: {patterns:#?}");
    for extra in [
        r"a\w*z|b",
        r"\d+",
        r"\d{3}",
        r"[a-z]+@[a-z]+\.[a-z]{2,}",
        r"\b\w{4}\b",
        r"(?-u:\b)\d{2,5}(?-u:\b)",
        r"^.{1,40}$",
        r"x*",
        r"é+\w",
        r"(?i)secret|classified",
        r"\s+\d",
        // Bounded alternations whose first choice is not the longest: the leftmost-first match is not the longest.
        r"\d{3}|\d{3}-\d{2}",
        r"(?-u:\b)(?:\d{2}|\d{2}\.\d)(?-u:\b)",
        r"[a-z]{1,3}?z",
        // Look-around.
        r"(?<![0-9])[0-9]{7}(?![0-9])",
        r"(?<![a-zA-Z])[A-Z]{2}[A-Z0-9]{6}[0-9](?![0-9])",
        // A guard that fails at one start and holds at the next, inside the first match.
        r"\d{3}(?!\d)",
        r"(?<=[a-z])[a-z]{2}(?![a-z])",
        r"(?<!\d)\d+",
        r"(?<=\s)\w{3}(?=\s|$)",
        r"(?i)(?<!x)ab(?!c)",
        r"(?<!é)\w{2}(?<!ü)",
        r"(?<=\d)-?(?=\d)",
        r"(?<!\d)(?:\d{3}|\d{5})(?!\d)",
        r"(?<!\w)(\w)\w*\1(?!\w)",
    ] {
        patterns.push(extra.to_string());
    }
    rules_of(&patterns)
}

/// Patterns with Unicode word boundaries, beside ASCII word characters and others: on non-ASCII text the single
/// pass declines them and the relaxed pass (its `\b` ASCII where that admits more, else dropped) gives the hints.
fn unicode_boundary_rules() -> tempfile::TempDir {
    let patterns = [
        r"\b\w{4}\b",
        r"\b\d{3,5}\b",
        r"\b[0-9]{6,17}\b",
        r"\b[a-z]{2}\b",
        r"\bé\w\b",
        r"x\B\w",
        r"[0-9]{2}\b[^0-9]",
        r"(?:\b|_)[a-z]\d",
        r"\d+",
    ];
    rules_of(&patterns.map(String::from))
}

/// A rule folder with one rule per pattern.
fn rules_of(patterns: &[String]) -> tempfile::TempDir {
    let mut xml = String::from("<ClassificationRules>\n  <PropertyDefinition name=\"Hit\" type=\"YesNo\"/>\n");
    for (i, p) in patterns.iter().enumerate() {
        xml.push_str(&format!(
            "  <Rule name=\"pattern {i}\" property=\"Hit\" value=\"Yes\"><Regex min=\"1\">{}</Regex></Rule>\n",
            xml_escape(p)
        ));
    }
    xml.push_str("</ClassificationRules>\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("all.xml"), xml).unwrap();
    dir
}

/// Random text with the packages' and default rules' values planted, ASCII or with non-ASCII letters mixed in
/// (where a pattern has a Unicode `\b`, the single pass declines those windows and the relaxed pass gives the
/// hints).
fn random_text(rng: &mut Rng, len: usize, ascii: bool) -> String {
    const PIECES: &[&str] = &[
        "a",
        "b",
        "x",
        "z",
        "s",
        "S",
        "A",
        "Z",
        "7",
        "0",
        "1",
        "9",
        "-",
        "_",
        ".",
        "@",
        " ",
        " ",
        " ",
        "\n",
        "\r\n",
        "\t",
        ",",
        "/",
        "secret ",
        "Credit card ",
        "SSN ",
        "IBAN ",
        "salary ",
        "patient ",
    ];
    // Digit runs beside non-ASCII letters and signs: where a Unicode `\b` and the ASCII one the relaxed pass uses
    // disagree.
    const NON_ASCII: &[&str] = &["é", "ü", "中", "😀", "٣", "é1234567", "12345678ü", "“123456789”", "€1234567 "];
    const PLANTED: &[&str] = &[
        "4111 1111 1111 1111",
        "4485364739527352",
        "4485-3647-3952-7352",
        "078-05-1120",
        "536 90 4399",
        "GB82 WEST 1234 5698 7654 32",
        "NL91ABNA0417164300",
        "DE89370400440532013000",
        "jane.doe@contoso.com",
        "a.b-c@contoso.co.uk",
        "AB123456C",
        "1234 AB",
        "121000358",
        "09/27",
        "2026-11-30",
        "+31 6 12345678",
        "X123456789012",
        "1234567890123456789012345",
    ];
    let mut s = String::new();
    while s.len() < len {
        match rng.below(8) {
            0 => s.push_str(PLANTED[rng.below(PLANTED.len() as u64) as usize]),
            1 if !ascii => s.push_str(NON_ASCII[rng.below(NON_ASCII.len() as u64) as usize]),
            _ => s.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]),
        }
    }
    s
}

fn summary(c: &Classification) -> String {
    format!("{:?} {:?} {:?} {:?} {}", c.properties, c.matches, c.problems, c.decision(), c.is_complete())
}

fn classify(rules: &RuleSet, text: &str, window: Option<Window>, passes: Passes) -> String {
    let mut scanner = rules.scanner(Path::new("/share/doc.txt")).with_values(true).with_passes(passes);
    if let Some(window) = window {
        scanner = scanner.with_window(window);
    }
    // In uneven pieces, as extraction hands text over.
    let mut rest = text;
    let mut n = 1000;
    while !rest.is_empty() {
        let mut cut = n.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        scanner.feed(&rest[..cut]);
        rest = &rest[cut..];
        n = n * 7 % 65_521 + 1;
    }
    summary(&scanner.finish())
}

/// Both engines on `texts` under `rules`, in the real window and in small ones; how many texts had a match.
fn assert_same_findings(name: &str, rules: &RuleSet, texts: &[String]) -> usize {
    let windows = [
        None,
        Some(Window { size: 4096, overlap: 200, context: 100, parallel_from: usize::MAX }),
        Some(Window { size: 2048, overlap: 300, context: 64, parallel_from: 0 }),
    ];
    let mut with_matches = 0;
    for (i, text) in texts.iter().enumerate() {
        for window in windows {
            let single = classify(rules, text, window, Passes::Single);
            let per_detector = classify(rules, text, window, Passes::PerDetector);
            assert_eq!(single, per_detector, "{name}, text {i} ({} bytes), window {window:?}", text.len());
            if window.is_none() && single.contains("count: ") && !single.contains("matches: []") {
                with_matches += 1;
            }
        }
        // Threads change who searches, never what is found: the same windows on one thread (the look-around
        // patterns after the other passes) and on several (beside them).
        let one_thread = Window { size: 2048, overlap: 300, context: 64, parallel_from: usize::MAX };
        let threads = Window { parallel_from: 0, ..one_thread };
        assert_eq!(
            classify(rules, text, Some(one_thread), Passes::Single),
            classify(rules, text, Some(threads), Passes::Single),
            "{name}, text {i} ({} bytes): one thread against several",
            text.len()
        );
    }
    with_matches
}

fn rule_sets() -> Vec<(String, RuleSet, Option<tempfile::TempDir>)> {
    let mut sets = Vec::new();
    let all = all_patterns_rules();
    sets.push(("every pattern".to_string(), RuleSet::load(all.path()).unwrap().rules, Some(all)));
    let unicode = unicode_boundary_rules();
    sets.push(("Unicode word boundaries".to_string(), RuleSet::load(unicode.path()).unwrap().rules, Some(unicode)));
    sets.push(("default rules".to_string(), RuleSet::load(Path::new(DEFAULT_RULES)).unwrap().rules, None));
    sets.push(("interop packages".to_string(), RuleSet::load(Path::new(INTEROP)).unwrap().rules, None));
    for dir in std::fs::read_dir(Path::new(INTEROP).join("community")).unwrap() {
        let dir = dir.unwrap().path();
        if let Ok(loaded) = RuleSet::load(&dir) {
            sets.push((dir.display().to_string(), loaded.rules, None));
        }
    }
    assert!(sets.len() >= 5, "every community package loads");
    sets
}

#[test]
fn the_single_pass_finds_what_the_per_detector_searches_find_on_random_text() {
    let mut rng = Rng::from_env("scan_engines");
    let texts: Vec<String> =
        [(300, true), (5_000, true), (5_000, false), (70_000, true), (70_000, false), (600_000, true)]
            .iter()
            .map(|&(len, ascii)| random_text(&mut rng, len, ascii))
            .collect();
    let mut found = Vec::new();
    for (name, rules, _dir) in rule_sets() {
        if assert_same_findings(&name, &rules, &texts) > 0 {
            found.push(name);
        }
    }
    assert!(found.len() >= 4, "the planted values are found by most rule sets: {found:?}");
}

#[test]
fn the_single_pass_finds_what_the_per_detector_searches_find_on_the_sample_share() {
    let texts = sample_share_texts();
    let mut found = 0;
    for (name, rules, _dir) in rule_sets() {
        found += assert_same_findings(&name, &rules, &texts);
    }
    assert!(found >= 10, "the sample share has sensitive files: {found}");
}

#[test]
fn look_around_patterns_find_the_same_on_one_thread_and_beside_the_other_passes() {
    // A back-reference keeps the backtracker everywhere; on a long stretch it runs on a thread of its own.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.xml"),
        "<ClassificationRules>\n<PropertyDefinition name=\"P\" type=\"YesNo\"/>\n<Rule name=\"pairs\" property=\"P\" \
         value=\"Yes\">\n  <Regex>(?&lt;!\\d)(\\d)\\1(?!\\d)</Regex>\n</Rule>\n</ClassificationRules>\n",
    )
    .unwrap();
    let rules = RuleSet::load(dir.path()).unwrap().rules;
    // 3,000 pairs of equal digits standing alone, and as many runs of three digits that must not count.
    let text: String = (0..3000).map(|i| format!("row has {0}{0} and 1{0}2.\n", i % 10)).collect();
    let one_thread = Window { size: 2048, overlap: 300, context: 64, parallel_from: usize::MAX };
    let found = classify(&rules, &text, Some(one_thread), Passes::Single);
    assert!(found.contains("count: 3000,"), "{found}");
    for window in [Window { parallel_from: 0, ..one_thread }, Window::default()] {
        assert_eq!(classify(&rules, &text, Some(window), Passes::Single), found, "window {window:?}");
    }
}
