//! The storage suite, run against SQLite and PostgreSQL alike.

mod common;

use std::sync::Arc;

use common::{money, Engine, TestDb, TestEstate};
use trustfund::ledger::FundAccount;
use trustfund::store::{Store, StoreError};

both_engines!(
    append_only_is_enforced_by_the_database,
    concurrent_appends_form_one_unbroken_chain,
    two_stores_on_one_database_never_fork_the_chain,
    overdraw_is_refused_and_changes_nothing,
    dual_key_claim_executes_once_and_balances_follow,
    remuneration_above_entitlement_is_refused,
    proofs_verify_against_signed_checkpoints,
    a_fresh_log_audits_clean,
    racing_spends_never_overdraw,
    ledger_rules_refuse_with_named_codes,
);

async fn fund_balance(store: &Store, t: &TestEstate, account: &str) -> i64 {
    store
        .balances(&t.slug)
        .await
        .unwrap()
        .into_iter()
        .find(|(a, _)| a == account)
        .map(|(_, b)| b)
        .unwrap_or(0)
}

async fn append_only_is_enforced_by_the_database(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "guarded").await;
    let pool = store.pool();
    let tables = [
        (
            "entries",
            "UPDATE entries SET body = 'x' WHERE seq = 0",
            "DELETE FROM entries WHERE seq = 0",
        ),
        (
            "postings",
            "UPDATE postings SET debit_fen = debit_fen + 1",
            "DELETE FROM postings",
        ),
        (
            "tree_nodes",
            "UPDATE tree_nodes SET idx = idx",
            "DELETE FROM tree_nodes",
        ),
        (
            "checkpoints",
            "UPDATE checkpoints SET note = ''",
            "DELETE FROM checkpoints",
        ),
        (
            "estates",
            "UPDATE estates SET name = 'x'",
            "DELETE FROM estates",
        ),
        (
            "units",
            "UPDATE units SET secret = 'x'",
            "DELETE FROM units",
        ),
    ];
    for (table, update, delete) in tables {
        let e = sqlx::query(update)
            .execute(pool)
            .await
            .expect_err(&format!("UPDATE on {table} must fail"));
        assert!(e.to_string().contains("append-only"), "{table}: {e}");
        let e = sqlx::query(delete)
            .execute(pool)
            .await
            .expect_err(&format!("DELETE on {table} must fail"));
        assert!(e.to_string().contains("append-only"), "{table}: {e}");
    }
    match engine {
        Engine::Sqlite => {
            let replace = "INSERT OR REPLACE INTO entries (estate, seq, kind, time, period, hash, prev, body) \
                           SELECT estate, seq, kind, time, period, hash, prev, 'forged' FROM entries WHERE seq = 1";
            let e = sqlx::query(replace)
                .execute(pool)
                .await
                .expect_err("INSERT OR REPLACE must fail");
            assert!(e.to_string().contains("append-only"), "{e}");
            let upsert = "INSERT INTO estates (slug, name, origin, created_at) VALUES ('guarded', 'x', 'y', 'z') \
                          ON CONFLICT (slug) DO UPDATE SET name = excluded.name";
            assert!(
                sqlx::query(upsert).execute(pool).await.is_err(),
                "upsert must fail"
            );
        }
        Engine::Postgres => {
            for table in [
                "entries",
                "postings",
                "tree_nodes",
                "checkpoints",
                "estates",
                "units",
            ] {
                let e = sqlx::query(&format!("TRUNCATE {table} CASCADE"))
                    .execute(pool)
                    .await
                    .expect_err("TRUNCATE must fail");
                assert!(e.to_string().contains("append-only"), "{table}: {e}");
            }
        }
    }
    // Still intact, and still auditable.
    let report = store.audit(&t.slug).await.unwrap();
    assert_eq!(report.failure, None);
    assert_eq!(
        store
            .entry_bytes(&t.slug, 0)
            .await
            .unwrap()
            .map(|b| b.starts_with('{')),
        Some(true)
    );
}

