//! `fci-scripts/fsrm-command-line.txt`, the FSRM task's argument line that Install-FciConnector.ps1 registers and
//! tests/windows/run.sh runs under Wine, works with the real binary here too: expanded the way FSRM does (plain text,
//! no quoting) and split the way Windows splits an unquoted command line (on whitespace), it protects exactly the
//! file it names. So does Microsoft's order of the same switches, and so do file names made to look like switches.

mod common;

use std::path::{Path, PathBuf};

use common::{Scratch, TEMPLATE_ID};

const SPEC: &str = include_str!("../fci-scripts/fsrm-command-line.txt");
/// Microsoft's RMS-Protect-FCI.ps1 line, as migrated tasks keep it.
const MICROSOFT: &str = "-File '[Source File Path]' -TemplateID {TemplateID} -OwnerMail '[Source File Owner Email]'";
const SENSITIVE: &[u8] = b"Annual review\n\nSocial Security Number: 536-22-8175\n";
const CLEAN: &[u8] = b"Cafeteria menu\nMonday: lentil soup\n";
const OWNER: &str = "anna@contoso.com";

/// The argument line: the first line that is not a comment.
fn argument_line() -> &'static str {
    SPEC.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap()
}

/// `line` as FSRM hands it to the program: macros replaced as text.
fn expand_line(line: &str, path: &str, owner: &str) -> String {
    line.replace("{TemplateID}", TEMPLATE_ID)
        .replace("[Source File Path]", path)
        .replace("[Source File Owner Email]", owner)
}

fn rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("classification-rules")
}

/// The binary with this scratch folder's templates, the default rules and a log folder, started in `data/` (so a
/// relative path read out of a file name would land on a file there).
fn task(s: &Scratch) -> assert_cmd::Command {
    let mut cmd = s.cmd();
    cmd.arg("--rules").arg(rules()).arg("--log-dir").arg(s.path().join("logs"));
    cmd.current_dir(s.path().join("data"));
    cmd
}

fn last_log_line(s: &Scratch) -> serde_json::Value {
    let text = std::fs::read_to_string(s.path().join("logs/fci-connector.log")).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

fn is_protected(p: &Path) -> bool {
    std::fs::read(p).unwrap().starts_with(b"FCI-PROT")
}

#[test]
fn the_line_puts_the_file_last_with_microsofts_switches_and_quoted_macros() {
    let line = argument_line();
    assert!(line.ends_with("-File '[Source File Path]'"), "-File must be last: {line}");
    assert!(line.contains("-TemplateID {TemplateID}"), "{line}");
    assert!(line.contains("-OwnerMail '[Source File Owner Email]'"), "{line}");
    let others = SPEC.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).count();
    assert_eq!(others, 1, "the file must hold exactly one argument line");
}

#[test]
fn the_installer_reads_the_line_from_the_file_and_keeps_the_file_last() {
    let installer = include_str!("../fci-scripts/Install-FciConnector.ps1");
    assert!(installer.contains("'fsrm-command-line.txt'"), "Install-FciConnector.ps1 no longer reads the file");
    assert!(!installer.contains("[Source File Path]"), "Install-FciConnector.ps1 has its own copy of the line");
    assert!(installer.contains("$line = '-Always ' + $line"), "-Always must go in front of the line, not after -File");
    assert!(!installer.contains("$line += ' -Always'"), "-Always must not follow the path");
}

