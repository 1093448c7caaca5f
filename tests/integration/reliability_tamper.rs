//! Tampering, beyond tampering.rs: protected files of several sizes (empty, one byte, exactly one segment,
//! one segment and a byte, several segments) get a byte flipped at a stride through the WHOLE file (payload
//! interiors included), truncated at every segment boundary ±1, segments swapped, dropped and duplicated, data
//! appended, and headers and payloads spliced between two valid files. Every case is refused — exit 7 (integrity),
//! or 2 when the magic is gone or the file is shorter than its 16-byte fixed prefix — and nothing is written: the file is unchanged, the folder holds nothing new,
//! and `--output` creates nothing.

use std::path::PathBuf;

use crate::util::*;

const SEG: usize = SEGMENT + 16;

struct Victim {
    s: Scratch,
    file: PathBuf,
    good: Vec<u8>,
    header: usize,
}

fn protected(len: usize) -> Victim {
    let s = Scratch::new();
    let file = s.file("victim.bin", &pattern(len));
    s.protect(&file).success();
    let good = std::fs::read(&file).unwrap();
    let header = payload_offset(&good);
    Victim { s, file, good, header }
}

impl Victim {
    /// The payload's stored segments.
    fn segments(&self) -> Vec<&[u8]> {
        self.good[self.header..].chunks(SEG).collect()
    }

    fn rebuild(&self, order: &[usize]) -> Vec<u8> {
        let segs = self.segments();
        let mut v = self.good[..self.header].to_vec();
        for &i in order {
            v.extend_from_slice(segs[i]);
        }
        v
    }

