//! The service's config file (`fci-connector serve <SERVICE.toml>`, docs/SERVICE.md "Configuration"). Relative paths
//! are relative to the file's folder. An invalid file is [`ExitClass::Config`] (exit 6) naming `file:line:col`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Error, ExitClass};

/// One `[[issuer_keys]]` entry: the private half of a template's `IssuerKey`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerKeyConfig {
    pub path: PathBuf,
    /// The environment variable (or systemd credential of that name) holding the key's passphrase.
    pub passphrase_env: Option<String>,
}

/// `[store]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://licensing.db` (relative to the config file) or `postgres://…`.
    pub url: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { url: "sqlite://licensing.db".into() }
    }
}

/// `[auth.oidc]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    pub issuer: String,
    pub audience: String,
    pub jwks_file: Option<PathBuf>,
    pub jwks_url: Option<String>,
    /// The claim naming the principal; default: `upn`, then `preferred_username`, then `email`.
    pub principal_claim: Option<String>,
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
}

fn default_groups_claim() -> String {
    "groups".into()
}

/// `[auth.client_certs]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertConfig {
    /// The CA bundle (PEM) users' certificates must chain to.
    pub ca_file: PathBuf,
}

/// `[auth]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub oidc: Option<OidcConfig>,
    pub client_certs: Option<ClientCertConfig>,
}

/// `[groups]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupsConfig {
    /// `[groups.ldap]`: group membership from Active Directory or OpenLDAP ([`crate::service::ldap`]).
    pub ldap: Option<crate::service::ldap::LdapSettings>,
}

/// `[limits]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Requests per minute and principal (registration: per client address); 0: no limit.
    pub requests_per_minute: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig { requests_per_minute: 600 }
    }
}

/// `[portal]`: the tracking site (docs/SERVICE.md "The tracking site"). Sign-in with the `[auth.oidc]` issuer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// The site's client id at the OpenID provider.
    pub client_id: String,
    /// The environment variable (or systemd credential) holding the client secret; absent: a public client (PKCE).
    pub client_secret_env: Option<String>,
    /// Where the provider sends the browser back: `https://…/portal/callback`.
    pub redirect_url: String,
    /// The environment variable (or systemd credential) holding the session cookie key (at least 32 bytes; the
    /// same on every instance).
    pub session_key_env: String,
    #[serde(default = "default_idle")]
    pub idle_timeout_minutes: u32,
    /// The scopes asked for; default `openid profile email`.
    #[serde(default = "default_portal_scopes")]
    pub scopes: Vec<String>,
}

fn default_idle() -> u32 {
    30
}

fn default_portal_scopes() -> Vec<String> {
    ["openid", "profile", "email"].into_iter().map(String::from).collect()
}

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub listen: SocketAddr,
    /// The URL clients use (the `LicenseServer` URL of the templates); default `https://<listen>/`.
    pub public_url: Option<String>,
    /// Optional plain-HTTP listener for `/healthz` and `/metrics`, loopback addresses only.
    pub health_listen: Option<SocketAddr>,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub templates: PathBuf,
    #[serde(default)]
    pub admins: Vec<String>,
    pub signing_key: PathBuf,
    #[serde(default = "default_retention")]
    pub audit_retention_days: u32,
    #[serde(default)]
    pub issuer_keys: Vec<IssuerKeyConfig>,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub groups: GroupsConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    pub portal: Option<PortalConfig>,
    /// The file this was read from.
    #[serde(skip)]
    pub source: PathBuf,
}

fn default_retention() -> u32 {
    365
}

