//! The FSRM contract: the argument line of Microsoft's RMS-Protect-FCI.ps1,
//! `-File '[Source File Path]' -TemplateID <GUID> -OwnerMail '[Source File Owner Email]'`, as FSRM expands it.
//!
//! FSRM replaces its macros as plain text and adds no quotes, and Windows does not treat single quotes as quotes,
//! so a path with spaces arrives split over several arguments (`'C:\Share\Q3`, `report.docx'`). The value of a
//! switch is therefore rebuilt from the raw command line (`GetCommandLineW` on Windows; elsewhere the arguments
//! joined by single spaces): everything between the switch and the next known switch, with one pair of wrapping
//! single (or double) quotes removed. Switch names are case-insensitive, take one or two dashes, and accept both
//! `-Name value` and `-Name:value`. The same switches work after `protect`, and the global options combine with
//! them anywhere.

use std::ffi::OsString;
use std::path::PathBuf;

use super::GlobalOptions;
use super::protect::ProtectArgs;
use crate::{Error, ExitClass};

/// Switches of Microsoft's script that fci-connector has no use for (cloud credentials): accepted, ignored, and
/// warned about.
const IGNORED: [&str; 3] = ["appprincipalid", "symmetrickey", "bpostenantid"];
/// Switches that take a value.
const WITH_VALUE: [&str; 11] = [
    "file",
    "templateid",
    "ownermail",
    "template",
    "owner",
    "templates",
    "rules",
    "config",
    "log-dir",
    "logdir",
    "path",
];
/// Switches without a value.
const FLAGS: [&str; 4] = ["always", "json", "strict-exit", "dry-run"];
/// Switches that mark the legacy form.
const LEGACY: [&str; 3] = ["file", "templateid", "ownermail"];

/// The lower-case name of a switch token (`-File:x` → `file`), if it is one we know.
fn switch_name(token: &str) -> Option<(String, Option<usize>)> {
    let body = token.strip_prefix("--").or_else(|| token.strip_prefix('-'))?;
    let (name, colon) = match body.find(':') {
        Some(i) => (&body[..i], Some(token.len() - body.len() + i + 1)),
        None => (body, None),
    };
    let name = name.to_ascii_lowercase();
    let known =
        WITH_VALUE.contains(&name.as_str()) || FLAGS.contains(&name.as_str()) || IGNORED.contains(&name.as_str());
    known.then_some((name, colon))
}

/// True when `args` (program name first) use Microsoft's switch form, with or without `protect` in front.
pub fn is_legacy(args: &[OsString]) -> bool {
    let mut words = args.iter().skip(1).filter_map(|a| a.to_str());
    // Global options may come first.
    let mut first = None;
    while let Some(w) = words.next() {
        match switch_name(w) {
            Some((name, colon)) if ["templates", "rules", "config", "log-dir", "logdir"].contains(&name.as_str()) => {
                if colon.is_none() {
                    words.next();
                }
            }
            _ => {
                first = Some(w);
                break;
            }
        }
    }
    let is_legacy_switch = |w: &str| switch_name(w).is_some_and(|(n, _)| LEGACY.contains(&n.as_str()));
    match first {
        Some(w) if is_legacy_switch(w) => true,
        Some(w) if w.eq_ignore_ascii_case("protect") => words.any(is_legacy_switch),
        _ => false,
    }
}

/// A whitespace-separated token of the command line, with where it starts.
struct Token<'a> {
    text: &'a str,
    start: usize,
}

