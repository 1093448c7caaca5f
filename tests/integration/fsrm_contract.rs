//! The FCI custom-task contract through the real binary: every invocation form, every reachable exit code, the
//! invocation log, and two invocations racing on one file.

use std::path::{Path, PathBuf};

use crate::util::*;
use predicates::prelude::*;

const SENSITIVE: &str = "Payroll export\nSocial Security Number: 536-22-8175\nEmployee: Alice Example\n";
const CLEAN: &str = "Cafeteria menu\nMonday: lentil soup\n";

/// Start `protect` on `file` in the background, with this scratch folder's templates, rules and log.
fn spawn_protect(s: &Scratch, file: &Path, extra: &[&str]) -> std::process::Child {
    s.task_process()
        .arg("protect")
        .arg(file)
        .args(["--template", TEMPLATE_ID])
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// `protect` of `file` with a config file holding `toml`.
fn protect_with_config(s: &Scratch, file: &Path, toml: &str) -> assert_cmd::assert::Assert {
    let config = s.path().join("fci-connector.toml");
    std::fs::write(&config, toml).unwrap();
    s.task().arg("--config").arg(&config).arg("protect").arg(file).args(["--template", TEMPLATE_ID]).assert()
}

fn log_lines(s: &Scratch) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(s.path().join("logs/fci-connector.log")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("torn log line {l:?}: {e}"))).collect()
}

#[test]
fn sensitive_file_is_protected_and_logged_with_the_reason() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    s.task()
        .arg("protect")
        .arg(&f)
        .args(["--template", TEMPLATE_ID, "--owner", "alice@contoso.com"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("protected:").and(predicate::str::contains("U.S. Social Security Number (SSN)")),
        );
    assert!(is_protected(&f));
    let log = log_lines(&s);
    assert_eq!(log.len(), 1);
    let l = &log[0];
    assert_eq!(l["decision"], "protected");
    assert_eq!(l["exit_code"], 0);
    assert_eq!(l["owner"], "alice@contoso.com");
    assert_eq!(l["template"], TEMPLATE_ID);
    assert_eq!(l["path"], f.display().to_string());
    assert_eq!(l["properties"]["PII"], "Yes");
    assert!(l["pid"].as_u64().unwrap() > 0);
    assert!(l["duration_ms"].is_u64());
    assert!(l["time"].as_str().unwrap().ends_with('Z'));
    let ssn =
        l["matches"].as_array().unwrap().iter().find(|m| m["name"] == "U.S. Social Security Number (SSN)").unwrap();
    assert_eq!(ssn["count"], 1);
    assert!(ssn["confidence"].as_u64().unwrap() >= 75);
    // The sensitive value itself is never logged.
    let raw = std::fs::read_to_string(s.path().join("logs/fci-connector.log")).unwrap();
    assert!(!raw.contains("536-22-8175"));
}

#[test]
fn clean_file_is_left_alone_exit_0_or_10_with_strict_exit() {
    let s = Scratch::new();
    let f = s.file("menu.txt", CLEAN.as_bytes());
    s.task()
        .arg("protect")
        .arg(&f)
        .args(["--template", TEMPLATE_ID])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no protection policy line matched"));
    s.task().arg("protect").arg(&f).args(["--template", TEMPLATE_ID, "--strict-exit"]).assert().code(10);
    assert_eq!(std::fs::read(&f).unwrap(), CLEAN.as_bytes());
    let log = log_lines(&s);
    assert_eq!(log[0]["decision"], "skipped");
    assert_eq!(log[0]["reason"], "no protection policy line matched");
    assert_eq!(log[1]["exit_code"], 10);
}

#[test]
fn always_protects_without_classifying() {
    let s = Scratch::new();
    let f = s.file("menu.txt", CLEAN.as_bytes());
    s.task().arg("protect").arg(&f).args(["--template", TEMPLATE_ID, "--always"]).assert().success();
    assert!(is_protected(&f));
}

