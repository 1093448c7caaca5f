//! The licensing service through the real binary: `fci-connector serve` on a loopback port, files protected with
//! `protect`, and the HTTP API driven by the test client of `support::client` (tokens from `support::oidc`,
//! certificates from `support::pki`). Every case checks the HTTP status and denial code and, where it matters, the
//! audit record the store kept.

use fci_connector::licensing::api::{self, Decision, DenialCode, Document, DocumentPage, Revocation, Tracking};
use fci_connector::protect::container::keyschedule::ContentKey;
use fci_connector::protect::container::license::{KeyWrap, License};
use fci_connector::protect::container::{self, SealParams};
use fci_connector::protect::keys::RecipientKey;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::service::{ADMIN, Deployment, OPEN_TEMPLATE_ID, TEMPLATE_ID};
use crate::util::{self, pattern};

const OWNER: &str = "olivia@contoso.com";

fn header_of(path: &std::path::Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let len = util::payload_offset(&bytes);
    bytes[..len].to_vec()
}

fn content_id(path: &std::path::Path) -> Uuid {
    let bytes = std::fs::read(path).unwrap();
    let mut r = bytes.as_slice();
    container::Envelope::read(&mut r).unwrap().license.content_id
}

/// `bytes` with every `from` replaced by `to` (same length).
fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut found = false;
    for i in 0..=out.len().saturating_sub(from.len()) {
        if &out[i..i + from.len()] == from.as_bytes() {
            out[i..i + from.len()].copy_from_slice(to.as_bytes());
            found = true;
        }
    }
    assert!(found, "{from} not found");
    out
}

/// Where `needle` starts in `bytes`.
fn find(bytes: &[u8], needle: &str) -> usize {
    bytes.windows(needle.len()).position(|w| w == needle.as_bytes()).unwrap()
}

fn tracking(d: &Deployment, token: &str, cid: Uuid) -> Tracking {
    let a = d.client().get(&api::tracking_path(&cid), Some(token));
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()
}

#[test]
fn granted_users_open_the_file_byte_for_byte_by_name_group_domain_and_certificate() {
    let d = Deployment::new();
    let _serve = d.start();
    let original = pattern(150_000);
    let file = d.protect("report.docx", &original, OWNER, TEMPLATE_ID);
    let client = d.client();
    let cases = [
        (d.idp.token("alice@contoso.com", &[]), vec!["VIEW", "EDIT"]),
        (d.idp.token("bob@contoso.com", &["Finance"]), vec!["VIEW", "PRINT"]),
        (d.idp.token("carol@FABRIKAM.com", &[]), vec!["VIEW"]),
        (d.idp.sign_es256(&crate::support::oidc::Idp::claims("dave@fabrikam.com", &[])), vec!["VIEW"]),
    ];
    for (token, rights) in &cases {
        let opened = client.open(Some(token), &file).unwrap_or_else(|a| panic!("{}: {}", a.status, a.text()));
        assert_eq!(opened.plaintext, original);
        assert_eq!(&opened.claims.rights, rights);
        assert_eq!(opened.claims.tid.to_string(), TEMPLATE_ID);
        // OfflineAccessDays 7, ValidUntil a year away: offline for 7 days.
        let week = OffsetDateTime::now_utc().unix_timestamp() + 7 * 86_400;
        assert!((opened.claims.offline_until.unwrap() - week).abs() < 120, "{:?}", opened.claims);
        assert!(opened.claims.valid_until.is_some());
    }
    for identity in [d.users_ca.user_email("alice@contoso.com"), d.users_ca.user_upn("alice@contoso.com")] {
        let opened = d.client_with_cert(&identity).open(None, &file).unwrap_or_else(|a| panic!("{}", a.text()));
        assert_eq!(opened.plaintext, original);
        assert_eq!(opened.claims.sub, "alice@contoso.com");
        assert_eq!(opened.claims.rights, ["VIEW", "EDIT"]);
    }
    // Every grant was recorded, with who, what and from where.
    let t = tracking(&d, &d.idp.token(OWNER, &[]), content_id(&file));
    assert_eq!(t.document.owner.as_deref(), Some(OWNER));
    assert_eq!(t.document.original_name, "report.docx");
    let granted: Vec<_> = t.requests.iter().filter(|r| r.decision == Decision::Granted).collect();
    assert_eq!(granted.len(), 6, "{:#?}", t.requests);
    assert!(granted.iter().all(|r| r.action == "license" && r.client_address.starts_with("127.0.0.1:")));
    assert_eq!(granted[1].principal.as_deref(), Some("bob@contoso.com"));
    assert_eq!(granted[1].rights_granted, ["VIEW", "PRINT"]);
    assert_eq!(granted[0].user_agent.as_deref(), Some("fci-connector-tests/1"));
}

