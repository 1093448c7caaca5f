//! The document tracking site (`[portal]`, docs/SERVICE.md "The tracking site"): pages under `/portal/` on the
//! service's HTTPS listener where owners see who opened their protected documents and revoke or restore access, and
//! admins see everything.
//!
//! - Sign-in: OpenID Connect authorization code flow with PKCE against `[auth.oidc] issuer` (discovery, code
//!   exchange and ID-token verification are the reader's, [`crate::reader::login`]); or the connection's verified
//!   TLS client certificate where the service accepts them. Then a signed session cookie ([`session`]) with an
//!   idle timeout.
//! - Every state change (revoke, restore, sign-out) is a POST carrying the session's CSRF token; revoke and restore
//!   ask for confirmation first and are recorded as the API's are (`revoke` / `unrevoke` request records).
//! - Owners see only documents whose owner is them (a document of someone else answers 404, as an unknown one);
//!   `admins` see all.
//! - Every answer carries a strict Content-Security-Policy (no inline script or style), `frame-ancestors 'none'`,
//!   `X-Frame-Options: DENY`, `nosniff`, `Referrer-Policy: no-referrer` and `Cache-Control: no-store`.

// Handlers' helpers return `Result<_, Response>`: the error is the answer to send, built once, moved once.
#![allow(clippy::result_large_err)]

pub mod pages;
pub mod session;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use self::pages::{AdminFilters, Frame, ListState};
use self::session::{Keys, SESSION_COOKIE, SIGNIN_COOKIE, Session, SignIn};
use super::Service;
use super::config::{PortalConfig, ServiceConfig};
use super::http::ConnInfo;
use super::policy::{self, Principal};
use super::store::portal::{DocumentFilter, DocumentSort};
use crate::licensing::api::{Decision, DenialCode, Document, RequestRecord};
use crate::reader::login::{self, Provider};
use crate::{Error, ExitClass};

/// Documents per page.
pub const PER_PAGE: u32 = 25;
/// The period the lists count opens and denials over.
pub const ACTIVITY_DAYS: i64 = 30;
/// Longest form body read.
const MAX_FORM: usize = 16 * 1024;
/// The Content-Security-Policy of every answer.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; \
                       base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const CSS: &str = include_str!("portal.css");
const JS: &str = include_str!("portal.js");

/// The site's configuration and keys, made at start (a missing session key refuses the start).
pub struct Portal {
    pub config: PortalConfig,
    keys: Keys,
    client_secret: Option<Zeroizing<String>>,
    issuer: String,
    /// The provider, discovered at the first sign-in (the service starts even when it is down).
    provider: tokio::sync::Mutex<Option<Arc<Provider>>>,
}

impl Portal {
    /// The site of `config`, if it has a `[portal]` section.
    pub fn new(config: &ServiceConfig) -> Result<Option<Portal>, Error> {
        let Some(p) = &config.portal else { return Ok(None) };
        let Some(oidc) = &config.auth.oidc else {
            return Err(Error::new(ExitClass::Config, "[portal] needs [auth.oidc] (its issuer)"));
        };
        let key = super::passphrase(&p.session_key_env).map_err(|_| {
            Error::new(
                ExitClass::Config,
                format!(
                    "[portal] session_key_env {}: neither the environment variable nor a systemd credential of that \
                     name is set (the site's cookie key, at least {} bytes, the same on every instance)",
                    p.session_key_env,
                    session::MIN_KEY_LEN
                ),
            )
        })?;
        let keys = Keys::new(key.as_bytes()).map_err(|m| {
            Error::new(ExitClass::Config, format!("[portal] session_key_env {}: {m}", p.session_key_env))
        })?;
        let client_secret = p
            .client_secret_env
            .as_deref()
            .map(|name| {
                super::passphrase(name)
                    .map_err(|_| Error::new(ExitClass::Config, format!("[portal] client_secret_env {name}: not set")))
            })
            .transpose()?;
        Ok(Some(Portal {
            config: p.clone(),
            keys,
            client_secret,
            issuer: oidc.issuer.clone(),
            provider: tokio::sync::Mutex::new(None),
        }))
    }

