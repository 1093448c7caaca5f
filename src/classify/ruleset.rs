//! Loading a rule folder: every `*.xml` file in file-name order, Purview packages and FSRM-style rule files alike,
//! into one compiled [`RuleSet`], with every problem reported as `file:line:col`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::diag::{Diagnostic, Diagnostics, Severity};
use super::engine::{self, Compiled, Scanner};
use super::model::Model;
use super::{fsrm_rules, purview, schema};
use crate::xml::{self, Element};
use crate::{Error, ExitClass};

/// Largest rule file read (real packages are well under a megabyte).
const MAX_RULE_FILE: u64 = 32 * 1024 * 1024;

/// A loaded, compiled rule set. Load once, then make a [`Scanner`] per file.
pub struct RuleSet {
    model: Model,
    compiled: Compiled,
    version: RulesVersion,
}

/// Which rules a run used: the rule folder, its rule files in load order, and the SHA-256 of their bytes
/// concatenated in that order (what `cat` of the listed files piped to `sha256sum` prints), in lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RulesVersion {
    pub folder: String,
    /// File names, in load order.
    pub files: Vec<String>,
    pub sha256: String,
}

impl RulesVersion {
    /// The first 12 hex digits of the hash, for a person to compare at a glance.
    pub fn short(&self) -> &str {
        self.sha256.get(..12).unwrap_or(&self.sha256)
    }
}

/// A rule set that loaded, and the warnings it loaded with (things skipped, e.g. tenant-only references).
pub struct LoadedRules {
    pub rules: RuleSet,
    pub warnings: Vec<Diagnostic>,
}

/// What `rules check` reports: the counts, the problems, and the rule set when there were no errors.
pub struct CheckReport {
    pub files: Vec<PathBuf>,
    pub stats: Stats,
    pub diagnostics: Vec<Diagnostic>,
    pub rules: Option<RuleSet>,
}

/// How much was loaded.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Stats {
    pub files: usize,
    pub properties: usize,
    pub rules: usize,
    pub entities: usize,
    pub patterns: usize,
    pub detectors: usize,
    /// `<Protect>` lines of the protection policy.
    pub policy: usize,
}

impl RuleSet {
    /// Load and compile every rule file in `dir`. Errors in any file make the whole set invalid
    /// ([`ExitClass::Config`]); the message lists every error as `file:line:col: message`.
    pub fn load(dir: &Path) -> Result<LoadedRules, Error> {
        // The rules decide what is protected: nobody but their owner and the administrators may change them.
        crate::locate::check_trusted(dir, "rule folder")?;
        let report = Self::check(dir)?;
        match report.rules {
            Some(rules) => Ok(LoadedRules {
                rules,
                warnings: report.diagnostics.into_iter().filter(|d| d.severity == Severity::Warning).collect(),
            }),
            None => {
                let errors: Vec<String> = report
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .map(ToString::to_string)
                    .collect();
                Err(Error::new(
                    ExitClass::Config,
                    format!("invalid rules in {}:\n  {}", dir.display(), errors.join("\n  ")),
                ))
            }
        }
    }

    /// Load `dir` and report everything found; `Err` only when the folder itself cannot be read or has no rules.
    pub fn check(dir: &Path) -> Result<CheckReport, Error> {
        let files = rule_files(dir)?;
        let mut diagnostics = Vec::new();
        let mut docs = Vec::new();
        let mut hash = Sha256::new();
        for file in &files {
            match read_doc(file, &mut hash) {
                Ok(doc) => docs.push((file, doc)),
                Err(d) => diagnostics.push(d),
            }
        }
        let mut model = Model::default();
        // Phase 1: entities and property definitions; phase 2: rules and policy, which refer to them.
        for phase in [1, 2] {
            for (file, root) in &docs {
                let mut diags = Diagnostics::new(file);
                match (root.name.as_str(), phase) {
                    ("RulePackage", 1) => {
                        schema::check_purview(root, &mut diags);
                        purview::load(root, file, &mut model, &mut diags)
                    }
                    ("ClassificationRules", 1) => {
                        schema::check_fsrm(root, &mut diags);
                        fsrm_rules::load_definitions(root, &mut model, &mut diags)
                    }
                    ("ClassificationRules", 2) => fsrm_rules::load_rules(root, &mut model, &mut diags),
                    ("RulePackage", 2) => {}
                    (other, _) => {
                        if phase == 1 {
                            diags.error(
                                root,
                                format!("root element <{other}> is neither <ClassificationRules> nor a Purview <RulePackage>"),
                            );
                        }
                    }
                }
                diagnostics.append(&mut diags.items);
            }
        }
        // Reading order for the admin: by file (load order), then position.
        let order = |f: &PathBuf| files.iter().position(|x| x == f).unwrap_or(usize::MAX);
        diagnostics.sort_by_key(|d| (order(&d.file), d.line, d.col));
        let stats = Stats {
            files: files.len(),
            properties: model.properties.len(),
            rules: model.rules.len(),
            entities: model.entities.len(),
            patterns: model.entities.iter().map(|e| e.patterns.len()).sum(),
            detectors: model.detectors.len(),
            policy: model.protection_policy.len(),
        };
        let mut rules = None;
        if !diagnostics.iter().any(|d| d.severity == Severity::Error) {
            match engine::compile(&model) {
                Ok(compiled) => {
                    let version = RulesVersion {
                        folder: dir.display().to_string(),
                        files: files
                            .iter()
                            .filter_map(|f| f.file_name())
                            .map(|n| n.to_string_lossy().into_owned())
                            .collect(),
                        sha256: crate::protect::keys::hex(&hash.finalize()),
                    };
                    rules = Some(RuleSet { model, compiled, version })
                }
                Err((det, message)) => diagnostics.push(Diagnostic {
                    file: dir.to_path_buf(),
                    line: 1,
                    col: 1,
                    severity: Severity::Error,
                    message: format!("{}: cannot compile: {message}", model.detectors[det].label),
                }),
            }
        }
        Ok(CheckReport { files, stats, diagnostics, rules })
    }

