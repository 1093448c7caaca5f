//! `protect`: the FSRM custom-task entry point. Classify one file, protect it if the policy says so, print one line
//! (or one JSON object), append one line to the invocation log, and exit with a code FSRM and wrappers can act on.
//! Also reached through Microsoft's argument form (`-File … -TemplateID … -OwnerMail …`, see [`super::fsrm_args`]).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::{FolderArgs, GlobalOptions, printable};
use crate::batch::walk;
use crate::batch::{self, report};
use crate::config::Config;
use crate::log;
use crate::pipeline::{
    Action, Decision, FileResult, Invocation, LogRecord, Outcome, Request, Session, Settings, SkipReason,
};
use crate::protect::templates;
use crate::{Error, ExitClass};

/// What FSRM puts in place of `[Source File Owner Email]` when it cannot resolve the owner: the macro itself.
pub const UNRESOLVED_OWNER_MACRO: &str = "[Source File Owner Email]";

#[derive(Args, Clone, Debug, Default)]
pub struct ProtectArgs {
    /// The file to protect, or a folder with --recurse
    pub file: PathBuf,
    #[command(flatten)]
    pub folder: FolderArgs,
    /// Template id (a GUID, with or without braces) [default: the config's default_template]
    #[arg(long, value_name = "ID")]
    pub template: Option<String>,
    /// Owner recorded in the license (e-mail address)
    #[arg(long, value_name = "EMAIL")]
    pub owner: Option<String>,
    /// Protect without classifying (for sites whose FSRM rules already classified the file)
    #[arg(long)]
    pub always: bool,
    /// Classify and decide, but change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Tell skips apart: 10 no protection policy line matched, 11 already protected, 12 protected by another product, 13 excluded
    #[arg(long)]
    pub strict_exit: bool,
    /// Print one JSON object instead of a line of text
    #[arg(long)]
    pub json: bool,
    /// Switches of Microsoft's script that were accepted and ignored.
    #[arg(skip)]
    pub ignored_switches: Vec<String>,
    /// The argument line the file was rebuilt from (Microsoft's argument form), for error messages.
    #[arg(skip)]
    pub command_line: Option<String>,
    /// Every path the argument line could be read as, best first (Microsoft's argument form), for error messages.
    #[arg(skip)]
    pub tried: Vec<PathBuf>,
}

impl ProtectArgs {
    /// The run's settings: these options and the global ones over the config file.
    pub fn settings(&self, global: &GlobalOptions, config: Config) -> Settings {
        Settings { template: self.template.clone(), always: self.always, ..global.settings(config) }
    }
}

pub fn run(global: &GlobalOptions, args: ProtectArgs) -> Result<ExitClass, Error> {
    let started = Instant::now();
    let config = Config::load(global.config.as_deref());
    let log_config = config.as_ref().map(|c| c.log.clone()).unwrap_or_default();
    let log_dir = log::log_dir(global.log_dir.as_deref(), &log_config);
    let (owner, owner_warning) = owner(args.owner.as_deref());
    let session = config.and_then(|c| super::open_session(&args.settings(global, c)));
    let template = template_label(args.template.as_deref());
    if args.folder.recurse && args.file.is_dir() {
        return run_folder(&args, &session?, owner, template.as_deref(), log_dir.as_deref());
    }
    let mut outcome = match session {
        // `file` alone: reached beneath the configured share root containing it, else the file system root.
        Ok(session) => {
            let outcome = session.process(&args.file, &Request { owner, dry_run: args.dry_run, root: None });
            // One file per process (FSRM's custom task): the session holds only memory, and freeing the compiled
            // rule set piece by piece cost 3% of a per-file run's instructions; the OS takes it back at exit.
            std::mem::forget(session);
            outcome
        }
        Err(e) => Outcome::new(Action::Failed(e)),
    };
    if matches!(outcome.action, Action::Protected(_) | Action::WouldProtect) {
        outcome.warnings.extend(owner_warning);
    }
    for switch in &args.ignored_switches {
        outcome.warnings.push(format!("{switch} is ignored: fci-connector needs no cloud credentials"));
    }
    if let Action::Failed(e) = &mut outcome.action
        && e.class() == ExitClass::NotFound
    {
        let hint = match &args.command_line {
            Some(line) if args.tried.len() > 1 => Some(format!(
                "file rebuilt from the argument line {line:?}; tried, best first: {}",
                args.tried.iter().map(|p| format!("{:?}", p.display().to_string())).collect::<Vec<_>>().join(", ")
            )),
            Some(line) => Some(format!("file rebuilt from the argument line {line:?}")),
            None if args.file.is_dir() => Some("add --recurse to protect a whole folder".to_string()),
            None => None,
        };
        if let Some(hint) = hint {
            let original = std::mem::replace(e, Error::new(ExitClass::Internal, ""));
            *e = original.context(hint);
        }
    }
    let class = outcome.exit_class(args.strict_exit);
    let result = result(&args.file, template.as_deref(), &outcome, class, 0);
    let record = record(&result, owner, &outcome, started);
    super::log_or_warn(log_dir.as_deref(), &log_config, &record);
    for w in &outcome.warnings {
        eprintln!("fci-connector: warning: {}", printable(w));
    }
    if args.json {
        println!("{}", serde_json::to_string(&record).unwrap_or_default());
    } else {
        print_line(&args.file, &outcome);
    }
    if let Action::Failed(e) = &outcome.action {
        super::report(e);
        crate::platform::report_failure_event(&format!("{} (exit {})", super::message(e), class.code()));
    }
    Ok(class)
}

