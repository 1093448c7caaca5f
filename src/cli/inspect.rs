//! `inspect` (hidden): show how fci-connector reads one file — the format it was read as, what extraction
//! reported, any foreign protection found, and with `--text` the extracted text. For debugging rules and
//! readers, not for scripts.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::GlobalOptions;
use crate::detect::{self, ForeignProtection};
use crate::extract::{self, ExtractInfo, Limits};
use crate::{Error, ExitClass};

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The file to inspect
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Also print the extracted text
    #[arg(long)]
    pub text: bool,
    /// Print one JSON object instead of lines
    #[arg(long)]
    pub json: bool,
}

/// The JSON shape of `inspect --json`.
#[derive(serde::Serialize)]
struct Report<'a> {
    file: String,
    foreign_protection: Option<&'a ForeignProtection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extract: Option<&'a ExtractInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorReport<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct ErrorReport<'a> {
    class: ExitClass,
    exit_code: u8,
    message: &'a str,
}

/// Exit code: that of extraction (0, or e.g. 7 for content unreadable); errors of detection itself come first.
pub fn run(_global: &GlobalOptions, args: InspectArgs) -> Result<ExitClass, Error> {
    let protection = detect::foreign_protection(&args.file)?;
    let limits = Limits::default();
    let stdout = std::io::stdout();
    if args.json {
        let mut text = String::new();
        let outcome = extract::extract(&args.file, &limits, &mut |chunk| {
            if args.text {
                text.push_str(chunk);
            }
        });
        let report = Report {
            file: args.file.display().to_string(),
            foreign_protection: protection.as_ref(),
            extract: outcome.as_ref().ok(),
            error: outcome.as_ref().err().map(|e| ErrorReport {
                class: e.class(),
                exit_code: e.class().code(),
                message: e.message(),
            }),
            text: args.text.then_some(text.as_str()),
        };
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::new(ExitClass::Internal, format!("cannot format the report: {e}")))?;
        writeln!(stdout.lock(), "{json}").map_err(write_error)?;
        return Ok(outcome.map_or_else(|e| e.class(), |_| ExitClass::Success));
    }

    let mut out = stdout.lock();
    writeln!(out, "file: {}", args.file.display()).map_err(write_error)?;
    let protection_line = protection.as_ref().map_or_else(|| "none".to_string(), ForeignProtection::summary);
    writeln!(out, "foreign-protection: {protection_line}").map_err(write_error)?;
    if args.text {
        writeln!(out, "--- text ---").map_err(write_error)?;
    }
    // Text is streamed as it is extracted; a write failure (closed pipe) ends the output, not the reading.
    let mut write_failed = false;
    let outcome = extract::extract(&args.file, &limits, &mut |chunk| {
        if args.text && !write_failed {
            write_failed = out.write_all(chunk.as_bytes()).is_err();
        }
    });
    if args.text {
        writeln!(out, "\n--- end of text ---").map_err(write_error)?;
    }
    match outcome {
        Ok(info) => {
            writeln!(out, "format: {}", info.format).map_err(write_error)?;
            writeln!(out, "fallback: {}", info.fallback).map_err(write_error)?;
            writeln!(out, "text-bytes: {}", info.text_bytes).map_err(write_error)?;
            Ok(ExitClass::Success)
        }
        Err(err) => Err(err),
    }
}

fn write_error(err: std::io::Error) -> Error {
    Error::new(ExitClass::Write, format!("cannot write to standard output: {err}"))
}
