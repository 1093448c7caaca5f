//! `<LicenseServer>`: a template's licensing service URL goes into every license (format 1.1, only then), `status`
//! shows it, files protected before it (1.0) keep opening, and `register="true"` tells the service about each new
//! file without ever failing or changing the protect (docs/TEMPLATES.md, docs/FORMAT.md "Versions").

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::util::*;

const URL: &str = "https://rms.contoso.com/";

/// The scratch template with `element` added after `<OfflineAccessDays>` (as line 12 of the file).
fn with_element(s: &Scratch, element: &str) {
    let path = s.templates().join("confidential.xml");
    let text = std::fs::read_to_string(&path).unwrap();
    let at = "  <OfflineAccessDays>7</OfflineAccessDays>\n";
    assert!(text.contains(at));
    std::fs::write(&path, text.replace(at, &format!("{at}{element}\n"))).unwrap();
}

fn status(s: &Scratch, f: &Path, json: bool) -> String {
    let mut c = s.cmd();
    c.arg("status").arg(f);
    if json {
        c.args(["--format", "json"]);
    }
    stdout(&c.assert().code(0))
}

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/vectors").join(name)).unwrap()
}

/// `protect --always` with a log folder; returns the run and the log's last record.
fn protect_logged(s: &Scratch, f: &Path) -> (assert_cmd::assert::Assert, serde_json::Value) {
    let logs = s.path().join("logs");
    let a = s
        .cmd()
        .arg("--log-dir")
        .arg(&logs)
        .arg("protect")
        .arg(f)
        .args(["--template", TEMPLATE_ID, "--always", "--json"])
        .assert();
    let log = std::fs::read_to_string(logs.join("fci-connector.log")).unwrap();
    let last = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    (a, last)
}

