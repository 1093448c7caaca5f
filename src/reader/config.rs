//! `reader.toml`: the reader's settings. Read machine-wide first (an admin ships the trusted services), then per
//! user; or one file given explicitly instead of both. A file that does not exist is skipped (except an explicit
//! one); an invalid one is an error naming file:line:col (exit 6).
//!
//! ```toml
//! trusted_servers = ["https://rms.contoso.com/"]   # the only services that receive a sign-in
//! default_server = "https://rms.contoso.com/"      # files protected before licensing URLs, and bare content ids
//! ca_file = "contoso-root.pem"                     # extra trust anchors (PEM), relative to this file
//! [oidc]                                           # for `login`
//! issuer = "https://login.contoso.com/"
//! client_id = "fci-connector"
//! scopes = ["openid", "profile", "email", "offline_access"]
//! send = "id_token"                                # or "access_token": what goes to the service
//! ```
//!
//! Merging: `trusted_servers` of both files count; the per-user file's `default_server`, `ca_file` and `[oidc]`
//! replace the machine-wide ones.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ReaderError;
use super::trust::{ServiceUrl, TrustList};

/// The file name in each configuration folder.
pub const FILE_NAME: &str = "reader.toml";

/// The reader's settings, merged.
#[derive(Clone, Debug, Default)]
pub struct ReaderConfig {
    pub trusted_servers: Vec<ServiceUrl>,
    pub default_server: Option<ServiceUrl>,
    /// Absolute (anchored at the file that named it).
    pub ca_file: Option<PathBuf>,
    pub oidc: Option<OidcConfig>,
    /// The files read, in order.
    pub sources: Vec<PathBuf>,
}

/// OpenID Connect settings of `login` (device flow, authorization code + PKCE).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Which of the signed-in user's tokens goes to the licensing service (`login`; [`super::tokens::SendToken`]).
    #[serde(default)]
    pub send: super::tokens::SendToken,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    trusted_servers: Vec<toml::Spanned<String>>,
    default_server: Option<toml::Spanned<String>>,
    ca_file: Option<toml::Spanned<String>>,
    oidc: Option<toml::Spanned<OidcConfig>>,
}

