//! Windows path rules as pure functions on UTF-16: when a path needs the `\\?\` form to get past MAX_PATH (260
//! characters), and what that form is. Compiled on every platform so the unit tests run anywhere; `windows.rs`
//! uses them for the calls it makes itself (std already does the same for its own).

/// From this length on a path gets the `\\?\` form: std's threshold too (MAX_PATH minus the 12 characters
/// CreateDirectoryW keeps for an 8.3 file name).
pub const LONG_PATH_FROM: usize = 248;

const BACKSLASH: u16 = b'\\' as u16;

fn ascii(s: &str) -> impl Iterator<Item = u16> + '_ {
    s.bytes().map(u16::from)
}

fn starts_with(path: &[u16], prefix: &str) -> bool {
    path.len() >= prefix.len() && path.iter().copied().zip(ascii(prefix)).all(|(a, b)| a == b)
}

/// Already in a form Windows passes through unparsed: `\\?\`, `\??\` or the device namespace `\\.\`.
pub fn is_verbatim(path: &[u16]) -> bool {
    starts_with(path, r"\\?\") || starts_with(path, r"\??\") || starts_with(path, r"\\.\")
}

/// Whether `path` must be given to the file APIs in the `\\?\` form.
pub fn needs_verbatim(path: &[u16]) -> bool {
    path.len() >= LONG_PATH_FROM && !is_verbatim(path)
}

/// `abs`, an absolute path as `GetFullPathNameW` returns it (backslashes, no `.` or `..`), in the `\\?\` form:
/// `C:\x` becomes `\\?\C:\x` and `\\server\share\x` becomes `\\?\UNC\server\share\x`. Anything else (already
/// verbatim, or not absolute) is returned as it is.
pub fn verbatim(abs: &[u16]) -> Vec<u16> {
    if is_verbatim(abs) {
        return abs.to_vec();
    }
    let is_drive = abs.len() >= 3
        && u8::try_from(abs[0]).is_ok_and(|c| c.is_ascii_alphabetic())
        && abs[1] == u16::from(b':')
        && abs[2] == BACKSLASH;
    if is_drive {
        return ascii(r"\\?\").chain(abs.iter().copied()).collect();
    }
    if starts_with(abs, r"\\") {
        return ascii(r"\\?\UNC\").chain(abs[2..].iter().copied()).collect();
    }
    abs.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    fn text(v: &[u16]) -> String {
        String::from_utf16_lossy(v)
    }

    #[test]
    fn drive_paths_get_the_verbatim_prefix() {
        assert_eq!(text(&verbatim(&w(r"C:\Shares\Finance\a b.docx"))), r"\\?\C:\Shares\Finance\a b.docx");
        assert_eq!(text(&verbatim(&w(r"d:\x"))), r"\\?\d:\x");
    }

    #[test]
    fn unc_paths_get_the_unc_verbatim_prefix() {
        assert_eq!(text(&verbatim(&w(r"\\fs01\finance\q1.xlsx"))), r"\\?\UNC\fs01\finance\q1.xlsx");
    }

    #[test]
    fn verbatim_and_device_paths_are_left_alone() {
        for p in [r"\\?\C:\x", r"\\?\UNC\fs01\s\x", r"\??\C:\x", r"\\.\pipe\x"] {
            assert_eq!(text(&verbatim(&w(p))), p);
        }
    }

    #[test]
    fn relative_paths_are_left_alone() {
        assert_eq!(text(&verbatim(&w(r"dir\file"))), r"dir\file");
        assert_eq!(text(&verbatim(&w("C:file"))), "C:file");
    }

    #[test]
    fn only_long_plain_paths_need_the_prefix() {
        let long = format!(r"C:\{}", "a".repeat(LONG_PATH_FROM));
        assert!(needs_verbatim(&w(&long)));
        assert!(!needs_verbatim(&w(&format!(r"\\?\{long}"))));
        assert!(!needs_verbatim(&w(r"C:\short\path.txt")));
        let just_below = format!(r"C:\{}", "a".repeat(LONG_PATH_FROM - 4));
        assert_eq!(just_below.len(), LONG_PATH_FROM - 1);
        assert!(!needs_verbatim(&w(&just_below)));
    }

    #[test]
    fn non_ascii_survives() {
        assert_eq!(text(&verbatim(&w(r"C:\Données\Çà ü 日本.txt"))), r"\\?\C:\Données\Çà ü 日本.txt");
    }
}