#[test]
fn a_template_with_a_license_server_writes_it_into_every_license_as_format_1_1() {
    let s = Scratch::new();
    with_element(&s, &format!(r#"  <LicenseServer url="{URL}"/>"#));
    let f = s.file("q3.txt", b"quarterly figures");
    s.protect(&f).code(0);
    let bytes = std::fs::read(&f).unwrap();
    assert_eq!(bytes[8..10], [1, 1]);
    let header = fci_connector::protect::container::header::Header::read(&mut bytes.as_slice()).unwrap();
    assert!(header.license_xml.contains(&format!(
        "  <OfflineAccessDays>7</OfflineAccessDays>\n  <LicenseServer url=\"{URL}\"/>\n  <OriginalFile"
    )));
    let json = status(&s, &f, true);
    assert!(
        json.contains(&format!(r#""license_server":"{URL}""#)) && json.contains(r#""format_version":"1.1""#),
        "{json}"
    );
    let table = status(&s, &f, false);
    assert!(table.lines().next().unwrap().ends_with("LICENSING") && table.contains(URL), "{table}");
    // The URL is authenticated like every license field: changing it is tampering.
    let mut moved = bytes.clone();
    let at = moved.windows(URL.len()).position(|w| w == URL.as_bytes()).unwrap();
    moved[at + 8] = b'x';
    let g = s.file("moved.txt", &moved);
    assert!(stderr(&s.unprotect(&g, "issuer.key.pem").code(7)).contains("header was altered"));
    s.unprotect(&f, "issuer.key.pem").code(0);
    assert_eq!(std::fs::read(&f).unwrap(), b"quarterly figures");
}

#[test]
fn a_template_without_a_license_server_still_writes_format_1_0() {
    let s = Scratch::new();
    let f = s.file("a.txt", b"plain");
    s.protect(&f).code(0);
    assert_eq!(std::fs::read(&f).unwrap()[8..10], [1, 0]);
    let json = status(&s, &f, true);
    assert!(!json.contains("license_server") && json.contains(r#""format_version":"1.0""#), "{json}");
    assert!(status(&s, &f, false).lines().next().unwrap().ends_with("OWNER"));
}

#[test]
fn files_protected_before_format_1_1_keep_opening_with_the_key() {
    let s = Scratch::new();
    // The store's template has since gained a licensing service: the old file is what it was.
    with_element(&s, &format!(r#"  <LicenseServer url="{URL}" register="false"/>"#));
    for (file, plain) in [("v1-hello.fcip", &b"Hello, FCI!\n"[..]), ("v1-empty.fcip", b"")] {
        let f = s.file(file, &vector(file));
        let json = status(&s, &f, true);
        assert!(json.contains(r#""format_version":"1.0""#) && !json.contains("license_server"), "{json}");
        s.unprotect(&f, "issuer.key.pem").code(0);
        assert_eq!(std::fs::read(&f).unwrap(), plain, "{file}");
    }
}

#[test]
fn a_header_version_that_does_not_match_the_license_is_damaged() {
    let s = Scratch::new();
    // 1.1 relabelled 1.0 (a license server a 1.0 reader would not know), and 1.0 relabelled 1.1 (none named).
    for (file, minor, says) in [("v1.1-license-server.fcip", 0, "format 1.0"), ("v1-hello.fcip", 1, "format 1.1")] {
        let mut bytes = vector(file);
        bytes[9] = minor;
        let f = s.file(file, &bytes);
        let json = status(&s, &f, true);
        assert!(json.contains(r#""state":"damaged""#) && json.contains(says), "{json}");
        let err = stderr(&s.unprotect(&f, "issuer.key.pem").code(7));
        assert!(err.contains("damaged header") && err.contains(says), "{err}");
        assert_eq!(std::fs::read(&f).unwrap(), bytes);
    }
    let mut bytes = vector("v1-hello.fcip");
    bytes[9] = 2;
    let f = s.file("v1.2.fcip", &bytes);
    assert!(stderr(&s.unprotect(&f, "issuer.key.pem").failure()).contains("1.2 is not supported"));
}

#[test]
fn a_bad_license_server_is_a_template_error_with_its_position() {
    let cases = [
        (r#"<LicenseServer url="http://rms.contoso.com/"/>"#, "not https://"),
        (r#"<LicenseServer url="https://admin:pw@rms.contoso.com/"/>"#, "user information"),
        (r#"<LicenseServer url="https://rms.contoso.com/#top"/>"#, "fragment"),
        (r#"<LicenseServer url="/relative/"/>"#, "not https://"),
        (r#"<LicenseServer url="https://rms.contoso.com/" register="yes"/>"#, "register=\"yes\""),
        (r#"<LicenseServer/>"#, "needs the attribute url"),
        (r#"<LicenseServer url="https://rms.contoso.com/" port="1"/>"#, "no attribute port"),
    ];
    for (element, why) in cases {
        let s = Scratch::new();
        with_element(&s, &format!("  {element}"));
        let err = stderr(&s.cmd().args(["templates", "list"]).assert().code(6));
        assert!(err.contains("confidential.xml:12:3:") && err.contains(why), "{element}: {err}");
        let f = s.file("a.txt", b"x");
        let err = stderr(&s.protect(&f).failure());
        assert!(err.contains("confidential.xml:12:3:") && err.contains(why), "{element}: {err}");
        assert_eq!(std::fs::read(&f).unwrap(), b"x");
    }
}

#[test]
fn templates_create_writes_the_license_server_and_register() {
    let s = Scratch::new();
    let id = "0f0e0d0c-0b0a-4988-8766-554433221100";
    let create = |extra: &[&str]| {
        s.cmd()
            .args(["templates", "create", "--id", id, "--name", "Registered", "--key"])
            .arg(key("issuer.pub.pem"))
            .args(extra)
            .assert()
    };
    let err = stderr(&create(&["--license-server", "http://rms.contoso.com/"]).code(2));
    assert!(err.contains("--license-server") && err.contains("not https://"), "{err}");
    create(&["--register"]).failure();
    assert!(!s.templates().join(format!("{id}.xml")).exists());
    create(&["--license-server", URL, "--register"]).code(0);
    let xml = std::fs::read_to_string(s.templates().join(format!("{id}.xml"))).unwrap();
    assert!(xml.contains(&format!("  <LicenseServer url=\"{URL}\" register=\"true\"/>\n  <IssuerKey>")), "{xml}");
    let show = stdout(&s.cmd().args(["templates", "show", id, "--format", "json"]).assert().code(0));
    assert!(show.contains(&format!(r#""license_server":"{URL}","register":true"#)), "{show}");
    let show = stdout(&s.cmd().args(["templates", "show", id]).assert().code(0));
    assert!(show.contains(&format!("Licensing   : {URL} (registers new files)")), "{show}");
}

/// A loopback listener that accepts connections and never answers, until dropped.
struct Silent {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                held.extend(stream.ok());
            }
            held.len()
        });
        Silent { port, stop, thread: Some(thread) }
    }

    /// Stop accepting; how many connections were made.
    fn connections(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        self.thread.take().unwrap().join().unwrap()
    }
}

fn registering(s: &Scratch, port: u16, register: bool) -> PathBuf {
    with_element(s, &format!(r#"  <LicenseServer url="https://127.0.0.1:{port}/" register="{register}"/>"#));
    s.file("report.txt", b"register me")
}

#[test]
fn an_unreachable_service_does_not_fail_the_protect_and_the_log_says_not_registered() {
    let s = Scratch::new();
    // Bound and closed again: nothing listens on this port.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let f = registering(&s, port, true);
    let (a, record) = protect_logged(&s, &f);
    let printed: serde_json::Value = serde_json::from_str(stdout(&a.code(0)).trim()).unwrap();
    for r in [&record, &printed] {
        assert_eq!(r["decision"], "protected", "{r}");
        assert_eq!(r["exit_code"], 0, "{r}");
        assert_eq!(r["registered"], false, "{r}");
        let why = r["registration_error"].as_str().unwrap();
        assert!(why.contains(&format!("https://127.0.0.1:{port}/v1/documents")), "{why}");
    }
    assert_eq!(std::fs::read(&f).unwrap()[8..10], [1, 1]);
    s.unprotect(&f, "issuer.key.pem").code(0);
    assert_eq!(std::fs::read(&f).unwrap(), b"register me");
}

#[test]
fn a_service_that_never_answers_does_not_hold_up_the_protect() {
    let s = Scratch::new();
    let silent = Silent::start();
    let f = registering(&s, silent.port, true);
    let (a, record) = protect_logged(&s, &f);
    a.code(0);
    assert_eq!(record["decision"], "protected", "{record}");
    assert_eq!(record["registered"], false, "{record}");
    assert!(record["registration_error"].as_str().is_some(), "{record}");
    assert!(silent.connections() >= 1, "protect did not try to register");
    s.unprotect(&f, "issuer.key.pem").code(0);
    assert_eq!(std::fs::read(&f).unwrap(), b"register me");
}

#[test]
fn without_register_the_service_is_not_contacted() {
    let s = Scratch::new();
    let silent = Silent::start();
    let f = registering(&s, silent.port, false);
    let (a, record) = protect_logged(&s, &f);
    a.code(0);
    assert_eq!(record["decision"], "protected", "{record}");
    assert!(record.get("registered").is_none() && record.get("registration_error").is_none(), "{record}");
    assert_eq!(silent.connections(), 0);
    assert_eq!(std::fs::read(&f).unwrap()[8..10], [1, 1]);
}

/// A loopback HTTPS server under a test CA that answers one request with `status` and `body`; the thread returns
/// the request line and body it read (`None` when the client gave up, e.g. during the TLS handshake).
struct OneShot {
    port: u16,
    ca_pem: String,
    thread: std::thread::JoinHandle<Option<(String, Vec<u8>)>>,
}

fn https_once(status: &'static str, body: &'static str) -> OneShot {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use std::io::{Read, Write};

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&leaf_key, &ca).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().ok()?;
        let conn = rustls::ServerConnection::new(Arc::new(config)).ok()?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut request = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = tls.read(&mut chunk).ok().filter(|n| *n > 0)?;
            request.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&request[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
            .expect("a Content-Length");
        while request.len() < head_end + length {
            let n = tls.read(&mut chunk).ok().filter(|n| *n > 0)?;
            request.extend_from_slice(&chunk[..n]);
        }
        let answer = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(answer.as_bytes()).ok()?;
        tls.conn.send_close_notify();
        let _ = tls.flush();
        Some((head.lines().next().unwrap_or_default().to_string(), request[head_end..].to_vec()))
    });
    OneShot { port, ca_pem: ca.pem(), thread }
}

/// `protect` with `fci-connector.toml` naming `ca` (when given) as `license_server_ca`.
fn protect_with_ca(s: &Scratch, f: &Path, ca: Option<&str>) -> serde_json::Value {
    let config = s.path().join("fci-connector.toml");
    match ca {
        Some(pem) => {
            std::fs::write(s.path().join("service-ca.pem"), pem).unwrap();
            std::fs::write(&config, "license_server_ca = \"service-ca.pem\"\n").unwrap();
        }
        None => std::fs::write(&config, "").unwrap(),
    }
    let a = s
        .cmd()
        .arg("--config")
        .arg(&config)
        .arg("protect")
        .arg(f)
        .args(["--template", TEMPLATE_ID, "--always", "--json"])
        .assert()
        .code(0);
    serde_json::from_str(stdout(&a).trim()).unwrap()
}

#[test]
fn a_service_under_the_configured_ca_receives_the_license_block() {
    let s = Scratch::new();
    let server = https_once("201 Created", "{}");
    let f = registering(&s, server.port, true);
    let record = protect_with_ca(&s, &f, Some(&server.ca_pem));
    assert_eq!(record["registered"], true, "{record}");
    assert!(record.get("registration_error").is_none(), "{record}");
    let (line, body) = server.thread.join().unwrap().expect("the service was asked");
    assert_eq!(line, "POST /v1/documents HTTP/1.1");
    // The body is api::RegisterRequest: the file's header, byte 0 through the header MAC.
    let request: fci_connector::licensing::api::RegisterRequest = serde_json::from_slice(&body).unwrap();
    let protected = std::fs::read(&f).unwrap();
    assert_eq!(request.license, protected[..payload_offset(&protected)]);
}

#[test]
fn a_refusal_or_an_untrusted_certificate_is_logged_and_the_file_stays_protected() {
    let s = Scratch::new();
    let denial = r#"{"error":"invalid_license","message":"the license does not verify"}"#;
    let server = https_once("422 Unprocessable Entity", denial);
    let f = registering(&s, server.port, true);
    let record = protect_with_ca(&s, &f, Some(&server.ca_pem));
    assert_eq!((&record["registered"], &record["exit_code"]), (&false.into(), &0.into()), "{record}");
    let why = record["registration_error"].as_str().unwrap();
    assert!(why.contains("HTTP 422 invalid_license: the license does not verify"), "{why}");
    assert!(server.thread.join().unwrap().is_some());
    assert!(is_protected(&f));

    // The same kind of service, but its CA is not configured: the OS trust store does not know it.
    let server = https_once("201 Created", "{}");
    let g = s.file("second.txt", b"second");
    let text = std::fs::read_to_string(s.templates().join("confidential.xml")).unwrap();
    let port = |p: u16| format!("https://127.0.0.1:{p}/");
    let old = text.split("https://127.0.0.1:").nth(1).unwrap().split('/').next().unwrap().parse::<u16>().unwrap();
    std::fs::write(s.templates().join("confidential.xml"), text.replace(&port(old), &port(server.port))).unwrap();
    let record = protect_with_ca(&s, &g, None);
    assert_eq!((&record["registered"], &record["decision"]), (&false.into(), &"protected".into()), "{record}");
    assert!(server.thread.join().unwrap().is_none(), "the request was sent over an untrusted connection");
    s.unprotect(&g, "issuer.key.pem").code(0);
    assert_eq!(std::fs::read(&g).unwrap(), b"second");
}
