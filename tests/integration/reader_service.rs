//! The reader end to end against the real licensing service: `serve` on loopback TLS (test PKI and tokens from
//! `support`), files protected by the binary, and `open`, `licenses`, `unprotect --online/--server` and
//! `status --check-access` run as different users, each with their own HOME and offline cache.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use fci_connector::licensing::api::{Decision, DenialCode, Tracking};

use crate::support::service::{ADMIN, Deployment, TEMPLATE_ID};
use crate::util::{cmd, is_protected, pattern, stderr, stdout};

const OWNER: &str = "owner@contoso.com";
/// A template on the deployment's issuer key that grants carol EXTRACT (and nothing to alice).
const EXTRACT_TEMPLATE_ID: &str = "9d4e2f1a-6b3c-4a5d-8e7f-0a1b2c3d4e5f";
/// A template whose licenses name the deployment as their licensing service (format 1.1).
const NAMED_TEMPLATE_ID: &str = "2b6c8d0e-1f3a-4b5c-9d7e-6f8a0b1c2d3e";

/// A deployment, a reader.toml that trusts it (with its CA), and a folder per user.
struct Readers {
    d: Deployment,
    root: tempfile::TempDir,
    config: PathBuf,
}

impl Readers {
    fn new() -> Readers {
        let d = Deployment::new();
        let mut create = cmd();
        create.arg("--templates").arg(&d.templates).args(["templates", "create", "--id", EXTRACT_TEMPLATE_ID]);
        create.args([
            "--name",
            "Contoso - Extract",
            "--offline-days",
            "7",
            "--grant",
            "carol@contoso.com=VIEW,EXTRACT",
        ]);
        create.arg("--key").arg(&d.issuer_pub).assert().success();
        let mut create = cmd();
        create.arg("--templates").arg(&d.templates).args(["templates", "create", "--id", NAMED_TEMPLATE_ID]);
        create.args(["--name", "Contoso - Named", "--grant", "alice@contoso.com=VIEW", "--license-server", &d.url()]);
        create.arg("--key").arg(&d.issuer_pub).assert().success();
        let root = tempfile::tempdir().unwrap();
        let config = root.path().join("reader.toml");
        let ca = d.path().join("tls/server-ca.pem");
        std::fs::write(
            &config,
            format!(
                "trusted_servers = [\"{url}\"]\ndefault_server = \"{url}\"\nca_file = \"{ca}\"\n",
                url = d.url(),
                ca = ca.display()
            ),
        )
        .unwrap();
        Readers { d, root, config }
    }

    fn home(&self, user: &str) -> PathBuf {
        let home = self.root.path().join(user);
        std::fs::create_dir_all(home.join("out")).unwrap();
        home
    }

    fn cache_dir(&self, user: &str) -> PathBuf {
        self.home(user).join(".cache/fci-connector/licenses")
    }

    /// Names in `user`'s cache folder, sorted.
    fn cache_listing(&self, user: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.cache_dir(user))
            .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The binary as `user` with their own HOME (so their own cache), without sign-in options.
    fn as_user_plain(&self, user: &str, args: &[&str]) -> Command {
        let mut c = cmd();
        c.args(args)
            .env("HOME", self.home(user))
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("FCI_TEST_NOW")
            // No desktop session's Secret Service unless a test gives one: the cache key is then the key file.
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        c
    }

    /// The binary as `user`: their own HOME (so their own cache), a fresh token for them, the reader.toml.
    fn as_user(&self, user: &str, args: &[&str]) -> Command {
        let token = self.home(user).join("token");
        std::fs::write(&token, self.d.idp.token(user, &[])).unwrap();
        let mut c = self.as_user_plain(user, args);
        c.arg("--reader-config").arg(&self.config).arg("--token-file").arg(&token);
        c
    }

    fn open(&self, user: &str, file: &Path, out: &Path) -> Command {
        let mut c = self.as_user(user, &["open"]);
        c.arg(file).arg("--output").arg(out);
        c
    }

    /// `open --launch` as `user`, with `program` (`FCI_TEST_LAUNCHER`) instead of the default application.
    fn launch(&self, user: &str, file: &Path, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = self.as_user(user, &["open", "--launch"]);
        c.arg(file).env("FCI_TEST_LAUNCHER", program);
        c
    }

    fn out(&self, user: &str, name: &str) -> PathBuf {
        self.home(user).join("out").join(name)
    }

