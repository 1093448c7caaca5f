//! Whole folders: find the files a run should look at ([`walk`]), take them through the same per-file pipeline in
//! parallel on all cores with a progress bar ([`stream`]), and sum up what happened ([`Summary`]); [`report`]
//! writes it as HTML, CSV, JSON or JSON lines.
//!
//! A run streams, in bounded memory: the walk feeds a bounded queue, the workers take files from it, and each
//! result goes to the caller's sink (console lines, reports, summary counters) on the calling thread, in walk
//! order, as soon as it and every file before it have finished. At most [`WINDOW`] files are between the walk and
//! the sink at any time (queued, being processed, or finished and waiting for an earlier file), so memory depends
//! on `--jobs`, the per-file limits and the window, never on the number of files: a slow file holds the output
//! back, and once the window is full the walk waits for it.
//!
//! A run is resumable and idempotent by construction: a file already protected is recognised from its first bytes
//! and left alone, so running again protects nothing twice and costs one small read per finished file. No state
//! is kept per file, in memory or on disk.

pub mod report;
pub mod rulestest;
pub mod walk;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Duration;

use serde::Serialize;

use crate::ExitClass;
use crate::pipeline::{Decision, FileResult};

/// The most files between the walk and the sink of a run at once: the bound of the queue and of the reorder
/// window that keeps the output in walk order.
pub const WINDOW: usize = 4096;

/// Options of a folder run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    /// Draw a progress bar (only on a terminal).
    pub progress: bool,
}

