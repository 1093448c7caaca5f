//! A run, set up once from its [`Settings`]: the config, the template store, the template asked for (looked up
//! once, so a wrong id shows on every file, not only on the ones the policy protects) and the rule set. Every file
//! of the run goes through [`Session::process`]; a folder run, `watch` and, later, the service share one session.

use std::path::{Path, PathBuf};

use super::settings::Settings;
use super::verdict::{self, Outcome, Request};
use crate::Error;
use crate::classify::RuleSet;
use crate::config::Config;
use crate::protect::templates::{Template, TemplateStore};

/// What every file of a run shares.
pub struct Session {
    config: Config,
    store: TemplateStore,
    template: Option<Template>,
    /// `None` with [`Settings::always`]: protect without classifying.
    rules: Option<RuleSet>,
    /// Known even without rules, so that a run over a tree never processes it.
    rules_dir: Option<PathBuf>,
}

impl Session {
    /// Open the template store, look up the template, load the rules.
    pub fn open(settings: &Settings) -> Result<Session, Error> {
        let store = settings.template_store()?;
        let template = settings.template_id().map(|id| store.get(id).cloned()).transpose()?;
        let rules_dir = settings.rules_dir();
        let rules = if settings.always { None } else { Some(settings.load_rules()?.1.rules) };
        Ok(Session { config: settings.config.clone(), store, template, rules, rules_dir })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn templates(&self) -> &TemplateStore {
        &self.store
    }

    /// The template asked for (or the config's default), used when the policy names none.
    pub fn template(&self) -> Option<&Template> {
        self.template.as_ref()
    }

    /// The rule set; `None` when files are protected without classifying.
    pub fn rules(&self) -> Option<&RuleSet> {
        self.rules.as_ref()
    }

    /// Take `path` through the pipeline ([`verdict::process`]).
    pub fn process(&self, path: &Path, request: &Request<'_>) -> Outcome {
        verdict::process(path, request, self)
    }

    /// The folders this program keeps its own files in, which no run over a tree may process: the template
    /// store, the rule folder and the invocation log folder.
    pub fn private_folders(&self, log_dir: Option<&Path>) -> Vec<PathBuf> {
        [Some(self.store.dir.clone()), self.rules_dir.clone(), log_dir.map(Path::to_path_buf)]
            .into_iter()
            .flatten()
            .collect()
    }
}