#[test]
fn already_protected_is_0_or_11_and_excluded_type_0_or_13() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    s.task().arg("protect").arg(&f).args(["--template", TEMPLATE_ID]).assert().success();
    let once = std::fs::read(&f).unwrap();
    s.task().arg("protect").arg(&f).args(["--template", TEMPLATE_ID]).assert().code(0);
    s.task().arg("protect").arg(&f).args(["--template", TEMPLATE_ID, "--strict-exit"]).assert().code(11);
    assert_eq!(std::fs::read(&f).unwrap(), once);

    let exe = s.file("setup.EXE", SENSITIVE.as_bytes());
    s.task()
        .arg("protect")
        .arg(&exe)
        .args(["--template", TEMPLATE_ID])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("excluded"));
    s.task().arg("protect").arg(&exe).args(["--template", TEMPLATE_ID, "--strict-exit"]).assert().code(13);
    assert_eq!(std::fs::read(&exe).unwrap(), SENSITIVE.as_bytes());
}

/// Run Microsoft's argument form, split the way Windows splits an FSRM line with a quoted macro value.
fn legacy(s: &Scratch, args: &[&str]) -> assert_cmd::assert::Assert {
    s.task().args(args).assert()
}

#[test]
fn microsofts_argument_line_with_a_path_split_over_several_arguments() {
    let s = Scratch::new();
    let target = s.file("Q3 report final.txt", SENSITIVE.as_bytes());
    let decoy = s.file("Q3.txt", SENSITIVE.as_bytes());
    let dir = s.path().join("data").display().to_string();
    let first = format!("'{dir}/Q3");
    legacy(
        &s,
        &["-File", &first, "report", "final.txt'", "-TemplateID", TEMPLATE_ID, "-OwnerMail", "'alice@contoso.com'"],
    )
    .success();
    assert!(is_protected(&target));
    assert!(!is_protected(&decoy));
    assert_eq!(log_lines(&s)[0]["owner"], "alice@contoso.com");
}

#[test]
fn awkward_file_names_each_protect_exactly_the_right_file() {
    let s = Scratch::new();
    let names =
        ["two  spaces.txt", "O'Brien.docx", "Überstunden – März.txt", "R&D 100% [draft].txt", "%PATH% & [x].txt"];
    let paths: Vec<PathBuf> = names.iter().map(|n| s.file(n, SENSITIVE.as_bytes())).collect();
    for (i, p) in paths.iter().enumerate() {
        // As FSRM writes it: -File '<path>' — a single argument here because no shell split it.
        let quoted = format!("'{}'", p.display());
        legacy(
            &s,
            &["-File", &quoted, "-TemplateID", &format!("{{{}}}", TEMPLATE_ID.to_uppercase()), "-OwnerMail", "''"],
        )
        .success();
        for (j, q) in paths.iter().enumerate() {
            assert_eq!(is_protected(q), j <= i, "after {:?}: {:?}", names[i], names[j]);
        }
    }
}

#[test]
fn switches_any_case_one_or_two_dashes_colon_form_after_protect_and_globals_anywhere() {
    let s = Scratch::new();
    let f = s.file("a b.txt", SENSITIVE.as_bytes());
    let rules = rules();
    let logs = s.path().join("logs");
    let templates = s.templates();
    assert_cmd::Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--log-dir")
        .arg(&logs)
        .arg("protect")
        .arg(format!("--FILE:{}", f.display()))
        .args(["-templateid", TEMPLATE_ID, "--rules"])
        .arg(&rules)
        .arg("--templates")
        .arg(&templates)
        .arg("--json")
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""decision":"protected""#));
    assert!(is_protected(&f));
    assert_eq!(log_lines(&s).len(), 1, "the global --log-dir before `protect` was not honoured");
}

#[test]
fn unresolved_owner_macro_means_no_owner_and_a_warning() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    let quoted = format!("'{}'", f.display());
    legacy(&s, &["-File", &quoted, "-TemplateID", TEMPLATE_ID, "-OwnerMail", "'[Source", "File", "Owner", "Email]'"])
        .success()
        .stderr(predicate::str::contains("could not resolve the file's owner"));
    let log = log_lines(&s);
    assert!(log[0].get("owner").is_none());
    assert!(log[0]["warnings"][0].as_str().unwrap().contains("could not resolve"));
    s.cmd()
        .arg("status")
        .arg(&f)
        .args(["--format", "json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("owner").not());
}

#[test]
fn cloud_switches_of_the_old_script_are_accepted_and_ignored() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    let quoted = format!("'{}'", f.display());
    legacy(
        &s,
        &[
            "-File",
            &quoted,
            "-TemplateID",
            TEMPLATE_ID,
            "-AppPrincipalId",
            "1234",
            "-SymmetricKey",
            "abc=",
            "-BposTenantId",
            "t",
        ],
    )
    .success()
    .stderr(predicate::str::contains("-AppPrincipalId is ignored"));
    assert!(is_protected(&f));
}