impl RunOptions {
    /// The number of worker threads.
    fn workers(&self) -> usize {
        match self.jobs {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

/// Where the feed of a [`stream`] puts its items.
pub struct Feeder<I> {
    jobs: SyncSender<(u64, u64, I)>,
    tokens: SyncSender<()>,
    next: u64,
    bar: Option<indicatif::ProgressBar>,
}

impl<I> Feeder<I> {
    /// Queue `item` (`bytes` long, for the progress bar), waiting while [`WINDOW`] items are in flight. False when
    /// the run has stopped (its sink failed): the feed should stop too.
    pub fn send(&mut self, item: I, bytes: u64) -> bool {
        if self.tokens.send(()).is_err() {
            return false;
        }
        if let Some(bar) = &self.bar {
            bar.inc_length(bytes);
        }
        let seq = self.next;
        self.next += 1;
        self.jobs.send((seq, bytes, item)).is_ok()
    }
}

/// A finished item on its way to the sink: its place in the feed, its size, and the work's result (or the panic
/// of the worker that took it).
type Finished<T> = (u64, u64, std::thread::Result<T>);

/// Run a folder: `feed` (on a thread of its own) queues items, `--jobs` workers turn each into a result with
/// `work`, and `sink` (on the calling thread) receives every result in the order the feed queued them. Returns the
/// sink's first error, else the feed's. A panic in `work` stops the run and is raised again here.
pub fn stream<I, T, E, Feed, Work, Sink>(options: &RunOptions, feed: Feed, work: Work, sink: Sink) -> Result<(), E>
where
    I: Send,
    T: Send,
    E: Send,
    Feed: FnOnce(&mut Feeder<I>) -> Result<(), E> + Send,
    Work: Fn(I) -> T + Sync,
    Sink: FnMut(T) -> Result<(), E>,
{
    let bar = progress_bar(options.progress);
    let (jobs_tx, jobs_rx) = mpsc::sync_channel::<(u64, u64, I)>(WINDOW);
    let (tokens_tx, tokens_rx) = mpsc::sync_channel::<()>(WINDOW);
    let (done_tx, done_rx) = mpsc::channel::<Finished<T>>();
    let jobs_rx = Mutex::new(jobs_rx);
    let (sunk, fed) = std::thread::scope(|scope| {
        let mut feeder = Feeder { jobs: jobs_tx, tokens: tokens_tx, next: 0, bar: bar.clone() };
        let feeding = scope.spawn(move || feed(&mut feeder));
        for _ in 0..options.workers() {
            let done_tx = done_tx.clone();
            let (jobs_rx, work) = (&jobs_rx, &work);
            scope.spawn(move || {
                loop {
                    let job = match jobs_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok((seq, bytes, item)) = job else { break };
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(item)));
                    if done_tx.send((seq, bytes, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        // The receivers are dropped when the sink stops, early or not: that unblocks the feed and the workers.
        let sunk = drain(done_rx, tokens_rx, sink, bar.as_ref());
        (sunk, feeding.join())
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match sunk {
        Drained::Panicked(payload) => std::panic::resume_unwind(payload),
        Drained::Failed(e) => Err(e),
        Drained::Done => match fed {
            Ok(fed) => fed,
            Err(payload) => std::panic::resume_unwind(payload),
        },
    }
}

enum Drained<E> {
    Done,
    Failed(E),
    Panicked(Box<dyn std::any::Any + Send>),
}

/// Give the finished items to `sink` in feed order, holding back those that finished before an earlier one.
fn drain<T, E>(
    done: Receiver<Finished<T>>,
    tokens: Receiver<()>,
    mut sink: impl FnMut(T) -> Result<(), E>,
    bar: Option<&indicatif::ProgressBar>,
) -> Drained<E> {
    let mut waiting: BTreeMap<u64, (u64, std::thread::Result<T>)> = BTreeMap::new();
    let mut next = 0u64;
    for (seq, bytes, result) in done {
        waiting.insert(seq, (bytes, result));
        while let Some((bytes, result)) = waiting.remove(&next) {
            next += 1;
            let value = match result {
                Ok(value) => value,
                Err(payload) => return Drained::Panicked(payload),
            };
            if let Err(e) = sink(value) {
                return Drained::Failed(e);
            }
            // The item's place in the window is free: the feed may queue one more.
            let _ = tokens.try_recv();
            if let Some(bar) = bar {
                bar.inc(bytes);
                bar.set_message(format!("{next} files"));
            }
        }
    }
    Drained::Done
}

fn progress_bar(wanted: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    // The total grows as the walk finds files: the bar shows the share of what was found so far.
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message("0 files");
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

/// The closing summary of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub bytes: u64,
    /// Files per decision (`protected`, `skipped`, …).
    pub decisions: BTreeMap<Decision, usize>,
    /// Skipped files per reason.
    pub skipped: BTreeMap<String, usize>,
    /// Failed files per exit code.
    pub failed: BTreeMap<u8, usize>,
    /// Files per property value (`PII=Yes`).
    pub properties: BTreeMap<String, usize>,
    /// Files per matched rule or entity.
    pub entities: BTreeMap<String, usize>,
    pub elapsed_seconds: f64,
    pub files_per_second: f64,
    /// The exit code of the run: the most severe per-file code.
    #[serde(rename = "exit_code", serialize_with = "crate::pipeline::result::exit_code")]
    pub exit: ExitClass,
}

impl Summary {
    /// Sum up `reports`, taken over `elapsed`.
    pub fn of(reports: &[FileResult], elapsed: Duration) -> Summary {
        let mut s = Summary::default();
        for r in reports {
            s.add(r);
        }
        s.finish(elapsed);
        s
    }

    /// Count one more file (the counters are bounded by the rule set, not by the number of files).
    pub fn add(&mut self, r: &FileResult) {
        self.files += 1;
        self.bytes += r.bytes;
        *self.decisions.entry(r.decision).or_default() += 1;
        if let Some(reason) = r.reason.as_ref().filter(|_| r.decision.is_skip()) {
            *self.skipped.entry(reason.clone()).or_default() += 1;
        }
        if r.error.is_some() {
            *self.failed.entry(r.class.code()).or_default() += 1;
        }
        for (k, v) in &r.properties {
            *self.properties.entry(format!("{k}={v}")).or_default() += 1;
        }
        for m in &r.matches {
            *self.entities.entry(m.name.clone()).or_default() += 1;
        }
        self.exit = self.exit.worst(r.class);
    }

    /// Close the summary of a run that took `elapsed`.
    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed_seconds = elapsed.as_secs_f64();
        self.files_per_second = if self.elapsed_seconds > 0.0 { self.files as f64 / self.elapsed_seconds } else { 0.0 };
    }

    /// The summary as lines for a person.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{} files, {} in {:.2}s ({:.0} files/s)",
            self.files,
            human_bytes(self.bytes),
            self.elapsed_seconds,
            self.files_per_second
        )];
        for (decision, n) in &self.decisions {
            out.push(format!("  {decision}: {n}"));
        }
        for (reason, n) in &self.skipped {
            out.push(format!("    left alone, {reason}: {n}"));
        }
        for (code, n) in &self.failed {
            let meaning = ExitClass::from_code(*code).map_or("", |c| c.meaning());
            out.push(format!("    failed with exit {code} ({meaning}): {n}"));
        }
        out
    }
}

/// `n` bytes in binary units (KiB, MiB, …), as the console summary shows them.
fn human_bytes(n: u64) -> String {
    scaled(n, 1024.0, ["B", "KiB", "MiB", "GiB", "TiB"])
}

/// `n` bytes in decimal units (1 KB = 1,000 bytes), as the HTML report shows them to a manager.
pub(crate) fn human_size(n: u64) -> String {
    scaled(n, 1000.0, ["bytes", "KB", "MB", "GB", "TB"])
}

fn scaled(n: u64, step: f64, units: [&str; 5]) -> String {
    let mut v = n as f64;
    let mut unit = 0;
    while v >= step && unit < units.len() - 1 {
        v /= step;
        unit += 1;
    }
    if unit == 0 { format!("{n} {}", units[0]) } else { format!("{v:.1} {}", units[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_numbers(n: u64) -> impl FnOnce(&mut Feeder<u64>) -> Result<(), String> + Send {
        move |feeder| {
            for i in 0..n {
                if !feeder.send(i, 1) {
                    return Err(format!("stopped at {i}"));
                }
            }
            Ok(())
        }
    }

    #[test]
    fn sizes_in_binary_and_decimal_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_size(999), "999 bytes");
        assert_eq!(human_size(11_386), "11.4 KB");
        assert_eq!(human_size(2_500_000), "2.5 MB");
        assert_eq!(human_size(3_200_000_000), "3.2 GB");
    }

    #[test]
    fn results_reach_the_sink_in_feed_order_whatever_the_jobs() {
        for jobs in [1, 4] {
            let mut seen = Vec::new();
            let options = RunOptions { jobs, progress: false };
            // Uneven work, so that later items often finish first.
            let work = |i: u64| {
                std::hint::black_box((0..(i % 97) * 20).sum::<u64>());
                i
            };
            stream(&options, feed_numbers(3 * WINDOW as u64), work, |i| {
                seen.push(i);
                Ok::<(), String>(())
            })
            .unwrap();
            assert_eq!(seen, (0..3 * WINDOW as u64).collect::<Vec<_>>(), "jobs {jobs}");
        }
    }

    #[test]
    fn a_failing_sink_stops_the_feed_within_the_window() {
        let options = RunOptions { jobs: 2, progress: false };
        let mut sunk = 0;
        let e = stream(
            &options,
            feed_numbers(u64::MAX),
            |i| i,
            |i| {
                sunk += 1;
                if i == 10 { Err("sink failed".to_string()) } else { Ok(()) }
            },
        )
        .unwrap_err();
        assert_eq!(e, "sink failed", "the sink's error wins over the feed's");
        assert_eq!(sunk, 11);
    }

    #[test]
    fn a_panic_in_the_work_is_raised_again() {
        let options = RunOptions { jobs: 2, progress: false };
        let outcome = std::panic::catch_unwind(|| {
            let _ = stream(
                &options,
                feed_numbers(100),
                |i| if i == 50 { panic!("boom") } else { i },
                |_| Ok::<(), String>(()),
            );
        });
        assert!(outcome.is_err());
    }
}
