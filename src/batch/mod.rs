//! Whole folders: find the files a run should look at ([`walk`]), take them through the same per-file pipeline in
//! parallel on all cores with a progress bar ([`run`]), and sum up what happened ([`Summary`]); [`report`] writes
//! it as HTML, CSV or JSON.
//!
//! A run is resumable and idempotent by construction: a file already protected is recognised from its first bytes
//! and left alone, so running again protects nothing twice and costs one small read per finished file.

pub mod report;
pub mod rulestest;
pub mod walk;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::ExitClass;
use crate::pipeline::{Decision, FileResult};

/// Options of a folder run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    /// Draw a progress bar (only on a terminal).
    pub progress: bool,
}

/// Process every file of `files` with `work`, in parallel, and return the results in the order of `files`.
pub fn run<T, F>(files: &[walk::Found], options: &RunOptions, work: F) -> Vec<T>
where
    T: Send,
    F: Fn(&walk::Found) -> T + Sync,
{
    let jobs = match options.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(files.len().max(1));
    let total_bytes: u64 = files.iter().map(|f| f.bytes).sum();
    let bar = progress_bar(options.progress, files.len() as u64, total_bytes);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new(std::iter::repeat_with(|| None).take(files.len()).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(found) = files.get(i) else { break };
                    let report = work(found);
                    if let Some(bar) = &bar {
                        bar.inc(found.bytes);
                        bar.set_message(format!("{}/{} files", i + 1, files.len()));
                    }
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(report);
                    }
                }
            });
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    results.into_inner().unwrap_or_default().into_iter().flatten().collect()
}

fn progress_bar(wanted: bool, files: u64, bytes: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(bytes);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(format!("0/{files} files"));
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
        let mut s = Summary { files: reports.len(), elapsed_seconds: elapsed.as_secs_f64(), ..Default::default() };
        let mut worst = ExitClass::Success;
        for r in reports {
            s.bytes += r.bytes;
            *s.decisions.entry(r.decision).or_default() += 1;
            if let Some(reason) = r.reason.as_ref().filter(|_| r.decision.is_skip()) {
                *s.skipped.entry(reason.clone()).or_default() += 1;
            }
            if r.error.is_some() {
                *s.failed.entry(r.class.code()).or_default() += 1;
            }
            for (k, v) in &r.properties {
                *s.properties.entry(format!("{k}={v}")).or_default() += 1;
            }
            for m in &r.matches {
                *s.entities.entry(m.name.clone()).or_default() += 1;
            }
            worst = worst.worst(r.class);
        }
        s.exit = worst;
        s.files_per_second = if s.elapsed_seconds > 0.0 { s.files as f64 / s.elapsed_seconds } else { 0.0 };
        s
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

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}
