//! The licensing service (`fci-connector serve`): an HTTPS server that holds the templates' issuer keys, signs in
//! users (OpenID Connect bearer tokens, TLS client certificates), releases a file's content key, sealed to the
//! reader's one-time key in a signed use license, only to the people the template's current grants name, before
//! the content expires and while it is not revoked, and records every request (docs/SERVICE.md).
//!
//! - [`config`]: the service's config file;
//! - [`store`]: documents, revocations and the request record (SQLite or PostgreSQL);
//! - [`auth`] and [`tls`]: who is asking; [`ldap`]: the groups a directory says they are in;
//! - [`policy`]: which rights they have (pure functions);
//! - [`license`]: the license block's checks (parse, issuer key, unwrap, MAC) and the content-key cache;
//! - [`http`]: the API of [`crate::licensing::api`], the audit of every request, metrics, shutdown.

pub mod auth;
pub mod config;
pub mod http;
pub mod ldap;
pub mod license;
pub mod metrics;
pub mod policy;
pub mod portal;
pub mod store;
pub mod tls;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use zeroize::Zeroizing;

use self::config::ServiceConfig;
use self::license::{IssuerKeys, KeyCache};
use crate::licensing::use_license::Signer;
use crate::protect::keys::HolderKey;
use crate::protect::templates::TemplateStore;
use crate::{Error, ExitClass};

/// Content keys kept for repeated opens.
pub const KEY_CACHE_ENTRIES: usize = 100_000;

/// Everything a request needs, shared by all connections.
pub struct Service {
    pub config: ServiceConfig,
    pub public_url: String,
    pub issuer_keys: IssuerKeys,
    pub signer: Signer,
    pub templates: RwLock<Arc<TemplateStore>>,
    templates_fingerprint: std::sync::Mutex<Vec<(PathBuf, Option<std::time::SystemTime>, u64)>>,
    pub store: store::Store,
    pub auth: auth::Authenticator,
    /// Directory groups, when `[groups.ldap]` is configured.
    pub directory: Option<ldap::LdapGroups>,
    pub cache: KeyCache,
    pub metrics: metrics::Metrics,
    pub limiter: http::RateLimiter,
    /// The tracking site, with `[portal]`.
    pub portal: Option<portal::Portal>,
}

/// Refuse a private key file others can read, as ssh does.
pub fn check_key_file(path: &Path, what: &str) -> Result<(), Error> {
    match crate::platform::secret_file_problem(path) {
        Ok(None) => Ok(()),
        Ok(Some(untrusted)) => Err(Error::new(
            ExitClass::Config,
            format!("refusing the {what} {}: {} (fix: {})", path.display(), untrusted.problem, untrusted.fix),
        )),
        Err(e) => Err(Error::io(&format!("cannot read the {what}"), path, e, ExitClass::Config)),
    }
}

/// A passphrase from the environment variable `name`, or from the systemd credential of that name
/// (`$CREDENTIALS_DIRECTORY/<name>`, `LoadCredential=`).
pub(crate) fn passphrase(name: &str) -> Result<Zeroizing<String>, Error> {
    if let Ok(value) = std::env::var(name)
        && !value.is_empty()
    {
        return Ok(Zeroizing::new(value));
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let path = Path::new(&dir).join(name);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string()));
        }
    }
    Err(Error::new(
        ExitClass::Config,
        format!("passphrase_env {name}: neither the environment variable nor a systemd credential of that name is set"),
    ))
}

/// The folder's template files with their times and sizes: a change means the store is read again.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, Option<std::time::SystemTime>, u64)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let meta = e.metadata().ok()?;
                    Some((e.path(), meta.modified().ok(), meta.len()))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