    fn idle_seconds(&self) -> i64 {
        i64::from(self.config.idle_timeout_minutes) * 60
    }

    /// The provider, discovered once.
    async fn provider(&self) -> Result<Arc<Provider>, DiscoveryError> {
        let mut held = self.provider.lock().await;
        if let Some(p) = held.as_ref() {
            return Ok(p.clone());
        }
        let oidc = crate::reader::config::OidcConfig {
            issuer: self.issuer.clone(),
            client_id: self.config.client_id.clone(),
            scopes: self.config.scopes.clone(),
            send: Default::default(),
        };
        let provider = tokio::task::spawn_blocking(move || Provider::discover(&oidc, None))
            .await
            .map_err(|e| DiscoveryError::Task(e.to_string()))?
            .map_err(DiscoveryError::Discover)?;
        let provider = Arc::new(provider);
        *held = Some(provider.clone());
        Ok(provider)
    }
}

/// Why the OpenID provider could not be discovered.
#[derive(Debug, thiserror::Error)]
enum DiscoveryError {
    /// The background task that asked did not finish.
    #[error("{0}")]
    Task(String),
    #[error("{0}")]
    Discover(crate::reader::ReaderError),
}

/// The site's routes (none without `[portal]`), to merge into the service's router.
pub fn router(svc: Arc<Service>) -> Router {
    if svc.portal.is_none() {
        return Router::new();
    }
    Router::new()
        .route("/portal", get(|| async { redirect("/portal/") }))
        .route("/portal/", get(mine_handler))
        .route("/portal/admin", get(admin_handler))
        .route("/portal/documents/{cid}", get(document_handler))
        .route("/portal/documents/{cid}/history.csv", get(csv_handler))
        .route("/portal/documents/{cid}/revoke", post(revoke_handler))
        .route("/portal/documents/{cid}/restore", post(restore_handler))
        .route("/portal/signin", get(signin_handler))
        .route("/portal/callback", get(callback_handler))
        .route("/portal/signout", post(signout_handler))
        .route("/portal/signed-out", get(signed_out_handler))
        .route("/portal/static/portal.css", get(|| async { asset("text/css; charset=utf-8", CSS) }))
        .route("/portal/static/portal.js", get(|| async { asset("text/javascript; charset=utf-8", JS) }))
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(svc)
}

/// The security headers of every site answer.
async fn secure_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    response
}

fn asset(content_type: &'static str, text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

fn html_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A page for a signed-in user.
struct Viewer {
    session: Session,
    principal: Principal,
    csrf: String,
    admin: bool,
    /// A renewed session cookie to send.
    set_cookie: Option<String>,
}

impl Viewer {
    fn frame<'a>(&'a self, title: &'a str, here: &'a str) -> Frame<'a> {
        Frame { title, user: Some((&self.session.p, &self.csrf, self.admin)), here }
    }

    /// The answer, with the renewed cookie.
    fn respond(&self, mut response: Response) -> Response {
        if let Some(c) = &self.set_cookie
            && let Ok(v) = HeaderValue::from_str(c)
        {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
        response
    }

    fn page(&self, status: StatusCode, title: &str, here: &str, body: maud::Markup) -> Response {
        self.respond(html_response(status, pages::page(&self.frame(title, here), body)))
    }

    fn not_found(&self) -> Response {
        self.page(
            StatusCode::NOT_FOUND,
            "Not found",
            "",
            pages::message("There is no such document among those you may see.", Some(("/portal/", "My documents"))),
        )
    }

    /// The name and e-mail the documents' owner field is compared with.
    fn owner_names(&self) -> Vec<String> {
        let mut v = vec![self.principal.name.clone()];
        v.extend(self.principal.email.clone());
        v
    }
}

fn portal(svc: &Service) -> &Portal {
    // The routes exist only when the service has a portal.
    svc.portal.as_ref().unwrap_or_else(|| unreachable!("portal routes without [portal]"))
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|h| session::cookie_value(h, name))
}

