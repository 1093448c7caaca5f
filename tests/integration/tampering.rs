//! Every alteration of a protected file is an integrity error (exit 7) and nothing is written: not the file, not a
//! temporary file, not a partial plaintext.

use std::path::Path;

use crate::util::*;
use predicates::prelude::*;

/// Protect `len` bytes and return (scratch, path, protected bytes).
fn protected(len: usize) -> (Scratch, std::path::PathBuf, Vec<u8>) {
    let s = Scratch::new();
    let f = s.file("victim.bin", &pattern(len));
    s.protect(&f).success();
    let bytes = std::fs::read(&f).unwrap();
    (s, f, bytes)
}

/// Write `bytes` as the file, try to unprotect it, and check the failure left everything as it was.
fn assert_refused(s: &Scratch, f: &Path, bytes: &[u8], what: &str) -> assert_cmd::assert::Assert {
    std::fs::write(f, bytes).unwrap();
    let listing = s.data_listing();
    let assert = s.unprotect(f, "issuer.key.pem").failure();
    assert_eq!(std::fs::read(f).unwrap(), bytes, "{what}: file changed");
    assert_eq!(s.data_listing(), listing, "{what}: something was left in the folder");
    assert
}

#[test]
fn flipped_byte_anywhere_in_header_license_or_segments() {
    let (s, f, good) = protected(3 * SEGMENT + 7);
    let header_len = payload_offset(&good);
    // Every 7th byte of the header (notice, license, parameters, salt, MAC) and the first and last of each segment.
    let mut positions: Vec<usize> = (8..header_len).step_by(7).collect();
    let seg = SEGMENT + 16;
    for i in 0..4 {
        let start = header_len + i * seg;
        positions.push(start);
        positions.push((start + seg - 1).min(good.len() - 1));
    }
    for pos in positions {
        let mut bad = good.clone();
        bad[pos] ^= 0x01;
        let a = assert_refused(&s, &f, &bad, &format!("flip at {pos}"));
        // Past the magic and version, every change is reported as damage or an integrity failure.
        if pos >= 12 {
            let out = a.get_output();
            let code = out.status.code();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(code, Some(7), "flip at {pos}: {stderr}");
            assert!(stderr.contains("integrity") || stderr.contains("damaged"), "flip at {pos}: {stderr}");
        }
    }
}

#[test]
fn magic_or_version_changed() {
    let (s, f, good) = protected(100);
    let mut bad = good.clone();
    bad[0] ^= 0x20;
    assert_refused(&s, &f, &bad, "magic").code(2);
    let mut bad = good.clone();
    bad[8] = 2;
    assert_refused(&s, &f, &bad, "version").code(7).stderr(predicate::str::contains("version 2.0 is not supported"));
}

#[test]
fn truncation_at_and_around_segment_boundaries() {
    let (s, f, good) = protected(3 * SEGMENT + 7);
    let header_len = payload_offset(&good);
    let seg = SEGMENT + 16;
    let mut cuts = vec![0, 4, 16, header_len - 1, header_len, header_len + 1, good.len() - 1, good.len() - 16];
    for i in 1..=3 {
        let b = header_len + i * seg;
        cuts.extend([b - 1, b, b + 1]);
    }
    for cut in cuts {
        let a = assert_refused(&s, &f, &good[..cut], &format!("cut at {cut}"));
        if cut >= header_len {
            a.code(7).stderr(predicate::str::contains("integrity"));
        }
    }
}

#[test]
fn swapped_dropped_and_appended_segments() {
    let (s, f, good) = protected(3 * SEGMENT + 7);
    let h = payload_offset(&good);
    let seg = SEGMENT + 16;
    let segs: Vec<&[u8]> =
        vec![&good[h..h + seg], &good[h + seg..h + 2 * seg], &good[h + 2 * seg..h + 3 * seg], &good[h + 3 * seg..]];
    let rebuild = |order: &[usize]| {
        let mut v = good[..h].to_vec();
        for &i in order {
            v.extend_from_slice(segs[i]);
        }
        v
    };
    for (what, order) in [
        ("swap 0 and 1", vec![1, 0, 2, 3]),
        ("drop 1", vec![0, 2, 3]),
        ("drop last", vec![0, 1, 2]),
        ("repeat 2", vec![0, 1, 2, 2, 3]),
    ] {
        assert_refused(&s, &f, &rebuild(&order), what).code(7).stderr(predicate::str::contains("integrity"));
    }
    let mut appended = good.clone();
    appended.extend_from_slice(b"extra");
    assert_refused(&s, &f, &appended, "append").code(7).stderr(predicate::str::contains("integrity"));
    let mut appended_segment = good.clone();
    appended_segment.extend_from_slice(segs[0]);
    assert_refused(&s, &f, &appended_segment, "append segment").code(7);
}

#[test]
fn tampered_file_to_new_output_writes_nothing() {
    let (s, f, good) = protected(2 * SEGMENT);
    let mut bad = good.clone();
    let last = bad.len() - 3;
    bad[last] ^= 0xff;
    std::fs::write(&f, &bad).unwrap();
    let out = s.path().join("data/plain.bin");
    s.cmd().arg("unprotect").arg(&f).arg("--key").arg(key("issuer.key.pem")).arg("--output").arg(&out).assert().code(7);
    assert!(!out.exists(), "a partial plaintext was left behind");
    assert_eq!(s.data_listing(), vec!["victim.bin".to_string()]);
}
