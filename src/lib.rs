//! fci-connector: classify files on a file share and protect them in place, one process per file, as a File
//! Server Resource Manager (FSRM) custom file management task, or over whole folders.
//!
//! The modules follow the path a file travels:
//!
//! 1. arguments: [`cli`] (the commands) and [`cli::fsrm_args`] (the argument line FSRM builds for Microsoft's
//!    RMS-Protect-FCI.ps1); [`config`] and [`locate`] (where templates, rules and logs are, with no environment or
//!    user profile needed);
//! 2. [`extract`]: text out of the file, streamed;
//! 3. [`classify`]: FSRM-style rules and Purview sensitive-information types over that text;
//! 4. [`pipeline`]: a run's settings and session, and per file the cheap checks, the classification and the
//!    policy, in order, with a reason for every outcome;
//! 5. [`protect`]: the container format ([`protect::container`]), RSA keys ([`protect::keys`]), rights policy
//!    templates ([`protect::templates`]) and the crash-safe in-place rewrite ([`protect::inplace`]);
//! 6. [`exit`], [`error`] and [`log`]: every outcome mapped to one documented exit code and one log line.
//!
//! The reader ([`reader`]) opens protected files through the licensing service ([`licensing`] is the protocol both
//! ends share).
//!
//! [`platform`] holds what differs between Windows and Unix; [`xml`] the small XML reader for templates and
//! licenses. `main.rs` only hands the arguments to [`cli::run`] and exits with the code it returns.

pub mod batch;
pub mod classify;
pub mod cli;
pub mod config;
pub mod detect;
pub mod error;
pub mod exit;
pub mod extract;
pub mod licensing;
pub mod locate;
pub mod log;
pub mod pipeline;
pub mod platform;
pub mod preflight;
pub mod protect;
pub mod reader;
pub mod service;
pub mod watch;
pub mod xml;

pub use error::{Error, Result};
pub use exit::ExitClass;