    /// Write `bytes` as the file; unprotect in place must fail with `code` and change nothing. Every fifth case
    /// also tries `--output`, which must create nothing.
    fn refuse(&self, bytes: &[u8], code: i32, what: &str, case: usize) {
        std::fs::write(&self.file, bytes).unwrap();
        let listing = self.s.data_listing();
        let out = bin(&self.s.templates())
            .arg("unprotect")
            .arg(&self.file)
            .arg("--key")
            .arg(key("recovery.key.pem"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{what}: {stderr}");
        assert!(stderr.contains("victim.bin"), "{what}: the message names the file: {stderr}");
        assert!(std::fs::read(&self.file).unwrap() == bytes, "{what}: the file changed");
        assert_eq!(self.s.data_listing(), listing, "{what}: something was left in the folder");
        if case.is_multiple_of(5) {
            let dest = self.s.path().join("data/plain.out");
            let out = bin(&self.s.templates())
                .arg("unprotect")
                .arg(&self.file)
                .arg("--key")
                .arg(key("issuer.key.pem"))
                .arg("--output")
                .arg(&dest)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(code), "{what} --output");
            assert!(!dest.exists(), "{what}: --output left a partial plaintext");
            assert_eq!(self.s.data_listing(), listing, "{what} --output: something was left in the folder");
        }
    }
}

fn sizes() -> Vec<usize> {
    vec![0, 1, SEGMENT, SEGMENT + 1, 5 * SEGMENT + 123]
}

#[test]
fn a_flipped_byte_anywhere_in_the_file_is_refused() {
    for len in sizes() {
        let v = protected(len);
        // About 60 positions per file (every byte of the first 12 and then a stride that is prime, so it lands at
        // every offset within a segment over the sizes), several hundred in long mode.
        let stride = (v.good.len() / pick(60, 600)).max(1) | 1;
        let mut positions: Vec<usize> = (0..12).collect();
        positions.extend((12..v.good.len()).step_by(stride));
        positions.push(v.good.len() - 1);
        for (case, pos) in positions.into_iter().enumerate() {
            let mut bad = v.good.clone();
            bad[pos] ^= 0x80 >> (pos % 8);
            let code = if pos < 8 { 2 } else { 7 };
            v.refuse(&bad, code, &format!("len {len}: flip at {pos}"), case);
        }
    }
}

#[test]
fn truncation_at_every_segment_boundary_plus_minus_one() {
    for len in sizes() {
        let v = protected(len);
        let mut cuts = vec![0, 7, 8, 15, 16, 17, v.header - 33, v.header - 32, v.header - 1, v.header, v.header + 1];
        let mut b = v.header + SEG;
        while b <= v.good.len() + 1 {
            cuts.extend([b - 1, b, b + 1]);
            b += SEG;
        }
        cuts.extend([v.good.len() - 17, v.good.len() - 16, v.good.len() - 15, v.good.len() - 1]);
        cuts.retain(|&c| c < v.good.len());
        cuts.sort_unstable();
        cuts.dedup();
        for (case, cut) in cuts.into_iter().enumerate() {
            // Shorter than the fixed 16-byte prefix: not recognisable as a protected file at all (exit 2).
            let code = if cut < 16 { 2 } else { 7 };
            v.refuse(&v.good[..cut], code, &format!("len {len}: cut at {cut}"), case);
        }
    }
}

#[test]
fn every_swap_drop_and_duplicate_of_segments() {
    let v = protected(5 * SEGMENT + 123);
    let n = v.segments().len();
    assert_eq!(n, 6);
    let mut case = 0;
    for i in 0..n {
        let mut dropped: Vec<usize> = (0..n).collect();
        dropped.remove(i);
        v.refuse(&v.rebuild(&dropped), 7, &format!("drop segment {i}"), case);
        case += 1;
        let mut doubled: Vec<usize> = (0..n).collect();
        doubled.insert(i, i);
        v.refuse(&v.rebuild(&doubled), 7, &format!("duplicate segment {i}"), case);
        case += 1;
        for j in i + 1..n {
            let mut swapped: Vec<usize> = (0..n).collect();
            swapped.swap(i, j);
            v.refuse(&v.rebuild(&swapped), 7, &format!("swap segments {i} and {j}"), case);
            case += 1;
        }
    }
}

#[test]
fn appended_data_of_every_shape() {
    for len in [0, SEGMENT, 2 * SEGMENT + 5] {
        let v = protected(len);
        let last = *v.segments().last().unwrap();
        let appendices: Vec<(&str, Vec<u8>)> = vec![
            ("one zero byte", vec![0]),
            ("fifteen bytes", vec![0xAA; 15]),
            ("an empty-segment-sized tag", vec![0; 16]),
            ("a copy of the last segment", last.to_vec()),
            ("a full segment of zeros", vec![0; SEG]),
            ("another protected file", v.good.clone()),
        ];
        for (case, (what, extra)) in appendices.into_iter().enumerate() {
            let mut bad = v.good.clone();
            bad.extend_from_slice(&extra);
            v.refuse(&bad, 7, &format!("len {len}: append {what}"), case);
        }
    }
}

#[test]
fn header_and_payload_spliced_between_two_valid_files() {
    // Same content, same template, same keys: only the per-file content key and salt differ.
    let a = protected(3 * SEGMENT);
    let b = protected(3 * SEGMENT).good;
    let hb = payload_offset(&b);

    let mut a_header_b_payload = a.good[..a.header].to_vec();
    a_header_b_payload.extend_from_slice(&b[hb..]);
    a.refuse(&a_header_b_payload, 7, "header of one file, payload of another", 0);

    let mut mixed_segments = a.good[..a.header + SEG].to_vec();
    mixed_segments.extend_from_slice(&b[hb + SEG..]);
    a.refuse(&mixed_segments, 7, "first segment from one file, the rest from another", 1);

    // The license (with its wrapped keys) of one file under the other's header MAC.
    let license = |f: &[u8]| {
        let h = fci_connector::protect::container::header::Header::read(&mut &f[..]).unwrap();
        h.license_xml
    };
    let (la, lb) = (license(&a.good), license(&b));
    assert_eq!(la.len(), lb.len());
    let at = a.good.windows(la.len()).position(|w| w == la.as_bytes()).unwrap();
    let mut swapped_license = a.good.clone();
    swapped_license[at..at + lb.len()].copy_from_slice(lb.as_bytes());
    a.refuse(&swapped_license, 7, "license of another file", 2);
}

#[test]
fn a_tampered_file_is_not_trusted_by_status_either() {
    // status reads the license without a key: it must say "damaged" for a broken header, never crash, and not
    // claim the file is fine when the magic says so but the rest is garbage.
    let v = protected(100);
    let mut bad = v.good.clone();
    bad[13] ^= 0x40; // notice length: now far past the limit
    std::fs::write(&v.file, &bad).unwrap();
    let out = bin(&v.s.templates()).arg("status").arg(&v.file).args(["--format", "json"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("damaged"), "{text} {}", String::from_utf8_lossy(&out.stderr));
}
