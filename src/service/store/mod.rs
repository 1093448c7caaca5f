//! Where the service keeps what must outlive a process and be shared by every instance: the documents it has seen
//! (and whether they are revoked) and the record of every request. Nothing is kept in memory only: revocation is
//! read from here on every request.
//!
//! One interface, several back ends: SQLite (embedded, one file beside the config) and PostgreSQL (several
//! instances behind a load balancer), with the same schema and migrations.

pub mod portal;
pub mod postgres;
pub mod sqlite;

use std::path::Path;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::licensing::api::{Decision, DenialCode, Document, RequestRecord};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store URL {0:?}: expected sqlite://FILE (or postgres://…)")]
    Url(String),
    #[error("store {0}")]
    Postgres(String),
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store: the database holds schema version {found}; this build knows up to {known}")]
    Schema { found: i64, known: i64 },
    #[error("store: a stored value is damaged: {0}")]
    Damaged(String),
    #[error("store: the worker stopped ({0})")]
    Worker(String),
}

/// The store, by back end. Cloning shares the same connections.
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PostgresStore),
}

impl Store {
    /// Open (and migrate) the store `url` names; a relative SQLite file is relative to `base`.
    pub async fn open(url: &str, base: &Path) -> Result<Store, StoreError> {
        if let Some(file) = url.strip_prefix("sqlite://") {
            if file.is_empty() {
                return Err(StoreError::Url(url.into()));
            }
            let path = base.join(file);
            return Ok(Store::Sqlite(sqlite::SqliteStore::open(&path).await?));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Store::Postgres(postgres::PostgresStore::open(url).await?));
        }
        Err(StoreError::Url(url.into()))
    }

    /// Commit one request record.
    pub async fn record_request(&self, rec: &RequestRecord) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.record_request(rec).await,
            Store::Postgres(s) => s.record_request(rec).await,
        }
    }

    /// Insert a document, or return the stored one (its `first_seen` and `revoked` are kept).
    pub async fn upsert_document(&self, doc: &Document) -> Result<Document, StoreError> {
        match self {
            Store::Sqlite(s) => s.upsert_document(doc).await,
            Store::Postgres(s) => s.upsert_document(doc).await,
        }
    }

    pub async fn document(&self, cid: Uuid) -> Result<Option<Document>, StoreError> {
        match self {
            Store::Sqlite(s) => s.document(cid).await,
            Store::Postgres(s) => s.document(cid).await,
        }
    }

    pub async fn is_revoked(&self, cid: Uuid) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => s.is_revoked(cid).await,
            Store::Postgres(s) => s.is_revoked(cid).await,
        }
    }

    /// Revoke or lift a revocation; `false` when the content id is unknown.
    pub async fn set_revoked(&self, cid: Uuid, revoked: bool, by: &str) -> Result<bool, StoreError> {
        match self {
            Store::Sqlite(s) => s.set_revoked(cid, revoked, by).await,
            Store::Postgres(s) => s.set_revoked(cid, revoked, by).await,
        }
    }

    /// One page (1-based) of documents, newest first, optionally only those `owner` owns (case-insensitive); and
    /// whether more follow.
    pub async fn documents(
        &self,
        owner: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<Document>, bool), StoreError> {
        match self {
            Store::Sqlite(s) => s.documents(owner, page, per_page).await,
            Store::Postgres(s) => s.documents(owner, page, per_page).await,
        }
    }

    /// Every request recorded for `cid`, oldest first.
    pub async fn requests_for(&self, cid: Uuid) -> Result<Vec<RequestRecord>, StoreError> {
        match self {
            Store::Sqlite(s) => s.requests_for(cid).await,
            Store::Postgres(s) => s.requests_for(cid).await,
        }
    }

    /// The tracking site's documents: one page matching `filter`, sorted by `sort`, with the requests since
    /// `since` counted; and whether more follow.
    pub async fn document_summaries(
        &self,
        filter: &portal::DocumentFilter,
        sort: portal::DocumentSort,
        descending: bool,
        since: OffsetDateTime,
        page: u32,
        per_page: u32,
    ) -> Result<(Vec<portal::DocumentSummary>, bool), StoreError> {
        let q = portal::documents_query(filter, sort, descending, since, page.max(1), per_page);
        let mut rows = match self {
            Store::Sqlite(s) => s.document_summaries(q).await?,
            Store::Postgres(s) => s.document_summaries(q).await?,
        };
        let more = rows.len() > per_page as usize;
        rows.truncate(per_page as usize);
        Ok((rows, more))
    }

    /// Denied requests since `since`, newest first, at most `limit`, with the file names.
    pub async fn denials_since(&self, since: OffsetDateTime, limit: u32) -> Result<Vec<portal::DenialRow>, StoreError> {
        let q = portal::denials_query(since, limit);
        match self {
            Store::Sqlite(s) => s.denials(q).await,
            Store::Postgres(s) => s.denials(q).await,
        }
    }

    /// Documents and revoked documents per template.
    pub async fn template_counts(&self) -> Result<Vec<portal::TemplateCount>, StoreError> {
        match self {
            Store::Sqlite(s) => s.template_counts().await,
            Store::Postgres(s) => s.template_counts().await,
        }
    }

    /// Delete request records older than `t`; how many.
    pub async fn purge_requests_before(&self, t: OffsetDateTime) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite(s) => s.purge_requests_before(t).await,
            Store::Postgres(s) => s.purge_requests_before(t).await,
        }
    }
}