#[test]
fn exit_2_for_usage_errors() {
    let s = Scratch::new();
    let f = s.file("a.txt", SENSITIVE.as_bytes());
    legacy(&s, &["-TemplateID", TEMPLATE_ID]).code(2).stderr(predicate::str::contains("-File"));
    s.task().arg("protect").arg(&f).args(["--template", "not-a-guid"]).assert().code(2);
    s.task().arg("protect").arg(&f).assert().code(2).stderr(predicate::str::contains("no template"));
    s.task().args(["protect", "--bogus"]).assert().code(2);
    assert_eq!(std::fs::read(&f).unwrap(), SENSITIVE.as_bytes());
}

#[test]
fn exit_3_when_the_rebuilt_path_does_not_exist_says_what_was_tried() {
    let s = Scratch::new();
    let missing = format!("'{}/no such file.txt'", s.path().join("data").display());
    legacy(&s, &["-File", &missing, "-TemplateID", TEMPLATE_ID]).code(3).stderr(
        predicate::str::contains("rebuilt from the argument line").and(predicate::str::contains("no such file.txt")),
    );
    let log = log_lines(&s);
    assert_eq!(log[0]["exit_code"], 3);
    assert!(log[0]["error"].as_str().unwrap().contains("no such file.txt"));
}

#[test]
fn exit_3_for_several_readings_lists_every_path_tried_best_first() {
    let s = Scratch::new();
    // Split at the space, as FSRM's expansion arrives: the path could also run on to the end of the line.
    let first = format!("'{}/gone", s.path().join("data").display());
    legacy(&s, &["-File", &first, "file.txt'", "-TemplateID", TEMPLATE_ID, "-OwnerMail", "'o@contoso.com'", "-Always"])
        .code(3)
        .stderr(
            predicate::str::contains("tried, best first:")
                .and(predicate::str::contains("gone file.txt\", \""))
                .and(predicate::str::contains("gone file.txt' -TemplateID")),
        );
}

#[test]
fn a_misspelt_switch_is_exit_2_naming_it() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    let quoted = format!("'{}'", f.display());
    legacy(&s, &["-File", &quoted, "-TemplatID", TEMPLATE_ID, "-OwnerMail", "'alice@contoso.com'"])
        .code(2)
        .stderr(predicate::str::contains("\"-TemplatID\" is not a switch (misspelt?)"));
    assert_eq!(std::fs::read(&f).unwrap(), SENSITIVE.as_bytes());
}

#[test]
fn a_stray_double_quote_after_the_owner_from_a_migrated_command_line_is_dropped() {
    // Microsoft's task ran `powershell.exe -Command "… -OwnerMail '[Source File Owner Email]'"`; cutting the line
    // before -File leaves the closing `"`.
    let s = Scratch::new();
    let f = s.file("payroll 2024.txt", SENSITIVE.as_bytes());
    let dir = s.path().join("data").display().to_string();
    let first = format!("'{dir}/payroll");
    legacy(&s, &["-File", &first, "2024.txt'", "-TemplateID", TEMPLATE_ID, "-OwnerMail", "'alice@contoso.com'\""])
        .success();
    assert!(is_protected(&f));
    assert_eq!(log_lines(&s)[0]["owner"], "alice@contoso.com");
}

#[test]
fn quote_forms_of_wrappers_are_removed_once() {
    let s = Scratch::new();
    let names = ["double quoted.txt", "double then single.txt", "single quoted.txt", "bare path.txt"];
    let paths: Vec<PathBuf> = names.iter().map(|n| s.file(n, SENSITIVE.as_bytes())).collect();
    let forms = [
        format!("\"{}\"", paths[0].display()),
        format!("\"'{}'\"", paths[1].display()),
        format!("'{}'", paths[2].display()),
        paths[3].display().to_string(),
    ];
    for (form, p) in forms.iter().zip(&paths) {
        legacy(&s, &["-File", form, "-TemplateID", TEMPLATE_ID, "-OwnerMail", "\"'alice@contoso.com'\""]).success();
        assert!(is_protected(p), "{form}");
    }
    assert!(log_lines(&s).iter().all(|l| l["owner"] == "alice@contoso.com"));
}