/// Who is asking: the session cookie, else the connection's client certificate; else the answer to give (a redirect
/// to sign-in for a page, 403 for a POST).
async fn viewer(
    svc: &Service,
    conn: &ConnInfo,
    headers: &HeaderMap,
    path: &str,
    is_post: bool,
) -> Result<Viewer, Response> {
    let portal = portal(svc);
    let t = now().unix_timestamp();
    let from_cookie = cookie(headers, SESSION_COOKIE)
        .and_then(|c| portal.keys.open::<Session>("session", c))
        .filter(|s| s.alive(t, portal.idle_seconds()));
    let (session, set_cookie) = match from_cookie {
        Some(mut s) => {
            // Activity moves the idle deadline (at most once a minute, to spare cookie churn).
            let renew = t - s.last >= 60;
            if renew {
                s.last = t;
            }
            let cookie = renew.then(|| session_cookie(portal, &s));
            (s, cookie)
        }
        None => match cert_principal(svc, conn).await {
            Some(p) => match Session::new(&p, "cert", t) {
                Ok(s) => {
                    let c = session_cookie(portal, &s);
                    (s, Some(c))
                }
                Err(e) => return Err(error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())),
            },
            None if is_post => {
                return Err(error_page(StatusCode::FORBIDDEN, "You are not signed in (or your session ended)."));
            }
            None => return Err(redirect(&format!("/portal/signin?next={}", encode(path)))),
        },
    };
    let principal = session.principal();
    Ok(Viewer {
        csrf: portal.keys.csrf(&session),
        admin: policy::is_admin(&svc.config.admins, &principal),
        principal,
        session,
        set_cookie,
    })
}

fn session_cookie(portal: &Portal, s: &Session) -> String {
    session::set_cookie(SESSION_COOKIE, &portal.keys.seal("session", s), session::MAX_SESSION_SECONDS)
}

/// The principal of the connection's client certificate, when the service accepts certificates and it verifies.
async fn cert_principal(svc: &Service, conn: &ConnInfo) -> Option<Principal> {
    let certs = conn.certs.as_ref()?;
    svc.auth.certs.as_ref()?;
    let p = svc.auth.authenticate(None, Some(certs.as_slice())).await.ok()?;
    Some(with_directory_groups(svc, p).await)
}

/// The principal with the groups the directory (`[groups.ldap]`) gives it, as the API adds them; a directory that
/// cannot answer leaves the claims' groups only (fail closed).
async fn with_directory_groups(svc: &Service, mut p: Principal) -> Principal {
    if let Some(directory) = &svc.directory {
        match directory.groups_of(&p.name).await {
            Ok(groups) => p.groups.extend(groups),
            Err(e) => tracing::warn!(principal = %p.name, problem = %e, "portal: directory groups unavailable"),
        }
    }
    p
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A page path and query to return to after sign-in: only a site path.
fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n) if n.starts_with("/portal") && !n.starts_with("//") && !n.contains(['\\', '\r', '\n']) => n.clone(),
        _ => "/portal/".to_string(),
    }
}

fn error_page(status: StatusCode, text: &str) -> Response {
    let frame = Frame { title: status.canonical_reason().unwrap_or("Error"), user: None, here: "" };
    html_response(status, pages::page(&frame, pages::message(text, Some(("/portal/", "Back to the site")))))
}

fn store_failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(problem = %e, "portal: store");
    error_page(StatusCode::INTERNAL_SERVER_ERROR, "The service could not read its store. Try again later.")
}

fn path_and_query(path: &str, query: &HashMap<String, String>) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    let mut keys: Vec<_> = query.iter().collect();
    keys.sort();
    for (k, v) in keys {
        s.append_pair(k, v);
    }
    format!("{path}?{}", s.finish())
}

/// Sort, direction and page of a list.
fn list_params(query: &HashMap<String, String>) -> (DocumentSort, bool, u32) {
    let sort = query.get("sort").and_then(|s| DocumentSort::parse(s)).unwrap_or_default();
    let descending = query.get("dir").map(|d| d != "asc").unwrap_or(true);
    let page = query.get("page").and_then(|p| p.parse::<u32>().ok()).filter(|p| (1..=100_000).contains(p)).unwrap_or(1);
    (sort, descending, page)
}

