//! `protect`: the FSRM custom-task entry point. Classify one file, protect it if the policy says so, print one line
//! (or one JSON object), append one line to the invocation log, and exit with a code FSRM and wrappers can act on.
//! Also reached through Microsoft's argument form (`-File … -TemplateID … -OwnerMail …`, see [`super::fsrm_args`]).

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::GlobalOptions;
use crate::classify::RuleSet;
use crate::config::Config;
use crate::decide::{self, Action, Context, Outcome, Request};
use crate::log::{self, LoggedMatch, Record};
use crate::protect::templates::{self, TemplateStore};
use crate::{Error, ExitClass, locate};

/// What FSRM puts in place of `[Source File Owner Email]` when it cannot resolve the owner: the macro itself.
pub const UNRESOLVED_OWNER_MACRO: &str = "[Source File Owner Email]";

#[derive(Args, Debug, Default)]
pub struct ProtectArgs {
    /// The file to protect
    pub file: PathBuf,
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
    let mut outcome = match config {
        Ok(config) => protect_one(global, &args, &config, owner),
        Err(e) => Outcome { action: Action::Failed(e), template: None, classification: None, warnings: Vec::new() },
    };
    if matches!(outcome.action, Action::Protected(_) | Action::WouldProtect) {
        outcome.warnings.extend(owner_warning);
    }
    for switch in &args.ignored_switches {
        outcome.warnings.push(format!("-{switch} is ignored: fci-connector needs no cloud credentials"));
    }
    if let (Action::Failed(e), Some(line)) = (&mut outcome.action, &args.command_line)
        && e.class() == ExitClass::NotFound
    {
        let tried = std::mem::replace(e, Error::new(ExitClass::Internal, ""));
        *e = tried.context(format!("file rebuilt from the argument line {line:?}"));
    }
    let class = outcome.exit_class(args.strict_exit);
    let record = record(&args, owner, &outcome, class, started);
    log::append_or_warn(log_dir.as_deref(), &log_config, &record);
    for w in &outcome.warnings {
        eprintln!("fci-connector: warning: {w}");
    }
    if args.json {
        println!("{}", serde_json::to_string(&record).unwrap_or_default());
    } else {
        print_line(&args, &outcome);
    }
    if let Action::Failed(e) = &outcome.action {
        super::report(e);
        crate::platform::report_failure_event(&format!("{} (exit {})", e.message(), class.code()));
    }
    Ok(class)
}

/// Load what the run needs and take the file through the pipeline.
fn protect_one(global: &GlobalOptions, args: &ProtectArgs, config: &Config, owner: Option<&str>) -> Outcome {
    let failed =
        |e: Error| Outcome { action: Action::Failed(e), template: None, classification: None, warnings: Vec::new() };
    let store = match open_templates(global, config.templates.clone()) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    // The template is checked before anything else, so a wrong -TemplateID shows on every file, not only on the
    // ones the policy protects.
    let template_id = args.template.as_deref().or(config.default_template.as_deref());
    let template = match template_id.map(|id| store.get(id)).transpose() {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let rules = if args.always {
        None
    } else {
        let dir = global.rules.clone().or_else(|| config.rules.clone()).or_else(|| locate::rules_dir(None));
        let Some(dir) = dir else {
            return failed(Error::new(
                ExitClass::Config,
                format!(
                    "no rule folder: give --rules <DIR>, put {}/ beside the executable, or use --always",
                    locate::RULES_DIR
                ),
            ));
        };
        match RuleSet::load(&dir) {
            Ok(loaded) => Some(loaded.rules),
            Err(e) => return failed(e),
        }
    };
    let ctx =
        Context { templates: &store, rules: rules.as_ref(), policy: &config.policy, limits: &config.limits, template };
    decide::process(&args.file, &Request { owner, dry_run: args.dry_run }, &ctx)
}

/// FSRM leaves the macro text, or nothing, when it cannot resolve a file's owner (a file owned by SYSTEM, say):
/// protect anyway, without an owner. Microsoft's script failed in that case.
fn owner(given: Option<&str>) -> (Option<&str>, Option<String>) {
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

fn record(args: &ProtectArgs, owner: Option<&str>, outcome: &Outcome, class: ExitClass, started: Instant) -> Record {
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
        file: args.file.display().to_string(),
        template: outcome.template.as_ref().map(|(id, _)| id.clone()).or_else(|| {
            // Canonical form when the id parses, as given when it does not (the error says why).
            args.template.as_deref().map(|t| templates::parse_id(t).map_or_else(|_| t.to_string(), |id| id.to_string()))
        }),
        owner: owner.map(str::to_string),
        decision: outcome.decision().to_string(),
        reason: outcome.reason(),
        matches,
        properties,
        exit_code: class.code(),
        duration_ms: started.elapsed().as_millis() as u64,
        error: match &outcome.action {
            Action::Failed(e) => Some(e.message().to_string()),
            _ => None,
        },
        warnings: outcome.warnings.clone(),
    }
}

fn print_line(args: &ProtectArgs, outcome: &Outcome) {
    let path = args.file.display();
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
        Action::Protected(_) => println!("protected: {path} ({template}{found})"),
        Action::WouldProtect => println!("would protect: {path} ({template}{found})"),
        Action::Skipped(reason) => println!("left alone: {path}: {}{found}", reason.describe()),
        Action::Failed(_) => {}
    }
}
