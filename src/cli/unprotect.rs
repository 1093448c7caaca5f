//! `unprotect`: decrypt a protected file with a key holder's private key, or in place through the licensing service
//! for a user the service grants EXTRACT or OWNER (`--online`, `--server`).

use std::path::PathBuf;

use clap::Args;

use super::open::SignInArgs;
use super::{GlobalOptions, passphrase_from_env};
use crate::protect::keys::HolderKey;
use crate::protect::{self, UnprotectTarget};
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct UnprotectArgs {
    /// The protected file
    pub file: PathBuf,
    /// Private key of a recipient (the template's issuer or a recovery key), PKCS#8 PEM
    #[arg(long, value_name = "PRIVATE.pem", conflicts_with_all = ["online", "server"], required_unless_present_any = ["online", "server"])]
    pub key: Option<PathBuf>,
    /// Through the licensing service the file's license names (if trusted) or default_server, with your own
    /// sign-in: in place, for a user granted EXTRACT or OWNER
    #[arg(long)]
    pub online: bool,
    /// Write the plaintext here instead of replacing the protected file (must not exist; with --key)
    #[arg(long, value_name = "PATH", conflicts_with_all = ["online", "server"])]
    pub output: Option<PathBuf>,
    /// The private key's passphrase is in this environment variable
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    #[command(flatten)]
    pub sign_in: SignInArgs,
}

pub fn run(_global: &GlobalOptions, args: UnprotectArgs) -> Result<ExitClass, Error> {
    let Some(key) = &args.key else { return run_online(&args) };
    let passphrase = passphrase_from_env(args.passphrase_env.as_deref())?;
    let holder = HolderKey::read(key, passphrase.as_deref().map(|p| p.as_bytes()))?;
    let target = match &args.output {
        Some(out) => UnprotectTarget::NewFile(out),
        None => UnprotectTarget::InPlace,
    };
    let (license, warnings) = protect::unprotect_file(&args.file, &holder, target)?;
    for w in &warnings {
        eprintln!("fci-connector: warning: {w}");
    }
    let dest = args.output.as_ref().unwrap_or(&args.file);
    println!(
        "unprotected: {} ({} bytes, template {} {})",
        super::printable(&dest.display().to_string()),
        license.original_size,
        super::printable(&license.template_name),
        license.template_id
    );
    Ok(ExitClass::Success)
}

/// In place through the service.
fn run_online(args: &UnprotectArgs) -> Result<ExitClass, Error> {
    let reader = args.sign_in.reader(true)?;
    let opened = reader.unprotect_in_place(&args.file)?;
    for w in opened.granted.warnings.iter().chain(&opened.warnings) {
        eprintln!("fci-connector: warning: {}", super::printable(w));
    }
    println!(
        "unprotected: {} ({} bytes, template {} {}; {} for {})",
        super::printable(&args.file.display().to_string()),
        opened.bytes,
        super::printable(&opened.license.template_name),
        opened.license.template_id,
        opened.granted.claims.rights.join(","),
        super::printable(&opened.granted.claims.sub)
    );
    Ok(ExitClass::Success)
}
