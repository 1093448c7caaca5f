//! One file through the whole pipeline: look at it (exists, excluded type, already protected), classify its text
//! with the rule set, decide, and protect it — with the reason for every outcome, for the exit code and the log.
//!
//! The checks run cheapest first, and nothing reads content that a cheaper check already settled. Classification
//! reads the file before `protect` locks it; `protect` then re-checks under its lock, so two invocations racing on
//! one file still protect it exactly once.

use std::fs::File;
use std::path::Path;

use super::Session;
use super::result::ActionKind;
use crate::classify::{Classification, Decision, RuleSet};
use crate::config::{PolicyConfig, UnreadablePolicy};
use crate::extract::{self, Limits};
use crate::platform::{self, FileIdentity};
use crate::protect::container::license::License;
use crate::protect::{self, FileState, ProtectOutcome, ProtectRequest};
use crate::{Error, ExitClass, detect};

/// Why a file was deliberately left alone. Each is exit 0, or its own code with `--strict-exit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    NoRuleMatched,
    AlreadyProtected,
    ProtectedByOther(String),
    ExcludedType(String),
}

impl SkipReason {
    /// The exit class under `--strict-exit`.
    pub fn strict_class(&self) -> ExitClass {
        match self {
            SkipReason::NoRuleMatched => ExitClass::SkipNoMatch,
            SkipReason::AlreadyProtected => ExitClass::SkipAlreadyProtected,
            SkipReason::ProtectedByOther(_) => ExitClass::SkipForeignProtection,
            SkipReason::ExcludedType(_) => ExitClass::SkipExcluded,
        }
    }

    /// A few words for the log and the screen.
    pub fn describe(&self) -> String {
        match self {
            SkipReason::NoRuleMatched => "no protection policy line matched".into(),
            SkipReason::AlreadyProtected => "already protected by fci-connector".into(),
            SkipReason::ProtectedByOther(by) => format!("protected by another product ({by})"),
            SkipReason::ExcludedType(ext) => format!("excluded file type (.{ext})"),
        }
    }
}

/// What happened to the file.
#[derive(Debug)]
pub enum Action {
    Protected(Box<License>),
    /// `--dry-run`: it would have been protected with this template.
    WouldProtect,
    Skipped(SkipReason),
    Failed(Error),
}

/// The outcome of [`process`]: the action, and what classification found on the way.
#[derive(Debug)]
pub struct Outcome {
    pub action: Action,
    /// The template used or that would be used (id, name).
    pub template: Option<(String, String)>,
    /// Present when the file was classified.
    pub classification: Option<Classification>,
    /// Things the admin should know that did not stop the run.
    pub warnings: Vec<String>,
    /// Protected with a template that asks for registration (`register="true"`): whether the licensing service
    /// was told. Never changes the action or the exit code.
    pub registration: Option<crate::protect::register::Registration>,
}

impl Outcome {
    /// An outcome with this action and nothing else.
    pub fn new(action: Action) -> Outcome {
        Outcome { action, template: None, classification: None, warnings: Vec::new(), registration: None }
    }

    /// The exit class; skips are 0 unless `strict`.
    pub fn exit_class(&self, strict: bool) -> ExitClass {
        match &self.action {
            Action::Protected(_) | Action::WouldProtect => ExitClass::Success,
            Action::Skipped(reason) if strict => reason.strict_class(),
            Action::Skipped(_) => ExitClass::Success,
            Action::Failed(e) => e.class(),
        }
    }

    /// What was done, as a word of the outputs.
    pub fn decision(&self) -> ActionKind {
        match self.action {
            Action::Protected(_) => ActionKind::Protected,
            Action::WouldProtect => ActionKind::WouldProtect,
            Action::Skipped(_) => ActionKind::Skipped,
            Action::Failed(_) => ActionKind::Failed,
        }
    }

    /// The reason, in a few words.
    pub fn reason(&self) -> Option<String> {
        match &self.action {
            Action::Skipped(r) => Some(r.describe()),
            Action::Protected(_) | Action::WouldProtect => Some(match &self.classification {
                Some(_) => "the protection policy matched".to_string(),
                None => "protected without classification".to_string(),
            }),
            Action::Failed(_) => None,
        }
    }
}

/// What the caller asks for this file.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    pub owner: Option<&'a str>,
    pub dry_run: bool,
    /// The task's root (folder mode and `watch` pass their folder): the file is reached beneath it, never through
    /// a link. `None` for a single file: beneath the configured share root containing it, else the file system
    /// root (see [`crate::platform::resolve_target`]).
    pub root: Option<&'a Path>,
}

