//! The optional config file, `fci-connector.toml` beside the executable or (Linux) in `/etc/fci-connector/` (or
//! `--config <FILE>`): where the rules, templates and logs are, the default template, and policy options.
//! Command-line options win over it. An invalid file, or one that others than its owner and the administrators can
//! change, is exit 6 with the file and the problem. Relative paths in it are relative to the file's own folder.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::extract::Limits;
use crate::{Error, ExitClass, locate};

/// What to do with a file whose content cannot be read (corrupt, or over the extraction limits).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum UnreadablePolicy {
    /// Leave it unprotected and exit 7, so FSRM's report shows it.
    #[default]
    Report,
    /// Protect it anyway (fail closed: content we cannot read may be sensitive).
    Protect,
}

/// `[log]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub dir: Option<PathBuf>,
    /// Rotate when the log reaches this size.
    pub max_bytes: u64,
    /// Rotated logs kept (`fci-connector.log.1` … `.N`).
    pub keep: u32,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { dir: None, max_bytes: 10 * 1024 * 1024, keep: 5 }
    }
}

/// `[policy]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    pub unreadable: UnreadablePolicy,
    /// File extensions never protected (with or without the dot, any case).
    pub excluded_extensions: Vec<String>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            unreadable: UnreadablePolicy::Report,
            // Executables and system files: protecting them breaks the machine, and they hold no documents.
            excluded_extensions: [
                "exe", "dll", "sys", "msi", "msp", "com", "cpl", "ocx", "scr", "drv", "lnk", "url", "ini", "cat",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl PolicyConfig {
    /// True when `path`'s extension is excluded.
    pub fn is_excluded(&self, path: &Path) -> bool {
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else { return false };
        self.excluded_extensions.iter().any(|x| x.trim_start_matches('.').eq_ignore_ascii_case(ext))
    }
}

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub rules: Option<PathBuf>,
    pub templates: Option<PathBuf>,
    pub default_template: Option<String>,
    /// The folders shared to users (`share_roots = ['/srv/share']`). A single file (an FSRM task, `protect FILE`)
    /// is reached beneath the longest one containing it, and no link below it is followed; a file in none of them
    /// is reached from the file system root, so a link anywhere in its path is refused.
    pub share_roots: Vec<PathBuf>,
    /// A PEM bundle of the CA certificates that sign the licensing service's TLS certificate, for registration
    /// (`<LicenseServer register="true">`) with a service under a private CA; absent: the OS trust store.
    pub license_server_ca: Option<PathBuf>,
    pub log: LogConfig,
    pub policy: PolicyConfig,
    pub limits: Limits,
    /// The file this was read from, if any.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Config {
    /// Read `explicit`, or `fci-connector.toml` beside the executable if there is one, or the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config, Error> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match locate::search_places(locate::CONFIG_FILE).into_iter().find(|p| p.is_file()) {
                Some(p) => p,
                None => return Ok(Config::default()),
            },
        };
        locate::check_trusted(&path, "config file")?;
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::new(ExitClass::Config, format!("cannot read the config file {}: {e}", path.display()))
        })?;
        let config = Self::parse(&text, &path)?;
        // Every command that reaches single files resolves them beneath these (see platform::resolve_target).
        crate::platform::set_share_roots(&config.share_roots);
        Ok(config)
    }

    /// Parse config text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let mut config: Config = toml::from_str(text).map_err(|e| toml_error(&e, text, path))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let anchor = |p: &mut Option<PathBuf>| {
            if let Some(rel) = p.as_mut().filter(|p| p.is_relative()) {
                *rel = base.join(&*rel);
            }
        };
        anchor(&mut config.rules);
        anchor(&mut config.templates);
        anchor(&mut config.log.dir);
        anchor(&mut config.license_server_ca);
        for root in &mut config.share_roots {
            if root.is_relative() {
                *root = base.join(&*root);
            }
        }
        if let Some(id) = &config.default_template {
            crate::protect::templates::parse_id(id)
                .map_err(|m| Error::new(ExitClass::Config, format!("{}: default_template: {m}", path.display())))?;
        }
        config.source = Some(path.to_path_buf());
        Ok(config)
    }
}

/// A TOML file's parse error as exit 6 naming `file:line:col` and the problem (this file and the service's).
pub fn toml_error(e: &toml::de::Error, text: &str, path: &Path) -> Error {
    let (line, col) = e.span().map_or((1, 1), |s| crate::xml::position(text, s.start as u64));
    Error::new(ExitClass::Config, format!("{}:{line}:{col}: {}", path.display(), e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_anchors_relative_paths() {
        let c = Config::parse(
            "rules = 'rules'\nshare_roots = ['/srv/share', 'local']\nlicense_server_ca = 'ca.pem'\ndefault_template = '{E6EE2481-26B9-45E5-B34A-F744EACD53B0}'\n[log]\nmax_bytes = 100\n[policy]\nunreadable = 'protect'\nexcluded_extensions = ['.pst']\n",
            Path::new("/etc/fci/fci-connector.toml"),
        )
        .unwrap();
        assert_eq!(c.rules.unwrap(), Path::new("/etc/fci/rules"));
        assert_eq!(c.license_server_ca.unwrap(), Path::new("/etc/fci/ca.pem"));
        assert_eq!(c.share_roots, [Path::new("/srv/share"), Path::new("/etc/fci/local")]);
        assert_eq!(c.log.max_bytes, 100);
        assert_eq!(c.log.keep, 5);
        assert_eq!(c.policy.unreadable, UnreadablePolicy::Protect);
        assert!(c.policy.is_excluded(Path::new("mail.PST")));
        assert!(!c.policy.is_excluded(Path::new("tool.exe")));
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let e = Config::parse("rules = 'x'\n[policy]\nunreadable = 'maybe'\n", Path::new("c.toml")).unwrap_err();
        assert_eq!(e.class(), ExitClass::Config);
        assert!(e.message().starts_with("c.toml:3:"), "{}", e.message());
        let e = Config::parse("colour = 1\n", Path::new("c.toml")).unwrap_err();
        assert!(e.message().contains("unknown field"), "{}", e.message());
        let e = Config::parse("default_template = 'nope'\n", Path::new("c.toml")).unwrap_err();
        assert!(e.message().contains("default_template"), "{}", e.message());
    }
}
