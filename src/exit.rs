//! Exit codes: the one table the FSRM task scheduler, wrappers and admins act on.
//!
//! Every failure in the library carries an [`ExitClass`]; `main` turns it into the process exit code here and
//! nowhere else. docs/EXIT-CODES.md is the same table in prose.

/// What an invocation ended as, in the terms of docs/EXIT-CODES.md.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitClass {
    /// Done: protected, or deliberately left alone.
    #[default]
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
    /// The licensing service refused: the signed-in user has no right on this content (or, for revoke and
    /// tracking, is neither its owner nor an admin).
    NotGranted,
    /// The licensing service refused: the owner or an admin revoked this content.
    Revoked,
    /// The licensing service refused: the content has passed its expiry (`ValidUntil`).
    Expired,
    /// The licensing service could not be reached and no valid offline license is cached.
    ServiceUnreachable,
    /// Sign-in needed: no token or certificate, one the service refused, or a licensing service the reader does
    /// not trust (no credential is sent to it).
    SignInNeeded,
}

impl ExitClass {
    /// Every class, in table order.
    pub const ALL: [ExitClass; 20] = [
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
        ExitClass::NotGranted,
        ExitClass::Revoked,
        ExitClass::Expired,
        ExitClass::ServiceUnreachable,
        ExitClass::SignInNeeded,
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
            ExitClass::NotGranted => 15,
            ExitClass::Revoked => 16,
            ExitClass::Expired => 17,
            ExitClass::ServiceUnreachable => 18,
            ExitClass::SignInNeeded => 19,
        }
    }

    /// The class of a process exit code, if it is one of the table's.
    pub const fn from_code(code: u8) -> Option<ExitClass> {
        Some(match code {
            0 => ExitClass::Success,
            1 => ExitClass::Internal,
            2 => ExitClass::Usage,
            3 => ExitClass::NotFound,
            4 => ExitClass::Busy,
            5 => ExitClass::Template,
            6 => ExitClass::Config,
            7 => ExitClass::Unreadable,
            8 => ExitClass::Write,
            9 => ExitClass::RulesTestFailed,
            10 => ExitClass::SkipNoMatch,
            11 => ExitClass::SkipAlreadyProtected,
            12 => ExitClass::SkipForeignProtection,
            13 => ExitClass::SkipExcluded,
            14 => ExitClass::HardLinked,
            15 => ExitClass::NotGranted,
            16 => ExitClass::Revoked,
            17 => ExitClass::Expired,
            18 => ExitClass::ServiceUnreachable,
            19 => ExitClass::SignInNeeded,
            _ => return None,
        })
    }

    /// How bad the outcome is, for the one exit code of a run over many files (docs/EXIT-CODES.md, "Folders"):
    /// success lowest, then the `--strict-exit` skips, then every failure, whatever their numbers (a hard-linked
    /// file, 14, and the reader's outcomes, 15 to 19, are failures); among skips and among failures, the higher
    /// code.
    pub const fn severity(self) -> u16 {
        let code = self.code() as u16;
        match self {
            ExitClass::Success => 0,
            ExitClass::SkipNoMatch
            | ExitClass::SkipAlreadyProtected
            | ExitClass::SkipForeignProtection
            | ExitClass::SkipExcluded => 100 + code,
            ExitClass::Internal
            | ExitClass::Usage
            | ExitClass::NotFound
            | ExitClass::Busy
            | ExitClass::Template
            | ExitClass::Config
            | ExitClass::Unreadable
            | ExitClass::Write
            | ExitClass::RulesTestFailed
            | ExitClass::HardLinked
            | ExitClass::NotGranted
            | ExitClass::Revoked
            | ExitClass::Expired
            | ExitClass::ServiceUnreachable
            | ExitClass::SignInNeeded => 200 + code,
        }
    }

    /// The more severe of `self` and `other` ([`Self::severity`]); `self` when they rank the same.
    pub fn worst(self, other: ExitClass) -> ExitClass {
        if other.severity() > self.severity() { other } else { self }
    }

    /// The skips that only `--strict-exit` reports (10 to 13); without it they are [`ExitClass::Success`].
    pub const fn is_strict_skip(self) -> bool {
        matches!(
            self,
            ExitClass::SkipNoMatch
                | ExitClass::SkipAlreadyProtected
                | ExitClass::SkipForeignProtection
                | ExitClass::SkipExcluded
        )
    }

    /// One line for `--help` and the docs (the command line says which option the skip codes need).
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
            ExitClass::SkipNoMatch => "no rule matched",
            ExitClass::SkipAlreadyProtected => "already protected by fci-connector",
            ExitClass::SkipForeignProtection => "protected by another product",
            ExitClass::SkipExcluded => "excluded file type",
            ExitClass::HardLinked => {
                "not protected: the file has more than one hard link (its other names would keep the plaintext)"
            }
            ExitClass::NotGranted => {
                "not granted: the licensing service gives the signed-in user no right on this file"
            }
            ExitClass::Revoked => "revoked: the owner or an admin revoked this content",
            ExitClass::Expired => "expired: the content is past its expiry date",
            ExitClass::ServiceUnreachable => {
                "service unreachable: the licensing service did not answer and no valid offline license is cached"
            }
            ExitClass::SignInNeeded => {
                "sign-in needed: no token or certificate, one the service refused, or an untrusted licensing service"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExitClass;

    #[test]
    fn codes_round_trip() {
        for class in ExitClass::ALL {
            assert_eq!(ExitClass::from_code(class.code()), Some(class));
        }
        assert_eq!(ExitClass::from_code(20), None);
    }

    #[test]
    fn failures_outrank_skips_whatever_their_numbers() {
        use ExitClass::*;
        let mut ranked = ExitClass::ALL;
        ranked.sort_by_key(|c| c.severity());
        let codes: Vec<u8> = ranked.iter().map(|c| c.code()).collect();
        assert_eq!(codes, [0, 10, 11, 12, 13, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18, 19]);
        assert_eq!(SkipExcluded.worst(NotGranted), NotGranted);
        assert_eq!(SignInNeeded.worst(SkipForeignProtection), SignInNeeded);
        assert_eq!(SkipExcluded.worst(NotFound), NotFound);
        assert_eq!(HardLinked.worst(SkipNoMatch), HardLinked);
        assert_eq!(Success.worst(SkipNoMatch), SkipNoMatch);
        assert_eq!(Write.worst(Busy), Write);
    }
}
