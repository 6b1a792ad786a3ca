//! The transparency log core on its own: leaf hashing, tree appends, proofs
//! at a million leaves, and checkpoint signing. No IO.
//!
//! Run with `cargo bench --bench tlog`; docs/PERFORMANCE.md has the numbers.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use trustfund::tlog::checkpoint::{open_checkpoint, sign_checkpoint, Checkpoint};
use trustfund::tlog::note::{Signer, ALG_ED25519};
use trustfund::tlog::tree::{self, NodeId};
use trustfund::tlog::{node_hash, record_hash, Hash};

/// The tree size the proof benchmarks work at.
const BIG_TREE_SIZE: u64 = 1_000_000;
/// Leaf indices (and old sizes) each proof benchmark cycles through, so the
/// figure is an average over proof shapes rather than one lucky path.
const SAMPLES: usize = 256;
/// Leaves per iteration of the append benchmark.
const APPEND_BATCH: u64 = 1_024;
/// Size of the prebuilt tree the append benchmark reads siblings from.
const APPEND_TREE_SIZE: u64 = 1 << 16;

const ORIGIN: &str = "trustfund.example/estates/bench";

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// A fixed pseudo-random sequence (SplitMix64), so every run measures the
/// same indices without pulling in a random number crate.
fn splitmix(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Node hashes of a tree whose leaves are all one record: every complete
/// subtree's hash depends only on its level. That keeps a million-leaf tree
/// self-consistent (proofs check against its root) while only the nodes a
/// proof asks for are ever materialised; proof cost does not depend on the
/// hash values.
fn uniform_levels() -> Vec<Hash> {
    let mut by_level = vec![record_hash(b"the same record in every leaf")];
    for level in 1..63 {
        let below = by_level[level - 1];
        by_level.push(node_hash(&below, &below));
    }
    by_level
}

/// A sparse store holding exactly `ids` (plus the root's cover).
fn sparse_store(by_level: &[Hash], ids: impl IntoIterator<Item = NodeId>) -> HashMap<NodeId, Hash> {
    let mut store = HashMap::new();
    for id in ids
        .into_iter()
        .chain(tree::nodes_for_tree_hash(BIG_TREE_SIZE))
    {
        store.insert(id, by_level[id.level as usize]);
    }
    store
}

fn bench_record_hash(c: &mut Criterion) {
    let entry = vec![b'x'; 300];
    let mut g = c.benchmark_group("tlog");
    g.throughput(Throughput::Bytes(entry.len() as u64));
    g.bench_function("record_hash/300B", |b| {
        b.iter(|| record_hash(black_box(&entry)))
    });
    g.finish();
}

fn bench_append(c: &mut Criterion) {
    // Every node of a 2^16-leaf tree, so appending any leaf below that size
    // finds its left siblings; the new nodes are returned, not inserted,
    // which isolates the hashing and lookups `tree::append` itself does.
    let mut store: HashMap<NodeId, Hash> = HashMap::new();
    for i in 0..APPEND_TREE_SIZE {
        let leaf = record_hash(&i.to_be_bytes());
        for (id, h) in tree::append(i, leaf, &store).expect("append") {
            store.insert(id, h);
        }
    }
    let leaves: Vec<Hash> = (0..APPEND_BATCH)
        .map(|i| record_hash(&i.to_le_bytes()))
        .collect();
    let mut g = c.benchmark_group("tlog");
    g.throughput(Throughput::Elements(APPEND_BATCH));
    let mut start = 0u64;
    g.bench_function("tree_append/per_leaf", |b| {
        b.iter(|| {
            // Consecutive indices: the amortised mix of even leaves (no
            // parent completes) and runs of trailing ones (several do).
            for (k, leaf) in leaves.iter().enumerate() {
                let index = (start + k as u64) % APPEND_TREE_SIZE;
                black_box(tree::append(index, *leaf, &store).expect("append"));
            }
            start = (start + APPEND_BATCH) % APPEND_TREE_SIZE;
        })
    });
    // The same with the inserts a store does, growing a tree from empty.
    g.bench_function("tree_append/per_leaf_with_insert", |b| {
        b.iter_batched(
            || HashMap::with_capacity(2 * APPEND_BATCH as usize),
            |mut fresh: HashMap<NodeId, Hash>| {
                for (i, leaf) in leaves.iter().enumerate() {
                    for (id, h) in tree::append(i as u64, *leaf, &fresh).expect("append") {
                        fresh.insert(id, h);
                    }
                }
                fresh
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn bench_inclusion(c: &mut Criterion) {
    let by_level = uniform_levels();
    let mut seed = 1;
    let indices: Vec<u64> = (0..SAMPLES)
        .map(|_| splitmix(&mut seed) % BIG_TREE_SIZE)
        .collect();
    let store = sparse_store(
        &by_level,
        indices
            .iter()
            .flat_map(|&i| tree::nodes_for_inclusion(i, BIG_TREE_SIZE).expect("inclusion ids")),
    );
    let root = tree::tree_hash(BIG_TREE_SIZE, &store).expect("root");
    let leaf = by_level[0];
    let proofs: Vec<Vec<Hash>> = indices
        .iter()
        .map(|&i| tree::prove_inclusion(i, BIG_TREE_SIZE, &store).expect("prove"))
        .collect();
    for (i, p) in indices.iter().zip(&proofs) {
        tree::check_inclusion(p, *i, BIG_TREE_SIZE, &leaf, &root).expect("valid proof");
    }

    let mut g = c.benchmark_group("tlog");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    g.bench_function("inclusion_prove/1e6", |b| {
        b.iter(|| {
            for &i in &indices {
                black_box(tree::prove_inclusion(i, BIG_TREE_SIZE, &store).expect("prove"));
            }
        })
    });
    g.bench_function("inclusion_check/1e6", |b| {
        b.iter(|| {
            for (&i, p) in indices.iter().zip(&proofs) {
                tree::check_inclusion(black_box(p), i, BIG_TREE_SIZE, &leaf, &root).expect("check");
            }
        })
    });
    g.bench_function("inclusion_prove_and_check/1e6", |b| {
        b.iter(|| {
            for &i in &indices {
                let p = tree::prove_inclusion(i, BIG_TREE_SIZE, &store).expect("prove");
                tree::check_inclusion(&p, i, BIG_TREE_SIZE, &leaf, &root).expect("check");
            }
        })
    });
    g.finish();
}

fn bench_consistency(c: &mut Criterion) {
    let by_level = uniform_levels();
    let mut seed = 2;
    let olds: Vec<u64> = (0..SAMPLES)
        .map(|_| 1 + splitmix(&mut seed) % (BIG_TREE_SIZE - 1))
        .collect();
    let store = sparse_store(
        &by_level,
        olds.iter()
            .flat_map(|&m| tree::nodes_for_consistency(m, BIG_TREE_SIZE).expect("consistency ids"))
            .chain(olds.iter().flat_map(|&m| tree::nodes_for_tree_hash(m))),
    );
    let new_root = tree::tree_hash(BIG_TREE_SIZE, &store).expect("root");
    let old_roots: Vec<Hash> = olds
        .iter()
        .map(|&m| tree::tree_hash(m, &store).expect("old root"))
        .collect();
    let proofs: Vec<Vec<Hash>> = olds
        .iter()
        .map(|&m| tree::prove_consistency(m, BIG_TREE_SIZE, &store).expect("prove"))
        .collect();

    let mut g = c.benchmark_group("tlog");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    g.bench_function("consistency_prove/1e6", |b| {
        b.iter(|| {
            for &m in &olds {
                black_box(tree::prove_consistency(m, BIG_TREE_SIZE, &store).expect("prove"));
            }
        })
    });
    g.bench_function("consistency_check/1e6", |b| {
        b.iter(|| {
            for ((&m, p), old_root) in olds.iter().zip(&proofs).zip(&old_roots) {
                tree::check_consistency(black_box(p), m, BIG_TREE_SIZE, old_root, &new_root)
                    .expect("check");
            }
        })
    });
    g.finish();
}

fn bench_checkpoint(c: &mut Criterion) {
    let log = Signer::from_seed(ORIGIN, ALG_ED25519, &[7u8; 32]).expect("signer");
    let key = log.verifier_key();
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        tree_size: BIG_TREE_SIZE,
        root: record_hash(b"root"),
        extensions: vec![],
    };
    let text = sign_checkpoint(&cp, &log).expect("sign").format();

    let mut g = c.benchmark_group("tlog");
    g.bench_function("checkpoint_sign/ed25519", |b| {
        b.iter(|| {
            sign_checkpoint(black_box(&cp), &log)
                .expect("sign")
                .format()
        })
    });
    g.bench_function("checkpoint_open/ed25519", |b| {
        b.iter(|| open_checkpoint(black_box(&text), &key, &[]).expect("open"))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_record_hash, bench_append, bench_inclusion, bench_consistency, bench_checkpoint
}
criterion_main!(benches);