#[test]
fn the_owner_gets_owner_an_admin_every_right_and_others_are_refused_and_audited() {
    let d = Deployment::new();
    let _serve = d.start();
    let file = d.protect("plan.xlsx", b"quarterly plan", OWNER, TEMPLATE_ID);
    let client = d.client();
    let owner = client.open(Some(&d.idp.token("Olivia@Contoso.com", &[])), &file).unwrap();
    assert_eq!(owner.claims.rights, ["OWNER"]);
    assert_eq!(owner.plaintext, b"quarterly plan");
    let admin = client.open(Some(&d.idp.token(ADMIN, &[])), &file).unwrap();
    assert_eq!(admin.claims.rights.len(), 14);
    let access = client.post(
        api::ACCESS,
        Some(&d.idp.token("alice@contoso.com", &[])),
        &api::AccessRequest { license: header_of(&file) },
    );
    let access: api::AccessAnswer = access.json();
    assert_eq!((access.rights.as_slice(), access.revoked), (&["VIEW".to_string(), "EDIT".to_string()][..], false));
    assert!(access.offline_until.is_some() && access.valid_until.is_some());
    let mallory = d.idp.token("mallory@evil.example", &["finance-readers"]);
    let denied = client.open(Some(&mallory), &file).unwrap_err();
    let denial = denied.denial();
    assert_eq!((denied.status, denial.error), (403, DenialCode::NotGranted));
    // The access endpoint says the same without releasing anything.
    let access = client.post(api::ACCESS, Some(&mallory), &api::AccessRequest { license: header_of(&file) });
    assert_eq!(access.status, 200, "{}", access.text());
    assert!(access.json::<api::AccessAnswer>().rights.is_empty());
    let t = tracking(&d, &d.idp.token(OWNER, &[]), content_id(&file));
    let refused = t.requests.iter().find(|r| r.principal.as_deref() == Some("mallory@evil.example")).unwrap();
    assert_eq!((refused.decision, refused.code), (Decision::Denied, Some(DenialCode::NotGranted)));
    assert!(refused.rights_granted.is_empty());
    // Tracking and the document list are for the owner and admins only.
    let a = client.get(&api::tracking_path(&content_id(&file)), Some(&mallory));
    assert_eq!(a.denial().error, DenialCode::NotGranted);
    let mine: DocumentPage = client.get(api::DOCUMENTS, Some(&d.idp.token(OWNER, &[]))).json();
    assert_eq!(mine.documents.len(), 1);
    let theirs: DocumentPage = client.get(api::DOCUMENTS, Some(&mallory)).json();
    assert!(theirs.documents.is_empty());
    let all: DocumentPage =
        client.get(&format!("{}?page=1&per_page=10", api::DOCUMENTS), Some(&d.idp.token(ADMIN, &[]))).json();
    assert_eq!((all.documents.len(), all.next_page), (1, None));
}

#[test]
fn an_expired_license_is_refused_with_410() {
    let d = Deployment::new();
    let _serve = d.start();
    // A license whose ValidUntil has passed, made with the library and the template's issuer key.
    let issuer = RecipientKey::read(&d.issuer_pub).unwrap();
    let key = ContentKey::random().unwrap();
    let now = OffsetDateTime::now_utc();
    let plaintext = b"old news".to_vec();
    let license = License {
        content_id: Uuid::new_v4(),
        template_id: Uuid::parse_str(TEMPLATE_ID).unwrap(),
        template_name: "Contoso - Confidential".into(),
        owner: Some(OWNER.into()),
        issued: now - time::Duration::days(30),
        valid_until: Some(now - time::Duration::days(1)),
        offline_days: Some(7),
        original_name: "old.txt".into(),
        original_size: plaintext.len() as u64,
        grants: Vec::new(),
        wraps: vec![KeyWrap {
            key_id: issuer.id.clone(),
            role: "issuer".into(),
            wrapped: issuer.wrap(&key.0).unwrap(),
        }],
        license_server: None,
    };
    let params = SealParams {
        license: &license,
        content_key: &key,
        salt: [7; 32],
        segment_log2: 16,
        notice: container::notice("Contoso - Confidential", "old.txt"),
    };
    let mut sealed = Vec::new();
    container::seal(&params, plaintext.as_slice(), &mut sealed).unwrap();
    let file = d.path().join("data/old.txt");
    std::fs::write(&file, &sealed).unwrap();
    let a = d.client().open(Some(&d.idp.token("alice@contoso.com", &[])), &file).unwrap_err();
    assert_eq!((a.status, a.denial().error), (410, DenialCode::Expired));
}

