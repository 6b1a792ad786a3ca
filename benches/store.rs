//! Storage end to end, on SQLite (a file in a temp dir, WAL, synchronous =
//! FULL) and on PostgreSQL (a uniquely named database on the local server,
//! dropped at the end): appends with their checkpoint signing, proofs,
//! balances, a cold replay of the log and a full audit.
//!
//! Reads run first, on the demo estate as loaded; the append benchmarks then
//! grow the logs they write to, and the sizes before and after are printed.
//! Run with `cargo bench --bench store`; `TRUSTFUND_TEST_PG` overrides the
//! PostgreSQL admin URL.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use tokio::runtime::Runtime;

use trustfund::domain::{Area, Date, EstateTz, Money, Name, Purpose, Rate, Slug, Timestamp};
use trustfund::domain::{UnitCommitment, UnitId, UnitSecret};
use trustfund::keys::{Keyring, LogKey};
use trustfund::ledger::entry::Currency;
use trustfund::ledger::{Body, FundAccount, PayMethod, PolicyRules};
use trustfund::store::{Draft, Store};
use trustfund::tlog::note::{Signer, ALG_ED25519};

use support::{Demo, PgDb};

/// Entries per transaction in the batch benchmark.
const BATCH: usize = 100;
/// The proof the load script also asks the server for.
const PROOF_INDEX: u64 = 1_234;
const PROOF_SIZE: u64 = 5_000;

/// A small estate with a real log key and four units: the "empty log" end
/// of the append comparison.
struct Small {
    slug: Slug,
    log: LogKey,
    unit: UnitCommitment,
}

async fn create_small(store: &Store, keys_dir: &Path) -> Small {
    let slug = Slug::parse("slug", "bench").expect("slug");
    let origin = format!("trustfund.example/estates/{slug}");
    let log = Keyring::new(keys_dir).with_signer(
        &slug,
        Signer::from_seed(&origin, ALG_ED25519, &[1u8; 32]).expect("log key"),
    );
    let mut drafts: Vec<Draft> = vec![
        Body::EstateCreated {
            name: Name::parse("name", "基准测试小区").expect("name"),
            origin: origin.clone(),
            log_key: log.verifier_key().format(),
            timezone: EstateTz::parse("timezone", "Asia/Shanghai").expect("tz"),
            currency: Currency::Cny,
            fee_rate: Rate::parse("fee_rate", "2.00").expect("rate"),
        }
        .into(),
        Body::PolicySet {
            version: 1,
            rules: PolicyRules::standard(),
            approvals: vec![],
        }
        .into(),
    ];
    let mut units = Vec::new();
    for (i, area) in ["80.00", "100.50", "120.25", "95.00"].iter().enumerate() {
        let unit_id = UnitId::parse("unit", &format!("1-{}", 101 + i)).expect("unit id");
        let secret = UnitSecret::parse("secret", &format!("{:0>20}", i + 1)).expect("secret");
        let commitment = UnitCommitment::compute(&slug, &unit_id, &secret);
        drafts.push(Draft {
            body: Body::UnitRegistered {
                unit: commitment,
                area: Area::parse("area", area).expect("area"),
            },
            unit: Some((unit_id, secret)),
            at: None,
            bank_ref: None,
        });
        units.push(commitment);
    }
    drafts.push(
        Body::OpeningBalance {
            account: FundAccount::Operating,
            amount: Money::parse("amount", "1000.00").expect("amount"),
            memo: Purpose::parse("memo", "opening").expect("memo"),
            postings: vec![],
        }
        .into(),
    );
    store
        .create_estate(&slug, "基准测试小区", &origin, drafts, now(), &log)
        .await
        .expect("create the small estate");
    Small {
        slug,
        log,
        unit: units[0],
    }
}

fn now() -> Timestamp {
    Timestamp::now().expect("clock")
}

