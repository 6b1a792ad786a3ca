//! `trustfund audit`, the real binary, against databases someone edited
//! behind the service's back.

mod common;

use std::process::Command;

use common::{Engine, TestDb, TestEstate};
use sqlx::Connection;

both_engines!(
    a_swapped_units_row_fails_naming_its_entry,
    a_dropped_disabled_or_hollowed_trigger_fails_audit_until_restored,
    every_failure_class_names_its_first_bad_seq,
    a_deleted_or_edited_bank_ref_row_fails_and_no_reference_is_credited_twice,
);

/// Runs `trustfund audit` on the test database; returns (exit code, stdout).
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
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.code().unwrap_or(-1),
        stdout + &String::from_utf8_lossy(&out.stderr),
    )
}

/// An estate with payments of ¥5.00, ¥6.00 and ¥7.00; returns the seq of the ¥6.00 one.
async fn estate_with_payments(db: &TestDb) -> u64 {
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "audited").await;
    let mut seq = 0;
    for amount in ["5.00", "6.00", "7.00"] {
        let a = t.append(&store, vec![t.fee_paid(1, amount)]).await.unwrap();
        if amount == "6.00" {
            seq = a[0].seq;
        }
    }
    store.close().await;
    seq
}

async fn sqlite(db: &TestDb) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.sqlite_path().display()))
        .await
        .unwrap()
}

/// Edits entry `seq`'s bytes in the SQLite file the way an intruder would:
/// drop the append-only trigger, then replace `from` with `to` in the body.
async fn edit_entry(db: &TestDb, seq: u64, from: &str, to: &str) {
    let mut conn = sqlite(db).await;
    sqlx::query("DROP TRIGGER entries_no_update")
        .execute(&mut conn)
        .await
        .unwrap();
    let changed = sqlx::query("UPDATE entries SET body = replace(body, $1, $2) WHERE seq = $3")
        .bind(from)
        .bind(to)
        .bind(seq as i64)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_clean_database_audits_ok() {
    let db = TestDb::new(Engine::Sqlite).await;
    estate_with_payments(&db).await;
    let (code, out) = audit(&db);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("estate audited: OK"), "{out}");
}

#[tokio::test]
async fn an_edited_amount_is_named_by_seq() {
    let db = TestDb::new(Engine::Sqlite).await;
    let seq = estate_with_payments(&db).await;
    edit_entry(&db, seq, "\"amount\":\"6.00\"", "\"amount\":\"60.00\"").await;
    let (code, out) = audit(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("FAILED at seq {seq}:")), "{out}");
}

#[tokio::test]
async fn an_edited_posting_tree_node_or_balance_is_caught() {
    // Each tamper on its own copy of the same log.
    let tampers: [(&str, &[&str]); 3] = [
        ("postings", &["DROP TRIGGER postings_no_update", "UPDATE postings SET debit_fen = debit_fen + 1 WHERE seq = (SELECT MAX(seq) FROM postings) AND debit_fen > 0"]),
        ("tree_nodes", &["DROP TRIGGER tree_nodes_no_update", "UPDATE tree_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 3"]),
        ("balances", &["UPDATE balances SET balance_fen = balance_fen + 100 WHERE account = 'fund:operating'"]),
    ];
    for (what, sqls) in tampers {
        let db = TestDb::new(Engine::Sqlite).await;
        estate_with_payments(&db).await;
        let mut conn = sqlite(&db).await;
        for sql in sqls {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
        let (code, out) = audit(&db);
        assert_eq!(code, 1, "{what}: {out}");
        assert!(out.contains("FAILED"), "{what}: {out}");
        if what == "tree_nodes" {
            assert!(out.contains("FAILED at seq 3:"), "{what}: {out}");
        }
        if what == "balances" {
            assert!(out.contains("fund:operating"), "{what}: {out}");
        }
    }
}

#[tokio::test]
async fn postgres_with_triggers_disabled_is_caught_too() {
    let db = TestDb::new(Engine::Postgres).await;
    let seq = estate_with_payments(&db).await;
    let mut conn = sqlx::PgConnection::connect(&db.database_url().unwrap())
        .await
        .unwrap();
    sqlx::query("ALTER TABLE entries DISABLE TRIGGER USER")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE entries SET body = replace(body, '\"amount\":\"6.00\"', '\"amount\":\"0.60\"') WHERE seq = $1")
        .bind(seq as i64)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (code, out) = audit(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("FAILED at seq {seq}:")), "{out}");
}