/// Take `path` through the pipeline.
pub fn process(path: &Path, request: &Request<'_>, session: &Session) -> Outcome {
    let mut warnings = Vec::new();
    let (file, identity) = match check_file(path, request.root, &session.config().policy) {
        Ok(Checked::Skip(reason)) => return Outcome::new(Action::Skipped(reason)),
        Ok(Checked::Go { file, identity, damaged }) => {
            if let Some(why) = damaged {
                warnings.push(format!(
                    "{}: starts like a file protected by fci-connector but is damaged ({why}); treated like any other file",
                    path.display()
                ));
            }
            (file, identity)
        }
        Err(e) => return Outcome::new(Action::Failed(e)),
    };
    let mut classification = None;
    let mut policy_template = None;
    if let Some(rules) = session.rules() {
        let judged = verdict(Source::Open(file, path), rules, &session.config().limits, false);
        match (judged.verdict, judged.classification) {
            (_, Some(c)) if !c.is_complete() => {
                let err = Error::new(
                    ExitClass::Unreadable,
                    format!("{}: classification could not finish: {}", path.display(), problems(&c).join("; ")),
                );
                if let Some(o) = unreadable(err, &session.config().policy, &mut warnings, Some(c.clone())) {
                    return o;
                }
                classification = Some(c);
            }
            (Verdict::Skip(_), c) => {
                // Another invocation may have protected the file while we read it: then what we classified was
                // ciphertext, and the true reason is that it is already protected.
                let now = platform::resolve_target(path, request.root)
                    .and_then(|t| t.folder.open_file(&t.name))
                    .ok()
                    .and_then(|f| protect::status_of_file(&f, path).ok());
                let reason = match now {
                    Some(FileState::Protected(_)) => SkipReason::AlreadyProtected,
                    _ => SkipReason::NoRuleMatched,
                };
                return Outcome { classification: c, warnings, ..Outcome::new(Action::Skipped(reason)) };
            }
            (Verdict::Protect { template }, c) => {
                policy_template = template;
                classification = c;
            }
            (Verdict::Error(e), _) if e.class() == ExitClass::Unreadable => {
                if let Some(o) = unreadable(e, &session.config().policy, &mut warnings, None) {
                    return o;
                }
            }
            (Verdict::Error(e), _) => return Outcome::new(Action::Failed(e)),
        }
    }
    let template = match policy_template {
        // Named by the rule files (id or exact name): a problem with it is a rule-file problem (exit 6).
        Some(id) => match session.templates().resolve_policy(&id) {
            Ok(t) => t,
            Err(e) => {
                let e = e.context("the rule files' protection policy template");
                return Outcome { classification, ..Outcome::new(Action::Failed(e)) };
            }
        },
        None => match session.template() {
            Some(t) => t,
            None => {
                let remedy = ": give a template id or set default_template in the config";
                let e = Error::fixed_by(ExitClass::Usage, "no template", crate::error::Setting::Template, remedy);
                return Outcome { classification, ..Outcome::new(Action::Failed(e)) };
            }
        },
    };
    let chosen = Some((template.id.to_string(), template.name.clone()));
    if request.dry_run {
        // What protect would refuse (see protect::protect_file) is not "would protect".
        let action = if identity.links > 1 {
            Action::Failed(Error::new(
                ExitClass::HardLinked,
                format!(
                    "{}: would not be protected: the file has {} hard links, and its other names would keep the plaintext",
                    path.display(),
                    identity.links
                ),
            ))
        } else {
            Action::WouldProtect
        };
        return Outcome { action, template: chosen, classification, warnings, registration: None };
    }
    let protect_request = ProtectRequest {
        owner: request.owner,
        root: request.root,
        expected: Some(identity),
        license_server_ca: session.config().license_server_ca.as_deref(),
    };
    let mut registration = None;
    let action = match protect::protect_file(path, template, &protect_request) {
        Ok(ProtectOutcome::Protected { license, warnings: kept, registration: registered }) => {
            warnings.extend(kept);
            registration = registered;
            Action::Protected(Box::new(license))
        }
        Ok(ProtectOutcome::AlreadyProtected(_)) => Action::Skipped(SkipReason::AlreadyProtected),
        Err(e) => Action::Failed(e),
    };
    Outcome { action, template: chosen, classification, warnings, registration }
}

/// What the cheap checks found: leave the file alone, or go on with the file as it is now.
enum Checked {
    Skip(SkipReason),
    /// The file, open through its folder's handle, and what it was when opened. `damaged`: it starts like our
    /// container but is not a whole one (why): classified and protected like any file, so a planted header cannot
    /// exempt plaintext from the policy.
    Go {
        file: File,
        identity: FileIdentity,
        damaged: Option<String>,
    },
}

