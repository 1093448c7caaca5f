//! Text extraction from a Word document (generated: about 64 KiB on disk, like the comparison's docx), through
//! the public `extract::extract` entry point: open, sniff, unzip, parse the XML, push text.

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fci_connector::extract::{Limits, extract};
use std::hint::black_box;

fn docx(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let text = common::text(256 * 1024, 3);
    let path = dir.path().join("report.docx");
    std::fs::write(&path, common::docx(&text)).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let limits = Limits::default();
    let mut group = c.benchmark_group("extract");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function(format!("docx, {} KiB on disk, {} KiB of text", size / 1024, text.len() / 1024), |b| {
        b.iter(|| {
            let mut n = 0usize;
            extract(black_box(&path), &limits, &mut |chunk| n += chunk.len()).unwrap();
            n
        })
    });
    group.finish();
}

criterion_group!(benches, docx);
criterion_main!(benches);
