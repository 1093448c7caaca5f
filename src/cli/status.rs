//! `status`: whether files are protected, and by what, without any key.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{GlobalOptions, printable};
use crate::batch::walk::{Entry, WalkOptions, Walker};
use crate::protect::{self, FileState};
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Files, or folders (their files are listed; with --recurse, every file below them)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format: a table, JSON (one object per line) or CSV
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,
    /// Every file under the folders given, as a folder run sees them (links are not followed, hidden files left
    /// out unless --include-hidden)
    #[arg(long, short = 'r')]
    pub recurse: bool,
    /// With --recurse: include hidden files (dot files; on Windows, hidden and system files)
    #[arg(long)]
    pub include_hidden: bool,
    /// Only the counts: files per state, per protecting product and per template
    #[arg(long)]
    pub summary: bool,
    /// Ask the licensing service which rights you have on each protected file (JSON, one object per line; no key
    /// is released)
    #[arg(long)]
    pub check_access: bool,
    #[command(flatten)]
    pub sign_in: super::open::SignInArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
    Csv,
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

/// Call `each` with every file `path` stands for: the file itself (or whatever it is: `status_line` says); a
/// folder's files in name order, or with `recurse` every file below it through the folder walk, streamed (`each`
/// runs as the walk meets each file; nothing is kept per file). A folder or subfolder that cannot be read is an
/// error, returned after the files that could be read.
fn for_each_file(path: &Path, recurse: bool, walk: &WalkOptions, each: &mut dyn FnMut(&Path)) -> Vec<Error> {
    if !path.is_dir() {
        each(path);
        return Vec::new();
    }
    if recurse {
        // Streamed: each file's status is taken as the walk meets it, so nothing is kept per file.
        let walker = match Walker::new(walk) {
            Ok(w) => w,
            Err(e) => return vec![e],
        };
        let mut problems = Vec::new();
        let walked = walker.walk(path, &mut |entry| {
            match entry {
                Entry::File(found) => each(&found.path),
                Entry::Skipped(skipped) => eprintln!("fci-connector: warning: {}", printable(&skipped)),
                Entry::Problem(e) => problems.push(e),
            }
            ControlFlow::Continue(())
        });
        if let Err(e) = walked {
            problems.push(e);
        }
        return problems;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(rd) => rd,
        Err(e) => return vec![Error::io("cannot read the folder", path, e, ExitClass::Busy)],
    };
    let (mut files, mut folders, mut problems) = (Vec::new(), 0usize, Vec::new());
    for entry in entries {
        match entry {
            Ok(e) if e.path().is_file() => files.push(e.path()),
            Ok(e) if e.path().is_dir() => folders += 1,
            Ok(_) => {}
            Err(e) => problems.push(Error::io("cannot read the folder", path, e, ExitClass::Busy)),
        }
    }
    if files.is_empty() && folders > 0 {
        eprintln!(
            "fci-connector: {}: no files directly in this folder, {folders} subfolder(s) (add --recurse to look into them)",
            printable(&path.display().to_string())
        );
    }
    files.sort();
    for file in &files {
        each(file);
    }
    problems
}

/// The counts of `status --summary`: files per state, per protecting product and per template.
#[derive(Debug, Default, Serialize)]
pub struct StatusSummary {
    pub files: usize,
    /// Files per state (`protected`, `protected-by-other`, `unprotected`, `damaged`, `error`).
    pub states: BTreeMap<&'static str, usize>,
    /// Files per protecting product (`fci-connector`, `microsoft-rms`, …).
    pub protectors: BTreeMap<&'static str, usize>,
    /// Protected files per template, as `name {id}` (what the file says; another product's may have only one).
    pub templates: BTreeMap<String, usize>,
    /// Folders that could not be read (their files are not counted).
    pub unreadable_folders: usize,
    #[serde(rename = "exit_code", serialize_with = "crate::pipeline::result::exit_code")]
    pub exit: ExitClass,
}

impl StatusSummary {
    fn new() -> Self {
        let mut s = StatusSummary::default();
        for state in [State::Protected, State::ProtectedByOther, State::Unprotected, State::Damaged] {
            s.states.insert(state.as_str(), 0);
        }
        s
    }

    fn add(&mut self, line: &StatusLine) {
        self.files += 1;
        *self.states.entry(line.state.as_str()).or_default() += 1;
        if let Some(p) = line.protector {
            *self.protectors.entry(p.as_str()).or_default() += 1;
        }
        if let Some(t) = template_label(line) {
            *self.templates.entry(t).or_default() += 1;
        }
    }

