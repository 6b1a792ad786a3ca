//! The log key remembers what it signed beside the key, not only in the
//! database it protects (issue 10, attack 2): a database restored from an
//! older copy, truncated, or regrown along a different history behind the
//! server's back makes the server sign nothing and freeze the estate, and
//! `trustfund audit` says so, on SQLite and PostgreSQL.

mod common;

use std::process::Command;

use common::{Engine, TestDb, TestEstate};
use sqlx::Connection;
use trustfund::domain::Slug;
use trustfund::store::{MarkCheck, StoreError};

const SLUG: &str = "marked";

/// A copy of the whole database, as a backup (or an intruder) keeps one.
enum Snapshot {
    /// A consistent copy of the database file (`VACUUM INTO`).
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

fn with_suffix(db: &TestDb, suffix: &str) -> std::path::PathBuf {
    let mut p = db.sqlite_path().into_os_string();
    p.push(suffix);
    p.into()
}

async fn snapshot(db: &TestDb) -> Snapshot {
    match &db.pg {
        None => {
            let copy = db.data_dir().join("copy.sqlite3");
            let mut conn = sqlx::SqliteConnection::connect(&format!(
                "sqlite://{}",
                db.sqlite_path().display()
            ))
            .await
            .unwrap();
            sqlx::query("VACUUM INTO $1")
                .bind(copy.display().to_string())
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            Snapshot::Sqlite(copy)
        }
        Some((_, name)) => {
            let copy = format!("{name}_copy");
            disconnect(name).await;
            admin(&format!("CREATE DATABASE {copy} TEMPLATE {name}")).await;
            Snapshot::Postgres(copy)
        }
    }
}

/// Puts the copy back in place of the live database (the store must be closed).
async fn restore(db: &TestDb, snap: Snapshot) {
    match (snap, &db.pg) {
        (Snapshot::Sqlite(copy), None) => {
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(with_suffix(db, suffix));
            }
            std::fs::rename(copy, db.sqlite_path()).unwrap();
        }
        (Snapshot::Postgres(copy), Some((_, name))) => {
            admin(&format!("DROP DATABASE {name} WITH (FORCE)")).await;
            disconnect(&copy).await;
            admin(&format!("CREATE DATABASE {name} TEMPLATE {copy}")).await;
            admin(&format!("DROP DATABASE {copy}")).await;
        }
        _ => unreachable!("snapshot of another engine"),
    }
}

