//! Reading the parts of Microsoft rights management metadata that identify a protection: the publishing
//! license (XrML, UTF-8 or UTF-16; the first XrML document of the chain is the issuance license) and the
//! XMP packet with MSIP sensitivity labels.

use encoding_rs::{UTF_8, UTF_16BE, UTF_16LE};
use quick_xml::Reader;
use quick_xml::events::Event;

use super::{ForeignProtection, Label};

/// Deeper XML is not a license; stop there.
const MAX_DEPTH: usize = 64;

/// Decode license bytes: UTF-16 (with or without BOM) or UTF-8.
fn decode(bytes: &[u8]) -> String {
    let encoding = match bytes {
        [0xFF, 0xFE, ..] | [_, 0, ..] => UTF_16LE,
        [0xFE, 0xFF, ..] | [0, _, ..] => UTF_16BE,
        _ => UTF_8,
    };
    encoding.decode_with_bom_removal(bytes).0.into_owned()
}

/// Fill `found` with what the publishing license names: template, issuer, owner, content id, issue time.
pub(super) fn apply_license(bytes: &[u8], found: &mut ForeignProtection) {
    let text = decode(bytes);
    // The license is followed by the certificate chain; only the first document matters.
    let Some(start) = text.find("<XrML") else {
        return;
    };
    let end = text[start..].find("</XrML>").map_or(text.len(), |e| start + e + "</XrML>".len());
    let mut reader = Reader::from_str(&text[start..end]);
    let mut path: Vec<String> = Vec::new();
    let mut template_names = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if path.len() >= MAX_DEPTH {
                    break;
                }
                path.push(e.local_name().as_ref().to_owned());
            }
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::Text(t)) => {
                let value = t.xml10_content().trim().to_string();
                if value.is_empty() {
                    continue;
                }
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                let slot = match names.as_slice() {
                    ["XrML", "BODY", "DESCRIPTOR", "OBJECT", "ID"] => &mut found.template_id,
                    ["XrML", "BODY", "DESCRIPTOR", "OBJECT", "NAME"] => &mut template_names,
                    ["XrML", "BODY", "ISSUER", "OBJECT", "NAME"] => &mut found.issuer,
                    ["XrML", "BODY", "ISSUER", "OBJECT", "ADDRESS"] => &mut found.issuer_address,
                    ["XrML", "BODY", "WORK", "OBJECT", "ID"] => &mut found.content_id,
                    ["XrML", "BODY", "WORK", "METADATA", "OWNER", "OBJECT", "NAME"] => &mut found.owner,
                    ["XrML", "BODY", "ISSUEDTIME"] => &mut found.issued,
                    _ => continue,
                };
                slot.get_or_insert(value);
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    found.template_id = found.template_id.take().map(|id| guid(&id));
    found.content_id = found.content_id.take().map(|id| guid(&id));
    if let Some((name, description)) = template_names.as_deref().and_then(template_name) {
        found.template_name = Some(name);
        found.template_description = description;
    }
}

/// GUIDs are written with and without braces, in either case; report them one way.
fn guid(raw: &str) -> String {
    raw.trim().trim_start_matches('{').trim_end_matches('}').to_ascii_lowercase()
}

/// The template's name and description from `LCID 1033:NAME x:DESCRIPTION y;` entries (one per language),
/// preferring English (1033).
fn template_name(raw: &str) -> Option<(String, Option<String>)> {
    let entries: Vec<&str> = raw.split(';').map(str::trim).filter(|e| !e.is_empty()).collect();
    let entry = entries.iter().find(|e| e.starts_with("LCID 1033:")).or(entries.first())?;
    let rest = entry.split_once(":NAME ").map_or(*entry, |(_, rest)| rest);
    let (name, description) = match rest.split_once(":DESCRIPTION ") {
        Some((name, description)) => (name, Some(description.trim().to_string())),
        None => (rest, None),
    };
    let name = name.trim();
    (!name.is_empty()).then(|| (name.to_string(), description.filter(|d| !d.is_empty())))
}

