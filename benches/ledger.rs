//! The pure ledger: an entry's canonical bytes and seal, strict parsing,
//! and replaying the demo estate's whole log into a fresh `State`.
//!
//! The demo log is written once into a temp SQLite database through the real
//! append path, then read back with `Store::entries_range` in pages of 1,000.
//! Run with `cargo bench --bench ledger`.

mod support;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use trustfund::ledger::{Entry, SealedEntry, State};

fn replay(sealed: &[SealedEntry]) -> State {
    let mut state = State::new();
    for s in sealed {
        state.apply(s).expect("the demo log replays");
    }
    state
}

fn benches(c: &mut Criterion) {
    let rt = support::runtime();
    let (_dir, bytes) = rt.block_on(async {
        let (dir, store, demo) = support::sqlite_demo().await;
        eprintln!(
            "demo estate: {} entries written in {:.2?} ({:.0} entries/s through Store::append)",
            demo.entries,
            demo.load_time,
            demo.entries as f64 / demo.load_time.as_secs_f64()
        );
        let bytes = support::all_entry_bytes(&store, &demo.slug).await;
        store.close().await;
        (dir, bytes)
    });
    let sealed: Vec<SealedEntry> = bytes
        .iter()
        .map(|b| SealedEntry::from_bytes(b).expect("stored entry parses"))
        .collect();
    let fee_paid = sealed
        .iter()
        .find(|s| s.entry.body.kind() == "fee_paid")
        .expect("the demo has fee payments");
    let fee_bytes = fee_paid.bytes.clone();
    let fee_entry: Entry = fee_paid.entry.clone();
    eprintln!(
        "typical fee_paid entry: {} bytes; whole log {} entries, {} bytes",
        fee_bytes.len(),
        bytes.len(),
        bytes.iter().map(String::len).sum::<usize>()
    );

    let mut g = c.benchmark_group("ledger");
    g.bench_function("fee_paid/canonical_bytes", |b| {
        b.iter(|| black_box(&fee_entry).canonical_bytes())
    });
    g.bench_function("fee_paid/seal", |b| {
        b.iter_batched(|| fee_entry.clone(), |e| e.seal(), BatchSize::SmallInput)
    });
    g.bench_function("fee_paid/parse", |b| {
        b.iter(|| Entry::parse(black_box(&fee_bytes)).expect("parse"))
    });

    let n = sealed.len() as u64;
    g.throughput(Throughput::Elements(n));
    g.bench_function("replay/apply_demo_log", |b| {
        b.iter(|| replay(black_box(&sealed)))
    });
    // What `catch_up` and `audit` actually pay per entry: parse, hash, apply.
    g.bench_function("replay/parse_and_apply_demo_log", |b| {
        b.iter(|| {
            let mut state = State::new();
            for raw in &bytes {
                let s = SealedEntry::from_bytes(black_box(raw)).expect("parse");
                state.apply(&s).expect("apply");
            }
            state
        })
    });
    g.finish();
}

criterion_group! {
    name = ledger;
    config = support::config(10, 6);
    targets = benches
}
criterion_main!(ledger);
