//! The tracking site's queries ([`crate::service::portal`]): documents with their recent activity, filtered, sorted
//! and paged; the denials of a period; counts per template. One SQL text for both back ends: written with `?N`
//! placeholders (SQLite), turned into `$N` for PostgreSQL by [`for_postgres`]; every value is a bound parameter.

use time::OffsetDateTime;
use uuid::Uuid;

use super::micros;
use crate::licensing::api::{Document, RequestRecord};

/// Which documents: every condition given must hold.
#[derive(Clone, Debug, Default)]
pub struct DocumentFilter {
    /// The owner is one of these (case-insensitive; the signed-in user's name and e-mail for "My documents").
    pub owners: Option<Vec<String>>,
    /// The owner contains this text (case-insensitive).
    pub owner_contains: Option<String>,
    /// The file name contains this text (case-insensitive).
    pub name_contains: Option<String>,
    pub template_id: Option<Uuid>,
    pub content_id: Option<Uuid>,
    /// First seen at or after.
    pub seen_from: Option<OffsetDateTime>,
    /// First seen before.
    pub seen_before: Option<OffsetDateTime>,
}

/// The column documents are sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DocumentSort {
    Name,
    Template,
    Owner,
    #[default]
    FirstSeen,
    LastOpened,
    Opens,
    Denials,
}

impl DocumentSort {
    pub const ALL: [DocumentSort; 7] = [
        DocumentSort::Name,
        DocumentSort::Template,
        DocumentSort::Owner,
        DocumentSort::FirstSeen,
        DocumentSort::LastOpened,
        DocumentSort::Opens,
        DocumentSort::Denials,
    ];

    /// The name in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentSort::Name => "name",
            DocumentSort::Template => "template",
            DocumentSort::Owner => "owner",
            DocumentSort::FirstSeen => "first_seen",
            DocumentSort::LastOpened => "last_opened",
            DocumentSort::Opens => "opens",
            DocumentSort::Denials => "denials",
        }
    }

    pub fn parse(s: &str) -> Option<DocumentSort> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The SQL expression (a fixed text: never built from input).
    fn column(self) -> &'static str {
        match self {
            DocumentSort::Name => "LOWER(d.original_name)",
            DocumentSort::Template => "LOWER(d.template_name)",
            DocumentSort::Owner => "d.owner_lower",
            DocumentSort::FirstSeen => "d.first_seen",
            DocumentSort::LastOpened => "COALESCE(last_opened, 0)",
            DocumentSort::Opens => "opens",
            DocumentSort::Denials => "denials",
        }
    }
}

/// A document with its recent activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentSummary {
    pub document: Document,
    /// The last granted license request.
    pub last_opened: Option<OffsetDateTime>,
    /// Granted license requests since the period's start.
    pub opens: i64,
    /// Denied license requests since the period's start.
    pub denials: i64,
}

/// Documents and requests per template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateCount {
    pub template_id: Uuid,
    pub template_name: String,
    pub documents: i64,
    pub revoked: i64,
}

/// A denied request, with the name of the file it was about (when known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenialRow {
    pub record: RequestRecord,
    pub original_name: Option<String>,
}

/// A bound parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    Text(String),
    Int(i64),
}

