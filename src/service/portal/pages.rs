//! The site's pages, rendered with maud (HTML built at compile time; every inserted value is escaped). No inline
//! script or style: one stylesheet and one small script, both served by the site (CSP `'self'`).

use maud::{DOCTYPE, Markup, html};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::licensing::api::{Decision, Document, RequestRecord};
use crate::service::store::portal::{DenialRow, DocumentSort, DocumentSummary, TemplateCount};

/// What every page's frame needs.
pub struct Frame<'a> {
    pub title: &'a str,
    /// The signed-in user, the CSRF token (for sign-out), and whether they are an admin.
    pub user: Option<(&'a str, &'a str, bool)>,
    /// Which navigation entry is this page.
    pub here: &'a str,
}

/// `2026-05-01 14:03:09 UTC`, in a `<time>` the site's script shows in the viewer's time zone.
pub fn time(t: OffsetDateTime) -> Markup {
    let iso = t.format(&Rfc3339).unwrap_or_default();
    let text = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    html! { time datetime=(iso) { (text) } }
}

fn maybe_time(t: Option<OffsetDateTime>) -> Markup {
    match t {
        Some(t) => time(t),
        None => html! { span.none { "never" } },
    }
}

pub fn page(frame: &Frame<'_>, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (frame.title) " · Document tracking" }
                link rel="stylesheet" href="/portal/static/portal.css";
                script src="/portal/static/portal.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/portal/" { "Document tracking" }
                    @if let Some((name, csrf, admin)) = frame.user {
                        nav aria-label="Main" {
                            ul {
                                li { a href="/portal/" aria-current=[(frame.here == "mine").then_some("page")] { "My documents" } }
                                @if admin {
                                    li { a href="/portal/admin" aria-current=[(frame.here == "admin").then_some("page")] { "All documents" } }
                                }
                            }
                        }
                        div.who {
                            span { "Signed in as " strong { (name) } }
                            form method="post" action="/portal/signout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" {
                    h1 { (frame.title) }
                    (body)
                }
                footer {
                    p id="tz-note" { "Times are shown in UTC." }
                }
            }
        }
    }
    .into_string()
}

/// A link to a list page with these query parameters.
fn list_link(base: &str, params: &[(&str, String)]) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if !v.is_empty() {
            url.append_pair(k, v);
        }
    }
    let q = url.finish();
    if q.is_empty() { base.to_string() } else { format!("{base}?{q}") }
}

/// The state of a documents list: its filters (as query parameters), sort and page.
pub struct ListState {
    pub base: &'static str,
    pub filters: Vec<(&'static str, String)>,
    pub sort: DocumentSort,
    pub descending: bool,
    pub page: u32,
    pub more: bool,
}

impl ListState {
    fn link(&self, sort: DocumentSort, descending: bool, page: u32) -> String {
        let mut params = self.filters.clone();
        params.push(("sort", sort.as_str().to_string()));
        params.push(("dir", if descending { "desc" } else { "asc" }.to_string()));
        if page > 1 {
            params.push(("page", page.to_string()));
        }
        list_link(self.base, &params)
    }
}

/// A sortable column header.
fn sort_header(state: &ListState, sort: DocumentSort, label: &str) -> Markup {
    let current = state.sort == sort;
    let aria = if current { Some(if state.descending { "descending" } else { "ascending" }) } else { None };
    let next_desc = if current {
        !state.descending
    } else {
        !matches!(sort, DocumentSort::Name | DocumentSort::Template | DocumentSort::Owner)
    };
    html! {
        th scope="col" aria-sort=[aria] {
            a href=(state.link(sort, next_desc, 1)) {
                (label)
                @if current { span aria-hidden="true" { (if state.descending { " ▼" } else { " ▲" }) } }
            }
        }
    }
}

/// The documents table (with the owner column for admins).
pub fn documents_table(rows: &[DocumentSummary], state: &ListState, show_owner: bool, caption: &str) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { "No documents match." }
        } @else {
            table.documents {
                caption { (caption) }
                thead {
                    tr {
                        (sort_header(state, DocumentSort::Name, "File name"))
                        (sort_header(state, DocumentSort::Template, "Template"))
                        @if show_owner { (sort_header(state, DocumentSort::Owner, "Owner")) }
                        (sort_header(state, DocumentSort::FirstSeen, "First seen"))
                        (sort_header(state, DocumentSort::LastOpened, "Last opened"))
                        (sort_header(state, DocumentSort::Opens, "Opens (30 days)"))
                        (sort_header(state, DocumentSort::Denials, "Denials (30 days)"))
                        th scope="col" { "Access" }
                    }
                }
                tbody {
                    @for r in rows {
                        @let d = &r.document;
                        tr.revoked[d.revoked] data-content-id=(d.content_id) {
                            th scope="row" { a href=(format!("/portal/documents/{}", d.content_id)) { (d.original_name) } }
                            td { (d.template_name) }
                            @if show_owner { td { (d.owner.as_deref().unwrap_or("—")) } }
                            td { (time(d.first_seen)) }
                            td { (maybe_time(r.last_opened)) }
                            td.num data-opens=(r.opens) { (r.opens) }
                            td.num data-denials=(r.denials) { (r.denials) }
                            td { (status(d.revoked)) }
                        }
                    }
                }
            }
        }
        nav.pages aria-label="Pages" {
            @if state.page > 1 {
                a rel="prev" href=(state.link(state.sort, state.descending, state.page - 1)) { "← Previous" }
            }
            span { "Page " (state.page) }
            @if state.more {
                a rel="next" href=(state.link(state.sort, state.descending, state.page + 1)) { "Next →" }
            }
        }
    }
}

