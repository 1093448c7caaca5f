//! The HTTP API ([`crate::licensing::api`]) over TLS: axum handlers served by hyper over tokio-rustls (HTTP/1.1),
//! every request audited in the store before its answer is sent, metrics, the optional loopback health port, the
//! audit purge and template reload tasks, and graceful shutdown (in-flight requests finish).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;
use tower::ServiceExt;
use uuid::Uuid;

use super::Service;
use super::license::{self, Refusal, Verified};
use super::policy::{self, Principal};
use crate::licensing::api::{
    self, AccessAnswer, AccessRequest, Decision, DenialCode, Document, DocumentPage, LicenseAnswer, LicenseRequest,
    RegisterRequest, RequestRecord, Revocation, Tracking,
};
use crate::licensing::seal;
use crate::licensing::use_license::{Claims, FRESH_SECONDS};
use crate::protect::container::Envelope;
use crate::{Error, ExitClass};

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client has to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest User-Agent recorded.
const MAX_USER_AGENT: usize = 256;
/// Documents per page: default and most.
const PER_PAGE: (u32, u32) = (100, 1000);

/// What the connection tells about a request: the TCP peer and the client certificate chain, if one was sent.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub certs: Option<Arc<Vec<CertificateDer<'static>>>>,
}

/// Requests per minute and principal (registration: per client address), in fixed one-minute windows. Only a
/// brake on one instance; nothing depends on it for correctness.
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute, windows: Mutex::new(HashMap::new()) }
    }

    /// Count one request of `who`; `false` when over the limit.
    pub fn allow(&self, who: &str) -> bool {
        self.allow_at(who, (OffsetDateTime::now_utc().unix_timestamp() / 60) as u64)
    }

    /// [`RateLimiter::allow`] in the one-minute window `minute` (minutes since the Unix epoch).
    fn allow_at(&self, who: &str, minute: u64) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let Ok(mut windows) = self.windows.lock() else { return true };
        if windows.len() > 100_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let entry = windows.entry(who.to_lowercase()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.per_minute
    }
}

/// A denial as the API sends it.
pub fn denial(code: DenialCode, message: &str) -> Response {
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(api::Denial { error: code, message: message.to_string() })).into_response()
}

fn internal(what: &str, e: impl std::fmt::Display) -> Refusal {
    tracing::error!(problem = %e, "{what}");
    Refusal::new(DenialCode::Internal, format!("the service failed ({what}); the request was not completed"))
}

/// One request on its way: the audit record it will leave.
struct Call {
    svc: Arc<Service>,
    endpoint: &'static str,
    started: Instant,
    record: RequestRecord,
}

impl Call {
    fn new(svc: &Arc<Service>, endpoint: &'static str, conn: &ConnInfo, headers: &HeaderMap) -> Call {
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(MAX_USER_AGENT).collect::<String>());
        Call {
            svc: svc.clone(),
            endpoint,
            started: Instant::now(),
            record: RequestRecord {
                time: OffsetDateTime::now_utc(),
                principal: None,
                action: endpoint.to_string(),
                content_id: None,
                template_id: None,
                rights_granted: Vec::new(),
                decision: Decision::Denied,
                code: None,
                client_address: conn.peer.to_string(),
                user_agent,
            },
        }
    }

    /// Sign the caller in, and hold them to the rate limit.
    async fn sign_in(&mut self, conn: &ConnInfo, headers: &HeaderMap) -> Result<Principal, Refusal> {
        let authorization = match headers.get(header::AUTHORIZATION) {
            Some(v) => Some(v.to_str().map_err(|_| Refusal::new(DenialCode::BadToken, "unreadable Authorization"))?),
            None => None,
        };
        let principal = self
            .svc
            .auth
            .authenticate(authorization, conn.certs.as_deref().map(Vec::as_slice))
            .await
            .map_err(|f| Refusal::new(f.code, f.message))?;
        self.record.principal = Some(principal.name.clone());
        if !self.svc.limiter.allow(&principal.name) {
            return Err(Refusal::new(DenialCode::RateLimited, "too many requests; try again in a minute"));
        }
        let mut principal = principal;
        if let Some(directory) = &self.svc.directory {
            // A directory that cannot answer leaves the token's groups only: grants naming directory groups then
            // match nobody (fail closed), and the log says why.
            match directory.groups_of(&principal.name).await {
                Ok(groups) => principal.groups.extend(groups),
                Err(e) => tracing::warn!(principal = %principal.name, problem = %e, "directory groups unavailable"),
            }
        }
        Ok(principal)
    }

    /// Record the outcome, then answer. A request whose record cannot be committed is answered 500, never
    /// granted.
    async fn finish(mut self, result: Result<Response, Refusal>) -> Response {
        match &result {
            Ok(_) => self.record.decision = Decision::Granted,
            Err(refusal) => {
                self.record.decision = Decision::Denied;
                self.record.code = Some(refusal.code);
                self.record.rights_granted.clear();
            }
        }
        let result = match self.svc.store.record_request(&self.record).await {
            Ok(()) => result,
            Err(e) => {
                tracing::error!(problem = %e, action = self.endpoint, "cannot record the request; answering 500");
                Err(Refusal::new(
                    DenialCode::Internal,
                    "the service could not record the request; nothing was released",
                ))
            }
        };
        let code = result.as_ref().err().map(|r| r.code);
        tracing::info!(
            action = self.endpoint,
            principal = self.record.principal.as_deref().unwrap_or("-"),
            content_id = %self.record.content_id.map(|c| c.to_string()).unwrap_or_default(),
            rights = %self.record.rights_granted.join(","),
            code = code.map_or("granted", |c| c.as_str()),
            client = %self.record.client_address,
            "request"
        );
        self.svc.metrics.observe(self.endpoint, self.started.elapsed().as_secs_f64(), code);
        if code.is_none() && self.endpoint == "license" {
            self.svc.metrics.granted();
        }
        result.unwrap_or_else(|r| denial(r.code, &r.message))
    }
}

