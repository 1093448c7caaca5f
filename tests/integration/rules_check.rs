//! `fci-connector rules check`: counts, `file:line:col` problems, exit 6 only on errors.

use assert_cmd::Command;

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/interop/purview-rulepack");
const DEFAULT_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/classification-rules");

fn check(dir: &std::path::Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("fci-connector").unwrap().arg("--rules").arg(dir).args(["rules", "check"]).assert()
}

#[test]
fn default_rules_are_clean() {
    check(DEFAULT_RULES.as_ref())
        .success()
        .stdout(predicates::str::contains("2 file(s): 2 properties, 6 rules, 6 entities"))
        .stdout(predicates::str::ends_with("0 error(s), 0 warning(s)\n"));
}

#[test]
fn interop_packages_load_with_warnings_only() {
    check(INTEROP.as_ref())
        .success()
        .stdout(predicates::str::contains("14 entities"))
        .stdout(predicates::str::contains(
            "HealthCare.xml:30:11: warning: 490f642f-d3a6-4510-940f-7bfdb343d4ad is not in this package",
        ))
        .stdout(predicates::str::contains("0 error(s), 8 warning(s)"));
}

#[test]
fn errors_are_located_and_exit_6() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.xml"),
        "<ClassificationRules>\n<PropertyDefinition name=\"P\" type=\"YesNo\"/>\n<Rule name=\"r\" property=\"P\" value=\"Yes\">\n  <Regex>(unclosed</Regex>\n</Rule>\n</ClassificationRules>\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.xml"), "<ClassificationRules>\n  <Rule></ClassificationRules>").unwrap();
    check(dir.path())
        .code(6)
        .stdout(predicates::str::contains("a.xml:4:3: error: rule \"r\" expression 1: invalid regular expression"))
        .stdout(predicates::str::contains("b.xml:2:"))
        .stdout(predicates::str::contains("2 error(s)"));
}

#[test]
fn a_missing_folder_is_a_config_error() {
    check("/nonexistent/rules".as_ref()).code(6).stderr(predicates::str::contains("cannot read rule folder"));
}

#[test]
fn the_config_files_rule_folder_is_checked() {
    // `rules = …` in fci-connector.toml names the folder, as it does for protect, classify and rules test.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fci-connector.toml");
    std::fs::write(&config, format!("rules = '{INTEROP}'\n")).unwrap();
    Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .args(["rules", "check"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with(format!("{INTEROP}: ")))
        .stdout(predicates::str::contains("14 entities"));
    // The command line still wins over the config file.
    Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .arg("--rules")
        .arg(DEFAULT_RULES)
        .args(["rules", "check"])
        .assert()
        .success()
        .stdout(predicates::str::contains("2 file(s): 2 properties, 6 rules, 6 entities"));
}
