//! Zip bomb guards: every archive reader opens archives and entries through here, so the entry count, the
//! total decompressed bytes and each entry's compression ratio are checked while the bytes flow, before a
//! hostile archive can fill memory or disk.

use std::cell::Cell;
use std::io::{self, Read, Seek};
use std::rc::Rc;

use zip::ZipArchive;
use zip::read::ZipFile;

use super::budget::{Budget, limit_io};
use super::unreadable;
use crate::Error;

/// Below this many decompressed bytes the ratio is not judged: small, repetitive XML parts legitimately
/// compress very well.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Open `reader` as a zip archive and check its entry count.
pub(crate) fn open<R: Read + Seek>(reader: R, budget: &Budget) -> Result<ZipArchive<R>, Error> {
    let archive = ZipArchive::new(reader).map_err(|e| unreadable(format!("not a readable zip archive: {e}")))?;
    let max = budget.limits.max_entries;
    if archive.len() > max {
        return Err(unreadable(format!("the archive has {} entries, more than max_entries ({max})", archive.len())));
    }
    Ok(archive)
}

/// Open entry `index` for reading, metered against the decompression limits.
pub(crate) fn entry<'a, R: Read + Seek>(
    archive: &'a mut ZipArchive<R>,
    index: usize,
    budget: &Budget,
) -> Result<Metered<ZipFile<'a, R>>, Error> {
    let file = archive.by_index(index).map_err(|e| unreadable(format!("cannot read archive entry {index}: {e}")))?;
    let name = file.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("entry {index}"));
    Ok(Metered {
        compressed: file.compressed_size(),
        inner: file,
        name,
        produced: 0,
        total: Rc::clone(&budget.decompressed),
        max_total: budget.limits.max_decompressed_bytes,
        max_ratio: budget.limits.max_compression_ratio,
    })
}

/// Names of the archive's entries, by index (entries whose name cannot be decoded get an empty name).
pub(crate) fn names<R: Read + Seek>(archive: &ZipArchive<R>) -> Vec<String> {
    (0..archive.len())
        .map(|i| archive.name_for_index(i).and_then(Result::ok).map(|n| n.into_owned()).unwrap_or_default())
        .collect()
}

/// An entry's decompressed bytes, counted against the limits as they are read.
pub(crate) struct Metered<R> {
    inner: R,
    pub name: String,
    compressed: u64,
    produced: u64,
    total: Rc<Cell<u64>>,
    max_total: u64,
    max_ratio: u64,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        let total = self.total.get() + n as u64;
        self.total.set(total);
        if total > self.max_total {
            return Err(limit_io(format!(
                "archive entries decompress to more than max_decompressed_bytes ({} bytes)",
                self.max_total
            )));
        }
        if self.produced > RATIO_FLOOR && self.produced > self.compressed.saturating_mul(self.max_ratio) {
            return Err(limit_io(format!(
                "entry {} expands more than max_compression_ratio ({}:1)",
                self.name, self.max_ratio
            )));
        }
        Ok(n)
    }
}