/// The cheap checks, before any content is read: a regular file reached beneath the task's root without following
/// a link (its identity recorded, so protect rewrites the very file that was classified), not an excluded type,
/// not already protected by us or by another product (only headers are read).
fn check_file(path: &Path, root: Option<&Path>, policy: &PolicyConfig) -> Result<Checked, Error> {
    let open = |e| Error::io("cannot open", path, e, ExitClass::NotFound);
    let target = platform::resolve_target(path, root).map_err(open)?;
    let file = target.folder.open_file(&target.name).map_err(open)?;
    let identity = platform::file_identity(&file).map_err(open)?;
    if policy.is_excluded(path) {
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        return Ok(Checked::Skip(SkipReason::ExcludedType(ext)));
    }
    match protect::status_of_file(&file, path)? {
        FileState::Protected(_) => Ok(Checked::Skip(SkipReason::AlreadyProtected)),
        FileState::ProtectedByOther(foreign) => {
            Ok(Checked::Skip(SkipReason::ProtectedByOther(foreign.protector.to_string())))
        }
        FileState::Damaged(why) => Ok(Checked::Go { file, identity, damaged: Some(why) }),
        FileState::Unprotected => Ok(Checked::Go { file, identity, damaged: None }),
    }
}

/// What the rules make of one file.
#[derive(Debug)]
pub enum Verdict {
    /// The protection policy matched; the template it names, if any (else the run's template is used).
    Protect { template: Option<String> },
    /// Leave it alone.
    Skip(SkipReason),
    /// It could not be classified: unreadable, gone, or a classification that could not finish without finding
    /// anything to protect (which cannot justify leaving it unprotected).
    Error(Error),
}

/// A [`Verdict`] and what the classification found on the way (when the file was classified).
#[derive(Debug)]
pub struct Judged {
    pub verdict: Verdict,
    pub classification: Option<Classification>,
}

impl Judged {
    fn error(err: Error) -> Judged {
        Judged { verdict: Verdict::Error(err), classification: None }
    }
}

/// Where a file's content is read from.
pub enum Source<'a> {
    /// A path only (`classify`, `rules test`): it must be a regular file, and a file another product protects is
    /// left alone without reading it (its content cannot be read, and must not be).
    Path(&'a Path),
    /// A file already open through its folder's handle, past the cheap checks ([`process`]); the path names it.
    Open(File, &'a Path),
}

/// Classify one file with `rules` and answer protect, skip or error — the one answer `protect`, `classify`,
/// `watch` and `rules test` give. `values`: keep up to five matched values per match (shown by `classify` only
/// when asked; never logged).
pub fn verdict(source: Source<'_>, rules: &RuleSet, limits: &Limits, values: bool) -> Judged {
    let path = match &source {
        Source::Open(_, path) | Source::Path(path) => *path,
    };
    let mut scanner = rules.scanner(path).with_values(values);
    let mut feed = |chunk: &str| scanner.feed(chunk);
    let extracted = match source {
        Source::Open(file, _) => extract::extract_file(file, path, limits, &mut feed),
        Source::Path(_) => {
            // One open, one status call and (for a small file) one read serve the protection check, the format
            // sniffing and the text: a folder run of small files is bound by system calls.
            let (mut file, head) = match detect::open_regular(path) {
                Ok(opened) => opened,
                Err(e) => return Judged::error(e),
            };
            match detect::foreign_protection_in(&head, &mut file, path) {
                Ok(Some(foreign)) => {
                    let reason = SkipReason::ProtectedByOther(foreign.protector.to_string());
                    return Judged { verdict: Verdict::Skip(reason), classification: None };
                }
                Ok(None) => extract::extract_after_head(file, head, path, limits, &mut feed),
                Err(e) => return Judged::error(e),
            }
        }
    };
    if let Err(e) = extracted {
        return Judged::error(e);
    }
    let c = scanner.finish();
    let verdict = match c.decision() {
        Decision::Protect { template } => Verdict::Protect { template: template.clone() },
        Decision::Skip if c.is_complete() => Verdict::Skip(SkipReason::NoRuleMatched),
        Decision::Skip => Verdict::Error(Error::new(
            ExitClass::Unreadable,
            format!("{}: classification incomplete: {}", path.display(), problems(&c).join("; ")),
        )),
    };
    Judged { verdict, classification: Some(c) }
}

/// The problems that kept a classification from finishing, as `source: message`.
pub fn problems(c: &Classification) -> Vec<String> {
    c.problems.iter().map(|p| format!("{}: {}", p.source, p.message)).collect()
}

/// Unreadable content: report it (exit 7) or, if the policy says so, carry on and protect it anyway.
fn unreadable(
    err: Error,
    policy: &PolicyConfig,
    warnings: &mut Vec<String>,
    classification: Option<Classification>,
) -> Option<Outcome> {
    match policy.unreadable {
        UnreadablePolicy::Report => Some(Outcome { classification, ..Outcome::new(Action::Failed(err)) }),
        UnreadablePolicy::Protect => {
            warnings.push(format!("{}; protecting it anyway (policy unreadable = \"protect\")", err.message()));
            None
        }
    }
}
