//! Rights policy templates, the local equivalent of RMS templates: which keys a file is protected to, and the
//! rights, expiry and offline terms written into its license. A template store is a folder of XML files, one
//! template each (docs/TEMPLATES.md). A broken file is reported with its line and cause and does not stop the others
//! from loading.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::keys::RecipientKey;
use crate::error::Setting;
use crate::xml::{self, Element, XmlError};
use crate::{Error, ExitClass};

/// XML namespace of template files.
pub const NAMESPACE: &str = "urn:fci-connector:template:1";

/// A right from the RMS vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Right {
    View,
    Edit,
    DocEdit,
    Print,
    Extract,
    Export,
    Comment,
    Forward,
    Reply,
    ReplyAll,
    ViewRightsData,
    EditRightsData,
    ObjModel,
    Owner,
}

impl Right {
    const ALL: [(Right, &'static str); 14] = [
        (Right::View, "VIEW"),
        (Right::Edit, "EDIT"),
        (Right::DocEdit, "DOCEDIT"),
        (Right::Print, "PRINT"),
        (Right::Extract, "EXTRACT"),
        (Right::Export, "EXPORT"),
        (Right::Comment, "COMMENT"),
        (Right::Forward, "FORWARD"),
        (Right::Reply, "REPLY"),
        (Right::ReplyAll, "REPLYALL"),
        (Right::ViewRightsData, "VIEWRIGHTSDATA"),
        (Right::EditRightsData, "EDITRIGHTSDATA"),
        (Right::ObjModel, "OBJMODEL"),
        (Right::Owner, "OWNER"),
    ];

    /// The RMS name, e.g. `VIEW`.
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(r, _)| *r == self).map_or("", |(_, s)| s)
    }
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Right {
    type Err = GrantError;
    fn from_str(s: &str) -> Result<Self, GrantError> {
        let wanted = s.trim();
        Self::ALL
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(wanted))
            .map(|(r, _)| *r)
            .ok_or_else(|| GrantError::UnknownRight(wanted.to_string()))
    }
}

/// What is wrong with a grant as written (`principal=RIGHT,RIGHT`, or a `<Grant>` element's attributes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("unknown right {0:?} (known: {known})", known = known_rights())]
    UnknownRight(String),
    #[error("grant {0:?}: expected <principal>=<RIGHT>[,<RIGHT>...]")]
    NotAnAssignment(String),
    #[error("grant with an empty principal")]
    EmptyPrincipal,
    #[error("grant to {0} lists no rights")]
    NoRights(String),
}

fn known_rights() -> String {
    Right::ALL.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
}

/// A text that is not a template id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a template id (a GUID such as e6ee2481-26b9-45e5-b34a-f744eacd53b0)")]
pub struct NotATemplateId(pub String);

/// Rights granted to one principal (a user, group or domain, as the admin writes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub principal: String,
    pub rights: Vec<Right>,
}

impl Grant {
    /// Parse `principal=VIEW,EDIT` (the `--grant` form).
    pub fn parse_assignment(s: &str) -> Result<Grant, GrantError> {
        let (principal, rights) = s.rsplit_once('=').ok_or_else(|| GrantError::NotAnAssignment(s.to_string()))?;
        Grant::new(principal, rights)
    }

    /// A grant from a principal and a comma-separated rights list.
    pub fn new(principal: &str, rights: &str) -> Result<Grant, GrantError> {
        let principal = principal.trim();
        if principal.is_empty() {
            return Err(GrantError::EmptyPrincipal);
        }
        let mut parsed =
            rights.split(',').filter(|r| !r.trim().is_empty()).map(Right::from_str).collect::<Result<Vec<_>, _>>()?;
        if parsed.is_empty() {
            return Err(GrantError::NoRights(principal.to_string()));
        }
        parsed.sort();
        parsed.dedup();
        Ok(Grant { principal: principal.to_string(), rights: parsed })
    }

