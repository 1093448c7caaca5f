//! `open`: decrypt a protected file through the licensing service with the user's own sign-in; and the sign-in
//! options that `open`, `licenses`, `unprotect --online` and `status --check-access` share.

use std::path::PathBuf;

use clap::Args;

use super::{GlobalOptions, printable};
use crate::reader::cache::Cache;
use crate::reader::client::{SignIn, TokenSource};
use crate::reader::config::{self, ReaderConfig};
use crate::reader::launch::{Kept, LaunchSettings};
use crate::reader::open::{Reader, ServerChoice};
use crate::reader::trust::ServiceUrl;
use crate::{Error, ExitClass};

const SIGN_IN: &str = "Licensing service and sign-in";

/// Which licensing service, and how to sign in to it.
#[derive(Args, Debug, Clone, Default)]
pub struct SignInArgs {
    /// The licensing service to ask (trusted for this call) [default: the file's licensing URL if trusted, else
    /// default_server of reader.toml]
    #[arg(long, value_name = "URL", help_heading = SIGN_IN)]
    pub server: Option<String>,
    /// A file holding a bearer token (read again for every request)
    #[arg(long, value_name = "FILE", help_heading = SIGN_IN, conflicts_with = "token_env")]
    pub token_file: Option<PathBuf>,
    /// An environment variable holding a bearer token
    #[arg(long, value_name = "VAR", help_heading = SIGN_IN)]
    pub token_env: Option<String>,
    /// Client certificate (chain), PEM, for certificate sign-in
    #[arg(long, value_name = "CERT.pem", help_heading = SIGN_IN, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key, PEM (unencrypted)
    #[arg(long, value_name = "KEY.pem", help_heading = SIGN_IN, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Extra trust anchors (PEM) for a service whose certificate comes from a private CA; added to the system's
    #[arg(long, value_name = "CA.pem", help_heading = SIGN_IN)]
    pub ca_file: Option<PathBuf>,
    /// Reader settings file [default: reader.toml in /etc/fci-connector/ (Windows: %ProgramData%\FciConnector\),
    /// then in $XDG_CONFIG_HOME/fci-connector/ (Windows: %APPDATA%\FciConnector\)]
    #[arg(long, value_name = "FILE", help_heading = SIGN_IN)]
    pub reader_config: Option<PathBuf>,
}

impl SignInArgs {
    /// reader.toml: the file given, or machine-wide then per user.
    pub fn config(&self) -> Result<ReaderConfig, Error> {
        let machine = crate::platform::reader_machine_dir().map(|d| d.join(config::FILE_NAME));
        let user = crate::platform::reader_user_dir().map(|d| d.join(config::FILE_NAME));
        Ok(ReaderConfig::load(self.reader_config.as_deref(), machine.as_deref(), user.as_deref())?)
    }

    /// The reader for this call; `offline_cache`: use the user's offline cache.
    pub fn reader(&self, offline_cache: bool) -> Result<Reader, Error> {
        let config = self.config()?;
        let named = self
            .server
            .as_deref()
            .map(ServiceUrl::parse)
            .transpose()
            .map_err(|e| Error::new(ExitClass::Usage, format!("--server: {e}")))?;
        let token = match (&self.token_file, &self.token_env) {
            (Some(file), _) => Some(TokenSource::File(file.clone())),
            (None, Some(var)) => Some(TokenSource::Env(var.clone())),
            (None, None) => None,
        };
        let client_cert = self.client_cert.clone().zip(self.client_key.clone());
        let ca_file = self.ca_file.clone().or(config.ca_file.clone());
        // Neither a token nor a certificate given: the stored sign-in of `login`, if any.
        let token = match token {
            None if client_cert.is_none() => super::login::signed_in(&config, ca_file.clone()),
            given => given,
        };
        let sign_in = SignIn { token, client_cert, ca_file };
        if !sign_in.is_given() {
            return Err(Error::new(
                ExitClass::SignInNeeded,
                "no sign-in: sign in with `fci-connector login`, or give --token-file <FILE>, --token-env <VAR>, or \
                 --client-cert <CERT.pem> with --client-key <KEY.pem>",
            ));
        }
        let cache = if offline_cache { user_cache().ok() } else { None };
        Ok(Reader { choice: ServerChoice::new(&config, named), sign_in, cache })
    }
}

/// The signed-in user's offline cache.
pub fn user_cache() -> Result<Cache, Error> {
    let dir = crate::platform::reader_cache_dir().ok_or_else(|| {
        Error::new(
            ExitClass::Config,
            "no folder for the offline license cache (no HOME, XDG_CACHE_HOME or LOCALAPPDATA)",
        )
    })?;
    Ok(Cache::open(&dir)?)
}