async fn mine_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let v = match viewer(&svc, &conn, &headers, &path_and_query("/portal/", &query), false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (sort, descending, page) = list_params(&query);
    let q = query.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let filter = DocumentFilter {
        owners: Some(v.owner_names()),
        name_contains: (!q.is_empty()).then(|| q.clone()),
        ..Default::default()
    };
    let since = now() - time::Duration::days(ACTIVITY_DAYS);
    let (rows, more) = match svc.store.document_summaries(&filter, sort, descending, since, page, PER_PAGE).await {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    let state = ListState { base: "/portal/", filters: vec![("q", q.clone())], sort, descending, page, more };
    v.page(StatusCode::OK, "My documents", "mine", pages::mine(&rows, &state, &q))
}

/// A filter date that is not `YYYY-MM-DD`; `what` names the field.
#[derive(Debug, thiserror::Error)]
#[error("{what}: expected a date YYYY-MM-DD")]
struct BadDate {
    what: &'static str,
}

/// A date `YYYY-MM-DD` (UTC midnight), or the problem.
fn parse_date(text: &str, what: &'static str) -> Result<Option<OffsetDateTime>, BadDate> {
    if text.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format).map(|d| Some(d.midnight().assume_utc())).map_err(|_| BadDate { what })
}

async fn admin_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let v = match viewer(&svc, &conn, &headers, &path_and_query("/portal/admin", &query), false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !v.admin {
        return v.page(
            StatusCode::FORBIDDEN,
            "For admins only",
            "",
            pages::message("This page is for the service's admins.", Some(("/portal/", "My documents"))),
        );
    }
    let get = |k: &str| query.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let f = AdminFilters {
        template: get("template"),
        owner: get("owner"),
        name: get("name"),
        content_id: get("content_id"),
        from: get("from"),
        to: get("to"),
    };
    let mut problems = Vec::new();
    let mut uuid = |text: &str, what: &str| -> Option<Uuid> {
        if text.is_empty() {
            return None;
        }
        Uuid::parse_str(text).map_err(|_| problems.push(format!("{what}: not an id"))).ok()
    };
    let template_id = uuid(&f.template, "Template");
    let content_id = uuid(&f.content_id, "Content id");
    let from = parse_date(&f.from, "First seen from").unwrap_or_else(|m| {
        problems.push(m.to_string());
        None
    });
    let to = parse_date(&f.to, "First seen to").unwrap_or_else(|m| {
        problems.push(m.to_string());
        None
    });
    let filter = DocumentFilter {
        owners: None,
        owner_contains: (!f.owner.is_empty()).then(|| f.owner.clone()),
        name_contains: (!f.name.is_empty()).then(|| f.name.clone()),
        template_id,
        content_id,
        seen_from: from,
        seen_before: to.map(|t| t + time::Duration::days(1)),
    };
    let (sort, descending, page) = list_params(&query);
    let t = now();
    let since = t - time::Duration::days(ACTIVITY_DAYS);
    let listed = svc.store.document_summaries(&filter, sort, descending, since, page, PER_PAGE).await;
    let templates = svc.store.template_counts().await;
    let denials = svc.store.denials_since(t - time::Duration::hours(24), 200).await;
    let ((rows, more), templates, denials) = match (listed, templates, denials) {
        (Ok(l), Ok(t), Ok(d)) => (l, t, d),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return store_failed(e),
    };
    let filters = vec![
        ("template", f.template.clone()),
        ("owner", f.owner.clone()),
        ("name", f.name.clone()),
        ("content_id", f.content_id.clone()),
        ("from", f.from.clone()),
        ("to", f.to.clone()),
    ];
    let state = ListState { base: "/portal/admin", filters, sort, descending, page, more };
    let problem = (!problems.is_empty()).then(|| problems.join("; "));
    v.page(
        StatusCode::OK,
        "All documents",
        "admin",
        pages::admin(&rows, &state, &f, &templates, &denials, problem.as_deref()),
    )
}

