//! The SQLite store: one file, WAL journal (readers never wait for the writer), `synchronous=NORMAL` (a commit is
//! durable against a process crash; against power loss the last commits may be lost, as WAL documents), and a busy
//! timeout. Calls run on tokio's blocking pool, never on the async workers: one writer connection, and reader
//! connections taken from a small pool. Request records go to a writer thread of their own that commits whatever
//! is waiting in one transaction (group commit); each request still waits for its own record's commit before it
//! is answered.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::portal::{DenialRow, DocumentSummary, Param, Query, TEMPLATE_COUNTS, TemplateCount};
use super::{
    MIGRATIONS, StoreError, decision_from_text, decision_text, from_micros, micros, parse_code, parse_uuid,
    split_rights,
};
use crate::licensing::api::{Document, RequestRecord};

/// How long a statement waits for a lock before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Reader connections kept open.
const MAX_IDLE_READERS: usize = 8;
/// Most request records committed in one transaction.
const MAX_BATCH: usize = 512;
/// Request records waiting for the writer thread (senders wait when it is full).
const QUEUE: usize = 4096;

/// A request record on its way to the writer thread, and where the outcome of its commit goes.
type Pending = (RequestRecord, tokio::sync::oneshot::Sender<Result<(), StoreError>>);

const INSERT_REQUEST: &str = "INSERT INTO requests (time, principal, action, content_id, template_id, rights, \
                              decision, code, client_address, user_agent) \
                              VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

/// A SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    /// The request-record writer thread's queue; the thread ends when the last store clone is dropped.
    records: tokio::sync::mpsc::Sender<Pending>,
}

/// Commit `records` in one transaction.
fn insert_records<'a>(
    conn: &mut Connection,
    records: impl Iterator<Item = &'a RequestRecord>,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare_cached(INSERT_REQUEST)?;
        for rec in records {
            insert.execute(params![
                micros(rec.time),
                rec.principal,
                rec.action,
                rec.content_id.map(|c| c.to_string()),
                rec.template_id.map(|c| c.to_string()),
                rec.rights_granted.join(","),
                decision_text(rec.decision),
                rec.code.map(|c| c.as_str()),
                rec.client_address,
                rec.user_agent,
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The writer thread of request records: takes what is waiting (at most [`MAX_BATCH`]), commits it in one
/// transaction on the writer connection, then tells each waiting request. If the group fails, each record is tried
/// alone, so that one record's failure is not the others'.
fn record_writer(inner: Arc<Inner>, mut queue: tokio::sync::mpsc::Receiver<Pending>) {
    let commit = |records: &mut dyn Iterator<Item = &RequestRecord>| match inner.writer.lock() {
        Ok(mut conn) => insert_records(&mut conn, records),
        Err(_) => Err(StoreError::Worker("writer lock poisoned".into())),
    };
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        if batch.len() > 1 && commit(&mut batch.iter().map(|(r, _)| r)).is_ok() {
            for (_, done) in batch.drain(..) {
                let _ = done.send(Ok(()));
            }
            continue;
        }
        for (rec, done) in batch.drain(..) {
            let _ = done.send(commit(&mut std::iter::once(&rec)));
        }
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("SELECT version FROM schema_version", [], |r| r.get(0)).optional()?.unwrap_or(0);
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::Schema { found, known });
    }
    for (i, steps) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        for sql in *steps {
            tx.execute_batch(sql)?;
        }
        tx.execute("DELETE FROM schema_version", [])?;
        tx.execute("INSERT INTO schema_version (version) VALUES (?1)", params![i as i64 + 1])?;
    }
    tx.commit()?;
    Ok(())
}

type DocRow = (String, String, String, String, Option<String>, i64, i64);

fn row_document(r: &rusqlite::Row<'_>) -> rusqlite::Result<DocRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn to_document(row: DocRow) -> Result<Document, StoreError> {
    let (cid, original_name, tid, template_name, owner, first_seen, revoked) = row;
    Ok(Document {
        content_id: parse_uuid(&cid)?,
        original_name,
        template_id: parse_uuid(&tid)?,
        template_name,
        owner,
        first_seen: from_micros(first_seen)?,
        revoked: revoked != 0,
    })
}

type RequestRow = (
    i64,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);

/// The ten request columns, in `requests_for` order.
fn request_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
}