    fn listing(&self, dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }
}

/// The content id of a protected file.
fn content_id(path: &Path) -> uuid::Uuid {
    let mut f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    fci_connector::protect::container::Envelope::read(&mut f).unwrap().license.content_id
}

#[test]
fn a_granted_user_opens_the_original_bytes_and_others_get_nothing() {
    let r = Readers::new();
    let service = r.d.start();
    let original = pattern(300_000);
    let file = r.d.protect("q3.txt", &original, OWNER, TEMPLATE_ID);

    // Granted by name (bearer token): the original, byte for byte; kept for offline use (the template allows 7 days).
    let out = r.out("alice@contoso.com", "q3.txt");
    let a = r.open("alice@contoso.com", &file, &out).assert().success();
    assert_eq!(std::fs::read(&out).unwrap(), original);
    assert!(stdout(&a).contains("VIEW,EDIT"), "{}", stdout(&a));
    assert_eq!(r.listing(&r.home("alice@contoso.com").join("out")), ["q3.txt"]);
    let a = r.as_user_plain("alice@contoso.com", &["licenses", "cache", "list", "--format", "json"]).assert().success();
    let entries: serde_json::Value = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert_eq!(entries[0]["content_id"], content_id(&file).to_string());

    // Not granted: exit 15, no output, nothing beside it, no cache entry.
    let out = r.out("mallory@contoso.com", "q3.txt");
    let a = r.open("mallory@contoso.com", &file, &out).assert().code(15);
    assert!(stderr(&a).contains("not_granted"), "{}", stderr(&a));
    assert!(r.listing(&r.home("mallory@contoso.com").join("out")).is_empty(), "no plaintext anywhere");
    assert_eq!(r.cache_listing("mallory@contoso.com"), ["cache.key"]);
    assert!(is_protected(&file));

    // Granted by domain, signed in with a client certificate instead of a token.
    let (cert, key) = r.d.users_ca.user_email("bob@fabrikam.com").write(&r.home("bob@fabrikam.com"), "bob");
    let out = r.out("bob@fabrikam.com", "q3.txt");
    let mut c = cmd();
    c.arg("open")
        .arg(&file)
        .arg("--output")
        .arg(&out)
        .env("HOME", r.home("bob@fabrikam.com"))
        .env_remove("XDG_CACHE_HOME");
    c.arg("--reader-config").arg(&r.config).arg("--client-cert").arg(&cert).arg("--client-key").arg(&key);
    c.assert().success();
    assert_eq!(std::fs::read(&out).unwrap(), original);

    // An expired token: sign-in needed (19).
    let home = r.home("alice@contoso.com");
    std::fs::write(home.join("expired"), r.d.idp.expired("alice@contoso.com")).unwrap();
    let mut c = cmd();
    c.arg("open").arg(&file).arg("--output").arg(r.out("alice@contoso.com", "again.txt")).env("HOME", &home);
    c.arg("--reader-config").arg(&r.config).arg("--token-file").arg(home.join("expired"));
    let a = c.assert().code(19);
    assert!(stderr(&a).contains("bad_token"), "{}", stderr(&a));
    assert!(!r.out("alice@contoso.com", "again.txt").exists());

    // status --check-access: rights per file, no key.
    let mut c = r.as_user("alice@contoso.com", &["status", "--check-access"]);
    c.arg(&file);
    let a = c.assert().success();
    let line: serde_json::Value = serde_json::from_str(stdout(&a).trim()).unwrap();
    assert_eq!(line["rights"], serde_json::json!(["VIEW", "EDIT"]), "{line}");
    assert_eq!(line["principal"], "alice@contoso.com");
    assert_eq!(line["revoked"], false);
    let mut c = r.as_user("mallory@contoso.com", &["status", "--check-access"]);
    c.arg(&file);
    let a = c.assert();
    let line: serde_json::Value = serde_json::from_str(stdout(&a).trim()).unwrap();
    assert_eq!(line["rights"], serde_json::json!([]), "{line}");
    drop(service);
}