impl ReaderConfig {
    /// The settings from `explicit` alone, or else from `machine` then `user` (each skipped when absent).
    pub fn load(explicit: Option<&Path>, machine: Option<&Path>, user: Option<&Path>) -> Result<Self, ReaderError> {
        let mut config = ReaderConfig::default();
        if let Some(path) = explicit {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ReaderError::Config(format!("cannot read {}: {e}", path.display())))?;
            config.merge(&text, path)?;
            return Ok(config);
        }
        for path in [machine, user].into_iter().flatten() {
            match std::fs::read_to_string(path) {
                Ok(text) => config.merge(&text, path)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ReaderError::Config(format!("cannot read {}: {e}", path.display()))),
            }
        }
        Ok(config)
    }

    /// Parse one file's text and lay it over these settings.
    pub fn merge(&mut self, text: &str, path: &Path) -> Result<(), ReaderError> {
        let at = |start: usize, message: &str| {
            let (line, col) = crate::xml::position(text, start as u64);
            ReaderError::Config(format!("{}:{line}:{col}: {message}", path.display()))
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| at(e.span().map_or(0, |s| s.start), e.message().trim_end()))?;
        let url =
            |s: &toml::Spanned<String>| ServiceUrl::parse(s.get_ref()).map_err(|e| at(s.span().start, &e.to_string()));
        for s in &raw.trusted_servers {
            let u = url(s)?;
            if !self.trusted_servers.contains(&u) {
                self.trusted_servers.push(u);
            }
        }
        if let Some(s) = &raw.default_server {
            self.default_server = Some(url(s)?);
        }
        if let Some(s) = &raw.ca_file {
            if s.get_ref().trim().is_empty() {
                return Err(at(s.span().start, "ca_file is empty"));
            }
            let base = path.parent().unwrap_or(Path::new("."));
            self.ca_file = Some(base.join(s.get_ref()));
        }
        if let Some(oidc) = raw.oidc {
            let span = oidc.span();
            let oidc = oidc.into_inner();
            if oidc.issuer.trim().is_empty() || oidc.client_id.trim().is_empty() {
                return Err(at(span.start, "[oidc] needs an issuer and a client_id"));
            }
            self.oidc = Some(oidc);
        }
        self.sources.push(path.to_path_buf());
        Ok(())
    }

    /// The trusted services of these settings.
    pub fn trust_list(&self) -> TrustList {
        TrustList::new(self.trusted_servers.iter().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ReaderConfig, ReaderError> {
        let mut c = ReaderConfig::default();
        c.merge(text, Path::new("/etc/fci-connector/reader.toml"))?;
        Ok(c)
    }

    #[test]
    fn every_key_parses_and_paths_anchor_at_the_file() {
        let c = parse(
            "trusted_servers = [\"https://RMS.contoso.com\", \"https://rms2.contoso.com:8443/x\"]\n\
             default_server = \"https://rms.contoso.com/\"\nca_file = \"root.pem\"\n\
             [oidc]\nissuer = \"https://login.contoso.com/\"\nclient_id = \"fci\"\nscopes = [\"openid\", \"email\"]\n",
        )
        .unwrap();
        assert_eq!(c.trusted_servers.len(), 2);
        assert_eq!(c.trusted_servers[0].to_string(), "https://rms.contoso.com/");
        assert_eq!(c.default_server, Some(ServiceUrl::parse("https://rms.contoso.com").unwrap()));
        assert_eq!(c.ca_file, Some(PathBuf::from("/etc/fci-connector/root.pem")));
        let oidc = c.oidc.unwrap();
        assert_eq!((oidc.client_id.as_str(), oidc.scopes.len()), ("fci", 2));
        assert!(parse("").unwrap().trusted_servers.is_empty());
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse("trusted_servers = [\n  \"https://ok.test/\",\n  \"http://plain.test/\"]\n").unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("/etc/fci-connector/reader.toml:3:3: "), "{text}");
        assert!(text.contains("only https://"), "{text}");
        assert_eq!(e.class(), crate::ExitClass::Config);
        let e = parse("trusted = []\n").unwrap_err().to_string();
        assert!(e.starts_with("/etc/fci-connector/reader.toml:1:1: "), "{e}");
        assert!(e.contains("unknown field"), "{e}");
        let e = parse("\n[oidc]\nissuer = \"\"\nclient_id = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains(":2:1: [oidc] needs"), "{e}");
    }

    #[test]
    fn machine_then_user_merge_and_an_explicit_file_replaces_both() {
        let dir = tempfile::tempdir().unwrap();
        let machine = dir.path().join("machine.toml");
        let user = dir.path().join("user.toml");
        let explicit = dir.path().join("explicit.toml");
        std::fs::write(&machine, "trusted_servers = [\"https://a.test/\"]\ndefault_server = \"https://a.test/\"\n")
            .unwrap();
        std::fs::write(&user, "trusted_servers = [\"https://b.test/\"]\ndefault_server = \"https://b.test/\"\n")
            .unwrap();
        std::fs::write(&explicit, "trusted_servers = [\"https://c.test/\"]\n").unwrap();
        let c = ReaderConfig::load(None, Some(&machine), Some(&user)).unwrap();
        let trusted: Vec<String> = c.trusted_servers.iter().map(|u| u.to_string()).collect();
        assert_eq!(trusted, ["https://a.test/", "https://b.test/"]);
        assert_eq!(c.default_server.unwrap().to_string(), "https://b.test/");
        let c = ReaderConfig::load(None, Some(&dir.path().join("none.toml")), Some(&user)).unwrap();
        assert_eq!(c.sources, std::slice::from_ref(&user));
        let c = ReaderConfig::load(Some(&explicit), Some(&machine), Some(&user)).unwrap();
        assert_eq!(c.trusted_servers.len(), 1);
        assert!(c.default_server.is_none());
        assert!(ReaderConfig::load(Some(&dir.path().join("none.toml")), None, None).is_err());
    }
}