impl Service {
    /// Load keys, templates and sign-in configuration; open the store. Every problem is a [`ExitClass::Config`]
    /// error naming its file.
    pub async fn load(config: ServiceConfig) -> Result<Service, Error> {
        let mut issuer_keys = IssuerKeys::new();
        for k in &config.issuer_keys {
            check_key_file(&k.path, "issuer key")?;
            let pass = k.passphrase_env.as_deref().map(passphrase).transpose()?;
            let mut key = HolderKey::read(&k.path, pass.as_deref().map(|p| p.as_bytes()))
                .map_err(|e| Error::new(ExitClass::Config, e.message().to_string()))?;
            if !key.use_aws_lc() {
                tracing::warn!(key = %k.path.display(), "AWS-LC refused the issuer key; unwrapping with the rsa crate");
            }
            issuer_keys.insert(key.id.clone(), key);
        }
        check_key_file(&config.signing_key, "signing key")?;
        let pem = Zeroizing::new(
            std::fs::read_to_string(&config.signing_key)
                .map_err(|e| Error::io("cannot read the signing key", &config.signing_key, e, ExitClass::Config))?,
        );
        let signer = Signer::from_pkcs8_pem(&pem)
            .map_err(|e| Error::new(ExitClass::Config, format!("{}: {e}", config.signing_key.display())))?;
        let templates = TemplateStore::load(&config.templates)?;
        for problem in &templates.problems {
            tracing::warn!(%problem, "template not served");
        }
        for t in &templates.templates {
            if !issuer_keys.contains_key(&t.issuer.id) {
                tracing::warn!(template = %t.id, name = %t.name, "no issuer key configured for this template");
            }
        }
        let portal = portal::Portal::new(&config)?;
        let directory = config
            .groups
            .ldap
            .clone()
            .map(ldap::LdapGroups::from_settings)
            .transpose()
            .map_err(|e| Error::new(ExitClass::Config, format!("{}: {e}", config.source.display())))?;
        let oidc = config.auth.oidc.as_ref().map(auth::Oidc::new).transpose()?;
        let certs = config.auth.client_certs.as_ref().map(|c| auth::CertAuth::new(c, tls::provider())).transpose()?;
        let store = store::Store::open(&config.store.url, config.base())
            .await
            .map_err(|e| Error::new(ExitClass::Config, format!("{}: {e}", config.source.display())))?;
        Ok(Service {
            public_url: config.public_url(),
            issuer_keys,
            signer,
            templates_fingerprint: std::sync::Mutex::new(fingerprint(&config.templates)),
            templates: RwLock::new(Arc::new(templates)),
            store,
            auth: auth::Authenticator { oidc, certs },
            directory,
            cache: KeyCache::new(KEY_CACHE_ENTRIES),
            metrics: metrics::Metrics::new(),
            limiter: http::RateLimiter::new(config.limits.requests_per_minute),
            portal,
            config,
        })
    }

    /// The template store as it is now.
    pub fn templates(&self) -> Arc<TemplateStore> {
        self.templates.read().map(|t| t.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Read the template store again if a file in it changed (grants edited by the admin apply at once).
    pub fn reload_templates_if_changed(&self) {
        let now = fingerprint(&self.config.templates);
        {
            let Ok(mut last) = self.templates_fingerprint.lock() else { return };
            if *last == now {
                return;
            }
            *last = now;
        }
        match TemplateStore::load(&self.config.templates) {
            Ok(store) => {
                tracing::info!(
                    templates = store.templates.len(),
                    problems = store.problems.len(),
                    "templates reloaded"
                );
                if let Ok(mut t) = self.templates.write() {
                    *t = Arc::new(store);
                }
            }
            Err(e) => tracing::error!(problem = %e.message(), "cannot reload the template store; keeping the last one"),
        }
    }
}

/// Set up logging: JSON lines on standard error, or appended to `log_file`; level from `RUST_LOG` (default
/// `info`).
fn init_logging(log_file: Option<&Path>) -> Result<(), Error> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().json().with_env_filter(filter);
    match log_file {
        None => {
            let _ = builder.with_writer(std::io::stderr).try_init();
        }
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::io("cannot open the service log", path, e, ExitClass::Config))?;
            let _ = builder.with_ansi(false).with_writer(std::sync::Mutex::new(file)).try_init();
        }
    }
    Ok(())
}

/// Run the service with the config file at `path` until it is asked to stop; logs on standard error.
pub fn run(path: &Path) -> Result<(), Error> {
    run_logging_to(path, None)
}

/// The log file of a service that has no standard error (a Windows service): the config file's name with `.log`,
/// beside it (`licensing.toml` → `licensing.log`).
pub fn log_file_for(config: &Path) -> PathBuf {
    config.with_extension("log")
}

/// [`run`], logging to `log_file` when given (appended), else to standard error.
pub fn run_logging_to(path: &Path, log_file: Option<&Path>) -> Result<(), Error> {
    init_logging(log_file)?;
    let config = ServiceConfig::load(path)?;
    check_key_file(&config.tls_key, "TLS key")?;
    let tls = tls::server_config(&config.tls_cert, &config.tls_key, config.auth.client_certs.is_some())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("fci-serve")
        .build()
        .map_err(|e| Error::new(ExitClass::Internal, format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let service = Arc::new(Service::load(config).await?);
        http::serve(service, Arc::new(tls)).await
    })
}
