//! The command line: argument definitions and one module per subcommand. Each subcommand returns the
//! [`ExitClass`] it ended with, or an [`Error`] that already names the file and the cause.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::classify::LoadedRules;
use crate::config::Config;
use crate::error::Setting;
use crate::log;
use crate::pipeline::{Session, Settings};
use crate::{Error, ExitClass};

pub mod classify;
pub mod fsrm_args;
pub mod inspect;
pub mod keys;
pub mod licenses;
pub mod login;
pub mod open;
pub mod protect;
pub mod rules;
pub mod serve;
pub mod status;
pub mod templates;
pub mod unprotect;
pub mod watch;

/// The help heading of the options every command understands, so that each command's own options stand apart.
const GLOBAL: &str = "Global options";

/// Options every subcommand understands.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalOptions {
    /// Template store folder [default: `templates/` beside the executable or above it, then the current folder]
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    pub templates: Option<PathBuf>,
    /// Rule folder [default: `classification-rules/` beside the executable or above it, then the current folder]
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    pub rules: Option<PathBuf>,
    /// Config file [default: `fci-connector.toml` beside the executable]
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub config: Option<PathBuf>,
    /// Invocation log folder [default: `logs/` beside the executable]
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    pub log_dir: Option<PathBuf>,
}

impl GlobalOptions {
    /// The run's settings: these options over the config file.
    pub fn settings(&self, config: Config) -> Settings {
        Settings { config, templates: self.templates.clone(), rules: self.rules.clone(), ..Settings::default() }
    }

    /// Read the config file (`--config` or the default) and build the settings over it.
    pub fn load_settings(&self) -> Result<Settings, Error> {
        Ok(self.settings(Config::load(self.config.as_deref())?))
    }
}

/// [`Session::open`], with a missing template store or rule folder explained in terms of the options.
pub fn open_session(settings: &Settings) -> Result<Session, Error> {
    template_folder(settings)?;
    if !settings.always && settings.rules_dir().is_none() {
        // The store and the template first, as Session::open takes them, so their errors come first.
        let store = settings.template_store()?;
        if let Some(id) = settings.template_id() {
            store.get(id)?;
        }
        return Err(no_rule_folder(", or use --always"));
    }
    Session::open(settings)
}

/// [`Settings::load_rules`], with a missing rule folder explained in terms of the options; the rules' warnings are
/// counted on stderr.
pub fn load_rules(settings: &Settings) -> Result<(PathBuf, LoadedRules), Error> {
    rule_folder(settings)?;
    let (dir, loaded) = settings.load_rules()?;
    if !loaded.warnings.is_empty() {
        eprintln!(
            "fci-connector: {} warning(s) in the rules in {} (see `fci-connector rules check`)",
            loaded.warnings.len(),
            dir.display()
        );
    }
    Ok((dir, loaded))
}

/// [`Settings::templates_dir`], or an error saying how to name one.
pub fn template_folder(settings: &Settings) -> Result<PathBuf, Error> {
    settings.templates_dir().ok_or_else(|| {
        Error::new(
            ExitClass::Config,
            format!(
                "no template store: give --templates <DIR> or put a {}/ folder beside the executable",
                crate::locate::TEMPLATES_DIR
            ),
        )
    })
}

/// [`Settings::rules_dir`], or an error saying how to name one.
pub fn rule_folder(settings: &Settings) -> Result<PathBuf, Error> {
    settings.rules_dir().ok_or_else(|| no_rule_folder(""))
}

fn no_rule_folder(or: &str) -> Error {
    Error::new(
        ExitClass::Config,
        format!(
            "no rule folder: give --rules <DIR>, set rules in the config file, or put {}/ beside the executable{or}",
            crate::locate::RULES_DIR
        ),
    )
}

