//! PDF text (pages and document information) through the pdf-extract crate. That reader panics on some real-world files and can loop on
//! others, so it runs on its own thread: a panic or a run past `max_seconds` makes this one file "content
//! unreadable" instead of taking the process down.

use std::io::Read;
use std::sync::Once;
use std::sync::mpsc::{self, RecvTimeoutError};

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
    let text = run_contained(move || pdf_text(&bytes), budget)?;
    budget.push(&text)?;
    Ok("pdf")
}

/// Run `work` (the PDF reader) on its own thread, within the time left in `budget`.
fn run_contained(
    work: impl FnOnce() -> Result<String, PdfError> + Send + 'static,
    budget: &Budget,
) -> Result<String, Error> {
    quiet_reader_panics();
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::Builder::new()
        .name(THREAD.into())
        .spawn(move || {
            // A panic leaves nothing behind that is used again: the outcome is all that comes back.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            // The receiver is gone only if the time ran out; nobody wants the result then.
            let _ = sender.send(outcome);
        })
        .map_err(|e| Error::new(crate::ExitClass::Internal, format!("cannot start the PDF reader: {e}")))?;
    // On timeout the thread is left behind: it cannot be stopped, and the process ends with this file.
    let outcome = receiver.recv_timeout(budget.remaining_time());
    if !matches!(outcome, Err(RecvTimeoutError::Timeout)) {
        // It has sent its result (or stopped) and is ending: wait for that, so no thread of this file outlives
        // the call (the fuzzer's leak check found one still exiting after the call had returned).
        let _ = reader.join();
    }
    match outcome {
        Ok(Ok(Ok(text))) => Ok(text),
        Ok(Ok(Err(e))) => Err(unreadable(format!("the PDF cannot be read: {e}"))),
        Ok(Err(panic)) => Err(unreadable(format!("the PDF reader failed on this file ({})", panic_message(&panic)))),
        Err(RecvTimeoutError::Timeout) => {
            Err(unreadable(format!("reading the PDF took longer than max_seconds ({} s)", budget.limits.max_seconds)))
        }
        Err(RecvTimeoutError::Disconnected) => Err(unreadable("the PDF reader stopped without a result")),
    }
}

/// Why the PDF reader returned no text (the reader's own error, as text: it crosses a thread).
#[derive(Debug, thiserror::Error)]
enum PdfError {
    #[error("{0}")]
    Malformed(String),
    #[error("it is encrypted with a password ({0})")]
    Encrypted(String),
}

/// The document information (title, subject, keywords, author, custom entries) and the page text.
fn pdf_text(bytes: &[u8]) -> Result<String, PdfError> {
    let malformed = |e: &dyn std::fmt::Display| PdfError::Malformed(e.to_string());
    let mut doc = pdf_extract::Document::load_mem(bytes).map_err(|e| malformed(&e))?;
    // Most encrypted PDFs have an empty user password (an owner password restricts printing or copying).
    if doc.is_encrypted() {
        doc.decrypt("").map_err(|e| PdfError::Encrypted(e.to_string()))?;
    }
    let mut text = info_text(&doc);
    pdf_extract::output_doc(&doc, &mut pdf_extract::PlainTextOutput::new(&mut text)).map_err(|e| malformed(&e))?;
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::extract::Limits;

    /// Set when the reader thread's thread-locals are destroyed, which happens as the thread ends, after it has
    /// sent its result: the state the fuzzer's leak check found still alive once the call had returned.
    struct EndOfThread(Arc<AtomicBool>);

    impl Drop for EndOfThread {
        fn drop(&mut self) {
            // Makes a call that does not wait for the thread return long before this, every time.
            std::thread::sleep(Duration::from_millis(50));
            self.0.store(true, Ordering::SeqCst);
        }
    }

    thread_local! {
        static END_OF_THREAD: RefCell<Option<EndOfThread>> = const { RefCell::new(None) };
    }

    #[test]
    fn the_reader_thread_has_ended_when_the_call_returns() {
        let ended = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&ended);
        let limits = Limits::default();
        let mut sink = |_: &str| {};
        let budget = Budget::new(&limits, &mut sink);
        let work = move || {
            END_OF_THREAD.with(|slot| *slot.borrow_mut() = Some(EndOfThread(flag)));
            Ok("text".to_string())
        };
        assert_eq!(run_contained(work, &budget).unwrap(), "text");
        assert!(ended.load(Ordering::SeqCst), "the reader thread was still running");
    }

    #[test]
    fn a_reader_panic_is_content_unreadable() {
        let limits = Limits::default();
        let mut sink = |_: &str| {};
        let budget = Budget::new(&limits, &mut sink);
        let err = run_contained(|| panic!("bad xref"), &budget).unwrap_err();
        assert_eq!(err.class(), crate::ExitClass::Unreadable);
        assert!(err.message().contains("bad xref"), "{}", err.message());
    }
}
