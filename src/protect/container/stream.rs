//! The payload: AES-256-GCM over fixed-size segments in the STREAM construction (Hoang, Reyhanitabar, Rogaway,
//! Vizár 2015), as age uses it. Each segment's nonce is an 11-byte big-endian segment counter followed by a
//! last-segment flag byte, so reordering, dropping, truncating at a segment boundary and appending are all
//! authentication failures. Memory is two segments in line, and at most `PIPELINE_BUFFERS` buffers of
//! `PIPELINE_BUFFER` bytes once a large payload is sealed in a pipeline, whatever the file size.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::mpsc;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

/// GCM tag length.
pub const TAG_LEN: usize = 16;

/// Why a payload could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("segment {0} failed authentication (the file was altered, truncated or reordered)")]
    Segment(u64),
    #[error("the file ends inside segment {0} (truncated)")]
    Truncated(u64),
    #[error("the file has no final segment (truncated)")]
    MissingFinal,
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn key(payload_key: &[u8; 32]) -> LessSafeKey {
    // A 32-byte key is always a valid AES-256 key.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, payload_key).unwrap_or_else(|_| unreachable!()))
}

/// The nonce of segment `counter`: 11-byte big-endian counter, then 0x01 for the last segment, 0x00 otherwise.
pub fn nonce(counter: u64, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    Nonce::assume_unique_for_key(n)
}

/// Read until `buf` is full or the input ends; returns how much was read.
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// True when `r` has no more bytes (without consuming any).
fn at_end<R: Read>(r: &mut BufReader<R>) -> io::Result<bool> {
    loop {
        match r.fill_buf() {
            Ok(b) => return Ok(b.is_empty()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Plaintext sealed in line before a payload switches to the pipeline of [`seal`]: a file of a few segments never
/// pays for a thread.
const PIPELINE_AFTER: u64 = 8 * 1024 * 1024;
/// Plaintext per pipeline buffer (segments with their tags, written in one call).
const PIPELINE_BUFFER: usize = 256 * 1024;
/// Pipeline buffers in existence at once: sealed ones waiting for the writer, the one it writes, the one being
/// filled. Bounds the pipeline's memory (~1 MiB: it stays in cache) whatever the file size.
const PIPELINE_BUFFERS: usize = 4;

/// Seals segments in order: counter, nonce and tag.
struct Sealer {
    key: LessSafeKey,
    counter: u64,
    total: u64,
}

impl Sealer {
    /// Seal the `n` plaintext bytes at the start of `slot` in place and put the tag right after them.
    fn seal(&mut self, slot: &mut [u8], n: usize, last: bool) -> io::Result<()> {
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce(self.counter, last), Aad::empty(), &mut slot[..n])
            .map_err(|_| io::Error::other("AES-GCM encryption failed"))?;
        slot[n..n + TAG_LEN].copy_from_slice(tag.as_ref());
        self.counter += 1;
        self.total += n as u64;
        Ok(())
    }
}

/// Encrypt all of `input` into `output` in segments of `segment_size` plaintext bytes. Returns the plaintext
/// length. An empty input is one empty final segment; otherwise the final segment is never empty.
///
/// The first [`PIPELINE_AFTER`] bytes are read, sealed and written in line. Past that (a large file), `output` is
/// written on a thread of its own, so the disk keeps being fed (and the writer waits out its flush windows) while
/// this thread reads and seals the next segments; the bytes written are the same either way. Reading stays on this
/// thread: a read error is returned as it is read. A write error is returned in preference to any later one.
pub fn seal<R: Read, W: Write + Send>(
    payload_key: &[u8; 32],
    segment_size: usize,
    input: R,
    output: &mut W,
) -> io::Result<u64> {
    seal_with(payload_key, segment_size, input, output, PIPELINE_AFTER, PIPELINE_BUFFER)
}

fn seal_with<R: Read, W: Write + Send>(
    payload_key: &[u8; 32],
    segment_size: usize,
    input: R,
    output: &mut W,
    pipeline_after: u64,
    pipeline_buffer: usize,
) -> io::Result<u64> {
    let mut sealer = Sealer { key: key(payload_key), counter: 0, total: 0 };
    let mut input = input;
    // Two segment buffers: the next segment is read ahead, straight from the input, to learn whether the current
    // one is the last. (A BufReader peeking one byte ahead cost a copy of every byte.)
    let mut buf = vec![0u8; segment_size + TAG_LEN];
    let mut ahead = vec![0u8; segment_size + TAG_LEN];
    let mut n = fill(&mut input, &mut buf[..segment_size])?;
    loop {
        if n == segment_size && sealer.total >= pipeline_after {
            let per_buffer = (pipeline_buffer / segment_size).max(2);
            return pipelined(sealer, segment_size, per_buffer, &buf[..n], &mut input, output);
        }
        let next = if n < segment_size { 0 } else { fill(&mut input, &mut ahead[..segment_size])? };
        let last = next == 0;
        sealer.seal(&mut buf, n, last)?;
        output.write_all(&buf[..n + TAG_LEN])?;
        if last {
            return Ok(sealer.total);
        }
        std::mem::swap(&mut buf, &mut ahead);
        n = next;
    }
}

/// The rest of [`seal`] from a full segment already read (`first`): this thread reads and seals into buffers of
/// `per_buffer` segments (each followed by its tag, as in the payload), a writer thread writes them in order.
fn pipelined<R: Read, W: Write + Send>(
    mut sealer: Sealer,
    segment_size: usize,
    per_buffer: usize,
    first: &[u8],
    input: &mut R,
    output: &mut W,
) -> io::Result<u64> {
    let slot = segment_size + TAG_LEN;
    let capacity = per_buffer * slot;
    // Sealed buffers to the writer, and written ones back for reuse; neither channel is ever full when sent on
    // (there are never more than PIPELINE_BUFFERS buffers).
    let (to_writer, sealed) = mpsc::sync_channel::<(Vec<u8>, usize)>(PIPELINE_BUFFERS);
    let (to_reuse, written) = mpsc::sync_channel::<Vec<u8>>(PIPELINE_BUFFERS);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<()> {
            for (buf, len) in sealed {
                output.write_all(&buf[..len])?;
                // The sealing side may be gone (it failed): then the buffer is simply freed.
                let _ = to_reuse.send(buf);
            }
            Ok(())
        });
        let sealing = (|| -> io::Result<u64> {
            // Stands for the writer's own error, which is returned instead.
            let writer_gone = || io::Error::other("the writer stopped");
            let mut allocated = 0;
            let mut buffer = || -> io::Result<Vec<u8>> {
                if let Ok(buf) = written.try_recv() {
                    return Ok(buf);
                }
                if allocated < PIPELINE_BUFFERS {
                    allocated += 1;
                    return Ok(vec![0u8; capacity]);
                }
                written.recv().map_err(|_| writer_gone())
            };
            let mut buf = buffer()?;
            buf[..first.len()].copy_from_slice(first);
            let mut n = first.len();
            // Where the pending segment (read, not sealed) starts in `buf`.
            let mut at = 0;
            loop {
                let next_at = at + slot;
                let mut spill = None;
                let next = if n < segment_size {
                    0
                } else if next_at + slot <= capacity {
                    fill(input, &mut buf[next_at..next_at + segment_size])?
                } else {
                    let mut next_buf = buffer()?;
                    let m = fill(input, &mut next_buf[..segment_size])?;
                    spill = Some(next_buf);
                    m
                };
                let last = next == 0;
                sealer.seal(&mut buf[at..at + slot], n, last)?;
                let end = at + n + TAG_LEN;
                if last {
                    to_writer.send((buf, end)).map_err(|_| writer_gone())?;
                    return Ok(sealer.total);
                }
                match spill {
                    Some(next_buf) => {
                        to_writer.send((std::mem::replace(&mut buf, next_buf), end)).map_err(|_| writer_gone())?;
                        at = 0;
                    }
                    None => at = next_at,
                }
                n = next;
            }
        })();
        // The writer finishes what was sent once the sending side is gone.
        drop(to_writer);
        let writing = writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        writing.and(sealing)
    })
}