/// What a worker of a folder run hands the sink: the file's result and what to print for it.
enum Done {
    File {
        result: FileResult,
        print: Print,
    },
    /// A folder or entry the walk could not read.
    Problem(Error),
    /// Something the walk left alone on purpose (a link, this program's own folder).
    Skipped(String),
}

/// A file's console output, printed by the sink in walk order.
enum Print {
    Nothing,
    Stdout(String),
    Failure(Error),
}

/// `protect <DIR> --recurse`: every file through the same pipeline, in parallel, each logged as its own invocation
/// (by the worker that processed it); console lines, reports and the summary follow the walk's order.
fn run_folder(
    args: &ProtectArgs,
    session: &Session,
    owner: Option<&str>,
    template: Option<&str>,
    log_dir: Option<&Path>,
) -> Result<ExitClass, Error> {
    let started = Instant::now();
    // Everything that could fail the run at its end is checked before the first file is touched.
    if let Some(path) = &args.folder.report {
        crate::preflight::report(path)?;
    }
    if let Some(dir) = log_dir {
        crate::preflight::log_folder(dir)?;
    }
    let walk_options = walk::WalkOptions { private: session.private_folders(log_dir), ..args.folder.walk_options() };
    let walker = walk::Walker::new(&walk_options)?;
    let what = if args.dry_run { "dry run" } else { "protection" };
    let title = format!("fci-connector: {what} of {}", args.file.display());
    let run = || {
        let rules = session.rules().map(|r| r.version().clone());
        report::RunInfo::start(session.template().map(report::TemplateRef::from), rules)
    };
    let mut report =
        args.folder.report.as_deref().map(|path| report::Writer::create(path, &title, run())).transpose()?;
    let mut summary = batch::Summary::default();
    let mut walk_class = ExitClass::Success;
    let options = batch::RunOptions { jobs: args.folder.jobs, progress: !args.folder.quiet && !args.json };
    let feed = |feeder: &mut batch::Feeder<walk::Entry>| {
        let _ = walker.walk(&args.file, &mut |entry| {
            let bytes = match &entry {
                walk::Entry::File(found) => found.bytes,
                _ => 0,
            };
            if feeder.send(entry, bytes) { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
        })?;
        Ok::<(), Error>(())
    };
    let work = |entry: walk::Entry| {
        let found = match entry {
            walk::Entry::File(found) => found,
            walk::Entry::Problem(e) => return Done::Problem(e),
            walk::Entry::Skipped(s) => return Done::Skipped(s),
        };
        let file_started = Instant::now();
        // Reached beneath the task's folder without following any link.
        let request = Request { owner, dry_run: args.dry_run, root: Some(&args.file) };
        let outcome = session.process(&found.path, &request);
        let class = outcome.exit_class(args.strict_exit);
        let result = result(&found.path, template, &outcome, class, found.bytes);
        let record = record(&result, owner, &outcome, file_started);
        super::log_or_warn(log_dir, &session.config().log, &record);
        let print = if args.json {
            Print::Stdout(serde_json::to_string(&record).unwrap_or_default())
        } else if let Action::Failed(_) = &outcome.action {
            match outcome.action {
                Action::Failed(e) => Print::Failure(e),
                _ => Print::Nothing,
            }
        } else if !args.folder.quiet && !matches!(outcome.action, Action::Skipped(SkipReason::AlreadyProtected)) {
            line(&found.path, &outcome).map_or(Print::Nothing, Print::Stdout)
        } else {
            Print::Nothing
        };
        Done::File { result, print }
    };
    batch::stream(&options, feed, work, |done| {
        let (result, print) = match done {
            Done::File { result, print } => (result, print),
            Done::Problem(e) => {
                eprintln!("fci-connector: warning: {}", printable(&super::message(&e)));
                walk_class = walk_class.worst(e.class());
                return Ok(());
            }
            Done::Skipped(s) => {
                eprintln!("fci-connector: warning: {s}");
                return Ok(());
            }
        };
        match print {
            Print::Nothing => {}
            Print::Stdout(line) => println!("{line}"),
            Print::Failure(e) => super::report(&e),
        }
        summary.add(&result);
        if let Some(report) = &mut report {
            report.add(&result)?;
        }
        Ok(())
    })?;
    summary.finish(started.elapsed());
    if !args.json {
        for line in summary.lines() {
            eprintln!("{line}");
        }
    }
    // The report is finished after the summary is printed: a report that cannot be written now fails the run on
    // its own code, with the work done and said.
    if let Some(report) = report {
        report.finish(&summary).map_err(|e| crate::preflight::report_not_written(&e))?;
    }
    Ok(summary.exit.worst(walk_class))
}

/// FSRM leaves the macro text, or nothing, when it cannot resolve a file's owner (a file owned by SYSTEM, say):
/// protect anyway, without an owner. Microsoft's script failed in that case.
pub(crate) fn owner(given: Option<&str>) -> (Option<&str>, Option<String>) {
    match given.map(str::trim) {
        None => (None, None),
        Some("") => (None, Some("no owner given (-OwnerMail was empty): the license records none".into())),
        Some(m) if m.eq_ignore_ascii_case(UNRESOLVED_OWNER_MACRO) => (
            None,
            Some(format!(
                "FSRM could not resolve the file's owner (the owner is still {m:?}): the license records none"
            )),
        ),
        Some(o) => (Some(o), None),
    }
}

/// The template id as the log shows it when the outcome names none: canonical when it parses, as given when it does
/// not (the error says why).
pub(crate) fn template_label(given: Option<&str>) -> Option<String> {
    given.map(|t| templates::parse_id(t).map_or_else(|_| t.to_string(), |id| id.to_string()))
}

/// The file's result, as the reports show it.
pub(crate) fn result(
    file: &Path,
    template: Option<&str>,
    outcome: &Outcome,
    class: ExitClass,
    bytes: u64,
) -> FileResult {
    let (matches, properties) = match &outcome.classification {
        Some(c) => (c.matches.clone(), c.properties.clone()),
        None => (Vec::new(), Vec::new()),
    };
    FileResult {
        reason: reason(outcome),
        template: outcome.template.as_ref().map(|(id, _)| id.clone()).or_else(|| template.map(str::to_string)),
        properties,
        matches,
        error: match &outcome.action {
            Action::Failed(e) => Some(super::message(e).into_owned()),
            _ => None,
        },
        bytes,
        ..FileResult::new(file.display().to_string(), Decision::Action(outcome.decision()), class)
    }
}

/// The invocation's log line: the file's result, who asked, and what else happened.
pub(crate) fn record<'a>(
    result: &'a FileResult,
    owner: Option<&'a str>,
    outcome: &'a Outcome,
    started: Instant,
) -> LogRecord<'a> {
    result.log_record(Invocation {
        time: log::now(),
        pid: std::process::id(),
        command: "protect",
        owner,
        duration_ms: started.elapsed().as_millis() as u64,
        warnings: &outcome.warnings,
        registered: outcome.registration.as_ref().map(|r| r.registered()),
        registration_error: outcome.registration.as_ref().and_then(|r| r.error()),
    })
}