    /// Rights as `VIEW,EDIT`.
    pub fn rights_list(&self) -> String {
        self.rights.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// The grants of a `<Rights>` element (templates and licenses share it); none when it is absent.
pub fn parse_rights(rights: Option<&Element>) -> Result<Vec<Grant>, XmlError> {
    let Some(rights) = rights else { return Ok(Vec::new()) };
    rights.reject_unknown_children(&["Grant"])?;
    rights
        .children
        .iter()
        .map(|g| {
            Grant::new(g.required_attr("principal")?, g.required_attr("rights")?).map_err(|e| g.error(e.to_string()))
        })
        .collect()
}

/// `grants` as a `<Rights>` element at two spaces' indent, as templates and licenses write it.
pub fn rights_xml(grants: &[Grant]) -> String {
    let mut out = String::from("  <Rights>\n");
    for g in grants {
        out +=
            &format!("    <Grant principal=\"{}\" rights=\"{}\"/>\n", xml::escape_attr(&g.principal), g.rights_list());
    }
    out + "  </Rights>\n"
}

/// When protected content stops being usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    Never,
    OnDate(Date),
    DaysAfterProtection(u32),
}

impl Expiry {
    /// The expiry instant for content protected at `issued`, if any.
    pub fn valid_until(self, issued: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            Expiry::Never => None,
            Expiry::OnDate(date) => Some(date.with_hms(23, 59, 59).ok()?.assume_utc()),
            Expiry::DaysAfterProtection(days) => issued.checked_add(time::Duration::days(i64::from(days))),
        }
    }
}

/// A canonical template id: parsed from a GUID with or without braces, in any case.
pub fn parse_id(s: &str) -> Result<Uuid, NotATemplateId> {
    let t = s.trim();
    let inner = t.strip_prefix('{').and_then(|x| x.strip_suffix('}')).unwrap_or(t);
    if inner.len() != 36 {
        return Err(NotATemplateId(s.to_string()));
    }
    Uuid::parse_str(inner).map_err(|_| NotATemplateId(s.to_string()))
}

/// Why a licensing service URL was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LicenseServerUrlError {
    #[error("licensing service URL {0:?} is not https:// (the service is reached over TLS only)")]
    NotHttps(String),
    #[error("licensing service URL {0:?} names no host")]
    NoHost(String),
    #[error("licensing service URL {0:?} has user information (user@host); credentials never go into a template")]
    UserInfo(String),
    #[error("licensing service URL {0:?} has a fragment (#...) or a query (?...); give the service's base URL")]
    FragmentOrQuery(String),
    #[error("licensing service URL {0:?} has a space or a control character")]
    BadCharacter(String),
    #[error("licensing service URL {0:?} has an invalid host or port")]
    BadAuthority(String),
}

/// Check a licensing service URL (a template's `<LicenseServer url>`, a license's copy of it): absolute `https://`,
/// a host (and optional port), no user information, no query or fragment. Returned as given (trimmed), so the
/// license records exactly what the template says.
pub fn check_license_server_url(url: &str) -> Result<String, LicenseServerUrlError> {
    let url = url.trim();
    let err = |f: fn(String) -> LicenseServerUrlError| Err(f(url.to_string()));
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err(LicenseServerUrlError::BadCharacter);
    }
    let Some(rest) = url.get(..8).filter(|scheme| scheme.eq_ignore_ascii_case("https://")).map(|_| &url[8..]) else {
        return err(LicenseServerUrlError::NotHttps);
    };
    if rest.contains(['#', '?']) {
        return err(LicenseServerUrlError::FragmentOrQuery);
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return err(LicenseServerUrlError::UserInfo);
    }
    if authority.is_empty() {
        return err(LicenseServerUrlError::NoHost);
    }
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 literal: [::1]:8443
        Some(v6) => match v6.split_once(']') {
            Some((addr, after)) if addr.parse::<std::net::Ipv6Addr>().is_ok() => ("v6", after.strip_prefix(':')),
            _ => return err(LicenseServerUrlError::BadAuthority),
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if !host_ok || !port_ok {
        return err(LicenseServerUrlError::BadAuthority);
    }
    Ok(url.to_string())
}

/// A template's licensing service: its URL goes into every license; with `register`, `protect` tells the service
/// about each file it protects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseServer {
    pub url: String,
    pub register: bool,
}

/// One template, loaded and with its keys parsed.
#[derive(Clone, Debug)]
pub struct Template {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub grants: Vec<Grant>,
    pub expiry: Expiry,
    pub offline_days: Option<u32>,
    /// `<LicenseServer>`: where readers get use licenses for files protected with this template.
    pub license_server: Option<LicenseServer>,
    pub issuer: RecipientKey,
    pub recovery: Vec<RecipientKey>,
    /// The file it was read from.
    pub source: PathBuf,
}

impl Template {
    /// All recipients: the issuer key first, then the recovery keys.
    pub fn recipients(&self) -> impl Iterator<Item = (&RecipientKey, &'static str)> {
        std::iter::once((&self.issuer, "issuer")).chain(self.recovery.iter().map(|k| (k, "recovery")))
    }