fn fee_paid(unit: UnitCommitment) -> Draft {
    Body::FeePaid {
        unit,
        amount: Money::parse("amount", "185.60").expect("amount"),
        paid_on: Date::parse("paid_on", "2026-11-20").expect("date"),
        method: PayMethod::Wechat,
        bank_ref: None,
        postings: vec![],
    }
    .into()
}

/// Where a fixture's database is, so a second store can be opened on it.
enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    async fn open(&self) -> Store {
        match self {
            Db::Sqlite(path) => Store::open_sqlite(path).await.expect("open sqlite"),
            Db::Postgres(url) => Store::open_postgres(url).await.expect("open postgres"),
        }
    }
}

/// One database with both estates in it.
struct Fixture {
    name: &'static str,
    db: Db,
    store: Store,
    demo: Demo,
    demo_unit: UnitCommitment,
    small: Small,
}

async fn fixture(name: &'static str, db: Db, keys_dir: &Path) -> Fixture {
    let store = db.open().await;
    let demo = support::load_demo(&store, keys_dir).await;
    eprintln!(
        "{name}: demo estate {} entries loaded in {:.2?} ({:.0} entries/s)",
        demo.entries,
        demo.load_time,
        demo.entries as f64 / demo.load_time.as_secs_f64()
    );
    let demo_unit = store
        .with_state(&demo.slug, |s| *s.units().keys().next().expect("a unit"))
        .await
        .expect("demo state");
    let small = create_small(&store, keys_dir).await;
    Fixture {
        name,
        store,
        demo,
        demo_unit,
        small,
        db,
    }
}

async fn sizes(f: &Fixture) -> (u64, u64) {
    (
        f.store.tree_size(&f.demo.slug).await.expect("size"),
        f.store.tree_size(&f.small.slug).await.expect("size"),
    )
}

fn reads(g: &mut BenchmarkGroup<WallTime>, rt: &Runtime, f: &Fixture) {
    let (store, slug) = (&f.store, &f.demo.slug);
    g.throughput(Throughput::Elements(1));
    // One indexed single-row query: the unit cost of a round trip, against
    // which the proof figures below (one query per tree node) can be read.
    g.bench_function(format!("{}/tree_size/demo", f.name), |b| {
        b.iter(|| rt.block_on(store.tree_size(slug)).expect("size"))
    });
    g.bench_function(format!("{}/inclusion_proof/demo", f.name), |b| {
        b.iter(|| {
            rt.block_on(store.inclusion_proof(slug, PROOF_INDEX, PROOF_SIZE))
                .expect("proof")
        })
    });
    g.bench_function(format!("{}/consistency_proof/demo", f.name), |b| {
        b.iter(|| {
            rt.block_on(store.consistency_proof(slug, PROOF_INDEX, PROOF_SIZE))
                .expect("proof")
        })
    });
    g.bench_function(format!("{}/balances/demo", f.name), |b| {
        b.iter(|| rt.block_on(store.balances(slug)).expect("balances"))
    });
    g.bench_function(format!("{}/entries_range_1000/demo", f.name), |b| {
        b.iter(|| {
            rt.block_on(store.entries_range(slug, 0, 1_000))
                .expect("entries")
        })
    });
    // A fresh store has no cached state: the first request that needs it
    // replays the whole log (every entry parsed, hashed and applied).
    g.bench_function(format!("{}/cold_state_replay/demo", f.name), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let fresh = rt.block_on(f.db.open());
                let started = Instant::now();
                rt.block_on(fresh.with_state(slug, |s| s.size()))
                    .expect("replay");
                total += started.elapsed();
                rt.block_on(fresh.close());
            }
            total
        })
    });
    g.bench_function(format!("{}/audit/demo", f.name), |b| {
        b.iter(|| {
            let report = rt.block_on(store.audit(slug)).expect("audit");
            assert!(
                report.failure.is_none(),
                "audit failed: {:?}",
                report.failure
            );
            report
        })
    });
}

