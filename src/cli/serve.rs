//! `serve`: run the licensing service with its config file (docs/SERVICE.md).

use std::path::PathBuf;

use clap::Args;

use super::GlobalOptions;
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The service's config file (TOML; docs/SERVICE.md)
    #[arg(value_name = "SERVICE.toml")]
    pub config: PathBuf,
}

pub fn run(_global: &GlobalOptions, args: ServeArgs) -> Result<ExitClass, Error> {
    crate::service::run(&args.config)?;
    Ok(ExitClass::Success)
}