    /// Parse a template file's text. Key paths are relative to `source`'s folder.
    pub fn parse(text: &str, source: &Path) -> Result<Template, XmlError> {
        let root = xml::parse(text)?;
        if root.name != "Template" {
            return Err(
                root.error(format!("the root element is <{}>; a template file starts with <Template>", root.name))
            );
        }
        root.reject_unknown_children(&[
            "Id",
            "Name",
            "Description",
            "Rights",
            "ContentExpiry",
            "OfflineAccessDays",
            "LicenseServer",
            "IssuerKey",
            "RecoveryKey",
        ])?;
        let id_el = root.single_child("Id")?.ok_or_else(|| root.error("<Template> needs an <Id> element"))?;
        let id = parse_id(&id_el.text).map_err(|e| id_el.error(e.to_string()))?;
        let name = root.required_single_child_text("Name")?.to_string();
        if name.is_empty() {
            return Err(root.error("<Name> is empty"));
        }
        let description = root.single_child_text("Description")?.unwrap_or_default().to_string();
        let grants = parse_rights(root.single_child("Rights")?)?;
        let expiry = match root.single_child("ContentExpiry")? {
            None => Expiry::Never,
            Some(el) => parse_expiry(el)?,
        };
        let offline_days = match root.single_child("OfflineAccessDays")? {
            None => None,
            Some(el) => Some(
                el.text
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| el.error("<OfflineAccessDays> must be a whole number of days"))?,
            ),
        };
        let license_server = root.single_child("LicenseServer")?.map(parse_license_server).transpose()?;
        let base = source.parent().unwrap_or(Path::new("."));
        let issuer_el = root.single_child("IssuerKey")?.ok_or_else(|| root.error("<Template> needs an <IssuerKey>"))?;
        let issuer = read_key(issuer_el, base)?;
        let recovery =
            root.children_named("RecoveryKey").map(|el| read_key(el, base)).collect::<Result<Vec<_>, _>>()?;
        Ok(Template {
            id,
            name,
            description,
            grants,
            expiry,
            offline_days,
            license_server,
            issuer,
            recovery,
            source: source.to_path_buf(),
        })
    }

    /// The template as XML, keys inline, so the file stands on its own.
    pub fn to_xml(&self, issuer_pem: &str, recovery_pems: &[String]) -> String {
        let esc = xml::escape;
        let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Template xmlns=\"{NAMESPACE}\">\n");
        out += &format!("  <Id>{}</Id>\n  <Name>{}</Name>\n", self.id, esc(&self.name));
        if !self.description.is_empty() {
            out += &format!("  <Description>{}</Description>\n", esc(&self.description));
        }
        if !self.grants.is_empty() {
            out += &rights_xml(&self.grants);
        }
        match self.expiry {
            Expiry::Never => {}
            Expiry::OnDate(d) => out += &format!("  <ContentExpiry date=\"{d}\"/>\n"),
            Expiry::DaysAfterProtection(n) => out += &format!("  <ContentExpiry days=\"{n}\"/>\n"),
        }
        if let Some(days) = self.offline_days {
            out += &format!("  <OfflineAccessDays>{days}</OfflineAccessDays>\n");
        }
        if let Some(server) = &self.license_server {
            let register = if server.register { " register=\"true\"" } else { "" };
            out += &format!("  <LicenseServer url=\"{}\"{register}/>\n", xml::escape_attr(&server.url));
        }
        out += &format!("  <IssuerKey>\n{}\n  </IssuerKey>\n", issuer_pem.trim());
        for pem in recovery_pems {
            out += &format!("  <RecoveryKey>\n{}\n  </RecoveryKey>\n", pem.trim());
        }
        out + "</Template>\n"
    }
}

fn parse_expiry(el: &Element) -> Result<Expiry, XmlError> {
    match (el.attr("date"), el.attr("days")) {
        (Some(date), None) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Date::parse(date.trim(), format)
                .map(Expiry::OnDate)
                .map_err(|_| el.error(format!("ContentExpiry date {date:?} is not a date like 2027-12-31")))
        }
        (None, Some(days)) => days
            .trim()
            .parse::<u32>()
            .map(Expiry::DaysAfterProtection)
            .map_err(|_| el.error(format!("ContentExpiry days {days:?} is not a whole number"))),
        _ => Err(el.error("<ContentExpiry> takes either date=\"YYYY-MM-DD\" or days=\"N\"")),
    }
}

