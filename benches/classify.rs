//! The classification engine with the default rule set (classification-rules/): loading and compiling the rules
//! (what every FSRM invocation pays before it reads a byte), the first scan after loading (which compiles the
//! position regexes it needs), and steady scan throughput on prose with planted card numbers, SSNs, IBANs and
//! e-mail addresses (validators and proximity on).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fci_connector::classify::RuleSet;
use std::hint::black_box;
use std::path::Path;

fn rules_dir() -> std::path::PathBuf {
    common::root().join("classification-rules")
}

fn load(c: &mut Criterion) {
    let dir = rules_dir();
    c.bench_function("rules: load and compile the default rule set", |b| {
        b.iter(|| RuleSet::load(black_box(&dir)).unwrap())
    });
    let text = common::text(64 * 1024, 1);
    c.bench_function("rules: load, compile and classify 64 KiB of text (one invocation's work)", |b| {
        b.iter(|| {
            let loaded = RuleSet::load(&dir).unwrap();
            loaded.rules.classify_text(Path::new("/share/report.txt"), black_box(&text))
        })
    });
}

fn scan(c: &mut Criterion) {
    let loaded = RuleSet::load(&rules_dir()).unwrap();
    let text = common::text(8 * 1024 * 1024, 2);
    // Sanity: the planted values are found, so the benchmark measures real work.
    let found = loaded.rules.classify_text(Path::new("/share/report.txt"), &text);
    assert!(found.matches.len() >= 4, "planted values not found: {:?}", found.matches);
    let mut group = c.benchmark_group("scan");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("Scanner::feed 8 MiB of prose in 64 KiB chunks", |b| {
        b.iter(|| {
            let mut scanner = loaded.rules.scanner(Path::new("/share/report.txt"));
            let mut rest = text.as_str();
            while !rest.is_empty() {
                let mut cut = rest.len().min(64 * 1024);
                while !rest.is_char_boundary(cut) {
                    cut += 1;
                }
                scanner.feed(black_box(&rest[..cut]));
                rest = &rest[cut..];
            }
            scanner.finish()
        })
    });
    group.finish();
}

criterion_group!(benches, load, scan);
criterion_main!(benches);
