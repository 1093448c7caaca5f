//! `protect`: the FSRM custom-task entry point. Classify one file, protect it if the policy says so, print one line
//! (or one JSON object), append one line to the invocation log, and exit with a code FSRM and wrappers can act on.
//! Also reached through Microsoft's argument form (`-File … -TemplateID … -OwnerMail …`, see [`super::fsrm_args`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::{FolderArgs, GlobalOptions, printable};
use crate::batch::walk;
use crate::batch::{self, report};
use crate::classify::RuleSet;
use crate::config::Config;
use crate::decide::{self, Action, Context, Outcome, Request, SkipReason};
use crate::log::{self, LoggedMatch, Record};
use crate::protect::templates::{self, TemplateStore};
use crate::{Error, ExitClass, locate};

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
    /// Tell skips apart: 10 no rule matched, 11 already protected, 12 protected by another product, 13 excluded
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

/// Open the template store named by the global options, the config, or found by default.
pub fn template_store(global: &GlobalOptions) -> Result<TemplateStore, Error> {
    let config_dir = if global.templates.is_none() { Config::load(global.config.as_deref())?.templates } else { None };
    open_templates(global, config_dir)
}

fn open_templates(global: &GlobalOptions, from_config: Option<PathBuf>) -> Result<TemplateStore, Error> {
    let dir = global.templates.clone().or(from_config).or_else(|| locate::templates_dir(None)).ok_or_else(|| {
        Error::new(
            ExitClass::Config,
            format!(
                "no template store: give --templates <DIR> or put a {}/ folder beside the executable",
                locate::TEMPLATES_DIR
            ),
        )
    })?;
    TemplateStore::load(&dir)
}

