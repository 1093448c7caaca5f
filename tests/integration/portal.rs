//! The document tracking site (`[portal]`) in a real browser: `serve` on loopback TLS with the site on, panva's
//! oidc-provider (tests/oidc/provider.mjs) as the organisation's OpenID provider with the site's confidential web
//! client, headless Chromium through playwright-core (tests/oidc/portal.mjs, driven step by step from here), files
//! protected by the binary and opened through the real reader (`fci-connector open`, signed in with client
//! certificates), and the service's JSON API to compare the numbers with.
//!
//! They need Node.js and `npm ci --prefix tests/oidc`, so they are ignored in a plain `cargo test` and run by
//! .ci/run's `--ignored` pass. Screenshots are written into the test's own temporary folder (`screenshots/`), and
//! also into `$PORTAL_SCREENSHOTS` when that is set (how docs/images/ got them).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use fci_connector::licensing::api::{self, Decision, Tracking};
use serde_json::{Value, json};

use crate::login::{Provider, oidc_dir};
use crate::support::pki::Identity;
use crate::support::service::{ADMIN, Deployment, TEMPLATE_ID};
use crate::util::{cmd, pattern};

const ALICE: &str = "alice@contoso.com";
const BOB: &str = "bob@contoso.com";
const CAROL: &str = "carol@contoso.com";
const SECRET: &str = "portal-test-secret";
/// The site's session key in these tests.
const SESSION_KEY: &str = "a test session key of more than thirty-two bytes";
/// The revoked exit code (docs/EXIT-CODES.md).
const REVOKED: i32 = 16;
const NOT_GRANTED: i32 = 15;

/// The headless browser, one JSON command per line.
struct Browser {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Browser {
    fn start(base: &str) -> Browser {
        let mut child = Command::new("node")
            .arg(oidc_dir().join("portal.mjs"))
            .env("BASE", base)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node");
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Browser { child, input, output }
    }

    /// Run one command; its answer (a failed command fails the test).
    fn run(&mut self, command: Value) -> Value {
        writeln!(self.input, "{command}").unwrap();
        self.input.flush().unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        let answer: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("portal.mjs said {line:?} ({e}) to {command}"));
        assert!(answer.get("error").is_none(), "{command}: {}", answer["error"]);
        answer
    }

    fn goto(&mut self, who: &str, path: &str) -> Value {
        self.run(json!({"as": who, "do": "goto", "path": path}))
    }

    fn click(&mut self, who: &str, selector: &str) -> Value {
        self.run(json!({"as": who, "do": "click", "selector": selector}))
    }