impl ServiceConfig {
    /// Read and check the config file.
    pub fn load(path: &Path) -> Result<ServiceConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(ExitClass::Config, format!("cannot read the service config {}: {e}", path.display()))
        })?;
        Self::parse(&text, path)
    }

    /// Parse config text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<ServiceConfig, Error> {
        let mut c: ServiceConfig = toml::from_str(text).map_err(|e| crate::config::toml_error(&e, text, path))?;
        // Semantic problems point at the key that has them.
        let at = |key: &str, message: String| {
            let (line, col) = key_position(text, key);
            Error::new(ExitClass::Config, format!("{}:{line}:{col}: {message}", path.display()))
        };
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let anchor = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        anchor(&mut c.tls_cert);
        anchor(&mut c.tls_key);
        anchor(&mut c.templates);
        anchor(&mut c.signing_key);
        for k in &mut c.issuer_keys {
            anchor(&mut k.path);
        }
        if let Some(oidc) = c.auth.oidc.as_mut() {
            if let Some(f) = oidc.jwks_file.as_mut() {
                anchor(f);
            }
            match (&oidc.jwks_file, &oidc.jwks_url) {
                (Some(_), Some(_)) => {
                    return Err(at("jwks_url", "[auth.oidc]: give jwks_file or jwks_url, not both".into()));
                }
                (None, None) => return Err(at("[auth.oidc]", "[auth.oidc]: give jwks_file or jwks_url".into())),
                (None, Some(url)) if !url.starts_with("https://") => {
                    return Err(at("jwks_url", format!("[auth.oidc] jwks_url {url:?}: an https:// URL is needed")));
                }
                _ => {}
            }
        }
        if let Some(certs) = c.auth.client_certs.as_mut() {
            anchor(&mut certs.ca_file);
        }
        if c.auth.oidc.is_none() && c.auth.client_certs.is_none() {
            return Err(at("[auth", "no sign-in method: configure [auth.oidc], [auth.client_certs] or both".into()));
        }
        if c.issuer_keys.is_empty() {
            return Err(at("[[issuer_keys]]", "no [[issuer_keys]]: the service could open no file".into()));
        }
        if let Some(h) = c.health_listen
            && !h.ip().is_loopback()
        {
            return Err(at("health_listen", format!("health_listen {h}: only a loopback address is allowed")));
        }
        if let Some(url) = &c.public_url
            && !url.starts_with("https://")
        {
            return Err(at("public_url", format!("public_url {url:?}: an https:// URL is needed")));
        }
        if !(c.store.url.starts_with("sqlite://") || c.store.url.starts_with("postgres://")) {
            return Err(at("url", format!("[store] url {:?}: expected sqlite://FILE or postgres://…", c.store.url)));
        }
        if let Some(p) = &c.portal {
            if c.auth.oidc.is_none() {
                return Err(at("[portal]", "[portal]: signing in to the site needs [auth.oidc] (its issuer)".into()));
            }
            if !p.redirect_url.starts_with("https://") || !p.redirect_url.ends_with("/portal/callback") {
                return Err(at(
                    "redirect_url",
                    format!("[portal] redirect_url {:?}: expected https://HOST[:PORT]/portal/callback", p.redirect_url),
                ));
            }
            if p.idle_timeout_minutes == 0 {
                return Err(at("idle_timeout_minutes", "[portal] idle_timeout_minutes: at least 1".into()));
            }
        }
        c.source = path.to_path_buf();
        Ok(c)
    }

    /// The folder relative paths are anchored at.
    pub fn base(&self) -> &Path {
        self.source.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
    }

    /// The URL clients reach the service at, ending in `/`.
    pub fn public_url(&self) -> String {
        let url = self.public_url.clone().unwrap_or_else(|| format!("https://{}/", self.listen));
        if url.ends_with('/') { url } else { url + "/" }
    }
}

