//! `serve`: run the licensing service with its config file (docs/SERVICE.md), in a console or as a Windows
//! service (`--windows-service`, the command line `Install-FciLicensingService.ps1` registers).

use std::path::PathBuf;

use clap::Args;

use super::GlobalOptions;
use crate::{Error, ExitClass};

/// The Windows service's name (fci-scripts/Install-FciLicensingService.ps1 registers it under this name).
pub const WINDOWS_SERVICE_NAME: &str = "FciLicensing";

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The service's config file (TOML; docs/SERVICE.md)
    #[arg(value_name = "SERVICE.toml")]
    pub config: PathBuf,
    /// Run as the Windows service the Service Control Manager starts (Install-FciLicensingService.ps1 registers
    /// it); logs go to the config file's name with .log beside it, failures also to the Application event log
    #[arg(long)]
    pub windows_service: bool,
}

pub fn run(_global: &GlobalOptions, args: ServeArgs) -> Result<ExitClass, Error> {
    if !args.windows_service {
        crate::service::run(&args.config)?;
        return Ok(ExitClass::Success);
    }
    // The SCM starts services in the system folder: the config's own path must not depend on it.
    let config = std::path::absolute(&args.config)
        .map_err(|e| Error::io("cannot resolve the config file", &args.config, e, ExitClass::Config))?;
    let body = Box::new(move || {
        let log = crate::service::log_file_for(&config);
        match crate::service::run_logging_to(&config, Some(&log)) {
            Ok(()) => 0,
            Err(err) => {
                let message = format!("{WINDOWS_SERVICE_NAME}: {} (exit {})", super::message(&err), err.class().code());
                tracing::error!(problem = %message, "the licensing service stopped");
                crate::platform::report_failure_event(&message);
                err.class().code()
            }
        }
    });
    match crate::platform::run_service(WINDOWS_SERVICE_NAME, body) {
        Ok(0) => Ok(ExitClass::Success),
        Ok(code) => Ok(ExitClass::from_code(code).unwrap_or(ExitClass::Internal)),
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
            Err(Error::new(ExitClass::Usage, "--windows-service: Windows services exist only on Windows"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotConnected => Err(Error::new(
            ExitClass::Usage,
            "--windows-service: only the Service Control Manager starts the service this way (install it with \
             Install-FciLicensingService.ps1); in a console, run serve without --windows-service",
        )),
        Err(e) => Err(Error::new(ExitClass::Internal, format!("cannot run as a Windows service: {e}"))),
    }
}
