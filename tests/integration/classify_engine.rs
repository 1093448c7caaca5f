//! The classification engine through its public API: FSRM semantics, the real Purview packages, aggregation,
//! the backtracking bound and streaming in chunks.

use std::path::{Path, PathBuf};

use fci_connector::classify::engine::{Passes, Window};
use fci_connector::classify::{Classification, Decision, MatchKind, RuleSet, Severity};

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/interop/purview-rulepack");
const DEFAULT_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/classification-rules");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/classify");

/// A rule folder in a temporary directory with the given files.
fn rules_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn entity_confidence(c: &Classification, name: &str) -> Option<u8> {
    c.matches.iter().find(|m| m.kind == MatchKind::Entity && m.name == name).and_then(|m| m.confidence)
}

fn property<'a>(c: &'a Classification, name: &str) -> Option<&'a str> {
    c.properties.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn file() -> PathBuf {
    PathBuf::from("/share/doc.txt")
}

#[test]
fn microsoft_ssn_example_needs_ten_occurrences() {
    let dir = rules_dir(&[("ssn.xml", &std::fs::read_to_string(Path::new(FIXTURES).join("ssn-fsrm.xml")).unwrap())]);
    let rules = RuleSet::load(dir.path()).unwrap().rules;
    let ssns = [
        "123-45-6789",
        "234 56 7890",
        "345678901",
        "456-78-9012",
        "567-89-0123",
        "678-90-1234",
        "701-23-4567",
        "712-34-5678",
        "123-45-6780",
        "234-56-7891",
    ];
    let ten = ssns.join("\r\n");
    let nine = ssns[..9].join("\n") + "\n000-12-3456\n123-45 6789";
    let c = rules.classify_text(&file(), &ten);
    assert_eq!(property(&c, "PII"), Some("Yes"));
    assert_eq!(c.decision(), &Decision::Protect { template: Some("Confidential".into()) });
    let c = rules.classify_text(&file(), &nine);
    assert_eq!(property(&c, "PII"), None, "area 000 and mixed separators do not count");
    assert_eq!(c.decision(), &Decision::Skip);
    assert!(c.is_complete());
}

#[test]
fn both_interop_packages_load_with_warnings_for_tenant_only_parts() {
    let report = RuleSet::check(Path::new(INTEROP)).unwrap();
    assert!(report.rules.is_some());
    assert_eq!(report.stats.entities, 14);
    assert!(report.diagnostics.iter().all(|d| d.severity != Severity::Error));
    let text: Vec<String> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|d| d.contains("HealthCare.xml:30:11: warning: 490f642f-d3a6-4510-940f-7bfdb343d4ad")),
        "{text:#?}"
    );
    assert!(text.iter().any(|d| d.contains("3a2b0400-36e2-42c0-beb0-ad3ad999ff28")));
}

#[test]
fn contoso_employee_id_confidence_follows_its_patterns() {
    let rules = RuleSet::load(Path::new(INTEROP)).unwrap().rules;
    let conf = |text: &str| entity_confidence(&rules.classify_text(&file(), text), "Employee ID");
    assert_eq!(conf("Badge 12345 is not an id"), None);
    assert_eq!(conf("Employee 123456789 joined."), Some(60), "the IdMatch alone");
    assert_eq!(conf("Employee 123456789 joined on 03/15/2021."), Some(70), "with a U.S. date");
    assert_eq!(conf("Contoso Employee 123456789 joined on 03/15/2021."), Some(80), "and a keyword");
    assert_eq!(conf("badge 123456789 joined 03/15/2021"), Some(70), "Keyword_badge needs two hits");
    assert_eq!(conf("badge card 123456789 joined 03/15/2021"), Some(80));
    assert_eq!(conf("id card 123456789 joined 03/15/2021"), Some(70), "\"ID\" is case-sensitive");
    assert_eq!(conf("ID card 123456789 joined 03/15/2021"), Some(80));
    assert_eq!(
        conf("Contoso Employee 123456789 joined on 03/15/2021, credit card on file."),
        Some(70),
        "an excluded word nearby (0/0 Any) removes the 80 pattern"
    );
    let far = format!("Contoso Employee {} 123456789 on 03/15/2021", "x ".repeat(200));
    assert_eq!(conf(&far), Some(70), "the keyword is beyond the 300-character proximity");
}

