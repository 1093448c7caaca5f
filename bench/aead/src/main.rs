//! AES-256-GCM seal throughput of ring, aws-lc-rs and RustCrypto's aes-gcm, the way fci-connector's STREAM
//! payload uses it: one 64 KiB segment at a time, in place, a fresh nonce per segment, 1 GiB per pass.
//! Prints the best of three passes per library, in GB/s (10^9 bytes).

use std::hint::black_box;
use std::time::Instant;

const SEGMENT: usize = 64 * 1024;
const TOTAL: usize = 1 << 30;
const PASSES: usize = 3;

fn nonce(counter: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&counter.to_be_bytes());
    n
}

fn best_of(name: &str, mut seal_segment: impl FnMut(u64, &mut [u8]) -> [u8; 16]) {
    let mut buf = vec![0x5au8; SEGMENT];
    let mut best = f64::MAX;
    for _ in 0..PASSES {
        let started = Instant::now();
        for counter in 0..(TOTAL / SEGMENT) as u64 {
            black_box(seal_segment(counter, &mut buf));
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!("{name:<22} {:>6.2} GB/s", TOTAL as f64 / best / 1e9);
}

fn main() {
    let key = [7u8; 32];

    let ring_key = ring::aead::LessSafeKey::new(ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &key).unwrap());
    best_of("ring 0.17", |c, buf| {
        let n = ring::aead::Nonce::assume_unique_for_key(nonce(c));
        let tag = ring_key.seal_in_place_separate_tag(n, ring::aead::Aad::empty(), buf).unwrap();
        tag.as_ref().try_into().unwrap()
    });

    let aws_key = aws_lc_rs::aead::LessSafeKey::new(
        aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &key).unwrap(),
    );
    best_of("aws-lc-rs 1", |c, buf| {
        let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce(c));
        let tag = aws_key.seal_in_place_separate_tag(n, aws_lc_rs::aead::Aad::empty(), buf).unwrap();
        tag.as_ref().try_into().unwrap()
    });

    use aes_gcm::aead::{AeadInPlace, KeyInit};
    let rc = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    best_of("RustCrypto aes-gcm 0.10", |c, buf| {
        let n = nonce(c);
        let tag = rc.encrypt_in_place_detached((&n).into(), b"", buf).unwrap();
        tag.into()
    });
}
