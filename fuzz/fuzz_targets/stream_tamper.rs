//! Property: seal any plaintext, then make one alteration chosen by the input (flip a byte, truncate, append,
//! drop, duplicate or swap a segment): the untouched payload opens to the plaintext, every altered one fails.
#![no_main]

use fci_connector::protect::container::stream::{self, TAG_LEN};
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [0x17; 32];

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let segment = 1 + usize::from(data[0] % 32);
    let (op, at) = (data[1] % 6, usize::from(u16::from_le_bytes([data[2], data[3]])));
    let plain = &data[4..];
    let mut sealed = Vec::new();
    stream::seal(&KEY, segment, plain, &mut sealed).unwrap();
    let mut out = Vec::new();
    assert_eq!(stream::open(&KEY, segment, &sealed[..], &mut out).unwrap() as usize, plain.len());
    assert_eq!(out, plain);

    let stored = segment + TAG_LEN;
    let segments: Vec<&[u8]> = sealed.chunks(stored).collect();
    let mut bad = sealed.clone();
    match op {
        0 => bad[at % sealed.len()] ^= 1 << (at % 8),
        1 => bad.truncate(at % sealed.len()),
        2 => bad.push(data[2]),
        3 if segments.len() > 1 => bad = drop_segment(&segments, at % segments.len()),
        4 => bad.extend_from_slice(segments[at % segments.len()]),
        5 if segments.len() > 1 => {
            let i = at % (segments.len() - 1);
            let mut v = segments.clone();
            v.swap(i, i + 1);
            if v[i] == v[i + 1] {
                return; // identical segments cannot be: counters differ, so tags differ
            }
            bad = v.concat();
        }
        _ => return,
    }
    let mut sink = Vec::new();
    assert!(stream::open(&KEY, segment, &bad[..], &mut sink).is_err(), "alteration {op} at {at} went unnoticed");
});

fn drop_segment(segments: &[&[u8]], i: usize) -> Vec<u8> {
    segments.iter().enumerate().filter(|(k, _)| *k != i).flat_map(|(_, s)| s.iter().copied()).collect()
}