/// A template database must have no other sessions; a closed pool's may
/// linger a moment.
async fn disconnect(name: &str) {
    let mut conn = sqlx::PgConnection::connect(&common::pg_admin_url())
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
        .bind(name)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn admin(sql: &str) {
    let mut conn = sqlx::PgConnection::connect(&common::pg_admin_url())
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

fn audit(db: &TestDb) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustfund"));
    cmd.arg("audit")
        .arg("--data-dir")
        .arg(db.data_dir())
        .env_remove("DATABASE_URL");
    if let Some(url) = db.database_url() {
        cmd.env("DATABASE_URL", url);
    }
    let out = cmd.output().expect("run trustfund audit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// An estate whose log grew after a copy of its database was taken; the
/// copy is put back. Returns the estate and the size the copy holds.
async fn restored_behind(db: &TestDb) -> (TestEstate, u64) {
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), SLUG).await;
    t.append(&store, vec![t.fee_paid(0, "5.00")]).await.unwrap();
    let old_size = store
        .latest_checkpoint(&t.slug)
        .await
        .unwrap()
        .unwrap()
        .tree_size;
    store.close().await;
    let snap = snapshot(db).await;
    let store = db.open().await;
    for amount in ["6.00", "7.00"] {
        t.append(&store, vec![t.fee_paid(1, amount)]).await.unwrap();
    }
    store.close().await;
    restore(db, snap).await;
    (t, old_size)
}

async fn a_database_behind_the_key_signs_nothing(engine: Engine) {
    let db = TestDb::new(engine).await;
    let (t, old_size) = restored_behind(&db).await;
    let store = db.open().await;
    // The copy is whole and consistent: on its own terms it audits clean.
    let report = store.audit(&t.slug).await.unwrap();
    assert!(report.failure.is_none(), "{:?}", report.failure);

    // Regrown past the size the key signed, along a different history:
    // the server refuses to sign it, even without a restart's check.
    let before = store.latest_checkpoint(&t.slug).await.unwrap();
    let err = t
        .append(
            &store,
            vec![
                t.fee_paid(2, "1.00"),
                t.fee_paid(2, "2.00"),
                t.fee_paid(2, "3.00"),
            ],
        )
        .await
        .expect_err("a rewritten history is never signed");
    assert!(matches!(err, StoreError::Integrity(_)), "{err}");
    assert!(err.to_string().contains("log key last signed"), "{err}");
    assert_eq!(
        store.latest_checkpoint(&t.slug).await.unwrap(),
        before,
        "no new checkpoint"
    );
    assert_eq!(before.map(|c| c.tree_size), Some(old_size));
    // And the estate is frozen from then on.
    let err = t
        .append(&store, vec![t.fee_paid(2, "1.00")])
        .await
        .expect_err("frozen");
    assert!(matches!(err, StoreError::Integrity(_)), "{err}");
    store.close().await;

    // `trustfund audit` reads the mark too.
    let (code, out) = audit(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED against the log key's mark"), "{out}");
    assert!(out.contains("behind the log key"), "{out}");
}

#[tokio::test]
async fn sqlite_a_database_behind_the_key_signs_nothing() {
    a_database_behind_the_key_signs_nothing(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_database_behind_the_key_signs_nothing() {
    a_database_behind_the_key_signs_nothing(Engine::Postgres).await;
}

async fn the_start_up_check_freezes_it(engine: Engine) {
    let db = TestDb::new(engine).await;
    let (t, _) = restored_behind(&db).await;
    let store = db.open().await;
    let checks = store.check_log_marks(&db.keys()).await.unwrap();
    match checks.as_slice() {
        [(estate, MarkCheck::Failed(why))] => {
            assert_eq!(estate, SLUG);
            assert!(why.contains("behind the log key"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let before = store.latest_checkpoint(&t.slug).await.unwrap();
    let err = t
        .append(&store, vec![t.fee_paid(2, "1.00")])
        .await
        .expect_err("frozen");
    assert!(matches!(err, StoreError::Integrity(_)), "{err}");
    assert_eq!(store.latest_checkpoint(&t.slug).await.unwrap(), before);
}

#[tokio::test]
async fn sqlite_the_start_up_check_freezes_it() {
    the_start_up_check_freezes_it(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_the_start_up_check_freezes_it() {
    the_start_up_check_freezes_it(Engine::Postgres).await;
}

#[tokio::test]
async fn serve_freezes_a_database_restored_behind_the_key() {
    let db = TestDb::new(Engine::Sqlite).await;
    restored_behind(&db).await;
    let server = common::serve_binary(&db).await;
    let base = server.base.clone();
    for (lang, words) in [("zh", "自检未通过"), ("en", "failed its integrity check")] {
        let url = format!("{base}/estates/{SLUG}?lang={lang}");
        let html = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(html.contains(words), "{url}: no warning: {html}");
    }
    drop(server);
}

/// A signing interrupted between the mark's "pending" and the commit is
/// settled by what the database holds: released if the checkpoint is
/// there, dropped if not. Neither wedges the estate.
#[tokio::test]
async fn a_pending_mark_is_settled_by_the_database() {
    let db = TestDb::new(Engine::Sqlite).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), SLUG).await;
    t.append(&store, vec![t.fee_paid(0, "5.00")]).await.unwrap();
    let path = db.data_dir().join("keys").join(format!("{SLUG}.log.mark"));
    let mark: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let signed = mark["signed"].clone();
    assert!(signed["tree_size"].as_u64().unwrap() > 0, "{mark}");

    // A crash after the commit, before the mark was confirmed.
    let mut crashed = mark.clone();
    crashed["pending"] = signed.clone();
    crashed["signed"] = serde_json::Value::Null;
    std::fs::write(&path, crashed.to_string()).unwrap();
    t.append(&store, vec![t.fee_paid(0, "6.00")]).await.unwrap();
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        after["signed"]["tree_size"].as_u64(),
        signed["tree_size"].as_u64().map(|n| n + 1)
    );
    assert!(after["pending"].is_null(), "{after}");

    // A crash before the commit: the database never held that checkpoint.
    let mut aborted = after.clone();
    let mut never = after["signed"].clone();
    never["tree_size"] = (after["signed"]["tree_size"].as_u64().unwrap() + 1).into();
    aborted["pending"] = never;
    std::fs::write(&path, aborted.to_string()).unwrap();
    t.append(&store, vec![t.fee_paid(0, "7.00")]).await.unwrap();
    let slug = Slug::parse("slug", SLUG).unwrap();
    let log = db.keys().load(&slug, &t.origin()).unwrap();
    assert_eq!(store.check_log_mark(&slug, &log).await.unwrap(), None);
}