    /// axe-core on `who`'s page: no serious or critical violation.
    fn accessible(&mut self, who: &str) {
        let a = self.run(json!({"as": who, "do": "axe"}));
        let bad: Vec<&Value> = a["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(bad.is_empty(), "axe-core on {}: {bad:#?}", a["url"]);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.input, "{}", json!({"do": "quit"}));
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `serve` with the site on, killed on drop.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A deployment with the site, the provider that signs its users in, and readers with client certificates.
struct Site {
    // Dropped in this order: the browser, the service, then the provider and the folder.
    browser: Browser,
    _serve: Serve,
    d: Deployment,
    _provider: Provider,
    reader_config: PathBuf,
    shots: PathBuf,
}

impl Site {
    /// `confidential`: the site's client has a secret; else it is a public client (PKCE alone).
    fn new(confidential: bool) -> Site {
        let d = Deployment::new();
        let redirect = format!("{}portal/callback", d.url());
        let mut env = vec![("OIDC_PORTAL_REDIRECT", redirect.as_str())];
        if confidential {
            env.push(("OIDC_PORTAL_SECRET", SECRET));
        }
        let provider = Provider::start(&env);
        let secret = if confidential { "client_secret_env = \"FCI_PORTAL_SECRET\"\n" } else { "" };
        let config = d.config_text("").replace(crate::support::oidc::ISSUER, &provider.issuer)
            + &format!(
                "\n[portal]\nclient_id = \"fci-portal\"\n{secret}\
                 redirect_url = \"{redirect}\"\nsession_key_env = \"FCI_PORTAL_KEY\"\n\
                 scopes = [\"openid\", \"profile\", \"email\", \"groups\"]\n"
            );
        std::fs::write(&d.config, config).unwrap();
        std::fs::write(d.path().join("jwks.json"), provider.jwks()).unwrap();
        let mut serve = d.serve_command();
        serve.env("FCI_PORTAL_KEY", SESSION_KEY).env("FCI_PORTAL_SECRET", SECRET);
        let serve = Serve(serve.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect_timeout(&d.addr(), Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "serve did not start: {}",
                std::fs::read_to_string(d.path().join("serve.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let reader_config = d.path().join("reader.toml");
        std::fs::write(
            &reader_config,
            format!(
                "trusted_servers = [\"{url}\"]\ndefault_server = \"{url}\"\nca_file = \"{ca}\"\n",
                url = d.url(),
                ca = d.path().join("tls/server-ca.pem").display()
            ),
        )
        .unwrap();
        let shots = d.path().join("screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        let browser = Browser::start(d.url().trim_end_matches('/'));
        Site { browser, _serve: serve, d, _provider: provider, reader_config, shots }
    }

    fn home(&self, user: &str) -> PathBuf {
        let home = self.d.path().join("users").join(user);
        std::fs::create_dir_all(&home).unwrap();
        home
    }

    fn identity(&self, user: &str) -> (Identity, PathBuf, PathBuf) {
        let id = self.d.users_ca.user_email(user);
        let home = self.home(user);
        let (cert, key) = if home.join("me.pem").exists() {
            (home.join("me.pem"), home.join("me.key"))
        } else {
            id.write(&home, "me")
        };
        (id, cert, key)
    }

    /// `fci-connector open FILE` as `user` (signed in with a client certificate); its exit code.
    fn open(&self, user: &str, file: &Path) -> i32 {
        let (_, cert, key) = self.identity(user);
        let out = self.home(user).join("opened.out");
        let _ = std::fs::remove_file(&out);
        let a = cmd()
            .arg("open")
            .arg(file)
            .arg("--output")
            .arg(&out)
            .arg("--reader-config")
            .arg(&self.reader_config)
            .arg("--client-cert")
            .arg(&cert)
            .arg("--client-key")
            .arg(&key)
            .env("HOME", self.home(user))
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("FCI_TEST_NOW")
            .output()
            .unwrap();
        a.status.code().unwrap_or(-1)
    }

    /// The JSON API's tracking answer, asked by `user`.
    fn tracking(&self, user: &str, cid: uuid::Uuid) -> Tracking {
        let a =
            self.d.client_with_cert(&self.identity(user).0).get(&format!("{}/{cid}/tracking", api::DOCUMENTS), None);
        assert_eq!(a.status, 200, "{}", a.text());
        a.json()
    }

    fn screenshot(&mut self, who: &str, name: &str) {
        let file = self.shots.join(name);
        self.browser.run(json!({"as": who, "do": "screenshot", "file": file}));
        assert!(std::fs::metadata(&file).unwrap().len() > 1000);
        if let Some(dir) = std::env::var_os("PORTAL_SCREENSHOTS") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(&file, Path::new(&dir).join(name)).unwrap();
        }
    }
}

fn content_id(path: &Path) -> uuid::Uuid {
    let mut f = BufReader::new(std::fs::File::open(path).unwrap());
    fci_connector::protect::container::Envelope::read(&mut f).unwrap().license.content_id
}

/// The rows of the page's table of class `class`.
fn rows<'a>(page: &'a Value, class: &str) -> Vec<&'a Value> {
    page["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["class"].as_str().unwrap_or("").split(' ').any(|c| c == class))
        .flat_map(|t| t["rows"].as_array().unwrap())
        .collect()
}

/// (principal, decision) of the license requests of a tracking answer.
fn license_requests(t: &Tracking) -> Vec<(String, String)> {
    t.requests
        .iter()
        .filter(|r| r.action == "license")
        .map(|r| {
            let d = if r.decision == Decision::Granted { "granted" } else { "denied" };
            (r.principal.clone().unwrap_or_default(), d.to_string())
        })
        .collect()
}

#[test]
#[ignore = "needs node and npm ci --prefix tests/oidc (.ci/run does it)"]
fn an_owner_signs_in_sees_exactly_the_requests_and_revoke_then_restore_in_the_browser_rule_the_reader() {
    let mut s = Site::new(true);
    let q3 = s.d.protect("q3-forecast.docx", &pattern(20_000), ALICE, TEMPLATE_ID);
    let minutes = s.d.protect("board-minutes.docx", &pattern(5_000), ALICE, TEMPLATE_ID);
    let review = s.d.protect("hr-review.docx", &pattern(5_000), BOB, TEMPLATE_ID);
    // Alice (granted by name) opens q3 twice and the minutes once; carol (not granted) is refused q3; bob opens
    // his own file.
    assert_eq!(s.open(ALICE, &q3), 0);
    assert_eq!(s.open(ALICE, &q3), 0);
    assert_eq!(s.open(CAROL, &q3), NOT_GRANTED);
    assert_eq!(s.open(ALICE, &minutes), 0);
    assert_eq!(s.open(BOB, &review), 0);
    let (q3_id, minutes_id, review_id) = (content_id(&q3), content_id(&minutes), content_id(&review));
    let api = s.tracking(ALICE, q3_id);
    let expected = license_requests(&api);
    assert_eq!(
        expected,
        [(ALICE.into(), "granted".into()), (ALICE.into(), "granted".into()), (CAROL.into(), "denied".into())]
    );

    // Signing in goes through the provider's login page and comes back to "My documents".
    let mine = s.browser.run(json!({"as": "alice", "do": "signin", "user": ALICE}));
    assert_eq!(mine["h1"], "My documents", "{mine}");
    assert!(mine["text"].as_str().unwrap().contains("q3-forecast.docx"));
    let listed = rows(&mine, "documents");
    let mut ids: Vec<&str> = listed.iter().map(|r| r["data"]["contentId"].as_str().unwrap()).collect();
    ids.sort();
    let mut want = vec![q3_id.to_string(), minutes_id.to_string()];
    want.sort();
    assert_eq!(ids, want, "exactly alice's documents, not bob's {review_id}");
    let q3_row = listed.iter().find(|r| r["data"]["contentId"] == q3_id.to_string()).unwrap();
    let granted = expected.iter().filter(|(_, d)| d == "granted").count();
    let denied = expected.len() - granted;
    assert_eq!(q3_row["cells"][4], granted.to_string(), "opens in 30 days: {q3_row}");
    assert_eq!(q3_row["cells"][5], denied.to_string(), "denials in 30 days: {q3_row}");
    // Times in the viewer's zone (the browser is in Europe/Paris), the offset shown.
    assert!(mine["tz_note"].as_str().unwrap().contains("Europe/Paris"), "{}", mine["tz_note"]);
    s.screenshot("alice", "portal-my-documents.png");
    s.browser.accessible("alice");
    // Search narrows the list.
    let found = s.browser.goto("alice", "/portal/?q=BOARD");
    assert_eq!(rows(&found, "documents").len(), 1);

    // The document's page: exactly the license requests the API records, in order.
    let page = s.browser.goto("alice", &format!("/portal/documents/{q3_id}"));
    assert_eq!(page["h1"], "q3-forecast.docx");
    let shown: Vec<(String, String)> = rows(&page, "requests")
        .iter()
        .filter(|r| r["data"]["action"] == "license")
        .map(|r| (r["data"]["principal"].as_str().unwrap().into(), r["data"]["decision"].as_str().unwrap().into()))
        .collect();
    assert_eq!(shown, expected);
    assert!(page["text"].as_str().unwrap().contains("not_granted"));
    let times = page["times"].as_array().unwrap();
    assert!(times.iter().all(|t| t[1].as_str().unwrap().contains("(UTC+0")), "{times:?}");
    s.screenshot("alice", "portal-document.png");
    s.browser.accessible("alice");
    // The CSV export has the same license requests.
    let csv =
        s.browser.run(json!({"as": "alice", "do": "get", "path": format!("/portal/documents/{q3_id}/history.csv")}));
    assert_eq!(csv["status"], 200);
    assert!(csv["headers"]["content-type"].as_str().unwrap().starts_with("text/csv"));
    let text = csv["text"].as_str().unwrap();
    assert!(text.starts_with("time,principal,request,decision"));
    assert_eq!(text.lines().filter(|l| l.contains(",license,granted,")).count(), granted);
    assert_eq!(text.lines().filter(|l| l.contains(",license,denied,not_granted,")).count(), denied);

    // Revoke: a confirmation step, then the reader is refused with the revoked code.
    let confirm = s.browser.click("alice", "#revoke");
    assert_eq!(confirm["h1"], "Revoke access?");
    assert_eq!(s.open(ALICE, &q3), 0, "nothing changes before the confirmation");
    s.screenshot("alice", "portal-revoke-confirm.png");
    let revoked = s.browser.click("alice", "#confirm");
    assert!(revoked["text"].as_str().unwrap().contains("Access revoked"), "{}", revoked["text"]);
    assert_eq!(s.open(ALICE, &q3), REVOKED);
    assert_eq!(s.open(ALICE, &minutes), 0, "only that document");
    s.screenshot("alice", "portal-revoked.png");
    // Restore: it opens again.
    assert_eq!(s.browser.click("alice", "#restore")["h1"], "Restore access?");
    let restored = s.browser.click("alice", "#confirm");
    assert!(restored["text"].as_str().unwrap().contains("Access restored"));
    assert_eq!(s.open(ALICE, &q3), 0);
    // Recorded as the API records revocations.
    let after = s.tracking(ALICE, q3_id);
    let changes: Vec<(&str, Option<&str>, Decision)> = after
        .requests
        .iter()
        .filter(|r| r.action == "revoke" || r.action == "unrevoke")
        .map(|r| (r.action.as_str(), r.principal.as_deref(), r.decision))
        .collect();
    assert_eq!(changes, [("revoke", Some(ALICE), Decision::Granted), ("unrevoke", Some(ALICE), Decision::Granted)]);
    assert_eq!(
        license_requests(&after).iter().filter(|(_, d)| d == "denied").count(),
        denied + 1,
        "the refused open while revoked"
    );

    // The admin sees every document, the denials of the last day and the counts per template.
    let admin = s.browser.run(json!({"as": "admin", "do": "signin", "user": ADMIN}));
    assert_eq!(admin["h1"], "My documents");
    let all = s.browser.goto("admin", "/portal/admin");
    assert_eq!(all["h1"], "All documents", "{all}");
    assert_eq!(rows(&all, "documents").len(), 3);
    let denials = rows(&all, "denials");
    assert_eq!(denials.iter().filter(|r| r["cells"][1] == CAROL).count(), 1, "{denials:?}");
    assert_eq!(denials.iter().filter(|r| r["cells"][4] == "revoked").count(), 1, "{denials:?}");
    let per_template = rows(&all, "templates");
    assert_eq!(per_template.len(), 1);
    assert_eq!(per_template[0]["cells"][2], "3");
    s.screenshot("admin", "portal-admin.png");
    s.browser.accessible("admin");
    let bobs = s.browser.goto("admin", "/portal/admin?owner=bob%40");
    assert_eq!(rows(&bobs, "documents").len(), 1);
    assert_eq!(rows(&bobs, "documents")[0]["data"]["contentId"], review_id.to_string());
    let by_id = s.browser.goto("admin", &format!("/portal/admin?content_id={minutes_id}"));
    assert_eq!(rows(&by_id, "documents").len(), 1);
    // Alice is no admin.
    let refused = s.browser.goto("alice", "/portal/admin");
    assert_eq!(refused["status"], 403);
}

#[test]
#[ignore = "needs node and npm ci --prefix tests/oidc (.ci/run does it)"]
fn another_user_can_neither_see_nor_revoke_names_render_as_text_and_every_change_needs_the_csrf_token() {
    // The site as a public client this time (PKCE alone, no secret).
    let mut s = Site::new(false);
    let name = "<img src=x onerror=alert(1)>.docx";
    let file = s.d.protect(name, &pattern(3_000), ALICE, TEMPLATE_ID);
    let cid = content_id(&file);
    assert_eq!(s.open(ALICE, &file), 0);
    let doc = format!("/portal/documents/{cid}");

    // Not signed in: pages send to sign-in, a POST is refused, nothing is shown.
    let anon = s.browser.run(json!({"as": "anon", "do": "get", "path": doc}));
    assert_eq!(anon["status"], 303);
    assert!(anon["headers"]["location"].as_str().unwrap().starts_with("/portal/signin?next="), "{anon}");
    let csv = s.browser.run(json!({"as": "anon", "do": "get", "path": format!("{doc}/history.csv")}));
    assert_eq!(csv["status"], 303);
    let post =
        s.browser.run(json!({"as": "anon", "do": "post", "path": format!("{doc}/revoke"), "form": {"confirm": "yes"}}));
    assert_eq!(post["status"], 403);
    // Sign-in starts the code flow with PKCE, state and nonce; a callback with another state is refused.
    let start = s.browser.run(json!({"as": "anon", "do": "get", "path": "/portal/signin?next=/portal/"}));
    assert_eq!(start["status"], 303);
    let to = start["headers"]["location"].as_str().unwrap();
    for part in ["client_id=fci-portal", "code_challenge_method=S256", "code_challenge=", "state=", "nonce="] {
        assert!(to.contains(part), "{to}");
    }
    let forged = s.browser.run(json!({"as": "anon", "do": "get", "path": "/portal/callback?code=x&state=forged"}));
    assert_eq!(forged["status"], 403);
    assert!(forged["text"].as_str().unwrap().contains("another state"), "{forged}");
    assert_eq!(s.browser.run(json!({"as": "anon", "do": "get", "path": "/portal/"}))["status"], 303);

    // Session cookies: one made with the site's key is taken (so the next two are refused for what they are, not
    // for their form); one idle past the timeout, or signed with another key, is not.
    use fci_connector::service::portal::session::{Keys, SESSION_COOKIE, Session};
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let carol = fci_connector::service::policy::Principal::named(CAROL);
    let keys = Keys::new(SESSION_KEY.as_bytes()).unwrap();
    let fresh = Session::new(&carol, "oidc", now).unwrap();
    let idle = Session { last: now - 31 * 60, ..Session::new(&carol, "oidc", now - 3600).unwrap() };
    let other = Keys::new(b"another key, also of at least thirty-two bytes").unwrap();
    for (who, value, status) in [
        ("fresh", keys.seal("session", &fresh), 200),
        ("idle", keys.seal("session", &idle), 303),
        ("forged", other.seal("session", &fresh), 303),
        ("signin-cookie", keys.seal("signin", &fresh), 303),
    ] {
        s.browser.run(json!({"as": who, "do": "set-cookie", "name": SESSION_COOKIE, "value": value}));
        let a = s.browser.run(json!({"as": who, "do": "get", "path": "/portal/"}));
        assert_eq!(a["status"], status, "{who}: {a}");
    }

    // The file name renders as text: no element made of it, no script run.
    let mine = s.browser.run(json!({"as": "alice", "do": "signin", "user": ALICE}));
    assert_eq!(rows(&mine, "documents")[0]["cells"][0], name);
    assert_eq!(mine["imgs"], 0);
    let page = s.browser.goto("alice", &doc);
    assert_eq!(page["h1"], name);
    assert_eq!(page["title"], format!("{name} · Document tracking"));
    assert_eq!((page["imgs"].clone(), page["dialogs"].clone()), (json!(0), json!([])));
    // Every answer carries the security headers; the session cookie is HttpOnly, Secure, Lax, for /portal only.
    let headers = s.browser.run(json!({"as": "alice", "do": "get", "path": doc}))["headers"].clone();
    assert!(headers["content-security-policy"].as_str().unwrap().contains("script-src 'self'"), "{headers}");
    assert!(headers["content-security-policy"].as_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let cookies = s.browser.run(json!({"as": "alice", "do": "cookies"}));
    let session = cookies["cookies"].as_array().unwrap().iter().find(|c| c["name"] == "fci_portal").unwrap().clone();
    assert_eq!(
        (&session["httpOnly"], &session["secure"], &session["sameSite"], &session["path"]),
        (&json!(true), &json!(true), &json!("Lax"), &json!("/portal"))
    );

    // A POST without the CSRF token (or with another one) is refused, and nothing changes.
    let form = |csrf: Option<&str>| match csrf {
        Some(t) => json!({"confirm": "yes", "csrf": t}),
        None => json!({"confirm": "yes"}),
    };
    for csrf in [None, Some("bm90IHRoZSB0b2tlbg")] {
        let a =
            s.browser.run(json!({"as": "alice", "do": "post", "path": format!("{doc}/revoke"), "form": form(csrf)}));
        assert_eq!(a["status"], 403, "{a}");
    }
    let a = s.browser.run(json!({"as": "alice", "do": "post", "path": "/portal/signout", "form": {}}));
    assert_eq!(a["status"], 403, "sign-out needs the token too");
    assert_eq!(s.open(ALICE, &file), 0);

    // Bob, signed in, neither sees alice's document nor revokes it with his own session's token.
    let bob = s.browser.run(json!({"as": "bob", "do": "signin", "user": BOB}));
    assert!(rows(&bob, "documents").is_empty());
    let bob_csrf = bob["csrf"].as_str().unwrap().to_string();
    let seen = s.browser.goto("bob", &doc);
    assert_eq!(seen["status"], 404);
    assert!(!seen["text"].as_str().unwrap().contains("onerror"));
    let a = s.browser.run(json!({"as": "bob", "do": "get", "path": format!("{doc}/history.csv")}));
    assert_eq!(a["status"], 404);
    let a = s
        .browser
        .run(json!({"as": "bob", "do": "post", "path": format!("{doc}/revoke"), "form": form(Some(&bob_csrf))}));
    assert_eq!(a["status"], 404, "{a}");
    assert_eq!(s.open(ALICE, &file), 0, "still open");
    // Alice's own token works, for her (the direct POST with confirmation revokes).
    let alice_csrf = page["csrf"].as_str().unwrap().to_string();
    let a = s
        .browser
        .run(json!({"as": "alice", "do": "post", "path": format!("{doc}/revoke"), "form": form(Some(&alice_csrf))}));
    assert_eq!(a["status"], 303, "{a}");
    assert_eq!(s.open(ALICE, &file), REVOKED);
    // Refused attempts are on record.
    let t = s.tracking(ALICE, cid);
    let refused: Vec<Option<&str>> = t
        .requests
        .iter()
        .filter(|r| r.action == "revoke" && r.decision == Decision::Denied)
        .map(|r| r.principal.as_deref())
        .collect();
    assert_eq!(refused, [Some(ALICE), Some(ALICE), Some(BOB)]);

    // Sign-out ends the session: the site asks for sign-in again.
    let out =
        s.browser.run(json!({"as": "alice", "do": "post", "path": "/portal/signout", "form": {"csrf": alice_csrf}}));
    assert_eq!((out["status"].clone(), out["location"].clone()), (json!(303), json!("/portal/signed-out")));
    let again = s.browser.run(json!({"as": "alice", "do": "get", "path": "/portal/"}));
    assert_eq!(again["status"], 303);

    // A browser presenting a user certificate is signed in by it, no provider involved.
    let (_, cert, key) = s.identity(CAROL);
    let carol = s.browser.run(json!({"as": "carol", "do": "client-cert", "cert": cert, "key": key}));
    assert_eq!(carol["h1"], "My documents", "{carol}");
    assert!(carol["text"].as_str().is_some());
    let who = s.browser.goto("carol", "/portal/");
    assert!(who["signed_in_as"].as_str().unwrap().contains(CAROL), "{who}");
}

/// The site's store queries on one back end: a fixed scenario, the answers as text.
/// The site's queries on `store`, filled with the same documents relative to `now` (one `now` for both stores, so a
/// second boundary between the two runs cannot make them differ).
async fn site_queries(store: &fci_connector::service::store::Store, now: i64) -> Vec<String> {
    use fci_connector::licensing::api::{DenialCode, Document, RequestRecord};
    use fci_connector::service::store::portal::{DocumentFilter, DocumentSort};
    use time::OffsetDateTime;
    use uuid::Uuid;
    let at = |t: i64| OffsetDateTime::from_unix_timestamp(t).unwrap();
    for (n, owner, name) in [
        (1u128, "Alice@Contoso.com", "Q3 forecast.docx"),
        (2, "alice@contoso.com", "50%_off.xlsx"),
        (3, "bob@contoso.com", "review.docx"),
    ] {
        let template = if n == 3 { 98 } else { 99 };
        store
            .upsert_document(&Document {
                content_id: Uuid::from_u128(n),
                original_name: name.into(),
                template_id: Uuid::from_u128(template),
                template_name: format!("T{template}"),
                owner: Some(owner.into()),
                first_seen: at(now - 100 * 86400 + n as i64 * 86400),
                revoked: false,
            })
            .await
            .unwrap();
    }
    store.set_revoked(Uuid::from_u128(2), true, "alice").await.unwrap();
    let rec = |n: u128, t: i64, granted: bool, action: &str| RequestRecord {
        time: at(t),
        principal: Some(if granted { "alice@contoso.com" } else { "carol@contoso.com" }.into()),
        action: action.into(),
        content_id: Some(Uuid::from_u128(n)),
        template_id: Some(Uuid::from_u128(99)),
        rights_granted: if granted { vec!["VIEW".into()] } else { vec![] },
        decision: if granted { Decision::Granted } else { Decision::Denied },
        code: (!granted).then_some(DenialCode::NotGranted),
        client_address: "127.0.0.1:1".into(),
        user_agent: None,
    };
    for r in [
        rec(1, now - 10, true, "license"),
        rec(1, now - 9, true, "license"),
        rec(1, now - 8, false, "license"),
        rec(1, now - 40 * 86400, true, "license"),
        rec(2, now - 7, false, "license"),
        rec(2, now - 2 * 86400, false, "license"),
        rec(3, now - 6, true, "tracking"),
    ] {
        store.record_request(&r).await.unwrap();
    }
    let since = at(now - 30 * 86400);
    let mut out = Vec::new();
    let filters = [
        DocumentFilter { owners: Some(vec!["ALICE@contoso.com".into(), "alice".into()]), ..Default::default() },
        DocumentFilter { name_contains: Some("%_".into()), ..Default::default() },
        DocumentFilter { owner_contains: Some("BOB@".into()), ..Default::default() },
        DocumentFilter {
            template_id: Some(Uuid::from_u128(99)),
            seen_from: Some(at(now - 99 * 86400 + 10)),
            ..Default::default()
        },
        DocumentFilter { content_id: Some(Uuid::from_u128(3)), seen_before: Some(at(now)), ..Default::default() },
        DocumentFilter::default(),
    ];
    for filter in &filters {
        for sort in DocumentSort::ALL {
            for descending in [false, true] {
                let (rows, more) = store.document_summaries(filter, sort, descending, since, 1, 2).await.unwrap();
                let shown: Vec<String> = rows
                    .iter()
                    .map(|r| {
                        let d = &r.document;
                        format!(
                            "{} {} {} {:?} {} {} {}",
                            d.content_id.as_u128(),
                            d.original_name,
                            d.revoked,
                            r.last_opened.map(|t| t.unix_timestamp() - now),
                            r.opens,
                            r.denials,
                            d.first_seen.unix_timestamp() - now
                        )
                    })
                    .collect();
                out.push(format!("{filter:?} {sort:?} desc={descending}: {shown:?} more={more}"));
            }
        }
    }
    let denials = store.denials_since(at(now - 86400), 10).await.unwrap();
    out.push(format!(
        "denials: {:?}",
        denials.iter().map(|d| (d.record.time.unix_timestamp() - now, d.original_name.clone())).collect::<Vec<_>>()
    ));
    let counts = store.template_counts().await.unwrap();
    out.push(format!(
        "templates: {:?}",
        counts.iter().map(|c| (c.template_name.clone(), c.documents, c.revoked)).collect::<Vec<_>>()
    ));
    out
}

#[test]
#[ignore = "needs root (runs PostgreSQL as the postgres user) and PostgreSQL 15's server binaries"]
fn the_sites_queries_answer_alike_on_sqlite_and_postgresql() {
    let cluster = crate::store_postgres::PgCluster::start().expect("PostgreSQL server binaries");
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        use fci_connector::service::store::Store;
        let sqlite = Store::open("sqlite://site.db", dir.path()).await.unwrap();
        let postgres = Store::open(&cluster.url, dir.path()).await.unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (a, b) = (site_queries(&sqlite, now).await, site_queries(&postgres, now).await);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y);
        }
        assert_eq!(a.len(), b.len());
        // And the answers are the right ones (on both, then).
        // The owner filter's lines come first, two per sort column in DocumentSort::ALL order: Opens, descending.
        let mine = &a[11];
        assert!(mine.contains("Opens desc=true"), "{mine}");
        assert!(mine.contains("[\"1 Q3 forecast.docx false Some(-9) 2 1 "), "{mine}");
        assert!(
            a.iter().any(|l| l.contains("name_contains: Some(\"%_\")") && l.contains("2 50%_off.xlsx true None 0 2")),
            "{a:#?}"
        );
        assert_eq!(a[a.len() - 2], "denials: [(-7, Some(\"50%_off.xlsx\")), (-8, Some(\"Q3 forecast.docx\"))]");
        assert_eq!(a[a.len() - 1], "templates: [(\"T98\", 1, 0), (\"T99\", 2, 1)]");
    });
}

#[test]
fn with_a_portal_section_serve_refuses_to_start_without_a_good_session_key() {
    let d = Deployment::new();
    let portal = "\n[portal]\nclient_id = \"fci-portal\"\nredirect_url = \"https://127.0.0.1/portal/callback\"\n\
                  session_key_env = \"FCI_PORTAL_KEY\"\n";
    std::fs::write(&d.config, d.config_text("") + portal).unwrap();
    for (key, why) in [(None, "neither the environment variable"), (Some("too short"), "at least 32 are needed")] {
        let mut serve = d.serve_command();
        serve.env_remove("FCI_PORTAL_KEY").env_remove("CREDENTIALS_DIRECTORY");
        if let Some(k) = key {
            serve.env("FCI_PORTAL_KEY", k);
        }
        let status = serve.status().unwrap();
        let log = std::fs::read_to_string(d.path().join("serve.log")).unwrap();
        assert_eq!(status.code(), Some(6), "{log}");
        assert!(log.contains("session_key_env FCI_PORTAL_KEY") && log.contains(why), "{log}");
    }
    // A redirect that is not the site's callback over https is a config error naming the line.
    let bad = portal.replace("https://127.0.0.1/portal/callback", "http://127.0.0.1/cb");
    std::fs::write(&d.config, d.config_text("") + &bad).unwrap();
    let status = d.serve_command().env("FCI_PORTAL_KEY", "k".repeat(40)).status().unwrap();
    let log = std::fs::read_to_string(d.path().join("serve.log")).unwrap();
    assert_eq!(status.code(), Some(6), "{log}");
    assert!(log.contains("redirect_url") && log.contains("serve.toml:"), "{log}");
}
