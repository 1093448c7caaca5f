//! `watch`: continuous mode for Linux/Samba file servers. Protects new and modified files under the folders once
//! they settle, with the same decisions, log lines and safety as `protect`. Stops on Ctrl+C or SIGTERM.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use super::GlobalOptions;
use super::protect::{owner, print_line, record, result, template_label};
use crate::pipeline::{Action, Request, Settings};
use crate::watch::{self, Notice, WatchOptions};
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
    /// Also process the files already in the folders when the watch starts
    #[arg(long)]
    pub initial_scan: bool,
    /// Leave files matching this glob alone (relative path or file name, as with protect --recurse); repeatable
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

pub fn run(global: &GlobalOptions, args: WatchArgs) -> Result<ExitClass, Error> {
    // Before the config, the template and the rules: a folder that is not there is the first thing to hear.
    if let Some(missing) = args.folders.iter().find(|f| !f.is_dir()) {
        return Err(Error::new(
            ExitClass::NotFound,
            format!("{}: not a folder (watch needs folders)", missing.display()),
        ));
    }
    if !(0.0..=86_400.0).contains(&args.debounce) {
        return Err(Error::new(ExitClass::Usage, "--debounce: 0 to 86400 seconds"));
    }
    let settings = Settings { template: args.template.clone(), always: args.always, ..global.load_settings()? };
    let log_dir = log::log_dir(global.log_dir.as_deref(), &settings.config.log);
    // A watch without a template would fail on every sensitive file it meets: refuse before watching.
    if settings.template_id().is_none() {
        return Err(Error::new(
            ExitClass::Usage,
            "no template: give --template <ID> or set default_template in the config (watch refuses to start \
             without one)",
        ));
    }
    let session = Arc::new(super::open_session(&settings)?);
    let template = template_label(args.template.as_deref());
    let (dry_run, owner_given) = (args.dry_run, args.owner.clone());
    // The log folder is made now, so that it is known (by identity) and never processed should it lie in a tree.
    if let Some(dir) = &log_dir {
        let _ = std::fs::create_dir_all(dir);
    }
    let options = WatchOptions {
        debounce: Duration::from_secs_f64(args.debounce),
        exclude: args.exclude.clone(),
        initial_scan: args.initial_scan,
        private: session.private_folders(log_dir.as_deref()),
        ..WatchOptions::default()
    };
    let folders = args.folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ");
    let debounce = args.debounce;
    let notice = move |notice: Notice| match notice {
        Notice::Watching => eprintln!(
            "fci-connector: watching {folders} (files are processed {debounce}s after they settle; Ctrl+C stops)"
        ),
        Notice::Warning(w) => eprintln!("fci-connector: warning: {w}"),
    };
    let process = move |root: &Path, path: &Path| {
        let started = Instant::now();
        let (owner, _) = owner(owner_given.as_deref());
        let outcome = session.process(path, &Request { owner, dry_run, root: Some(root) });
        let class = outcome.exit_class(false);
        let result = result(path, template.as_deref(), &outcome, class, 0);
        let record = record(&result, owner, &outcome, started);
        super::log_or_warn(log_dir.as_deref(), &session.config().log, &record);
        for w in &outcome.warnings {
            eprintln!("fci-connector: warning: {}: {w}", path.display());
        }
        match &outcome.action {
            Action::Failed(e) => report_for(path, e),
            _ => print_line(path, &outcome),
        }
    };
    watch::watch(&args.folders, &options, process, notice, || false)?;
    Ok(ExitClass::Success)
}

/// An error line that names the file, whether or not the message already does.
fn report_for(path: &Path, e: &Error) {
    let name = path.display().to_string();
    let message = super::message(e);
    if message.contains(&name) {
        super::report(e);
    } else {
        eprintln!("fci-connector: error: {name}: {message} (exit {})", e.class().code());
    }
}
