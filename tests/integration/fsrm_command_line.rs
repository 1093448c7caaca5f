//! `fci-scripts/fsrm-command-line.txt`, the FSRM task's argument line that Install-FciConnector.ps1 registers and
//! tests/windows/run.sh runs under Wine, works with the real binary here too: expanded the way FSRM does (plain text,
//! no quoting) and split the way Windows splits an unquoted command line (on whitespace), it protects exactly the
//! file it names. So does Microsoft's order of the same switches, and so do file names made to look like switches.

use std::path::{Path, PathBuf};

use crate::util::{Scratch, TEMPLATE_ID, is_protected};

const SPEC: &str = include_str!("../../fci-scripts/fsrm-command-line.txt");
/// Microsoft's RMS-Protect-FCI.ps1 line, as migrated tasks keep it.
const MICROSOFT: &str = "-File '[Source File Path]' -TemplateID {TemplateID} -OwnerMail '[Source File Owner Email]'";
const SENSITIVE: &[u8] = b"Annual review\n\nSocial Security Number: 536-22-8175\n";
const CLEAN: &[u8] = b"Cafeteria menu\nMonday: lentil soup\n";
const OWNER: &str = "anna@contoso.com";

/// The argument line: the first line that is not a comment.
fn argument_line() -> &'static str {
    SPEC.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap()
}

/// The installer's line in FsrmRules mode: -Always before -OwnerMail (Install-FciConnector.ps1, Get-ArgumentLine).
fn fsrm_rules_line() -> String {
    argument_line().replacen(" -OwnerMail ", " -Always -OwnerMail ", 1)
}

/// The Arguments of a task that keeps powershell.exe and runs the drop-in: the line after `powershell.exe:`.
fn drop_in_line() -> &'static str {
    SPEC.lines().find_map(|l| l.trim().strip_prefix("powershell.exe:")).map(str::trim).unwrap()
}

/// `line` as FSRM hands it to the program: macros replaced as text.
fn expand_line(line: &str, path: &str, owner: &str) -> String {
    line.replace("{TemplateID}", TEMPLATE_ID)
        .replace("[Source File Path]", path)
        .replace("[Source File Owner Email]", owner)
}

/// The binary with this scratch folder's templates, the default rules and a log folder, started in `data/` (so a
/// relative path read out of a file name would land on a file there).
fn task(s: &Scratch) -> assert_cmd::Command {
    let mut cmd = s.task();
    cmd.current_dir(s.path().join("data"));
    cmd
}

fn last_log_line(s: &Scratch) -> serde_json::Value {
    let text = std::fs::read_to_string(s.path().join("logs/fci-connector.log")).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

#[test]
fn the_line_puts_the_file_last_with_microsofts_switches_and_quoted_macros() {
    let line = argument_line();
    assert!(line.ends_with("-File '[Source File Path]'"), "-File must be last: {line}");
    assert!(line.contains("-TemplateID {TemplateID}"), "{line}");
    assert!(line.contains("-OwnerMail '[Source File Owner Email]'"), "{line}");
    let lines: Vec<&str> = SPEC.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 2, "the file must hold the connector's line and the drop-in's: {lines:?}");
    assert!(lines[1].starts_with("powershell.exe:"), "the second line is the drop-in's: {lines:?}");
}

#[test]
fn the_installer_reads_the_line_from_the_file_and_keeps_the_file_last() {
    let installer = include_str!("../../fci-scripts/Install-FciConnector.ps1");
    assert!(installer.contains("'fsrm-command-line.txt'"), "Install-FciConnector.ps1 no longer reads the file");
    assert!(!installer.contains("[Source File Path]"), "Install-FciConnector.ps1 has its own copy of the line");
    // Not in front: fci-connector recognises Microsoft's form by its first switch (is_legacy in src/cli/fsrm_args.rs).
    assert!(
        installer.contains("$line.Replace(' -OwnerMail ', ' -Always -OwnerMail ')"),
        "-Always must go before -OwnerMail, not first and not after -File"
    );
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
            assert_eq!(last_log_line(&s)["reason"], "no protection policy line matched");
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

// --- One source of truth for the task lines, and the PowerShell drop-in's line as FSRM and powershell.exe read it ---

const DEPLOYING: &str = include_str!("../../docs/DEPLOYING.md");
const RUN_SH: &str = include_str!("../windows/run.sh");
const DROP_IN: &str = include_str!("../../fci-scripts/RMS-Protect-FCI.ps1");
/// Where docs/DEPLOYING.md installs the drop-in.
const SCRIPT: &str = r"C:\Program Files\FciConnector\fci-scripts\RMS-Protect-FCI.ps1";

/// The drop-in's `$LineForm`: the line it starts fci-connector.exe with.
fn drop_in_form() -> &'static str {
    let line =
        DROP_IN.lines().find_map(|l| l.trim().strip_prefix("$LineForm = ")).expect("no $LineForm in the drop-in");
    line.trim().strip_prefix('\'').and_then(|l| l.strip_suffix('\'')).expect("$LineForm is a single-quoted literal")
}

