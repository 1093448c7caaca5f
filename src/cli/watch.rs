//! `watch`: continuous mode for Linux/Samba file servers. Protects new and modified files under the folders once
//! they settle, with the same decisions, log lines and safety as `protect`. Stops on Ctrl+C or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use super::GlobalOptions;
use super::protect::{Loaded, ProtectArgs, owner, print_line, record};
use crate::config::Config;
use crate::decide::Action;
use crate::watch::{self, WatchOptions};
use crate::{Error, ExitClass, log};

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Folders to watch (recursively)
    #[arg(required = true, value_name = "DIR")]
    pub folders: Vec<PathBuf>,
    /// Template id [default: the config's default_template]
    #[arg(long, value_name = "ID")]
    pub template: Option<String>,
    /// Owner recorded in each license
    #[arg(long, value_name = "EMAIL")]
    pub owner: Option<String>,
    /// Protect without classifying
    #[arg(long)]
    pub always: bool,
    /// Classify and decide, but change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds a file's size and modification time must stay unchanged before it is processed
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    pub debounce: f64,
}

pub fn run(global: &GlobalOptions, args: WatchArgs) -> Result<ExitClass, Error> {
    if !(0.0..=86_400.0).contains(&args.debounce) {
        return Err(Error::new(ExitClass::Usage, "--debounce: 0 to 86400 seconds"));
    }
    let config = Config::load(global.config.as_deref())?;
    let log_dir = log::log_dir(global.log_dir.as_deref(), &config.log);
    let protect_args = ProtectArgs {
        template: args.template.clone(),
        owner: args.owner.clone(),
        always: args.always,
        dry_run: args.dry_run,
        ..ProtectArgs::default()
    };
    let loaded = Arc::new(Loaded::new(global, &protect_args, config)?);
    loaded.context()?;
    let options = WatchOptions { debounce: Duration::from_secs_f64(args.debounce), ..WatchOptions::default() };
    eprintln!(
        "fci-connector: watching {} (files are processed {}s after they settle; Ctrl+C stops)",
        args.folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "),
        args.debounce
    );
    let process = move |path: &std::path::Path| {
        let started = Instant::now();
        let (owner, _) = owner(protect_args.owner.as_deref());
        let outcome = match loaded.context() {
            Ok(ctx) => loaded.process(&protect_args, &ctx, path, owner),
            Err(e) => return super::report(&e),
        };
        let class = outcome.exit_class(false);
        let record = record(path, &protect_args, owner, &outcome, class, started);
        log::append_or_warn(log_dir.as_deref(), &loaded.config.log, &record);
        match &outcome.action {
            Action::Failed(e) => super::report(e),
            _ => print_line(path, &outcome),
        }
    };
    watch::watch(&args.folders, &options, process, || false)?;
    Ok(ExitClass::Success)
}