#[test]
fn a_revoked_file_is_refused_with_451_until_its_owner_lifts_the_revocation() {
    let d = Deployment::new();
    let _serve = d.start();
    let file = d.protect("memo.txt", b"memo", OWNER, TEMPLATE_ID);
    let cid = content_id(&file);
    let client = d.client();
    let alice = d.idp.token("alice@contoso.com", &[]);
    let owner = d.idp.token(OWNER, &[]);
    client.open(Some(&alice), &file).unwrap();
    // Alice may open but not revoke; an unknown content id is 404.
    let a = client.post_empty(&api::revoke_path(&cid), Some(&alice));
    assert_eq!((a.status, a.denial().error), (403, DenialCode::NotGranted));
    let a = client.post_empty(&api::revoke_path(&Uuid::new_v4()), Some(&owner));
    assert_eq!((a.status, a.denial().error), (404, DenialCode::UnknownDocument));
    let a = client.post_empty(&api::revoke_path(&cid), Some(&owner));
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json::<Revocation>(), Revocation { content_id: cid, revoked: true });
    let a = client.open(Some(&alice), &file).unwrap_err();
    assert_eq!((a.status, a.denial().error), (451, DenialCode::Revoked));
    // An admin may lift anyone's revocation.
    let a = client.post_empty(&api::unrevoke_path(&cid), Some(&d.idp.token(ADMIN, &[])));
    assert_eq!(a.json::<Revocation>(), Revocation { content_id: cid, revoked: false });
    assert_eq!(client.open(Some(&alice), &file).unwrap().plaintext, b"memo");
    let actions: Vec<_> = tracking(&d, &owner, cid).requests.iter().map(|r| (r.action.clone(), r.code)).collect();
    assert_eq!(
        actions,
        [
            ("license".to_string(), None),
            ("revoke".to_string(), Some(DenialCode::NotGranted)),
            ("revoke".to_string(), None),
            ("license".to_string(), Some(DenialCode::Revoked)),
            ("unrevoke".to_string(), None),
            ("license".to_string(), None),
        ]
    );
}

#[test]
fn a_swapped_template_id_and_a_garbage_wrap_get_the_same_invalid_license_answer() {
    let d = Deployment::new();
    let _serve = d.start();
    let file = d.protect("secret.txt", b"secret", OWNER, TEMPLATE_ID);
    let header = header_of(&file);
    // mallory@contoso.com has no right under the file's template, but VIEW under the open one.
    let mallory = d.idp.token("mallory@contoso.com", &[]);
    let client = d.client();
    let a = client.post(api::DOCUMENTS, None, &api::RegisterRequest { license: header.clone() });
    assert_eq!(a.status, 200, "{}", a.text());

    let swapped = replace(&header, TEMPLATE_ID, OPEN_TEMPLATE_ID);
    let (swap_answer, _) = client.license(Some(&mallory), swapped);

    let marker = "algorithm=\"RSA-OAEP-SHA256\">";
    let start = find(&header, marker) + marker.len();
    let end = start + find(&header[start..], "</KeyWrap>");
    use base64ct::{Base64, Encoding};
    let mut wrapped = Base64::decode_vec(std::str::from_utf8(&header[start..end]).unwrap()).unwrap();
    wrapped.iter_mut().for_each(|b| *b ^= 0x5a);
    wrapped[0] = 0x01;
    let mut garbage = header.clone();
    garbage[start..end].copy_from_slice(Base64::encode_string(&wrapped).as_bytes());
    let (garbage_answer, _) = client.license(Some(&mallory), garbage);

    for a in [&swap_answer, &garbage_answer] {
        assert_eq!((a.status, a.denial().error), (422, DenialCode::InvalidLicense), "{}", a.text());
    }
    assert_eq!(swap_answer.body, garbage_answer.body);
    // Truncated: the same answer.
    let (truncated, _) = client.license(Some(&mallory), header[..header.len() - 5].to_vec());
    assert_eq!((truncated.status, truncated.body.clone()), (422, swap_answer.body.clone()));
    // A file protected to a key this service does not hold: unknown_template.
    let mut other = util::cmd();
    other.arg("--templates").arg(&d.templates).args(["templates", "create", "--id", util::TEMPLATE_ID]);
    other.args(["--name", "Elsewhere", "--key"]).arg(util::key("issuer.pub.pem")).assert().success();
    let elsewhere = d.protect("elsewhere.txt", b"x", OWNER, util::TEMPLATE_ID);
    let a = client.open(Some(&mallory), &elsewhere).unwrap_err();
    assert_eq!((a.status, a.denial().error), (404, DenialCode::UnknownTemplate));
    // Each refusal is recorded against the content id the license claimed.
    let t = tracking(&d, &d.idp.token(ADMIN, &[]), content_id(&file));
    let codes: Vec<_> = t.requests.iter().map(|r| (r.action.as_str(), r.code)).collect();
    let invalid = ("license", Some(DenialCode::InvalidLicense));
    assert_eq!(codes, [("register", None), invalid, invalid], "{:#?}", t.requests);
}