/// The JSON body, or the denial for it. A declared length over [`api::MAX_REQUEST_BODY`] is refused before any of
/// the body is read; a chunked one as soon as it passes the limit.
async fn json_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: Body) -> Result<T, Refusal> {
    let too_large =
        || Refusal::new(DenialCode::TooLarge, format!("the body is larger than {} bytes", api::MAX_REQUEST_BODY));
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > api::MAX_REQUEST_BODY as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, api::MAX_REQUEST_BODY).await.map_err(|e| {
        if e.to_string().contains("length limit") {
            too_large()
        } else {
            Refusal::new(DenialCode::BadRequest, "the body could not be read")
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Refusal::new(DenialCode::BadRequest, format!("the body is not the documented JSON ({e})")))
}

/// A verified license and the document it describes, with the template's current grants.
struct Evaluated {
    verified: Verified,
    document: Document,
    grants: Vec<crate::protect::templates::Grant>,
}

/// Parse a license block, and record the content and template ids it claims before anything is checked: a refused
/// request (a bad token, a tampered license) still shows in the tracking of the content it named.
fn parse_noting(call: &mut Call, block: &[u8]) -> Result<Envelope, Refusal> {
    let parsed = license::parse(block);
    if let Ok(envelope) = &parsed {
        call.record.content_id = Some(envelope.license.content_id);
        call.record.template_id = Some(envelope.license.template_id);
    }
    parsed
}

/// The license block's checks (issuer key, unwrap + MAC, template served), then the document upserted.
async fn evaluate(call: &mut Call, envelope: Envelope) -> Result<Evaluated, Refusal> {
    // A cached content key is checked here; only the RSA private-key operation goes to the blocking pool.
    let verified = match license::verify_cached(envelope, &call.svc.issuer_keys, &call.svc.cache)? {
        Ok(verified) => verified,
        Err(envelope) => {
            let svc = call.svc.clone();
            tokio::task::spawn_blocking(move || license::verify_unwrapping(envelope, &svc.issuer_keys, &svc.cache))
                .await
                .map_err(|e| internal("license check", e))??
        }
    };
    let l = &verified.envelope.license;
    let templates = call.svc.templates();
    let template = templates.get(&l.template_id.to_string()).map_err(|_| {
        Refusal::new(DenialCode::UnknownTemplate, format!("template {} is not served by this service", l.template_id))
    })?;
    let grants = template.grants.clone();
    let seen = Document {
        content_id: l.content_id,
        original_name: l.original_name.clone(),
        template_id: l.template_id,
        template_name: l.template_name.clone(),
        owner: l.owner.clone(),
        first_seen: OffsetDateTime::now_utc(),
        revoked: false,
    };
    let document = call.svc.store.upsert_document(&seen).await.map_err(|e| internal("store", e))?;
    Ok(Evaluated { verified, document, grants })
}

fn rights_for(svc: &Service, ev: &Evaluated, p: &Principal) -> Vec<String> {
    let l = &ev.verified.envelope.license;
    policy::right_names(&policy::rights(&ev.grants, l.owner.as_deref(), &svc.config.admins, p))
}

async fn license_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut call = Call::new(&svc, "license", &conn, &headers);
    let result = issue(&mut call, &conn, &headers, body).await;
    call.finish(result).await
}

