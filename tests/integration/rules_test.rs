//! `fci-connector rules test`: the shipped sample share passes with the default rules; a broken rule, a sample
//! added or removed, fail with exit 9 and name the rule or entity and the files; a malformed expected CSV is exit 6
//! with its line.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::util::{copy_tree, root, stdout};

fn share() -> PathBuf {
    root().join("samples/share")
}

fn expected() -> PathBuf {
    root().join("samples/expected.csv")
}

fn rules_test(rules: &Path, samples: &Path, expected: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--rules")
        .arg(rules)
        .args(["rules", "test", "--samples"])
        .arg(samples)
        .arg("--expected")
        .arg(expected)
        .assert()
}

/// The table row of `label`, split into its columns after the name.
fn table_row(out: &str, label: &str) -> Vec<String> {
    let line = out.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("no row {label}"));
    line.trim_start()[label.len()..].split_whitespace().map(String::from).collect()
}

#[test]
fn the_shipped_samples_pass_with_the_default_rules() {
    let expected_rows = std::fs::read_to_string(expected()).unwrap().lines().skip(1).count();
    let files = walkdir::WalkDir::new(share()).into_iter().filter(|e| e.as_ref().unwrap().file_type().is_file());
    assert_eq!(files.count(), expected_rows, "every sample file has one row in samples/expected.csv");
    let assert = rules_test(&root().join("classification-rules"), &share(), &expected()).success();
    let out = stdout(&assert);
    assert!(out.contains(&format!("rules test: {expected_rows} sample(s)")), "{out}");
    assert!(out.ends_with("rules test passed: every sample as expected\n"), "{out}");
    // Protect is the positive class: no false positives or negatives, and both classes are present.
    assert_eq!(table_row(&out, "decision: protect")[..4], ["16", "0", "0", "26"], "{out}");
    for entity in [
        "Credit Card Number",
        "U.S. Social Security Number (SSN)",
        "International Banking Account Number (IBAN)",
        "ABA Routing Number",
        "U.S. Bank Account Number",
        "Email Address",
    ] {
        let row = table_row(&out, entity);
        assert_eq!(row[0], "entity", "{entity}: {row:?}");
        assert_ne!(row[1], "0", "{entity}: the share has at least one true positive");
        assert_eq!(row[2..4], ["0", "0"], "{entity}: no false positive or negative");
    }
    assert_eq!(table_row(&out, "PII: payment card")[0], "rule");
}

#[test]
fn a_broken_rule_fails_and_names_the_entity_the_rules_and_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    copy_tree(&root().join("classification-rules"), &rules);
    // An edit an admin might make: drop "SSN" from the SSN keywords. SSNs labelled only "SSN" are no longer SSNs
    // (every pattern of Microsoft's definition needs a keyword).
    let package = rules.join("10-sensitive-information-types.xml");
    let text = std::fs::read_to_string(&package).unwrap();
    assert!(text.contains("        <Term>SSN</Term>\n"));
    std::fs::write(&package, text.replace("        <Term>SSN</Term>\n", "")).unwrap();

    let assert = rules_test(&rules, &share(), &expected()).code(9);
    let out = stdout(&assert);
    for want in [
        "3 file(s) differ from the expected results:",
        "  HR/Employees/new-hire-diaz.docx\n    decision: expected protect, got skip\n    entity \"U.S. Social \
         Security Number (SSN)\": expected, not found\n    rule \"High: cards or SSNs\": expected, not found\n    \
         rule \"PII: U.S. SSN\": expected, not found\n",
        "  HR/Benefits/benefits-enrollment-okafor.pdf\n    decision: expected protect, got skip\n",
        // Still protected for its "Strictly Confidential" marking, but the SSN is no longer seen.
        "  Legal/Litigation/settlement-memo.pdf\n    entity \"U.S. Social Security Number (SSN)\": expected, not \
         found\n",
        "rules test FAILED: 3 file(s) differ (exit 9)",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    assert_eq!(table_row(&out, "decision: protect")[..4], ["14", "0", "2", "26"]);
    assert_eq!(table_row(&out, "PII: U.S. SSN")[1..5], ["3", "0", "3", "36"]);
    assert_eq!(table_row(&out, "U.S. Social Security Number (SSN)")[1..5], ["3", "0", "3", "36"]);
}

#[test]
fn samples_added_or_removed_fail() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("share");
    copy_tree(&share(), &samples);
    std::fs::remove_file(samples.join("Public/cafeteria-menu.txt")).unwrap();
    std::fs::write(samples.join("HR/new-starter.txt"), "New starter: SSN 219-45-7832\n").unwrap();
    let out = stdout(&rules_test(&root().join("classification-rules"), &samples, &expected()).code(9));
    assert!(out.contains("  HR/new-starter.txt\n    not in the expected results (got protect: U.S. Social Security"));
    assert!(out.contains("  Public/cafeteria-menu.txt\n    listed on line "), "{out}");
    assert!(out.contains("but no such sample"), "{out}");
    assert!(out.contains("rules test FAILED: 2 file(s) differ"), "{out}");
}