/// Options of runs over whole folders (`protect --recurse`, `classify --recurse`).
#[derive(Args, Debug, Clone, Default)]
pub struct FolderArgs {
    /// Process every file under the folders given, in parallel
    #[arg(long, short = 'r')]
    pub recurse: bool,
    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub jobs: usize,
    /// With --recurse: skip files matching this glob (relative path or file name); repeatable
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// With --recurse: include hidden files (dot files; on Windows, hidden and system files)
    #[arg(long)]
    pub include_hidden: bool,
    /// Write a report of every file: .html, .csv or .json (never with matched values)
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,
    /// No progress bar and no per-file lines (the summary and failures still print)
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

impl FolderArgs {
    /// What the walk leaves out.
    pub fn walk_options(&self) -> crate::batch::walk::WalkOptions {
        crate::batch::walk::WalkOptions {
            exclude: self.exclude.clone(),
            include_hidden: self.include_hidden,
            ..Default::default()
        }
    }
}

/// Classify files on a file share and protect them in place.
#[derive(Parser, Debug)]
#[command(name = "fci-connector", version, about, after_help = top_level_after_help())]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Protect a file in place with a template's public keys
    Protect(protect::ProtectArgs),
    /// Show whether files are protected, and by what (needs no key)
    Status(status::StatusArgs),
    /// Decrypt a protected file with a recipient's private key, or in place through the licensing service
    Unprotect(unprotect::UnprotectArgs),
    /// Open a protected file through the licensing service with your own sign-in
    Open(open::OpenArgs),
    /// Sign in to the OpenID provider of reader.toml for `open`, `licenses`, `unprotect --online` and `status --check-access`
    Login(login::LoginArgs),
    /// Forget the stored sign-in
    Logout(login::LogoutArgs),
    /// Revoke, unrevoke and track content through the licensing service; the offline license cache
    #[command(subcommand)]
    Licenses(licenses::LicensesCommand),
    /// Generate RSA key pairs for templates
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// List, show and create rights policy templates
    #[command(subcommand)]
    Templates(templates::TemplatesCommand),
    /// Classify files with the rule set and show the decision, properties and matches (changes nothing)
    Classify(classify::ClassifyArgs),
    /// Check the rule files
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Protect new and modified files under folders as they settle (continuous mode for Linux/Samba servers)
    Watch(watch::WatchArgs),
    /// Run the licensing service (HTTPS) with its config file
    Serve(serve::ServeArgs),
    /// Show how a file is read: format, extraction, foreign protection, text (debugging)
    #[command(hide = true)]
    Inspect(inspect::InspectArgs),
}

/// After the commands in the top-level help: the FSRM form of `protect`, then the exit codes.
fn top_level_after_help() -> String {
    format!(
        "As an FSRM custom file management task, Microsoft's RMS-Protect-FCI.ps1 form (the same as `protect`; the \
         switches in any order, also -Always, -Dry-Run, -Strict-Exit, -Json and the global options):\n  \
         fci-connector -File '[Source File Path]' -TemplateID <GUID> -OwnerMail '[Source File Owner Email]'\n\n{}",
        exit_code_table()
    )
}

/// The exit codes as plain text, for `--help`: the skip codes say they need `--strict-exit`.
fn exit_code_table() -> String {
    let mut out = String::from("Exit codes:\n");
    for class in ExitClass::ALL {
        let strict = if class.is_strict_skip() { "with --strict-exit: " } else { "" };
        out.push_str(&format!("  {:>2}  {strict}{}\n", class.code(), class.meaning()));
    }
    out
}