#[test]
fn healthcare_package_evaluates_look_behind_and_keywords() {
    let rules = RuleSet::load(Path::new(INTEROP)).unwrap().rules;
    let c = rules.classify_text(&file(), "Patiëntnummer: 1234567 (afspraak)");
    assert_eq!(entity_confidence(&c, "Custom - healthcare cure set 1"), Some(85));
    let c = rules.classify_text(&file(), "Patiëntnummer: 12345678");
    assert_eq!(entity_confidence(&c, "Custom - healthcare cure set 1"), None, "eight digits are not a HIX number");
    let c = rules.classify_text(&file(), "mail: jan.jansen@example.nl");
    assert_eq!(entity_confidence(&c, "Custom - Email addresses"), Some(60));
    let c = rules.classify_text(&file(), "E-mailadres: jan.jansen@example.nl");
    assert_eq!(entity_confidence(&c, "Custom - Email addresses"), Some(85));
    let c = rules.classify_text(&file(), "BSN 111222333");
    assert_eq!(entity_confidence(&c, "Custom - Netherlands Citizen's Service (BSN) Number"), Some(85));
}

const PROPERTIES: &str = r#"<ClassificationRules>
  <PropertyDefinition name="Level" type="OrderedList"><Value>High</Value><Value>Moderate</Value><Value>Low</Value></PropertyDefinition>
  <PropertyDefinition name="Owner" type="String"/>
  <PropertyDefinition name="Tags" type="MultiChoice"><Value>HR</Value><Value>Finance</Value></PropertyDefinition>
  <PropertyDefinition name="Secret" type="YesNo"/>
</ClassificationRules>"#;

#[test]
fn several_rules_on_one_property_aggregate_as_fsrm_does() {
    let rules = r#"<ClassificationRules>
  <Rule name="low" property="Level" value="Low"><String>salary</String></Rule>
  <Rule name="moderate" property="Level" value="Moderate"><String caseSensitive="true">Salary</String></Rule>
  <Rule name="alice" property="Owner" value="Alice"><String>salary</String></Rule>
  <Rule name="bob" property="Owner" value="Bob"><String>bonus</String></Rule>
  <Rule name="hr" property="Tags" value="HR"><String>salary</String></Rule>
  <Rule name="fin" property="Tags" value="Finance|HR"><String>bonus</String></Rule>
  <Rule name="no" property="Secret" value="No"><String>salary</String></Rule>
  <Rule name="yes" property="Secret" value="Yes"><String min="2" max="3">bonus</String></Rule>
  <Rule name="hr folder" property="Level" value="High" classifier="Folder"><Scope><Folder>D:\HR</Folder></Scope></Rule>
  <ProtectionPolicy><Protect property="Level" atLeast="Moderate" template="T"/></ProtectionPolicy>
</ClassificationRules>"#;
    let dir = rules_dir(&[("a.xml", PROPERTIES), ("b.xml", rules)]);
    let rules = RuleSet::load(dir.path()).unwrap().rules;
    let c = rules.classify_text(&file(), "Salary and bonus, BONUS");
    assert_eq!(property(&c, "Level"), Some("Moderate"));
    assert_eq!(property(&c, "Owner"), None, "String values conflict");
    assert!(c.problems.iter().any(|p| p.message.contains("Alice") && p.message.contains("Bob")));
    assert_eq!(property(&c, "Tags"), Some("HR|Finance"));
    assert_eq!(property(&c, "Secret"), Some("Yes"));
    assert_eq!(c.decision(), &Decision::Protect { template: Some("T".into()) });
    let c = rules.classify_text(&file(), "salary bonus bonus bonus bonus");
    assert_eq!(property(&c, "Secret"), Some("No"), "max=3 occurrences exceeded");
    assert_eq!(c.decision(), &Decision::Skip, "Low is below Moderate");
    let c = rules.classify_text(Path::new(r"D:\HR\plan.txt"), "nothing");
    assert_eq!(property(&c, "Level"), Some("High"), "Folder classifier");
}

