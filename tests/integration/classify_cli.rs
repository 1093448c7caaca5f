//! `fci-connector classify`: decisions, output formats, no sensitive values by default, exit codes.

use crate::util::cmd;

const DEFAULT_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/classification-rules");

const CARD: &str = "4485 3647 3952 7352";

fn share() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("card.txt"), format!("Visa card {CARD} expires 09/27\n")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/plain.txt"), "Meeting notes, nothing sensitive.\n").unwrap();
    dir
}

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn json_lines_with_decisions_and_no_values() {
    let dir = share();
    let out = cmd()
        .args(["--rules", DEFAULT_RULES, "classify", "--recurse", "--format", "json"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(!String::from_utf8_lossy(&out).contains("4485"), "matched values must not be printed");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 2);
    assert!(rows[0]["path"].as_str().unwrap().ends_with("card.txt"));
    assert_eq!(rows[0]["decision"], "protect");
    assert_eq!(rows[0]["properties"]["PII"], "Yes");
    assert_eq!(rows[0]["properties"]["Confidentiality"], "High");
    let card = rows[0]["matches"].as_array().unwrap().iter().find(|m| m["name"] == "Credit Card Number").unwrap();
    assert_eq!((card["count"].as_u64(), card["confidence"].as_u64()), (Some(1), Some(85)));
    assert_eq!(rows[1]["decision"], "skip");
    assert_eq!(rows[1]["matches"].as_array().unwrap().len(), 0);
}

#[test]
fn show_values_prints_them() {
    let dir = share();
    cmd()
        .args(["--rules", DEFAULT_RULES, "classify", "--show-values", "--format", "csv"])
        .arg(dir.path().join("card.txt"))
        .assert()
        .success()
        .stdout(predicates::str::starts_with("path,decision,template,properties,matches,error\n"))
        .stdout(predicates::str::contains(CARD));
}

#[test]
fn failures_give_the_highest_exit_code() {
    let dir = share();
    let out = cmd()
        .args(["--rules", DEFAULT_RULES, "classify", "--format", "json"])
        .arg(dir.path().join("card.txt"))
        .arg(dir.path().join("missing.txt"))
        .arg(dir.path())
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let rows = json_lines(&out);
    assert_eq!(rows[0]["decision"], "protect");
    assert_eq!(rows[1]["decision"], "error");
    assert!(rows[1]["error"].as_str().unwrap().contains("no such file"));
    assert!(rows[2]["error"].as_str().unwrap().contains("--recurse"));
}

#[test]
fn an_unfinished_rule_makes_the_file_an_error_not_a_skip() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("r.xml"),
        r#"<ClassificationRules><PropertyDefinition name="S" type="YesNo"/>
<Rule name="catastrophic" property="S" value="Yes"><Regex>(a*)*\1b</Regex></Rule>
<ProtectionPolicy><Protect property="S" value="Yes"/></ProtectionPolicy></ClassificationRules>"#,
    )
    .unwrap();
    let file = rules.path().join("victim.txt");
    std::fs::write(&file, format!("{}c\n", "a".repeat(60))).unwrap();
    let out = cmd().arg("--rules").arg(rules.path()).args(["classify", "--format", "json"]).arg(&file).assert().code(7);
    let rows = json_lines(&out.get_output().stdout);
    assert_eq!(rows[0]["decision"], "error");
    assert!(rows[0]["error"].as_str().unwrap().contains("catastrophic"));
}

#[test]
fn invalid_rules_exit_6_before_classifying() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("bad.xml"),
        "<ClassificationRules>\n  <Rule name=\"x\" property=\"Nope\" value=\"Yes\"/>\n</ClassificationRules>",
    )
    .unwrap();
    cmd()
        .arg("--rules")
        .arg(rules.path())
        .args(["classify", "whatever.txt"])
        .assert()
        .code(6)
        .stdout("")
        .stderr(predicates::str::contains("bad.xml:2:3: error: rule \"x\": property \"Nope\" is not defined"));
}

