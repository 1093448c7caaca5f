//! Every PowerShell script in `fci-scripts/` parses. PowerShell cannot be installed on the build machines, so the
//! tree-sitter PowerShell grammar stands in for its parser: any ERROR or MISSING node fails the test, named by
//! file and line.

use std::path::{Path, PathBuf};

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fci-scripts")
}

/// The scripts (`.ps1`) and modules (`.psm1`) in `fci-scripts/`, in name order.
fn scripts() -> Vec<PathBuf> {
    files_ending(&["ps1", "psm1"])
}

/// The files in `fci-scripts/` with one of these extensions, in name order.
fn files_ending(extensions: &[&str]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(scripts_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| extensions.iter().any(|e| x.eq_ignore_ascii_case(e))))
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
    // The module manifest (.psd1) is PowerShell data: it must parse too.
    for script in files_ending(&["ps1", "psm1", "psd1"]) {
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
        "FciConnector.psm1",
        "Get-FciFileStatus.ps1",
        "Install-FciConnector.ps1",
        "Install-FciLicensingService.ps1",
        "RMS-Protect-FCI.ps1",
        "Test-FciRules.ps1",
        "Uninstall-FciConnector.ps1",
        "Uninstall-FciLicensingService.ps1",
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

/// The functions a module exports: its `Export-ModuleMember -Function` list, as written.
fn exported_functions(source: &str) -> Vec<String> {
    let Some(start) = source.find("Export-ModuleMember -Function") else { return Vec::new() };
    let list = &source[start..];
    let end = list.find(')').unwrap_or(list.len());
    list[..end].split('\'').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn the_readers_module_exports_documented_commands_and_its_manifest_agrees() {
    let module = std::fs::read_to_string(scripts_dir().join("FciConnector.psm1")).unwrap();
    let exported = exported_functions(&module);
    for wanted in ["Open-FciFile", "Unprotect-FciFile", "Get-FciFileStatus", "Connect-FciService"] {
        assert!(exported.iter().any(|e| e == wanted), "FciConnector.psm1 does not export {wanted}: {exported:?}");
    }
    for name in &exported {
        // Each exported function's own comment-based help sits between its opening line and its param block.
        let opening = format!("function {name} {{");
        let at = module.find(&opening).unwrap_or_else(|| panic!("FciConnector.psm1 exports {name} but defines none"));
        let body = &module[at..];
        let help = &body[..body.find("param(").unwrap_or(body.len())];
        for keyword in [".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE"] {
            assert!(help.contains(keyword), "FciConnector.psm1: {name} has no {keyword} in its comment-based help");
        }
    }
    let manifest = std::fs::read_to_string(scripts_dir().join("FciConnector.psd1")).unwrap();
    let start = manifest.find("FunctionsToExport").unwrap();
    let listed: Vec<String> = manifest[start..manifest[start..].find(')').unwrap() + start]
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert_eq!(listed, exported, "FciConnector.psd1's FunctionsToExport differs from the module's export list");
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

// ---------------------------------------------------------------------------------------------------------------------
// The static check of every cmdlet call. PowerShell cannot run here, so the scripts' calls are checked against a table
// of the cmdlets they may use, taken from Microsoft's documentation: every command must be in the table (or a function
// of the same script), every named parameter must be one of the cmdlet's, by its full name or a documented alias
// (PowerShell would also take an unambiguous prefix; the table requires full names, so that a call reads the same as
// the documentation), and a literal value of an enum parameter must be one of its documented values. Splatted
// hashtables (`@settings`, built as `$settings = @{…}` and `$settings['Key'] = …` in the same script) count as named
// parameters. A variable whose script parameter has a [ValidateSet(…)] counts as every value of the set.
//
// Pages read (learn.microsoft.com, through the search tool; the markdown of MicrosoftDocs/windows-powershell-docs,
// docset/winserver2022-ps/FileServerResourceManager, is the source of the FSRM pages):
//   FSRM: /powershell/module/fileserverresourcemanager/new-fsrmfmjaction, new-fsrmfilemanagementjob,
//     new-fsrmfmjcondition (winserver2019 docset), new-fsrmscheduledtask ("-Time … in standard Coordinated Universal
//     Time (UTC) format"), new-fsrmclassificationrule (ReevaluateProperty Never/Overwrite/Aggregate),
//     new-fsrmclassificationpropertydefinition (Type enum; example of an OrderedList "High","Moderate","Low"),
//     new-fsrmclassificationpropertyvalue, set-fsrmclassification ("-Continuous … If you have not previously created
//     a classification schedule, the command results in an error"), get-/remove-fsrmfilemanagementjob,
//     get-/remove-fsrmclassificationrule, get-/remove-fsrmclassificationpropertydefinition, get-fsrmclassification;
//     /previous-versions/windows/desktop/fsrm/msft-fsrmfmjaction (Command: MAX_PATH; CommandParameters: up to 10 KB);
//     /previous-versions/windows/desktop/dacx/how-to-configure-a-file-management-task ("executables used by custom
//     actions must be read-only for any non-administrative user").
//   PowerShell 5.1 (?view=powershell-5.1): about_PowerShell_exe (-Command exit codes: "add exit $LASTEXITCODE"),
//     about_Requires (#Requires -RunAsAdministrator, -Version), about_CommonParameters, about_Splatting, and the
//     pages of the core cmdlets in the table (Microsoft.PowerShell.Management, .Utility, .Core, .Security).
//   PowerShell 7: the Microsoft.PowerShell.Management module there has no New-EventLog or Remove-EventLog.

/// How a parameter takes its value.
#[derive(Clone, Copy)]
enum Kind {
    /// A switch: `-Name` or `-Name:$value`, never a following argument.
    Switch,
    /// Any value.
    Value,
    /// One or more of these values (case-insensitive), as a documented enum.
    Enum(&'static [&'static str]),
}
use Kind::{Enum, Switch, Value};

/// A cmdlet the scripts may use: its name, the page it comes from, its parameters (name or alias, kind), and
/// whether it is a CDXML (CIM) cmdlet with -CimSession/-ThrottleLimit/-AsJob and supports -WhatIf/-Confirm.
struct Cmdlet {
    name: &'static str,
    params: &'static [(&'static str, Kind)],
    cim: bool,
    should_process: bool,
    /// Why a script must not use it, where its documented behaviour makes it wrong here.
    refused: Option<&'static str>,
}

