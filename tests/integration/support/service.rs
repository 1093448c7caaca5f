//! A licensing service deployment in a temporary folder, started through the real binary: issuer key and template
//! made with `keys generate` and `templates create`, a P-256 signing key, a TLS server certificate, a users' CA,
//! a JWKS file, an SQLite store, and the config file tying them together. [`Deployment::start`] runs
//! `fci-connector serve` on a free loopback port and returns once it accepts connections; dropping the
//! [`Running`] service kills it.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::oidc::Idp;
use super::pki::Ca;
use crate::util;

/// The template every deployment serves.
pub const TEMPLATE_ID: &str = "5a1f0c3e-2b7d-4c61-9e8a-0d3b6f2a9c10";
/// A second template on the same issuer key (grants everyone at contoso.com VIEW): the target of a swapped id.
pub const OPEN_TEMPLATE_ID: &str = "7c2e9b1a-4d3f-4e8a-b6c5-1f0a2d3e4b5c";
/// The service's admin.
pub const ADMIN: &str = "secadmin@contoso.com";
/// How long a start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The grants of [`TEMPLATE_ID`].
pub const GRANTS: [&str; 3] = ["alice@contoso.com=VIEW,EDIT", "finance=VIEW,PRINT", "@fabrikam.com=VIEW"];

/// Write a private file, readable by its owner only (where modes exist).
pub fn write_secret(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path).unwrap();
    fci_connector::platform::restrict_to_owner(&f).unwrap();
    f.write_all(bytes).unwrap();
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Everything a service needs, in one temporary folder.
pub struct Deployment {
    pub dir: tempfile::TempDir,
    /// Issues the server's TLS certificate; clients trust it.
    pub server_ca: Ca,
    /// Issues users' client certificates; the service trusts it.
    pub users_ca: Ca,
    pub idp: Idp,
    pub port: u16,
    /// The template store (the same folder `protect` uses).
    pub templates: PathBuf,
    pub issuer_key: PathBuf,
    pub issuer_pub: PathBuf,
    pub config: PathBuf,
}

impl Default for Deployment {
    fn default() -> Self {
        Self::new()
    }
}