/// The schema, as migrations: statement lists applied in order, each in one transaction with the version bump.
/// Plain SQL that PostgreSQL also runs (BIGINT times in microseconds since the Unix epoch, TEXT ids).
pub const MIGRATIONS: &[&[&str]] = &[&[
    "CREATE TABLE documents (
        content_id TEXT PRIMARY KEY,
        original_name TEXT NOT NULL,
        template_id TEXT NOT NULL,
        template_name TEXT NOT NULL,
        owner TEXT,
        owner_lower TEXT,
        first_seen BIGINT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0,
        revoked_by TEXT,
        revoked_at BIGINT
    )",
    "CREATE INDEX documents_owner ON documents (owner_lower, first_seen)",
    "CREATE INDEX documents_first_seen ON documents (first_seen)",
    "CREATE TABLE requests (
        id INTEGER PRIMARY KEY,
        time BIGINT NOT NULL,
        principal TEXT,
        action TEXT NOT NULL,
        content_id TEXT,
        template_id TEXT,
        rights TEXT NOT NULL,
        decision TEXT NOT NULL,
        code TEXT,
        client_address TEXT NOT NULL,
        user_agent TEXT
    )",
    "CREATE INDEX requests_content ON requests (content_id, time)",
    "CREATE INDEX requests_time ON requests (time)",
]];

/// Microseconds since the Unix epoch.
pub fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// The time `micros` made.
pub fn from_micros(us: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|e| StoreError::Damaged(format!("time {us}: {e}")))
}

/// How a decision is stored.
pub fn decision_text(d: Decision) -> &'static str {
    match d {
        Decision::Granted => "granted",
        Decision::Denied => "denied",
    }
}

/// A stored decision.
pub fn decision_from_text(text: &str) -> Decision {
    if text == "granted" { Decision::Granted } else { Decision::Denied }
}

/// A stored content or template id.
pub fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Damaged(format!("{text:?} is not a content id")))
}

/// A stored denial code.
pub fn parse_code(text: &str) -> Result<DenialCode, StoreError> {
    DenialCode::ALL
        .into_iter()
        .find(|d| d.as_str() == text)
        .ok_or_else(|| StoreError::Damaged(format!("denial code {text:?}")))
}

/// Stored rights (comma-separated) as a list.
pub fn split_rights(text: &str) -> Vec<String> {
    text.split(',').filter(|r| !r.is_empty()).map(str::to_string).collect()
}
