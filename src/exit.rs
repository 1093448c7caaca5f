//! Exit codes: the one table the FSRM task scheduler, wrappers and admins act on.
//!
//! Every failure in the library carries an [`ExitClass`]; `main` turns it into the process exit code here and
//! nowhere else. docs/EXIT-CODES.md is the same table in prose.

/// What an invocation ended as, in the terms of docs/EXIT-CODES.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitClass {
    /// Done: protected, or deliberately left alone.
    Success,
    /// Any other failure: a bug.
    Internal,
    /// Bad or missing arguments.
    Usage,
    /// File not found, or not a regular file.
    NotFound,
    /// File busy or access denied; safe to retry, original untouched.
    Busy,
    /// Template unknown or unusable, or a key that cannot be used.
    Template,
    /// Configuration invalid: rule files, template store, config file.
    Config,
    /// Content unreadable: corrupt document, over the extraction limits, or a protected file that fails its
    /// integrity check.
    Unreadable,
    /// Write failed (disk full, I/O error); original untouched.
    Write,
    /// `rules test`: some samples were classified differently from the expected results.
    RulesTestFailed,
    /// `--strict-exit`: no rule matched.
    SkipNoMatch,
    /// `--strict-exit`: already protected by fci-connector.
    SkipAlreadyProtected,
    /// `--strict-exit`: protected by another product.
    SkipForeignProtection,
    /// `--strict-exit`: excluded file type.
    SkipExcluded,
    /// The file has more than one hard link: protecting one name would leave the plaintext readable through the
    /// others, so it is not protected. A failure, ranked above the skip codes.
    HardLinked,
}

impl ExitClass {
    /// Every class, in table order.
    pub const ALL: [ExitClass; 15] = [
        ExitClass::Success,
        ExitClass::Internal,
        ExitClass::Usage,
        ExitClass::NotFound,
        ExitClass::Busy,
        ExitClass::Template,
        ExitClass::Config,
        ExitClass::Unreadable,
        ExitClass::Write,
        ExitClass::RulesTestFailed,
        ExitClass::SkipNoMatch,
        ExitClass::SkipAlreadyProtected,
        ExitClass::SkipForeignProtection,
        ExitClass::SkipExcluded,
        ExitClass::HardLinked,
    ];

    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            ExitClass::Success => 0,
            ExitClass::Internal => 1,
            ExitClass::Usage => 2,
            ExitClass::NotFound => 3,
            ExitClass::Busy => 4,
            ExitClass::Template => 5,
            ExitClass::Config => 6,
            ExitClass::Unreadable => 7,
            ExitClass::Write => 8,
            ExitClass::RulesTestFailed => 9,
            ExitClass::SkipNoMatch => 10,
            ExitClass::SkipAlreadyProtected => 11,
            ExitClass::SkipForeignProtection => 12,
            ExitClass::SkipExcluded => 13,
            ExitClass::HardLinked => 14,
        }
    }

    /// One line for `--help` and the docs.
    pub const fn meaning(self) -> &'static str {
        match self {
            ExitClass::Success => {
                "done: protected, or deliberately left alone (no rule matched, already protected, protected by another product, excluded type)"
            }
            ExitClass::Internal => "any other failure (a bug)",
            ExitClass::Usage => "usage: bad or missing arguments",
            ExitClass::NotFound => "file not found, not a regular file, or a folder on its way is a symbolic link",
            ExitClass::Busy => "file busy or access denied; safe to retry, original untouched",
            ExitClass::Template => "template unknown or unusable (missing or invalid key)",
            ExitClass::Config => "configuration invalid (rule files, template store, config file)",
            ExitClass::Unreadable => {
                "content unreadable (corrupt document, over the extraction limits, failed integrity check); left as it was"
            }
            ExitClass::Write => "write failed (disk full, I/O error); original untouched",
            ExitClass::RulesTestFailed => "rules test: samples classified differently from the expected results",
            ExitClass::SkipNoMatch => "with --strict-exit: no rule matched",
            ExitClass::SkipAlreadyProtected => "with --strict-exit: already protected by fci-connector",
            ExitClass::SkipForeignProtection => "with --strict-exit: protected by another product",
            ExitClass::SkipExcluded => "with --strict-exit: excluded file type",
            ExitClass::HardLinked => {
                "not protected: the file has more than one hard link (its other names would keep the plaintext)"
            }
        }
    }

    /// The table as plain text, for `--help`.
    pub fn help_table() -> String {
        let mut out = String::from("Exit codes:\n");
        for class in Self::ALL {
            out.push_str(&format!("  {:>2}  {}\n", class.code(), class.meaning()));
        }
        out
    }
}
