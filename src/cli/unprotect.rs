//! `unprotect`: decrypt a protected file with a key holder's private key.

use std::path::PathBuf;

use clap::Args;

use super::{GlobalOptions, passphrase_from_env};
use crate::protect::keys::HolderKey;
use crate::protect::{self, UnprotectTarget};
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct UnprotectArgs {
    /// The protected file
    pub file: PathBuf,
    /// Private key of a recipient (the template's issuer or a recovery key), PKCS#8 PEM
    #[arg(long, value_name = "PRIVATE.pem")]
    pub key: PathBuf,
    /// Write the plaintext here instead of replacing the protected file (must not exist)
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// The private key's passphrase is in this environment variable
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

pub fn run(_global: &GlobalOptions, args: UnprotectArgs) -> Result<ExitClass, Error> {
    let passphrase = passphrase_from_env(args.passphrase_env.as_deref())?;
    let holder = HolderKey::read(&args.key, passphrase.as_deref().map(|p| p.as_bytes()))?;
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
