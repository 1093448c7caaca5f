//! `rules check`: load the rule folder and report what was loaded and every problem as `file:line:col: message`.

use clap::{Args, Subcommand};

use super::GlobalOptions;
use crate::classify::{RuleSet, Severity};
use crate::{Error, ExitClass, locate};

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Load every rule file (`--rules <DIR>` or the default folder); exit 6 if any has errors
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {}

pub fn run(global: &GlobalOptions, cmd: RulesCommand) -> Result<ExitClass, Error> {
    match cmd {
        RulesCommand::Check(CheckArgs {}) => check(global),
    }
}

/// The rule folder from `--rules` or the default search, or a Config error saying where it was looked for.
pub fn rules_folder(global: &GlobalOptions) -> Result<std::path::PathBuf, Error> {
    locate::rules_dir(global.rules.as_deref()).ok_or_else(|| {
        Error::new(
            ExitClass::Config,
            format!(
                "no rule folder: give --rules <DIR>, or put `{}` beside the executable or in the current folder",
                locate::RULES_DIR
            ),
        )
    })
}

fn check(global: &GlobalOptions) -> Result<ExitClass, Error> {
    let dir = rules_folder(global)?;
    let report = RuleSet::check(&dir)?;
    let s = report.stats;
    println!(
        "{}: {} file(s): {} properties, {} rules, {} entities ({} patterns), {} protection policy lines",
        dir.display(),
        s.files,
        s.properties,
        s.rules,
        s.entities,
        s.patterns,
        s.policy
    );
    for d in &report.diagnostics {
        println!("{d}");
    }
    let errors = report.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = report.diagnostics.len() - errors;
    println!("{errors} error(s), {warnings} warning(s)");
    Ok(if errors > 0 || report.rules.is_none() { ExitClass::Config } else { ExitClass::Success })
}