#[tokio::test]
async fn a_tampered_estate_is_frozen_and_signs_nothing() {
    let db = TestDb::new(Engine::Sqlite).await;
    let seq = estate_with_payments(&db).await;
    edit_entry(&db, seq, "6.00", "6.01").await;
    let store = db.open().await;
    let slug = trustfund::domain::Slug::parse("slug", "audited").unwrap();
    let before = store.latest_checkpoint(&slug).await.unwrap();
    let report = store.audit(&slug).await.unwrap();
    assert_eq!(report.failure.as_ref().and_then(|f| f.seq), Some(seq));
    let log = db
        .keys()
        .load(&slug, "trustfund.example/estates/audited")
        .unwrap();
    let draft = trustfund::ledger::Body::ClaimExpired { claim: 1 };
    let err = store
        .append(
            &slug,
            vec![draft.into()],
            trustfund::domain::Timestamp::now().unwrap(),
            &log,
        )
        .await
        .expect_err("a frozen estate appends nothing");
    assert!(
        matches!(err, trustfund::store::StoreError::Integrity(_)),
        "{err}"
    );
    assert_eq!(
        store.latest_checkpoint(&slug).await.unwrap(),
        before,
        "nothing new signed"
    );
}

#[tokio::test]
async fn serve_freezes_a_tampered_estate_and_every_page_says_so() {
    let db = TestDb::new(Engine::Sqlite).await;
    let seq = estate_with_payments(&db).await;
    edit_entry(&db, seq, "6.00", "6.50").await;

    let server = common::serve_binary(&db).await;
    let base = server.base.clone();
    for path in [
        "",
        "/ledger",
        "/claims",
        "/services",
        "/unit",
        &format!("/ledger/{seq}"),
    ] {
        for (lang, words) in [("zh", "自检未通过"), ("en", "failed its integrity check")] {
            let url = format!("{base}/estates/audited{path}?lang={lang}");
            let html = reqwest::get(&url).await.unwrap().text().await.unwrap();
            assert!(html.contains(words), "{url}: no warning");
            let alert = html
                .split("role=\"alert\"")
                .nth(1)
                .unwrap_or("")
                .split("</div>")
                .next()
                .unwrap_or("");
            assert!(
                alert.contains(&format!("seq {seq}")),
                "{url}: the warning must name seq {seq}: {alert}"
            );
        }
    }
    // And nothing new can be signed: the JSON API says why.
    let cp = reqwest::get(format!("{base}/estates/audited/log/checkpoint"))
        .await
        .unwrap();
    assert_eq!(cp.status(), 200, "reading stays possible");
    drop(server);
}

/// Runs raw SQL on the test database the way an intruder with the
/// database's password would.
async fn raw(db: &TestDb, sqls: &[&str]) {
    match db.engine {
        Engine::Sqlite => {
            let mut conn = sqlite(db).await;
            for sql in sqls {
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            }
            conn.close().await.unwrap();
        }
        Engine::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.database_url().unwrap())
                .await
                .unwrap();
            for sql in sqls {
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            }
            conn.close().await.unwrap();
        }
    }
}

/// The statement that lets an intruder edit an append-only table.
fn unguard(engine: Engine, table: &str) -> String {
    match engine {
        Engine::Sqlite => format!("DROP TRIGGER {table}_no_update"),
        Engine::Postgres => format!("ALTER TABLE {table} DISABLE TRIGGER USER"),
    }
}

/// Attack 5b of issue 10: two `units` rows swapped, so a payment typed for
/// 1-101 would carry 1-102's commitment into the public log.
async fn a_swapped_units_row_fails_naming_its_entry(engine: Engine) {
    let db = TestDb::new(engine).await;
    estate_with_payments(&db).await;
    let store = db.open().await;
    let seq_101: i64 = sqlx::query_scalar("SELECT seq FROM units WHERE unit_id = '1-101'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    let unguard = unguard(engine, "units");
    raw(
        &db,
        &[
            &unguard,
            "UPDATE units SET unit_id = 'swap' WHERE unit_id = '1-101'",
            "UPDATE units SET unit_id = '1-101' WHERE unit_id = '1-102'",
            "UPDATE units SET unit_id = '1-102' WHERE unit_id = 'swap'",
        ],
    )
    .await;
    let (code, out) = audit(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("FAILED at seq {seq_101}:")), "{out}");
    assert!(out.contains("units row"), "{out}");
}

