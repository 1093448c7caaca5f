//! The license block: the cleartext, MAC-authenticated XML that says what the file is, who protected it with
//! which template and rights, until when, and holds the content key wrapped to each recipient key.

use base64ct::{Base64, Encoding};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::protect::templates::{Grant, check_license_server_url, parse_rights, rights_xml};
use crate::xml::{self, Element, XmlError};

/// XML namespace of licenses.
pub const NAMESPACE: &str = "urn:fci-connector:license:1";
/// Most key wraps (recipients) a license may hold. Templates have an issuer and a few recovery keys; a license with
/// thousands would make every `unprotect` try each of them (one RSA decryption apiece), so more is refused before any
/// is decoded or tried.
pub const MAX_WRAPS: usize = 64;
/// The only key-wrap algorithm of format v1.
pub const WRAP_ALGORITHM: &str = "RSA-OAEP-SHA256";

/// The content key wrapped to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyWrap {
    /// SHA-256 of the recipient's SubjectPublicKeyInfo, lower-case hex.
    pub key_id: String,
    /// `issuer` or `recovery`.
    pub role: String,
    pub wrapped: Vec<u8>,
}

/// Everything the license says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct License {
    pub content_id: Uuid,
    pub template_id: Uuid,
    pub template_name: String,
    pub owner: Option<String>,
    pub issued: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    pub offline_days: Option<u32>,
    /// The template's licensing service URL (`<LicenseServer url>`), when it names one. A license with it is
    /// written in format 1.1, one without it in 1.0 (docs/FORMAT.md, "Versions").
    pub license_server: Option<String>,
    pub original_name: String,
    pub original_size: u64,
    pub grants: Vec<Grant>,
    pub wraps: Vec<KeyWrap>,
}

/// `t` as RFC 3339, to the second (UTC when `t` is).
pub(crate) fn timestamp(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0).unwrap_or(t).format(&Rfc3339).unwrap_or_default()
}

fn parse_time(el: &Element) -> Result<OffsetDateTime, XmlError> {
    OffsetDateTime::parse(el.text.trim(), &Rfc3339)
        .map_err(|_| el.error(format!("<{}> is not an RFC 3339 time", el.name)))
}

impl License {
    /// `issued` formatted as the license stores it.
    pub fn issued_text(&self) -> String {
        timestamp(self.issued)
    }

    /// `valid_until` formatted as the license stores it.
    pub fn valid_until_text(&self) -> Option<String> {
        self.valid_until.map(timestamp)
    }