/// Sensitivity labels (MSIP) from an XMP packet (the metadata block is padded with NULs).
pub(super) fn labels(bytes: &[u8]) -> Vec<Label> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = String::from_utf8_lossy(&bytes[..end]);
    let mut reader = Reader::from_str(&text);
    let mut path: Vec<String> = Vec::new();
    let mut labels = Vec::new();
    let mut current = Label { id: None, name: None };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if path.len() >= MAX_DEPTH {
                    break;
                }
                path.push(e.name().as_ref().to_owned());
            }
            Ok(Event::End(_)) => {
                // A label is one `rdf:li` of the `msip:labels` bag.
                if path.len() >= 3 && path[path.len() - 3] == "msip:labels" && path[path.len() - 1] == "rdf:li" {
                    let label = std::mem::replace(&mut current, Label { id: None, name: None });
                    if label.id.is_some() || label.name.is_some() {
                        labels.push(label);
                    }
                }
                path.pop();
            }
            Ok(Event::Text(t)) => {
                let in_label = path.len() >= 4 && path[path.len() - 4] == "msip:labels";
                if in_label {
                    let value = t.xml10_content().trim().to_string();
                    match path.last().map(String::as_str) {
                        Some("msip-label:Id") => current.id = Some(guid(&value)),
                        Some("msip-label:Name") => current.name = Some(value),
                        _ => {}
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Protector;

    #[test]
    fn template_names_prefer_english() {
        let raw =
            "LCID 127:NAME Restricted:DESCRIPTION Only some.;\nLCID 1033:NAME Confidential:DESCRIPTION Staff only.;\n";
        assert_eq!(template_name(raw), Some(("Confidential".into(), Some("Staff only.".into()))));
        assert_eq!(template_name("LCID 1066:NAME X;"), Some(("X".into(), None)));
        assert_eq!(template_name(""), None);
    }

    #[test]
    fn license_in_utf16_with_certificate_chain() {
        let xml = r#"<?xml version="1.0"?><XrML version="1.2"><BODY type="Microsoft Rights Label"><ISSUEDTIME>2017-08-30T09:55</ISSUEDTIME><DESCRIPTOR><OBJECT><ID type="MS-GUID">{6FCC6CFF-78E2-411C-A656-9F171392A313}</ID><NAME>LCID 1033:NAME Restricted Access:DESCRIPTION Only you.;</NAME></OBJECT></DESCRIPTOR><ISSUER><OBJECT type="MS-DRM-Server"><ID type="MS-GUID">{x}</ID><NAME>Contoso</NAME><ADDRESS type="URL">https://rms.contoso.test/_wmcs</ADDRESS></OBJECT></ISSUER><WORK><OBJECT><ID type="MS-GUID">{D48F326C-5C6B-41DA-995C-C738D8060B3C}</ID></OBJECT><METADATA><OWNER><OBJECT><NAME>alice@contoso.test</NAME></OBJECT></OWNER></METADATA></WORK></BODY></XrML><XrML><BODY><DESCRIPTOR><OBJECT><ID>{other}</ID></OBJECT></DESCRIPTOR></BODY></XrML>"#;
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let mut found = ForeignProtection::new(Protector::MicrosoftRms);
        apply_license(&bytes, &mut found);
        assert_eq!(found.template_id.as_deref(), Some("6fcc6cff-78e2-411c-a656-9f171392a313"));
        assert_eq!(found.template_name.as_deref(), Some("Restricted Access"));
        assert_eq!(found.template_description.as_deref(), Some("Only you."));
        assert_eq!(found.issuer.as_deref(), Some("Contoso"));
        assert_eq!(found.issuer_address.as_deref(), Some("https://rms.contoso.test/_wmcs"));
        assert_eq!(found.owner.as_deref(), Some("alice@contoso.test"));
        assert_eq!(found.content_id.as_deref(), Some("d48f326c-5c6b-41da-995c-c738d8060b3c"));
        assert_eq!(found.issued.as_deref(), Some("2017-08-30T09:55"));
    }

    #[test]
    fn garbage_license_yields_nothing() {
        let mut found = ForeignProtection::new(Protector::MicrosoftRms);
        apply_license(b"\x00\x01<XrML><<<<", &mut found);
        apply_license(&[0xFF; 3], &mut found);
        assert_eq!(found, ForeignProtection::new(Protector::MicrosoftRms));
        assert!(labels(b"<x:xmpmeta><msip:labels><rdf:Bag><rdf:li>").is_empty());
    }
}
