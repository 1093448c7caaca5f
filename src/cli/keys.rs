//! `keys generate`.
use clap::{Args, Subcommand};

use super::GlobalOptions;
use crate::{Error, ExitClass};

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Write a new RSA key pair: NAME.pub.pem (public) and NAME.key.pem (private)
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {}

pub fn run(_global: &GlobalOptions, _cmd: KeysCommand) -> Result<ExitClass, Error> {
    Err(Error::new(ExitClass::Internal, "keys: not built yet"))
}