/// `<LicenseServer url="https://…" register="true|false"/>`.
fn parse_license_server(el: &Element) -> Result<LicenseServer, XmlError> {
    if let Some((name, _)) = el.attributes.iter().find(|(k, _)| k != "url" && k != "register") {
        return Err(el.error(format!("<LicenseServer> has no attribute {name} (it takes url and register)")));
    }
    if !el.children.is_empty() || !el.text.trim().is_empty() {
        return Err(el.error("<LicenseServer> takes no content: <LicenseServer url=\"https://…\"/>"));
    }
    let url = check_license_server_url(el.required_attr("url")?).map_err(|e| el.error(e.to_string()))?;
    let register = match el.attr("register").map(str::trim) {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(el.error(format!("<LicenseServer> register={other:?}: expected \"true\" or \"false\"")));
        }
    };
    Ok(LicenseServer { url, register })
}

/// A key element: `path="..."` relative to the template file, or inline PEM text.
fn read_key(el: &Element, base: &Path) -> Result<RecipientKey, XmlError> {
    match el.attr("path") {
        Some(rel) => {
            let path = base.join(rel);
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| el.error(format!("cannot read key file {}: {e}", path.display())))?;
            RecipientKey::from_pem(&pem, &path.display().to_string()).map_err(|e| el.error(e.to_string()))
        }
        None if el.text.trim().is_empty() => {
            Err(el.error(format!("<{}> needs path=\"...\" or an inline PEM public key", el.name)))
        }
        None => RecipientKey::from_pem(&el.text, &format!("inline <{}>", el.name)).map_err(|e| el.error(e.to_string())),
    }
}

/// All templates of a store folder, and the problems found on the way.
#[derive(Debug, Default)]
pub struct TemplateStore {
    pub dir: PathBuf,
    pub templates: Vec<Template>,
    /// `file:line:col: message` for every file that could not be used.
    pub problems: Vec<String>,
    /// Ids defined by more than one file: unusable until the admin resolves it.
    ambiguous: Vec<(Uuid, Vec<PathBuf>)>,
}

impl TemplateStore {
    /// Load every `*.xml` file of `dir`, in file-name order.
    pub fn load(dir: &Path) -> Result<TemplateStore, Error> {
        // Its keys receive every content key: nobody but its owner and the administrators may change it.
        crate::locate::check_trusted(dir, "template store")?;
        // A missing or unreadable store is a configuration problem (exit 6), whatever the I/O error.
        let entries = std::fs::read_dir(dir).map_err(|e| {
            let detail = format!("cannot read the template store {}: {e}", dir.display());
            Error::fixed_by(ExitClass::Config, detail, Setting::TemplateStore, " (set the template store folder)")
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")) && p.is_file())
            .collect();
        files.sort();
        let mut store = TemplateStore { dir: dir.to_path_buf(), ..Default::default() };
        for file in files {
            let text = match read_text(&file) {
                Ok(t) => t,
                Err(m) => {
                    store.problems.push(format!("{}: {m}", file.display()));
                    continue;
                }
            };
            match Template::parse(&text, &file) {
                Ok(t) => store.add(t),
                Err(e) => store.problems.push(format!("{}:{e}", file.display())),
            }
        }
        Ok(store)
    }

    fn add(&mut self, template: Template) {
        if let Some(first) = self.templates.iter().find(|t| t.id == template.id) {
            self.problems.push(format!(
                "{}: template id {} is also defined in {}; neither is used until one is removed",
                template.source.display(),
                template.id,
                first.source.display()
            ));
            let sources = vec![first.source.clone(), template.source];
            self.ambiguous.push((template.id, sources));
            return;
        }
        self.templates.push(template);
    }

    /// The template a protection policy line of the rule files names: its GUID (any spelling) or its exact name.
    /// Every failure is a rule-file problem ([`ExitClass::Config`]): an unknown template, a name two templates
    /// share (both files are named), an id defined twice.
    pub fn resolve_policy(&self, id_or_name: &str) -> Result<&Template, Error> {
        let config = |e: Error| Error::new(ExitClass::Config, e.to_string());
        if parse_id(id_or_name).is_ok() {
            return self.get(id_or_name).map_err(config);
        }
        let named: Vec<&Template> = self.templates.iter().filter(|t| t.name == id_or_name).collect();
        match named.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::new(
                ExitClass::Config,
                format!(
                    "template \"{id_or_name}\" is neither the id nor the exact name of a template in the template store {}",
                    self.dir.display()
                ),
            )),
            several => {
                let files: Vec<String> = several.iter().map(|t| format!("{} ({})", t.source.display(), t.id)).collect();
                Err(Error::new(
                    ExitClass::Config,
                    format!(
                        "template name \"{id_or_name}\" is shared by {} templates: {}; name the template by its id",
                        several.len(),
                        files.join(", ")
                    ),
                ))
            }
        }
    }

