//! PDF text (pages and document information) through the pdf-extract crate. That reader panics on some real-world files and can loop on
//! others, so it runs on its own thread: a panic or a run past `max_seconds` makes this one file "content
//! unreadable" instead of taking the process down.

use std::io::Read;
use std::sync::{Once, mpsc};

use super::budget::{Budget, read_failure};
use super::unreadable;
use crate::Error;

/// The name of the reader thread, which the panic hook recognises.
const THREAD: &str = "fci-pdf-reader";

/// Push the text of the PDF read from `reader`.
pub(crate) fn read(reader: impl Read, budget: &mut Budget) -> Result<&'static str, Error> {
    let cap = budget.limits.max_buffered_bytes;
    let mut bytes = Vec::new();
    reader.take(cap + 1).read_to_end(&mut bytes).map_err(read_failure)?;
    if bytes.len() as u64 > cap {
        return Err(unreadable(format!(
            "the PDF is larger than max_buffered_bytes ({cap} bytes), the most this reader holds in memory"
        )));
    }
    let text = run_contained(bytes, budget)?;
    budget.push(&text)?;
    Ok("pdf")
}

fn run_contained(bytes: Vec<u8>, budget: &Budget) -> Result<String, Error> {
    quiet_reader_panics();
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .name(THREAD.into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| pdf_text(&bytes));
            // The receiver is gone only if the time ran out; nobody wants the result then.
            let _ = sender.send(outcome);
        })
        .map_err(|e| Error::new(crate::ExitClass::Internal, format!("cannot start the PDF reader: {e}")))?;
    // On timeout the thread is left behind: it cannot be stopped, and the process ends with this file.
    match receiver.recv_timeout(budget.remaining_time()) {
        Ok(Ok(Ok(text))) => Ok(text),
        Ok(Ok(Err(e))) => Err(unreadable(format!("the PDF cannot be read: {e}"))),
        Ok(Err(panic)) => Err(unreadable(format!("the PDF reader failed on this file ({})", panic_message(&panic)))),
        Err(_) => {
            Err(unreadable(format!("reading the PDF took longer than max_seconds ({} s)", budget.limits.max_seconds)))
        }
    }
}

/// The document information (title, subject, keywords, author, custom entries) and the page text.
fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    let mut doc = pdf_extract::Document::load_mem(bytes).map_err(|e| e.to_string())?;
    // Most encrypted PDFs have an empty user password (an owner password restricts printing or copying).
    if doc.is_encrypted() {
        doc.decrypt("").map_err(|e| format!("it is encrypted with a password ({e})"))?;
    }
    let mut text = info_text(&doc);
    pdf_extract::output_doc(&doc, &mut pdf_extract::PlainTextOutput::new(&mut text)).map_err(|e| e.to_string())?;
    Ok(text)
}

/// `Key: value` lines for the string entries of the document information dictionary.
fn info_text(doc: &pdf_extract::Document) -> String {
    use pdf_extract::Object;
    let info = match doc.trailer.get(b"Info") {
        Ok(Object::Reference(id)) => doc.get_object(*id).and_then(Object::as_dict).ok(),
        Ok(Object::Dictionary(dict)) => Some(dict),
        _ => None,
    };
    let mut text = String::new();
    for (key, value) in info.into_iter().flat_map(|dict| dict.iter()) {
        if let Object::String(bytes, _) = value
            && !matches!(key.as_slice(), b"CreationDate" | b"ModDate")
        {
            text.push_str(&String::from_utf8_lossy(key));
            text.push_str(": ");
            text.push_str(&text_string(bytes));
            text.push('\n');
        }
    }
    text
}

/// A PDF text string: UTF-16BE with a byte order mark, else PDFDocEncoding (close to Windows-1252).
fn text_string(bytes: &[u8]) -> String {
    match bytes.strip_prefix(&[0xFE, 0xFF]) {
        Some(utf16) => encoding_rs::UTF_16BE.decode_without_bom_handling(utf16).0.into_owned(),
        None => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "internal panic".into())
}

/// Keep the PDF reader's expected panics off stderr (they are reported as "content unreadable"); every other
/// panic still goes to the previous hook.
fn quiet_reader_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(THREAD) {
                previous(info);
            }
        }));
    });
}
