//! `keys generate`: new RSA key pairs for templates.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{GlobalOptions, passphrase_from_env};
use crate::protect::keys;
use crate::{Error, ExitClass};

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Write a new RSA key pair: NAME.pub.pem (public, for templates) and NAME.key.pem (private, for the key holder)
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Base name of the two files
    #[arg(long)]
    pub name: String,
    /// Folder to write them to
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Modulus size (at least 2048)
    #[arg(long, default_value_t = 3072)]
    pub bits: usize,
    /// Encrypt the private key (PKCS#8 PBES2) with the passphrase held in this environment variable
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

pub fn run(_global: &GlobalOptions, cmd: KeysCommand) -> Result<ExitClass, Error> {
    match cmd {
        KeysCommand::Generate(args) => {
            let passphrase = passphrase_from_env(args.passphrase_env.as_deref())?;
            let pair = keys::generate(&args.out, &args.name, args.bits, passphrase.as_deref().map(|p| p.as_bytes()))?;
            println!("public key:  {}", pair.public.display());
            println!(
                "private key: {}{}",
                pair.private.display(),
                if passphrase.is_some() { " (passphrase-encrypted)" } else { "" }
            );
            println!("key id:      {}", pair.id);
            Ok(ExitClass::Success)
        }
    }
}