/// A query and its parameters.
#[derive(Clone, Debug)]
pub struct Query {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Query {
    fn bind(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("?{}", self.params.len())
    }
}

/// `?N` → `$N` (no statement here holds a literal `?`).
pub fn for_postgres(sql: &str) -> String {
    sql.replace('?', "$")
}

/// `%text%` for LIKE, with `\` escaping the pattern characters in `text`.
fn like(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The columns every summary query selects, in [`DocumentSummary`] order: the seven document columns, then
/// last_opened, opens, denials.
pub const SUMMARY_COLUMNS: usize = 10;

/// One page (1-based) of documents matching `filter`, sorted, with activity counted since `since`; one row more
/// than `per_page` is asked for, to tell whether another page follows.
pub fn documents_query(
    filter: &DocumentFilter,
    sort: DocumentSort,
    descending: bool,
    since: OffsetDateTime,
    page: u32,
    per_page: u32,
) -> Query {
    let mut q = Query { sql: String::new(), params: Vec::new() };
    let since = q.bind(Param::Int(micros(since)));
    let mut conditions = Vec::new();
    if let Some(owners) = &filter.owners {
        let mut alternatives: Vec<String> = Vec::new();
        for o in owners {
            alternatives.push(format!("d.owner_lower = {}", q.bind(Param::Text(o.trim().to_lowercase()))));
        }
        if alternatives.is_empty() {
            alternatives.push("1 = 0".into());
        }
        conditions.push(format!("({})", alternatives.join(" OR ")));
    }
    if let Some(o) = &filter.owner_contains {
        conditions.push(format!("d.owner_lower LIKE {} ESCAPE '\\'", q.bind(Param::Text(like(o)))));
    }
    if let Some(n) = &filter.name_contains {
        conditions.push(format!("LOWER(d.original_name) LIKE {} ESCAPE '\\'", q.bind(Param::Text(like(n)))));
    }
    if let Some(t) = filter.template_id {
        conditions.push(format!("d.template_id = {}", q.bind(Param::Text(t.to_string()))));
    }
    if let Some(c) = filter.content_id {
        conditions.push(format!("d.content_id = {}", q.bind(Param::Text(c.to_string()))));
    }
    if let Some(t) = filter.seen_from {
        conditions.push(format!("d.first_seen >= {}", q.bind(Param::Int(micros(t)))));
    }
    if let Some(t) = filter.seen_before {
        conditions.push(format!("d.first_seen < {}", q.bind(Param::Int(micros(t)))));
    }
    let r#where = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let limit = q.bind(Param::Int(i64::from(per_page) + 1));
    let offset = q.bind(Param::Int(i64::from(page.saturating_sub(1)) * i64::from(per_page)));
    let direction = if descending { "DESC" } else { "ASC" };
    q.sql = format!(
        "SELECT d.content_id, d.original_name, d.template_id, d.template_name, d.owner, d.first_seen, d.revoked, \
         d.last_opened, d.opens, d.denials FROM (SELECT d.content_id, d.original_name, d.template_id, d.template_name, d.owner, d.first_seen, \
         d.revoked, d.owner_lower, \
         (SELECT MAX(r.time) FROM requests r WHERE r.content_id = d.content_id AND r.action = 'license' \
          AND r.decision = 'granted') AS last_opened, \
         (SELECT COUNT(*) FROM requests r WHERE r.content_id = d.content_id AND r.action = 'license' \
          AND r.decision = 'granted' AND r.time >= {since}) AS opens, \
         (SELECT COUNT(*) FROM requests r WHERE r.content_id = d.content_id AND r.action = 'license' \
          AND r.decision = 'denied' AND r.time >= {since}) AS denials \
         FROM documents d {where}) d \
         ORDER BY {column} {direction}, d.content_id {direction} LIMIT {limit} OFFSET {offset}",
        column = sort.column(),
    );
    q
}

/// Denied requests since `since`, newest first, at most `limit`.
pub fn denials_query(since: OffsetDateTime, limit: u32) -> Query {
    let mut q = Query { sql: String::new(), params: Vec::new() };
    let since = q.bind(Param::Int(micros(since)));
    let limit = q.bind(Param::Int(i64::from(limit)));
    q.sql = format!(
        "SELECT r.time, r.principal, r.action, r.content_id, r.template_id, r.rights, r.decision, r.code, \
         r.client_address, r.user_agent, d.original_name FROM requests r \
         LEFT JOIN documents d ON d.content_id = r.content_id \
         WHERE r.decision = 'denied' AND r.time >= {since} ORDER BY r.time DESC, r.id DESC LIMIT {limit}"
    );
    q
}

/// Documents and revoked documents per template.
pub const TEMPLATE_COUNTS: &str = "SELECT template_id, MAX(template_name), COUNT(*), \
     COALESCE(SUM(revoked), 0) FROM documents GROUP BY template_id ORDER BY MAX(template_name), template_id";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_bound_and_postgres_gets_dollar_placeholders() {
        let filter = DocumentFilter {
            owners: Some(vec!["Alice@Contoso.com".into(), "alice".into()]),
            name_contains: Some("50%_off\\".into()),
            template_id: Some(Uuid::from_u128(7)),
            ..Default::default()
        };
        let q = documents_query(&filter, DocumentSort::Opens, true, OffsetDateTime::UNIX_EPOCH, 2, 25);
        assert!(!q.sql.contains("Alice") && !q.sql.contains("50"), "{}", q.sql);
        assert_eq!(q.params[1], Param::Text("alice@contoso.com".into()));
        assert_eq!(q.params[3], Param::Text("%50\\%\\_off\\\\%".into()));
        assert_eq!(q.params[5..], [Param::Int(26), Param::Int(25)]);
        assert!(q.sql.contains("ORDER BY opens DESC"));
        let pg = for_postgres(&q.sql);
        assert!(pg.contains("$6") && !pg.contains('?'), "{pg}");
        // No owner at all matches nothing (never everything).
        let none = DocumentFilter { owners: Some(vec![]), ..Default::default() };
        assert!(
            documents_query(&none, DocumentSort::Name, false, OffsetDateTime::UNIX_EPOCH, 1, 5).sql.contains("1 = 0")
        );
    }
}
