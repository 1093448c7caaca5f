//! The cryptography of one protection: AES-256-GCM STREAM segments (the payload, 64 KiB segments as the format
//! writes them), the RSA-OAEP-SHA256 wrap of the content key to a template's public key, and its unwrap with the
//! private key (what the licensing service does for every file it has not seen).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fci_connector::protect::container::stream;
use fci_connector::protect::keys::{self, HolderKey, RecipientKey};
use rsa::traits::PublicKeyParts;
use std::hint::black_box;

const SEGMENT: usize = 64 * 1024;

fn stream_seal_open(c: &mut Criterion) {
    let key = [7u8; 32];
    let plain = vec![0x5au8; 16 * 1024 * 1024];
    let mut sealed = Vec::with_capacity(plain.len() + plain.len() / SEGMENT * stream::TAG_LEN + 64);
    stream::seal(&key, SEGMENT, &plain[..], &mut sealed).unwrap();
    let mut group = c.benchmark_group("aes-256-gcm stream, 64 KiB segments");
    group.throughput(Throughput::Bytes(plain.len() as u64));
    group.sample_size(20);
    let mut out = Vec::with_capacity(sealed.len());
    group.bench_function("seal 16 MiB", |b| {
        b.iter(|| {
            out.clear();
            stream::seal(&key, SEGMENT, black_box(&plain[..]), &mut out).unwrap()
        })
    });
    group.bench_function("open 16 MiB", |b| {
        b.iter(|| {
            out.clear();
            stream::open(&key, SEGMENT, black_box(&sealed[..]), &mut out).unwrap()
        })
    });
    group.finish();
}

fn rsa_oaep_wrap(c: &mut Criterion) {
    let path = common::root().join("samples/templates/keys/demo-issuer.pub.pem");
    let recipient = RecipientKey::read(&path).unwrap();
    let bits = recipient.key.size() * 8;
    c.bench_function(&format!("rsa-oaep-sha256 wrap ({bits}-bit key)"), |b| {
        b.iter(|| recipient.wrap(black_box(&[9u8; 32])).unwrap())
    });
}

/// The licensing service's cost per content key it has not seen: one RSA-OAEP-SHA256 private-key operation with
/// blinding (`HolderKey::unwrap_key`, the `rsa` crate on crypto-bigint, constant-time), for the 3072-bit issuer
/// keys the service benchmark uses and the 2048-bit test keys.
fn rsa_oaep_unwrap(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let generated = keys::generate(dir.path(), "issuer3072", 3072, None).unwrap();
    let fixture = common::root().join("tests/fixtures/keys");
    let pairs = [
        (generated.public.clone(), generated.private.clone()),
        (fixture.join("issuer.pub.pem"), fixture.join("issuer.key.pem")),
    ];
    let mut group = c.benchmark_group("rsa-oaep-sha256 unwrap (private key, blinded)");
    group.sample_size(20);
    for (public, private) in pairs {
        let recipient = RecipientKey::read(&public).unwrap();
        let holder = HolderKey::read(&private, None).unwrap();
        let wrapped = recipient.wrap(&[9u8; 32]).unwrap();
        assert_eq!(holder.unwrap_key(&wrapped).unwrap().as_slice(), &[9u8; 32]);
        let bits = recipient.key.size() * 8;
        group.bench_function(format!("{bits}-bit key"), |b| b.iter(|| holder.unwrap_key(black_box(&wrapped)).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, stream_seal_open, rsa_oaep_wrap, rsa_oaep_unwrap);
criterion_main!(benches);
