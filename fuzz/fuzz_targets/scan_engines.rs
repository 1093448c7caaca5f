//! The scanner's single pass against the engine it replaced (a set saying which patterns occur, then each one
//! present searched over the whole window): on any text, in any window size, both find exactly the same matches,
//! values, entities and decision. The rules are the default rule set and shapes whose matches overlap, nest,
//! repeat and run long, or are guarded by look-arounds (their cores are found by the look-around patterns' own pass).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use fci_connector::classify::RuleSet;
use fci_connector::classify::engine::{Passes, Window};

const DEFAULT_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../classification-rules");

const SHAPES: &str = r#"<ClassificationRules>
  <PropertyDefinition name="Hit" type="YesNo"/>
  <Rule name="nested" property="Hit" value="Yes"><Regex min="1">a\w*z|b</Regex></Rule>
  <Rule name="runs" property="Hit" value="Yes"><Regex min="1">\d+</Regex></Rule>
  <Rule name="three" property="Hit" value="Yes"><Regex min="1">\d{3}</Regex></Rule>
  <Rule name="words" property="Hit" value="Yes"><Regex min="1">\b\w{4}\b</Regex></Rule>
  <Rule name="ascii words" property="Hit" value="Yes"><Regex min="1">(?-u:\b)\d{2,5}(?-u:\b)</Regex></Rule>
  <Rule name="lines" property="Hit" value="Yes"><Regex min="1">^.{1,40}$</Regex></Rule>
  <Rule name="empty" property="Hit" value="Yes"><Regex min="1">x*</Regex></Rule>
  <Rule name="mail" property="Hit" value="Yes"><Regex min="1">[a-z.]+@[a-z]+\.[a-z]{2,}</Regex></Rule>
  <Rule name="guarded" property="Hit" value="Yes"><Regex min="1">(?&lt;![0-9])[0-9]{7}(?![0-9])</Regex></Rule>
  <Rule name="guard after" property="Hit" value="Yes"><Regex min="1">\d{3}(?!\d)</Regex></Rule>
  <Rule name="guarded run" property="Hit" value="Yes"><Regex min="1">(?&lt;!\d)\d+</Regex></Rule>
</ClassificationRules>"#;

fn rule_sets() -> &'static [RuleSet] {
    static SETS: OnceLock<Vec<RuleSet>> = OnceLock::new();
    SETS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::write(dir.path().join("shapes.xml"), SHAPES).expect("write the rule file");
        let shapes = RuleSet::load(dir.path()).expect("the shapes load").rules;
        let default = RuleSet::load(Path::new(DEFAULT_RULES)).expect("the default rules load").rules;
        vec![shapes, default]
    })
}

fn classify(rules: &RuleSet, text: &str, window: Window, passes: Passes) -> String {
    let mut scanner =
        rules.scanner(Path::new("/share/doc.txt")).with_values(true).with_window(window).with_passes(passes);
    scanner.feed(text);
    let c = scanner.finish();
    format!("{:?} {:?} {:?} {:?} {}", c.properties, c.matches, c.problems, c.decision(), c.is_complete())
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&size, text)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(text);
    // Windows from a few hundred bytes (boundaries everywhere) to the real one.
    let window = if size == 255 {
        Window::default()
    } else {
        Window { size: 256 + 16 * usize::from(size), overlap: 96, context: 64, parallel_from: if size % 2 == 0 { 0 } else { usize::MAX } }
    };
    for rules in rule_sets() {
        let single = classify(rules, &text, window, Passes::Single);
        let per_detector = classify(rules, &text, window, Passes::PerDetector);
        assert_eq!(single, per_detector, "window {window:?}");
    }
});