/// Runs `trustfund audit --restore-triggers`; returns (exit code, output).
fn audit_restoring(db: &TestDb) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustfund"));
    cmd.args(["audit", "--restore-triggers", "--data-dir"])
        .arg(db.data_dir())
        .env_remove("DATABASE_URL");
    if let Some(url) = db.database_url() {
        cmd.env("DATABASE_URL", url);
    }
    let out = cmd
        .output()
        .expect("run trustfund audit --restore-triggers");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Attack 5c of issue 10: dropped append-only triggers were neither
/// detected nor restored. Each way of defeating one, on its own database.
async fn a_dropped_disabled_or_hollowed_trigger_fails_audit_until_restored(engine: Engine) {
    let tampers: Vec<(&str, Vec<&str>, &str)> = match engine {
        Engine::Sqlite => vec![
            ("entries_no_update", vec!["DROP TRIGGER entries_no_update"], "is missing"),
            (
                "bank_refs_no_delete",
                vec![
                    "DROP TRIGGER bank_refs_no_delete",
                    "CREATE TRIGGER bank_refs_no_delete BEFORE DELETE ON bank_refs BEGIN SELECT 1; END",
                ],
                "differs",
            ),
        ],
        Engine::Postgres => vec![
            ("entries_append_only", vec!["DROP TRIGGER entries_append_only ON entries"], "is missing"),
            (
                "units_no_truncate",
                vec!["ALTER TABLE units DISABLE TRIGGER units_no_truncate"],
                "is disabled",
            ),
            (
                "trustfund_append_only",
                vec!["CREATE OR REPLACE FUNCTION trustfund_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END; $$"],
                "differs",
            ),
        ],
    };
    for (name, sqls, what) in tampers {
        let db = TestDb::new(engine).await;
        estate_with_payments(&db).await;
        raw(&db, &sqls).await;
        let (code, out) = audit(&db);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains("FAILED"), "{name}: {out}");
        assert!(out.contains(name) && out.contains(what), "{name}: {out}");

        let (code, out) = audit_restoring(&db);
        assert_eq!(code, 0, "{name}: {out}");
        assert!(
            out.contains("restored: append-only trigger") && out.contains(name),
            "{name}: {out}"
        );
        let (code, out) = audit(&db);
        assert_eq!(code, 0, "{name}: {out}");
        // And it guards again.
        let store = db.open().await;
        let refused = sqlx::query("UPDATE entries SET kind = kind")
            .execute(store.pool())
            .await;
        store.close().await;
        if name != "units_no_truncate" && name != "bank_refs_no_delete" {
            assert!(refused.is_err(), "{name}: entries are append-only again");
        }
    }
}

#[tokio::test]
async fn serve_puts_a_dropped_trigger_back_on_start() {
    use std::io::BufRead;
    let db = TestDb::new(Engine::Sqlite).await;
    estate_with_payments(&db).await;
    raw(&db, &["DROP TRIGGER entries_no_delete"]).await;
    let mut server = common::serve_binary(&db).await;
    let stderr = server.stderr.take().unwrap();
    drop(server);
    let warnings: Vec<String> = std::io::BufReader::new(stderr)
        .lines()
        .map_while(|l| l.ok())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("entries_no_delete") && l.contains("restored")),
        "{warnings:?}"
    );
    let (code, out) = audit(&db);
    assert_eq!(code, 0, "{out}");
}

