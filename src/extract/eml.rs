//! Internet mail (.eml): the headers people read (subject, from, to, cc, bcc, reply-to), the text and HTML
//! bodies with their transfer encodings (base64, quoted-printable) and charsets decoded, attachment names and
//! text attachments.

use std::io::Read;

use mail_parser::{Address, MessageParser, MimeHeaders};

use super::budget::{Budget, read_failure};
use super::unreadable;
use crate::Error;

/// Push the text of the message read from `reader`.
pub(crate) fn read(reader: impl Read, budget: &mut Budget) -> Result<&'static str, Error> {
    let cap = budget.limits.max_buffered_bytes;
    let mut bytes = Vec::new();
    reader.take(cap + 1).read_to_end(&mut bytes).map_err(read_failure)?;
    if bytes.len() as u64 > cap {
        return Err(unreadable(format!(
            "the message is larger than max_buffered_bytes ({cap} bytes), the most this reader holds in memory"
        )));
    }
    let message = MessageParser::default().parse(&bytes).ok_or_else(|| unreadable("not a readable mail message"))?;
    if let Some(subject) = message.subject() {
        line(budget, "Subject", subject)?;
    }
    let addresses = [
        ("From", message.from()),
        ("To", message.to()),
        ("Cc", message.cc()),
        ("Bcc", message.bcc()),
        ("Reply-To", message.reply_to()),
    ];
    for (name, address) in addresses {
        if let Some(address) = address {
            line(budget, name, &format_address(address))?;
        }
    }
    budget.push("\n")?;
    // Plain-text bodies; mail-parser supplies HTML-only bodies here converted to text.
    for index in 0..message.text_body_count() {
        if let Some(text) = message.body_text(index) {
            budget.push(&text)?;
            budget.separate("\n")?;
        }
    }
    // Attachments: their names, and the content of text attachments (documents attached are not opened).
    for attachment in message.attachments() {
        if let Some(name) = attachment.attachment_name() {
            line(budget, "Attachment", name)?;
        }
        if attachment.is_text()
            && let Some(text) = attachment.text_contents()
        {
            budget.push(text)?;
            budget.separate("\n")?;
        }
    }
    Ok("eml")
}

fn line(budget: &mut Budget, name: &str, value: &str) -> Result<(), Error> {
    budget.push(name)?;
    budget.push(": ")?;
    budget.push(value)?;
    budget.push("\n")
}

fn format_address(address: &Address) -> String {
    address
        .iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(mail)) => format!("{name} <{mail}>"),
            (Some(name), None) => name.to_string(),
            (None, Some(mail)) => mail.to_string(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
