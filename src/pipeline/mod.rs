//! The pipeline one file travels, as a library the command line, `watch` and (later) the service build on:
//!
//! - [`Settings`]: what a run asks for, as plain data (the command line builds it from its options and the config
//!   file); the rule folder, template store and template id are worked out there and nowhere else;
//! - [`Session`]: the run set up once from its settings (template store, template, rule set), handing them out;
//! - [`verdict`]: one file through the cheap checks, the classification and the policy, with a reason for every
//!   outcome; the same answer to "protect, skip or error?" for `protect`, `classify`, `watch` and `rules test`;
//! - [`FileResult`]: one file's result, typed; the log line, the reports and the console are views of it.

pub mod result;
pub mod session;
pub mod settings;
pub mod verdict;

pub use result::{ActionKind, Decision, FileResult, Invocation, LogRecord, VerdictKind};
pub use session::Session;
pub use settings::Settings;
pub use verdict::{Action, Outcome, Request, SkipReason};
