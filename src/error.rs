//! The library's error type: what went wrong, with which file, and which exit class it maps to. A failure a
//! setting would fix says which ([`Setting`]) in plain words; the library never names a command-line flag, the
//! command line puts its own name for the setting in when it reports the error ([`Error::message_naming`]).

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
    setting: Option<Named>,
}

/// A setting of a run that the person running it gave, or can give, to fix a failure. The library calls each by
/// [`Setting::words`]; a front end by its own name (the command line: its flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// The size of a new RSA key, in bits.
    KeyBits,
    /// The file name of a new key pair.
    KeyName,
    /// Where the passphrase of an encrypted private key comes from.
    Passphrase,
    /// The template store folder.
    TemplateStore,
    /// The template to protect with, when no rule's policy names one.
    Template,
    /// A glob of files a folder run or watch leaves out.
    Exclude,
    /// The report file of a folder run.
    Report,
    /// The folder of samples `rules test` classifies.
    Samples,
}

impl Setting {
    /// The setting in the library's plain words.
    pub const fn words(self) -> &'static str {
        match self {
            Setting::KeyBits => "key size",
            Setting::KeyName => "key name",
            Setting::Passphrase => "its passphrase",
            Setting::TemplateStore => "the template store folder",
            Setting::Template => "a template id",
            Setting::Exclude => "exclude pattern",
            Setting::Report => "report",
            Setting::Samples => "the samples folder",
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A message that names a setting: `head`, the setting's name, `tail`.
#[derive(Debug)]
struct Named {
    setting: Setting,
    head: String,
    tail: String,
}

impl Error {
    /// A failure of `class` with a message that already names what it concerns.
    pub fn new(class: ExitClass, message: impl Into<String>) -> Self {
        Error { class, message: message.into(), source: None, setting: None }
    }

    /// Attach the underlying error (kept for `{:?}` and logs; the message stays the admin-facing text).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// A failure about the value of `setting`: the setting's name, then `detail` (e.g. `" 1024: 2048 to 16384 are
    /// accepted"` for [`Setting::KeyBits`]).
    pub fn about(class: ExitClass, setting: Setting, detail: impl Into<String>) -> Self {
        Error::naming(class, String::new(), setting, setting.words(), detail.into())
    }

    /// A failure that giving `setting` fixes: `detail`, then `remedy`, the library's words for how (mentioning
    /// [`Setting::words`]); a front end replaces `remedy` with its own.
    pub fn fixed_by(class: ExitClass, detail: impl Into<String>, setting: Setting, remedy: &str) -> Self {
        Error::naming(class, detail.into(), setting, remedy, String::new())
    }

    fn naming(class: ExitClass, head: String, setting: Setting, words: &str, tail: String) -> Self {
        let mut e = Error::new(class, format!("{head}{words}{tail}"));
        e.setting = Some(Named { setting, head, tail });
        e
    }

    /// The setting the message names, if any.
    pub fn setting(&self) -> Option<Setting> {
        self.setting.as_ref().map(|n| n.setting)
    }

    /// The message with a front end's name for its setting: `name(setting)` stands where the library's words for
    /// it are (the setting's name for [`Error::about`], the remedy for [`Error::fixed_by`]).
    pub fn message_naming(&self, name: impl Fn(Setting) -> String) -> std::borrow::Cow<'_, str> {
        match &self.setting {
            Some(n) => format!("{}{}{}", n.head, name(n.setting), n.tail).into(),
            None => self.message.as_str().into(),
        }
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
        if let Some(named) = self.setting.as_mut() {
            named.head = format!("{prefix}: {}", named.head);
        }
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
