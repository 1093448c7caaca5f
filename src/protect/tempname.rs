//! The names of files that are not documents: this program's temporary files (`.~fci-<random>.tmp`, written
//! beside the file being rewritten and swept by [`super::stale`] when a killed run leaves one) and Office's lock
//! files (`~$…`). One place, so that the rewrite ([`super::inplace`]), the cleanup ([`super::stale`]), the folder
//! walk and watch agree on them.

use std::ffi::{OsStr, OsString};
use std::io;

/// Prefix of this program's temporary files, so leftovers are recognisable.
pub const TEMP_PREFIX: &str = ".~fci-";
/// Suffix of this program's temporary files.
pub const TEMP_SUFFIX: &str = ".tmp";
/// Prefix of the lock files Office keeps beside an open document.
pub const OFFICE_LOCK_PREFIX: &str = "~$";

/// A fresh name for a temporary file: [`TEMP_PREFIX`] and [`TEMP_SUFFIX`] around eight random letters.
pub fn fresh() -> io::Result<OsString> {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| io::Error::other(format!("OS random source failed: {e}")))?;
    let middle: String = random.iter().map(|b| LETTERS[usize::from(*b) % LETTERS.len()] as char).collect();
    Ok(OsString::from(format!("{TEMP_PREFIX}{middle}{TEMP_SUFFIX}")))
}

/// True for names this program gives its temporary files (something between the prefix and the suffix).
pub fn is_temp(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| {
        n.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len() && n.starts_with(TEMP_PREFIX) && n.ends_with(TEMP_SUFFIX)
    })
}

/// True for the names a folder walk and watch never look at: anything with this program's temporary-file prefix
/// and suffix (even an empty middle: it is never a document of the user's), and Office lock files.
pub fn is_not_a_document(name: &str) -> bool {
    (name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) || name.starts_with(OFFICE_LOCK_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_are_temp_names() {
        let name = fresh().unwrap();
        assert!(is_temp(&name), "{name:?}");
        assert_eq!(name.len(), TEMP_PREFIX.len() + 8 + TEMP_SUFFIX.len());
        assert_ne!(name, fresh().unwrap());
    }

    #[test]
    fn temp_names_are_recognised() {
        assert!(is_temp(OsStr::new(".~fci-a1B2c3.tmp")));
        for other in [".~fci-.tmp", "~fci-x.tmp", ".~fci-x.tmp.bak", "report.tmp", ".~lock.report#", ".~fci-x"] {
            assert!(!is_temp(OsStr::new(other)), "{other}");
        }
    }

    #[test]
    fn walks_leave_out_temp_and_office_lock_files() {
        for name in [".~fci-a1B2c3.tmp", ".~fci-.tmp", "~$report.docx"] {
            assert!(is_not_a_document(name), "{name}");
        }
        for name in ["report.docx", "~fci-x.tmp", ".~fci-x.tmp.bak", "$report.docx"] {
            assert!(!is_not_a_document(name), "{name}");
        }
    }
}
