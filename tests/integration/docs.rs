//! The documentation against the code: docs/EXIT-CODES.md's tables against `ExitClass`, and every repository path,
//! relative link and test name the docs give against the tree, so a rename cannot leave a doc pointing at nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fci_connector::ExitClass;

use crate::util::root;

/// The Markdown files checked: README.md and docs/*.md.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

// ---------------------------------------------------------------------------------------------------------------
// Exit codes

/// A class's name as `--help` prints it: the words its meaning starts with, without the `--strict-exit` prefix
/// of the skip codes ("usage", "file not found", "content unreadable", "no protection policy line matched").
fn name(class: ExitClass) -> &'static str {
    let meaning = class.meaning();
    let meaning = meaning.strip_prefix("with --strict-exit: ").unwrap_or(meaning);
    let end = meaning.find([':', '(', ';', ',']).unwrap_or(meaning.len());
    meaning[..end].trim()
}

#[test]
fn the_exit_code_tables_name_every_class_with_its_code_and_nothing_else() {
    let text = std::fs::read_to_string(root().join("docs/EXIT-CODES.md")).unwrap();
    // Every table row whose first cell is a number: code → its meaning cell (code spans unquoted).
    let mut rows: BTreeMap<u8, String> = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        let Some(code) = cells.first().and_then(|c| c.parse::<u8>().ok()) else { continue };
        let meaning = cells.get(1).unwrap_or(&"").replace('`', "");
        assert!(rows.insert(code, meaning).is_none(), "docs/EXIT-CODES.md: code {code} has two rows");
    }
    for class in ExitClass::ALL {
        let row = rows
            .remove(&class.code())
            .unwrap_or_else(|| panic!("docs/EXIT-CODES.md has no row for {} ({class:?})", class.code()));
        assert!(
            row.starts_with(name(class)),
            "docs/EXIT-CODES.md, code {}: the row should start with {:?} (as --help says), not {row:?}",
            class.code(),
            name(class)
        );
    }
    assert!(rows.is_empty(), "docs/EXIT-CODES.md names codes no ExitClass has: {:?}", rows.keys());
}

// ---------------------------------------------------------------------------------------------------------------
// Paths, links and test names

/// Where the docs' repository paths start.
const TOP_FOLDERS: [&str; 8] =
    ["src/", "tests/", "fci-scripts/", "docs/", "samples/", "classification-rules/", "packaging/", "deploy/"];

/// The text of every code span (`…`) and fenced code block in a Markdown file.
fn code_of(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            out.push(line.to_string());
            continue;
        }
        let mut parts = line.split('`');
        parts.next();
        while let (Some(span), Some(_)) = (parts.next(), parts.next()) {
            out.push(span.to_string());
        }
    }
    out
}

/// The repository paths in a piece of code: words that start with a top-level folder, without trailing
/// punctuation or a `:line:col`. Placeholders (`<name>`, `…`) are not paths.
fn paths_in(code: &str) -> Vec<String> {
    code.split(|c: char| c.is_whitespace() || "\"'(),;=[]".contains(c))
        .filter(|w| TOP_FOLDERS.iter().any(|top| w.starts_with(top)))
        .filter(|w| !w.contains(['<', '>', '…', '{', '$']))
        .map(|w| w.split(':').next().unwrap_or(w).trim_end_matches('.').to_string())
        .collect()
}

/// Whether `pattern` (relative to `base`, `*` matching within one name) names something that exists.
fn exists(base: &Path, pattern: &str) -> bool {
    let mut candidates = vec![base.to_path_buf()];
    for part in pattern.split('/').filter(|p| !p.is_empty()) {
        let mut next = Vec::new();
        for dir in &candidates {
            if !part.contains('*') {
                let path = dir.join(part);
                if path.exists() {
                    next.push(path);
                }
                continue;
            }
            let (prefix, suffix) = part.split_once('*').unwrap_or((part, ""));
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(prefix) && name.ends_with(suffix) && name.len() >= prefix.len() + suffix.len() {
                    next.push(entry.path());
                }
            }
        }
        candidates = next;
    }
    !candidates.is_empty()
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors_of(markdown: &str) -> Vec<String> {
    markdown.lines().filter_map(|l| l.strip_prefix('#')).map(|h| anchor(h.trim_start_matches('#'))).collect()
}

/// The relative link targets in a Markdown file (`[text](target)`, without web and mail links).
fn links_in(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        if !target.contains("://") && !target.starts_with("mailto:") && !target.contains(char::is_whitespace) {
            out.push(target.to_string());
        }
    }
    out
}

#[test]
fn every_repository_path_and_relative_link_in_the_docs_exists() {
    let mut missing = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for code in code_of(&text) {
            for path in paths_in(&code) {
                if !exists(root(), &path) {
                    missing.push(format!("{}: `{path}`", relative(&file)));
                }
            }
        }
        let here = file.parent().unwrap();
        for link in links_in(&text) {
            let (target, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target_file = if target.is_empty() { file.clone() } else { here.join(target) };
            if !target.is_empty() && !exists(here, target) {
                missing.push(format!("{}: link ({link})", relative(&file)));
            } else if !fragment.is_empty() && target_file.extension().is_some_and(|e| e == "md") {
                let anchors = anchors_of(&std::fs::read_to_string(&target_file).unwrap());
                if !anchors.iter().any(|a| a == fragment) {
                    missing.push(format!("{}: link ({link}): no such heading", relative(&file)));
                }
            }
        }
    }
    assert!(missing.is_empty(), "the docs name what does not exist:\n{}", missing.join("\n"));
}

/// The files a test named `a::b::name` can live in: this binary's module `a` (tests/integration/a.rs) or the
/// library's module `a::b` (its unit tests, in `tests` inside it). None when `a` is neither.
fn test_files(module: &[&str]) -> Option<Vec<PathBuf>> {
    let first = module.first()?;
    let integration = root().join("tests/integration").join(format!("{first}.rs"));
    let library = root().join("src").join(first);
    if !integration.exists() && !library.exists() && !library.with_extension("rs").exists() {
        return None;
    }
    let inner: Vec<&str> = module.iter().copied().filter(|m| *m != "tests").collect();
    let src = root().join("src").join(inner.join("/"));
    Some(vec![
        root().join("tests/integration").join(format!("{}.rs", inner.join("/"))),
        src.with_extension("rs"),
        src.join("mod.rs"),
    ])
}

#[test]
fn every_test_named_in_the_docs_exists() {
    let mut missing = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for code in code_of(&text) {
            let code = code.trim();
            let is_path = code.contains("::")
                && code.split("::").all(|s| {
                    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                });
            if !is_path {
                continue;
            }
            let segments: Vec<&str> = code.split("::").collect();
            let (name, module) = segments.split_last().unwrap();
            let Some(candidates) = test_files(module) else { continue };
            let found =
                candidates.iter().any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains(&format!("fn {name}("))));
            if !found {
                missing.push(format!("{}: `{code}`", relative(&file)));
            }
        }
    }
    assert!(missing.is_empty(), "the docs name tests that do not exist:\n{}", missing.join("\n"));
}
