//! The PostgreSQL store against a real PostgreSQL 15 cluster the test creates (`initdb`/`pg_ctl` as the
//! `postgres` user, in a temp folder, on a loopback port): two service instances share one database, so what one
//! writes the other reads at once; two instances starting together migrate once; every record survives a reopen.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fci_connector::licensing::api::{Decision, DenialCode, Document, RequestRecord};
use fci_connector::service::store::Store;
use time::OffsetDateTime;
use uuid::Uuid;

/// A throwaway PostgreSQL cluster, stopped and deleted on drop.
pub struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub url: String,
}

fn as_postgres(bin: &Path, program: &str) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(bin.join(program));
    c
}

impl PgCluster {
    /// `None` when PostgreSQL's server binaries are not installed.
    pub fn start() -> Option<PgCluster> {
        let bin = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]
            .into_iter()
            .map(PathBuf::from)
            .find(|b| b.join("initdb").exists())?;
        let dir = tempfile::Builder::new().prefix("fci-pg-").tempdir().unwrap();
        let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap();
        assert!(chown.success());
        let data = dir.path().join("data");
        let init = as_postgres(&bin, "initdb")
            .args(["--auth=trust", "-U", "postgres", "-E", "UTF8", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", dir.path().display());
        let start = as_postgres(&bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("log"))
            .args(["-o", &options, "-w", "start"])
            .output()
            .unwrap();
        assert!(start.status.success(), "pg_ctl start: {}", String::from_utf8_lossy(&start.stderr));
        let cluster = PgCluster { bin, dir, url: format!("postgres://postgres@127.0.0.1:{port}/postgres") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(cluster)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn doc(n: u128, owner: &str, seen: i64) -> Document {
    Document {
        content_id: Uuid::from_u128(n),
        original_name: format!("f{n}.docx"),
        template_id: Uuid::from_u128(99),
        template_name: "T".into(),
        owner: Some(owner.into()),
        first_seen: OffsetDateTime::from_unix_timestamp(seen).unwrap(),
        revoked: false,
    }
}

fn record(cid: Uuid, t: i64) -> RequestRecord {
    RequestRecord {
        time: OffsetDateTime::from_unix_timestamp(t).unwrap(),
        principal: Some("alice@contoso.com".into()),
        action: "license".into(),
        content_id: Some(cid),
        template_id: Some(Uuid::from_u128(99)),
        rights_granted: vec!["VIEW".into(), "EDIT".into()],
        decision: Decision::Granted,
        code: None,
        client_address: "127.0.0.1:5000".into(),
        user_agent: Some("test".into()),
    }
}

#[test]
#[ignore = "needs root (runs PostgreSQL as the postgres user) and PostgreSQL 15's server binaries"]
fn two_instances_share_revocations_at_once_and_every_record_survives_a_reopen() {
    let cluster = PgCluster::start().expect("PostgreSQL server binaries (.ci/run installs postgresql-15)");
    let base = Path::new(".");
    runtime().block_on(async {
        // Two instances starting together: the schema is created once (an advisory lock), neither fails.
        let (a, b) = tokio::join!(Store::open(&cluster.url, base), Store::open(&cluster.url, base));
        let (a, b) = (a.unwrap(), b.unwrap());
        let first = a.upsert_document(&doc(1, "Olivia@Contoso.com", 100)).await.unwrap();
        assert!(!b.is_revoked(first.content_id).await.unwrap());
        assert!(a.set_revoked(first.content_id, true, "olivia@contoso.com").await.unwrap());
        // Revoked through A, refused by B on its very next read: nothing is cached per instance.
        assert!(b.is_revoked(first.content_id).await.unwrap());
        let again = b.upsert_document(&doc(1, "x", 500)).await.unwrap();
        assert_eq!((again.first_seen, again.revoked), (first.first_seen, true));
        assert!(!b.set_revoked(Uuid::from_u128(7), true, "x").await.unwrap());
        b.upsert_document(&doc(2, "bob@contoso.com", 200)).await.unwrap();
        a.upsert_document(&doc(3, "olivia@contoso.com", 300)).await.unwrap();
        let denied = RequestRecord {
            decision: Decision::Denied,
            code: Some(DenialCode::Revoked),
            ..record(first.content_id, 10)
        };
        a.record_request(&denied).await.unwrap();
        b.record_request(&record(first.content_id, 20)).await.unwrap();
        // Many requests at once over the shared connections: all committed, none lost.
        let writes: Vec<_> = (0..200)
            .map(|i| {
                let a = a.clone();
                tokio::spawn(async move { a.record_request(&record(Uuid::from_u128(50), 1000 + i)).await })
            })
            .collect();
        for w in writes {
            w.await.unwrap().unwrap();
        }
        drop((a, b));

        let store = Store::open(&cluster.url, base).await.unwrap();
        assert!(store.is_revoked(Uuid::from_u128(1)).await.unwrap());
        let (page, more) = store.documents(Some("OLIVIA@contoso.com"), 1, 1).await.unwrap();
        assert_eq!((page[0].content_id, more), (Uuid::from_u128(3), true));
        let (page, more) = store.documents(None, 1, 10).await.unwrap();
        assert_eq!((page.len(), more), (3, false));
        assert_eq!(store.requests_for(Uuid::from_u128(1)).await.unwrap(), vec![denied, record(Uuid::from_u128(1), 20)]);
        assert_eq!(store.requests_for(Uuid::from_u128(50)).await.unwrap().len(), 200);
        let cutoff = OffsetDateTime::from_unix_timestamp(15).unwrap();
        assert_eq!(store.purge_requests_before(cutoff).await.unwrap(), 1);
        assert_eq!(store.requests_for(Uuid::from_u128(1)).await.unwrap().len(), 1);
    });
}

#[test]
#[ignore = "needs root (runs PostgreSQL as the postgres user) and PostgreSQL 15's server binaries"]
fn an_unreachable_database_or_a_tls_url_is_a_clear_error_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    runtime().block_on(async {
        let url = format!("postgres://fci:hunter2@127.0.0.1:{port}/licensing");
        let err = Store::open(&url, Path::new(".")).await.err().unwrap().to_string();
        assert!(err.contains(&format!("127.0.0.1:{port}")) && !err.contains("hunter2"), "{err}");
        let err = Store::open(&format!("{url}?sslmode=require"), Path::new(".")).await.err().unwrap().to_string();
        assert!(err.contains("sslmode=require") && !err.contains("hunter2"), "{err}");
    });
}
