//! What a run asks for, as plain data: the config file and what the command line (or, later, the service) says on
//! top of it. The one place where the rule folder, the template store and the template id are worked out.

use std::path::PathBuf;

use crate::classify::{LoadedRules, RuleSet};
use crate::config::Config;
use crate::protect::templates::TemplateStore;
use crate::{Error, ExitClass, locate};

/// The settings of a run. What is given here wins over the config file, which wins over the default search
/// beside the executable ([`crate::locate`]).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The config file as read (or the defaults when there is none).
    pub config: Config,
    /// The template store asked for.
    pub templates: Option<PathBuf>,
    /// The rule folder asked for.
    pub rules: Option<PathBuf>,
    /// The template id asked for (any GUID spelling); else the config's `default_template`.
    pub template: Option<String>,
    /// Protect without classifying: no rule set is loaded (for sites whose FSRM rules already classified).
    pub always: bool,
}

impl Settings {
    /// Settings from the config alone.
    pub fn new(config: Config) -> Settings {
        Settings { config, ..Settings::default() }
    }

    /// The rule folder: asked for, else the config's `rules`, else the default search.
    pub fn rules_dir(&self) -> Option<PathBuf> {
        self.rules.clone().or_else(|| self.config.rules.clone()).or_else(|| locate::rules_dir(None))
    }

    /// [`Self::rules_dir`], or a Config error saying where it was looked for.
    pub fn rule_folder(&self) -> Result<PathBuf, Error> {
        self.rules_dir().ok_or_else(|| {
            Error::new(
                ExitClass::Config,
                format!(
                    "no rule folder: none was given or configured, and there is no {}/ beside the executable",
                    locate::RULES_DIR
                ),
            )
        })
    }

    /// Load the rule folder: the folder, and the rules with their warnings.
    pub fn load_rules(&self) -> Result<(PathBuf, LoadedRules), Error> {
        let dir = self.rule_folder()?;
        let loaded = RuleSet::load(&dir)?;
        Ok((dir, loaded))
    }

    /// The template store folder: asked for, else the config's `templates`, else the default search.
    pub fn templates_dir(&self) -> Option<PathBuf> {
        self.templates.clone().or_else(|| self.config.templates.clone()).or_else(|| locate::templates_dir(None))
    }

    /// Open the template store of [`Self::templates_dir`].
    pub fn template_store(&self) -> Result<TemplateStore, Error> {
        let dir = self.templates_dir().ok_or_else(|| {
            Error::new(
                ExitClass::Config,
                format!(
                    "no template store: none was given or configured, and there is no {}/ folder beside the \
                     executable",
                    locate::TEMPLATES_DIR
                ),
            )
        })?;
        TemplateStore::load(&dir)
    }

    /// The template id asked for, else the config's default, as given.
    pub fn template_id(&self) -> Option<&str> {
        self.template.as_deref().or(self.config.default_template.as_deref())
    }
}
