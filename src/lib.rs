//! fci-connector: classify files on a file share and protect them in place, one process per file, as a File
//! Server Resource Manager (FSRM) custom file management task, or over whole folders.
//!
//! The modules follow the path a file travels:
//!
//! 1. [`locate`]: where the template store, rule folder, config and logs are (no environment or profile needed);
//! 2. [`protect`]: the protected-file container ([`protect::container`]), RSA keys ([`protect::keys`]), rights
//!    policy templates ([`protect::templates`]) and the crash-safe in-place swap ([`protect::inplace`]);
//! 3. [`exit`] and [`error`]: every outcome mapped to one documented exit code.
//!
//! `main.rs` only parses arguments ([`cli`]) and maps the outcome to an exit code.

pub mod cli;
pub mod detect;
pub mod error;
pub mod exit;
pub mod extract;
pub mod locate;
pub mod protect;

pub use error::{Error, Result};
pub use exit::ExitClass;
