//! Zip files: recognise Office Open XML and OpenDocument packages and hand them to their readers; read any
//! other archive entry by entry (names, text entries decoded, other entries as printable strings), following
//! nested archives down to `max_archive_depth`.

use std::fs::File;
use std::io::{Cursor, Read, Seek};

use zip::ZipArchive;

use super::budget::{Budget, from_io};
use super::strings::Strings;
use super::{odf, ooxml, text, unreadable, zipguard};
use crate::Error;

/// Read a zip file: returns the format name and whether the strings fallback was used.
pub(crate) fn read_zip_file(file: File, budget: &mut Budget) -> Result<(String, bool), Error> {
    let mut archive = zipguard::open(std::io::BufReader::new(file), budget)?;
    let names = zipguard::names(&archive);
    refuse_encrypted(&mut archive)?;
    if let Some(kind) = ooxml::Kind::of(&names) {
        ooxml::read(&mut archive, kind, &names, budget)?;
        return Ok((kind.format().into(), false));
    }
    if let Some(format) = odf::format(&mut archive, &names, budget)? {
        odf::read(&mut archive, &names, budget)?;
        return Ok((format.into(), false));
    }
    let fallback = read_entries(&mut archive, &names, 1, budget)?;
    Ok(("zip".into(), fallback))
}

/// An archive whose every entry with content is encrypted cannot be read at all: say so instead of reporting it as
/// corrupt. A mixed archive is read: its encrypted entries are skipped (see [`read_entries`]), the others classified,
/// so one encrypted dummy entry cannot hide the plain ones.
fn refuse_encrypted<R: Read + Seek>(archive: &mut ZipArchive<R>) -> Result<(), Error> {
    let mut any_encrypted = false;
    for index in 0..archive.len() {
        match archive.by_index_raw(index) {
            Ok(entry) if entry.encrypted() => any_encrypted = true,
            Ok(entry) if entry.is_dir() || entry.size() == 0 => {}
            _ => return Ok(()),
        }
    }
    if any_encrypted {
        return Err(unreadable("the archive's entries are encrypted (zip encryption)"));
    }
    Ok(())
}

fn is_encrypted<R: Read + Seek>(archive: &mut ZipArchive<R>, index: usize) -> bool {
    archive.by_index_raw(index).is_ok_and(|entry| entry.encrypted())
}

/// Read every entry of a plain archive at nesting `depth`; returns whether any entry needed the strings
/// fallback.
fn read_entries<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    names: &[String],
    depth: usize,
    budget: &mut Budget,
) -> Result<bool, Error> {
    let mut fallback = false;
    for (index, name) in names.iter().enumerate() {
        if name.ends_with('/') {
            continue;
        }
        // Entry names are text too ("salaries-2024.xlsx").
        budget.push(name)?;
        budget.push("\n")?;
        if is_encrypted(archive, index) {
            // Its content is protected by the archive's encryption; the plain entries beside it are still read.
            budget.separate("\n")?;
            continue;
        }
        let mut entry = zipguard::entry(archive, index, budget)?;
        let mut sample = Vec::with_capacity(8192);
        (&mut entry).take(8192).read_to_end(&mut sample).map_err(|e| from_io(name, &e))?;
        if sample.starts_with(b"PK\x03\x04") {
            fallback |= read_nested(sample, entry, name, depth, budget)?;
        } else if text::detect_encoding(&sample).is_some() {
            text::read(Cursor::new(sample).chain(entry), budget).map_err(|e| e.context(name))?;
        } else {
            let mut strings = Strings::default();
            strings.feed(&sample, budget)?;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = entry.read(&mut buf).map_err(|e| from_io(name, &e))?;
                if n == 0 {
                    break;
                }
                strings.feed(&buf[..n], budget)?;
                budget.check_time()?;
            }
            strings.finish(budget)?;
            fallback = true;
        }
        budget.separate("\n")?;
        budget.check_time()?;
    }
    Ok(fallback)
}

/// An archive inside an archive: buffered (zip needs to seek) within `max_buffered_bytes`, then read like the
/// outer one, one level deeper.
fn read_nested(sample: Vec<u8>, rest: impl Read, name: &str, depth: usize, budget: &mut Budget) -> Result<bool, Error> {
    let max_depth = budget.limits.max_archive_depth;
    if depth + 1 > max_depth {
        return Err(unreadable(format!("{name}: archives nested deeper than max_archive_depth ({max_depth})")));
    }
    let cap = budget.limits.max_buffered_bytes;
    let mut bytes = sample;
    rest.take(cap + 1).read_to_end(&mut bytes).map_err(|e| from_io(name, &e))?;
    if bytes.len() as u64 > cap {
        return Err(unreadable(format!("{name}: nested archive larger than max_buffered_bytes ({cap} bytes)")));
    }
    let mut inner = zipguard::open(Cursor::new(bytes), budget).map_err(|e| e.context(name))?;
    let names = zipguard::names(&inner);
    refuse_encrypted(&mut inner)?;
    read_entries(&mut inner, &names, depth + 1, budget)
}
