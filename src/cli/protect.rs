//! `protect`.
use clap::Args;

use super::GlobalOptions;
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct ProtectArgs {}

pub fn run(_global: &GlobalOptions, _args: ProtectArgs) -> Result<ExitClass, Error> {
    Err(Error::new(ExitClass::Internal, "protect: not built yet"))
}
