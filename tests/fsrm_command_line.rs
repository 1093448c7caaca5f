//! `fci-scripts/fsrm-command-line.txt`, the FSRM task's argument line that Install-FciConnector.ps1 registers and
//! tests/windows/run.sh runs under Wine, works with the real binary here too: expanded the way FSRM does (plain text,
//! no quoting) and split the way Windows splits an unquoted command line (on whitespace), it protects exactly the
//! file it names.

mod common;

use common::{Scratch, TEMPLATE_ID};

const SPEC: &str = include_str!("../fci-scripts/fsrm-command-line.txt");

/// The argument line: the first line that is not a comment.
fn argument_line() -> &'static str {
    SPEC.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap()
}

/// The line as FSRM hands it to the program: macros replaced as text.
fn expand(path: &str, owner: &str) -> String {
    argument_line()
        .replace("{TemplateID}", TEMPLATE_ID)
        .replace("[Source File Path]", path)
        .replace("[Source File Owner Email]", owner)
}

#[test]
fn the_line_is_microsofts_form_with_its_macros_quoted() {
    let line = argument_line();
    assert!(line.contains("-File '[Source File Path]'"), "{line}");
    assert!(line.contains("-TemplateID {TemplateID}"), "{line}");
    assert!(line.contains("-OwnerMail '[Source File Owner Email]'"), "{line}");
    let others = SPEC.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).count();
    assert_eq!(others, 1, "the file must hold exactly one argument line");
}

#[test]
fn the_installer_reads_the_line_from_the_file() {
    let installer = include_str!("../fci-scripts/Install-FciConnector.ps1");
    assert!(installer.contains("'fsrm-command-line.txt'"), "Install-FciConnector.ps1 no longer reads the file");
    assert!(!installer.contains("[Source File Path]"), "Install-FciConnector.ps1 has its own copy of the line");
}

#[test]
fn the_expanded_line_protects_exactly_the_named_file() {
    let s = Scratch::new();
    let content = b"Annual review\n\nSocial Security Number: 536-22-8175\n";
    let target = s.file("Q3 report O'Brien.txt", content);
    let decoys = [s.file("Q3", content), s.file("report", content), s.file("O'Brien.txt", content)];
    let expanded = expand(&target.display().to_string(), "anna@contoso.com");

    let mut cmd = s.cmd();
    cmd.arg("--rules").arg(concat!(env!("CARGO_MANIFEST_DIR"), "/classification-rules"));
    cmd.arg("--log-dir").arg(s.path().join("logs"));
    cmd.args(expanded.split_whitespace()).assert().code(0);

    let status = s.cmd().args(["status", "--format", "json"]).arg(&target).assert().code(0);
    let out = String::from_utf8(status.get_output().stdout.clone()).unwrap();
    assert!(out.contains(r#""state":"protected""#), "{out}");
    assert!(out.contains(r#""owner":"anna@contoso.com""#), "{out}");
    for decoy in decoys {
        assert_eq!(std::fs::read(&decoy).unwrap(), content, "{} changed", decoy.display());
    }
}