impl Deployment {
    /// A deployment with the default config ([`Deployment::write_config`] with nothing extra).
    pub fn new() -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Chosen first: the templates will name the service's URL.
        let port = free_port();
        for sub in ["keys", "tls", "templates", "data"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        let keys = root.join("keys");
        util::cmd()
            .args(["keys", "generate", "--name", "issuer", "--bits", "2048", "--out"])
            .arg(&keys)
            .assert()
            .success();
        let templates = root.join("templates");
        let issuer_pub = keys.join("issuer.pub.pem");
        // Once `templates create --license-server URL` exists (format 1.1), both templates name this service's
        // URL (`format!("https://127.0.0.1:{port}/")`) so that `protect` writes it into
        // every license.
        let mut create = util::cmd();
        create.arg("--templates").arg(&templates).args(["templates", "create", "--id", TEMPLATE_ID]);
        create.args(["--name", "Contoso - Confidential", "--expires-after-days", "365", "--offline-days", "7"]);
        create.arg("--key").arg(&issuer_pub);
        for g in GRANTS {
            create.args(["--grant", g]);
        }
        create.assert().success();
        let mut open = util::cmd();
        open.arg("--templates").arg(&templates).args(["templates", "create", "--id", OPEN_TEMPLATE_ID]);
        open.args(["--name", "Contoso - General", "--grant", "@contoso.com=VIEW", "--key"]).arg(&issuer_pub);
        open.assert().success();
        let signing = rcgen::KeyPair::generate().unwrap().serialize_pem();
        write_secret(&keys.join("signing.key.pem"), signing.as_bytes());
        let server_ca = Ca::new("Test Server CA");
        server_ca.server().write(&root.join("tls"), "server");
        std::fs::write(root.join("tls/server-ca.pem"), &server_ca.pem).unwrap();
        let users_ca = Ca::new("Test Users CA");
        std::fs::write(root.join("tls/users-ca.pem"), &users_ca.pem).unwrap();
        let idp = Idp::new();
        std::fs::write(root.join("jwks.json"), idp.jwks_json()).unwrap();
        let d = Deployment {
            port,
            templates,
            issuer_key: keys.join("issuer.key.pem"),
            issuer_pub,
            config: root.join("serve.toml"),
            dir,
            server_ca,
            users_ca,
            idp,
        };
        d.write_config("");
        d
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The URL clients use.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The config text: everything relative to the folder; `extra` is appended at the top level (before the
    /// tables).
    pub fn config_text(&self, extra: &str) -> String {
        format!(
            r#"listen = "127.0.0.1:{port}"
tls_cert = "tls/server.pem"
tls_key = "tls/server.key"
templates = "templates"
admins = ["{ADMIN}"]
signing_key = "keys/signing.key.pem"
audit_retention_days = 365
{extra}
[[issuer_keys]]
path = "keys/issuer.key.pem"

[store]
url = "sqlite://licensing.db"

[limits]
requests_per_minute = 0

[auth.oidc]
issuer = "{issuer}"
audience = "{audience}"
jwks_file = "jwks.json"

[auth.client_certs]
ca_file = "tls/users-ca.pem"
"#,
            port = self.port,
            issuer = super::oidc::ISSUER,
            audience = super::oidc::AUDIENCE,
        )
    }

    /// (Re)write the config file.
    pub fn write_config(&self, extra: &str) {
        std::fs::write(&self.config, self.config_text(extra)).unwrap();
    }

    /// Encrypt the issuer key in place with `passphrase` (PKCS#8 PBES2, scrypt and AES-256-CBC, as `keys generate
    /// --passphrase-env` writes it, at a lower scrypt cost) and name `passphrase_env` for it in the config.
    pub fn encrypt_issuer_key(&self, passphrase: &str, passphrase_env: &str) {
        use pkcs8::der::Decode;
        use pkcs8::pkcs5::{pbes2, scrypt};
        let pem = std::fs::read_to_string(&self.issuer_key).unwrap();
        let (_, der) = pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap();
        let info = pkcs8::PrivateKeyInfoRef::from_der(&der).unwrap();
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        getrandom::fill(&mut salt).unwrap();
        getrandom::fill(&mut iv).unwrap();
        let cost = scrypt::Params::new(12, 8, 1).unwrap();
        let params = pbes2::Parameters::generate_scrypt_aes256cbc(cost, &salt, iv).unwrap();
        let encrypted = info.encrypt_with_params(params, passphrase.as_bytes()).unwrap();
        let pem = encrypted.to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF).unwrap();
        std::fs::remove_file(&self.issuer_key).unwrap();
        write_secret(&self.issuer_key, pem.as_bytes());
        let config = std::fs::read_to_string(&self.config).unwrap();
        let with_env = config.replace(
            "path = \"keys/issuer.key.pem\"\n",
            &format!("path = \"keys/issuer.key.pem\"\npassphrase_env = \"{passphrase_env}\"\n"),
        );
        assert_ne!(with_env, config);
        std::fs::write(&self.config, with_env).unwrap();
    }

    /// `fci-connector serve <config>` as a command, its output into `serve.out` and `serve.log`.
    pub fn serve_command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fci-connector"));
        c.arg("serve").arg(&self.config);
        c.stdin(Stdio::null());
        c.stdout(std::fs::File::create(self.path().join("serve.out")).unwrap());
        c.stderr(std::fs::File::create(self.path().join("serve.log")).unwrap());
        c
    }

    /// Start the service; returns once its port accepts connections (or panics with its log).
    pub fn start(&self) -> Running {
        self.start_with(self.serve_command())
    }

    /// Start `serve` as `command` (from [`Deployment::serve_command`], with variables added) and wait as
    /// [`Deployment::start`] does.
    pub fn start_with(&self, mut command: Command) -> Running {
        let child = command.spawn().unwrap();
        let mut running = Running { child, addr: self.addr(), log: self.path().join("serve.log") };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&running.addr, Duration::from_millis(200)).is_ok() {
                return running;
            }
            if let Some(status) = running.child.try_wait().unwrap() {
                panic!("serve exited with {status} before accepting connections:\n{}", running.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "serve did not accept within {START_TIMEOUT:?}:\n{}",
                running.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Protect a new file `name` with `bytes` through the binary, with `owner` recorded; its path.
    pub fn protect(&self, name: &str, bytes: &[u8], owner: &str, template: &str) -> PathBuf {
        let path = self.path().join("data").join(name);
        std::fs::write(&path, bytes).unwrap();
        util::cmd()
            .arg("--templates")
            .arg(&self.templates)
            .arg("protect")
            .arg(&path)
            .args(["--template", template, "--always", "--owner", owner])
            .assert()
            .success();
        assert!(util::is_protected(&path));
        path
    }

    /// An HTTPS client that trusts this deployment's server CA.
    pub fn client(&self) -> super::client::Client {
        super::client::Client::new(&self.server_ca.pem, self.addr(), None)
    }

    /// The same, presenting a client certificate.
    pub fn client_with_cert(&self, identity: &super::pki::Identity) -> super::client::Client {
        super::client::Client::new(&self.server_ca.pem, self.addr(), Some(identity))
    }
}

/// A running `serve`, killed on drop.
pub struct Running {
    pub child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Running {
    /// What the service logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kill it and wait until it is gone (its port free for a restart).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