fn to_record(row: RequestRow) -> Result<RequestRecord, StoreError> {
    let (time, principal, action, cid, tid, rights, decision, code, client_address, user_agent) = row;
    Ok(RequestRecord {
        time: from_micros(time)?,
        principal,
        action,
        content_id: cid.as_deref().map(parse_uuid).transpose()?,
        template_id: tid.as_deref().map(parse_uuid).transpose()?,
        rights_granted: split_rights(&rights),
        decision: decision_from_text(&decision),
        code: code.as_deref().map(parse_code).transpose()?,
        client_address,
        user_agent,
    })
}

fn sqlite_params(params: &[Param]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|p| match p {
            Param::Text(t) => rusqlite::types::Value::Text(t.clone()),
            Param::Int(i) => rusqlite::types::Value::Integer(*i),
        })
        .collect()
}

const DOC_COLUMNS: &str = "content_id, original_name, template_id, template_name, owner, first_seen, revoked";

impl SqliteStore {
    /// Open (creating) the database file and bring its schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut writer = connect(&path)?;
            migrate(&mut writer)?;
            let inner = Arc::new(Inner { path, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) });
            let (records, queue) = tokio::sync::mpsc::channel(QUEUE);
            let thread_inner = inner.clone();
            std::thread::Builder::new()
                .name("fci-serve-audit".into())
                .spawn(move || record_writer(thread_inner, queue))
                .map_err(|e| StoreError::Worker(format!("cannot start the record writer: {e}")))?;
            Ok(SqliteStore { inner, records })
        })
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
    }

    /// Run `f` with the writer connection on the blocking pool.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().map_err(|_| StoreError::Worker("writer lock poisoned".into()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
    }

    /// Run `f` with a reader connection on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match pooled {
                Some(c) => c,
                None => connect(&inner.path)?,
            };
            let result = f(&conn);
            if let Ok(mut pool) = inner.readers.lock()
                && pool.len() < MAX_IDLE_READERS
            {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Worker(e.to_string()))?
    }

    /// Commit one request record (with whatever other records are waiting), and return once it is committed.
    pub async fn record_request(&self, rec: &RequestRecord) -> Result<(), StoreError> {
        let stopped = || StoreError::Worker("the record writer stopped".into());
        let (done, committed) = tokio::sync::oneshot::channel();
        self.records.send((rec.clone(), done)).await.map_err(|_| stopped())?;
        committed.await.map_err(|_| stopped())?
    }

    pub async fn upsert_document(&self, doc: &Document) -> Result<Document, StoreError> {
        // Most requests are for documents already known: a read, which never waits for the writer.
        if let Some(known) = self.document(doc.content_id).await? {
            return Ok(known);
        }
        let doc = doc.clone();
        self.write(move |conn| {
            let cid = doc.content_id.to_string();
            conn.prepare_cached(
                "INSERT INTO documents (content_id, original_name, template_id, template_name, owner, owner_lower, \
                 first_seen, revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (content_id) DO NOTHING",
            )?
            .execute(params![
                cid,
                doc.original_name,
                doc.template_id.to_string(),
                doc.template_name,
                doc.owner,
                doc.owner.as_ref().map(|o| o.to_lowercase()),
                micros(doc.first_seen),
                i64::from(doc.revoked),
            ])?;
            let row = conn
                .prepare_cached(&format!("SELECT {DOC_COLUMNS} FROM documents WHERE content_id = ?1"))?
                .query_row(params![cid], row_document)?;
            to_document(row)
        })
        .await
    }

    pub async fn document(&self, cid: Uuid) -> Result<Option<Document>, StoreError> {
        self.read(move |conn| {
            let row = conn
                .prepare_cached(&format!("SELECT {DOC_COLUMNS} FROM documents WHERE content_id = ?1"))?
                .query_row(params![cid.to_string()], row_document)
                .optional()?;
            row.map(to_document).transpose()
        })
        .await
    }

    pub async fn is_revoked(&self, cid: Uuid) -> Result<bool, StoreError> {
        self.read(move |conn| {
            let revoked: Option<i64> = conn
                .prepare_cached("SELECT revoked FROM documents WHERE content_id = ?1")?
                .query_row(params![cid.to_string()], |r| r.get(0))
                .optional()?;
            Ok(revoked.unwrap_or(0) != 0)
        })
        .await
    }

    pub async fn set_revoked(&self, cid: Uuid, revoked: bool, by: &str) -> Result<bool, StoreError> {
        let by = by.to_string();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE documents SET revoked = ?2, revoked_by = ?3, revoked_at = ?4 WHERE content_id = ?1",
                )?
                .execute(params![cid.to_string(), i64::from(revoked), by, micros(OffsetDateTime::now_utc())])?;
            Ok(changed > 0)
        })
        .await
    }

    pub async fn documents(
        &self,
        owner: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<Document>, bool), StoreError> {
        let owner = owner.map(str::to_lowercase);
        self.read(move |conn| {
            let limit = i64::from(per_page) + 1;
            let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
            let mut rows = Vec::new();
            match &owner {
                Some(o) => {
                    let mut stmt = conn.prepare_cached(&format!(
                        "SELECT {DOC_COLUMNS} FROM documents WHERE owner_lower = ?1 \
                         ORDER BY first_seen DESC, content_id LIMIT ?2 OFFSET ?3"
                    ))?;
                    for r in stmt.query_map(params![o, limit, offset], row_document)? {
                        rows.push(to_document(r?)?);
                    }
                }
                None => {
                    let mut stmt = conn.prepare_cached(&format!(
                        "SELECT {DOC_COLUMNS} FROM documents ORDER BY first_seen DESC, content_id LIMIT ?1 OFFSET ?2"
                    ))?;
                    for r in stmt.query_map(params![limit, offset], row_document)? {
                        rows.push(to_document(r?)?);
                    }
                }
            }
            let more = rows.len() > per_page as usize;
            rows.truncate(per_page as usize);
            Ok((rows, more))
        })
        .await
    }

    pub async fn requests_for(&self, cid: Uuid) -> Result<Vec<RequestRecord>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT time, principal, action, content_id, template_id, rights, decision, code, client_address, \
                 user_agent FROM requests WHERE content_id = ?1 ORDER BY time, id",
            )?;
            let rows = stmt.query_map(params![cid.to_string()], request_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(to_record(row?)?);
            }
            Ok(out)
        })
        .await
    }

    pub async fn document_summaries(&self, q: Query) -> Result<Vec<DocumentSummary>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare(&q.sql)?;
            let params = sqlite_params(&q.params);
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok((row_document(r)?, r.get::<_, Option<i64>>(7)?, r.get::<_, i64>(8)?, r.get::<_, i64>(9)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (doc, last, opens, denials) = row?;
                out.push(DocumentSummary {
                    document: to_document(doc)?,
                    last_opened: last.map(from_micros).transpose()?,
                    opens,
                    denials,
                });
            }
            Ok(out)
        })
        .await
    }

    pub async fn denials(&self, q: Query) -> Result<Vec<DenialRow>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare(&q.sql)?;
            let params = sqlite_params(&q.params);
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok((request_row(r)?, r.get::<_, Option<String>>(10)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (rec, original_name) = row?;
                out.push(DenialRow { record: to_record(rec)?, original_name });
            }
            Ok(out)
        })
        .await
    }

    pub async fn template_counts(&self) -> Result<Vec<TemplateCount>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(TEMPLATE_COUNTS)?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (tid, template_name, documents, revoked) = row?;
                out.push(TemplateCount { template_id: parse_uuid(&tid)?, template_name, documents, revoked });
            }
            Ok(out)
        })
        .await
    }

    pub async fn purge_requests_before(&self, t: OffsetDateTime) -> Result<u64, StoreError> {
        self.write(move |conn| {
            let n = conn.execute("DELETE FROM requests WHERE time < ?1", params![micros(t)])?;
            Ok(n as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::licensing::api::{Decision, DenialCode};

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn documents_requests_revocation_and_purge_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let first = store.upsert_document(&doc(1, "Olivia@Contoso.com", 100)).await.unwrap();
        assert!(store.set_revoked(first.content_id, true, "olivia").await.unwrap());
        // A second sighting keeps first_seen and the revocation.
        let again = store.upsert_document(&doc(1, "x", 500)).await.unwrap();
        assert_eq!(again.first_seen, first.first_seen);
        assert!(again.revoked);
        assert!(!store.set_revoked(Uuid::from_u128(7), true, "x").await.unwrap());
        store.upsert_document(&doc(2, "bob@contoso.com", 200)).await.unwrap();
        store.upsert_document(&doc(3, "olivia@contoso.com", 300)).await.unwrap();
        let denied = RequestRecord {
            decision: Decision::Denied,
            code: Some(DenialCode::Revoked),
            ..record(first.content_id, 10)
        };
        store.record_request(&denied).await.unwrap();
        store.record_request(&record(first.content_id, 20)).await.unwrap();
        drop(store);

        let store = SqliteStore::open(&path).await.unwrap();
        assert!(store.is_revoked(Uuid::from_u128(1)).await.unwrap());
        assert!(!store.is_revoked(Uuid::from_u128(2)).await.unwrap());
        let (page, more) = store.documents(Some("OLIVIA@contoso.com"), 1, 1).await.unwrap();
        assert_eq!((page[0].content_id, more), (Uuid::from_u128(3), true));
        let (page, more) = store.documents(None, 1, 10).await.unwrap();
        assert_eq!((page.len(), more), (3, false));
        let requests = store.requests_for(Uuid::from_u128(1)).await.unwrap();
        assert_eq!(requests, vec![denied, record(Uuid::from_u128(1), 20)]);
        assert_eq!(store.purge_requests_before(OffsetDateTime::from_unix_timestamp(15).unwrap()).await.unwrap(), 1);
        assert_eq!(store.requests_for(Uuid::from_u128(1)).await.unwrap().len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sites_queries_count_filter_sort_and_page() {
        use crate::service::store::Store;
        use crate::service::store::portal::{DocumentFilter, DocumentSort};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::Sqlite(SqliteStore::open(&dir.path().join("s.db")).await.unwrap());
        for (n, owner) in [(1, "Alice@contoso.com"), (2, "alice@contoso.com"), (3, "bob@contoso.com")] {
            store.upsert_document(&doc(n, owner, 100 + n as i64)).await.unwrap();
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let denied = |cid, t| RequestRecord {
            decision: Decision::Denied,
            code: Some(DenialCode::NotGranted),
            rights_granted: vec![],
            ..record(cid, t)
        };
        for rec in [
            record(Uuid::from_u128(1), now - 10),
            record(Uuid::from_u128(1), now - 5),
            denied(Uuid::from_u128(1), now - 4),
            record(Uuid::from_u128(1), now - 40 * 86400),
            denied(Uuid::from_u128(3), now - 3),
            RequestRecord { action: "tracking".into(), ..record(Uuid::from_u128(2), now - 2) },
        ] {
            store.record_request(&rec).await.unwrap();
        }
        let since = OffsetDateTime::from_unix_timestamp(now - 30 * 86400).unwrap();
        let mine = DocumentFilter { owners: Some(vec!["ALICE@contoso.com".into()]), ..Default::default() };
        let (rows, more) = store.document_summaries(&mine, DocumentSort::Opens, true, since, 1, 10).await.unwrap();
        assert!(!more);
        let got: Vec<_> = rows.iter().map(|r| (r.document.content_id.as_u128(), r.opens, r.denials)).collect();
        assert_eq!(got, [(1, 2, 1), (2, 0, 0)]);
        assert_eq!(rows[0].last_opened.unwrap().unix_timestamp(), now - 5);
        assert_eq!(rows[1].last_opened, None);
        let (rows, more) = store.document_summaries(&mine, DocumentSort::Name, false, since, 1, 1).await.unwrap();
        assert_eq!((rows[0].document.content_id.as_u128(), more), (1, true));
        let named = DocumentFilter { name_contains: Some("F3.DOC".into()), ..Default::default() };
        let (rows, _) = store.document_summaries(&named, DocumentSort::FirstSeen, true, since, 1, 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        let wild = DocumentFilter { name_contains: Some("%".into()), ..Default::default() };
        assert!(store.document_summaries(&wild, DocumentSort::Name, true, since, 1, 10).await.unwrap().0.is_empty());
        let denials = store.denials_since(OffsetDateTime::from_unix_timestamp(now - 86400).unwrap(), 10).await.unwrap();
        assert_eq!(denials.len(), 2);
        assert_eq!(denials[0].original_name.as_deref(), Some("f3.docx"));
        let counts = store.template_counts().await.unwrap();
        assert_eq!((counts.len(), counts[0].documents, counts[0].revoked), (1, 3, 0));
    }
}