async fn issue(call: &mut Call, conn: &ConnInfo, headers: &HeaderMap, body: Body) -> Result<Response, Refusal> {
    let request: LicenseRequest = json_body(headers, body).await?;
    let parsed = parse_noting(call, &request.license);
    let principal = call.sign_in(conn, headers).await?;
    if request.client_key.len() != seal::PUBLIC_KEY_LEN {
        return Err(Refusal::new(DenialCode::BadRequest, "client_key is not a 32-byte X25519 public key"));
    }
    let ev = evaluate(call, parsed?).await?;
    let svc = call.svc.clone();
    let rights = rights_for(&svc, &ev, &principal);
    let l = &ev.verified.envelope.license;
    let now = OffsetDateTime::now_utc();
    if rights.is_empty() {
        return Err(Refusal::new(DenialCode::NotGranted, format!("{} has no right on this content", principal.name)));
    }
    if policy::expired(l.valid_until, now) {
        return Err(Refusal::new(DenialCode::Expired, "the content has expired"));
    }
    // Read from the store by this request (the upsert above), never from a cache.
    if ev.document.revoked {
        return Err(Refusal::new(DenialCode::Revoked, "the content was revoked"));
    }
    let sealed = seal::seal(&request.client_key, &l.content_id, &ev.verified.content_key).map_err(|e| match e {
        seal::SealError::BadPublicKey => Refusal::new(DenialCode::BadRequest, e.to_string()),
        other => internal("seal", other),
    })?;
    let iat = now.unix_timestamp();
    let mut claims = Claims {
        iss: svc.public_url.clone(),
        sub: principal.name.clone(),
        iat,
        exp: iat + FRESH_SECONDS,
        cid: l.content_id,
        tid: l.template_id,
        rights: rights.clone(),
        valid_until: l.valid_until.map(OffsetDateTime::unix_timestamp),
        offline_until: policy::offline_until(l.valid_until, l.offline_days, now).map(OffsetDateTime::unix_timestamp),
        enc: String::new(),
        key: String::new(),
    };
    claims.set_sealed_key(&sealed);
    let use_license = svc.signer.sign(&claims).map_err(|e| internal("signing", e))?;
    call.record.rights_granted = rights;
    Ok(Json(LicenseAnswer { use_license }).into_response())
}

async fn access_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut call = Call::new(&svc, "access", &conn, &headers);
    let result = async {
        let request: AccessRequest = json_body(&headers, body).await?;
        let parsed = parse_noting(&mut call, &request.license);
        let principal = call.sign_in(&conn, &headers).await?;
        let ev = evaluate(&mut call, parsed?).await?;
        let rights = rights_for(&svc, &ev, &principal);
        let l = &ev.verified.envelope.license;
        let now = OffsetDateTime::now_utc();
        let revoked = ev.document.revoked;
        call.record.rights_granted = rights.clone();
        Ok(Json(AccessAnswer {
            content_id: l.content_id,
            principal: principal.name,
            rights,
            valid_until: l.valid_until,
            offline_until: policy::offline_until(l.valid_until, l.offline_days, now),
            revoked,
        })
        .into_response())
    }
    .await;
    call.finish(result).await
}

async fn register_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut call = Call::new(&svc, "register", &conn, &headers);
    let result = async {
        if !svc.limiter.allow(&conn.peer.ip().to_string()) {
            return Err(Refusal::new(DenialCode::RateLimited, "too many registrations; try again in a minute"));
        }
        let request: RegisterRequest = json_body(&headers, body).await?;
        let parsed = parse_noting(&mut call, &request.license);
        let ev = evaluate(&mut call, parsed?).await?;
        Ok(Json(ev.document).into_response())
    }
    .await;
    call.finish(result).await
}

async fn documents_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut call = Call::new(&svc, "documents", &conn, &headers);
    let result = async {
        let principal = call.sign_in(&conn, &headers).await?;
        let number =
            |name: &str, default: u32| match query.get(name) {
                None => Ok(default),
                Some(v) => v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    Refusal::new(DenialCode::BadRequest, format!("{name} must be a whole number from 1"))
                }),
            };
        let page = number("page", 1)?;
        let per_page = number("per_page", PER_PAGE.0)?.min(PER_PAGE.1);
        let owner = if policy::is_admin(&svc.config.admins, &principal) {
            None
        } else {
            Some(principal.email.clone().unwrap_or_else(|| principal.name.clone()))
        };
        let (documents, more) =
            svc.store.documents(owner.as_deref(), page, per_page).await.map_err(|e| internal("store", e))?;
        Ok(Json(DocumentPage { documents, page, per_page, next_page: more.then_some(page + 1) }).into_response())
    }
    .await;
    call.finish(result).await
}