#[test]
fn exit_4_when_another_process_holds_the_file() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    let holder = std::fs::File::open(&f).unwrap();
    holder.lock().unwrap();
    s.task()
        .arg("protect")
        .arg(&f)
        .args(["--template", TEMPLATE_ID])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("busy"));
    drop(holder);
    assert_eq!(std::fs::read(&f).unwrap(), SENSITIVE.as_bytes());
    s.task().arg("protect").arg(&f).args(["--template", TEMPLATE_ID]).assert().code(0);
    assert!(is_protected(&f));
}

#[test]
fn exit_5_for_an_unknown_template_even_when_the_file_would_be_skipped() {
    let s = Scratch::new();
    let f = s.file("menu.txt", CLEAN.as_bytes());
    s.task()
        .arg("protect")
        .arg(&f)
        .args(["--template", "00000000-0000-0000-0000-00000000beef"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("not in the template store"));
}

#[test]
fn exit_6_for_broken_rules_or_config() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    let bad_rules = s.path().join("bad-rules");
    std::fs::create_dir_all(&bad_rules).unwrap();
    std::fs::write(
        bad_rules.join("10-broken.xml"),
        "<ClassificationRules>\n  <Rule name=\"x\"\n</ClassificationRules>\n",
    )
    .unwrap();
    s.cmd()
        .arg("--rules")
        .arg(&bad_rules)
        .arg("--log-dir")
        .arg(s.path().join("logs"))
        .arg("protect")
        .arg(&f)
        .args(["--template", TEMPLATE_ID])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("10-broken.xml"));
    assert_cmd::Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--templates")
        .arg(s.path().join("no-such-store"))
        .arg("--log-dir")
        .arg(s.path().join("logs"))
        .arg("protect")
        .arg(&f)
        .args(["--template", TEMPLATE_ID])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("no-such-store"));
    protect_with_config(&s, &f, "[policy]\nunreadable = \"sometimes\"\n")
        .code(6)
        .stderr(predicate::str::contains("fci-connector.toml:2:"));
    assert_eq!(std::fs::read(&f).unwrap(), SENSITIVE.as_bytes());
}

#[test]
fn exit_7_for_unreadable_content_unless_the_policy_protects_it_anyway() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    protect_with_config(&s, &f, "[limits]\nmax_text_bytes = 10\n")
        .code(7)
        .stderr(predicate::str::contains("max_text_bytes"));
    assert_eq!(std::fs::read(&f).unwrap(), SENSITIVE.as_bytes());
    protect_with_config(&s, &f, "[limits]\nmax_text_bytes = 10\n[policy]\nunreadable = \"protect\"\n")
        .code(0)
        .stderr(predicate::str::contains("protecting it anyway"));
    assert!(is_protected(&f));
}

#[test]
fn config_supplies_default_template_rules_and_log_folder() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    let config = s.path().join("fci-connector.toml");
    std::fs::write(
        &config,
        format!(
            "rules = '{}'\ntemplates = 'templates'\ndefault_template = '{TEMPLATE_ID}'\n[log]\ndir = 'cfg-logs'\n",
            rules().display()
        ),
    )
    .unwrap();
    assert_cmd::Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .arg("protect")
        .arg(&f)
        .assert()
        .success();
    assert!(is_protected(&f));
    assert!(s.path().join("cfg-logs/fci-connector.log").is_file());
}

#[test]
fn dry_run_changes_nothing() {
    let s = Scratch::new();
    let f = s.file("payroll.txt", SENSITIVE.as_bytes());
    s.task()
        .arg("protect")
        .arg(&f)
        .args(["--template", TEMPLATE_ID, "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would protect"));
    assert_eq!(std::fs::read(&f).unwrap(), SENSITIVE.as_bytes());
}

#[test]
fn help_lists_the_exit_codes() {
    assert_cmd::Command::cargo_bin("fci-connector").unwrap().arg("--help").assert().success().stdout(
        predicate::str::contains("Exit codes:")
            .and(predicate::str::contains(" 8  write failed"))
            .and(predicate::str::contains("13  with --strict-exit")),
    );
}