    /// The template with `id` (any GUID spelling). Unknown or ambiguous ids are [`ExitClass::Template`] errors.
    pub fn get(&self, id: &str) -> Result<&Template, Error> {
        let uuid = parse_id(id).map_err(|e| Error::new(ExitClass::Usage, e.to_string()))?;
        if let Some((_, files)) = self.ambiguous.iter().find(|(a, _)| *a == uuid) {
            let files: Vec<_> = files.iter().map(|f| f.display().to_string()).collect();
            return Err(Error::new(
                ExitClass::Template,
                format!("template {uuid} is defined twice ({})", files.join(", ")),
            ));
        }
        self.templates.iter().find(|t| t.id == uuid).ok_or_else(|| {
            let mut msg = format!("template {uuid} is not in the template store {}", self.dir.display());
            if !self.problems.is_empty() {
                msg += &format!(
                    "; {} template file(s) could not be read: {}",
                    self.problems.len(),
                    self.problems.join("; ")
                );
            }
            Error::new(ExitClass::Template, msg)
        })
    }
}

/// Read a template file as text: UTF-8, or UTF-16 with a byte-order mark (as Windows tools often save XML).
fn read_text(path: &Path) -> Result<String, TextError> {
    let bytes = std::fs::read(path).map_err(TextError::Read)?;
    let utf16 = |bytes: &[u8], le: bool| {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect();
        String::from_utf16(&units).map_err(|_| TextError::Utf16)
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        _ => String::from_utf8(bytes).map_err(|e| TextError::Utf8 { at: e.utf8_error().valid_up_to() }),
    }
}

/// Why a template file could not be read as text.
#[derive(Debug, thiserror::Error)]
enum TextError {
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("invalid UTF-16 text")]
    Utf16,
    #[error("not UTF-8 text (byte {at})")]
    Utf8 { at: usize },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_any_spelling() {
        let a = parse_id("e6ee2481-26b9-45e5-b34a-f744eacd53b0").unwrap();
        assert_eq!(parse_id("{E6EE2481-26B9-45E5-B34A-F744EACD53B0}").unwrap(), a);
        assert!(parse_id("e6ee2481").is_err());
        assert!(parse_id("urn:uuid:e6ee2481-26b9-45e5-b34a-f744eacd53b0").is_err());
    }

    #[test]
    fn grants_parse_and_normalise() {
        let g = Grant::parse_assignment("finance@contoso.com=edit, view,VIEW").unwrap();
        assert_eq!(g.principal, "finance@contoso.com");
        assert_eq!(g.rights_list(), "VIEW,EDIT");
        assert!(Grant::parse_assignment("x=FLY").unwrap_err().to_string().contains("unknown right"));
        assert!(Grant::parse_assignment("noequals").is_err());
    }

    #[test]
    fn license_server_urls() {
        for good in
            ["https://rms.contoso.com/", "HTTPS://rms.contoso.com", "https://127.0.0.1:8443/rms/", "https://[::1]:443/"]
        {
            assert_eq!(check_license_server_url(good).as_deref(), Ok(good), "{good}");
        }
        let bad = [
            ("http://rms.contoso.com/", "not https"),
            ("rms.contoso.com", "not https"),
            ("https:///x", "no host"),
            ("https://user:pw@rms.contoso.com/", "user information"),
            ("https://rms.contoso.com/#x", "fragment"),
            ("https://rms.contoso.com/?a=1", "query"),
            ("https://rms contoso.com/", "space"),
            ("https://rms.contoso.com:99999/", "invalid host or port"),
            ("https://rms..contoso.com/", "invalid host or port"),
            ("https://[nothex]/", "invalid host or port"),
        ];
        for (url, why) in bad {
            let e = check_license_server_url(url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn expiry_instants() {
        let issued = time::macros::datetime!(2026-01-01 12:00 UTC);
        assert_eq!(
            Expiry::DaysAfterProtection(30).valid_until(issued),
            Some(time::macros::datetime!(2026-01-31 12:00 UTC))
        );
        assert_eq!(Expiry::Never.valid_until(issued), None);
    }
}