/// Decrypt and authenticate the payload in `input`, writing plaintext to `output` one verified segment at a time.
/// Trailing bytes after the final segment, a missing final segment and an empty non-first final segment are all
/// errors. The caller must not trust what was written unless this returns `Ok`.
pub fn open<R: Read, W: Write>(
    payload_key: &[u8; 32],
    segment_size: usize,
    input: R,
    output: &mut W,
) -> Result<u64, StreamError> {
    let key = key(payload_key);
    let mut input = BufReader::with_capacity(segment_size + TAG_LEN + 1, input);
    let mut buf = vec![0u8; segment_size + TAG_LEN];
    let mut total = 0u64;
    for counter in 0u64.. {
        let n = fill(&mut input, &mut buf)?;
        if n < TAG_LEN {
            return Err(if n == 0 && counter > 0 {
                StreamError::MissingFinal
            } else {
                StreamError::Truncated(counter)
            });
        }
        let last = n < buf.len() || at_end(&mut input)?;
        if last && n == TAG_LEN && counter > 0 {
            // Only an empty file has an empty final segment; anything else was cut and re-tagged.
            return Err(StreamError::Segment(counter));
        }
        let full = buf.len();
        let plain = key.open_in_place(nonce(counter, last), Aad::empty(), &mut buf[..n]).map_err(|_| {
            if last && n < full {
                // A short segment that fails may be a full one that lost its end.
                StreamError::Truncated(counter)
            } else {
                StreamError::Segment(counter)
            }
        })?;
        output.write_all(plain)?;
        total += plain.len() as u64;
        if last {
            return Ok(total);
        }
    }
    Err(StreamError::MissingFinal)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn round_trip(len: usize, seg: usize) {
        let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let mut sealed = Vec::new();
        assert_eq!(seal(&KEY, seg, &plain[..], &mut sealed).unwrap(), len as u64);
        let segments = if len == 0 { 1 } else { len.div_ceil(seg) };
        assert_eq!(sealed.len(), len + segments * TAG_LEN);
        let mut out = Vec::new();
        open(&KEY, seg, &sealed[..], &mut out).unwrap();
        assert_eq!(out, plain);
    }

    #[test]
    fn round_trips_at_segment_edges() {
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 64, 100] {
            round_trip(len, 16);
        }
    }

    /// The serial path only (never switches to the pipeline).
    fn sealed_in_line(plain: &[u8], seg: usize) -> Vec<u8> {
        let mut out = Vec::new();
        seal_with(&KEY, seg, plain, &mut out, u64::MAX, 0).unwrap();
        out
    }

    #[test]
    fn the_pipeline_writes_the_same_bytes() {
        // Switching after 0, 1 and 3 segments, buffers of 2 and 3 segments: every length around the buffer and
        // segment edges, including the switch landing on the last segment.
        for len in [0, 1, 16, 17, 32, 33, 47, 48, 49, 64, 80, 95, 96, 97, 112, 160, 161, 1000] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
            let expected = sealed_in_line(&plain, 16);
            for (after, buffer) in [(0, 32), (16, 32), (16, 48), (48, 48)] {
                let mut out = Vec::new();
                assert_eq!(seal_with(&KEY, 16, &plain[..], &mut out, after, buffer).unwrap(), len as u64);
                assert_eq!(out, expected, "{len} bytes, pipeline after {after}, buffer {buffer}");
            }
        }
        // The real sizes: 64 KiB segments, the switch at 8 MiB, 1 MiB buffers.
        let plain: Vec<u8> =
            (0..PIPELINE_AFTER as usize + 3 * PIPELINE_BUFFER + 12345).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        seal(&KEY, 65536, &plain[..], &mut out).unwrap();
        assert!(out == sealed_in_line(&plain, 65536));
    }

    /// Reads `ok` bytes of zeros, then fails.
    struct FailingReader {
        ok: usize,
    }

    impl Read for FailingReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::new(io::ErrorKind::WouldBlock, "busy: reader"));
            }
            let n = buf.len().min(self.ok).min(10);
            buf[..n].fill(0);
            self.ok -= n;
            Ok(n)
        }
    }

    /// Takes `ok` bytes, then fails.
    struct FailingWriter {
        ok: usize,
    }

    impl Write for FailingWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "full: writer"));
            }
            let n = buf.len().min(self.ok);
            self.ok -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn read_and_write_errors_come_back_as_they_were_in_line_and_in_the_pipeline() {
        for (after, buffer) in [(u64::MAX, 0), (0, 32), (32, 48)] {
            for ok in [0, 5, 16, 40, 100, 500] {
                let e = seal_with(&KEY, 16, FailingReader { ok }, &mut Vec::new(), after, buffer).unwrap_err();
                assert_eq!((e.kind(), e.to_string().as_str()), (io::ErrorKind::WouldBlock, "busy: reader"));
                let plain = [1u8; 1000];
                let e = seal_with(&KEY, 16, &plain[..], &mut FailingWriter { ok }, after, buffer).unwrap_err();
                assert_eq!((e.kind(), e.to_string().as_str()), (io::ErrorKind::StorageFull, "full: writer"));
                // Both fail: the write error, which happened first.
                let e = seal_with(&KEY, 16, FailingReader { ok: 900 }, &mut FailingWriter { ok }, after, buffer)
                    .unwrap_err();
                assert_eq!(e.kind(), io::ErrorKind::StorageFull, "{after} {ok}");
            }
        }
    }

    #[test]
    fn detects_truncation_reorder_and_append() {
        let plain = [1u8; 16 * 3 + 5];
        let mut sealed = Vec::new();
        seal(&KEY, 16, &plain[..], &mut sealed).unwrap();
        let seg = 16 + TAG_LEN;
        let mut sink = Vec::new();
        for cut in [0, 1, seg - 1, seg, seg + 1, 2 * seg, 3 * seg, sealed.len() - 1] {
            assert!(open(&KEY, 16, &sealed[..cut], &mut sink).is_err(), "cut at {cut}");
        }
        let mut swapped = sealed.clone();
        swapped[..seg].copy_from_slice(&sealed[seg..2 * seg]);
        swapped[seg..2 * seg].copy_from_slice(&sealed[..seg]);
        assert!(open(&KEY, 16, &swapped[..], &mut sink).is_err());
        let mut appended = sealed.clone();
        appended.push(0);
        assert!(open(&KEY, 16, &appended[..], &mut sink).is_err());
        let mut dropped = sealed[..seg].to_vec();
        dropped.extend_from_slice(&sealed[2 * seg..]);
        assert!(open(&KEY, 16, &dropped[..], &mut sink).is_err());
    }
}