#[test]
fn bad_tokens_foreign_certificates_and_no_credentials_are_refused_with_401() {
    let d = Deployment::new();
    let _serve = d.start();
    let file = d.protect("a.txt", b"a", OWNER, TEMPLATE_ID);
    let client = d.client();
    // Registered, so that its tracking exists before any request verified.
    let a = client.post(api::DOCUMENTS, None, &api::RegisterRequest { license: header_of(&file) });
    assert_eq!(a.status, 200, "{}", a.text());
    let user = "alice@contoso.com";
    // HS256 keyed with the issuer's public key: the classic algorithm confusion.
    let public_pem = std::fs::read(util::key("stranger.pub.pem")).unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some(crate::support::oidc::RSA_KID.into());
    let claims = crate::support::oidc::Idp::claims(user, &[]);
    let confused = jsonwebtoken::encode(&h, &claims, &jsonwebtoken::EncodingKey::from_secret(&public_pem)).unwrap();
    let tokens = [d.idp.expired(user), d.idp.forged(user), d.idp.alg_none(user), d.idp.wrong_audience(user), confused];
    for token in tokens.into_iter().chain(["junk".to_string()]) {
        let a = client.open(Some(&token), &file).unwrap_err();
        assert_eq!((a.status, a.denial().error), (401, DenialCode::BadToken), "{}", a.text());
        assert!(!a.text().contains(&token), "a denial must not quote the token");
    }
    let a = client.open(None, &file).unwrap_err();
    assert_eq!((a.status, a.denial().error), (401, DenialCode::SignInRequired));
    let foreign = crate::support::pki::Ca::new("Foreign CA").user_email(user);
    let a = d.client_with_cert(&foreign).open(None, &file).unwrap_err();
    assert_eq!((a.status, a.denial().error), (401, DenialCode::BadCertificate), "{}", a.text());
    // All recorded, with the content id the request named and no principal.
    let t = tracking(&d, &d.idp.token(OWNER, &[]), content_id(&file));
    let codes: Vec<_> = t.requests.iter().skip(1).map(|r| (r.principal.clone(), r.code)).collect();
    let mut expected = vec![(None, Some(DenialCode::BadToken)); 6];
    expected.push((None, Some(DenialCode::SignInRequired)));
    expected.push((None, Some(DenialCode::BadCertificate)));
    assert_eq!(codes, expected);
}

#[test]
fn bad_bodies_are_400_and_a_body_over_the_limit_is_413() {
    let d = Deployment::new();
    let _serve = d.start();
    let client = d.client();
    let token = d.idp.token("alice@contoso.com", &[]);
    let a = client.raw("POST", api::LICENSES, Some(&token), None, Some(api::MAX_REQUEST_BODY + 1));
    assert_eq!((a.status, a.denial().error), (413, DenialCode::TooLarge));
    let a = client.raw("POST", api::LICENSES, Some(&token), Some(b"{\"license\": 1}"), None);
    assert_eq!((a.status, a.denial().error), (400, DenialCode::BadRequest));
    let a =
        client.post(api::LICENSES, Some(&token), &api::LicenseRequest { license: vec![1], client_key: vec![2; 31] });
    assert_eq!((a.status, a.denial().error), (400, DenialCode::BadRequest));
    let a = client.get("/v1/nothing-here", Some(&token));
    assert_eq!((a.status, a.denial().error), (400, DenialCode::BadRequest));
    // What needs no sign-in: the signing keys and liveness.
    assert!(!client.signing_keys().keys.is_empty());
    assert_eq!(client.get(api::HEALTH, None).status, 200);
    let a = client.get(api::METRICS, Some(&token));
    assert_eq!((a.status, a.denial().error), (403, DenialCode::NotGranted));
    let a = client.get(api::METRICS, Some(&d.idp.token(ADMIN, &[])));
    assert!(a.text().contains("fci_licensing_denials_total{code=\"too_large\"} 1"), "{}", a.text());
}