#[test]
fn unprotect_through_the_service_for_the_owner_and_an_extract_holder_not_for_view() {
    let r = Readers::new();
    let _service = r.d.start();
    let original = pattern(100_000);
    let by_owner = r.d.protect("owner.txt", &original, OWNER, TEMPLATE_ID);
    let by_extract = r.d.protect("extract.txt", &original, OWNER, EXTRACT_TEMPLATE_ID);
    let view_only = r.d.protect("view.txt", &original, OWNER, TEMPLATE_ID);
    let view_bytes = std::fs::read(&view_only).unwrap();

    let mut c = r.as_user(OWNER, &["unprotect"]);
    c.arg(&by_owner).args(["--server", &r.d.url()]);
    c.assert().success();
    assert_eq!(std::fs::read(&by_owner).unwrap(), original);

    let mut c = r.as_user("carol@contoso.com", &["unprotect", "--online"]);
    c.arg(&by_extract);
    c.assert().success();
    assert_eq!(std::fs::read(&by_extract).unwrap(), original);

    // VIEW and EDIT, but not EXTRACT: refused, the file as it was, no temporary file left.
    let before = r.listing(&r.d.path().join("data"));
    let mut c = r.as_user("alice@contoso.com", &["unprotect", "--online"]);
    c.arg(&view_only);
    let a = c.assert().code(15);
    assert!(stderr(&a).contains("EXTRACT or OWNER"), "{}", stderr(&a));
    assert_eq!(std::fs::read(&view_only).unwrap(), view_bytes);
    assert_eq!(r.listing(&r.d.path().join("data")), before);
}

#[test]
fn revoked_content_is_refused_and_its_cached_license_discarded_and_the_owner_tracks_it() {
    let r = Readers::new();
    let _service = r.d.start();
    let original = pattern(50_000);
    let file = r.d.protect("plan.txt", &original, OWNER, TEMPLATE_ID);
    let cid = content_id(&file);
    r.open("alice@contoso.com", &file, &r.out("alice@contoso.com", "1.txt")).assert().success();
    let mut expected = vec![format!("{cid}.ulic"), "cache.key".to_string()];
    expected.sort();
    assert_eq!(r.cache_listing("alice@contoso.com"), expected);

    // Only the owner or an admin revokes.
    let mut c = r.as_user("mallory@contoso.com", &["licenses", "revoke"]);
    c.arg(&file);
    c.assert().code(15);
    let mut c = r.as_user(OWNER, &["licenses", "revoke"]);
    c.arg(&file);
    let a = c.assert().success();
    assert!(stdout(&a).contains(&format!("{cid}: revoked")), "{}", stdout(&a));

    // Refused online (16), no output, and the cached license is gone.
    let a = r.open("alice@contoso.com", &file, &r.out("alice@contoso.com", "2.txt")).assert().code(16);
    assert!(stderr(&a).contains("revoked"), "{}", stderr(&a));
    assert!(!r.out("alice@contoso.com", "2.txt").exists());
    assert_eq!(r.cache_listing("alice@contoso.com"), ["cache.key"]);

    // The owner's tracking shows alice's grant and her revoked request; an admin by content id alone.
    let mut c = r.as_user(OWNER, &["licenses", "track", "--format", "json"]);
    c.arg(&file);
    let a = c.assert().success();
    let tracking: Tracking = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(tracking.document.content_id, cid);
    assert!(tracking.document.revoked);
    let alice: Vec<_> =
        tracking.requests.iter().filter(|q| q.principal.as_deref() == Some("alice@contoso.com")).collect();
    assert!(alice.iter().any(|q| q.decision == Decision::Granted), "{alice:?}");
    assert!(alice.iter().any(|q| q.code == Some(DenialCode::Revoked)), "{alice:?}");
    let a = r.as_user(ADMIN, &["licenses", "track", &cid.to_string()]).assert().success();
    assert!(stdout(&a).contains("revoked:     yes"), "{}", stdout(&a));

    // Lifted: alice opens again.
    let mut c = r.as_user(OWNER, &["licenses", "unrevoke"]);
    c.arg(&file);
    c.assert().success();
    r.open("alice@contoso.com", &file, &r.out("alice@contoso.com", "3.txt")).assert().success();
    assert_eq!(std::fs::read(r.out("alice@contoso.com", "3.txt")).unwrap(), original);
}