/// Line and column (1-based) of the first occurrence of `key` at the start of a line, or 1:1.
fn key_position(text: &str, key: &str) -> (u64, u64) {
    text.lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with(key))
        .map_or((1, 1), |(i, l)| (i as u64 + 1, (l.len() - l.trim_start().len()) as u64 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
listen = "127.0.0.1:8443"
tls_cert = "tls/server.pem"
tls_key = "tls/server.key"
templates = "templates"
admins = ["secadmin@contoso.com"]
signing_key = "keys/service-signing.key.pem"
audit_retention_days = 30
[[issuer_keys]]
path = "keys/confidential.key.pem"
passphrase_env = "FCI_KEY_PASSPHRASE"
[store]
url = "sqlite://licensing.db"
[auth.oidc]
issuer = "https://login.contoso.com/"
audience = "fci-connector"
jwks_file = "jwks.json"
principal_claim = "upn"
[auth.client_certs]
ca_file = "/etc/pki/users-ca.pem"
[groups.ldap]
url = "ldap://dc1.contoso.com"
base_dn = "DC=contoso,DC=com"
bind_dn = "CN=fci-svc,OU=Service,DC=contoso,DC=com"
password_env = "FCI_LDAP_PASSWORD"
"#;

    #[test]
    fn the_documented_file_parses_and_paths_are_anchored() {
        let c = ServiceConfig::parse(GOOD, Path::new("/etc/fci/serve.toml")).unwrap();
        assert_eq!(c.tls_cert, Path::new("/etc/fci/tls/server.pem"));
        assert_eq!(c.issuer_keys[0].path, Path::new("/etc/fci/keys/confidential.key.pem"));
        assert_eq!(c.auth.oidc.as_ref().unwrap().jwks_file.as_deref(), Some(Path::new("/etc/fci/jwks.json")));
        assert_eq!(c.auth.oidc.as_ref().unwrap().groups_claim, "groups");
        assert_eq!(c.auth.client_certs.as_ref().unwrap().ca_file, Path::new("/etc/pki/users-ca.pem"));
        assert_eq!(c.audit_retention_days, 30);
        assert_eq!(c.public_url(), "https://127.0.0.1:8443/");
        assert_eq!(c.limits.requests_per_minute, 600);
        assert_eq!(c.groups.ldap.unwrap().base_dn, "DC=contoso,DC=com");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let bad = GOOD.replace("listen = \"127.0.0.1:8443\"", "listen = \"nowhere\"");
        let e = ServiceConfig::parse(&bad, Path::new("s.toml")).unwrap_err();
        assert_eq!(e.class(), ExitClass::Config);
        assert!(e.message().starts_with("s.toml:2:10:"), "{}", e.message());
        let bad = GOOD.replace("admins", "admin");
        let e = ServiceConfig::parse(&bad, Path::new("s.toml")).unwrap_err();
        assert!(e.message().starts_with("s.toml:6:") && e.message().contains("unknown field"), "{}", e.message());
        let bad = format!("health_listen = \"0.0.0.0:9000\"\n{GOOD}");
        let e = ServiceConfig::parse(&bad, Path::new("s.toml")).unwrap_err();
        assert!(e.message().starts_with("s.toml:1:1:") && e.message().contains("loopback"), "{}", e.message());
    }

    #[test]
    fn the_portal_section_has_defaults_and_checks_its_redirect() {
        let portal = "[portal]\nclient_id = \"fci-portal\"\nredirect_url = \"https://rms.contoso.com/portal/callback\"\n\
                      session_key_env = \"FCI_PORTAL_KEY\"\n";
        let c = ServiceConfig::parse(&format!("{GOOD}{portal}"), Path::new("s.toml")).unwrap();
        let p = c.portal.unwrap();
        assert_eq!((p.idle_timeout_minutes, p.client_secret_env, p.scopes.len()), (30, None, 3));
        let bad = format!("{GOOD}{}", portal.replace("https://rms.contoso.com/portal/callback", "http://x/cb"));
        let e = ServiceConfig::parse(&bad, Path::new("s.toml")).unwrap_err();
        let line = GOOD.lines().count() + 3;
        assert!(e.message().starts_with(&format!("s.toml:{line}:1:")), "{}", e.message());
        assert!(e.message().contains("redirect_url"), "{}", e.message());
    }
}
