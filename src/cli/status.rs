//! `status`.
use clap::Args;

use super::GlobalOptions;
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct StatusArgs {}

pub fn run(_global: &GlobalOptions, _args: StatusArgs) -> Result<ExitClass, Error> {
    Err(Error::new(ExitClass::Internal, "status: not built yet"))
}