#[test]
fn the_expanded_line_protects_exactly_the_named_file() {
    for line in [argument_line(), MICROSOFT] {
        let s = Scratch::new();
        let target = s.file("Q3 report O'Brien.txt", SENSITIVE);
        let decoys = [s.file("Q3", SENSITIVE), s.file("report", SENSITIVE), s.file("O'Brien.txt", SENSITIVE)];
        let expanded = expand_line(line, &target.display().to_string(), OWNER);
        task(&s).args(expanded.split_whitespace()).assert().code(0);

        let status = s.cmd().args(["status", "--format", "json"]).arg(&target).assert().code(0);
        let out = String::from_utf8(status.get_output().stdout.clone()).unwrap();
        assert!(out.contains(r#""state":"protected""#), "{line}: {out}");
        assert!(out.contains(r#""owner":"anna@contoso.com""#), "{line}: {out}");
        for decoy in decoys {
            assert_eq!(std::fs::read(&decoy).unwrap(), SENSITIVE, "{line}: {} changed", decoy.display());
        }
    }
}

/// The file names of issue 13 that made a run protect another file, or none, each with the files a wrong reading
/// would touch.
const HOSTILE: [(&str, &[&str]); 3] = [
    ("x -Always -File 'decoy.txt", &["x", "decoy.txt", "'decoy.txt", "x -Always"]),
    ("Payroll -path copy.txt", &["Payroll", "copy.txt", "copy.txt'"]),
    ("Salaries -Dry-Run -Json .txt", &["Salaries", ".txt", ".txt'", "Salaries -Dry-Run"]),
];

/// The ways the line reaches the program: split at every space (FSRM's unquoted expansion, as Windows splits it),
/// or with the path as one argument, bare or in single quotes (Linux callers, PowerShell wrappers).
#[derive(Clone, Copy, Debug)]
enum Delivery {
    Split,
    OneArgument,
    OneQuotedArgument,
}

fn run_hostile(s: &Scratch, line: &str, target: &Path, delivery: Delivery) -> assert_cmd::assert::Assert {
    let path = target.display().to_string();
    let mut cmd = task(s);
    match delivery {
        Delivery::Split => {
            cmd.args(expand_line(line, &path, OWNER).split(' '));
        }
        Delivery::OneArgument | Delivery::OneQuotedArgument => {
            let value = match delivery {
                Delivery::OneArgument => path.clone(),
                _ => format!("'{path}'"),
            };
            // Split the line around the macro, then put the path in as one argument.
            for word in expand_line(line, "\u{0}", OWNER).split(' ') {
                if word.contains('\u{0}') {
                    cmd.arg(&value);
                } else {
                    cmd.arg(word);
                }
            }
        }
    }
    cmd.assert()
}

#[test]
fn hostile_file_names_protect_exactly_the_named_file_classified() {
    for line in [argument_line(), MICROSOFT] {
        for delivery in [Delivery::Split, Delivery::OneArgument, Delivery::OneQuotedArgument] {
            for (name, pieces) in HOSTILE {
                let s = Scratch::new();
                let target = s.file(name, SENSITIVE);
                let decoys: Vec<PathBuf> = pieces.iter().map(|p| s.file(p, SENSITIVE)).collect();
                let case = format!("{name:?}, {delivery:?}, line {line}");
                run_hostile(&s, line, &target, delivery).code(0);
                assert!(is_protected(&target), "{case}: not protected");
                for d in &decoys {
                    assert_eq!(std::fs::read(d).unwrap(), SENSITIVE, "{case}: {} changed", d.display());
                }
                // Classified, not protected blindly: the log names the file, the rule that matched and the owner.
                let log = last_log_line(&s);
                assert_eq!(log["path"], target.display().to_string(), "{case}");
                assert_eq!(log["decision"], "protected", "{case}");
                assert_eq!(log["properties"]["PII"], "Yes", "{case}: {log}");
                assert_eq!(log["owner"], OWNER, "{case}");
            }
        }
    }
}

#[test]
fn a_clean_file_named_like_always_is_still_classified_and_left_alone() {
    for line in [argument_line(), MICROSOFT] {
        for delivery in [Delivery::Split, Delivery::OneArgument] {
            let s = Scratch::new();
            let target = s.file(HOSTILE[0].0, CLEAN);
            let decoy = s.file("decoy.txt", SENSITIVE);
            run_hostile(&s, line, &target, delivery).code(0);
            assert_eq!(std::fs::read(&target).unwrap(), CLEAN, "{delivery:?}, {line}: -Always was read from the name");
            assert_eq!(std::fs::read(&decoy).unwrap(), SENSITIVE, "{delivery:?}, {line}");
            assert_eq!(last_log_line(&s)["reason"], "no rule matched");
        }
    }
}

#[test]
fn a_file_named_after_the_rest_of_the_line_does_not_take_the_run() {
    // Beside `pay.txt`, a file named `pay.txt' -TemplateID <id> -OwnerMail '<owner>`: read as one path, Microsoft's
    // line names it too. The reading that keeps the line's own -TemplateID and -OwnerMail wins.
    let s = Scratch::new();
    let target = s.file("pay.txt", SENSITIVE);
    let fake = s.file(&format!("pay.txt' -TemplateID {TEMPLATE_ID} -OwnerMail '{OWNER}"), CLEAN);
    task(&s).args(expand_line(MICROSOFT, &target.display().to_string(), OWNER).split(' ')).assert().code(0);
    assert!(is_protected(&target));
    assert_eq!(std::fs::read(&fake).unwrap(), CLEAN);
    // The same with -Always after the line (what the installer used to register in FsrmRules mode).
    let target2 = s.file("menu.txt", CLEAN);
    let fake2 = s.file(&format!("menu.txt' -TemplateID {TEMPLATE_ID} -OwnerMail '{OWNER}"), CLEAN);
    let line = format!("{MICROSOFT} -Always");
    task(&s).args(expand_line(&line, &target2.display().to_string(), OWNER).split(' ')).assert().code(0);
    assert!(is_protected(&target2), "-Always was lost");
    assert_eq!(std::fs::read(&fake2).unwrap(), CLEAN);
}