fn tokens(line: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices().chain(std::iter::once((line.len(), ' '))) {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(Token { text: &line[s..i], start: s });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

/// The raw command line without the program name: on Windows the program may be quoted and contain spaces.
fn strip_program(raw: &str) -> &str {
    let raw = raw.trim_start();
    let rest = match raw.strip_prefix('"') {
        Some(quoted) => quoted.find('"').map_or("", |i| &quoted[i + 1..]),
        None => raw.find(char::is_whitespace).map_or("", |i| &raw[i..]),
    };
    rest.trim_start()
}

/// Remove one pair of wrapping single quotes (FSRM task lines), or double quotes (raw Windows command lines).
fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['\'', '"'] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// Parse the legacy form into the global options and `protect` arguments.
///
/// `raw` is the OS's raw command line where there is one; otherwise `args` (program name first) are joined by
/// single spaces.
pub fn parse(args: &[OsString], raw: Option<&OsString>) -> Result<(GlobalOptions, ProtectArgs), Error> {
    let joined;
    let line: &str = match raw.and_then(|r| r.to_str()) {
        Some(r) => strip_program(r),
        None => {
            let words = args
                .iter()
                .skip(1)
                .map(|a| {
                    a.to_str().ok_or_else(|| {
                        Error::new(ExitClass::Usage, format!("argument {} is not valid Unicode", a.to_string_lossy()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            joined = words.join(" ");
            &joined
        }
    };
    let toks = tokens(line);
    let mut switches: Vec<(usize, String, Option<usize>)> =
        toks.iter().enumerate().filter_map(|(i, t)| switch_name(t.text).map(|(n, colon)| (i, n, colon))).collect();
    // The subcommand `protect`, when given, stands before the first legacy switch; it ends the value before it
    // (a global option's) and its own value is the file, in `protect <FILE> -TemplateID …`.
    let first_legacy = switches.iter().find(|s| LEGACY.contains(&s.1.as_str())).map_or(toks.len(), |s| s.0);
    if let Some(at) = toks[..first_legacy].iter().position(|t| t.text.eq_ignore_ascii_case("protect")) {
        let slot = switches.partition_point(|s| s.0 < at);
        switches.insert(slot, (at, "protect".to_string(), None));
    }

    let mut global = GlobalOptions::default();
    let mut protect = ProtectArgs::default();
    let mut file: Option<String> = None;
    let mut template: Option<String> = None;
    if let Some(first) = switches.first().filter(|s| s.0 > 0) {
        let before: Vec<&str> = toks[..first.0].iter().map(|t| t.text).collect();
        return Err(Error::new(
            ExitClass::Usage,
            format!("unexpected {:?} before the first switch in: {line}", before.join(" ")),
        ));
    }
    for (k, (i, name, colon)) in switches.iter().enumerate() {
        let tok = &toks[*i];
        if FLAGS.contains(&name.as_str()) {
            match name.as_str() {
                "always" => protect.always = true,
                "json" => protect.json = true,
                "strict-exit" => protect.strict_exit = true,
                _ => protect.dry_run = true,
            }
            if let Some(next) = toks.get(i + 1).filter(|_| switches.get(k + 1).is_none_or(|n| n.0 != i + 1)) {
                return Err(Error::new(ExitClass::Usage, format!("-{name} takes no value (found {:?})", next.text)));
            }
            continue;
        }
        let value_start = match colon {
            Some(c) => tok.start + c,
            None => toks
                .get(i + 1)
                .map_or(line.len(), |t| t.start)
                .min(switches.get(k + 1).map_or(line.len(), |n| toks[n.0].start)),
        };
        let value_end = switches.get(k + 1).map_or(line.len(), |n| toks[n.0].start);
        let value = unquote(&line[value_start.min(value_end)..value_end]).to_string();
        match name.as_str() {
            "file" | "path" => file = Some(value),
            "protect" if value.is_empty() => {}
            "protect" => {
                file.get_or_insert(value);
            }
            "templateid" | "template" => template = Some(value),
            "ownermail" | "owner" => protect.owner = Some(value),
            "templates" => global.templates = Some(PathBuf::from(value)),
            "rules" => global.rules = Some(PathBuf::from(value)),
            "config" => global.config = Some(PathBuf::from(value)),
            "log-dir" | "logdir" => global.log_dir = Some(PathBuf::from(value)),
            ignored => protect.ignored_switches.push(ignored.to_string()),
        }
    }
    let file = file.filter(|f| !f.is_empty()).ok_or_else(|| {
        Error::new(ExitClass::Usage, format!("no file: expected -File '<path>' in the argument line: {line}"))
    })?;
    protect.file = PathBuf::from(file);
    protect.template = template;
    protect.command_line = Some(line.to_string());
    Ok((global, protect))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("fci-connector").chain(words.iter().copied()).map(OsString::from).collect()
    }

    fn parsed(words: &[&str]) -> (GlobalOptions, ProtectArgs) {
        let a = argv(words);
        assert!(is_legacy(&a), "{words:?} not seen as the legacy form");
        parse(&a, None).unwrap()
    }

    #[test]
    fn microsofts_line_with_a_split_path() {
        let (_, p) = parsed(&[
            "-File",
            "'C:\\Share\\Q3",
            "report",
            "final.docx'",
            "-TemplateID",
            "e6ee2481-26b9-45e5-b34a-f744eacd53b0",
            "-OwnerMail",
            "'alice@contoso.com'",
        ]);
        assert_eq!(p.file, PathBuf::from("C:\\Share\\Q3 report final.docx"));
        assert_eq!(p.template.as_deref(), Some("e6ee2481-26b9-45e5-b34a-f744eacd53b0"));
        assert_eq!(p.owner.as_deref(), Some("alice@contoso.com"));
    }

    #[test]
    fn unquoted_apostrophes_and_colon_form() {
        let (_, p) =
            parsed(&["--file:/srv/share/O'Brien", "notes.txt", "-templateid:{E6EE2481-26B9-45E5-B34A-F744EACD53B0}"]);
        assert_eq!(p.file, PathBuf::from("/srv/share/O'Brien notes.txt"));
        assert_eq!(p.template.as_deref(), Some("{E6EE2481-26B9-45E5-B34A-F744EACD53B0}"));
        let (_, p) = parsed(&["-File", "'/srv/O'Brien.docx'", "-TemplateID", "x"]);
        assert_eq!(p.file, PathBuf::from("/srv/O'Brien.docx"));
    }

    #[test]
    fn globals_anywhere_and_after_protect() {
        let (g, p) = parsed(&[
            "--templates",
            "/t",
            "protect",
            "-File",
            "/a b.txt",
            "-TemplateID",
            "x",
            "--rules",
            "/r",
            "--json",
        ]);
        assert_eq!(g.templates, Some(PathBuf::from("/t")));
        assert_eq!(g.rules, Some(PathBuf::from("/r")));
        assert_eq!(p.file, PathBuf::from("/a b.txt"));
        assert!(p.json);
    }

    #[test]
    fn positional_file_after_protect() {
        let (g, p) = parsed(&["--log-dir", "/l", "PROTECT", "/srv/a b.txt", "-TemplateID", "x"]);
        assert_eq!(g.log_dir, Some(PathBuf::from("/l")));
        assert_eq!(p.file, PathBuf::from("/srv/a b.txt"));
        assert!(parse(&argv(&["stray", "-File", "/a"]), None).is_err());
    }

    #[test]
    fn raw_windows_command_line_keeps_double_spaces() {
        let raw = OsString::from(
            r#""C:\Program Files\FciConnector\fci-connector.exe" -File 'D:\Share\two  spaces [x] & 100%.docx' -TemplateID e6ee2481-26b9-45e5-b34a-f744eacd53b0 -OwnerMail '[Source File Owner Email]'"#,
        );
        let a = argv(&["-File", "ignored"]);
        let (_, p) = parse(&a, Some(&raw)).unwrap();
        assert_eq!(p.file, PathBuf::from(r"D:\Share\two  spaces [x] & 100%.docx"));
        assert_eq!(p.owner.as_deref(), Some("[Source File Owner Email]"));
    }

    #[test]
    fn ignored_cloud_switches_and_empty_owner() {
        let (_, p) = parsed(&[
            "-File",
            "/a",
            "-TemplateID",
            "x",
            "-OwnerMail",
            "''",
            "-AppPrincipalId",
            "abc",
            "-SymmetricKey",
            "k",
        ]);
        assert_eq!(p.owner.as_deref(), Some(""));
        assert_eq!(p.ignored_switches, vec!["appprincipalid", "symmetrickey"]);
    }

    #[test]
    fn not_legacy() {
        assert!(!is_legacy(&argv(&["protect", "/a", "--template", "x"])));
        assert!(!is_legacy(&argv(&["status", "-File"])));
        assert!(!is_legacy(&argv(&["--templates", "/t", "status", "/a"])));
        assert!(is_legacy(&argv(&["--templates", "/t", "-file", "/a"])));
    }

    #[test]
    fn missing_file_is_usage() {
        let a = argv(&["-TemplateID", "x", "-OwnerMail", "a@b"]);
        assert!(is_legacy(&a));
        assert_eq!(parse(&a, None).unwrap_err().class(), ExitClass::Usage);
    }
}