const DAYS: &[&str] = &["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const ACTION_PREFERENCE: &[&str] = &["SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore", "Suspend"];
/// about_CommonParameters.
const COMMON: &[(&str, Kind)] = &[
    ("Verbose", Switch),
    ("vb", Switch),
    ("Debug", Switch),
    ("db", Switch),
    ("ErrorAction", Enum(ACTION_PREFERENCE)),
    ("ea", Enum(ACTION_PREFERENCE)),
    ("WarningAction", Enum(ACTION_PREFERENCE)),
    ("wa", Enum(ACTION_PREFERENCE)),
    ("InformationAction", Enum(ACTION_PREFERENCE)),
    ("infa", Enum(ACTION_PREFERENCE)),
    ("ErrorVariable", Value),
    ("ev", Value),
    ("WarningVariable", Value),
    ("wv", Value),
    ("InformationVariable", Value),
    ("iv", Value),
    ("OutVariable", Value),
    ("ov", Value),
    ("OutBuffer", Value),
    ("ob", Value),
    ("PipelineVariable", Value),
    ("pv", Value),
];
const SHOULD_PROCESS: &[(&str, Kind)] = &[("WhatIf", Switch), ("wi", Switch), ("Confirm", Switch), ("cf", Switch)];
/// The parameters every FSRM (CDXML) cmdlet has.
const CIM: &[(&str, Kind)] = &[("CimSession", Value), ("Session", Value), ("ThrottleLimit", Value), ("AsJob", Switch)];

const fn fsrm(name: &'static str, params: &'static [(&'static str, Kind)], should_process: bool) -> Cmdlet {
    Cmdlet { name, params, cim: true, should_process, refused: None }
}
const fn core(name: &'static str, params: &'static [(&'static str, Kind)], should_process: bool) -> Cmdlet {
    Cmdlet { name, params, cim: false, should_process, refused: None }
}
const fn refused(name: &'static str, why: &'static str) -> Cmdlet {
    Cmdlet { name, params: &[], cim: false, should_process: false, refused: Some(why) }
}

const NAME: &[(&str, Kind)] = &[("Name", Value)];
const NAME_INPUT: &[(&str, Kind)] = &[("Name", Value), ("InputObject", Value), ("PassThru", Switch)];
const FILE_ENCODING: &[&str] = &[
    "Unknown",
    "String",
    "Unicode",
    "BigEndianUnicode",
    "UTF8",
    "UTF7",
    "UTF32",
    "Ascii",
    "Default",
    "Oem",
    "Byte",
    "BigEndianUTF32",
];

const CMDLETS: &[Cmdlet] = &[
    // --- FileServerResourceManager ---
    fsrm(
        "New-FsrmFmjAction",
        &[
            ("Type", Enum(&["Expiration", "Custom", "Rms"])),
            ("ExpirationFolder", Value),
            ("RmsFolderOwner", Switch),
            ("RmsFullControlUser", Value),
            ("RmsReadUser", Value),
            ("RmsWriteUser", Value),
            ("RmsTemplate", Value),
            ("Command", Value),
            ("WorkingDirectory", Value),
            ("CommandParameters", Value),
            ("SecurityLevel", Enum(&["None", "NetworkService", "LocalService", "LocalSystem"])),
        ],
        true,
    ),
    fsrm(
        "New-FsrmFileManagementJob",
        &[
            ("Name", Value),
            ("Description", Value),
            ("Namespace", Value),
            ("Disabled", Switch),
            ("Condition", Value),
            ("Action", Value),
            ("ReportFormat", Enum(&["DHtml", "Html", "Text", "Csv", "XML"])),
            ("ReportLog", Enum(&["Error", "Information", "Audit"])),
            ("MailTo", Value),
            ("Notification", Value),
            ("Schedule", Value),
            ("Continuous", Switch),
            ("ContinuousLog", Switch),
            ("ContinuousLogSize", Value),
            ("Parameters", Value),
        ],
        true,
    ),
    refused(
        "Set-FsrmFileManagementJob",
        "it keeps every setting that is not passed (a job's -Condition cannot be cleared): remove the job and create it \
         again so that a re-run converges",
    ),
    fsrm("Get-FsrmFileManagementJob", NAME, false),
    fsrm("Remove-FsrmFileManagementJob", NAME_INPUT, true),
    fsrm(
        "New-FsrmFmjCondition",
        &[
            ("Property", Value),
            (
                "Condition",
                Enum(&[
                    "Equal",
                    "NotEqual",
                    "GreaterThan",
                    "LessThan",
                    "Contain",
                    "Exist",
                    "NotExist",
                    "StartWith",
                    "EndWith",
                    "ContainedIn",
                    "PrefixOf",
                    "SuffixOf",
                    "MatchesPattern",
                ]),
            ),
            ("Value", Value),
            ("DateOffset", Value),
        ],
        true,
    ),
    fsrm(
        "New-FsrmScheduledTask",
        &[("Time", Value), ("RunDuration", Value), ("Weekly", Enum(DAYS)), ("Monthly", Value)],
        true,
    ),
    fsrm(
        "New-FsrmClassificationPropertyDefinition",
        &[
            ("Name", Value),
            ("DisplayName", Value),
            ("Description", Value),
            (
                "Type",
                Enum(&[
                    "OrderedList",
                    "MultiChoice",
                    "SingleChoice",
                    "String",
                    "MultiString",
                    "Integer",
                    "YesNo",
                    "DateTime",
                ]),
            ),
            ("PossibleValue", Value),
            ("Parameters", Value),
        ],
        true,
    ),
    fsrm("New-FsrmClassificationPropertyValue", &[("Name", Value), ("Description", Value)], true),
    fsrm("Get-FsrmClassificationPropertyDefinition", NAME, false),
    fsrm("Remove-FsrmClassificationPropertyDefinition", NAME_INPUT, true),
    fsrm(
        "New-FsrmClassificationRule",
        &[
            ("Name", Value),
            ("Description", Value),
            ("Property", Value),
            ("PropertyValue", Value),
            ("Namespace", Value),
            ("Disabled", Switch),
            ("ReevaluateProperty", Enum(&["Never", "Aggregate", "Overwrite"])),
            ("Flags", Enum(&["ClearAutomaticallyClassifiedProperty", "ClearManuallyClassifiedProperty", "Deprecated"])),
            ("ContentRegularExpression", Value),
            ("ContentString", Value),
            ("ContentStringCaseSensitive", Value),
            ("ClassificationMechanism", Value),
            ("Parameters", Value),
        ],
        true,
    ),
    refused(
        "Set-FsrmClassificationRule",
        "it keeps every setting that is not passed: remove the rule and create it again so that a re-run converges",
    ),
    fsrm("Get-FsrmClassificationRule", NAME, false),
    fsrm("Remove-FsrmClassificationRule", NAME_INPUT, true),
    fsrm("Get-FsrmClassification", &[], false),
    fsrm(
        "Set-FsrmClassification",
        &[
            ("InputObject", Value),
            ("ExcludeNamespace", Value),
            ("Schedule", Value),
            ("Continuous", Switch),
            ("ContinuousLog", Switch),
            ("ContinuousLogSize", Value),
            ("PassThru", Switch),
        ],
        true,
    ),
    // --- Event log: not in PowerShell 7 ---
    refused("New-EventLog", "PowerShell 7 has no New-EventLog: use [System.Diagnostics.EventLog]::CreateEventSource"),
    refused(
        "Remove-EventLog",
        "PowerShell 7 has no Remove-EventLog: use [System.Diagnostics.EventLog]::DeleteEventSource",
    ),
    refused(
        "Write-Error",
        "under $ErrorActionPreference = 'Stop' it ends the script with exit code 1 before a following `exit <code>`: \
         write to [Console]::Error and exit with the code (docs/EXIT-CODES.md)",
    ),
    // --- Core cmdlets (Windows PowerShell 5.1) ---
    core(
        "New-Object",
        &[
            ("TypeName", Value),
            ("ArgumentList", Value),
            ("Args", Value),
            ("Property", Value),
            ("ComObject", Value),
            ("Strict", Switch),
        ],
        false,
    ),
    core(
        "Test-Path",
        &[
            ("Path", Value),
            ("LiteralPath", Value),
            ("PSPath", Value),
            ("Filter", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("PathType", Enum(&["Any", "Container", "Leaf"])),
            ("IsValid", Switch),
            ("Credential", Value),
            ("OlderThan", Value),
            ("NewerThan", Value),
        ],
        false,
    ),
    core("Join-Path", &[("Path", Value), ("ChildPath", Value), ("Resolve", Switch), ("Credential", Value)], false),
    core(
        "Split-Path",
        &[
            ("Path", Value),
            ("LiteralPath", Value),
            ("Parent", Switch),
            ("Leaf", Switch),
            ("Qualifier", Switch),
            ("NoQualifier", Switch),
            ("IsAbsolute", Switch),
            ("Resolve", Switch),
            ("Credential", Value),
        ],
        false,
    ),
    core(
        "Resolve-Path",
        &[("Path", Value), ("LiteralPath", Value), ("Relative", Switch), ("Credential", Value)],
        false,
    ),
    core(
        "Get-Item",
        &[
            ("Path", Value),
            ("LiteralPath", Value),
            ("Filter", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("Force", Switch),
            ("Credential", Value),
            ("Stream", Value),
        ],
        false,
    ),
    core(
        "Get-ChildItem",
        &[
            ("Path", Value),
            ("LiteralPath", Value),
            ("Filter", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("Recurse", Switch),
            ("Depth", Value),
            ("Force", Switch),
            ("Name", Switch),
            ("Directory", Switch),
            ("File", Switch),
            ("Hidden", Switch),
            ("ReadOnly", Switch),
            ("System", Switch),
            ("Attributes", Value),
        ],
        false,
    ),
    core(
        "Get-Content",
        &[
            ("Path", Value),
            ("LiteralPath", Value),
            ("ReadCount", Value),
            ("TotalCount", Value),
            ("First", Value),
            ("Head", Value),
            ("Tail", Value),
            ("Last", Value),
            ("Filter", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("Force", Switch),
            ("Credential", Value),
            ("Delimiter", Value),
            ("Wait", Switch),
            ("Raw", Switch),
            ("Encoding", Enum(FILE_ENCODING)),
            ("Stream", Value),
        ],
        false,
    ),
    core(
        "Get-Acl",
        &[
            ("Path", Value),
            ("LiteralPath", Value),
            ("InputObject", Value),
            ("Audit", Switch),
            ("Filter", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("AllCentralAccessPolicies", Switch),
        ],
        false,
    ),
    core(
        "Set-Acl",
        &[
            ("Path", Value),
            ("LiteralPath", Value),
            ("InputObject", Value),
            ("AclObject", Value),
            ("Passthru", Switch),
            ("Filter", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("CentralAccessPolicy", Value),
            ("ClearCentralAccessPolicy", Switch),
        ],
        true,
    ),
    core(
        "Get-Module",
        &[
            ("Name", Value),
            ("ListAvailable", Switch),
            ("All", Switch),
            ("FullyQualifiedName", Value),
            ("Refresh", Switch),
            ("PSEdition", Value),
        ],
        false,
    ),
    core(
        "Import-Module",
        &[
            ("Name", Value),
            ("Global", Switch),
            ("Prefix", Value),
            ("Function", Value),
            ("Cmdlet", Value),
            ("Variable", Value),
            ("Alias", Value),
            ("Force", Switch),
            ("PassThru", Switch),
            ("AsCustomObject", Switch),
            ("MinimumVersion", Value),
            ("MaximumVersion", Value),
            ("RequiredVersion", Value),
            ("ArgumentList", Value),
            ("DisableNameChecking", Switch),
            ("NoClobber", Switch),
            ("Scope", Enum(&["Local", "Global"])),
        ],
        false,
    ),
    core("Set-StrictMode", &[("Version", Value), ("Off", Switch)], false),
    core(
        "Where-Object",
        &[("FilterScript", Value), ("Property", Value), ("Value", Value), ("InputObject", Value)],
        false,
    ),
    core(
        "ForEach-Object",
        &[
            ("Process", Value),
            ("Begin", Value),
            ("End", Value),
            ("RemainingScripts", Value),
            ("MemberName", Value),
            ("ArgumentList", Value),
            ("InputObject", Value),
        ],
        true,
    ),
    core(
        "Select-Object",
        &[
            ("Property", Value),
            ("ExcludeProperty", Value),
            ("ExpandProperty", Value),
            ("Unique", Switch),
            ("First", Value),
            ("Last", Value),
            ("Skip", Value),
            ("SkipLast", Value),
            ("Index", Value),
            ("Wait", Switch),
            ("InputObject", Value),
        ],
        false,
    ),
    core(
        "Get-Command",
        &[
            ("Name", Value),
            ("Verb", Value),
            ("Noun", Value),
            ("Module", Value),
            ("FullyQualifiedModule", Value),
            (
                "CommandType",
                Enum(&[
                    "Alias",
                    "Function",
                    "Filter",
                    "Cmdlet",
                    "ExternalScript",
                    "Application",
                    "Script",
                    "Workflow",
                    "Configuration",
                    "All",
                ]),
            ),
            ("TotalCount", Value),
            ("Syntax", Switch),
            ("ShowCommandInfo", Switch),
            ("ArgumentList", Value),
            ("All", Switch),
            ("ListImported", Switch),
            ("ParameterName", Value),
            ("ParameterType", Value),
        ],
        false,
    ),
    // Microsoft.PowerShell.Core: the reader's module.
    core(
        "Export-ModuleMember",
        &[("Function", Value), ("Cmdlet", Value), ("Variable", Value), ("Alias", Value)],
        false,
    ),
    core("ConvertFrom-Json", &[("InputObject", Value)], false),
    core("Out-Null", &[("InputObject", Value)], false),
    core("Write-Output", &[("InputObject", Value), ("NoEnumerate", Switch)], false),
    core("Write-Warning", &[("Message", Value)], false),
    core("Write-Verbose", &[("Message", Value)], false),
    // Microsoft.PowerShell.Management, Windows PowerShell 5.1: the licensing service's install scripts.
    core(
        "Get-Service",
        &[
            ("Name", Value),
            ("DisplayName", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("InputObject", Value),
            ("DependentServices", Switch),
            ("RequiredServices", Switch),
            ("ComputerName", Value),
        ],
        false,
    ),
    core(
        "New-Service",
        &[
            ("Name", Value),
            ("BinaryPathName", Value),
            ("DisplayName", Value),
            ("Description", Value),
            ("StartupType", Enum(&["Automatic", "Manual", "Disabled"])),
            ("Credential", Value),
            ("DependsOn", Value),
        ],
        true,
    ),
    core(
        "Start-Service",
        &[
            ("Name", Value),
            ("DisplayName", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("InputObject", Value),
            ("PassThru", Switch),
        ],
        true,
    ),
    core(
        "Stop-Service",
        &[
            ("Name", Value),
            ("DisplayName", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("InputObject", Value),
            ("Force", Switch),
            ("NoWait", Switch),
            ("PassThru", Switch),
        ],
        true,
    ),
    core(
        "Set-ItemProperty",
        &[
            ("Path", Value),
            ("LiteralPath", Value),
            ("Name", Value),
            ("Value", Value),
            ("Type", Enum(&["String", "ExpandString", "Binary", "DWord", "MultiString", "QWord", "Unknown"])),
            ("InputObject", Value),
            ("PassThru", Switch),
            ("Force", Switch),
            ("Filter", Value),
            ("Include", Value),
            ("Exclude", Value),
            ("Credential", Value),
        ],
        true,
    ),
];

/// A parameter named in a call, with its literal values (None: computed at run time).
#[derive(Clone)]
struct Arg {
    name: String,
    values: Option<Vec<String>>,
    line: usize,
}

/// A command call in a script.
struct Call {
    command: String,
    args: Vec<Arg>,
    line: usize,
}

fn text<'a>(node: tree_sitter::Node, source: &'a str) -> &'a str {
    &source[node.byte_range()]
}

/// Every node below `node`, depth first.
fn descendants(node: tree_sitter::Node) -> Vec<tree_sitter::Node> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        out.push(n);
        let mut c = n.walk();
        let children: Vec<_> = n.children(&mut c).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// What a script knows statically: its functions' parameters, its hashtables and its ValidateSet parameters.
#[derive(Default)]
struct Scope {
    /// Function name (lower case) → its parameter names (lower case).
    functions: std::collections::HashMap<String, Vec<String>>,
    /// Variable (lower case, no sigil) → (key, values, line) of `$v = @{ key = value }` and `$v['key'] = value`.
    hashtables: std::collections::HashMap<String, Vec<Arg>>,
    /// Variable (lower case) → the values of its [ValidateSet(…)].
    validate_sets: std::collections::HashMap<String, Vec<String>>,
}

/// The literal text of a string or bare word, None when it expands something at run time.
fn literal(node: tree_sitter::Node, source: &str) -> Option<String> {
    let t = text(node, source);
    match node.kind() {
        "generic_token" => Some(t.to_string()),
        "string_literal" => {
            if t.starts_with('\'') {
                Some(t.trim_matches('\'').replace("''", "'"))
            } else if t.contains('$') || t.contains('`') {
                None
            } else {
                Some(t.trim_matches('"').to_string())
            }
        }
        _ => None,
    }
}

/// The literal values of an argument or hashtable value, None when any part is computed at run time (a variable
/// with a ValidateSet counts as its set).
fn values_of(nodes: &[tree_sitter::Node], source: &str, scope: &Scope) -> Option<Vec<String>> {
    let mut values = Vec::new();
    for &node in nodes {
        for n in descendants(node) {
            match n.kind() {
                "variable" => {
                    let name = text(n, source).trim_start_matches(['$', '@']).to_lowercase();
                    if matches!(name.as_str(), "true" | "false" | "null") {
                        continue;
                    }
                    let whole = text(node, source).trim().trim_start_matches(['$', '@']).to_lowercase();
                    match scope.validate_sets.get(&name) {
                        Some(set) if whole == name => values.extend(set.iter().cloned()),
                        _ => return None,
                    }
                }
                "command" | "sub_expression" | "invokation_expression" | "member_access" | "element_access" => {
                    return None;
                }
                "generic_token" | "string_literal" => values.push(literal(n, source)?),
                _ => {}
            }
        }
    }
    Some(values)
}

fn scope_of(root: tree_sitter::Node, source: &str) -> Scope {
    let mut scope = Scope::default();
    for n in descendants(root) {
        match n.kind() {
            "function_statement" => {
                let Some(name) = n.children(&mut n.walk()).find(|c| c.kind() == "function_name") else { continue };
                let params = descendants(n)
                    .into_iter()
                    .filter(|p| p.kind() == "script_parameter")
                    .filter_map(|p| p.children(&mut p.walk()).find(|c| c.kind() == "variable"))
                    .map(|v| text(v, source).trim_start_matches('$').to_lowercase())
                    .collect();
                scope.functions.insert(text(name, source).to_lowercase(), params);
            }
            "script_parameter" => {
                let Some(var) = n.children(&mut n.walk()).find(|c| c.kind() == "variable") else { continue };
                for attr in descendants(n).into_iter().filter(|a| a.kind() == "attribute") {
                    if text(attr, source).to_lowercase().starts_with("[validateset(") {
                        let set: Vec<String> = descendants(attr)
                            .into_iter()
                            .filter(|s| s.kind() == "string_literal")
                            .filter_map(|s| literal(s, source))
                            .collect();
                        scope.validate_sets.insert(text(var, source).trim_start_matches('$').to_lowercase(), set);
                    }
                }
            }
            "assignment_expression" => {
                let mut c = n.walk();
                let children: Vec<_> = n.children(&mut c).collect();
                let (Some(left), Some(right)) = (children.first(), children.last()) else { continue };
                let left_nodes = descendants(*left);
                if let Some(access) = left_nodes.iter().find(|x| x.kind() == "element_access") {
                    // $v['Key'] = value
                    let mut ac = access.walk();
                    let parts: Vec<_> = access.children(&mut ac).collect();
                    let (Some(var), Some(key)) = (
                        parts.iter().find(|p| p.kind() == "variable"),
                        descendants(*access).into_iter().find(|p| p.kind() == "string_literal"),
                    ) else {
                        continue;
                    };
                    let Some(key) = literal(key, source) else { continue };
                    let name = text(*var, source).trim_start_matches('$').to_lowercase();
                    let values = values_of(&[*right], source, &scope);
                    scope.hashtables.entry(name).or_default().push(Arg {
                        name: key,
                        values,
                        line: n.start_position().row + 1,
                    });
                } else if let Some(hash) =
                    descendants(*right).into_iter().find(|x| x.kind() == "hash_literal_expression")
                {
                    let Some(var) = left_nodes.iter().find(|x| x.kind() == "variable") else { continue };
                    let name = text(*var, source).trim_start_matches('$').to_lowercase();
                    // Only the entries of this hashtable, not of one nested in a value.
                    let Some(body) = hash.children(&mut hash.walk()).find(|b| b.kind() == "hash_literal_body") else {
                        continue;
                    };
                    let entries: Vec<_> =
                        body.children(&mut body.walk()).filter(|e| e.kind() == "hash_entry").collect();
                    for entry in entries {
                        let mut ec = entry.walk();
                        let parts: Vec<_> = entry.children(&mut ec).collect();
                        let Some(key) = parts.iter().find(|p| p.kind() == "key_expression") else { continue };
                        let Some(value) = parts.iter().find(|p| p.kind() == "pipeline") else { continue };
                        let key = text(*key, source).trim().trim_matches(['\'', '"']).to_string();
                        let values = values_of(&[*value], source, &scope);
                        let line = entry.start_position().row + 1;
                        scope.hashtables.entry(name.clone()).or_default().push(Arg { name: key, values, line });
                    }
                }
            }
            _ => {}
        }
    }
    scope
}

/// Every call of a named command (not `& $program`) in the script, with its named parameters.
fn calls(root: tree_sitter::Node, source: &str, scope: &Scope) -> Vec<Call> {
    let mut out = Vec::new();
    for n in descendants(root).into_iter().filter(|n| n.kind() == "command") {
        let mut c = n.walk();
        let children: Vec<_> = n.children(&mut c).collect();
        let Some(name) = children.iter().find(|c| c.kind() == "command_name") else { continue };
        let command = text(*name, source).to_string();
        if ["begin", "process", "end", "dynamicparam"].iter().any(|b| b.eq_ignore_ascii_case(&command)) {
            // A script's named block, which the grammar reads as a command taking a script block.
            continue;
        }
        let mut call = Call { command, args: Vec::new(), line: n.start_position().row + 1 };
        let Some(elements) = children.iter().find(|c| c.kind() == "command_elements") else {
            out.push(call);
            continue;
        };
        let mut ec = elements.walk();
        let items: Vec<_> = elements.children(&mut ec).collect();
        let switch_param = |param: &str| -> bool {
            CMDLETS
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(&call.command))
                .and_then(|c| lookup(c, param))
                .is_some_and(|k| matches!(k, Switch))
        };
        let mut i = 0;
        while i < items.len() {
            let item = items[i];
            match item.kind() {
                "command_parameter" => {
                    let pname = text(item, source).trim_start_matches('-').to_string();
                    let colon = items.get(i + 1).is_some_and(|s| text(*s, source) == ":");
                    let mut j = i + 1;
                    let mut value_nodes = Vec::new();
                    if colon || !switch_param(&pname) {
                        // Skip the separator, then take the value: nodes up to the next blank separator.
                        while j < items.len() && items[j].kind() == "command_argument_sep" {
                            j += 1;
                        }
                        while j < items.len()
                            && items[j].kind() != "command_argument_sep"
                            && items[j].kind() != "command_parameter"
                        {
                            if items[j].is_named() {
                                value_nodes.push(items[j]);
                            }
                            j += 1;
                        }
                    }
                    let values =
                        if value_nodes.is_empty() { Some(Vec::new()) } else { values_of(&value_nodes, source, scope) };
                    call.args.push(Arg { name: pname, values, line: item.start_position().row + 1 });
                    i = j.max(i + 1);
                }
                _ => {
                    // A splatted hashtable: its keys are named parameters.
                    let t = text(item, source).trim();
                    if let Some(var) =
                        t.strip_prefix('@').filter(|v| v.chars().all(|c| c.is_alphanumeric() || c == '_'))
                    {
                        call.args.extend(scope.hashtables.get(&var.to_lowercase()).into_iter().flatten().cloned());
                    }
                    i += 1;
                }
            }
        }
        out.push(call);
    }
    out
}

/// A parameter of `cmdlet` by full name or documented alias (case-insensitive), common parameters included.
fn lookup(cmdlet: &Cmdlet, name: &str) -> Option<Kind> {
    let mut lists: Vec<&[(&str, Kind)]> = vec![cmdlet.params, COMMON];
    if cmdlet.cim {
        lists.push(CIM);
    }
    if cmdlet.should_process {
        lists.push(SHOULD_PROCESS);
    }
    lists.into_iter().flatten().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, k)| *k)
}

/// `line: problem` for every call in `source` that the table says is wrong.
fn cmdlet_problems(source: &str) -> Vec<String> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_powershell::LANGUAGE.into()).unwrap();
    let tree = parser.parse(source, None).unwrap();
    let root = tree.root_node();
    let scope = scope_of(root, source);
    let calls = calls(root, source, &scope);
    let mut problems = Vec::new();
    for call in &calls {
        if let Some(params) = scope.functions.get(&call.command.to_lowercase()) {
            for arg in &call.args {
                let known = params.iter().any(|p| p.eq_ignore_ascii_case(&arg.name))
                    || COMMON.iter().any(|(c, _)| c.eq_ignore_ascii_case(&arg.name));
                if !known {
                    problems.push(format!("{}: {} has no parameter -{}", arg.line, call.command, arg.name));
                }
            }
            continue;
        }
        let Some(cmdlet) = CMDLETS.iter().find(|c| c.name.eq_ignore_ascii_case(&call.command)) else {
            problems.push(format!(
                "{}: unknown command {} (not in the table of documented cmdlets)",
                call.line, call.command
            ));
            continue;
        };
        if let Some(why) = cmdlet.refused {
            problems.push(format!("{}: {} must not be used: {why}", call.line, cmdlet.name));
            continue;
        }
        for arg in &call.args {
            match lookup(cmdlet, &arg.name) {
                None => problems.push(format!("{}: {} has no parameter -{}", arg.line, cmdlet.name, arg.name)),
                Some(Enum(allowed)) => {
                    for v in arg.values.iter().flatten() {
                        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(v)) {
                            problems.push(format!(
                                "{}: {} -{} {v}: not one of {}",
                                arg.line,
                                cmdlet.name,
                                arg.name,
                                allowed.join(", ")
                            ));
                        }
                    }
                }
                Some(_) => {}
            }
        }
    }
    // FSRM cannot aggregate different values of a single-choice property (MS-FSRM: AggregationFailed): a rule that
    // aggregates on a property the script creates as single choice never raises a value another rule set.
    let literal_of = |cmdlet: &str, param: &str| -> Vec<(usize, String)> {
        calls
            .iter()
            .filter(|c| c.command.eq_ignore_ascii_case(cmdlet))
            .flat_map(|c| c.args.iter())
            .filter(|a| a.name.eq_ignore_ascii_case(param))
            .flat_map(|a| a.values.iter().flatten().map(move |v| (a.line, v.clone())))
            .collect()
    };
    let single = literal_of("New-FsrmClassificationPropertyDefinition", "Type")
        .into_iter()
        .any(|(_, v)| v.eq_ignore_ascii_case("SingleChoice"));
    if single {
        for (line, v) in literal_of("New-FsrmClassificationRule", "ReevaluateProperty") {
            if v.eq_ignore_ascii_case("Aggregate") {
                problems.push(format!(
                    "{line}: ReevaluateProperty Aggregate on a property created as SingleChoice: FSRM cannot aggregate \
                     single-choice values; use an OrderedList property or Overwrite"
                ));
            }
        }
    }
    problems
}

#[test]
fn every_cmdlet_call_matches_microsofts_documentation() {
    let mut failures = Vec::new();
    for script in scripts() {
        let source = std::fs::read_to_string(&script).unwrap();
        let name = script.file_name().unwrap().to_string_lossy().into_owned();
        failures.extend(cmdlet_problems(&source).into_iter().map(|p| format!("fci-scripts/{name}:{p}")));
    }
    assert!(failures.is_empty(), "cmdlet calls that do not match the documentation:\n{}", failures.join("\n"));
}

#[test]
fn the_cmdlet_check_sees_calls_splats_and_enum_values() {
    // The check must see the calls it is meant to check, or an empty result proves nothing.
    let source = std::fs::read_to_string(scripts_dir().join("Install-FciConnector.ps1")).unwrap();
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_powershell::LANGUAGE.into()).unwrap();
    let tree = parser.parse(&source, None).unwrap();
    let scope = scope_of(tree.root_node(), &source);
    let calls = calls(tree.root_node(), &source, &scope);
    let find = |cmd: &str, param: &str| {
        calls
            .iter()
            .filter(|c| c.command == cmd)
            .flat_map(|c| c.args.iter())
            .find(|a| a.name == param)
            .unwrap_or_else(|| panic!("no {cmd} -{param} seen"))
    };
    assert_eq!(find("New-FsrmFmjAction", "SecurityLevel").values, Some(vec!["LocalSystem".to_string()]));
    assert_eq!(find("New-FsrmFmjAction", "Type").values, Some(vec!["Custom".to_string()]));
    assert_eq!(find("New-FsrmClassificationPropertyDefinition", "Type").values, Some(vec!["OrderedList".to_string()]));
    // From the splatted hashtable, both literal values the script gives it.
    let reevaluate: Vec<String> = calls
        .iter()
        .filter(|c| c.command == "New-FsrmClassificationRule")
        .flat_map(|c| c.args.iter())
        .filter(|a| a.name == "ReevaluateProperty")
        .flat_map(|a| a.values.clone().unwrap_or_default())
        .collect();
    assert_eq!(reevaluate, ["Aggregate", "Overwrite"]);
    // A ValidateSet parameter stands for its set.
    assert_eq!(find("New-FsrmScheduledTask", "Weekly").values.as_ref().map(Vec::len), Some(7));
    assert!(find("New-FsrmFileManagementJob", "ReportLog").values.is_some());
}

#[test]
fn the_cmdlet_check_catches_what_issue_22_found() {
    let check = |script: &str, wanted: &str| {
        let problems = cmdlet_problems(script);
        assert!(
            problems.iter().any(|p| p.contains(wanted)),
            "{wanted:?} not reported for:\n{script}\ngot {problems:?}"
        );
    };
    // Defect 4: Aggregate on a single-choice property, directly and through a splat.
    check(
        "New-FsrmClassificationPropertyDefinition -Name C -Type SingleChoice\n\
         New-FsrmClassificationRule -Name R -Property C -Namespace D:\\S -ClassificationMechanism 'Content Classifier' -ReevaluateProperty Aggregate\n",
        "2: ReevaluateProperty Aggregate on a property created as SingleChoice",
    );
    check(
        "New-FsrmClassificationPropertyDefinition -Name C -Type SingleChoice -PossibleValue $v\n\
         $s = @{ Property = 'C'; ReevaluateProperty = 'Aggregate' }\nNew-FsrmClassificationRule -Name R @s\n",
        "ReevaluateProperty Aggregate on a property created as SingleChoice",
    );
    // Defect 3: Set-FsrmFileManagementJob keeps a condition that is not passed.
    check("Set-FsrmFileManagementJob -Name J @jobSettings\n", "Set-FsrmFileManagementJob must not be used");
    // Defect 12: New-EventLog / Remove-EventLog are not in PowerShell 7.
    check("New-EventLog -LogName Application -Source FciConnector\n", "PowerShell 7 has no New-EventLog");
    // Defect 8: Write-Error under 'Stop' ends the script with 1 before `exit 6`.
    check("$ErrorActionPreference = 'Stop'\nWrite-Error 'not found'\nexit 6\n", "Write-Error must not be used");
    // Unknown parameters, a misspelt enum value, an unknown cmdlet, a value list with one wrong member.
    check("New-FsrmFmjAction -Type Custom -Command x -Arguments y\n", "New-FsrmFmjAction has no parameter -Arguments");
    check("New-FsrmFmjAction -Type Custom -SecurityLevel System\n", "-SecurityLevel System: not one of");
    check("New-FsrmFmjAction -Type Script\n", "-Type Script: not one of");
    check("New-FsrmScheduledTask -Time $t -Weekly Sunday, Funday\n", "-Weekly Funday: not one of");
    check("New-FsrmScheduledTask -Time $t -Daily\n", "New-FsrmScheduledTask has no parameter -Daily");
    check("New-FsrmClassificationPropertyValue -Name High -DisplayName High\n", "has no parameter -DisplayName");
    check("New-FsrmFileManagementJob -Name J -ReportLog Error, Warning\n", "-ReportLog Warning: not one of");
    check("Start-FsrmFileManagementJobs -Name J\n", "unknown command Start-FsrmFileManagementJobs");
    check(
        "$x = @{ Condition = $c; Continous = $true }\nNew-FsrmFileManagementJob -Name J @x\n",
        "no parameter -Continous",
    );
    check("$x = @{}\n$x['SecurityLevel'] = 'Admin'\nNew-FsrmFmjAction -Type Custom @x\n", "-SecurityLevel Admin");
    // A prefix PowerShell would accept is refused: the table asks for full names.
    check("Test-Path -Lit $p\n", "Test-Path has no parameter -Lit");
    // A ValidateSet parameter whose set holds a value the enum does not.
    check(
        "param([ValidateSet('Sunday', 'Someday')][string[]]$Days)\nNew-FsrmScheduledTask -Time $t -Weekly $Days\n",
        "-Weekly Someday: not one of",
    );
    // A script's own function: its parameters are known.
    check("function Get-X { param([string]$Path) }\nGet-X -Paht 1\n", "Get-X has no parameter -Paht");
    // And what is right passes.
    let good = "function Get-X { param([string]$Path) }\nGet-X -Path 1\n\
                New-FsrmFmjAction -Type Custom -Command x -CommandParameters y -SecurityLevel LocalSystem -WhatIf:$false\n\
                $s = @{ ReportLog = @('Error', 'Information'); Continuous = $true }\nNew-FsrmFileManagementJob -Name J @s\n\
                Get-FsrmClassificationRule -Name R -ErrorAction SilentlyContinue\n";
    assert_eq!(cmdlet_problems(good), Vec::<String>::new());
}