/// The document `cid` if the viewer may see it (owner or admin); `Err` is the answer (404 for unknown and for
/// someone else's, alike).
async fn visible_document(svc: &Service, v: &Viewer, cid: &str) -> Result<Document, Response> {
    let Some(cid) = pages::parse_cid(cid) else { return Err(v.not_found()) };
    match svc.store.document(cid).await {
        Ok(Some(d)) if v.admin || policy::is_owner(d.owner.as_deref(), &v.principal) => Ok(d),
        Ok(_) => Err(v.not_found()),
        Err(e) => Err(store_failed(e)),
    }
}

async fn document_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    UrlPath(cid): UrlPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let v = match viewer(&svc, &conn, &headers, &format!("/portal/documents/{}", encode(&cid)), false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let d = match visible_document(&svc, &v, &cid).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let requests = match svc.store.requests_for(d.content_id).await {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    let notice = match query.get("done").map(String::as_str) {
        Some("revoked") => Some("Access revoked: every reader is refused from their next open."),
        Some("restored") => Some("Access restored."),
        _ => None,
    };
    let title = d.original_name.clone();
    v.page(StatusCode::OK, &title, "", pages::document(&d, &requests, now(), &v.csrf, notice))
}

async fn csv_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    UrlPath(cid): UrlPath<String>,
) -> Response {
    let v = match viewer(&svc, &conn, &headers, &format!("/portal/documents/{}", encode(&cid)), false).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let d = match visible_document(&svc, &v, &cid).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let requests = match svc.store.requests_for(d.content_id).await {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    v.respond(
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"history-{}.csv\"", d.content_id)),
            ],
            pages::history_csv(&requests),
        )
            .into_response(),
    )
}

/// The fields of a form body.
async fn form(body: Body) -> Option<HashMap<String, String>> {
    let bytes = axum::body::to_bytes(body, MAX_FORM).await.ok()?;
    Some(url::form_urlencoded::parse(&bytes).into_owned().collect())
}

async fn revoke_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    UrlPath(cid): UrlPath<String>,
    body: Body,
) -> Response {
    change_access(svc, conn, headers, cid, body, true).await
}

async fn restore_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    UrlPath(cid): UrlPath<String>,
    body: Body,
) -> Response {
    change_access(svc, conn, headers, cid, body, false).await
}

/// Revoke or restore: CSRF checked, owner or admin, a confirmation page first, then the change, recorded as the
/// API records it.
async fn change_access(
    svc: Arc<Service>,
    conn: ConnInfo,
    headers: HeaderMap,
    cid: String,
    body: Body,
    revoke: bool,
) -> Response {
    let started = std::time::Instant::now();
    let v = match viewer(&svc, &conn, &headers, "/portal/", true).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(fields) = form(body).await else {
        return error_page(StatusCode::BAD_REQUEST, "The form could not be read.");
    };
    let csrf_ok = fields.get("csrf").is_some_and(|t| portal(&svc).keys.csrf_ok(&v.session, t));
    let action = if revoke { "revoke" } else { "unrevoke" };
    let mut record = RequestRecord {
        time: now(),
        principal: Some(v.principal.name.clone()),
        action: action.to_string(),
        content_id: pages::parse_cid(&cid),
        template_id: None,
        rights_granted: Vec::new(),
        decision: Decision::Denied,
        code: None,
        client_address: conn.peer.to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|u| u.to_str().ok())
            .map(|s| s.chars().take(256).collect()),
    };
    if !csrf_ok {
        record.code = Some(DenialCode::BadRequest);
        if let Err(r) = commit(&svc, &record, started).await {
            return r;
        }
        return v.respond(error_page(
            StatusCode::FORBIDDEN,
            "This form is not from your session (a missing or wrong CSRF token). Reload the page and try again.",
        ));
    }
    let d = match visible_document(&svc, &v, &cid).await {
        Ok(d) => d,
        Err(r) => {
            if record.content_id.is_some() && r.status() == StatusCode::NOT_FOUND {
                record.code = Some(DenialCode::NotGranted);
                if let Err(r) = commit(&svc, &record, started).await {
                    return r;
                }
            }
            return r;
        }
    };
    record.template_id = Some(d.template_id);
    if fields.get("confirm").map(String::as_str) != Some("yes") {
        let title = if revoke { "Revoke access?" } else { "Restore access?" };
        return v.page(StatusCode::OK, title, "", pages::confirm(&d, revoke, &v.csrf));
    }
    match svc.store.set_revoked(d.content_id, revoke, &v.principal.name).await {
        Ok(true) => record.decision = Decision::Granted,
        Ok(false) => record.code = Some(DenialCode::UnknownDocument),
        Err(e) => return store_failed(e),
    }
    if let Err(r) = commit(&svc, &record, started).await {
        return r;
    }
    tracing::info!(
        action,
        principal = %v.principal.name,
        content_id = %d.content_id,
        via = "portal",
        "request"
    );
    v.respond(redirect(&format!(
        "/portal/documents/{}?done={}",
        d.content_id,
        if revoke { "revoked" } else { "restored" }
    )))
}

