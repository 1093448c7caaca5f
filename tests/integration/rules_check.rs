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
        .stdout(predicates::str::contains("2 file(s): 2 properties, 7 rules, 6 entities"))
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
        .stdout(predicates::str::contains("2 file(s): 2 properties, 7 rules, 6 entities"));
}

#[test]
fn misspelt_attributes_and_elements_are_located_errors_with_a_suggestion() {
    // Each of these used to be ignored silently: the rule then never fired, or fired without its keyword.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.xml"),
        "<ClassificationRules>\n<PropertyDefinition name=\"P\" type=\"YesNo\"/>\n<Rule name=\"r\" property=\"P\" value=\"Yes\">\n  <Entity name=\"Email Address\" minConfidance=\"65\"/>\n  <String casesensitive=\"false\">x</String>\n  <Regex minn=\"2\">x</Regex>\n</Rule>\n</ClassificationRules>\n",
    )
    .unwrap();
    std::fs::copy(format!("{DEFAULT_RULES}/10-sensitive-information-types.xml"), dir.path().join("0.xml")).unwrap();
    check(dir.path())
        .code(6)
        .stdout(predicates::str::contains(
            "a.xml:4:3: error: unknown attribute minConfidance on <Entity>; did you mean minConfidence?",
        ))
        .stdout(predicates::str::contains(
            "a.xml:5:3: error: unknown attribute casesensitive on <String>; did you mean caseSensitive?",
        ))
        .stdout(predicates::str::contains("a.xml:6:3: error: unknown attribute minn on <Regex>; did you mean min?"))
        .stdout(predicates::str::contains("3 error(s)"));
    // And the same at load time: classify refuses the folder with exit 6, naming the place.
    let sample = dir.path().join("sample.txt");
    std::fs::write(&sample, "nothing").unwrap();
    Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--rules")
        .arg(dir.path())
        .arg("classify")
        .arg(&sample)
        .assert()
        .code(6)
        .stderr(predicates::str::contains("a.xml:4:3: error: unknown attribute minConfidance"));
}

#[test]
fn community_packages_load_except_the_one_with_a_misspelt_any() {
    let community = std::path::Path::new(INTEROP).join("community");
    // Purview accepts these; the engine does not implement them: named warnings, the package loads.
    check(&community.join("cpw-project-keywords"))
        .success()
        .stdout(predicates::str::contains(
            "rulepack.xml:17:9: warning: attribute relaxProximity on <Entity> is not implemented and is ignored",
        ))
        .stdout(predicates::str::contains(
            "rulepack.xml:18:13: warning: attribute proximity on <Pattern> is not implemented and is ignored",
        ))
        .stdout(predicates::str::contains("0 error(s), 4 warning(s)"));
    check(&community.join("purviewinsights-salary-de"))
        .success()
        .stdout(predicates::str::contains("0 error(s), 0 warning(s)"));
    check(&community.join("uk-school-upn")).success().stdout(predicates::str::contains("0 error(s), 0 warning(s)"));
    // Expected error: DEMO_DLP.xml writes `<any minmatch="1">` (the schema says `<Any minMatches=…>`), which
    // dropped the keyword requirement silently; now it is refused at the place it is written.
    check(&community.join("hibblabs-demo"))
        .code(6)
        .stdout(predicates::str::contains(
            "DEMO_DLP.xml:18:9: error: unknown element <any> in <Pattern>; did you mean <Any>?",
        ))
        .stdout(predicates::str::contains(
            "DEMO_DLP.xml:18:9: error: unknown attribute minmatch on <any>; did you mean minMatches?",
        ))
        .stdout(predicates::str::contains("2 error(s), 0 warning(s)"));
}

/// A rule folder: the default sensitive-information types and a policy that protects cards with `template`.
fn rules_with_policy_template(template: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(format!("{DEFAULT_RULES}/10-sensitive-information-types.xml"), dir.path().join("10.xml")).unwrap();
    std::fs::write(
        dir.path().join("20.xml"),
        format!(
            "<ClassificationRules>\n<PropertyDefinition name=\"PII\" type=\"YesNo\"/>\n<Rule name=\"card\" property=\"PII\" value=\"Yes\">\n  <Entity name=\"Credit Card Number\" minConfidence=\"65\"/>\n</Rule>\n<ProtectionPolicy defaultTemplate=\"{template}\">\n  <Protect property=\"PII\" value=\"Yes\"/>\n</ProtectionPolicy>\n</ClassificationRules>\n"
        ),
    )
    .unwrap();
    dir
}

fn check_with_templates(rules: &std::path::Path, templates: &std::path::Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--rules")
        .arg(rules)
        .arg("--templates")
        .arg(templates)
        .args(["rules", "check"])
        .assert()
}

#[test]
fn policy_templates_are_resolved_by_id_or_exact_name_against_the_store() {
    let scratch = crate::util::Scratch::new();
    for good in ["Contoso - Confidential", crate::util::TEMPLATE_ID, "{E6EE2481-26B9-45E5-B34A-F744EACD53B0}"] {
        check_with_templates(rules_with_policy_template(good).path(), &scratch.templates())
            .success()
            .stdout(predicates::str::ends_with("0 error(s), 0 warning(s)\n"));
    }
    check_with_templates(rules_with_policy_template("Contoso - Secret").path(), &scratch.templates())
        .code(6)
        .stdout(predicates::str::contains(
            "error: protection policy: template \"Contoso - Secret\" is neither the id nor the exact name of a template",
        ))
        .stdout(predicates::str::contains("1 error(s)"));
    check_with_templates(
        rules_with_policy_template("1b2c3d4e-0000-4000-8000-000000000001").path(),
        &scratch.templates(),
    )
    .code(6)
    .stdout(predicates::str::contains("is not in the template store"));
    // A name two templates share is an error naming both files.
    let text = std::fs::read_to_string(scratch.templates().join("confidential.xml")).unwrap();
    std::fs::write(
        scratch.templates().join("copy.xml"),
        text.replace(&crate::util::TEMPLATE_ID.to_uppercase(), "1B2C3D4E-0000-4000-8000-000000000002"),
    )
    .unwrap();
    check_with_templates(rules_with_policy_template("Contoso - Confidential").path(), &scratch.templates())
        .code(6)
        .stdout(predicates::str::contains("template name \"Contoso - Confidential\" is shared by 2 templates"))
        .stdout(predicates::str::contains("confidential.xml"))
        .stdout(predicates::str::contains("copy.xml"));
}

#[test]
fn at_run_time_a_policy_template_is_used_by_name_and_an_unknown_one_is_exit_6() {
    let scratch = crate::util::Scratch::new();
    let card = scratch.file("card.txt", b"Visa 4485 3647 3952 7352 exp 09/27\n");
    let by_name = rules_with_policy_template("Contoso - Confidential");
    scratch.cmd().arg("--rules").arg(by_name.path()).arg("protect").arg(&card).assert().success();
    assert!(crate::util::is_protected(&card), "protected with the template the policy names");

    let other = scratch.file("other.txt", b"Visa 4485 3647 3952 7352 exp 09/27\n");
    let unknown = rules_with_policy_template("Contoso - Secret");
    scratch
        .cmd()
        .arg("--rules")
        .arg(unknown.path())
        .arg("protect")
        .arg(&other)
        .assert()
        .code(6)
        .stderr(predicates::str::contains("\"Contoso - Secret\""));
    assert!(!crate::util::is_protected(&other));
}
