//! The library's error type: what went wrong, with which file, and which exit class it maps to.

use std::io;
use std::path::Path;

use crate::exit::ExitClass;

/// A failure, already phrased for an administrator: it names the file and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    class: ExitClass,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failure of `class` with a message that already names what it concerns.
    pub fn new(class: ExitClass, message: impl Into<String>) -> Self {
        Error { class, message: message.into(), source: None }
    }

    /// Attach the underlying error (kept for `{:?}` and logs; the message stays the admin-facing text).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// An I/O failure on `path` while `doing` something, classified by the kind of I/O error: missing files are
    /// [`ExitClass::NotFound`], sharing and permission problems [`ExitClass::Busy`], the rest `fallback`.
    pub fn io(doing: &str, path: &Path, err: io::Error, fallback: ExitClass) -> Self {
        let class = io_class(&err, fallback);
        Error::new(class, format!("{doing} {}: {}", path.display(), describe_io(&err))).with_source(err)
    }

    /// The exit class this failure maps to.
    pub fn class(&self) -> ExitClass {
        self.class
    }

    /// The admin-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefix the message with context, keeping the class.
    pub fn context(mut self, prefix: impl std::fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

/// Map an I/O error to an exit class.
pub fn io_class(err: &io::Error, fallback: ExitClass) -> ExitClass {
    match err.kind() {
        io::ErrorKind::NotFound => ExitClass::NotFound,
        io::ErrorKind::PermissionDenied | io::ErrorKind::ResourceBusy | io::ErrorKind::WouldBlock => ExitClass::Busy,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge => ExitClass::Write,
        _ if crate::platform::is_sharing_violation(err) => ExitClass::Busy,
        _ => fallback,
    }
}

/// The I/O error's text without Rust's "(os error N)" noise where a plainer phrase exists.
fn describe_io(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "no such file or folder".into(),
        io::ErrorKind::PermissionDenied => "access denied".into(),
        io::ErrorKind::StorageFull => "no space left on the device".into(),
        io::ErrorKind::FileTooLarge => "file too large for the file system or the process limits".into(),
        _ if crate::platform::is_sharing_violation(err) => "the file is in use by another process".into(),
        _ => err.to_string(),
    }
}