#[test]
fn an_expected_csv_inside_the_sample_folder_is_not_a_sample() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("share");
    copy_tree(&share(), &samples);
    let inside = samples.join("expected.csv");
    std::fs::copy(expected(), &inside).unwrap();
    rules_test(&root().join("classification-rules"), &samples, &inside)
        .success()
        .stdout(predicate::str::contains("every sample as expected"));
}

#[test]
fn a_malformed_expected_csv_is_exit_6_with_the_line_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("path,decision,entity\n", "bad.csv:1: unknown column \"entity\""),
        ("path,decision,entities\nPublic/cafeteria-menu.txt,skipping,\n", "bad.csv:2: decision \"skipping\" is not"),
        ("path;decision;entities\n", "bad.csv:1: the header has no commas"),
        ("path,decision,entities\n\"Public/cafeteria-menu.txt,skip,\n", "bad.csv:2: a quoted field is not closed"),
    ];
    for (text, want) in cases {
        let csv = dir.path().join("bad.csv");
        std::fs::write(&csv, text).unwrap();
        rules_test(&root().join("classification-rules"), &share(), &csv)
            .code(6)
            .stdout("")
            .stderr(predicate::str::contains(want).and(predicate::str::contains("(exit 6)")));
    }
    rules_test(&root().join("classification-rules"), &share(), &dir.path().join("missing.csv"))
        .code(3)
        .stderr(predicate::str::contains("missing.csv"));
}

#[test]
fn an_unknown_entity_or_rule_name_in_the_csv_is_exit_6_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(expected()).unwrap();
    for (from, to, kind) in [
        ("Credit Card Number@85", "Credit Card Numbr@85", "entity \"Credit Card Numbr\""),
        ("PII: U.S. SSN", "PII: US SSN", "rule \"PII: US SSN\""),
    ] {
        assert!(text.contains(from));
        let csv = dir.path().join("expected.csv");
        std::fs::write(&csv, text.replacen(from, to, 1)).unwrap();
        let assert = rules_test(&root().join("classification-rules"), &share(), &csv).code(6);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(err.contains("expected.csv:") && err.contains(&format!("{kind} is not defined in the rules")), "{err}");
    }
}

#[test]
fn the_csv_accepts_the_action_words_the_reports_use() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("expected.csv");
    let mut out = String::new();
    for (i, line) in std::fs::read_to_string(expected()).unwrap().lines().enumerate() {
        // Alternate the two action words for protect; skip is "skipped".
        let word = if i % 2 == 0 { ",protected," } else { ",would-protect," };
        out.push_str(&line.replacen(",protect,", word, 1).replacen(",skip,", ",skipped,", 1));
        out.push('\n');
    }
    assert!(out.contains(",protected,") && out.contains(",would-protect,") && out.contains(",skipped,"));
    assert!(!out.contains(",protect,") && !out.contains(",skip,"));
    std::fs::write(&csv, out).unwrap();
    rules_test(&root().join("classification-rules"), &share(), &csv)
        .success()
        .stdout(predicate::str::ends_with("rules test passed: every sample as expected\n"));
}

#[test]
fn path_prefix_lets_folder_scoped_rules_be_tested_on_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("copy");
    std::fs::create_dir_all(samples.join("HR")).unwrap();
    std::fs::create_dir_all(samples.join("Public")).unwrap();
    std::fs::write(samples.join("HR/notes.txt"), "Meeting notes.\n").unwrap();
    std::fs::write(samples.join("Public/menu.txt"), "Soup of the day.\n").unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("rules.xml"),
        "<ClassificationRules>\n  <PropertyDefinition name=\"Confidentiality\" type=\"OrderedList\">\n    \
         <Value>High</Value>\n    <Value>Moderate</Value>\n    <Value>Low</Value>\n  </PropertyDefinition>\n  \
         <Rule name=\"HR share\" property=\"Confidentiality\" value=\"Moderate\" classifier=\"Folder\">\n    \
         <Scope><Folder>/srv/share/HR</Folder></Scope>\n  </Rule>\n  <ProtectionPolicy>\n    \
         <Protect property=\"Confidentiality\" atLeast=\"Moderate\"/>\n  </ProtectionPolicy>\n</ClassificationRules>\n",
    )
    .unwrap();
    let csv = dir.path().join("expected.csv");
    std::fs::write(&csv, "path,decision,entities,rules\nHR/notes.txt,protect,,HR share\nPublic/menu.txt,skip,,\n")
        .unwrap();
    let run = |prefix: Option<String>| {
        let mut c = Command::cargo_bin("fci-connector").unwrap();
        c.arg("--rules").arg(&rules).args(["rules", "test", "--samples"]).arg(&samples).arg("--expected").arg(&csv);
        if let Some(p) = prefix {
            c.args(["--path-prefix", &p]);
        }
        c.assert()
    };
    // Without the prefix the copy is not under /srv/share/HR: the folder rule does not apply.
    run(None).code(9).stdout(predicate::str::contains("HR/notes.txt\n    decision: expected protect, got skip"));
    run(Some(format!("{}=/srv/share", samples.display())))
        .success()
        .stdout(predicate::str::ends_with("rules test passed: every sample as expected\n"));
    run(Some("no-equals-sign".into())).code(2).stderr(predicate::str::contains("\"no-equals-sign\" is not FROM=TO"));
}
