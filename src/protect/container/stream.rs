//! The payload: AES-256-GCM over fixed-size segments in the STREAM construction (Hoang, Reyhanitabar, Rogaway,
//! Vizár 2015), as age uses it. Each segment's nonce is an 11-byte big-endian segment counter followed by a
//! last-segment flag byte, so reordering, dropping, truncating at a segment boundary and appending are all
//! authentication failures. Memory is one segment, whatever the file size.

use std::io::{self, BufRead, BufReader, Read, Write};

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

/// Encrypt all of `input` into `output` in segments of `segment_size` plaintext bytes. Returns the plaintext
/// length. An empty input is one empty final segment; otherwise the final segment is never empty.
pub fn seal<R: Read, W: Write>(
    payload_key: &[u8; 32],
    segment_size: usize,
    input: R,
    output: &mut W,
) -> io::Result<u64> {
    let key = key(payload_key);
    let mut input = input;
    // Two segment buffers: the next segment is read ahead, straight from the input, to learn whether the current
    // one is the last. (A BufReader peeking one byte ahead cost a copy of every byte.)
    let mut buf = vec![0u8; segment_size + TAG_LEN];
    let mut ahead = vec![0u8; segment_size + TAG_LEN];
    let mut n = fill(&mut input, &mut buf[..segment_size])?;
    let mut total = 0u64;
    for counter in 0u64.. {
        let next = if n < segment_size { 0 } else { fill(&mut input, &mut ahead[..segment_size])? };
        let last = next == 0;
        let tag = key
            .seal_in_place_separate_tag(nonce(counter, last), Aad::empty(), &mut buf[..n])
            .map_err(|_| io::Error::other("AES-GCM encryption failed"))?;
        buf[n..n + TAG_LEN].copy_from_slice(tag.as_ref());
        output.write_all(&buf[..n + TAG_LEN])?;
        total += n as u64;
        if last {
            break;
        }
        std::mem::swap(&mut buf, &mut ahead);
        n = next;
    }
    Ok(total)
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
