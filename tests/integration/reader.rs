//! The reader (`open`, `licenses`, `unprotect --online`, `status --check-access`) through the real binary. This
//! part needs no licensing service: what must be refused before any connection, and a service that cannot be
//! reached.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::util::{Scratch, pattern, stderr};

/// A scratch folder with a protected file, a token file, and the reader's per-user folders inside it.
struct ReaderScratch {
    s: Scratch,
    protected: PathBuf,
}

impl ReaderScratch {
    fn new() -> ReaderScratch {
        Self::with_license_server(None)
    }

    /// With `url` as the template's `LicenseServer`, so that every license names it.
    fn with_license_server(url: Option<&str>) -> ReaderScratch {
        let s = Scratch::new();
        if let Some(url) = url {
            let template = s.templates().join("confidential.xml");
            let text = std::fs::read_to_string(&template)
                .unwrap()
                .replace("  <IssuerKey", &format!("  <LicenseServer url=\"{url}\"/>\n  <IssuerKey"));
            std::fs::write(&template, text).unwrap();
        }
        let protected = s.file("report.txt", &pattern(70_000));
        s.protect(&protected).success();
        std::fs::write(s.path().join("token"), "a.b.c\n").unwrap();
        ReaderScratch { s, protected }
    }

    fn path(&self) -> &Path {
        self.s.path()
    }

    fn reader_config(&self, text: &str) -> PathBuf {
        let p = self.path().join("reader.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn cache_dir(&self) -> PathBuf {
        self.path().join("cache/fci-connector/licenses")
    }

    /// The binary with the per-user folders in the scratch folder and a token.
    fn cmd(&self) -> assert_cmd::Command {
        let mut c = self.s.cmd();
        c.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_CACHE_HOME", self.path().join("cache"))
            .env_remove("FCI_TEST_NOW")
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        c
    }

    fn token_args(&self) -> [std::ffi::OsString; 2] {
        ["--token-file".into(), self.path().join("token").into_os_string()]
    }
}

/// A loopback port that listens but is never served: a connection to it would wait in its backlog.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn assert_no_connection(l: &TcpListener) {
    match l.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("a connection arrived from {from}: a credential could have been sent"),
        Err(e) => panic!("accept: {e}"),
    }
}

#[test]
fn an_untrusted_service_is_refused_before_any_connection() {
    let r = ReaderScratch::new();
    let (l, port) = listener();
    let evil = format!("https://127.0.0.1:{port}/");
    let config =
        r.reader_config(&format!("trusted_servers = [\"https://rms.contoso.test/\"]\ndefault_server = \"{evil}\"\n"));
    let before = r.s.data_listing();
    let out = r.path().join("data/out.txt");
    let a = r
        .cmd()
        .arg("open")
        .arg(&r.protected)
        .arg("--output")
        .arg(&out)
        .arg("--reader-config")
        .arg(&config)
        .args(r.token_args())
        .assert()
        .code(19);
    let err = stderr(&a);
    assert!(err.contains(&format!("{evil} is not a trusted licensing service")), "{err}");
    assert!(err.contains("no request was made"), "{err}");
    assert!(!out.exists());
    assert_eq!(r.s.data_listing(), before);
    // The admin commands and the access check refuse it the same way, for a file and for a bare content id.
    for args in [
        vec!["licenses".to_string(), "track".into(), r.protected.display().to_string()],
        vec!["licenses".to_string(), "revoke".into(), "3f2c1a4e-0000-4000-8000-000000000001".into()],
        vec!["status".to_string(), "--check-access".into(), r.protected.display().to_string()],
        vec!["unprotect".to_string(), r.protected.display().to_string(), "--online".into()],
    ] {
        let a = r.cmd().args(&args).arg("--reader-config").arg(&config).args(r.token_args()).assert().code(19);
        if args[0] == "status" {
            let out = crate::util::stdout(&a);
            assert!(out.contains("\"exit_code\":19") && out.contains("not a trusted"), "{out}");
        } else {
            assert!(stderr(&a).contains("not a trusted licensing service"), "{args:?}: {}", stderr(&a));
        }
    }
    assert!(crate::util::is_protected(&r.protected), "unprotect --online left the file protected");
    assert_no_connection(&l);
}