/// Parse `args` (including the program name), run the command, print errors, and return the exit class.
pub fn run(args: Vec<OsString>) -> ExitClass {
    let raw = crate::platform::raw_command_line();
    let args = fsrm_args::rejoin_program(args, raw.as_ref());
    let parsed = if fsrm_args::is_legacy(&args) {
        fsrm_args::parse(&args, raw.as_ref())
            .map(|(global, protect)| Cli { global, command: Command::Protect(protect) })
    } else {
        match Cli::try_parse_from(&args) {
            Ok(cli) => Ok(cli),
            Err(err) => {
                let _ = err.print();
                return if err.use_stderr() { ExitClass::Usage } else { ExitClass::Success };
            }
        }
    };
    match parsed.and_then(dispatch) {
        Ok(class) => class,
        Err(err) => {
            report(&err);
            err.class()
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitClass, Error> {
    let global = cli.global;
    match cli.command {
        Command::Protect(args) => protect::run(&global, args),
        Command::Status(args) => status::run(&global, args),
        Command::Unprotect(args) => unprotect::run(&global, args),
        Command::Open(args) => open::run(&global, args),
        Command::Licenses(cmd) => licenses::run(&global, cmd),
        Command::Login(args) => login::run(args),
        Command::Logout(args) => login::logout(args),
        Command::Keys(cmd) => keys::run(&global, cmd),
        Command::Templates(cmd) => templates::run(&global, cmd),
        Command::Classify(args) => classify::run(&global, args),
        Command::Rules(cmd) => rules::run(&global, cmd),
        Command::Watch(args) => watch::run(&global, args),
        Command::Serve(args) => serve::run(&global, args),
        Command::Inspect(args) => inspect::run(&global, args),
    }
}

/// Append `record` to the invocation log, or say on stderr why not; logging never changes the outcome.
pub(crate) fn log_or_warn(
    dir: Option<&std::path::Path>,
    config: &crate::config::LogConfig,
    record: &crate::pipeline::LogRecord<'_>,
) {
    let Some(dir) = dir else {
        eprintln!("fci-connector: warning: no log folder (give --log-dir); this invocation is not logged");
        return;
    };
    if let Err(e) = log::append(dir, config, record) {
        eprintln!("fci-connector: warning: cannot write the log in {}: {e}", dir.display());
    }
}

/// Print a failure for a person: one line naming the file and the cause, and the exit code it gives.
pub fn report(err: &Error) {
    eprintln!("fci-connector: error: {} (exit {})", printable(&message(err)), err.class().code());
}

/// A library failure as the command line says it: where the library names a setting in plain words, the flag
/// that gives it (as rage's command line words age's errors).
pub fn message(err: &Error) -> std::borrow::Cow<'_, str> {
    err.message_naming(|setting| flag_for(setting).to_string())
}

/// The command line's words for a setting a library message names: the flag, or how to give it.
fn flag_for(setting: Setting) -> &'static str {
    match setting {
        Setting::KeyBits => "--bits",
        Setting::KeyName => "--name",
        Setting::Passphrase => "; give --passphrase-env <VAR>",
        Setting::TemplateStore => " (give --templates <DIR>)",
        Setting::Template => ": give --template <ID> (-TemplateID) or set default_template in the config",
        Setting::Exclude => "--exclude",
        Setting::Report => "--report",
        Setting::Samples => " (--samples)",
    }
}

/// `text` made safe to print on a terminal: control characters (newlines, tabs, ANSI escape sequences, C1 controls)
/// and the invisible characters that reorder or hide text (bidirectional overrides) are written as Rust escapes
/// (`\n`, `\u{1b}`), so a hostile file name or license field cannot forge output lines or drive the terminal.
/// Every place that prints a file name or a license field to a terminal goes through here; JSON output does not
/// (serde escapes it).
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Read a passphrase from the environment variable named by `--passphrase-env`.
pub fn passphrase_from_env(var: Option<&str>) -> Result<Option<zeroize::Zeroizing<String>>, Error> {
    let Some(var) = var else { return Ok(None) };
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Some(zeroize::Zeroizing::new(value))),
        Ok(_) => Err(Error::new(ExitClass::Usage, format!("--passphrase-env {var}: the variable is empty"))),
        Err(_) => Err(Error::new(
            ExitClass::Usage,
            format!("--passphrase-env {var}: the variable is not set (or not valid Unicode)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{message, printable};
    use crate::ExitClass;
    use crate::error::{Error, Setting};

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("plain name.txt"), "plain name.txt");
        assert_eq!(printable("C:\\Share\\été.docx"), "C:\\Share\\été.docx");
        assert_eq!(printable("a\nprotected: b\x1b[31m\r\t\u{9b}"), "a\\nprotected: b\\u{1b}[31m\\r\\t\\u{9b}");
        assert_eq!(printable("x\u{202e}fdp.exe"), "x\\u{202e}fdp.exe");
    }

    #[test]
    fn library_errors_name_settings_and_the_command_line_names_its_flags() {
        let dir = tempfile::tempdir().unwrap();
        let e = crate::protect::keys::generate(dir.path(), "k", 1024, None).unwrap_err();
        assert_eq!(e.message(), "key size 1024: 2048 to 16384 are accepted");
        assert_eq!(message(&e), "--bits 1024: 2048 to 16384 are accepted");
        let e = crate::batch::walk::files(
            &[],
            &crate::batch::walk::WalkOptions { exclude: vec!["[".into()], ..Default::default() },
        )
        .unwrap_err();
        assert!(e.message().starts_with("exclude pattern \"[\": "), "{}", e.message());
        assert!(message(&e).starts_with("--exclude \"[\": "), "{}", message(&e));
        // A prefix added on the way keeps the command line's wording.
        let e = Error::fixed_by(ExitClass::Usage, "no template", Setting::Template, ": give a template id")
            .context("x.docx");
        assert_eq!(e.message(), "x.docx: no template: give a template id");
        assert_eq!(
            message(&e),
            "x.docx: no template: give --template <ID> (-TemplateID) or set default_template in the config"
        );
        assert_eq!(message(&Error::new(ExitClass::Usage, "plain")), "plain");
    }
}
