//! `login` / `logout` against a real OpenID provider: panva's certified `oidc-provider` (tests/oidc/provider.mjs) run
//! by Node.js on loopback, the user's side done by headless Chromium through playwright-core (tests/oidc/browser.mjs)
//! as the browser the binary opens (`FCI_BROWSER`) or on the device flow's verification page.
//!
//! They need Node.js and `npm ci --prefix tests/oidc`, so they are ignored in a plain `cargo test` and run by
//! .ci/run's `--ignored` pass, which installs both (a missing install there fails them, loudly).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::service::Deployment;
use crate::util::root;

pub(crate) fn oidc_dir() -> PathBuf {
    root().join("tests/oidc")
}

/// The provider, started on a free loopback port; its stdout lines (one per token grant) are collected.
pub(crate) struct Provider {
    child: Child,
    pub(crate) issuer: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Provider {
    pub(crate) fn start(env: &[(&str, &str)]) -> Provider {
        assert!(
            oidc_dir().join("node_modules/oidc-provider").is_dir(),
            "tests/oidc/node_modules is missing: run `npm ci --prefix tests/oidc`"
        );
        let mut c = Command::new("node");
        c.arg(oidc_dir().join("provider.mjs")).arg("0").stdin(Stdio::null()).stdout(Stdio::piped());
        c.stderr(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("node");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let issuer =
            first.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("provider said {first:?}")).to_string();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Provider { child, issuer, lines }
    }

    fn grants(&self, grant: &str) -> usize {
        self.lines.lock().unwrap().iter().filter(|l| *l == &format!("grant {grant}")).count()
    }

    pub(crate) fn jwks(&self) -> String {
        let mut answer = ureq::get(&format!("{}/jwks", self.issuer)).call().unwrap();
        answer.body_mut().read_to_string().unwrap()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user's own HOME (so their own token store) and a reader.toml naming the provider.
struct User {
    home: tempfile::TempDir,
    config: PathBuf,
}

impl User {
    fn new(p: &Provider, extra: &str) -> User {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("reader.toml");
        std::fs::write(&config, format!("{extra}[oidc]\nissuer = \"{}\"\nclient_id = \"fci-connector\"\n", p.issuer))
            .unwrap();
        User { home, config }
    }

    fn store(&self) -> PathBuf {
        self.home.path().join(".cache/fci-connector/licenses/sign-in.tokens")
    }

    /// The binary as this user, no desktop, no browser named.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fci-connector"));
        c.args(args)
            .arg("--reader-config")
            .arg(&self.config)
            .current_dir(self.home.path())
            .env("HOME", self.home.path())
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("FCI_BROWSER")
            .env_remove("FCI_TEST_NOW")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdin(Stdio::null());
        c
    }

    /// `login --browser` with `browser` as the browser; (exit code, stdout, stderr).
    fn login_with(&self, browser: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
        let mut c = self.cmd(&["login", "--browser"]);
        c.env("FCI_BROWSER", browser);
        for (k, v) in env {
            c.env(k, v);
        }
        run(c)
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        run(self.cmd(args))
    }
}

/// Run to the end, bounded.
fn run(mut c: Command) -> (i32, String, String) {
    let child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let out = wait_bounded(child, Duration::from_secs(120));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn wait_bounded(mut child: Child, limit: Duration) -> std::process::Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn browser() -> PathBuf {
    oidc_dir().join("browser.mjs")
}

#[test]
#[ignore = "needs node and npm ci --prefix tests/oidc (.ci/run does it)"]
fn device_flow_end_to_end_stores_an_encrypted_sign_in() {
    let p = Provider::start(&[]);
    let u = User::new(&p, "");
    // No desktop: the device flow is the default.
    let mut c = u.cmd(&["login"]);
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let (mut code, mut complete) = (None, None);
    let mut seen = String::new();
    while complete.is_none() {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "login ended before showing the code:\n{seen}");
        seen.push_str(&line);
        if let Some(c) = line.trim().strip_prefix("user code: ") {
            code = Some(c.to_string());
        }
        if let Some(rest) = line.trim().strip_prefix("(or open ") {
            complete = rest.split(',').next().map(str::to_string);
        }
    }
    let (code, complete) = (code.unwrap(), complete.unwrap());
    assert!(seen.contains(&format!("open {}/device on any device", p.issuer)), "{seen}");
    assert!(complete.ends_with(&format!("user_code={code}")), "{complete}");
    assert!(!u.store().exists(), "nothing stored before the user signed in");
    // The user's side: open the page with the code, sign in as alice, confirm.
    let status = Command::new(browser()).arg(&complete).status().unwrap();
    assert!(status.success());
    let out = wait_bounded(child, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("signed in as alice@contoso.com"), "{stdout}");
    assert_eq!(p.grants("urn:ietf:params:oauth:grant-type:device_code"), 1);
    // Kept encrypted: no token text in the file.
    let raw = std::fs::read(u.store()).unwrap();
    assert!(!raw.windows(3).any(|w| w == b"eyJ"), "a JWT in clear in the token store");
    assert!(!raw.windows(17).any(|w| w == b"alice@contoso.com"));
    let (code, stdout, stderr) = u.run(&["login", "--status"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("signed in as alice@contoso.com") && stdout.contains("ID token"), "{stdout}");
}

#[test]
#[ignore = "needs node and npm ci --prefix tests/oidc (.ci/run does it)"]
fn browser_flow_with_pkce_and_a_loopback_redirect_signs_in_and_logout_forgets() {
    let p = Provider::start(&[]);
    let u = User::new(&p, "");
    let (code, stdout, stderr) = u.login_with(&browser(), &[("OIDC_USER", "bob@contoso.com")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("signed in as bob@contoso.com"), "{stdout}");
    assert!(stderr.contains("code_challenge_method=S256") && stderr.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"));
    assert_eq!(p.grants("authorization_code"), 1);
    assert!(u.store().exists());
    let (code, stdout, _) = u.run(&["logout"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("signed out"), "{stdout}");
    assert!(!u.store().exists());
    let (code, _, stderr) = u.run(&["login", "--status"]);
    assert_eq!(code, 19, "{stderr}");
    assert!(stderr.contains("not signed in"), "{stderr}");
    let (code, stdout, _) = u.run(&["logout"]);
    assert_eq!((code, stdout.contains("not signed in")), (0, true));
}

#[test]
#[ignore = "needs node and npm ci --prefix tests/oidc (.ci/run does it)"]
fn an_expiring_token_is_refreshed_and_a_refused_refresh_means_signing_in_again() {
    // Tokens live 30 s: always within the 60 s margin, so every use renews them.
    let p = Provider::start(&[("OIDC_TOKEN_TTL", "30")]);
    let u = User::new(&p, "");
    let (code, _, stderr) = u.login_with(&browser(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let before = std::fs::read(u.store()).unwrap();
    let (code, stdout, stderr) = u.run(&["login", "--status"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("alice@contoso.com"), "{stdout}");
    assert_eq!(p.grants("refresh_token"), 1);
    assert_ne!(std::fs::read(u.store()).unwrap(), before, "the renewed tokens are stored");
    // The old refresh token (rotated, so now consumed) is refused: the sign-in is removed.
    std::fs::write(u.store(), &before).unwrap();
    let (code, _, stderr) = u.run(&["login", "--status"]);
    assert_eq!(code, 19, "{stderr}");
    assert!(
        stderr.contains("sign in again with `fci-connector login`") && stderr.contains("invalid_grant"),
        "{stderr}"
    );
    assert!(!u.store().exists());
}

#[test]
#[ignore = "needs node and npm ci --prefix tests/oidc (.ci/run does it)"]
fn a_forged_state_a_replayed_code_and_an_id_token_for_another_client_are_refused() {
    let p = Provider::start(&[]);
    let u = User::new(&p, "");
    let forge = oidc_dir().join("forge-callback.mjs");
    // Another state than this sign-in's: refused before any code exchange.
    let (code, _, stderr) = u.login_with(&forge, &[("FORGE", "state")]);
    assert_eq!(code, 19, "{stderr}");
    assert!(stderr.contains("another state"), "{stderr}");
    assert_eq!(p.grants("authorization_code"), 0);
    assert!(!u.store().exists());
    // A code already used, sent with this sign-in's own state: the provider refuses the exchange.
    let record = u.home.path().join("callback.url");
    let record_env = [("OIDC_RECORD", record.to_str().unwrap())];
    assert_eq!(u.login_with(&browser(), &record_env).0, 0);
    std::fs::remove_file(u.store()).unwrap();
    let (code, _, stderr) = u.login_with(&forge, &[("FORGE", "replay"), record_env[0]]);
    assert_eq!(code, 19, "{stderr}");
    assert!(stderr.contains("refused the authorization code") && stderr.contains("invalid_grant"), "{stderr}");
    assert!(!u.store().exists());
    drop(p);
    // A genuine ID token, signed by the provider, for another client.
    let p = Provider::start(&[("OIDC_ID_TOKEN_AUDIENCE", "other-app")]);
    let u = User::new(&p, "");
    let (code, _, stderr) = u.login_with(&browser(), &[]);
    assert_eq!(code, 19, "{stderr}");
    assert!(stderr.contains("another audience"), "{stderr}");
    assert!(!u.store().exists());
}

#[test]
#[ignore = "needs node and npm ci --prefix tests/oidc (.ci/run does it)"]
fn after_login_open_gets_the_original_bytes_from_serve_with_the_stored_sign_in() {
    let p = Provider::start(&[]);
    let d = Deployment::new();
    // The service trusts the provider: its issuer, the client id as audience, its JWKS.
    let config = d.config_text("").replace(crate::support::oidc::ISSUER, &p.issuer);
    std::fs::write(&d.config, config).unwrap();
    std::fs::write(d.path().join("jwks.json"), p.jwks()).unwrap();
    let _service = d.start();
    let bytes = crate::util::pattern(100_000);
    let file = d.protect("report.bin", &bytes, "owner@contoso.com", crate::support::service::TEMPLATE_ID);
    let u = User::new(
        &p,
        &format!(
            "trusted_servers = [\"{url}\"]\ndefault_server = \"{url}\"\nca_file = \"{ca}\"\n",
            url = d.url(),
            ca = d.path().join("tls/server-ca.pem").display()
        ),
    );
    let out = u.home.path().join("report.out");
    // Not signed in yet: sign-in needed, nothing written.
    let (code, _, stderr) = u.run(&["open", file.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert_eq!(code, 19, "{stderr}");
    assert!(!out.exists());
    let (code, _, stderr) = u.login_with(&browser(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = u.run(&["open", file.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    assert!(stdout.contains("alice@contoso.com"), "{stdout}");
}
