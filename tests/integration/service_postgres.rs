//! Two `serve` instances behind one PostgreSQL database, as behind a load balancer, through the real binaries: a
//! revocation made through instance A is refused by instance B at its very next request; a restart keeps every
//! record; killing an instance in the middle of a load loses no request it answered (each is committed before its
//! answer is sent).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fci_connector::licensing::api::{self, Decision, DenialCode, Revocation, Tracking};
use fci_connector::protect::container::Envelope;
use uuid::Uuid;

use crate::store_postgres::PgCluster;
use crate::support::client::Client;
use crate::support::service::{ADMIN, Deployment, TEMPLATE_ID, free_port};

const OWNER: &str = "olivia@contoso.com";
const READER: &str = "alice@contoso.com";

/// One more instance of `d`'s service: the same keys and templates, its own port, the shared PostgreSQL store.
struct Instance {
    child: Child,
    port: u16,
    config: PathBuf,
}

impl Instance {
    fn start(d: &Deployment, name: &str, store_url: &str) -> Instance {
        let port = free_port();
        let text = d
            .config_text("")
            .replace(&format!("listen = \"127.0.0.1:{}\"", d.port), &format!("listen = \"127.0.0.1:{port}\""))
            .replace("url = \"sqlite://licensing.db\"", &format!("url = \"{store_url}\""));
        let config = d.path().join(format!("{name}.toml"));
        std::fs::write(&config, text).unwrap();
        Self::spawn(d, config, port)
    }

    fn spawn(d: &Deployment, config: PathBuf, port: u16) -> Instance {
        let name = config.file_stem().unwrap().to_string_lossy().into_owned();
        let child = Command::new(env!("CARGO_BIN_EXE_fci-connector"))
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.path().join(format!("{name}.log"))).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = std::fs::read_to_string(d.path().join(format!("{name}.log"))).unwrap_or_default();
            assert!(Instant::now() < deadline, "{name} did not start:\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Instance { child, port, config }
    }

    fn client(&self, d: &Deployment) -> Client {
        Client::new(&d.server_ca.pem, ([127, 0, 0, 1], self.port).into(), None)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn header_of(path: &Path) -> (Vec<u8>, Uuid) {
    let bytes = std::fs::read(path).unwrap();
    let envelope = Envelope::read(&mut bytes.as_slice()).unwrap();
    (envelope.header_bytes(), envelope.license.content_id)
}

#[test]
#[ignore = "needs root (runs PostgreSQL as the postgres user) and PostgreSQL 15's server binaries"]
fn a_revocation_through_one_instance_is_refused_by_the_other_and_records_survive_restarts_and_kills() {
    let cluster = PgCluster::start().expect("PostgreSQL server binaries (.ci/run installs postgresql-15)");
    let d = Deployment::new();
    let mut a = Instance::start(&d, "serve-a", &cluster.url);
    let b = Instance::start(&d, "serve-b", &cluster.url);
    let file = d.protect("q3.txt", b"quarterly figures\n", OWNER, TEMPLATE_ID);
    let (_, cid) = header_of(&file);
    let reader = d.idp.token(READER, &[]);
    let owner = d.idp.token(OWNER, &[]);

    // Both instances grant, and either can be asked.
    assert_eq!(a.client(&d).open(Some(&reader), &file).unwrap().plaintext, b"quarterly figures\n");
    assert_eq!(b.client(&d).open(Some(&reader), &file).unwrap().plaintext, b"quarterly figures\n");

    // Revoked through A; B refuses at once (nothing cached per instance).
    let r = a.client(&d).post_empty(&api::revoke_path(&cid), Some(&owner));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json::<Revocation>().revoked);
    let Err(denied) = b.client(&d).open(Some(&reader), &file) else { panic!("B must refuse the revoked file") };
    assert_eq!((denied.status, denied.denial().error), (451, DenialCode::Revoked));
    // Lifted through B; A grants again.
    assert_eq!(b.client(&d).post_empty(&api::unrevoke_path(&cid), Some(&owner)).status, 200);
    assert!(a.client(&d).open(Some(&reader), &file).is_ok());

    // A load on B, killed in the middle: every request that got an answer is on record.
    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (answered, stop) = (answered.clone(), stop.clone());
            let (client, token, path) = (b.client(&d), reader.clone(), file.clone());
            std::thread::spawn(move || {
                let (header, _) = header_of(&path);
                while !stop.load(Ordering::Relaxed) {
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        client.license(Some(&token), header.clone()).0.status
                    })) {
                        Ok(200) => {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => break, // the instance is gone
                    }
                }
            })
        })
        .collect();
    while answered.load(Ordering::SeqCst) < 40 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut b = b;
    b.kill();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let answered = answered.load(Ordering::SeqCst);

    // A restarted instance (same config) sees every record, whichever instance wrote it.
    a.kill();
    let a = Instance::spawn(&d, a.config.clone(), a.port);
    let answer = a.client(&d).get(&api::tracking_path(&cid), Some(&d.idp.token(ADMIN, &[])));
    assert_eq!(answer.status, 200, "{}", answer.text());
    let t: Tracking = answer.json();
    let granted = t.requests.iter().filter(|r| r.action == "license" && r.decision == Decision::Granted).count();
    // 3 opens before the load (A, B, A) and every answered request of the load; requests in flight when B died may
    // or may not have been committed, never fewer.
    assert!(granted >= 3 + answered, "{granted} granted records for {answered} answered requests");
    let revoked = t.requests.iter().filter(|r| r.code == Some(DenialCode::Revoked)).count();
    assert_eq!(revoked, 1);
    let actions: Vec<&str> = t.requests.iter().map(|r| r.action.as_str()).collect();
    assert!(actions.contains(&"revoke") && actions.contains(&"unrevoke"), "{actions:?}");
    assert!(!t.document.revoked);
}