    fn print(&self, format: StatusFormat) {
        match format {
            StatusFormat::Json => println!("{}", serde_json::to_string(self).unwrap_or_default()),
            StatusFormat::Csv => {
                println!("kind,name,files");
                let rows = self.states.iter().map(|(k, n)| ("state", k.to_string(), n));
                let rows = rows.chain(self.protectors.iter().map(|(k, n)| ("protector", k.to_string(), n)));
                let rows = rows.chain(self.templates.iter().map(|(k, n)| ("template", k.clone(), n)));
                for (kind, name, n) in rows {
                    println!("{kind},{},{n}", crate::batch::report::csv_field(&name));
                }
                println!("unreadable-folders,,{}", self.unreadable_folders);
                println!("total,,{}", self.files);
            }
            StatusFormat::Table => {
                let names = self.states.keys().map(|k| k.len()).chain(self.protectors.keys().map(|k| k.len() + 2));
                let w = names.chain(self.templates.keys().map(|k| printable(k).chars().count())).max().unwrap_or(0);
                let w = w.max("unreadable folders".len());
                println!("{:<w$}  FILES", "STATE");
                let order =
                    [State::Protected, State::ProtectedByOther, State::Unprotected, State::Damaged, State::Error];
                for (state, n) in order.iter().filter_map(|s| self.states.get_key_value(s.as_str())) {
                    println!("{state:<w$}  {n:>5}");
                    if *state == State::ProtectedByOther.as_str() {
                        for (product, n) in self.protectors.iter().filter(|(p, _)| **p != "fci-connector") {
                            println!("{:<w$}  {n:>5}", format!("  {product}"));
                        }
                    }
                }
                if self.unreadable_folders > 0 {
                    println!("{:<w$}  {:>5}", "unreadable folders", self.unreadable_folders);
                }
                println!("{:<w$}  {:>5}", "total", self.files);
                if !self.templates.is_empty() {
                    println!();
                    println!("{:<w$}  FILES", "TEMPLATE");
                    for (template, n) in &self.templates {
                        println!("{:<w$}  {n:>5}", printable(template));
                    }
                }
            }
        }
    }
}

/// The template a file is protected with, as the summary counts it: `name {id}`, or whichever of the two is known.
fn template_label(line: &StatusLine) -> Option<String> {
    match (&line.template_name, &line.template_id) {
        (Some(name), Some(id)) => Some(format!("{name} {{{id}}}")),
        (Some(name), None) => Some(name.clone()),
        (None, Some(id)) => Some(format!("{{{id}}}")),
        (None, None) => None,
    }
}

const CSV_HEADER: &str = "path,state,protector,template_id,template_name,owner,license_server,error";

fn csv_line(line: &StatusLine) -> String {
    let field = |s: Option<&str>| crate::batch::report::csv_field(s.unwrap_or(""));
    [
        field(Some(&line.path)),
        field(Some(line.state.as_str())),
        field(line.protector.map(ProtectedBy::as_str)),
        field(line.template_id.as_deref()),
        field(line.template_name.as_deref()),
        field(line.owner.as_deref()),
        field(line.license_server.as_deref()),
        field(line.error.as_deref()),
    ]
    .join(",")
}

pub fn run(_global: &GlobalOptions, args: StatusArgs) -> Result<ExitClass, Error> {
    let walk = WalkOptions { include_hidden: args.include_hidden, ..Default::default() };
    if args.check_access {
        let mut files = Vec::new();
        let mut worst = ExitClass::Success;
        for path in &args.paths {
            for problem in for_each_file(path, args.recurse, &walk, &mut |f| files.push(f.to_path_buf())) {
                super::report(&problem);
                worst = worst.worst(problem.class());
            }
        }
        return super::open::check_access(&files, &args.sign_in).map(|class| class.worst(worst));
    }
    let mut worst = ExitClass::Success;
    let mut summary = StatusSummary::new();
    let mut rows = Vec::new();
    if args.format == StatusFormat::Csv && !args.summary {
        println!("{CSV_HEADER}");
    }
    for path in &args.paths {
        let problems = for_each_file(path, args.recurse, &walk, &mut |file| {
            let (line, class) = status_line(file);
            worst = worst.worst(class);
            if let Some(err) = line.error.as_deref().filter(|_| line.state == State::Error) {
                eprintln!("fci-connector: error: {} (exit {})", printable(err), class.code());
            }
            if args.summary {
                summary.add(&line);
                return;
            }
            match args.format {
                StatusFormat::Json => println!("{}", serde_json::to_string(&line).unwrap_or_default()),
                StatusFormat::Csv => println!("{}", csv_line(&line)),
                StatusFormat::Table => rows.push(line),
            }
        });
        for problem in problems {
            super::report(&problem);
            worst = worst.worst(problem.class());
            summary.unreadable_folders += 1;
        }
    }
    if args.summary {
        summary.exit = worst;
        summary.print(args.format);
    } else if args.format == StatusFormat::Table && !rows.is_empty() {
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
            // A file that could not be read has its error on stderr, not in the TEMPLATE column; a damaged one
            // says why there.
            let detail = match (&r.template_name, &r.error) {
                (Some(name), _) => name.as_str(),
                (None, Some(err)) if r.state == State::Damaged => err.as_str(),
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