/// The document `cid` names, if the caller is its owner or an admin.
async fn owned_document(call: &mut Call, principal: &Principal, cid: &str) -> Result<Document, Refusal> {
    let cid = Uuid::parse_str(cid).map_err(|_| Refusal::new(DenialCode::BadRequest, "not a content id"))?;
    call.record.content_id = Some(cid);
    let document = call
        .svc
        .store
        .document(cid)
        .await
        .map_err(|e| internal("store", e))?
        .ok_or_else(|| Refusal::new(DenialCode::UnknownDocument, format!("content id {cid} is not known here")))?;
    call.record.template_id = Some(document.template_id);
    if !policy::is_owner(document.owner.as_deref(), principal) && !policy::is_admin(&call.svc.config.admins, principal)
    {
        return Err(Refusal::new(DenialCode::NotGranted, "only the content's owner or an admin may do this"));
    }
    Ok(document)
}

async fn set_revoked(svc: Arc<Service>, conn: ConnInfo, headers: HeaderMap, cid: String, revoked: bool) -> Response {
    let mut call = Call::new(&svc, if revoked { "revoke" } else { "unrevoke" }, &conn, &headers);
    let result = async {
        let principal = call.sign_in(&conn, &headers).await?;
        let document = owned_document(&mut call, &principal, &cid).await?;
        let known = svc
            .store
            .set_revoked(document.content_id, revoked, &principal.name)
            .await
            .map_err(|e| internal("store", e))?;
        if !known {
            return Err(Refusal::new(DenialCode::UnknownDocument, "the content id is not known here"));
        }
        Ok(Json(Revocation { content_id: document.content_id, revoked }).into_response())
    }
    .await;
    call.finish(result).await
}

async fn revoke_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    UrlPath(cid): UrlPath<String>,
) -> Response {
    set_revoked(svc, conn, headers, cid, true).await
}

async fn unrevoke_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    UrlPath(cid): UrlPath<String>,
) -> Response {
    set_revoked(svc, conn, headers, cid, false).await
}

async fn tracking_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    UrlPath(cid): UrlPath<String>,
) -> Response {
    let mut call = Call::new(&svc, "tracking", &conn, &headers);
    let result = async {
        let principal = call.sign_in(&conn, &headers).await?;
        let document = owned_document(&mut call, &principal, &cid).await?;
        let requests = svc.store.requests_for(document.content_id).await.map_err(|e| internal("store", e))?;
        Ok(Json(Tracking { document, requests }).into_response())
    }
    .await;
    call.finish(result).await
}

async fn signing_keys_handler(State(svc): State<Arc<Service>>) -> Response {
    Json(svc.signer.jwks()).into_response()
}

async fn health_handler() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

fn metrics_response(svc: &Service) -> Response {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], svc.metrics.encode())
        .into_response()
}

async fn metrics_handler(
    State(svc): State<Arc<Service>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
) -> Response {
    let mut call = Call::new(&svc, "metrics", &conn, &headers);
    match call.sign_in(&conn, &headers).await {
        Ok(p) if policy::is_admin(&svc.config.admins, &p) => metrics_response(&svc),
        Ok(_) => denial(DenialCode::NotGranted, "metrics are for admins (or the loopback health port)"),
        Err(r) => denial(r.code, &r.message),
    }
}

async fn no_such_endpoint() -> Response {
    denial(DenialCode::BadRequest, "no such endpoint (see docs/SERVICE.md)")
}

/// The API's routes.
pub fn router(svc: Arc<Service>) -> Router {
    Router::new()
        .route(api::LICENSES, post(license_handler))
        .route(api::ACCESS, post(access_handler))
        .route(api::DOCUMENTS, get(documents_handler).post(register_handler))
        .route(&format!("{}/{{cid}}/revoke", api::DOCUMENTS), post(revoke_handler))
        .route(&format!("{}/{{cid}}/unrevoke", api::DOCUMENTS), post(unrevoke_handler))
        .route(&format!("{}/{{cid}}/tracking", api::DOCUMENTS), get(tracking_handler))
        .route(api::SIGNING_KEYS, get(signing_keys_handler))
        .route(api::HEALTH, get(health_handler))
        .route(api::METRICS, get(metrics_handler))
        .fallback(no_such_endpoint)
        .method_not_allowed_fallback(no_such_endpoint)
        .with_state(svc.clone())
        .merge(super::portal::router(svc))
}