    /// The license as UTF-8 XML. Deterministic: the same license gives the same bytes (test vectors rely on it).
    pub fn to_xml(&self) -> String {
        let esc = xml::escape;
        let mut out =
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<License xmlns=\"{NAMESPACE}\" version=\"1\">\n");
        out += &format!("  <ContentId>{}</ContentId>\n", self.content_id);
        out +=
            &format!("  <Template id=\"{}\" name=\"{}\"/>\n", self.template_id, xml::escape_attr(&self.template_name));
        if let Some(owner) = &self.owner {
            out += &format!("  <Owner>{}</Owner>\n", esc(owner));
        }
        out += &format!("  <Issued>{}</Issued>\n", self.issued_text());
        if let Some(until) = self.valid_until_text() {
            out += &format!("  <ValidUntil>{until}</ValidUntil>\n");
        }
        if let Some(days) = self.offline_days {
            out += &format!("  <OfflineAccessDays>{days}</OfflineAccessDays>\n");
        }
        if let Some(url) = &self.license_server {
            out += &format!("  <LicenseServer url=\"{}\"/>\n", xml::escape_attr(url));
        }
        out += &format!(
            "  <OriginalFile name=\"{}\" size=\"{}\"/>\n",
            xml::escape_attr(&self.original_name),
            self.original_size
        );
        out += &rights_xml(&self.grants);
        out += "  <KeyWraps>\n";
        for w in &self.wraps {
            out += &format!(
                "    <KeyWrap keyId=\"{}\" role=\"{}\" algorithm=\"{WRAP_ALGORITHM}\">{}</KeyWrap>\n",
                w.key_id,
                xml::escape_attr(&w.role),
                Base64::encode_string(&w.wrapped)
            );
        }
        out + "  </KeyWraps>\n</License>\n"
    }

    /// Parse a license. Unknown elements are errors: a reader must not skip over terms it does not understand.
    pub fn parse(text: &str) -> Result<License, XmlError> {
        // Counted before the XML is even parsed: a hostile license is refused in microseconds, whatever its size.
        let wraps = text.matches("<KeyWrap ").count();
        if wraps > MAX_WRAPS {
            let message = format!("the license has {wraps} key wraps; at most {MAX_WRAPS} are accepted");
            return Err(XmlError::new(1, 1, message));
        }
        let root = xml::parse(text)?;
        if root.name != "License" {
            return Err(root.error(format!("root element <{}> is not <License>", root.name)));
        }
        if root.attr("version") != Some("1") {
            return Err(root.error("unsupported license version (this build reads version 1)"));
        }
        root.reject_unknown_children(&[
            "ContentId",
            "Template",
            "Owner",
            "Issued",
            "ValidUntil",
            "OfflineAccessDays",
            "LicenseServer",
            "OriginalFile",
            "Rights",
            "KeyWraps",
        ])?;
        let uuid = |el: &Element, text: &str| {
            Uuid::parse_str(text.trim()).map_err(|_| el.error(format!("<{}> is not a GUID", el.name)))
        };
        let content_el = root.single_child("ContentId")?.ok_or_else(|| root.error("no <ContentId>"))?;
        let template = root.single_child("Template")?.ok_or_else(|| root.error("no <Template>"))?;
        let issued = root.single_child("Issued")?.ok_or_else(|| root.error("no <Issued>"))?;
        let original = root.single_child("OriginalFile")?.ok_or_else(|| root.error("no <OriginalFile>"))?;
        let original_size = original.required_attr("size")?;
        let grants = parse_rights(root.single_child("Rights")?)?;
        let mut wraps = Vec::new();
        if let Some(list) = root.single_child("KeyWraps")? {
            list.reject_unknown_children(&["KeyWrap"])?;
            if list.children.len() > MAX_WRAPS {
                return Err(list.error(format!(
                    "the license has {} key wraps; at most {MAX_WRAPS} are accepted",
                    list.children.len()
                )));
            }
            for w in &list.children {
                if w.required_attr("algorithm")? != WRAP_ALGORITHM {
                    return Err(w.error(format!("unsupported key-wrap algorithm (expected {WRAP_ALGORITHM})")));
                }
                let wrapped = Base64::decode_vec(w.text.trim()).map_err(|_| w.error("<KeyWrap> is not base64"))?;
                wraps.push(KeyWrap {
                    key_id: w.required_attr("keyId")?.to_string(),
                    role: w.required_attr("role")?.to_string(),
                    wrapped,
                });
            }
        }
        if wraps.is_empty() {
            return Err(root.error("the license has no <KeyWrap>: nobody could open this file"));
        }
        Ok(License {
            content_id: uuid(content_el, &content_el.text)?,
            template_id: uuid(template, template.required_attr("id")?)?,
            template_name: template.required_attr("name")?.to_string(),
            owner: root.single_child_text("Owner")?.map(str::to_string),
            issued: parse_time(issued)?,
            valid_until: root.single_child("ValidUntil")?.map(parse_time).transpose()?,
            offline_days: match root.single_child("OfflineAccessDays")? {
                Some(el) => Some(el.text.trim().parse().map_err(|_| el.error("<OfflineAccessDays> is not a number"))?),
                None => None,
            },
            license_server: match root.single_child("LicenseServer")? {
                Some(el) => {
                    Some(check_license_server_url(el.required_attr("url")?).map_err(|e| el.error(e.to_string()))?)
                }
                None => None,
            },
            original_name: original.required_attr("name")?.to_string(),
            original_size: original_size
                .trim()
                .parse()
                .map_err(|_| original.error("OriginalFile size is not a number"))?,
            grants,
            wraps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_round_trip() {
        let license = License {
            content_id: Uuid::from_u128(1),
            template_id: Uuid::from_u128(2),
            template_name: "A & B <confidential>".into(),
            owner: Some("o'brien@contoso.com".into()),
            issued: time::macros::datetime!(2026-11-28 10:00:00 UTC),
            valid_until: Some(time::macros::datetime!(2027-11-28 10:00:00 UTC)),
            offline_days: Some(7),
            license_server: Some("https://rms.contoso.com/a&b/".into()),
            original_name: "Q3 \"final\".docx".into(),
            original_size: 12345,
            grants: vec![Grant::parse_assignment("finance@contoso.com=VIEW,EDIT").unwrap()],
            wraps: vec![KeyWrap { key_id: "ab".repeat(32), role: "issuer".into(), wrapped: vec![1, 2, 3] }],
        };
        assert_eq!(License::parse(&license.to_xml()).unwrap(), license);
    }

    #[test]
    fn too_many_key_wraps_are_refused_with_the_count() {
        let mut license = License {
            content_id: Uuid::from_u128(1),
            template_id: Uuid::from_u128(2),
            template_name: "T".into(),
            owner: None,
            issued: time::macros::datetime!(2026-11-28 10:00:00 UTC),
            valid_until: None,
            offline_days: None,
            license_server: None,
            original_name: "a.txt".into(),
            original_size: 1,
            grants: Vec::new(),
            wraps: vec![KeyWrap { key_id: "ab".repeat(32), role: "recovery".into(), wrapped: vec![1] }; MAX_WRAPS],
        };
        assert!(License::parse(&license.to_xml()).is_ok());
        license.wraps.push(license.wraps[0].clone());
        let e = License::parse(&license.to_xml()).unwrap_err().to_string();
        assert!(e.contains(&format!("{} key wraps", MAX_WRAPS + 1)), "{e}");
    }
}