async fn concurrent_appends_form_one_unbroken_chain(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = Arc::new(db.open().await);
    let t = Arc::new(TestEstate::create(&store, &db.keys(), "busy").await);
    let before = store.tree_size(&t.slug).await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..16 {
        let (store, t) = (store.clone(), t.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                t.append(&store, vec![t.fee_paid(task % 4, "1.00")])
                    .await
                    .expect("append");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.tree_size(&t.slug).await.unwrap(), before + 80);
    let report = store.audit(&t.slug).await.unwrap();
    assert_eq!(
        report.failure, None,
        "chain must verify after concurrent appends"
    );
    assert_eq!(
        fund_balance(&store, &t, "fund:operating").await,
        100_000 + 80 * 100
    );
}

async fn two_stores_on_one_database_never_fork_the_chain(engine: Engine) {
    // Two Store values stand for two server processes: only the database
    // lock can keep them from both appending the same seq.
    let db = TestDb::new(engine).await;
    let a = Arc::new(db.open().await);
    let b = Arc::new(db.open().await);
    let t = Arc::new(TestEstate::create(&a, &db.keys(), "twins").await);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (store, t) = (if i % 2 == 0 { a.clone() } else { b.clone() }, t.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..4 {
                t.append(&store, vec![t.fee_paid(0, "2.00")])
                    .await
                    .expect("append");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(a.audit(&t.slug).await.unwrap().failure, None);
    assert_eq!(b.audit(&t.slug).await.unwrap().failure, None);
    assert_eq!(
        fund_balance(&a, &t, "fund:operating").await,
        100_000 + 40 * 200
    );
}

async fn overdraw_is_refused_and_changes_nothing(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "thrifty").await;
    let claim = t
        .append(&store, vec![t.claim(FundAccount::Operating, "1000.01")])
        .await
        .unwrap();
    t.append(&store, vec![t.approve(&claim[0], &t.company)])
        .await
        .unwrap();
    let size = store.tree_size(&t.slug).await.unwrap();
    let balances = store.balances(&t.slug).await.unwrap();
    let checkpoint = store.latest_checkpoint(&t.slug).await.unwrap();

    let err = t
        .append(&store, vec![t.approve(&claim[0], &t.committee[0])])
        .await
        .expect_err("must not overdraw");
    match err {
        StoreError::Rule(r) => assert_eq!(r.code, "insufficient_funds", "{r}"),
        other => panic!("expected a rule error, got {other}"),
    }
    assert_eq!(
        store.tree_size(&t.slug).await.unwrap(),
        size,
        "no entry written"
    );
    assert_eq!(
        store.balances(&t.slug).await.unwrap(),
        balances,
        "no balance changed"
    );
    assert_eq!(
        store.latest_checkpoint(&t.slug).await.unwrap(),
        checkpoint,
        "nothing signed"
    );
    assert_eq!(store.audit(&t.slug).await.unwrap().failure, None);

    // One fen less fits exactly, and leaves exactly zero.
    let claim = t
        .append(&store, vec![t.claim(FundAccount::Operating, "1000.00")])
        .await
        .unwrap();
    t.append(&store, vec![t.approve(&claim[0], &t.company)])
        .await
        .unwrap();
    let done = t
        .append(&store, vec![t.approve(&claim[0], &t.committee[1])])
        .await
        .unwrap();
    assert_eq!(
        done.iter().map(|a| a.kind).collect::<Vec<_>>(),
        ["claim_approved", "disbursement_executed"]
    );
    assert_eq!(fund_balance(&store, &t, "fund:operating").await, 0);
}

async fn dual_key_claim_executes_once_and_balances_follow(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "dual").await;
    let claim = t
        .append(&store, vec![t.claim(FundAccount::Operating, "300.00")])
        .await
        .unwrap();
    // The company alone is not enough.
    let one = t
        .append(&store, vec![t.approve(&claim[0], &t.company)])
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(fund_balance(&store, &t, "fund:operating").await, 100_000);
    // The same key twice is refused, not counted.
    let again = t
        .append(&store, vec![t.approve(&claim[0], &t.company)])
        .await
        .expect_err("same key twice");
    assert!(
        matches!(again, StoreError::Rule(ref r) if r.code == "already_approved"),
        "{again}"
    );
    // Community observers never move money.
    let obs = t
        .append(&store, vec![t.approve(&claim[0], &t.community)])
        .await
        .expect_err("observer");
    assert!(
        matches!(obs, StoreError::Rule(ref r) if r.code == "not_allowed"),
        "{obs}"
    );
    // Company + committee: executes, exactly once.
    let two = t
        .append(&store, vec![t.approve(&claim[0], &t.committee[0])])
        .await
        .unwrap();
    assert_eq!(two[1].kind, "disbursement_executed");
    let late = t
        .append(&store, vec![t.approve(&claim[0], &t.committee[1])])
        .await
        .expect_err("claim closed");
    assert!(
        matches!(late, StoreError::Rule(ref r) if r.code == "claim_closed"),
        "{late}"
    );
    assert_eq!(fund_balance(&store, &t, "fund:operating").await, 70_000);
    assert_eq!(fund_balance(&store, &t, "expense:repairs").await, 30_000);
    // A signature for one claim is useless for another.
    let other = t
        .append(&store, vec![t.claim(FundAccount::Operating, "1.00")])
        .await
        .unwrap();
    let mut forged = t.approve(&claim[0], &t.committee[2]);
    if let trustfund::ledger::Body::ClaimApproved {
        claim, claim_hash, ..
    } = &mut forged.body
    {
        *claim = other[0].seq;
        *claim_hash = other[0].hash;
    }
    let e = t
        .append(&store, vec![forged])
        .await
        .expect_err("replayed signature");
    assert!(
        matches!(e, StoreError::Rule(ref r) if r.code == "bad_signature"),
        "{e}"
    );
    assert_eq!(store.audit(&t.slug).await.unwrap().failure, None);
}

async fn remuneration_above_entitlement_is_refused(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "fair").await;
    // ¥123.45 collected this month: entitlement 10% = ¥12.345 → ¥12.35 (half away from zero).
    t.append(&store, vec![t.fee_paid(0, "123.45")])
        .await
        .unwrap();
    let period = store
        .with_state(&t.slug, |s| s.period_of(s.last_time().unwrap()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        store
            .with_state(&t.slug, |s| s.entitlement(period))
            .await
            .unwrap(),
        money("12.35")
    );
    let e = t
        .append(&store, vec![t.remuneration_claim(period, "12.36")])
        .await
        .expect_err("one fen above");
    assert!(
        matches!(e, StoreError::Rule(ref r) if r.code == "above_entitlement"),
        "{e}"
    );
    t.append(&store, vec![t.remuneration_claim(period, "12.00")])
        .await
        .unwrap();
    // Pending claims count against what is left.
    let e = t
        .append(&store, vec![t.remuneration_claim(period, "0.36")])
        .await
        .expect_err("0.35 left");
    assert!(
        matches!(e, StoreError::Rule(ref r) if r.code == "above_entitlement"),
        "{e}"
    );
    t.append(&store, vec![t.remuneration_claim(period, "0.35")])
        .await
        .unwrap();
}

async fn proofs_verify_against_signed_checkpoints(engine: Engine) {
    use trustfund::tlog::checkpoint::open_checkpoint;
    use trustfund::tlog::record_hash;
    use trustfund::tlog::tree::{check_consistency, check_inclusion};
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "proven").await;
    let old = store.latest_checkpoint(&t.slug).await.unwrap().unwrap();
    for i in 0..7 {
        t.append(&store, vec![t.fee_paid(i % 4, "3.00")])
            .await
            .unwrap();
    }
    let new = store.latest_checkpoint(&t.slug).await.unwrap().unwrap();
    let (cp, _, _) = open_checkpoint(&new.note, &t.log.verifier_key(), &[]).unwrap();
    assert_eq!(cp.tree_size, store.tree_size(&t.slug).await.unwrap());
    for index in 0..cp.tree_size {
        let bytes = store.entry_bytes(&t.slug, index).await.unwrap().unwrap();
        let proof = store
            .inclusion_proof(&t.slug, index, cp.tree_size)
            .await
            .unwrap();
        check_inclusion(
            &proof,
            index,
            cp.tree_size,
            &record_hash(bytes.as_bytes()),
            &cp.root,
        )
        .unwrap();
    }
    let proof = store
        .consistency_proof(&t.slug, old.tree_size, new.tree_size)
        .await
        .unwrap();
    check_consistency(&proof, old.tree_size, new.tree_size, &old.root, &new.root).unwrap();
    // Out-of-range requests are refused, not answered with nonsense.
    assert!(store
        .inclusion_proof(&t.slug, cp.tree_size, cp.tree_size)
        .await
        .is_err());
    assert!(store
        .inclusion_proof(&t.slug, 0, cp.tree_size + 1)
        .await
        .is_err());
    assert!(store
        .consistency_proof(&t.slug, new.tree_size, old.tree_size)
        .await
        .is_err());
}

