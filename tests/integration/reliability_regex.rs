//! Regex bounds, end to end through `classify`: the catastrophic pattern `(a+)+$` against 100 KB of `a` and a `!`
//! finishes, gives the right answer, and does not stop the other rules. The linear engine takes `(a+)+$` (it needs
//! no backtracking), so it costs linear time and raises nothing; the same pattern forced onto the backtracking
//! engine (a back-reference makes it so) runs into the backtrack limit and is reported as a problem naming the rule,
//! while the other rules are still evaluated.

use assert_cmd::Command;

fn rules(pattern: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.xml"),
        format!(
            r#"<ClassificationRules>
  <PropertyDefinition name="Marked" type="YesNo"/>
  <PropertyDefinition name="Evil" type="YesNo"/>
  <Rule name="marker" property="Marked" value="Yes"><String>confidential</String></Rule>
  <Rule name="catastrophic" property="Evil" value="Yes"><Regex>{pattern}</Regex></Rule>
  <Rule name="trailer" property="Marked" value="Yes"><Regex>!$</Regex></Rule>
  <ProtectionPolicy defaultTemplate="T"><Protect property="Marked" value="Yes"/></ProtectionPolicy>
</ClassificationRules>"#
        ),
    )
    .unwrap();
    dir
}

fn classify(rules: &tempfile::TempDir, text: &str) -> (Option<i32>, serde_json::Value) {
    let data = tempfile::tempdir().unwrap();
    let f = data.path().join("a.txt");
    std::fs::write(&f, text).unwrap();
    let out = Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--rules")
        .arg(rules.path())
        .args(["classify", "--format", "json"])
        .arg(&f)
        // A guard against a hang, not a performance assertion.
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let row = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {} {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code(), row)
}

fn hostile_text() -> String {
    format!("confidential\n{}!", "a".repeat(100 * 1024))
}

#[test]
fn nested_quantifier_on_the_linear_engine_is_linear_and_correct() {
    let (code, row) = classify(&rules("(a+)+$"), &hostile_text());
    assert_eq!(code, Some(0), "{row}");
    assert_eq!(row["decision"], "protect");
    assert_eq!(row["properties"]["Marked"], "Yes");
    assert!(row["properties"].get("Evil").is_none(), "the line ends in '!': (a+)+$ cannot match: {row}");
    assert!(row.get("problems").is_none(), "{row}");
    // And it does match where it should.
    let (_, row) = classify(&rules("(a+)+$"), "aaaa\n");
    assert_eq!(row["properties"]["Evil"], "Yes", "{row}");
}

#[test]
fn nested_quantifier_on_the_backtracking_engine_hits_the_limit_and_is_named() {
    // The back-reference forces fancy-regex's backtracking VM for the whole group.
    let (code, row) = classify(&rules(r"(a+)+\1$"), &hostile_text());
    let problems = row["problems"].as_array().unwrap_or_else(|| panic!("a problem is reported: {row}"));
    assert!(
        problems.iter().any(|p| {
            let p = p.as_str().unwrap();
            p.contains("catastrophic") && p.contains("backtrack")
        }),
        "the problem names the rule and the cause: {row}"
    );
    // The other rules were evaluated: the marker and the trailer rule set Marked, so the file is protected.
    assert_eq!(row["properties"]["Marked"], "Yes", "{row}");
    assert_eq!(row["decision"], "protect");
    assert_eq!(code, Some(0));
    assert!(row["properties"].get("Evil").is_none());

    // Without another rule deciding, an incomplete classification is an error (exit 7), never a silent skip.
    let (code, row) = classify(&rules(r"(a+)+\1$"), &format!("{}!", "a".repeat(100 * 1024)).replace('!', "?"));
    assert_eq!(code, Some(7), "{row}");
    assert_eq!(row["decision"], "error");
}