#[derive(Args, Debug)]
pub struct OpenArgs {
    /// The protected file
    pub file: PathBuf,
    /// Write the plaintext here (must not exist)
    #[arg(long, value_name = "PATH", required_unless_present = "launch", conflicts_with = "launch")]
    pub output: Option<PathBuf>,
    /// Open a private copy in the default application, wait until it is closed, keep an edit (with EDIT), wipe the
    /// copy
    #[arg(long)]
    pub launch: bool,
    #[command(flatten)]
    pub sign_in: SignInArgs,
}

pub fn run(_global: &GlobalOptions, args: OpenArgs) -> Result<ExitClass, Error> {
    let reader = args.sign_in.reader(true)?;
    let Some(output) = &args.output else { return launch(&reader, &args.file) };
    // Copies an earlier `open --launch` left (a crash) are wiped by every open.
    if let Some(folder) = crate::platform::reader_launch_dir() {
        report_swept(crate::reader::launch::sweep(&folder));
    }
    let opened = reader.open_to(&args.file, output)?;
    for w in opened.granted.warnings.iter().chain(&opened.warnings) {
        eprintln!("fci-connector: warning: {}", printable(w));
    }
    println!(
        "opened: {} -> {} ({} bytes; {} for {}{})",
        printable(&args.file.display().to_string()),
        printable(&output.display().to_string()),
        opened.bytes,
        opened.granted.claims.rights.join(","),
        printable(&opened.granted.claims.sub),
        if opened.granted.offline { ", from the offline cache: the service could not be reached" } else { "" }
    );
    Ok(ExitClass::Success)
}

/// `open --launch`: the copy in the user's application; exit 15 when an edit could not be kept for want of EDIT.
fn launch(reader: &Reader, file: &std::path::Path) -> Result<ExitClass, Error> {
    let folder = crate::platform::reader_launch_dir().ok_or_else(|| {
        Error::new(ExitClass::Config, "no folder for the decrypted copy (no HOME, XDG_CACHE_HOME or LOCALAPPDATA)")
    })?;
    let settings = LaunchSettings { folder, program: crate::reader::test_launcher() };
    let shown = printable(&file.display().to_string()).into_owned();
    let launched = reader.open_launched(file, &settings, |copy| {
        eprintln!(
            "fci-connector: {shown} is open as {}; waiting until the application has closed it (the copy is wiped then)",
            printable(&copy.display().to_string())
        );
    })?;
    report_swept((launched.swept, Vec::new()));
    for w in launched.granted.warnings.iter().chain(&launched.warnings) {
        eprintln!("fci-connector: warning: {}", printable(w));
    }
    let rights = launched.granted.claims.rights.join(",");
    let who = printable(&launched.granted.claims.sub).into_owned();
    match launched.kept {
        Kept::Unchanged => {
            println!("closed: {shown} (not changed; {rights} for {who}); the copy is wiped");
            Ok(ExitClass::Success)
        }
        Kept::Reprotected { bytes } => {
            println!(
                "saved: {shown} protected again with your changes ({bytes} bytes; {rights} for {who}); the copy is wiped"
            );
            Ok(ExitClass::Success)
        }
        Kept::NotAllowed => {
            eprintln!(
                "fci-connector: {shown}: your changes were not kept: saving needs EDIT or OWNER, and the service grants \
                 {who} {rights}; the file is as it was and the copy is wiped"
            );
            Ok(ExitClass::NotGranted)
        }
    }
}

/// Tell what [`crate::reader::launch::sweep`] wiped, and what it could not.
fn report_swept((wiped, warnings): (usize, Vec<String>)) {
    if wiped > 0 {
        eprintln!("fci-connector: wiped {wiped} decrypted copies left by an earlier open --launch");
    }
    for w in &warnings {
        eprintln!("fci-connector: warning: {}", printable(w));
    }
}

/// One file's answer to `status --check-access`.
#[derive(Debug, Default, serde::Serialize)]
pub struct AccessLine {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub access: Option<crate::licensing::api::AccessAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
}

/// `status --check-access`: the signed-in user's rights on each file, one JSON object per line; the most severe
/// outcome is the exit code.
pub fn check_access(files: &[PathBuf], sign_in: &SignInArgs) -> Result<ExitClass, Error> {
    let reader = sign_in.reader(false)?;
    let mut worst = ExitClass::Success;
    for file in files {
        let mut line = AccessLine { path: file.display().to_string(), ..Default::default() };
        match reader.check_access(file) {
            Ok((server, answer)) => {
                line.server = Some(server);
                line.access = Some(answer);
            }
            Err(e) => {
                worst = worst.worst(e.class());
                line.error = Some(super::message(&e).into_owned());
                line.exit_code = Some(e.class().code());
            }
        }
        println!("{}", serde_json::to_string(&line).unwrap_or_default());
    }
    Ok(worst)
}