/// Record a revoke/restore request as the API does (the store, then the metrics).
async fn commit(svc: &Service, record: &RequestRecord, started: std::time::Instant) -> Result<(), Response> {
    svc.store.record_request(record).await.map_err(store_failed)?;
    svc.metrics.observe(&record.action, started.elapsed().as_secs_f64(), record.code);
    Ok(())
}

async fn signin_handler(State(svc): State<Arc<Service>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let portal = portal(&svc);
    let provider = match portal.provider().await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(problem = %e, "portal: the OpenID provider cannot be reached");
            return error_page(StatusCode::BAD_GATEWAY, "The sign-in service cannot be reached. Try again later.");
        }
    };
    let made = (|| -> Result<(SignIn, String), crate::reader::ReaderError> {
        let (verifier, challenge) = login::pkce_pair()?;
        let state = login::random_b64(24)?;
        let nonce = login::random_b64(24)?;
        let url = provider.authorization_url(&portal.config.redirect_url, &state, &nonce, &challenge)?;
        let signin = SignIn {
            state,
            nonce,
            verifier: verifier.to_string(),
            next: safe_next(query.get("next")),
            exp: now().unix_timestamp() + session::SIGNIN_SECONDS,
        };
        Ok((signin, url.to_string()))
    })();
    let (signin, url) = match made {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(problem = %e, "portal: cannot start a sign-in");
            return error_page(StatusCode::BAD_GATEWAY, "The sign-in could not be started. Try again later.");
        }
    };
    let cookie = session::set_cookie(SIGNIN_COOKIE, &portal.keys.seal("signin", &signin), session::SIGNIN_SECONDS);
    let mut r = redirect(&url);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn callback_handler(
    State(svc): State<Arc<Service>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let portal = portal(&svc);
    let t = now().unix_timestamp();
    let fail = |why: &str| {
        tracing::warn!(problem = %why, "portal: sign-in refused");
        let mut r = error_page(StatusCode::FORBIDDEN, &format!("The sign-in failed: {why}."));
        if let Ok(v) = HeaderValue::from_str(&session::set_cookie(SIGNIN_COOKIE, "", 0)) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r
    };
    let Some(signin) =
        cookie(&headers, SIGNIN_COOKIE).and_then(|c| portal.keys.open::<SignIn>("signin", c)).filter(|s| s.exp > t)
    else {
        return fail("no sign-in was in progress in this browser (or it took too long)");
    };
    if query.get("state") != Some(&signin.state) {
        return fail("the answer is not for this sign-in (another state)");
    }
    if let Some(iss) = query.get("iss")
        && iss != &portal.issuer
    {
        return fail("the answer names another issuer");
    }
    if let Some(error) = query.get("error") {
        return fail(&format!("the provider refused ({})", error.chars().take(100).collect::<String>()));
    }
    let Some(code) = query.get("code").cloned() else { return fail("the answer carries no code") };
    let provider = match portal.provider().await {
        Ok(p) => p,
        Err(_) => return fail("the sign-in service cannot be reached"),
    };
    let redirect_uri = portal.config.redirect_url.clone();
    let secret = portal.client_secret.as_ref().map(|s| Zeroizing::new(s.to_string()));
    let (verifier, nonce) = (Zeroizing::new(signin.verifier.clone()), signin.nonce.clone());
    let claims = tokio::task::spawn_blocking(move || {
        provider.exchange_code(&code, &redirect_uri, &verifier, &nonce, secret.as_deref().map(|s| s.as_str()), t)
    })
    .await;
    let claims = match claims {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return fail(&e.to_string()),
        Err(e) => return fail(&e.to_string()),
    };
    let oidc = svc.config.auth.oidc.as_ref();
    let principal = match super::auth::principal_from_claims(
        &claims,
        oidc.and_then(|o| o.principal_claim.as_deref()),
        oidc.map_or("groups", |o| o.groups_claim.as_str()),
    ) {
        Ok(p) => p,
        Err(f) => return fail(&f.message),
    };
    let principal = with_directory_groups(&svc, principal).await;
    let s = match Session::new(&principal, "oidc", t) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    tracing::info!(principal = %principal.name, "portal: signed in");
    let mut r = redirect(&signin.next);
    for c in [session_cookie(portal, &s), session::set_cookie(SIGNIN_COOKIE, "", 0)] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

async fn signout_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let v = match viewer(&svc, &conn, &headers, "/portal/", true).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let fields = form(body).await.unwrap_or_default();
    if !fields.get("csrf").is_some_and(|t| portal(&svc).keys.csrf_ok(&v.session, t)) {
        return error_page(
            StatusCode::FORBIDDEN,
            "This form is not from your session (a missing or wrong CSRF token).",
        );
    }
    let mut r = redirect("/portal/signed-out");
    if let Ok(c) = HeaderValue::from_str(&session::set_cookie(SESSION_COOKIE, "", 0)) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

async fn signed_out_handler() -> Response {
    let frame = Frame { title: "Signed out", user: None, here: "" };
    html_response(
        StatusCode::OK,
        pages::page(
            &frame,
            pages::message(
                "You are signed out of the document tracking site. (A browser that presents a client certificate is \
                 signed in again by it.)",
                Some(("/portal/signin", "Sign in again")),
            ),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_site_paths_are_returned_to_after_sign_in() {
        for (next, expect) in [
            (Some("/portal/documents/x"), "/portal/documents/x"),
            (Some("//evil.test/portal"), "/portal/"),
            (Some("https://evil.test/"), "/portal/"),
            (Some("/v1/documents"), "/portal/"),
            (Some("/portal\r\nSet-Cookie: x"), "/portal/"),
            (None, "/portal/"),
        ] {
            assert_eq!(safe_next(next.map(str::to_string).as_ref()), expect, "{next:?}");
        }
    }

    #[test]
    fn the_policy_forbids_inline_script_and_framing() {
        assert!(CSP.contains("script-src 'self'") && !CSP.contains("unsafe-inline"));
        assert!(CSP.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn names_from_users_are_escaped_and_csv_formulas_defused() {
        let d = Document {
            content_id: Uuid::from_u128(1),
            original_name: "<img src=x onerror=alert(1)>.docx".into(),
            template_id: Uuid::from_u128(2),
            template_name: "T".into(),
            owner: Some("a@b".into()),
            first_seen: OffsetDateTime::UNIX_EPOCH,
            revoked: false,
        };
        let r = RequestRecord {
            time: OffsetDateTime::UNIX_EPOCH,
            principal: Some("=cmd|' /C calc'!A0".into()),
            action: "license".into(),
            content_id: Some(d.content_id),
            template_id: Some(d.template_id),
            rights_granted: vec![],
            decision: Decision::Denied,
            code: Some(DenialCode::NotGranted),
            client_address: "127.0.0.1:1".into(),
            user_agent: Some("<script>alert(2)</script>".into()),
        };
        let body = pages::document(&d, std::slice::from_ref(&r), OffsetDateTime::UNIX_EPOCH, "t", None);
        let html = pages::page(&Frame { title: &d.original_name, user: Some(("u", "t", false)), here: "" }, body);
        assert!(!html.contains("<img") && html.contains("&lt;img src=x onerror=alert(1)&gt;.docx"), "{html}");
        assert!(!html.contains("<script>"));
        let csv = pages::history_csv(&[r]);
        assert!(csv.contains(",'=cmd|' /C calc'!A0,"), "{csv}");
    }
}