#[test]
fn two_invocations_racing_on_one_file_protect_it_exactly_once() {
    let s = Scratch::new();
    for round in 0..25 {
        let content = format!("{SENSITIVE}round {round}\n");
        let f = s.file(&format!("race{round}.txt"), content.as_bytes());
        let spawn = || spawn_protect(&s, &f, &["--strict-exit"]);
        let (mut a, mut b) = (spawn(), spawn());
        let codes = [a.wait().unwrap().code(), b.wait().unwrap().code()];
        // One protects (0); the other finds it protected (11) or busy (4).
        assert!(codes.contains(&Some(0)), "round {round}: {codes:?}");
        assert!(codes.iter().all(|c| matches!(c, Some(0) | Some(11) | Some(4))), "round {round}: {codes:?}");
        assert!(!(codes[0] == Some(0) && codes[1] == Some(0)), "round {round}: both protected");
        // Exactly once: one unprotect gives back the original.
        s.unprotect(&f, "issuer.key.pem").success();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), content, "round {round}");
    }
    // Every invocation logged one whole line.
    assert_eq!(log_lines(&s).len(), 50);
}

#[test]
fn log_rotates_by_size_and_parallel_appends_never_tear() {
    let s = Scratch::new();
    let config = s.path().join("fci-connector.toml");
    std::fs::write(&config, "[log]\nmax_bytes = 2000\nkeep = 50\n").unwrap();
    let files: Vec<PathBuf> = (0..24).map(|i| s.file(&format!("m{i}.txt"), CLEAN.as_bytes())).collect();
    let config_arg = format!("--config={}", config.display());
    let children: Vec<_> = files.iter().map(|f| spawn_protect(&s, f, &[&config_arg])).collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let mut lines = 0;
    let mut rotated = 0;
    for entry in std::fs::read_dir(s.path().join("logs")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("fci-connector.log") || name.ends_with(".lock") {
            continue;
        }
        rotated += usize::from(name != "fci-connector.log");
        for l in std::fs::read_to_string(&p).unwrap().lines() {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("torn line in {name}: {l:?}: {e}"));
            assert_eq!(v["decision"], "skipped");
            lines += 1;
        }
    }
    assert_eq!(lines, 24);
    assert!(rotated >= 2, "expected rotation, found {rotated} rotated files");
}

#[test]
fn files_another_product_protects_are_never_wrapped_again() {
    let s = Scratch::new();
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/interop/ms-rms-pfile");
    let cases = [
        (interop.join("windowsTest.txt.pfile"), "microsoft-rms"),
        (interop.join("labeled-text.ptxt"), "microsoft-rms"),
        (fixtures().join("detect/password.docx"), "office-password"),
        (fixtures().join("detect/encrypted.pdf"), "pdf-encryption"),
        (fixtures().join("detect/encrypted.zip"), "zip-encryption"),
    ];
    for (source, protector) in cases {
        let name = source.file_name().unwrap().to_string_lossy().into_owned();
        let original = std::fs::read(&source).unwrap();
        let f = s.file(&name, &original);
        for always in [false, true] {
            let mut cmd = s.task();
            cmd.arg("protect").arg(&f).args(["--template", TEMPLATE_ID]);
            if always {
                cmd.arg("--always");
            }
            cmd.assert()
                .code(0)
                .stdout(predicate::str::contains(format!("protected by another product ({protector})")));
        }
        s.task().arg("protect").arg(&f).args(["--template", TEMPLATE_ID, "--strict-exit"]).assert().code(12);
        assert_eq!(std::fs::read(&f).unwrap(), original, "{name} was changed");
        s.cmd().arg("status").arg(&f).args(["--format", "json"]).assert().success().stdout(
            predicate::str::contains(r#""state":"protected-by-other""#)
                .and(predicate::str::contains(format!(r#""protector":"{protector}""#))),
        );
    }
    let logged = log_lines(&s);
    assert!(logged.iter().all(|l| l["decision"] == "skipped"));
    assert!(logged[0]["reason"].as_str().unwrap().contains("microsoft-rms"));
}

#[test]
fn status_names_the_template_of_every_interop_rms_file() {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/interop/ms-rms-pfile");
    let out = assert_cmd::Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("status")
        .arg(&interop)
        .args(["--format", "json"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let rms: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| !v["path"].as_str().unwrap().ends_with("README.md"))
        .collect();
    assert_eq!(rms.len(), 8);
    for v in &rms {
        assert_eq!(v["state"], "protected-by-other", "{v}");
        assert_eq!(v["protector"], "microsoft-rms", "{v}");
    }
    let with_template = rms.iter().filter(|v| v["template_id"].as_str().is_some_and(|t| t.len() == 36)).count();
    assert!(with_template >= 7, "template ids found for only {with_template} of 8: {text}");
}
