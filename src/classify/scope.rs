//! Which files a rule applies to: folders to include or exclude and file-name wildcards (`*.docx;*.xlsx`), compared
//! as Windows does (case-insensitive, `\` and `/` alike).

use std::path::Path;

#[derive(Debug, Default, Clone)]
pub struct Scope {
    /// Folders (normalized) the file must be under; empty means anywhere.
    pub include_folders: Vec<String>,
    /// Folders (normalized) the file must not be under.
    pub exclude_folders: Vec<String>,
    /// Wildcards (lower-case) the file name must match one of; empty means any name.
    pub file_names: Vec<String>,
    /// Wildcards (lower-case) the file name must not match.
    pub exclude_file_names: Vec<String>,
}

/// Lower-case, forward slashes, no trailing slash: the form folders are compared in.
pub fn normalize_folder(folder: &str) -> String {
    let mut s = folder.trim().replace('\\', "/").to_lowercase();
    while s.len() > 1 && s.ends_with('/') {
        s.pop();
    }
    s
}

/// Split an FSRM wildcard list (`*.docx;*.xlsx` or `*.docx, *.xlsx`) into lower-case patterns.
pub fn parse_wildcards(list: &str) -> Vec<String> {
    list.split([';', ',', '|']).map(|p| p.trim().to_lowercase()).filter(|p| !p.is_empty()).collect()
}

impl Scope {
    /// No folder and no name narrows it (most rules): every file is in scope, without looking at its path.
    fn is_everywhere(&self) -> bool {
        self.include_folders.is_empty()
            && self.exclude_folders.is_empty()
            && self.file_names.is_empty()
            && self.exclude_file_names.is_empty()
    }

    /// Whether the file at `path` is in scope.
    pub fn contains(&self, path: &Path) -> bool {
        if self.is_everywhere() {
            return true;
        }
        let text = path.to_string_lossy();
        // Folders compare whole paths, so a relative path is made absolute, but only then: it costs a system call.
        // `D:\x` and `\\server\share` are whole paths on any platform.
        let whole = text.starts_with(['/', '\\']) || text.as_bytes().get(1) == Some(&b':');
        let full = if whole || (self.include_folders.is_empty() && self.exclude_folders.is_empty()) {
            normalize_folder(&text)
        } else {
            normalize_folder(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).to_string_lossy())
        };
        // The name after the last separator of either kind, so `D:\x\a.docx` works on any platform.
        let name = full.rsplit('/').next().unwrap_or_default();
        let under = |folder: &String| {
            full.strip_prefix(folder.as_str()).is_some_and(|rest| rest.starts_with('/') || folder.ends_with('/'))
        };
        (self.include_folders.is_empty() || self.include_folders.iter().any(under))
            && !self.exclude_folders.iter().any(under)
            && (self.file_names.is_empty() || self.file_names.iter().any(|p| wildcard(p, name)))
            && !self.exclude_file_names.iter().any(|p| wildcard(p, name))
    }
}

/// `*` matches any run of characters, `?` exactly one; everything else itself. Iterative, linear in practice.
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_path_is_compared_from_the_working_folder() {
        let cwd = std::env::current_dir().unwrap();
        let hr = normalize_folder(&cwd.join("hr").to_string_lossy());
        let scope = Scope { include_folders: vec![hr], ..Scope::default() };
        assert!(scope.contains(Path::new("hr/a.docx")));
        assert!(!scope.contains(Path::new("other/a.docx")));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("*.docx", "report.docx"));
        assert!(!wildcard("*.docx", "report.docx.bak"));
        assert!(wildcard("payroll-??.*", "payroll-01.xlsx"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a*b", "acd"));
    }

    #[test]
    fn folders_and_names() {
        let scope = Scope {
            include_folders: vec![normalize_folder(r"D:\Shares\HR\")],
            exclude_folders: vec![normalize_folder(r"d:\shares\hr\public")],
            file_names: parse_wildcards("*.docx; *.XLSX"),
            exclude_file_names: vec![],
        };
        assert!(scope.contains(Path::new(r"D:\Shares\HR\pay\2024.xlsx")));
        assert!(scope.contains(Path::new("d:/shares/hr/a.DOCX")));
        assert!(!scope.contains(Path::new(r"D:\Shares\HRX\a.docx")), "a sibling folder with a longer name");
        assert!(!scope.contains(Path::new(r"D:\Shares\HR\Public\a.docx")));
        assert!(!scope.contains(Path::new(r"D:\Shares\HR\a.pdf")));
        assert!(Scope::default().contains(Path::new("/any/where.txt")));
    }
}