async fn a_fresh_log_audits_clean(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "clean").await;
    let report = store.audit(&t.slug).await.unwrap();
    assert_eq!(report.failure, None);
    assert_eq!(report.entries, store.tree_size(&t.slug).await.unwrap());
    assert_eq!(report.checkpoints, 1);
    // Reopening (a restart) sees the same log.
    drop(store);
    let store = db.open().await;
    assert_eq!(store.audit(&t.slug).await.unwrap().failure, None);
    let _ = money("0");
}

async fn racing_spends_never_overdraw(engine: Engine) {
    // Two claims of ¥600 against ¥1,000, both one signature short; the last
    // signatures arrive at the same moment through two separate stores.
    let db = TestDb::new(engine).await;
    let a = Arc::new(db.open().await);
    let b = Arc::new(db.open().await);
    let t = Arc::new(TestEstate::create(&a, &db.keys(), "racy").await);
    let mut claims = Vec::new();
    for _ in 0..2 {
        let c = t
            .append(&a, vec![t.claim(FundAccount::Operating, "600.00")])
            .await
            .unwrap();
        t.append(&a, vec![t.approve(&c[0], &t.company)])
            .await
            .unwrap();
        claims.push(c[0].clone());
    }
    let mut tasks = Vec::new();
    for (i, claim) in claims.into_iter().enumerate() {
        let (store, t) = (if i == 0 { a.clone() } else { b.clone() }, t.clone());
        tasks.push(tokio::spawn(async move {
            t.append(&store, vec![t.approve(&claim, &t.committee[i])])
                .await
        }));
    }
    let mut paid = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(done) => {
                assert_eq!(done[1].kind, "disbursement_executed");
                paid += 1;
            }
            Err(StoreError::Rule(r)) => assert_eq!(r.code, "insufficient_funds", "{r}"),
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(paid, 1, "exactly one spend fits");
    assert_eq!(fund_balance(&a, &t, "fund:operating").await, 40_000);
    assert_eq!(a.audit(&t.slug).await.unwrap().failure, None);
}

