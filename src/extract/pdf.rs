//! PDF text through the pdf-extract crate. That reader panics on some real-world files and can loop on
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
    reader
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(read_failure)?;
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
            let outcome = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(&bytes));
            // The receiver is gone only if the time ran out; nobody wants the result then.
            let _ = sender.send(outcome);
        })
        .map_err(|e| {
            Error::new(
                crate::ExitClass::Internal,
                format!("cannot start the PDF reader: {e}"),
            )
        })?;
    // On timeout the thread is left behind: it cannot be stopped, and the process ends with this file.
    match receiver.recv_timeout(budget.remaining_time()) {
        Ok(Ok(Ok(text))) => Ok(text),
        Ok(Ok(Err(e))) => Err(unreadable(format!("the PDF cannot be read: {e}"))),
        Ok(Err(panic)) => Err(unreadable(format!(
            "the PDF reader failed on this file ({})",
            panic_message(&panic)
        ))),
        Err(_) => Err(unreadable(format!(
            "reading the PDF took longer than max_seconds ({} s)",
            budget.limits.max_seconds
        ))),
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