/// Entity name → (count, confidence) of one classify JSON row.
fn entities(row: &serde_json::Value) -> std::collections::BTreeMap<String, (u64, u64)> {
    row["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "entity")
        .map(|m| {
            (m["name"].as_str().unwrap().to_string(), (m["count"].as_u64().unwrap(), m["confidence"].as_u64().unwrap()))
        })
        .collect()
}

/// Classify each text as its own file with the default rules; one JSON row per text, in order.
fn classify_texts(texts: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd();
    c.args(["--rules", DEFAULT_RULES, "classify", "--format", "json"]);
    for (i, t) in texts.iter().enumerate() {
        let p = dir.path().join(format!("{i:02}.txt"));
        std::fs::write(&p, t).unwrap();
        c.arg(p);
    }
    json_lines(&c.assert().success().get_output().stdout)
}

#[test]
fn an_iban_followed_by_a_short_token_is_an_iban_and_its_digits_are_not_a_card() {
    let texts = [
        "Pay to AT611904300234573201 EUR today",
        "AL47212110090000000235698741 ALL CAPS",
        "VG96 VPVG 0000 0123 4567 8901 X",
        "Pay to AT61 1904 3002 3457 3201 EUR today",
        "AL47 2121 1009 0000 0002 3569 8741 ALL CAPS",
    ];
    let rows = classify_texts(&texts);
    for (text, row) in texts.iter().zip(&rows) {
        let found = entities(row);
        assert_eq!(found.get("International Banking Account Number (IBAN)"), Some(&(1, 85)), "{text}: {found:?}");
        assert!(!found.contains_key("Credit Card Number"), "{text}: the IBAN's digits are not a card: {found:?}");
    }
}

#[test]
fn ssn_confidences_are_microsofts_and_every_one_needs_its_keyword() {
    // Microsoft's entity definition: 85 Func_ssn, 75 Func_unformatted_ssn, 65 Func_randomized_formatted_ssn,
    // 55 Func_randomized_unformatted_ssn, each with a Keyword_ssn term within 300 characters.
    let cases: [(&str, Option<u64>); 6] = [
        ("SSN 536-90-4399", Some(85)),
        ("SSN 536904399", Some(75)),
        ("SSN 773-12-3456", Some(65)),
        ("SSN 773123456", Some(55)),
        ("ref 773123456", None),
        ("ref 536-90-4399", None),
    ];
    let rows = classify_texts(&cases.map(|(t, _)| t));
    for ((text, want), row) in cases.iter().zip(&rows) {
        let got = entities(row).get("U.S. Social Security Number (SSN)").map(|&(_, c)| c);
        assert_eq!(got, *want, "{text}");
        let protect = if want.is_some() { "protect" } else { "skip" };
        assert_eq!(row["decision"], protect, "{text}: an SSN with its keyword is PII at any of its confidences");
    }
}

#[test]
fn a_card_with_a_short_expiration_date_is_85_and_iso_dates_are_not_expiration_dates() {
    let cases: [(&str, u64); 5] = [
        ("Card 4485 3647 3952 7352 valid thru 1/28", 85),
        ("Card 4485 3647 3952 7352 good until Jan 2030", 85),
        ("4485 3647 3952 7352 5/27", 85),
        // Inside a longer date, a month-year lookalike is not an expiration date.
        ("4485 3647 3952 7352 shipped 2026-03-14", 65),
        ("4485 3647 3952 7352 on 12/31/2024", 65),
    ];
    let rows = classify_texts(&cases.map(|(t, _)| t));
    for ((text, want), row) in cases.iter().zip(&rows) {
        assert_eq!(entities(row).get("Credit Card Number").map(|&(_, c)| c), Some(*want), "{text}");
    }
}

#[test]
fn published_test_card_numbers_are_ignored_unless_the_settings_say_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.txt");
    // TabaPay's sandbox Visa; not in the list before 2026-11.
    std::fs::write(&file, "Visa card 4242 4242 4242 4242 expires 09/27\n").unwrap();
    let run = |rules: &std::path::Path| {
        let out = cmd().arg("--rules").arg(rules).args(["classify", "--format", "json"]).arg(&file).assert().success();
        entities(&json_lines(&out.get_output().stdout)[0]).get("Credit Card Number").copied()
    };
    assert_eq!(run(DEFAULT_RULES.as_ref()), None, "a published test number is not a card by default");
    let rules = dir.path().join("rules");
    crate::util::copy_tree(DEFAULT_RULES.as_ref(), &rules);
    let policy = rules.join("20-properties-and-policy.xml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replace("ignoreTestCardNumbers=\"true\"", "ignoreTestCardNumbers=\"false\"")).unwrap();
    assert_eq!(run(&rules), Some((1, 85)), "reported when ignoreTestCardNumbers is false");
}
