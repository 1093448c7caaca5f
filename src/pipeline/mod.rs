//! The pipeline one file travels, as a library the command line, `watch` and (later) the service build on:
//!
//! - [`Settings`]: what a run asks for, as plain data (the command line builds it from its options and the config
//!   file); the rule folder, template store and template id are worked out there and nowhere else;
//! - [`Session`]: the run set up once from its settings (template store, template, rule set), handing them out;
//! - [`verdict`]: one file through the cheap checks, the classification and the policy, with a reason for every
//!   outcome; the same answer to "protect, skip or error?" for `protect`, `classify`, `watch` and `rules test`.

pub mod session;
pub mod settings;
pub mod verdict;

pub use session::Session;
pub use settings::Settings;
pub use verdict::{Action, Outcome, Request, SkipReason};
