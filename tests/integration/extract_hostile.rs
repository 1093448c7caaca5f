//! Damaged copies of every fixture (bytes overwritten, files cut short) are read and checked for foreign
//! protection without a panic: each ends as text, "content unreadable", or not protected.

use std::path::Path;

use fci_connector::ExitClass;
use fci_connector::detect::foreign_protection;
use fci_connector::extract::{Limits, extract};

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn damaged_copies(original: &[u8], rng: &mut Lcg) -> Vec<Vec<u8>> {
    let mut copies = Vec::new();
    for round in 0..12 {
        let mut bytes = original.to_vec();
        if round % 3 == 2 {
            let keep = (rng.next() as usize) % bytes.len().max(1);
            bytes.truncate(keep);
        } else {
            for _ in 0..(1 + round * 4) {
                if bytes.is_empty() {
                    break;
                }
                let at = (rng.next() as usize) % bytes.len();
                bytes[at] = rng.next() as u8;
            }
        }
        copies.push(bytes);
    }
    copies
}

#[test]
fn damaged_fixtures_never_panic() {
    let limits = Limits { max_seconds: 10, ..Limits::default() };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(0x5eed);
    for folder in ["extract", "detect"] {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(folder);
        for entry in std::fs::read_dir(folder).unwrap() {
            let entry = entry.unwrap();
            let original = std::fs::read(entry.path()).unwrap();
            for (i, bytes) in damaged_copies(&original, &mut rng).into_iter().enumerate() {
                let path = dir.path().join(format!("{i}-{}", entry.file_name().to_string_lossy()));
                std::fs::write(&path, &bytes).unwrap();
                if let Err(err) = extract(&path, &limits, &mut |_| {}) {
                    assert_eq!(err.class(), ExitClass::Unreadable, "{}", err.message());
                }
                foreign_protection(&path).unwrap();
            }
        }
    }
}
