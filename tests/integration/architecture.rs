//! The library's shape (docs/ARCHITECTURE.md): no library module imports the command line, so the licensing
//! service and the reader can use the library without it.

use std::path::{Path, PathBuf};

/// The lines of `text` that import or name the `cli` module, comments left out.
fn cli_uses(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .filter(|code| ["crate::cli", "super::cli", "use cli", "fci_connector::cli"].iter().any(|p| code.contains(p)))
        .map(|code| code.trim().to_string())
        .collect()
}

#[test]
fn the_library_never_imports_the_cli() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    crate::util::rust_files(&src, &mut files);
    let library: Vec<&PathBuf> =
        files.iter().filter(|p| !p.starts_with(src.join("cli")) && !p.ends_with("main.rs")).collect();
    assert!(library.len() > 30, "the library's files were found: {}", library.len());
    let mut found = Vec::new();
    for path in library {
        for line in cli_uses(&std::fs::read_to_string(path).unwrap()) {
            found.push(format!("{}: {line}", path.strip_prefix(&src).unwrap().display()));
        }
    }
    assert!(found.is_empty(), "library modules that import the command line:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_an_import_and_ignores_comments() {
    assert_eq!(
        cli_uses("use crate::cli::printable;\n// crate::cli in a comment\nlet x = 1;"),
        ["use crate::cli::printable;"]
    );
    assert!(cli_uses("/// [`cli::run`] hands over\n").is_empty());
}