/// Balances, monthly totals, checkpoints and missing tree nodes used to
/// fail with no seq at all; each now names the first entry concerned.
async fn every_failure_class_names_its_first_bad_seq(engine: Engine) {
    // The log: 13 entries of genesis (seq 12 the opening balance) and the
    // fees at 13, 14, 15; a checkpoint after each append.
    let zero = match engine {
        Engine::Sqlite => "zeroblob(32)",
        Engine::Postgres => "decode(repeat('00', 32), 'hex')",
    };
    let opening_period = "(SELECT period FROM entries WHERE seq = 12)";
    let tampers: Vec<(&str, Vec<String>, u64)> = vec![
        (
            "balance",
            vec!["UPDATE balances SET balance_fen = balance_fen + 100 WHERE account = 'fund:operating'".into()],
            15,
        ),
        (
            "monthly total",
            vec![format!(
                "UPDATE monthly_totals SET debit_fen = debit_fen + 100 WHERE account = 'fund:operating' AND period = {opening_period}"
            )],
            12,
        ),
        (
            "checkpoint",
            vec![
                unguard(engine, "checkpoints"),
                format!("UPDATE checkpoints SET root = {zero} WHERE tree_size = 14"),
            ],
            13,
        ),
        (
            "tree node",
            vec![
                match engine {
                    Engine::Sqlite => "DROP TRIGGER tree_nodes_no_delete".into(),
                    Engine::Postgres => "ALTER TABLE tree_nodes DISABLE TRIGGER USER".into(),
                },
                "DELETE FROM tree_nodes WHERE level = 0 AND idx = 14".into(),
            ],
            14,
        ),
    ];
    for (what, sqls, seq) in tampers {
        let db = TestDb::new(engine).await;
        estate_with_payments(&db).await;
        let sqls: Vec<&str> = sqls.iter().map(String::as_str).collect();
        raw(&db, &sqls).await;
        let (code, out) = audit(&db);
        assert_eq!(code, 1, "{what}: {out}");
        assert!(
            out.contains(&format!("FAILED at seq {seq}:")),
            "{what} must be named by seq {seq}: {out}"
        );
    }
}

/// Attack 5a of issue 10: deleting a `bank_refs` row let the same bank
/// reference be credited twice, and audit passed. The payment now carries
/// a commitment to its reference, so the ledger's rule refuses the second
/// credit without the row, and audit checks the rows against the log.
async fn a_deleted_or_edited_bank_ref_row_fails_and_no_reference_is_credited_twice(engine: Engine) {
    for tamper in ["delete", "edit"] {
        let db = TestDb::new(engine).await;
        let store = db.open().await;
        let t = TestEstate::create(&store, &db.keys(), "audited").await;
        let paid = || {
            let mut d = t.fee_paid(1, "120.00");
            d.bank_ref =
                Some(trustfund::domain::BankRef::parse("reference", "ICBC-20260105-001").unwrap());
            d
        };
        let seq = t.append(&store, vec![paid()]).await.unwrap()[0].seq;
        t.append(&store, vec![t.fee_paid(2, "8.00")]).await.unwrap();
        store.close().await;
        let sqls: Vec<String> = match (tamper, engine) {
            ("delete", Engine::Sqlite) => vec!["DROP TRIGGER bank_refs_no_delete".into()],
            (_, Engine::Sqlite) => vec!["DROP TRIGGER bank_refs_no_update".into()],
            (_, Engine::Postgres) => vec!["ALTER TABLE bank_refs DISABLE TRIGGER USER".into()],
        };
        let change = if tamper == "delete" {
            "DELETE FROM bank_refs WHERE reference = 'ICBC-20260105-001'"
        } else {
            "UPDATE bank_refs SET reference = 'ICBC-20260105-009' WHERE reference = 'ICBC-20260105-001'"
        };
        let mut all: Vec<&str> = sqls.iter().map(String::as_str).collect();
        all.push(change);
        raw(&db, &all).await;

        let (code, out) = audit(&db);
        assert_eq!(code, 1, "{tamper}: {out}");
        assert!(
            out.contains(&format!("FAILED at seq {seq}:")),
            "{tamper}: {out}"
        );
        assert!(
            out.contains("bank_refs") || out.contains("bank reference"),
            "{tamper}: {out}"
        );

        // With the row gone (or renamed), the reference is still refused:
        // by the ledger's rule over the commitment in the log.
        let store = db.open().await;
        let before = store.tree_size(&t.slug).await.unwrap();
        let err = t
            .append(&store, vec![paid()])
            .await
            .expect_err("a bank reference is credited once");
        match err {
            trustfund::store::StoreError::Rule(r) => {
                assert_eq!(r.code, "duplicate_bank_ref", "{tamper}: {r}")
            }
            other => panic!("{tamper}: refused for the wrong reason: {other}"),
        }
        assert_eq!(
            store.tree_size(&t.slug).await.unwrap(),
            before,
            "nothing appended"
        );
        store.close().await;
    }
}