#[test]
fn a_file_whose_license_names_an_untrusted_service_sends_it_nothing() {
    let (l, port) = listener();
    let evil = format!("https://127.0.0.1:{port}/collect/");
    let r = ReaderScratch::with_license_server(Some(&evil));
    // The license names it (status shows it), and the reader trusts only its configured service, which is also the
    // default: the file's own URL is taken, and refused.
    let a = r.cmd().arg("status").arg(&r.protected).args(["--format", "json"]).assert().success();
    assert!(crate::util::stdout(&a).contains(&evil), "{}", crate::util::stdout(&a));
    let config = r.reader_config(
        "trusted_servers = [\"https://rms.contoso.test/\"]\ndefault_server = \"https://rms.contoso.test/\"\n",
    );
    let out = r.path().join("data/out.txt");
    let a = r
        .cmd()
        .arg("open")
        .arg(&r.protected)
        .arg("--output")
        .arg(&out)
        .arg("--reader-config")
        .arg(&config)
        .args(r.token_args())
        .assert()
        .code(19);
    let err = stderr(&a);
    assert!(err.contains(&format!("{evil} is not a trusted licensing service")), "{err}");
    assert!(err.contains("the file's license names it"), "{err}");
    assert!(!out.exists());
    // An admin's token is worth more: track and revoke by file refuse the same way.
    for sub in ["track", "revoke"] {
        r.cmd()
            .args(["licenses", sub])
            .arg(&r.protected)
            .arg("--reader-config")
            .arg(&config)
            .args(r.token_args())
            .assert()
            .code(19);
    }
    assert_no_connection(&l);
}

#[test]
fn an_unreachable_service_without_an_offline_license_is_its_exit_code_and_leaves_nothing() {
    let r = ReaderScratch::new();
    // A port nobody listens on any more: the connection is refused at once.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = r.reader_config("");
    let before = r.s.data_listing();
    let out = r.path().join("data/out.txt");
    let a = r
        .cmd()
        .arg("open")
        .arg(&r.protected)
        .arg("--output")
        .arg(&out)
        .arg("--server")
        .arg(format!("https://127.0.0.1:{port}/"))
        .arg("--reader-config")
        .arg(&config)
        .args(r.token_args())
        .assert()
        .code(18);
    let err = stderr(&a);
    assert!(err.contains("could not be reached") && err.contains("no valid offline license"), "{err}");
    assert!(!out.exists());
    assert_eq!(r.s.data_listing(), before, "nothing left beside the output");
    // The user's cache folder exists, owner-only, with its key file, and holds no entry.
    let cache = r.cache_dir();
    let names: Vec<String> =
        std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["cache.key"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache), 0o700);
        assert_eq!(mode(&cache.join("cache.key")), 0o600);
    }
}

#[test]
fn no_sign_in_a_bad_reader_config_and_an_existing_output_are_refused_up_front() {
    let r = ReaderScratch::new();
    let out = r.path().join("data/out.txt");
    let open = |extra: &[&str]| {
        let mut c = r.cmd();
        c.arg("open").arg(&r.protected).arg("--output").arg(&out).args(["--server", "https://127.0.0.1:9/"]);
        c.args(extra);
        c
    };
    let config = r.reader_config("");
    let a = open(&["--reader-config", config.to_str().unwrap()]).assert().code(19);
    assert!(stderr(&a).contains("no sign-in"), "{}", stderr(&a));
    let bad = r.reader_config("trusted_servers = [\n  \"http://rms.contoso.test/\",\n]\n");
    let a = open(&["--reader-config", bad.to_str().unwrap(), "--token-env", "X"]).assert().code(6);
    assert!(stderr(&a).contains(&format!("{}:2:3: ", bad.display())), "{}", stderr(&a));
    std::fs::write(&out, b"mine").unwrap();
    let config = r.reader_config("");
    let a = open(&["--reader-config", config.to_str().unwrap(), "--token-env", "X"]).assert().code(2);
    assert!(stderr(&a).contains("already exists"), "{}", stderr(&a));
    assert_eq!(std::fs::read(&out).unwrap(), b"mine");
    // An empty cache lists as empty; clear removes nothing.
    let a = r.cmd().args(["licenses", "cache", "list", "--format", "json"]).assert().success();
    assert_eq!(crate::util::stdout(&a).trim(), "[]");
    r.cmd().args(["licenses", "cache", "clear"]).assert().success();
}
