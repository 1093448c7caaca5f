//! `templates list|show|create`.
use clap::Subcommand;

use super::GlobalOptions;
use crate::{Error, ExitClass};

#[derive(Subcommand, Debug)]
pub enum TemplatesCommand {
    /// List the templates in the store
    List,
}

pub fn run(_global: &GlobalOptions, _cmd: TemplatesCommand) -> Result<ExitClass, Error> {
    Err(Error::new(ExitClass::Internal, "templates: not built yet"))
}