#[test]
fn with_the_service_stopped_the_offline_cache_opens_until_offline_until_then_refuses() {
    let r = Readers::new();
    let service = r.d.start();
    let original = pattern(80_000);
    let file = r.d.protect("travel.txt", &original, OWNER, TEMPLATE_ID);
    r.open("alice@contoso.com", &file, &r.out("alice@contoso.com", "online.txt")).assert().success();
    service.stop();

    // Within the offline window (the template allows 7 days): opens, and says so.
    let a = r.open("alice@contoso.com", &file, &r.out("alice@contoso.com", "offline.txt")).assert().success();
    assert!(stdout(&a).contains("offline cache"), "{}", stdout(&a));
    assert_eq!(std::fs::read(r.out("alice@contoso.com", "offline.txt")).unwrap(), original);
    let six_days = (time::OffsetDateTime::now_utc() + time::Duration::days(6)).unix_timestamp().to_string();
    let mut c = r.open("alice@contoso.com", &file, &r.out("alice@contoso.com", "day6.txt"));
    c.env("FCI_TEST_NOW", &six_days).assert().success();

    // A user who never opened it online has nothing cached: unreachable (18).
    r.open("mallory@contoso.com", &file, &r.out("mallory@contoso.com", "x.txt")).assert().code(18);

    // Past offline_until: refused, nothing written, and the entry removed.
    let eight_days = (time::OffsetDateTime::now_utc() + time::Duration::days(8)).unix_timestamp().to_string();
    let mut c = r.open("alice@contoso.com", &file, &r.out("alice@contoso.com", "late.txt"));
    let a = c.env("FCI_TEST_NOW", &eight_days).assert().code(18);
    assert!(stderr(&a).contains("no valid offline license"), "{}", stderr(&a));
    assert!(!r.out("alice@contoso.com", "late.txt").exists());
    assert_eq!(r.cache_listing("alice@contoso.com"), ["cache.key"]);
}

#[test]
fn the_licensing_url_in_the_file_is_used_when_trusted() {
    let r = Readers::new();
    let _service = r.d.start();
    let original = pattern(20_000);
    let file = r.d.protect("named.txt", &original, OWNER, NAMED_TEMPLATE_ID);
    // No default_server and no --server: only the file's own URL (trusted) says where to go.
    let only_trust = r.root.path().join("trust-only.toml");
    let ca = r.d.path().join("tls/server-ca.pem");
    std::fs::write(&only_trust, format!("trusted_servers = [\"{}\"]\nca_file = \"{}\"\n", r.d.url(), ca.display()))
        .unwrap();
    let user = "alice@contoso.com";
    let token = r.home(user).join("token");
    std::fs::write(&token, r.d.idp.token(user, &[])).unwrap();
    let out = r.out(user, "named.txt");
    let mut c = r.as_user_plain(user, &["open"]);
    c.arg(&file).arg("--output").arg(&out).arg("--reader-config").arg(&only_trust).arg("--token-file").arg(&token);
    c.assert().success();
    assert_eq!(std::fs::read(&out).unwrap(), original);
    // Without OfflineAccessDays in the template, nothing is kept for offline use.
    assert_eq!(r.cache_listing(user), ["cache.key"]);
    // The owner tracks it by file through the same URL.
    let owner_token = r.home(OWNER).join("token");
    std::fs::write(&owner_token, r.d.idp.token(OWNER, &[])).unwrap();
    let mut c = r.as_user_plain(OWNER, &["licenses", "track", "--format", "json"]);
    c.arg(&file).arg("--reader-config").arg(&only_trust).arg("--token-file").arg(&owner_token);
    let a = c.assert().success();
    let tracking: Tracking = serde_json::from_str(&stdout(&a)).unwrap();
    assert_eq!(tracking.document.content_id, content_id(&file));
}

/// A desktop session's Secret Service for one test: a session bus (`dbus-daemon`) and GNOME Keyring's secrets
/// component on it, unlocked with a password, in a folder of their own. Both stop when dropped.
struct KeyringSession {
    _dir: tempfile::TempDir,
    address: String,
    children: Vec<std::process::Child>,
}

