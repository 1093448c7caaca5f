//! `unprotect`.
use clap::Args;

use super::GlobalOptions;
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct UnprotectArgs {}

pub fn run(_global: &GlobalOptions, _args: UnprotectArgs) -> Result<ExitClass, Error> {
    Err(Error::new(ExitClass::Internal, "unprotect: not built yet"))
}