async fn ledger_rules_refuse_with_named_codes(engine: Engine) {
    use trustfund::domain::{Name, Period, Purpose, Rate};
    use trustfund::ledger::{Body, Role};
    use trustfund::tlog::note::{Signer, ALG_COSIGNATURE_V1};
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "strict").await;
    let size = store.tree_size(&t.slug).await.unwrap();
    let code = |r: Result<_, StoreError>| match r {
        Err(StoreError::Rule(r)) => r.code,
        other => panic!("expected a rule error, got {other:?}"),
    };
    let enrol = |id: &str, name: &str, seed: [u8; 32]| -> trustfund::store::Draft {
        let signer = Signer::from_seed(name, ALG_COSIGNATURE_V1, &seed).unwrap();
        Body::MemberEnrolled {
            member: trustfund::domain::MemberId::parse("m", id).unwrap(),
            name: Name::parse("n", id).unwrap(),
            role: Role::Committee,
            key: signer.verifier_key().format(),
        }
        .into()
    };
    let origin = t.origin();
    // A key must be named after its member, must be fresh, and must not be the log key.
    assert_eq!(
        code(
            t.append(&store, vec![enrol("c9", "someone-else", [40; 32])])
                .await
        ),
        "bad_key"
    );
    assert_eq!(
        code(
            t.append(
                &store,
                vec![enrol("c9", &format!("{origin}/members/c9"), [11; 32])]
            )
            .await
        ),
        "key_reused"
    );
    assert_eq!(
        code(
            t.append(
                &store,
                vec![enrol("c9", &format!("{origin}/members/c9"), [1; 32])]
            )
            .await
        ),
        "key_reused"
    );
    assert_eq!(
        code(
            t.append(
                &store,
                vec![enrol("none", &format!("{origin}/members/none"), [41; 32])]
            )
            .await
        ),
        "bad_member"
    );
    // Months are billed late, never early.
    let next = Period::parse("p", "2999-12").unwrap();
    let charge = Body::FeesCharged {
        period: next,
        rate: Rate::parse("r", "2.00").unwrap(),
        units: 4,
        postings: vec![],
    };
    assert_eq!(
        code(t.append(&store, vec![charge.into()]).await),
        "future_period"
    );
    // A zero quote means nothing; refuse it.
    let mut claim = t.claim(FundAccount::Operating, "10.00");
    if let Body::ClaimSubmitted { quote, .. } = &mut claim.body {
        *quote = Some(money("0.00"));
    }
    assert_eq!(code(t.append(&store, vec![claim]).await), "bad_quote");
    assert_eq!(
        store.tree_size(&t.slug).await.unwrap(),
        size,
        "refusals write nothing"
    );

    // Once money moves, opening balances are over.
    let paid = t
        .append(&store, vec![t.fee_paid(0, "100.00")])
        .await
        .unwrap();
    let opening = Body::OpeningBalance {
        account: FundAccount::Reserve,
        amount: money("1.00"),
        memo: Purpose::parse("m", "late").unwrap(),
        postings: vec![],
    };
    assert_eq!(
        code(t.append(&store, vec![opening.into()]).await),
        "too_late"
    );
    // Remuneration taken against a payment cannot outlive a correction of it.
    let period = store
        .with_state(&t.slug, |s| s.period_of(s.last_time().unwrap()).unwrap())
        .await
        .unwrap();
    t.append(&store, vec![t.remuneration_claim(period, "10.00")])
        .await
        .unwrap();
    let fix = Body::Correction {
        corrects: paid[0].seq,
        corrects_hash: paid[0].hash,
        reason: trustfund::domain::Reason::parse("r", "entered twice").unwrap(),
        postings: vec![],
    };
    assert_eq!(
        code(t.append(&store, vec![fix.into()]).await),
        "remuneration_exceeded"
    );
    assert_eq!(store.audit(&t.slug).await.unwrap().failure, None);
}