/// The loopback health port's routes: liveness and metrics, no sign-in.
fn health_router(svc: Arc<Service>) -> Router {
    Router::new()
        .route(api::HEALTH, get(health_handler))
        .route(api::METRICS, get(|State(svc): State<Arc<Service>>| async move { metrics_response(&svc) }))
        .fallback(no_such_endpoint)
        .with_state(svc)
}

/// Serve one accepted connection until it closes or shutdown is asked for (then finish the request in flight).
async fn connection<S>(
    io: S,
    info: ConnInfo,
    app: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
    _done: tokio::sync::mpsc::Sender<()>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(info.clone());
        app.clone().oneshot(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Bind, print where, and answer until [`crate::platform::shutdown_signal`]; then let in-flight requests finish.
pub async fn serve(svc: Arc<Service>, tls: Arc<rustls::ServerConfig>) -> Result<(), Error> {
    let listen = svc.config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::new(ExitClass::Config, format!("cannot listen on {listen}: {e}")))?;
    let local = listener.local_addr().map_err(|e| Error::new(ExitClass::Internal, e.to_string()))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    if let Some(health) = svc.config.health_listen {
        let health_listener = tokio::net::TcpListener::bind(health)
            .await
            .map_err(|e| Error::new(ExitClass::Config, format!("cannot listen on {health}: {e}")))?;
        let addr = health_listener.local_addr().map_err(|e| Error::new(ExitClass::Internal, e.to_string()))?;
        println!("health on http://{addr}/");
        let app = health_router(svc.clone());
        let (stop, done) = (stop_rx.clone(), done_tx.clone());
        tokio::spawn(async move {
            let mut stopping = stop.clone();
            loop {
                tokio::select! {
                    _ = stopping.changed() => break,
                    accepted = health_listener.accept() => match accepted {
                        Ok((tcp, peer)) => {
                            let info = ConnInfo { peer, certs: None };
                            tokio::spawn(connection(tcp, info, app.clone(), stop.clone(), done.clone()));
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    },
                }
            }
        });
    }
    // The first purge before the first request, so that nothing past its retention is ever served.
    purge_old_records(&svc).await;
    background_tasks(&svc);
    tracing::info!(listen = %local, public_url = %svc.public_url, "serving");
    println!("listening on https://{local}/");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // A Windows service reports Running now (nothing otherwise).
    crate::platform::service_ready();

    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let app = router(svc.clone());
    let shutdown = crate::platform::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(problem = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let (acceptor, app, stop, done) = (acceptor.clone(), app.clone(), stop_rx.clone(), done_tx.clone());
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(client = %peer, problem = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let certs = tls.get_ref().1.peer_certificates().map(|chain| {
                        Arc::new(chain.iter().map(|c| c.clone().into_owned()).collect::<Vec<_>>())
                    });
                    connection(tls, ConnInfo { peer, certs }, app, stop, done).await;
                });
            }
        }
    }
    tracing::info!("stopping: finishing requests in flight");
    let _ = stop_tx.send(true);
    drop(done_tx);
    drop(listener);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, done_rx.recv()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Delete request records older than `audit_retention_days` (0: keep them).
async fn purge_old_records(svc: &Service) {
    let days = svc.config.audit_retention_days;
    if days == 0 {
        return;
    }
    let before = OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    match svc.store.purge_requests_before(before).await {
        Ok(n) => tracing::info!(removed = n, retention_days = days, "audit purge"),
        Err(e) => tracing::error!(problem = %e, "audit purge failed"),
    }
}

/// The hourly audit purge and the template reload (every few seconds, when a file changed).
fn background_tasks(svc: &Arc<Service>) {
    let purge = svc.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(
            tokio::time::Instant::now() + Duration::from_secs(3600),
            Duration::from_secs(3600),
        );
        loop {
            tick.tick().await;
            purge_old_records(&purge).await;
        }
    });
    let reload = svc.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            let svc = reload.clone();
            let _ = tokio::task::spawn_blocking(move || svc.reload_templates_if_changed()).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_counts_per_principal_and_minute_in_any_case() {
        let limiter = RateLimiter::new(2);
        assert!(limiter.allow_at("Alice", 10) && limiter.allow_at("alice", 10));
        assert!(!limiter.allow_at("ALICE", 10));
        assert!(limiter.allow_at("bob", 10));
        assert!(limiter.allow_at("alice", 11));
        let off = RateLimiter::new(0);
        assert!((0..1000).all(|_| off.allow_at("alice", 10)));
    }

    #[test]
    fn a_denial_carries_its_code_and_status() {
        let r = denial(DenialCode::Revoked, "gone");
        assert_eq!(r.status().as_u16(), 451);
    }
}
