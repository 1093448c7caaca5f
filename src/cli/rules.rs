//! `rules check`: load the rule folder and report what was loaded and every problem as `file:line:col: message`.
//! `rules test`: classify a folder of samples and compare with the expected results ([`crate::batch::rulestest`]).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::GlobalOptions;
use crate::batch::rulestest::{self, ExpectedSet};
use crate::classify::{RuleSet, Severity};
use crate::{Error, ExitClass};

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Load every rule file (`--rules <DIR>` or the default folder); exit 6 if any has errors
    Check(CheckArgs),
    /// Classify every file under a sample folder and compare with the expected results; exit 9 if any differs
    Test(TestArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Folder of sample files; every file under it is classified
    #[arg(long, value_name = "DIR")]
    pub samples: PathBuf,
    /// The expected results: CSV with columns path,decision,entities[,rules][,note] (docs/RULES.md)
    #[arg(long, value_name = "CSV")]
    pub expected: PathBuf,
    /// Classify each sample as if it were at TO instead of FROM (folder-scoped rules on a copy of the share):
    /// --path-prefix /srv/samples/share='D:\Shares'
    #[arg(long, value_name = "FROM=TO", value_parser = rulestest::PathPrefix::parse)]
    pub path_prefix: Option<rulestest::PathPrefix>,
    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub jobs: usize,
}

pub fn run(global: &GlobalOptions, cmd: RulesCommand) -> Result<ExitClass, Error> {
    match cmd {
        RulesCommand::Check(CheckArgs {}) => check(global),
        RulesCommand::Test(args) => test(global, &args),
    }
}

fn check(global: &GlobalOptions) -> Result<ExitClass, Error> {
    let settings = global.load_settings()?;
    let dir = super::rule_folder(&settings)?;
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
    if let Some(v) = report.rules.as_ref().map(RuleSet::version) {
        // As folder reports name the rules they ran with.
        println!("rules version {} (SHA-256 {})", v.short(), v.sha256);
    }
    for d in &report.diagnostics {
        println!("{}", super::printable(&d.to_string()));
    }
    let mut errors = report.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = report.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
    // Every template the protection policy names must be in the template store, by id or exact name.
    let named = report.rules.as_ref().map(RuleSet::policy_templates).unwrap_or_default();
    if !named.is_empty() {
        match settings.template_store() {
            Ok(store) => {
                for t in named {
                    if let Err(e) = store.resolve_policy(t) {
                        println!("{}: error: protection policy: {}", dir.display(), super::printable(&e.to_string()));
                        errors += 1;
                    }
                }
            }
            Err(e) => {
                println!(
                    "{}: error: protection policy names templates, and {}",
                    dir.display(),
                    super::printable(&e.to_string())
                );
                errors += 1;
            }
        }
    }
    println!("{errors} error(s), {warnings} warning(s)");
    Ok(if errors > 0 || report.rules.is_none() { ExitClass::Config } else { ExitClass::Success })
}

fn test(global: &GlobalOptions, args: &TestArgs) -> Result<ExitClass, Error> {
    let settings = global.load_settings()?;
    super::rule_folder(&settings)?;
    let expected = ExpectedSet::load(&args.expected)?;
    let (dir, loaded) = super::load_rules(&settings)?;
    expected.check_names(&loaded.rules, &args.expected)?;
    let limits = &settings.config.limits;
    let prefix = args.path_prefix.as_ref();
    let report =
        rulestest::run(&loaded.rules, &args.samples, &expected, limits, args.jobs, Some(&args.expected), prefix)?;
    println!(
        "rules test: {} sample(s) in {} against {}, rules in {}",
        report.compared,
        args.samples.display(),
        args.expected.display(),
        dir.display()
    );
    for line in report.lines() {
        println!("{}", super::printable(&line));
    }
    if report.passed() {
        println!("rules test passed: every sample as expected");
        Ok(ExitClass::Success)
    } else {
        let class = ExitClass::RulesTestFailed;
        println!("rules test FAILED: {} file(s) differ (exit {})", report.mismatches.len(), class.code());
        Ok(class)
    }
}