    /// A scanner for the file at `path` (its folder and name decide which rules are in scope; pass the full path).
    pub fn scanner(&self, path: &Path) -> Scanner<'_> {
        Scanner::new(&self.model, &self.compiled, path)
    }

    /// Classify a text given at once (convenience for callers that already hold the text).
    pub fn classify_text(&self, path: &Path, text: &str) -> super::Classification {
        let mut s = self.scanner(path);
        s.feed(text);
        s.finish()
    }

    /// Which rule files were loaded, and the hash of their bytes.
    pub fn version(&self) -> &RulesVersion {
        &self.version
    }

    /// The template protection uses when the policy names none.
    pub fn default_template(&self) -> Option<&str> {
        self.model.default_template.as_deref()
    }

    /// Every template the protection policy names (`defaultTemplate`, `template=`), as written, once each.
    pub fn policy_templates(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let named = self
            .model
            .default_template
            .iter()
            .chain(self.model.protection_policy.iter().filter_map(|p| p.template.as_ref()));
        for t in named {
            if !out.contains(&t.as_str()) {
                out.push(t);
            }
        }
        out
    }

    /// Names of the entities loaded, in load order.
    pub fn entity_names(&self) -> impl Iterator<Item = &str> {
        self.model.entities.iter().map(|e| e.name.as_str())
    }

    /// Names of the FSRM-style rules loaded, in load order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.model.rules.iter().map(|r| r.name.as_str())
    }
}

/// The `*.xml` files of `dir`, sorted by file name.
fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    // Whatever the I/O cause, an unusable rule folder is a configuration error (exit 6).
    let unreadable = |e: std::io::Error| {
        Error::new(ExitClass::Config, format!("cannot read rule folder {}: {e}", dir.display())).with_source(e)
    };
    let entries = std::fs::read_dir(dir).map_err(unreadable)?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let is_xml = path.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml"));
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if is_xml && !hidden && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by_key(|p| p.file_name().map(|n| n.to_string_lossy().to_lowercase()));
    if files.is_empty() {
        return Err(Error::new(ExitClass::Config, format!("no rule files (*.xml) in {}", dir.display())));
    }
    Ok(files)
}

/// Read and parse one rule file, adding its bytes to `hash`.
fn read_doc(file: &Path, hash: &mut Sha256) -> Result<Element, Diagnostic> {
    let fail = |line, col, message: String| Diagnostic {
        file: file.to_path_buf(),
        line,
        col,
        severity: Severity::Error,
        message,
    };
    let meta = std::fs::metadata(file).map_err(|e| fail(1, 1, format!("cannot read: {e}")))?;
    if meta.len() > MAX_RULE_FILE {
        return Err(fail(1, 1, format!("larger than {} MiB; not a rule file", MAX_RULE_FILE >> 20)));
    }
    let bytes = std::fs::read(file).map_err(|e| fail(1, 1, format!("cannot read: {e}")))?;
    hash.update(&bytes);
    // Every problem reading the tree is reported as "not well-formed", as rule files always have been.
    xml::parse_bytes(&bytes).map_err(|e| fail(e.line, e.col, format!("not well-formed XML: {}", e.message)))
}