#[test]
fn registration_needs_a_verified_license_and_shows_the_document_to_its_owner() {
    let d = Deployment::new();
    let _serve = d.start();
    let file = d.protect("new.docx", b"fresh", OWNER, TEMPLATE_ID);
    let client = d.client();
    let a = client.post(api::DOCUMENTS, None, &api::RegisterRequest { license: header_of(&file) });
    assert_eq!(a.status, 200, "{}", a.text());
    let doc: Document = a.json();
    assert_eq!((doc.content_id, doc.owner.as_deref(), doc.revoked), (content_id(&file), Some(OWNER), false));
    let swapped = replace(&header_of(&file), TEMPLATE_ID, OPEN_TEMPLATE_ID);
    let a = client.post(api::DOCUMENTS, None, &api::RegisterRequest { license: swapped });
    assert_eq!((a.status, a.denial().error), (422, DenialCode::InvalidLicense));
    let page: DocumentPage = client.get(api::DOCUMENTS, Some(&d.idp.token(OWNER, &[]))).json();
    assert_eq!(page.documents, std::slice::from_ref(&doc));
    // Pages, newest first.
    let second = d.protect("newer.docx", b"newer", OWNER, TEMPLATE_ID);
    client.post(api::DOCUMENTS, None, &api::RegisterRequest { license: header_of(&second) });
    let admin = d.idp.token(ADMIN, &[]);
    let first: DocumentPage = client.get(&format!("{}?per_page=1", api::DOCUMENTS), Some(&admin)).json();
    assert_eq!((first.documents[0].content_id, first.next_page), (content_id(&second), Some(2)));
    let last: DocumentPage = client.get(&format!("{}?page=2&per_page=1", api::DOCUMENTS), Some(&admin)).json();
    assert_eq!((last.documents, last.next_page), (vec![doc], None));
    let a = client.get(&format!("{}?page=0", api::DOCUMENTS), Some(&admin));
    assert_eq!(a.denial().error, DenialCode::BadRequest);
}

#[test]
fn a_restart_keeps_every_record_and_revocation() {
    let d = Deployment::new();
    let serve = d.start();
    let file = d.protect("kept.txt", b"kept", OWNER, TEMPLATE_ID);
    let cid = content_id(&file);
    let owner = d.idp.token(OWNER, &[]);
    let client = d.client();
    client.open(Some(&d.idp.token("alice@contoso.com", &[])), &file).unwrap();
    client.open(Some(&d.idp.token("mallory@evil.example", &[])), &file).unwrap_err();
    assert_eq!(client.post_empty(&api::revoke_path(&cid), Some(&owner)).status, 200);
    let before = tracking(&d, &owner, cid);
    serve.stop();
    let _serve = d.start();
    let after = tracking(&d, &owner, cid);
    assert_eq!(after.document, before.document);
    assert!(after.document.revoked);
    // Everything before, plus the tracking request that read it.
    assert_eq!(after.requests[..before.requests.len()], before.requests[..]);
    assert_eq!(after.requests.len(), before.requests.len() + 1);
    let a = client.open(Some(&d.idp.token("alice@contoso.com", &[])), &file).unwrap_err();
    assert_eq!(a.denial().error, DenialCode::Revoked);
}