#[test]
fn the_installer_the_docs_the_drop_in_and_the_wine_suite_use_the_lines_of_fsrm_command_line_txt() {
    // The docs show the lines as registered: the template id of their examples filled in.
    let example = "e6ee2481-26b9-45e5-b34a-f744eacd53b0";
    let connector = argument_line().replace("{TemplateID}", example);
    assert!(DEPLOYING.contains(&connector), "docs/DEPLOYING.md does not show the registered line {connector}");
    let fsrm_rules = fsrm_rules_line().replace("{TemplateID}", example);
    assert!(DEPLOYING.contains(&fsrm_rules), "docs/DEPLOYING.md does not show the FsrmRules line {fsrm_rules}");
    let drop_in = drop_in_line().replace("{TemplateID}", example).replace("{Script}", SCRIPT);
    assert!(DEPLOYING.contains(&drop_in), "docs/DEPLOYING.md does not show the drop-in's line {drop_in}");
    // The drop-in starts fci-connector with the same line, each value double-quoted so that it is one word.
    assert_eq!(
        drop_in_form().strip_prefix("protect ").map(|f| f.replace('"', "'")).as_deref(),
        Some(argument_line()),
        "RMS-Protect-FCI.ps1's $LineForm"
    );
    // The Wine suite reads the file (no copy of the line of its own) and runs the drop-in's form too.
    assert!(RUN_SH.contains("fci-scripts/fsrm-command-line.txt"), "tests/windows/run.sh no longer reads the file");
    assert!(!RUN_SH.contains(argument_line()), "tests/windows/run.sh has its own copy of the line");
    assert!(RUN_SH.contains("$LineForm"), "tests/windows/run.sh does not run the drop-in's line");
}

/// A Windows command line split into words at blanks outside double quotes, the quotes kept: the words
/// fci-connector's reading of the raw line sees (src/cli/fsrm_args.rs).
fn windows_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == ' ' && !quoted {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// What powershell.exe runs for the drop-in's Arguments as FSRM expands them: the text of the one double-quoted
/// argument after -Command (FSRM writes no double quote of its own, and no file name holds one).
fn command_text(arguments: &str) -> String {
    let after = arguments.split_once("-Command \"").expect("no -Command \"…\"").1;
    after.rsplit_once('"').expect("-Command's quote is not closed").0.to_string()
}

/// The drop-in's named arguments as PowerShell parses the -Command text: each value's literal string. Err with
/// the syntax errors when it does not parse.
fn drop_in_arguments(command: &str) -> Result<std::collections::HashMap<String, String>, String> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_powershell::LANGUAGE.into()).unwrap();
    let tree = parser.parse(command, None).unwrap();
    let mut nodes = vec![tree.root_node()];
    let mut all = Vec::new();
    while let Some(n) = nodes.pop() {
        all.push(n);
        let mut c = n.walk();
        nodes.extend(n.children(&mut c));
    }
    if let Some(bad) = all.iter().find(|n| n.is_error() || n.is_missing()) {
        return Err(format!("does not parse at {:?}: {command}", bad.start_position()));
    }
    let call = all
        .iter()
        .find(|n| n.kind() == "command" && n.child(0).is_some_and(|c| c.kind() == "command_invokation_operator"))
        .ok_or("no `& 'script'` call")?;
    let elements = call.children(&mut call.walk()).find(|c| c.kind() == "command_elements").ok_or("no arguments")?;
    let items: Vec<_> = elements.children(&mut elements.walk()).collect();
    let mut args = std::collections::HashMap::new();
    let mut name: Option<String> = None;
    for item in items {
        let text = &command[item.byte_range()];
        match item.kind() {
            "command_parameter" => name = Some(text.trim_start_matches('-').to_lowercase()),
            "command_argument_sep" => {}
            _ => {
                let value = match text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
                    Some(inner) => inner.replace("''", "'"),
                    None => text.to_string(),
                };
                args.insert(name.take().ok_or_else(|| format!("positional argument {text}"))?, value);
            }
        }
    }
    Ok(args)
}

