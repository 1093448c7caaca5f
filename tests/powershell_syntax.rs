//! Every PowerShell script in `fci-scripts/` parses. PowerShell cannot be installed on the build machines, so the
//! tree-sitter PowerShell grammar stands in for its parser: any ERROR or MISSING node fails the test, named by
//! file and line.

use std::path::{Path, PathBuf};

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fci-scripts")
}

/// The `.ps1` files in `fci-scripts/`, in name order.
fn scripts() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(scripts_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("ps1")))
        .collect();
    found.sort();
    found
}

/// `line:column: what` for every syntax-error node in `source` (lines and columns from 1).
fn syntax_errors(source: &str) -> Vec<String> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_powershell::LANGUAGE.into()).unwrap();
    let tree = parser.parse(source, None).unwrap();
    let mut errors = Vec::new();
    let mut cursor = tree.walk();
    // Depth-first over every node, named or not: a MISSING token is often an anonymous one (a `}`).
    'walk: loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            let at = node.start_position();
            let what = if node.is_missing() {
                format!("missing {}", node.kind())
            } else {
                let text = &source[node.byte_range()];
                let first_line = text.lines().next().unwrap_or("").trim();
                format!("cannot parse `{}`", first_line.chars().take(60).collect::<String>())
            };
            errors.push(format!("{}:{}: {what}", at.row + 1, at.column + 1));
        }
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    errors
}

#[test]
fn every_script_parses() {
    let mut failures = Vec::new();
    for script in scripts() {
        let source = std::fs::read_to_string(&script).unwrap();
        let name = script.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&script).display().to_string();
        failures.extend(syntax_errors(&source).into_iter().map(|e| format!("{name}:{e}")));
    }
    assert!(failures.is_empty(), "PowerShell syntax errors:\n{}", failures.join("\n"));
}

#[test]
fn the_deployment_scripts_are_all_there() {
    let names: Vec<String> = scripts().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in [
        "Get-FciFileStatus.ps1",
        "Install-FciConnector.ps1",
        "RMS-Protect-FCI.ps1",
        "Test-FciRules.ps1",
        "Uninstall-FciConnector.ps1",
    ] {
        assert!(names.iter().any(|n| n == expected), "fci-scripts/{expected} is missing (found {names:?})");
    }
}

#[test]
fn every_script_has_comment_based_help() {
    for script in scripts() {
        let source = std::fs::read_to_string(&script).unwrap();
        for keyword in [".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE"] {
            assert!(source.contains(keyword), "{}: no {keyword} in its comment-based help", script.display());
        }
    }
}

#[test]
fn the_checker_reports_broken_scripts_with_their_line() {
    let unclosed = "param([string]$File)\n\nfunction Test-It {\n    if ($File -eq 'x') {\n        'yes'\n    \n";
    let errors = syntax_errors(unclosed);
    assert!(!errors.is_empty(), "an unclosed block parsed cleanly");

    let stray = "$a = 1\n$b = (2 +\nWrite-Output $a\n";
    let errors = syntax_errors(stray);
    assert!(!errors.is_empty(), "an unfinished expression parsed cleanly");
    assert!(errors.iter().all(|e| !e.starts_with("1:")), "the error is placed on line 1: {errors:?}");
}

#[test]
fn the_checker_accepts_the_constructs_the_scripts_use() {
    let good = r#"
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [Parameter(Mandatory = $true)][string]$File,
    [ValidatePattern('^\{?[0-9a-fA-F-]{36}\}?$')][string]$TemplateID = '',
    [switch]$Force
)
$ErrorActionPreference = 'Stop'
try {
    $out = & "$PSScriptRoot\fci-connector.exe" status --format json -- $File 2>&1
    if ($LASTEXITCODE -ne 0) { throw "failed: $LASTEXITCODE" }
    $out | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object { $_.state -eq 'protected' }
} catch {
    Write-Warning $_.Exception.Message
} finally {
    [pscustomobject]@{ FileName = $File; Status = 'Protected' }
}
exit $LASTEXITCODE
"#;
    assert_eq!(syntax_errors(good), Vec::<String>::new());
}