fn appends(g: &mut BenchmarkGroup<WallTime>, rt: &Runtime, f: &Fixture) {
    let store = &f.store;
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("{}/append_fee_paid/small", f.name), |b| {
        b.iter(|| {
            rt.block_on(store.append(
                &f.small.slug,
                vec![fee_paid(f.small.unit)],
                now(),
                &f.small.log,
            ))
            .expect("append")
        })
    });
    g.bench_function(format!("{}/append_fee_paid/demo", f.name), |b| {
        b.iter(|| {
            rt.block_on(store.append(
                &f.demo.slug,
                vec![fee_paid(f.demo_unit)],
                now(),
                &f.demo.log,
            ))
            .expect("append")
        })
    });
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function(format!("{}/append_batch100/demo", f.name), |b| {
        b.iter(|| {
            let drafts = (0..BATCH).map(|_| fee_paid(f.demo_unit)).collect();
            rt.block_on(store.append(&f.demo.slug, drafts, now(), &f.demo.log))
                .expect("append")
        })
    });
    // The single append again, now that the batches have grown the log.
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("{}/append_fee_paid/demo_grown", f.name), |b| {
        b.iter(|| {
            rt.block_on(store.append(
                &f.demo.slug,
                vec![fee_paid(f.demo_unit)],
                now(),
                &f.demo.log,
            ))
            .expect("append")
        })
    });
}

/// After the appends: the small estate now has one signed checkpoint per
/// entry, as a live estate appending one entry at a time would; the demo
/// signs one per batch. Audit opens every checkpoint.
fn audit_grown(g: &mut BenchmarkGroup<WallTime>, rt: &Runtime, f: &Fixture) {
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("{}/audit/small_grown", f.name), |b| {
        b.iter(|| {
            let report = rt.block_on(f.store.audit(&f.small.slug)).expect("audit");
            assert!(
                report.failure.is_none(),
                "audit failed: {:?}",
                report.failure
            );
            report
        })
    });
}

async fn report_audit(f: &Fixture, slug: &Slug, label: &str) {
    let report = f.store.audit(slug).await.expect("audit");
    eprintln!(
        "{}: {label}: {} entries, {} checkpoints",
        f.name, report.entries, report.checkpoints
    );
}

fn run(c: &mut Criterion, rt: &Runtime, f: &Fixture) {
    let (demo_before, small_before) = rt.block_on(sizes(f));
    eprintln!(
        "{}: before: demo {demo_before} entries, small {small_before}",
        f.name
    );
    rt.block_on(report_audit(f, &f.demo.slug, "demo as loaded"));
    let mut g = c.benchmark_group("store");
    reads(&mut g, rt, f);
    appends(&mut g, rt, f);
    audit_grown(&mut g, rt, f);
    g.finish();
    let (demo_after, small_after) = rt.block_on(sizes(f));
    eprintln!(
        "{}: after: demo {demo_after} entries, small {small_after}",
        f.name
    );
    rt.block_on(report_audit(
        f,
        &f.small.slug,
        "small estate after the appends",
    ));
}

fn sqlite(c: &mut Criterion) {
    let rt = support::runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::Sqlite(dir.path().join("trustfund.sqlite3"));
    let f = rt.block_on(fixture("sqlite", db, dir.path()));
    run(c, &rt, &f);
    rt.block_on(f.store.close());
}

fn postgres(c: &mut Criterion) {
    let rt = support::runtime();
    // Dropped (with the database) when this function returns or unwinds.
    let pg = rt.block_on(PgDb::create());
    let keys = tempfile::tempdir().expect("temp dir");
    let f = rt.block_on(fixture(
        "postgres",
        Db::Postgres(pg.url.clone()),
        keys.path(),
    ));
    run(c, &rt, &f);
    rt.block_on(f.store.close());
}

criterion_group! {
    name = store;
    config = support::config(10, 5);
    targets = sqlite, postgres
}
criterion_main!(store);