#[test]
fn an_invalid_config_is_exit_6_naming_file_line_and_column() {
    let d = Deployment::new();
    let text = d.config_text("").replace("audit_retention_days = 365", "audit_retention_days = \"forever\"");
    std::fs::write(&d.config, text).unwrap();
    let a = util::cmd().arg("serve").arg(&d.config).assert().code(6);
    let err = util::stderr(&a);
    assert!(err.contains(&format!("{}:7:24:", d.config.display())), "{err}");
    d.write_config("colour = \"blue\"");
    let err = util::stderr(&util::cmd().arg("serve").arg(&d.config).assert().code(6));
    assert!(err.contains(&format!("{}:8:1:", d.config.display())) && err.contains("unknown field"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let d = Deployment::new();
    std::fs::set_permissions(&d.issuer_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = util::stderr(&util::cmd().arg("serve").arg(&d.config).assert().code(6));
    assert!(err.contains(&d.issuer_key.display().to_string()) && err.contains("0644"), "{err}");
    std::fs::set_permissions(&d.issuer_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let tls_key = d.path().join("tls/server.key");
    std::fs::set_permissions(&tls_key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = util::stderr(&util::cmd().arg("serve").arg(&d.config).assert().code(6));
    assert!(err.contains(&tls_key.display().to_string()) && err.contains("0640"), "{err}");
}

#[test]
fn the_docs_and_the_openapi_file_name_every_path_and_denial_code_with_its_status() {
    let doc = std::fs::read_to_string(util::root().join("docs/SERVICE.md")).unwrap();
    let openapi = std::fs::read_to_string(util::root().join("docs/openapi.yaml")).unwrap();
    let cid = "{content_id}";
    let paths = [
        api::LICENSES.to_string(),
        api::ACCESS.to_string(),
        api::DOCUMENTS.to_string(),
        format!("{}/{cid}/revoke", api::DOCUMENTS),
        format!("{}/{cid}/unrevoke", api::DOCUMENTS),
        format!("{}/{cid}/tracking", api::DOCUMENTS),
        api::SIGNING_KEYS.to_string(),
        api::HEALTH.to_string(),
        api::METRICS.to_string(),
    ];
    // The constructors of api.rs build the paths the docs show.
    assert_eq!(api::revoke_path(&Uuid::nil()), paths[3].replace(cid, &Uuid::nil().to_string()));
    assert_eq!(api::tracking_path(&Uuid::nil()), paths[5].replace(cid, &Uuid::nil().to_string()));
    for path in &paths {
        assert!(doc.contains(&format!(" {path}")), "docs/SERVICE.md does not name {path}");
        assert!(openapi.contains(&format!("  {path}:\n")), "docs/openapi.yaml does not define {path}");
    }
    for code in DenialCode::ALL {
        let row = format!("| {} | `{}` |", code.status(), code.as_str());
        assert!(doc.contains(&row), "docs/SERVICE.md has no row {row}");
        let pair = format!("{} {}", code.as_str(), code.status());
        assert!(openapi.contains(&pair), "docs/openapi.yaml does not say {pair}");
    }
    assert!(doc.contains("\n## The reader\n"), "docs/SERVICE.md keeps the reader's section");
}

/// A plain-HTTP GET on the loopback health port: (status line, body).
fn plain_get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    write!(tcp, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

#[test]
fn the_health_port_serves_liveness_and_metrics_without_sign_in() {
    let d = Deployment::new();
    let health = std::net::SocketAddr::from(([127, 0, 0, 1], crate::support::service::free_port()));
    d.write_config(&format!("health_listen = \"{health}\""));
    let _serve = d.start();
    let file = d.protect("m.txt", b"m", OWNER, TEMPLATE_ID);
    d.client().open(Some(&d.idp.token("alice@contoso.com", &[])), &file).unwrap();
    d.client().open(Some(&d.idp.token("mallory@evil.example", &[])), &file).unwrap_err();
    let (status, body) = plain_get(health, api::HEALTH);
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(body, "ok\n");
    let (status, metrics) = plain_get(health, api::METRICS);
    assert!(status.contains(" 200 "), "{status}");
    for line in [
        "fci_licensing_grants_total 1",
        "fci_licensing_denials_total{code=\"not_granted\"} 1",
        "fci_licensing_denials_total{code=\"revoked\"} 0",
        "fci_licensing_requests_total{endpoint=\"license\"} 2",
        "fci_licensing_request_duration_seconds_count{endpoint=\"license\"} 2",
    ] {
        assert!(metrics.lines().any(|l| l == line), "no {line:?} in:\n{metrics}");
    }
}

#[test]
fn a_principal_over_the_rate_limit_is_refused_with_429() {
    let d = Deployment::new();
    std::fs::write(&d.config, d.config_text("").replace("requests_per_minute = 0", "requests_per_minute = 3")).unwrap();
    let _serve = d.start();
    let file = d.protect("r.txt", b"r", OWNER, TEMPLATE_ID);
    let client = d.client();
    let alice = d.idp.token("alice@contoso.com", &[]);
    // The first three of a minute pass; of seven in a row (at most two one-minute windows), one must be refused.
    let statuses: Vec<u16> =
        (0..7).map(|_| client.open(Some(&alice), &file).map_or_else(|a| a.status, |_| 200)).collect();
    assert_eq!(statuses[..3], [200; 3]);
    assert!(statuses.contains(&429), "{statuses:?}");
    // Another principal is not held back by alice's requests.
    assert!(client.open(Some(&d.idp.token("bob@contoso.com", &["finance"])), &file).is_ok());
}

#[test]
fn a_new_key_in_the_jwks_file_is_read_on_its_first_token_and_at_most_once_a_minute() {
    let d = Deployment::new();
    let _serve = d.start();
    let file = d.protect("k.txt", b"k", OWNER, TEMPLATE_ID);
    let jwks = d.path().join("jwks.json");
    // The identity provider rolls over to a new key after the service started: its first token makes the service
    // read the key set again.
    let (rolled, token) = d.idp.rotated("rolled-1", "alice@contoso.com");
    std::fs::write(&jwks, rolled).unwrap();
    assert_eq!(d.client().open(Some(&token), &file).unwrap().plaintext, b"k");
    // Within the minute, another unknown key id does not make it read the file again.
    let (rolled, token) = d.idp.rotated("rolled-2", "alice@contoso.com");
    std::fs::write(&jwks, rolled).unwrap();
    let a = d.client().open(Some(&token), &file).unwrap_err();
    assert_eq!(a.denial().error, DenialCode::BadToken);
}

#[test]
fn an_edited_template_changes_who_may_open_its_files_without_a_restart() {
    let d = Deployment::new();
    let _serve = d.start();
    let file = d.protect("e.txt", b"edited", OWNER, TEMPLATE_ID);
    let client = d.client();
    let erin = d.idp.token("erin@partner.example", &[]);
    assert_eq!(client.open(Some(&erin), &file).unwrap_err().denial().error, DenialCode::NotGranted);
    // The admin adds a grant (written beside, then renamed over, as an editor saves).
    let path = d.templates.join(format!("{TEMPLATE_ID}.xml"));
    let xml = std::fs::read_to_string(&path).unwrap();
    let edited = xml.replace("<Rights>", "<Rights>\n    <Grant principal=\"erin@partner.example\" rights=\"VIEW\"/>");
    assert_ne!(edited, xml);
    let temp = d.templates.join("edit.tmp");
    std::fs::write(&temp, edited).unwrap();
    std::fs::rename(&temp, &path).unwrap();
    // The service reads the store again within seconds; wait for it, bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let opened = loop {
        match client.open(Some(&erin), &file) {
            Ok(opened) => break opened,
            Err(a) => assert_eq!(a.denial().error, DenialCode::NotGranted),
        }
        assert!(std::time::Instant::now() < deadline, "the edited grant never applied");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(
        (opened.plaintext.as_slice(), opened.claims.rights.as_slice()),
        (&b"edited"[..], &["VIEW".to_string()][..])
    );
}

#[test]
fn records_past_their_retention_are_purged_at_start() {
    let d = Deployment::new();
    let serve = d.start();
    let file = d.protect("p.txt", b"p", OWNER, TEMPLATE_ID);
    let cid = content_id(&file);
    let alice = d.idp.token("alice@contoso.com", &[]);
    d.client().open(Some(&alice), &file).unwrap();
    d.client().open(Some(&alice), &file).unwrap();
    serve.stop();
    // Age the first record beyond the 365 days of retention.
    let db = rusqlite::Connection::open(d.path().join("licensing.db")).unwrap();
    let year_and_a_bit: i64 = 400 * 86_400 * 1_000_000;
    let aged = db
        .execute("UPDATE requests SET time = time - ?1 WHERE id = (SELECT MIN(id) FROM requests)", [year_and_a_bit])
        .unwrap();
    assert_eq!(aged, 1);
    drop(db);
    let _serve = d.start();
    let t = tracking(&d, &d.idp.token(OWNER, &[]), cid);
    let licenses = t.requests.iter().filter(|r| r.action == "license").count();
    assert_eq!(licenses, 1, "{:#?}", t.requests);
}

#[cfg(unix)]
#[test]
fn sigterm_lets_the_request_in_flight_finish_then_stops() {
    let d = Deployment::new();
    let mut serve = d.start();
    let file = d.protect("s.txt", b"in flight", OWNER, TEMPLATE_ID);
    let client = d.client();
    let key = fci_connector::licensing::seal::ClientKey::generate().unwrap();
    let body =
        serde_json::to_vec(&api::LicenseRequest { license: header_of(&file), client_key: key.public_bytes().to_vec() })
            .unwrap();
    // The request is in its handler, reading the body, when the service is told to stop.
    let alice = d.idp.token("alice@contoso.com", &[]);
    let mut pending = client.begin_expecting_continue("POST", api::LICENSES, Some(&alice), body.len());
    pending.await_continue();
    pending.send(&body[..body.len() / 2]).unwrap();
    let pid = serve.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // Wait (bounded) until the service has seen the signal: it logs that it is stopping.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !serve.log_text().contains("stopping") {
        assert!(std::time::Instant::now() < deadline, "no shutdown logged:\n{}", serve.log_text());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The rest of the request is still answered, with a use license.
    pending.send(&body[body.len() / 2..]).unwrap_or_else(|e| panic!("{e}:\n{}", serve.log_text()));
    let a = pending.answer();
    assert_eq!(a.status, 200, "{}", a.text());
    let status = loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "serve did not stop:\n{}", serve.log_text());
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{}", serve.log_text());
    // New connections are refused once it stopped; the granted request was recorded.
    assert!(std::net::TcpStream::connect(d.addr()).is_err());
    let _serve = d.start();
    let t = tracking(&d, &d.idp.token(OWNER, &[]), content_id(&file));
    assert_eq!(t.requests.iter().filter(|r| r.decision == Decision::Granted && r.action == "license").count(), 1);
}

#[test]
fn killing_the_service_under_load_loses_no_record_of_an_answered_request() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let d = Arc::new(Deployment::new());
    let mut serve = d.start();
    let files: Vec<_> =
        (0..3).map(|i| d.protect(&format!("load{i}.txt"), &pattern(1000 + i), OWNER, TEMPLATE_ID)).collect();
    let headers: Arc<Vec<Vec<u8>>> = Arc::new(files.iter().map(|f| header_of(f)).collect());
    let answered = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (d, headers, answered) = (d.clone(), headers.clone(), answered.clone());
            std::thread::spawn(move || {
                let client = d.client();
                let token = d.idp.token("alice@contoso.com", &[]);
                for i in 0..2000 {
                    let key = fci_connector::licensing::seal::ClientKey::generate().unwrap();
                    let request = api::LicenseRequest {
                        license: headers[(w + i) % headers.len()].clone(),
                        client_key: key.public_bytes().to_vec(),
                    };
                    match client.try_post(api::LICENSES, Some(&token), &request) {
                        Ok(a) if a.status == 200 => answered.fetch_add(1, Ordering::SeqCst),
                        Ok(a) => panic!("{}: {}", a.status, a.text()),
                        // The service is gone.
                        Err(_) => break,
                    };
                }
            })
        })
        .collect();
    // Kill it (SIGKILL: no shutdown at all) once it is answering under load.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while answered.load(Ordering::SeqCst) < 40 {
        assert!(std::time::Instant::now() < deadline, "the service answered too little:\n{}", serve.log_text());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    let answered = answered.load(Ordering::SeqCst);
    let _serve = d.start();
    let owner = d.idp.token(OWNER, &[]);
    let recorded: usize = files
        .iter()
        .map(|f| {
            let t = tracking(&d, &owner, content_id(f));
            t.requests.iter().filter(|r| r.action == "license" && r.decision == Decision::Granted).count()
        })
        .sum();
    // Every answered request was recorded before its answer; a request killed between its record and its answer
    // may be recorded without having been answered.
    assert!(recorded >= answered, "{recorded} records for {answered} answered requests");
}

#[test]
fn an_encrypted_issuer_key_opens_with_its_passphrase_from_the_environment_or_a_systemd_credential() {
    let d = Deployment::new();
    d.encrypt_issuer_key("correct horse", "FCI_TEST_ISSUER_PASS");
    let file = d.protect("c.txt", b"credential", OWNER, TEMPLATE_ID);
    let alice = d.idp.token("alice@contoso.com", &[]);
    // No passphrase anywhere: exit 6 naming the variable.
    let mut none = d.serve_command();
    none.env_remove("FCI_TEST_ISSUER_PASS").env_remove("CREDENTIALS_DIRECTORY");
    assert_eq!(none.status().unwrap().code(), Some(6));
    let log = std::fs::read_to_string(d.path().join("serve.log")).unwrap();
    assert!(log.contains("FCI_TEST_ISSUER_PASS"), "{log}");
    // A wrong one: exit 6 naming the key file.
    let mut wrong = d.serve_command();
    wrong.env("FCI_TEST_ISSUER_PASS", "battery staple").env_remove("CREDENTIALS_DIRECTORY");
    assert_eq!(wrong.status().unwrap().code(), Some(6));
    let log = std::fs::read_to_string(d.path().join("serve.log")).unwrap();
    assert!(log.contains(&d.issuer_key.display().to_string()) && log.contains("passphrase"), "{log}");
    // From the environment.
    let mut env = d.serve_command();
    env.env("FCI_TEST_ISSUER_PASS", "correct horse").env_remove("CREDENTIALS_DIRECTORY");
    let serve = d.start_with(env);
    assert_eq!(d.client().open(Some(&alice), &file).unwrap().plaintext, b"credential");
    serve.stop();
    // From a systemd credential (LoadCredential=), the file named like the variable.
    let credentials = d.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    std::fs::write(credentials.join("FCI_TEST_ISSUER_PASS"), "correct horse\n").unwrap();
    let mut cred = d.serve_command();
    cred.env_remove("FCI_TEST_ISSUER_PASS").env("CREDENTIALS_DIRECTORY", &credentials);
    let _serve = d.start_with(cred);
    assert_eq!(d.client().open(Some(&alice), &file).unwrap().plaintext, b"credential");
}
