//! Shared by the rule-file targets: load the input as the only rule file of a folder, exactly as `rules check`
//! and `classify` do, and when it compiles classify a text with something in it for every kind of detector.

use std::sync::OnceLock;

use fci_connector::classify::RuleSet;

const TEXT: &str = "Contoso Confidential\nSSN 536-90-4399, card 4485 3647 3952 7352 exp 09/27\n\
IBAN GB82 WEST 1234 5698 7654 32; employee E-123456; patient MRN 00123456\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\n";

fn folder() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temporary folder"))
}

pub fn run(data: &[u8]) {
    let dir = folder();
    std::fs::write(dir.path().join("rules.xml"), data).expect("write the rule file");
    // Err only for an unreadable folder: never here. Diagnostics are the expected outcome of most inputs.
    let Ok(report) = RuleSet::check(dir.path()) else { return };
    for d in &report.diagnostics {
        assert!(d.line >= 1 && d.col >= 1, "{d}");
    }
    if let Some(rules) = report.rules {
        let _ = rules.classify_text(std::path::Path::new(r"D:\Shares\HR\pay.txt"), TEXT);
    }
}