/// The line the drop-in starts fci-connector.exe with, for these parsed arguments (RMS-Protect-FCI.ps1's logic).
fn drop_in_fci_line(args: &std::collections::HashMap<String, String>, classify: bool) -> String {
    let line = drop_in_form()
        .replace("{TemplateID}", &args["templateid"])
        .replace("[Source File Owner Email]", &args["ownermail"])
        .replace("[Source File Path]", &args["file"]);
    if classify { line } else { line.replacen("protect ", "protect -Always ", 1) }
}

/// The drop-in's Arguments with FSRM's macros replaced as text.
fn expand_drop_in(path: &str, owner: &str) -> String {
    drop_in_line()
        .replace("{Script}", SCRIPT)
        .replace("{TemplateID}", TEMPLATE_ID)
        .replace("[Source File Path]", path)
        .replace("[Source File Owner Email]", owner)
}

#[test]
fn the_drop_in_line_as_fsrm_and_powershell_read_it_protects_the_file_fsrm_chose() {
    for classify in [false, true] {
        let s = Scratch::new();
        // A file fci-connector's rules would leave alone: FSRM's condition chose it, so the drop-in protects it (as
        // Microsoft's script did), unless told to classify.
        let target = s.file("Q3  report & 100% [final].txt", CLEAN);
        let decoys = [s.file("Q3 report & 100% [final].txt", SENSITIVE), s.file("Q3", SENSITIVE)];
        let arguments = expand_drop_in(&target.display().to_string(), OWNER);
        let command = command_text(&arguments);
        assert!(command.ends_with("; exit $LASTEXITCODE"), "the exit code is not passed on: {command}");
        let args = drop_in_arguments(&command).unwrap();
        assert_eq!(args["file"], target.display().to_string(), "PowerShell's reading of -File");
        let line = drop_in_fci_line(&args, classify);
        task(&s).args(windows_words(&line)).assert().code(0);
        if classify {
            assert_eq!(std::fs::read(&target).unwrap(), CLEAN, "-Classify: {line}");
            assert_eq!(last_log_line(&s)["reason"], "no protection policy line matched");
        } else {
            assert!(is_protected(&target), "not protected by {line}");
            assert_eq!(last_log_line(&s)["owner"], OWNER);
        }
        for d in decoys {
            assert_eq!(std::fs::read(&d).unwrap(), SENSITIVE, "{line}: {} changed", d.display());
        }
    }
}

#[test]
fn under_the_drop_in_a_file_name_with_a_single_quote_fails_to_parse_as_microsofts_did() {
    // Documented in docs/DEPLOYING.md: PowerShell ends a single-quoted string at the name's quote (also at a
    // typographic one), so the task fails for that file; the direct fci-connector line handles it.
    for name in ["O'Brien.txt", "O\u{2019}Brien.txt"] {
        let command = command_text(&expand_drop_in(&format!("D:\\Shares\\{name}"), OWNER));
        if name.contains('\'') {
            assert!(drop_in_arguments(&command).is_err(), "{command} parsed");
        } else {
            // tree-sitter does not treat the typographic quote as PowerShell does; nothing to assert here but that
            // the direct line handles both (the_expanded_line_protects_exactly_the_named_file, the Wine suite).
            let _ = drop_in_arguments(&command);
        }
    }
}

#[test]
fn microsofts_line_moved_to_fci_connector_with_always_protects_what_fsrm_chose() {
    // docs/DEPLOYING.md, migration 1: the Arguments after -Command's script, the closing quote left in, -Always
    // before -OwnerMail (not first: fci-connector recognises Microsoft's form by its first switch). A file fci-connector's rules would not protect is protected, as Microsoft's script protected it.
    let s = Scratch::new();
    let target = s.file("menu of the week.txt", CLEAN);
    let line = format!("{MICROSOFT}\"").replacen(" -OwnerMail ", " -Always -OwnerMail ", 1);
    task(&s).args(expand_line(&line, &target.display().to_string(), OWNER).split(' ')).assert().code(0);
    assert!(is_protected(&target), "{line}");
    assert_eq!(last_log_line(&s)["owner"], OWNER);
}

#[test]
fn the_installers_fsrm_rules_line_protects_what_fsrm_chose() {
    // FsrmRules mode: FSRM's condition chose the file; fci-connector protects it without classifying.
    let s = Scratch::new();
    let target = s.file("menu, chosen by FSRM.txt", CLEAN);
    let line = fsrm_rules_line();
    task(&s).args(expand_line(&line, &target.display().to_string(), OWNER).split(' ')).assert().code(0);
    assert!(is_protected(&target), "{line}");
}