#[test]
fn a_pathological_regex_fails_alone_within_its_bound() {
    let rules = r#"<ClassificationRules>
  <PropertyDefinition name="Secret" type="YesNo"/>
  <PropertyDefinition name="Marked" type="YesNo"/>
  <Rule name="catastrophic" property="Secret" value="Yes"><Regex>(a*)*\1b</Regex></Rule>
  <Rule name="marker" property="Marked" value="Yes"><String>confidential</String></Rule>
</ClassificationRules>"#;
    let dir = rules_dir(&[("r.xml", rules)]);
    let rules = RuleSet::load(dir.path()).unwrap().rules;
    let text = format!("confidential\n{}c\n", "a".repeat(60)).repeat(50);
    let c = rules.classify_text(&file(), &text);
    assert!(!c.is_complete());
    assert!(c.problems.iter().any(|p| p.message.contains("backtrack")), "{:?}", c.problems);
    assert!(c.problems.iter().any(|p| p.source.contains("catastrophic")));
    assert_eq!(property(&c, "Marked"), Some("Yes"), "the other rule still ran");
    assert_eq!(property(&c, "Secret"), None);
}

/// A text with matches of every kind, multi-byte characters, and keywords near and far.
fn busy_text() -> String {
    let mut t = String::new();
    for i in 0..60 {
        t.push_str(&format!("Zeile {i}: ünïcödé — Credit card 4485 3647 3952 7352 exp 09/27. "));
        t.push_str("SSN 536-90-4399; IBAN GB82 WEST 1234 5698 7654 32; routing number 121000358\n");
        t.push_str(&"filler ".repeat(i % 7 * 13));
        t.push_str("mail jane.doe@contoso.com Strictly Confidential\n");
    }
    t
}

fn summary(c: &Classification) -> String {
    format!("{:?} {:?} {:?} {}", c.properties, c.matches, c.decision(), c.is_complete())
}

#[test]
fn chunked_input_gives_the_same_result_as_whole_input() {
    let rules = RuleSet::load(Path::new(DEFAULT_RULES)).unwrap().rules;
    let text = busy_text();
    let whole = summary(&rules.classify_text(&file(), &text));
    assert!(whole.contains("Credit Card Number"), "{whole}");
    // Each size once on one thread and once with every window split across two (the parallel passes).
    let windows = [
        Window { size: 300, overlap: 96, context: 64, parallel_from: usize::MAX },
        Window { size: 300, overlap: 96, context: 64, parallel_from: 0 },
        Window { size: 4096, overlap: 200, context: 100, parallel_from: usize::MAX },
        Window { size: 4096, overlap: 200, context: 100, parallel_from: 0 },
    ];
    // Both engines: the single pass and the per-detector searches it replaced.
    for (window, passes) in windows.into_iter().flat_map(|w| [(w, Passes::Single), (w, Passes::PerDetector)]) {
        for step in [1usize, 7, 64, 333, 5000] {
            let mut s = rules.scanner(&file()).with_window(window).with_passes(passes);
            let mut rest = text.as_str();
            let mut n = step;
            while !rest.is_empty() {
                let mut cut = n.min(rest.len());
                while !rest.is_char_boundary(cut) {
                    cut += 1;
                }
                s.feed(&rest[..cut]);
                rest = &rest[cut..];
                n = n % 97 + step; // vary the chunk sizes
            }
            assert_eq!(summary(&s.finish()), whole, "window {window:?}, {passes:?}, step {step}");
        }
    }
}

#[test]
fn a_match_split_across_chunks_counts_once() {
    let rules = r#"<ClassificationRules>
  <PropertyDefinition name="Two" type="YesNo"/>
  <Rule name="exactly two" property="Two" value="Yes"><String min="2" max="2">Contoso Confidential</String><Regex min="2" max="2">\b\d{3}-\d{4}\b</Regex></Rule>
</ClassificationRules>"#;
    let dir = rules_dir(&[("r.xml", rules)]);
    let rules = RuleSet::load(dir.path()).unwrap().rules;
    let text = "Contoso Confidential 555-1234 ... contoso confidential 555-9876";
    for split in 1..text.len() {
        let mut s = rules.scanner(&file()).with_window(Window {
            size: 40,
            overlap: 16,
            context: 8,
            parallel_from: split % 2 * usize::MAX,
        });
        s.feed(&text[..split]);
        s.feed(&text[split..]);
        let c = s.finish();
        assert_eq!(property(&c, "Two"), Some("Yes"), "split at {split}");
    }
}