impl KeyringSession {
    fn start() -> KeyringSession {
        use std::io::{BufRead, Write};
        use std::process::{Command as Process, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let mut bus = Process::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!("--address=unix:path={}", dir.path().join("bus").display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian dbus-daemon; .ci/run installs it)");
        let mut address = String::new();
        std::io::BufReader::new(bus.stdout.take().unwrap()).read_line(&mut address).unwrap();
        let address = address.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon printed no address: {address:?}");
        let mut keyring = Process::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian gnome-keyring; .ci/run installs it)");
        // The login keyring's password on stdin, then end of input.
        keyring.stdin.take().unwrap().write_all(b"test-password").unwrap();
        let session = KeyringSession { _dir: dir, address, children: vec![bus, keyring] };
        // Ready when the Secret Service's name has an owner on the bus (bounded poll, not a sleep for a race).
        let owned = || {
            Process::new("dbus-send")
                .args(["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
                .args(["org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"])
                .env("DBUS_SESSION_BUS_ADDRESS", &session.address)
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !owned() {
            assert!(std::time::Instant::now() < deadline, "gnome-keyring-daemon did not take org.freedesktop.secrets");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        session
    }
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn in_a_session_with_a_secret_service_the_cache_key_is_kept_there_not_on_disk() {
    let r = Readers::new();
    let service = r.d.start();
    let session = KeyringSession::start();
    let original = pattern(30_000);
    let file = r.d.protect("keyring.txt", &original, OWNER, TEMPLATE_ID);
    let cid = content_id(&file);
    let alice = "alice@contoso.com";
    let in_session = |c: &mut Command| {
        c.env("DBUS_SESSION_BUS_ADDRESS", &session.address);
    };

    let mut c = r.open(alice, &file, &r.out(alice, "online.txt"));
    in_session(&mut c);
    c.assert().success();
    assert_eq!(std::fs::read(r.out(alice, "online.txt")).unwrap(), original);
    // The entry is on disk, its key is not.
    assert_eq!(r.cache_listing(alice), [format!("{cid}.ulic")]);
    let mut c = r.as_user_plain(alice, &["licenses", "cache", "list"]);
    in_session(&mut c);
    let a = c.assert().success();
    assert!(stdout(&a).contains("Secret Service"), "{}", stdout(&a));
    assert!(stdout(&a).contains(&cid.to_string()), "{}", stdout(&a));

    // The service is gone: the key from the Secret Service opens the cached use license.
    service.stop();
    let mut c = r.open(alice, &file, &r.out(alice, "offline.txt"));
    in_session(&mut c);
    let a = c.assert().success();
    assert!(stdout(&a).contains("offline cache"), "{}", stdout(&a));
    assert_eq!(std::fs::read(r.out(alice, "offline.txt")).unwrap(), original);

    // Outside the session (a copy of the folder, another login) the entry cannot be opened: its key is not on disk.
    let mut c = r.open(alice, &file, &r.out(alice, "elsewhere.txt"));
    c.env_remove("DBUS_SESSION_BUS_ADDRESS").assert().code(18);
    assert!(!r.out(alice, "elsewhere.txt").exists());
}

/// A launcher for `open --launch` (`FCI_TEST_LAUNCHER`): records the copy's path and its folders' modes in
/// `<dir>/launched`, then appends `edit` to the copy, as a user saving a change would.
#[cfg(unix)]
fn launcher(dir: &Path, edit: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("launcher.sh");
    let log = dir.join("launched");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nset -e\nprintf '%s\\n' \"$1\" > '{log}'\nstat -c %a \"$(dirname \"$1\")\" >> '{log}'\n\
             stat -c %a \"$(dirname \"$(dirname \"$1\")\")\" >> '{log}'\nprintf '%s' '{edit}' >> \"$1\"\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[cfg(unix)]
/// The launch folder of `user` (their decrypted copies).
fn launch_dir(r: &Readers, user: &str) -> PathBuf {
    r.home(user).join(".cache/fci-connector/open")
}

#[cfg(unix)]
#[test]
fn launch_keeps_an_edit_for_edit_re_protected_in_place_and_not_for_view_only() {
    use std::os::unix::fs::PermissionsExt;
    let r = Readers::new();
    let _service = r.d.start();
    let original = pattern(150_000);
    let file = r.d.protect("q3.txt", &original, OWNER, TEMPLATE_ID);
    let cid = content_id(&file);
    let protected = std::fs::read(&file).unwrap();

    // alice has VIEW,EDIT: the edit is kept, protected again in place under the same license.
    let alice = "alice@contoso.com";
    let script = launcher(&r.home(alice), " edited by alice");
    let a = r.launch(alice, &file, &script).assert().success();
    assert!(stdout(&a).contains("saved:"), "{}", stdout(&a));
    let launched = std::fs::read_to_string(r.home(alice).join("launched")).unwrap();
    let lines: Vec<&str> = launched.lines().collect();
    let copy = Path::new(lines[0]);
    assert_eq!(copy.file_name().unwrap(), "q3.txt", "the copy keeps the file's name");
    assert!(copy.starts_with(launch_dir(&r, alice)), "{launched}");
    assert_eq!(lines[1..], ["700", "700"], "the copy's folder and the launch folder are the user's only");
    assert!(!copy.exists() && !copy.parent().unwrap().exists(), "the copy is wiped");
    assert!(r.listing(&launch_dir(&r, alice)).is_empty());
    let mode = std::fs::metadata(launch_dir(&r, alice)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);

    assert!(is_protected(&file));
    assert_ne!(std::fs::read(&file).unwrap(), protected);
    let mut reader = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
    let license = fci_connector::protect::container::Envelope::read(&mut reader).unwrap().license;
    assert_eq!(license.content_id, cid);
    assert_eq!(license.template_id.to_string(), TEMPLATE_ID);
    assert_eq!(license.owner.as_deref(), Some(OWNER));
    let mut edited = original.clone();
    edited.extend_from_slice(b" edited by alice");
    assert_eq!(license.original_size, edited.len() as u64);
    let out = r.out(alice, "q3.txt");
    r.open(alice, &file, &out).assert().success();
    assert_eq!(std::fs::read(&out).unwrap(), edited, "the edit opens again");
    assert_eq!(r.listing(&r.d.path().join("data")), ["q3.txt"], "no temporary file left beside it");

    // bob (@fabrikam.com) has VIEW only: told the edit was not kept (15), the file byte for byte as it was, the copy
    // wiped.
    let bob = "bob@fabrikam.com";
    let protected = std::fs::read(&file).unwrap();
    let script = launcher(&r.home(bob), " edited by bob");
    let a = r.launch(bob, &file, &script).assert().code(15);
    assert!(stderr(&a).contains("your changes were not kept"), "{}", stderr(&a));
    assert_eq!(std::fs::read(&file).unwrap(), protected);
    let launched = std::fs::read_to_string(r.home(bob).join("launched")).unwrap();
    let copy = PathBuf::from(launched.lines().next().unwrap());
    assert!(!copy.exists() && !copy.parent().unwrap().exists(), "the copy is wiped");
    assert!(r.listing(&launch_dir(&r, bob)).is_empty());

    // Opened and closed without a change: nothing to keep, exit 0 for VIEW too, the file as it was.
    let a = r.launch(bob, &file, "true").assert().success();
    assert!(stdout(&a).contains("not changed"), "{}", stdout(&a));
    assert_eq!(std::fs::read(&file).unwrap(), protected);
    assert!(r.listing(&launch_dir(&r, bob)).is_empty());
}

#[cfg(unix)]
#[test]
fn copies_left_by_a_crash_are_wiped_at_the_next_open_unless_still_held_open() {
    let r = Readers::new();
    let _service = r.d.start();
    let file = r.d.protect("left.txt", &pattern(10_000), OWNER, TEMPLATE_ID);
    let alice = "alice@contoso.com";
    let open = launch_dir(&r, alice);
    // What a crash during the wait leaves: a copy folder (and an application's lock file) without a running run.
    std::fs::create_dir_all(open.join("0123abcd")).unwrap();
    std::fs::write(open.join("0123abcd/left.txt"), b"plaintext of an earlier open").unwrap();
    std::fs::write(open.join("0123abcd/.~lock.left.txt#"), b"lock").unwrap();
    // A copy a live process still holds open (this test process): left alone.
    std::fs::create_dir_all(open.join("4567ef01")).unwrap();
    std::fs::write(open.join("4567ef01/held.txt"), b"still in use").unwrap();
    let holder = std::fs::File::open(open.join("4567ef01/held.txt")).unwrap();

    // Any open sweeps, --output too.
    let a = r.open(alice, &file, &r.out(alice, "left.txt")).assert().success();
    assert!(stderr(&a).contains("wiped 1 decrypted"), "{}", stderr(&a));
    assert_eq!(r.listing(&open), ["4567ef01"]);
    assert_eq!(std::fs::read(open.join("4567ef01/held.txt")).unwrap(), b"still in use");

    // Once it is closed, the next open wipes it.
    drop(holder);
    r.launch(alice, &file, "true").assert().success();
    assert!(r.listing(&open).is_empty());
}
