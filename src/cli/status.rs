//! `status`: whether files are protected, and by what, without any key.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{GlobalOptions, printable};
use crate::protect::{self, FileState};
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Files, or folders (their files are listed)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,
    /// Ask the licensing service which rights you have on each protected file (JSON, one object per line; no key
    /// is released)
    #[arg(long)]
    pub check_access: bool,
    #[command(flatten)]
    pub sign_in: super::open::SignInArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

/// Whether a file is protected, and how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Protected,
    ProtectedByOther,
    #[default]
    Unprotected,
    Damaged,
    Error,
}

impl State {
    /// The serialised name.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Protected => "protected",
            State::ProtectedByOther => "protected-by-other",
            State::Unprotected => "unprotected",
            State::Damaged => "damaged",
            State::Error => "error",
        }
    }
}

/// What protects a file: fci-connector, or another product ([`crate::detect::Protector`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectedBy {
    FciConnector,
    Other(crate::detect::Protector),
}

impl ProtectedBy {
    /// The serialised name: `fci-connector`, or the other product's (`microsoft-rms`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtectedBy::FciConnector => "fci-connector",
            ProtectedBy::Other(p) => p.as_str(),
        }
    }
}

impl Serialize for ProtectedBy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One file's status, as printed with `--format json` (one object per line).
#[derive(Debug, Default, Serialize)]
pub struct StatusLine {
    pub path: String,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protector: Option<ProtectedBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// The licensing service the license names (`<LicenseServer url>`, format 1.1): where readers get a use
    /// license. As the file claims it, not verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rights: Option<Vec<RightsLine>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_size: Option<u64>,
    /// For `protected-by-other`: everything the other product's format tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<crate::detect::ForeignProtection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RightsLine {
    pub principal: String,
    pub rights: Vec<String>,
}

/// The status of one path, never failing: errors become `state: error` lines with the exit class beside them.
pub fn status_line(path: &Path) -> (StatusLine, ExitClass) {
    let mut line = StatusLine { path: path.display().to_string(), ..Default::default() };
    match protect::status_of(path) {
        Ok(FileState::Unprotected) => line.state = State::Unprotected,
        Ok(FileState::Damaged(why)) => {
            line.state = State::Damaged;
            line.protector = Some(ProtectedBy::FciConnector);
            line.error = Some(why);
        }
        Ok(FileState::ProtectedByOther(foreign)) => {
            line.state = State::ProtectedByOther;
            line.protector = Some(ProtectedBy::Other(foreign.protector));
            line.template_id = foreign.template_id.clone();
            line.template_name = foreign.template_name.clone();
            line.owner = foreign.owner.clone();
            line.content_id = foreign.content_id.clone();
            line.issued = foreign.issued.clone();
            line.format_version = foreign.version.clone();
            line.details = Some(*foreign);
        }
        Ok(FileState::Protected(env)) => {
            let l = env.license;
            line.state = State::Protected;
            line.protector = Some(ProtectedBy::FciConnector);
            line.template_id = Some(l.template_id.to_string());
            line.template_name = Some(l.template_name.clone());
            line.content_id = Some(l.content_id.to_string());
            line.issued = Some(l.issued_text());
            line.valid_until = l.valid_until_text();
            line.rights = Some(
                l.grants
                    .iter()
                    .map(|g| RightsLine {
                        principal: g.principal.clone(),
                        rights: g.rights.iter().map(|r| r.to_string()).collect(),
                    })
                    .collect(),
            );
            line.recipients = Some(l.wraps.iter().map(|w| w.key_id.clone()).collect());
            line.format_version = Some(format!("{}.{}", env.header.version.0, env.header.version.1));
            line.license_server = l.license_server.clone();
            line.original_name = Some(l.original_name);
            line.original_size = Some(l.original_size);
            line.owner = l.owner;
        }
        Err(e) => {
            line.state = State::Error;
            line.error = Some(super::message(&e).into_owned());
            return (line, e.class());
        }
    }
    (line, ExitClass::Success)
}

/// Files to report for `path`: the file itself, or a folder's files in name order.
fn expand(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

pub fn run(_global: &GlobalOptions, args: StatusArgs) -> Result<ExitClass, Error> {
    if args.check_access {
        let files: Vec<PathBuf> = args.paths.iter().flat_map(|p| expand(p)).collect();
        return super::open::check_access(&files, &args.sign_in);
    }
    let mut worst = ExitClass::Success;
    let mut rows = Vec::new();
    for path in args.paths.iter().flat_map(|p| expand(p)) {
        let (line, class) = status_line(&path);
        worst = worst.worst(class);
        match args.format {
            StatusFormat::Json => println!("{}", serde_json::to_string(&line).unwrap_or_default()),
            StatusFormat::Table => rows.push(line),
        }
    }
    if matches!(args.format, StatusFormat::Table) {
        print_table(&rows);
    }
    Ok(worst)
}

fn print_table(rows: &[StatusLine]) {
    // Names and license fields come from the share and from files anyone may write: escaped before they are
    // measured and printed.
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let detail = match (&r.template_name, &r.error) {
                (Some(name), _) => name.as_str(),
                (None, Some(err)) => err.as_str(),
                _ => "",
            };
            [
                printable(&r.path).into_owned(),
                r.state.as_str().to_string(),
                r.protector.map_or("-", ProtectedBy::as_str).to_string(),
                printable(detail).into_owned(),
                printable(r.owner.as_deref().unwrap_or("")).into_owned(),
                printable(r.license_server.as_deref().unwrap_or("")).into_owned(),
            ]
        })
        .collect();
    let width = |i: usize, min: usize| cells.iter().map(|c| c[i].chars().count()).max().unwrap_or(0).max(min);
    let path_w = width(0, 8);
    let state_w = width(1, 6);
    let protector_w = width(2, 9);
    let detail_w = width(3, 8).min(60);
    let owner_w = width(4, 5);
    // The licensing column only when some file names a licensing service, so other tables stay as they were.
    if cells.iter().all(|c| c[5].is_empty()) {
        println!(
            "{:<path_w$}  {:<state_w$}  {:<protector_w$}  {:<detail_w$}  OWNER",
            "FILENAME", "STATUS", "PROTECTOR", "TEMPLATE"
        );
        for [path, state, protector, detail, owner, _] in &cells {
            println!("{path:<path_w$}  {state:<state_w$}  {protector:<protector_w$}  {detail:<detail_w$}  {owner}");
        }
        return;
    }
    println!(
        "{:<path_w$}  {:<state_w$}  {:<protector_w$}  {:<detail_w$}  {:<owner_w$}  LICENSING",
        "FILENAME", "STATUS", "PROTECTOR", "TEMPLATE", "OWNER"
    );
    for [path, state, protector, detail, owner, server] in &cells {
        println!(
            "{path:<path_w$}  {state:<state_w$}  {protector:<protector_w$}  {detail:<detail_w$}  {owner:<owner_w$}  {server}"
        );
    }
}
