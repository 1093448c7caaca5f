//! Every platform difference lives in `src/platform/`: no other source file has a `cfg` gate on the operating
//! system (`windows`, `unix`, `target_os`, `target_family`, …), an OS-specific `std::os::` path, or an `unsafe`
//! block, function or impl. Comments and string literals are ignored, so a word in a sentence does not count.

use std::path::Path;

/// Words that, inside a `cfg(…)`, `cfg!(…)` or `cfg_attr(…)`, gate on the platform.
const PLATFORM_WORDS: &[&str] = &["windows", "unix", "target_os", "target_family", "target_env", "target_vendor"];

/// `source` with comments and the contents of string and character literals replaced by spaces (newlines kept,
/// so line numbers still match).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !ident_char(i.checked_sub(1).map(|p| chars[p]))
        {
            // A raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push('"');
            i = j + 1;
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                    out.push('"');
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '"', '\n', '\u{…}'); a lifetime ('a) has no closing quote.
            out.push('\'');
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(' ');
                    i += 1;
                }
            }
            out.push('\'');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Where the whole word `word` occurs in `line`.
fn word_positions(line: &str, word: &str) -> Vec<usize> {
    line.match_indices(word)
        .filter(|(at, _)| {
            !ident_char(line[..*at].chars().next_back()) && !ident_char(line[at + word.len()..].chars().next())
        })
        .map(|(at, _)| at)
        .collect()
}

/// The platform gates, OS paths and `unsafe` in `code` (already stripped), as "line: what".
fn findings(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    // A cfg may span lines: look at each `cfg(`, `cfg!(` or `cfg_attr(` up to its closing parenthesis.
    for opener in ["cfg", "cfg_attr"] {
        for at in word_positions(code, opener) {
            let rest = code[at + opener.len()..].trim_start_matches('!').trim_start();
            if !rest.starts_with('(') {
                continue;
            }
            let mut depth = 0;
            let mut end = rest.len();
            for (k, ch) in rest.char_indices() {
                match ch {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = k + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let gate = &rest[..end];
            if PLATFORM_WORDS.iter().any(|w| !word_positions(gate, w).is_empty()) {
                let line = code[..at].matches('\n').count() + 1;
                found.push(format!("{line}: {opener}{}", gate.split_whitespace().collect::<Vec<_>>().join(" ")));
            }
        }
    }
    for (n, line) in code.lines().enumerate() {
        if !word_positions(line, "unsafe").is_empty() {
            found.push(format!("{}: unsafe", n + 1));
        }
        if line.contains("std::os::") {
            found.push(format!("{}: std::os::", n + 1));
        }
    }
    found.sort();
    found
}

#[test]
fn platform_differences_and_unsafe_live_only_in_src_platform() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let platform = root.join("src/platform");
    let mut files = Vec::new();
    crate::util::rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 20, "the scan found the sources: {files:?}");
    let mut problems = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&platform)) {
        let source = std::fs::read_to_string(file).unwrap();
        for finding in findings(&code_only(&source)) {
            problems.push(format!("{}:{finding}", file.strip_prefix(root).unwrap().display()));
        }
    }
    assert!(
        problems.is_empty(),
        "platform differences outside src/platform/ (move them behind a function there):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_scan_sees_gates_and_unsafe_but_not_words_in_comments_strings_or_names() {
    let caught = "#[cfg(windows)]\nfn a() {}\n#[cfg(all(test,\n  unix))]\nmod t {}\nfn b() { if cfg!(target_os = \"linux\") {} }\n\
                  #[cfg_attr(not(windows), allow(dead_code))]\nfn c() { unsafe { d() } }\nunsafe fn d() {}\n\
                  use std::os::unix::fs::MetadataExt;\n";
    let found = findings(&code_only(caught));
    assert_eq!(found.len(), 7, "{found:?}");
    let ignored = "#[cfg(test)]\nmod tests {}\n// #[cfg(windows)] unsafe\n/* cfg(unix) */\n\
                   fn e() { let unsafe_char = '\"'; let s = \"cfg(windows) unsafe\"; let r = r#\"unsafe\"#; }\n\
                   fn f<'a>(x: &'a str) -> &'a str { x }\n";
    assert_eq!(findings(&code_only(ignored)), Vec::<String>::new());
}