/// The outcome's reason; a protection without classification names the flag that asked for it.
fn reason(outcome: &Outcome) -> Option<String> {
    let reason = outcome.reason()?;
    let asked =
        outcome.classification.is_none() && matches!(outcome.action, Action::Protected(_) | Action::WouldProtect);
    Some(if asked { format!("{reason} (--always)") } else { reason })
}

pub(crate) fn print_line(file: &Path, outcome: &Outcome) {
    if let Some(line) = line(file, outcome) {
        println!("{line}");
    }
}

/// The line `protect` prints for a file, if any (a failure is reported on stderr instead).
fn line(file: &Path, outcome: &Outcome) -> Option<String> {
    let path = file.display().to_string();
    let path = printable(&path);
    let found = outcome
        .classification
        .as_ref()
        .map(|c| {
            c.matches
                .iter()
                .map(|m| match m.confidence {
                    Some(conf) => format!("{} x{} ({conf}%)", m.name, m.count),
                    None => format!("{} x{}", m.name, m.count),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|s| !s.is_empty())
        .map(|s| format!("; found: {s}"))
        .unwrap_or_default();
    let template = outcome.template.as_ref().map(|(id, name)| format!("template {name} {id}")).unwrap_or_default();
    match &outcome.action {
        Action::Protected(_) => Some(format!("protected: {path} ({}{})", printable(&template), printable(&found))),
        Action::WouldProtect => Some(format!("would protect: {path} ({}{})", printable(&template), printable(&found))),
        Action::Skipped(reason) => {
            Some(format!("left alone: {path}: {}{}", printable(&reason.describe()), printable(&found)))
        }
        Action::Failed(_) => None,
    }
}