pub fn run(global: &GlobalOptions, args: ProtectArgs) -> Result<ExitClass, Error> {
    let started = Instant::now();
    let config = Config::load(global.config.as_deref());
    let log_config = config.as_ref().map(|c| c.log.clone()).unwrap_or_default();
    let log_dir = log::log_dir(global.log_dir.as_deref(), &log_config);
    let (owner, owner_warning) = owner(args.owner.as_deref());
    let loaded = config.and_then(|c| Loaded::new(global, &args, c));
    if args.folder.recurse && args.file.is_dir() {
        return run_folder(&args, &loaded?, owner, log_dir.as_deref());
    }
    let mut outcome = match loaded.and_then(|l| l.context().map(|ctx| l.process(&args, &ctx, &args.file, owner))) {
        Ok(outcome) => outcome,
        Err(e) => Outcome { action: Action::Failed(e), template: None, classification: None, warnings: Vec::new() },
    };
    if matches!(outcome.action, Action::Protected(_) | Action::WouldProtect) {
        outcome.warnings.extend(owner_warning);
    }
    for switch in &args.ignored_switches {
        outcome.warnings.push(format!("-{switch} is ignored: fci-connector needs no cloud credentials"));
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
    let record = record(&args.file, &args, owner, &outcome, class, started);
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

/// What every file of a run shares: the config, the template store, the command line's template and the rules.
pub(crate) struct Loaded {
    pub(crate) config: Config,
    store: TemplateStore,
    template_id: Option<String>,
    rules: Option<RuleSet>,
    rules_dir: Option<PathBuf>,
}

impl Loaded {
    pub(crate) fn new(global: &GlobalOptions, args: &ProtectArgs, config: Config) -> Result<Loaded, Error> {
        let store = open_templates(global, config.templates.clone())?;
        let template_id = args.template.clone().or_else(|| config.default_template.clone());
        // The template is checked before anything else, so a wrong -TemplateID shows on every file, not only on
        // the ones the policy protects.
        if let Some(id) = &template_id {
            store.get(id)?;
        }
        // The rule folder is known even with --always, so that a run over a tree never processes it.
        let rules_dir = global.rules.clone().or_else(|| config.rules.clone()).or_else(|| locate::rules_dir(None));
        let rules = if args.always {
            None
        } else {
            let dir = rules_dir.clone().ok_or_else(|| {
                Error::new(
                    ExitClass::Config,
                    format!(
                        "no rule folder: give --rules <DIR>, put {}/ beside the executable, or use --always",
                        locate::RULES_DIR
                    ),
                )
            })?;
            Some(RuleSet::load(&dir)?.rules)
        };
        Ok(Loaded { config, store, template_id, rules, rules_dir })
    }

    pub(crate) fn context(&self) -> Result<Context<'_>, Error> {
        let template = self.template_id.as_deref().map(|id| self.store.get(id)).transpose()?;
        Ok(Context {
            templates: &self.store,
            rules: self.rules.as_ref(),
            policy: &self.config.policy,
            limits: &self.config.limits,
            template,
        })
    }

    /// `file` alone: reached beneath the configured share root containing it, else the file system root.
    pub(crate) fn process(&self, args: &ProtectArgs, ctx: &Context<'_>, file: &Path, owner: Option<&str>) -> Outcome {
        self.process_beneath(args, ctx, file, None, owner)
    }

    /// `file`, reached beneath `root` (the task's folder) without following any link.
    pub(crate) fn process_beneath(
        &self,
        args: &ProtectArgs,
        ctx: &Context<'_>,
        file: &Path,
        root: Option<&Path>,
        owner: Option<&str>,
    ) -> Outcome {
        decide::process(file, &Request { owner, dry_run: args.dry_run, root }, ctx)
    }

    /// The folders this program keeps its own files in, which no run over a tree may process: the template
    /// store, the rule folder and the invocation log folder.
    pub(crate) fn private_folders(&self, log_dir: Option<&Path>) -> Vec<PathBuf> {
        [Some(self.store.dir.clone()), self.rules_dir.clone(), log_dir.map(Path::to_path_buf)]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// `protect <DIR> --recurse`: every file through the same pipeline, in parallel, each logged as its own invocation.
fn run_folder(
    args: &ProtectArgs,
    loaded: &Loaded,
    owner: Option<&str>,
    log_dir: Option<&Path>,
) -> Result<ExitClass, Error> {
    let started = Instant::now();
    let ctx = loaded.context()?;
    let walk_options = walk::WalkOptions { private: loaded.private_folders(log_dir), ..args.folder.walk_options() };
    let walked = walk::files(std::slice::from_ref(&args.file), &walk_options)?;
    for problem in &walked.problems {
        eprintln!("fci-connector: warning: {}", printable(&super::message(problem)));
    }
    for skipped in &walked.skipped {
        eprintln!("fci-connector: warning: {skipped}");
    }
    let options = batch::RunOptions { jobs: args.folder.jobs, progress: !args.folder.quiet && !args.json };
    let stdout = std::sync::Mutex::new(());
    let reports = batch::run(&walked.files, &options, |found| {
        let file_started = Instant::now();
        let outcome = loaded.process_beneath(args, &ctx, &found.path, Some(&args.file), owner);
        let class = outcome.exit_class(args.strict_exit);
        let record = record(&found.path, args, owner, &outcome, class, file_started);
        super::log_or_warn(log_dir, &loaded.config.log, &record);
        let _guard = stdout.lock();
        if args.json {
            println!("{}", serde_json::to_string(&record).unwrap_or_default());
        } else if let Action::Failed(e) = &outcome.action {
            super::report(e);
        } else if !args.folder.quiet && !matches!(outcome.action, Action::Skipped(SkipReason::AlreadyProtected)) {
            print_line(&found.path, &outcome);
        }
        batch::FileReport::from_record(record, found.bytes)
    });
    let summary = batch::Summary::of(&reports, started.elapsed());
    if let Some(path) = &args.folder.report {
        let what = if args.dry_run { "dry run" } else { "protection" };
        report::write(path, &format!("fci-connector: {what} of {}", args.file.display()), &summary, &reports)?;
    }
    if !args.json {
        for line in summary.lines() {
            eprintln!("{line}");
        }
    }
    let mut class = ExitClass::ALL.into_iter().find(|c| c.code() == summary.exit_code).unwrap_or(ExitClass::Internal);
    for problem in &walked.problems {
        class = batch::most_severe(class, problem.class());
    }
    Ok(class)
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

pub(crate) fn record(
    file: &Path,
    args: &ProtectArgs,
    owner: Option<&str>,
    outcome: &Outcome,
    class: ExitClass,
    started: Instant,
) -> Record {
    let (matches, properties) = match &outcome.classification {
        Some(c) => (
            c.matches
                .iter()
                .map(|m| LoggedMatch { name: m.name.clone(), count: m.count, confidence: m.confidence })
                .collect(),
            c.properties.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect(),
        ),
        None => (Vec::new(), serde_json::Map::new()),
    };
    Record {
        time: log::now(),
        pid: std::process::id(),
        command: "protect",
        file: file.display().to_string(),
        template: outcome.template.as_ref().map(|(id, _)| id.clone()).or_else(|| {
            // Canonical form when the id parses, as given when it does not (the error says why).
            args.template.as_deref().map(|t| templates::parse_id(t).map_or_else(|_| t.to_string(), |id| id.to_string()))
        }),
        owner: owner.map(str::to_string),
        decision: outcome.decision().to_string(),
        reason: reason(outcome),
        matches,
        properties,
        exit_code: class.code(),
        duration_ms: started.elapsed().as_millis() as u64,
        error: match &outcome.action {
            Action::Failed(e) => Some(super::message(e).into_owned()),
            _ => None,
        },
        warnings: outcome.warnings.clone(),
    }
}

/// The outcome's reason; a protection without classification names the flag that asked for it.
fn reason(outcome: &Outcome) -> Option<String> {
    let reason = outcome.reason()?;
    let asked =
        outcome.classification.is_none() && matches!(outcome.action, Action::Protected(_) | Action::WouldProtect);
    Some(if asked { format!("{reason} (--always)") } else { reason })
}

pub(crate) fn print_line(file: &Path, outcome: &Outcome) {
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
        Action::Protected(_) => println!("protected: {path} ({}{})", printable(&template), printable(&found)),
        Action::WouldProtect => println!("would protect: {path} ({}{})", printable(&template), printable(&found)),
        Action::Skipped(reason) => {
            println!("left alone: {path}: {}{}", printable(&reason.describe()), printable(&found))
        }
        Action::Failed(_) => {}
    }
}
