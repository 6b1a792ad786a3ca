//! What the ledger and store benchmarks share: the demo estate written into
//! a fresh database once, and a throwaway PostgreSQL database.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tempfile::TempDir;
use tokio::runtime::Runtime;

use trustfund::demo;
use trustfund::domain::{Period, Slug, Timestamp};
use trustfund::keys::{Keyring, LogKey};
use trustfund::store::Store;

/// The demo covers the twelve months before this one.
pub const ANCHOR: &str = "2026-11";
/// 2026-11-22T02:00:00Z: "now" for the demo's pending claim, fixed so every
/// run writes the same log.
pub const NOW_UNIX: i64 = 1_795_312_800;

/// Short runs: the machine has two cores and is shared with builds.
pub fn config(samples: usize, seconds: u64) -> criterion::Criterion {
    criterion::Criterion::default()
        .sample_size(samples)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(seconds))
}

/// The runtime the benchmarks drive the store with; two workers, like the
/// server on this machine.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The demo estate loaded into a store, with its log key.
pub struct Demo {
    pub slug: Slug,
    pub log: LogKey,
    pub entries: u64,
    /// Wall time of `demo::load`, the whole history through `Store::append`.
    pub load_time: Duration,
}

/// Writes the demo estate into `store`, keeping its log key under `dir`.
pub async fn load_demo(store: &Store, dir: &Path) -> Demo {
    let keys = Keyring::new(dir);
    let anchor = Period::parse("anchor", ANCHOR).expect("anchor");
    let now = Timestamp::from_unix(NOW_UNIX).expect("now");
    let started = Instant::now();
    let summary = demo::load(store, &keys, anchor, now)
        .await
        .expect("load the demo estate");
    let load_time = started.elapsed();
    let origin = store
        .estate(&summary.slug)
        .await
        .expect("read estate")
        .expect("demo estate exists")
        .origin;
    let log = keys.load(&summary.slug, &origin).expect("demo log key");
    Demo {
        slug: summary.slug,
        log,
        entries: summary.entries,
        load_time,
    }
}

/// A SQLite store in a temp dir holding the demo estate.
pub async fn sqlite_demo() -> (TempDir, Store, Demo) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_sqlite(&dir.path().join("trustfund.sqlite3"))
        .await
        .expect("open sqlite");
    let demo = load_demo(&store, dir.path()).await;
    (dir, store, demo)
}

/// Every entry's exact bytes, read the way a verifier would: in chunks of
/// the store's maximum page.
pub async fn all_entry_bytes(store: &Store, slug: &Slug) -> Vec<String> {
    let size = store.tree_size(slug).await.expect("tree size");
    let mut out = Vec::with_capacity(size as usize);
    let mut start = 0;
    while start < size {
        let end = (start + trustfund::store::MAX_ENTRIES_PER_READ).min(size);
        out.extend(
            store
                .entries_range(slug, start, end)
                .await
                .expect("entries"),
        );
        start = end;
    }
    out
}

/// The PostgreSQL server this project's machines run (trust auth).
pub fn pg_admin_url() -> String {
    std::env::var("TRUSTFUND_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A uniquely named PostgreSQL database for one benchmark run, dropped
/// with this value (also when a benchmark panics and unwinds).
pub struct PgDb {
    pub url: String,
    name: String,
}

impl PgDb {
    pub async fn create() -> PgDb {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .subsec_nanos();
        let name = format!("tf_bench_{}_{nanos}", std::process::id());
        let admin = pg_admin_url();
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("database URL with a path");
        PgDb {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        // Drop may run inside a runtime, which cannot block on another
        // future: use a thread with a runtime of its own.
        let name = std::mem::take(&mut self.name);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                match sqlx::PgConnection::connect(&pg_admin_url()).await {
                    Ok(mut conn) => {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        if let Err(e) = sqlx::query(&sql).execute(&mut conn).await {
                            eprintln!("could not drop bench database {name}: {e}");
                        }
                    }
                    Err(e) => eprintln!("could not drop bench database {name}: {e}"),
                }
            });
        })
        .join();
    }
}