fn status(revoked: bool) -> Markup {
    if revoked {
        html! { span.badge.revoked { "Revoked" } }
    } else {
        html! { span.badge.active { "Active" } }
    }
}

/// "My documents".
pub fn mine(rows: &[DocumentSummary], state: &ListState, q: &str) -> Markup {
    html! {
        form.filters method="get" action="/portal/" role="search" {
            label for="q" { "Search file names" }
            input type="search" id="q" name="q" value=(q);
            input type="hidden" name="sort" value=(state.sort.as_str());
            input type="hidden" name="dir" value=(if state.descending { "desc" } else { "asc" });
            button type="submit" { "Search" }
        }
        (documents_table(rows, state, false, "Documents you own"))
    }
}

/// The admin filters' current values.
#[derive(Default)]
pub struct AdminFilters {
    pub template: String,
    pub owner: String,
    pub name: String,
    pub content_id: String,
    pub from: String,
    pub to: String,
}

pub fn admin(
    rows: &[DocumentSummary],
    state: &ListState,
    f: &AdminFilters,
    templates: &[TemplateCount],
    denials: &[DenialRow],
    problem: Option<&str>,
) -> Markup {
    html! {
        @if let Some(p) = problem { p.notice.error role="alert" { (p) } }
        form.filters.grid method="get" action="/portal/admin" {
            div { label for="f-template" { "Template" }
                select id="f-template" name="template" {
                    option value="" { "Any template" }
                    @for t in templates {
                        option value=(t.template_id) selected[f.template == t.template_id.to_string()] { (t.template_name) }
                    }
                }
            }
            div { label for="f-owner" { "Owner" } input type="text" id="f-owner" name="owner" value=(f.owner); }
            div { label for="f-name" { "File name" } input type="text" id="f-name" name="name" value=(f.name); }
            div { label for="f-cid" { "Content id" } input type="text" id="f-cid" name="content_id" value=(f.content_id); }
            div { label for="f-from" { "First seen from" } input type="date" id="f-from" name="from" value=(f.from); }
            div { label for="f-to" { "First seen to" } input type="date" id="f-to" name="to" value=(f.to); }
            div { button type="submit" { "Filter" } }
        }
        (documents_table(rows, state, true, "All documents"))
        section aria-labelledby="denials-h" {
            h2 id="denials-h" { "Denials in the last 24 hours" }
            @if denials.is_empty() {
                p.empty { "None." }
            } @else {
                table.denials {
                    thead { tr {
                        th scope="col" { "Time" } th scope="col" { "Principal" } th scope="col" { "File" }
                        th scope="col" { "Request" } th scope="col" { "Reason" } th scope="col" { "Client address" }
                    } }
                    tbody {
                        @for d in denials {
                            tr {
                                td { (time(d.record.time)) }
                                td { (d.record.principal.as_deref().unwrap_or("(not signed in)")) }
                                td {
                                    @match (d.record.content_id, &d.original_name) {
                                        (Some(cid), Some(name)) => a href=(format!("/portal/documents/{cid}")) { (name) },
                                        (Some(cid), None) => (cid),
                                        _ => span.none { "—" },
                                    }
                                }
                                td { (d.record.action) }
                                td { (d.record.code.map(|c| c.as_str()).unwrap_or("")) }
                                td { (d.record.client_address) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="templates-h" {
            h2 id="templates-h" { "Documents per template" }
            table.templates {
                thead { tr { th scope="col" { "Template" } th scope="col" { "Template id" } th scope="col" { "Documents" } th scope="col" { "Revoked" } } }
                tbody {
                    @for t in templates {
                        tr {
                            th scope="row" { a href=(list_link("/portal/admin", &[("template", t.template_id.to_string())])) { (t.template_name) } }
                            td { code { (t.template_id) } }
                            td.num { (t.documents) }
                            td.num { (t.revoked) }
                        }
                    }
                }
            }
        }
    }
}

/// Opens and denials per day over the last `days` days, as an inline SVG bar chart.
pub fn timeline(requests: &[RequestRecord], now: OffsetDateTime, days: i64) -> Markup {
    let today = now.date();
    let mut opens = vec![0u32; days as usize];
    let mut denials = vec![0u32; days as usize];
    for r in requests.iter().filter(|r| r.action == "license") {
        let age = (today - r.time.date()).whole_days();
        if (0..days).contains(&age) {
            let i = (days - 1 - age) as usize;
            match r.decision {
                Decision::Granted => opens[i] += 1,
                Decision::Denied => denials[i] += 1,
            }
        }
    }
    let max = opens.iter().chain(denials.iter()).copied().max().unwrap_or(0).max(1);
    let (w, h, left, bottom, top) = (720.0_f64, 180.0_f64, 36.0_f64, 28.0_f64, 10.0_f64);
    let slot = (w - left - 8.0) / days as f64;
    let bar = (slot / 2.0 - 1.0).max(1.0);
    let plot = h - bottom - top;
    let y = |n: u32| top + plot - plot * f64::from(n) / f64::from(max);
    let total_opens: u32 = opens.iter().sum();
    let total_denials: u32 = denials.iter().sum();
    let day = |i: usize| today - time::Duration::days(days - 1 - i as i64);
    let label = |i: usize| {
        let d = day(i);
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    };
    html! {
        figure.timeline {
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {w} {h}")) role="img" aria-labelledby="tl-title tl-desc" {
                title id="tl-title" { "Opens and denials per day, last " (days) " days" }
                desc id="tl-desc" { (total_opens) " opens and " (total_denials) " denials from " (label(0)) " to " (label(days as usize - 1)) " (UTC days)." }
                line x1=(left) y1=(top + plot) x2=(w - 4.0) y2=(top + plot) stroke="#666" {}
                line x1=(left) y1=(top) x2=(left) y2=(top + plot) stroke="#666" {}
                text x=(left - 6.0) y=(top + 4.0) text-anchor="end" font-size="11" fill="#333" { (max) }
                text x=(left - 6.0) y=(top + plot) text-anchor="end" font-size="11" fill="#333" { "0" }
                @for i in 0..days as usize {
                    @let x = left + 2.0 + slot * i as f64;
                    @if opens[i] > 0 {
                        rect x=(format!("{x:.1}")) y=(format!("{:.1}", y(opens[i]))) width=(format!("{bar:.1}")) height=(format!("{:.1}", top + plot - y(opens[i]))) fill="#2b6cb0" {
                            title { (label(i)) ": " (opens[i]) " opens" }
                        }
                    }
                    @if denials[i] > 0 {
                        rect x=(format!("{:.1}", x + bar + 1.0)) y=(format!("{:.1}", y(denials[i]))) width=(format!("{bar:.1}")) height=(format!("{:.1}", top + plot - y(denials[i]))) fill="#c53030" {
                            title { (label(i)) ": " (denials[i]) " denials" }
                        }
                    }
                }
                @for (i, anchor) in [(0usize, "start"), (days as usize / 2, "middle"), (days as usize - 1, "end")] {
                    @let x = match anchor { "start" => left, "end" => w - 4.0, _ => left + 2.0 + slot * i as f64 + slot / 2.0 };
                    text x=(format!("{x:.1}")) y=(h - 8.0) text-anchor=(anchor) font-size="11" fill="#333" { (label(i)) }
                }
            }
            figcaption {
                span.key.opens aria-hidden="true" {} " Opens (" (total_opens) ") "
                span.key.denials aria-hidden="true" {} " Denials (" (total_denials) ")"
            }
        }
    }
}

/// A document's page.
pub fn document(
    d: &Document,
    requests: &[RequestRecord],
    now: OffsetDateTime,
    csrf: &str,
    notice: Option<&str>,
) -> Markup {
    let cid = d.content_id;
    let license: Vec<&RequestRecord> = requests.iter().filter(|r| r.action == "license").collect();
    let since = now - time::Duration::days(30);
    let opens = license.iter().filter(|r| r.decision == Decision::Granted && r.time >= since).count();
    let denials = license.iter().filter(|r| r.decision == Decision::Denied && r.time >= since).count();
    html! {
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        dl.facts {
            dt { "Content id" } dd { code { (cid) } }
            dt { "Template" } dd { (d.template_name) " " span.none { "(" (d.template_id) ")" } }
            dt { "Owner" } dd { (d.owner.as_deref().unwrap_or("—")) }
            dt { "First seen" } dd { (time(d.first_seen)) }
            dt { "Access" } dd id="access-status" { (status(d.revoked)) }
        }
        div.cards {
            div.card.opens { b id="opens-30" { (opens) } "opens in the last 30 days" }
            div.card.denials { b id="denials-30" { (denials) } "denials in the last 30 days" }
        }
        div.actions {
            @if d.revoked {
                form method="post" action=(format!("/portal/documents/{cid}/restore")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" id="restore" { "Restore access" }
                }
            } @else {
                form method="post" action=(format!("/portal/documents/{cid}/revoke")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button.danger type="submit" id="revoke" { "Revoke access" }
                }
            }
            a.button href=(format!("/portal/documents/{cid}/history.csv")) download { "Download the history (CSV)" }
        }
        section aria-labelledby="timeline-h" {
            h2 id="timeline-h" { "Timeline" }
            (timeline(requests, now, 30))
        }
        section aria-labelledby="requests-h" {
            h2 id="requests-h" { "Requests" }
            @if requests.is_empty() {
                p.empty { "Nobody has asked for this document yet." }
            } @else {
                table.requests {
                    caption { (requests.len()) " requests, oldest first" }
                    thead { tr {
                        th scope="col" { "Time" } th scope="col" { "Principal" } th scope="col" { "Request" }
                        th scope="col" { "Decision" } th scope="col" { "Reason" } th scope="col" { "Rights granted" }
                        th scope="col" { "Client address" } th scope="col" { "User agent" }
                    } }
                    tbody {
                        @for r in requests {
                            @let decision = if r.decision == Decision::Granted { "granted" } else { "denied" };
                            tr class=(decision) data-action=(r.action) data-decision=(decision) data-principal=(r.principal.as_deref().unwrap_or("")) {
                                td { (time(r.time)) }
                                td { (r.principal.as_deref().unwrap_or("(not signed in)")) }
                                td { (r.action) }
                                td { (decision) }
                                td { (r.code.map(|c| c.as_str()).unwrap_or("")) }
                                td { (r.rights_granted.join(", ")) }
                                td { (r.client_address) }
                                td.ua { (r.user_agent.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The confirmation step of Revoke / Restore.
pub fn confirm(d: &Document, revoke: bool, csrf: &str) -> Markup {
    let cid = d.content_id;
    let (verb, path) = if revoke { ("Revoke access", "revoke") } else { ("Restore access", "restore") };
    html! {
        p {
            @if revoke {
                "Everyone will be refused " strong { (d.original_name) } " from their next open, including copies \
                 already sent. Readers who opened it offline keep their offline copy until it runs out."
            } @else {
                "The people the template names will be able to open " strong { (d.original_name) } " again."
            }
        }
        div.actions {
            form method="post" action=(format!("/portal/documents/{cid}/{path}")) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="confirm" value="yes";
                button.danger[revoke] type="submit" id="confirm" { (verb) }
            }
            a.button href=(format!("/portal/documents/{cid}")) { "Cancel" }
        }
    }
}

/// A short message page body.
pub fn message(text: &str, link: Option<(&str, &str)>) -> Markup {
    html! {
        p { (text) }
        @if let Some((href, label)) = link { p { a href=(href) { (label) } } }
    }
}

/// RFC 4180 field, with a leading `'` on what a spreadsheet would run as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    crate::batch::report::csv_field(&s)
}

/// A document's history as CSV.
pub fn history_csv(requests: &[RequestRecord]) -> String {
    let mut out = String::from("time,principal,request,decision,reason,rights_granted,client_address,user_agent\r\n");
    for r in requests {
        let fields = [
            r.time.format(&Rfc3339).unwrap_or_default(),
            r.principal.clone().unwrap_or_default(),
            r.action.clone(),
            if r.decision == Decision::Granted { "granted" } else { "denied" }.to_string(),
            r.code.map(|c| c.as_str().to_string()).unwrap_or_default(),
            r.rights_granted.join(" "),
            r.client_address.clone(),
            r.user_agent.clone().unwrap_or_default(),
        ];
        out += &fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
        out += "\r\n";
    }
    out
}

/// A content id from a URL.
pub fn parse_cid(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s).ok()
}
