//! Plain text (and CSV): detect the encoding from a BOM or the first bytes (UTF-8, UTF-16 LE/BE, else
//! Windows-1252) and decode the file in fixed-size blocks, so a multi-gigabyte log costs no more memory than a
//! short note.

use std::io::Read;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::budget::{Budget, read_failure};
use crate::Error;

const BLOCK: usize = 64 * 1024;

/// How much of the sample the NUL and control-byte statistics look at.
const STATISTICS_SAMPLE: usize = 8 * 1024;

/// The encoding `sample` (the start of a file) is written in, or `None` when it does not look like text.
pub fn detect_encoding(sample: &[u8]) -> Option<&'static Encoding> {
    if let Some((encoding, _)) = Encoding::for_bom(sample) {
        return Some(encoding);
    }
    // The byte statistics need only the first few KiB (they ran over 64 KiB in every invocation); the UTF-8 check
    // below keeps the whole sample, since one Windows-1252 byte anywhere changes the answer.
    let head = &sample[..sample.len().min(STATISTICS_SAMPLE)];
    if let Some(encoding) = utf16_without_bom(head) {
        return Some(encoding);
    }
    let controls = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)).count();
    // Any NUL, or more than one control byte in a hundred, means binary.
    if sample.contains(&0) || controls * 100 > head.len() {
        return None;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => Some(UTF_8),
        // The sample may end in the middle of a character.
        Err(e) if e.error_len().is_none() => Some(UTF_8),
        Err(_) => Some(WINDOWS_1252),
    }
}

/// Text written as UTF-16 without a BOM has a NUL in every other byte (for Latin-script text).
fn utf16_without_bom(sample: &[u8]) -> Option<&'static Encoding> {
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let even_nuls = sample.iter().step_by(2).take(pairs).filter(|&&b| b == 0).count();
    let odd_nuls = sample.iter().skip(1).step_by(2).take(pairs).filter(|&&b| b == 0).count();
    // Mostly one side NUL and almost never the other.
    if odd_nuls * 10 > pairs * 3 && even_nuls * 20 < pairs {
        Some(UTF_16LE)
    } else if even_nuls * 10 > pairs * 3 && odd_nuls * 20 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Decode `reader` as text and push it; returns the encoding's name, e.g. `utf-8`.
pub fn read(reader: impl Read, budget: &mut Budget) -> Result<String, Error> {
    read_after(Vec::new(), false, reader, budget)
}

/// [`read`], going on from `start`, the bytes already read from the file's start (`at_end`: they are all of it,
/// so nothing more is read), with `reader` positioned just after them.
pub fn read_after(start: Vec<u8>, at_end: bool, reader: impl Read, budget: &mut Budget) -> Result<String, Error> {
    let mut reader = reader;
    let mut at_end = at_end;
    // Neither buffer is zeroed or sized beyond what the file needs: a folder run reads many small files, and
    // clearing a 64 KiB block (and mapping a 192 KiB one) for each was most of the cost of a 60-byte file.
    let mut input = start;
    if !at_end {
        // The encoding is decided on a whole first block, as if it had been read at once.
        input.reserve(BLOCK.saturating_sub(input.len()));
        let have = input.len();
        (&mut reader).take((BLOCK - have.min(BLOCK)) as u64).read_to_end(&mut input).map_err(read_failure)?;
        at_end = input.len() < BLOCK;
    }
    let encoding = detect_encoding(&input).unwrap_or(WINDOWS_1252);
    let mut decoder = encoding.new_decoder_with_bom_removal();
    let mut output = String::with_capacity(decoder.max_utf8_buffer_length(input.len().max(16)).unwrap_or(BLOCK * 3));
    loop {
        let mut src = &input[..];
        loop {
            let (result, read, _) = decoder.decode_to_string(src, &mut output, at_end);
            budget.push(&output)?;
            output.clear();
            src = &src[read..];
            if matches!(result, encoding_rs::CoderResult::InputEmpty) {
                break;
            }
        }
        if at_end {
            break;
        }
        // A block shorter than asked for ends the file.
        at_end = read_block(&mut reader, &mut input)? < BLOCK;
    }
    Ok(encoding.name().to_ascii_lowercase())
}

/// Replace `buf`'s contents with the next block of at most [`BLOCK`] bytes; 0 means end of input.
fn read_block(reader: &mut impl Read, buf: &mut Vec<u8>) -> Result<usize, Error> {
    buf.clear();
    reader.take(BLOCK as u64).read_to_end(buf).map_err(read_failure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;

    fn decode(bytes: &[u8]) -> (String, String) {
        let limits = Limits::default();
        let mut got = String::new();
        let mut sink = |s: &str| got.push_str(s);
        let mut budget = Budget::new(&limits, &mut sink);
        let name = read(bytes, &mut budget).unwrap();
        budget.finish();
        (name, got)
    }

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        text.encode_utf16().flat_map(|u| if big_endian { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
    }

    #[test]
    fn encodings_are_detected() {
        assert_eq!(decode("SSN 078-05-1120 café".as_bytes()), ("utf-8".into(), "SSN 078-05-1120 café".into()));
        assert_eq!(decode(b"caf\xe9 078-05-1120"), ("windows-1252".into(), "café 078-05-1120".into()));
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16("Grüße 4111", false));
        assert_eq!(decode(&le), ("utf-16le".into(), "Grüße 4111".into()));
        assert_eq!(decode(&utf16("no bom here", false)), ("utf-16le".into(), "no bom here".into()));
        assert_eq!(decode(&utf16("no bom here", true)), ("utf-16be".into(), "no bom here".into()));
    }

    #[test]
    fn characters_split_across_blocks_survive() {
        let mut text = "x".repeat(BLOCK - 1);
        text.push('é');
        text.push_str("tail");
        let (_, got) = decode(text.as_bytes());
        assert_eq!(got, text);
    }

    #[test]
    fn binary_is_not_text() {
        assert!(detect_encoding(b"\x00\x01\x02\x03binary\x00\x00").is_none());
    }
}
