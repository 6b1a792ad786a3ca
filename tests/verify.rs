//! `trustfund verify`: a bundle verifies, and every kind of tampering is
//! caught with its own message — including histories re-signed with the
//! real keys, which only a remembered checkpoint can expose.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Engine, TestDb, TestEstate};
use serde_json::Value;
use trustfund::domain::{Period, Timestamp};
use trustfund::ledger::jcs::canonicalize;
use trustfund::ledger::FundAccount;
use trustfund::store::Store;
use trustfund::tlog::checkpoint::{
    cosign_checkpoint, format_checkpoint, sign_checkpoint, Checkpoint,
};
use trustfund::tlog::note::{Note, Signer};
use trustfund::tlog::record_hash;
use trustfund::verify::{root_of, verify_bundle, Bundle, VerifyError};

/// A test estate with payments, a paid claim, a remuneration claim and
/// every month from January to October closed and witnessed by c1 and c2.
async fn witnessed_estate(
    store: &Store,
    db: &TestDb,
    slug: &str,
    extra_payment: &str,
) -> TestEstate {
    let t = TestEstate::create(store, &db.keys(), slug).await;
    for i in 0..6 {
        t.append(store, vec![t.fee_paid(i % 4, "160.80")])
            .await
            .unwrap();
    }
    t.append(store, vec![t.fee_paid(2, extra_payment)])
        .await
        .unwrap();
    let claim = t
        .append(store, vec![t.claim(FundAccount::Operating, "250.00")])
        .await
        .unwrap();
    t.append(store, vec![t.approve(&claim[0], &t.company)])
        .await
        .unwrap();
    t.append(store, vec![t.approve(&claim[0], &t.committee[0])])
        .await
        .unwrap();
    let now = Timestamp::now().unwrap();
    let mut period = Period::parse("p", "2026-01").unwrap();
    loop {
        let month_over = now.period_in(&trustfund::domain::EstateTz::SHANGHAI) > period;
        if !month_over {
            break;
        }
        let a = store
            .close_month(&t.slug, period, now, &t.log)
            .await
            .unwrap();
        let cp = store
            .checkpoint_at(&t.slug, a.seq + 1)
            .await
            .unwrap()
            .unwrap();
        let text = Note::parse(&cp.note).unwrap().text;
        for w in [&t.committee[0], &t.committee[1]] {
            let sig = cosign_checkpoint(&text, &w.1, now.unix() as u64).unwrap();
            store
                .cosign(&t.slug, a.seq + 1, &w.0, &sig, now)
                .await
                .unwrap();
        }
        period = period.next().unwrap();
    }
    t
}

fn bundle_err(b: &Bundle) -> VerifyError {
    verify_bundle(b, None).expect_err("tampered bundle must not verify")
}

/// Recomputes `prev` links from `from` on, as a forger with a database would.
fn rechain(entries: &mut [String], from: usize) {
    for i in from.max(1)..entries.len() {
        let mut v: Value = serde_json::from_str(&entries[i]).unwrap();
        v["prev"] = Value::from(record_hash(entries[i - 1].as_bytes()).to_hex());
        entries[i] = canonicalize(&v).unwrap();
    }
}

/// Re-signs a bundle's checkpoint with the real log key (and witnesses, if given).
fn resign(b: &mut Bundle, log: &Signer, witnesses: &[&Signer]) {
    let leaves: Vec<_> = b
        .entries
        .iter()
        .map(|e| record_hash(e.as_bytes()))
        .collect();
    let size = leaves.len() as u64;
    let cp = Checkpoint {
        origin: b.origin.clone(),
        tree_size: size,
        root: root_of(&leaves, size).unwrap(),
        extensions: vec![],
    };
    let mut note = sign_checkpoint(&cp, log).unwrap();
    let text = format_checkpoint(&cp);
    assert_eq!(note.text, text);
    for w in witnesses {
        note.signatures
            .push(cosign_checkpoint(&text, w, 1_790_000_000).unwrap());
    }
    b.checkpoint = note.format();
}

fn edit(b: &mut Bundle, seq: usize, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&b.entries[seq]).unwrap();
    f(&mut v);
    b.entries[seq] = canonicalize(&v).unwrap();
    rechain(&mut b.entries, seq + 1);
}

fn seq_of(b: &Bundle, kind: &str) -> usize {
    b.entries
        .iter()
        .position(|e| e.contains(&format!("\"kind\":\"{kind}\"")))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tampering_is_caught_with_its_own_message() {
    let db = TestDb::new(Engine::Sqlite).await;
    let store = db.open().await;
    let t = witnessed_estate(&store, &db, "honest", "99.99").await;
    let jan = Period::parse("p", "2026-01").unwrap();
    let good = store.bundle(&t.slug, Some(jan)).await.unwrap();
    let v = verify_bundle(&good, Some(&t.log.verifier_key())).expect("the honest bundle verifies");
    assert_eq!(v.witnesses.len(), 2);
    let full = store.bundle(&t.slug, None).await.unwrap();
    verify_bundle(&full, None).expect("the full log verifies");
    let n = good.entries.len();

    // One changed byte in any entry: every position of a payment's amount.
    let paid = seq_of(&good, "fee_paid");
    let pos = good.entries[paid].find("160.80").unwrap();
    for offset in 0..6 {
        let mut b = good.clone();
        let mut bytes = b.entries[paid].clone().into_bytes();
        bytes[pos + offset] = if bytes[pos + offset] == b'9' {
            b'1'
        } else {
            b'9'
        };
        b.entries[paid] = String::from_utf8(bytes).unwrap();
        let e = bundle_err(&b);
        // Named at the changed entry (its own postings no longer match) or
        // at the next one (whose prev no longer matches).
        let named = match &e {
            VerifyError::BrokenChain { seq, .. } => *seq == paid as u64 + 1,
            VerifyError::BadEntry { seq, .. } | VerifyError::Rule { seq, .. } => {
                *seq == paid as u64
            }
            _ => false,
        };
        assert!(named, "offset {offset}: {e}");
    }
    // The last entry changed: only the root can tell.
    let mut b = good.clone();
    let mut v: Value = serde_json::from_str(&b.entries[n - 1]).unwrap();
    v["arrears"] = Value::from("0.01");
    b.entries[n - 1] = canonicalize(&v).unwrap();
    assert!(matches!(
        bundle_err(&b),
        VerifyError::Rule {
            code: "wrong_figures",
            ..
        } | VerifyError::RootMismatch
    ));

    // Deleted, inserted, reordered.
    let mut b = good.clone();
    b.entries.remove(paid);
    assert!(
        matches!(bundle_err(&b), VerifyError::OutOfOrder { .. }),
        "deleted"
    );
    let mut b = good.clone();
    b.entries.insert(paid, good.entries[paid].clone());
    assert!(
        matches!(
            bundle_err(&b),
            VerifyError::OutOfOrder { .. } | VerifyError::BrokenChain { .. }
        ),
        "inserted"
    );
    let mut b = good.clone();
    b.entries.swap(paid, paid + 1);
    assert!(
        matches!(bundle_err(&b), VerifyError::OutOfOrder { .. }),
        "reordered"
    );
    // Truncated.
    let mut b = good.clone();
    b.entries.truncate(n - 2);
    assert!(
        matches!(bundle_err(&b), VerifyError::SizeMismatch { .. }),
        "truncated"
    );
    // Forged or missing log signature.
    let mut b = good.clone();
    let line = b
        .checkpoint
        .lines()
        .find(|l| l.contains(&t.origin()) && l.starts_with('\u{2014}'))
        .unwrap()
        .to_string();
    let mut forged = line.clone();
    forged.replace_range(
        forged.len() - 6..forged.len() - 5,
        if forged.ends_with('A') { "B" } else { "A" },
    );
    b.checkpoint = b.checkpoint.replace(&line, &forged);
    assert!(
        matches!(bundle_err(&b), VerifyError::LogSignature(_)),
        "forged log signature"
    );
    let mut b = good.clone();
    b.checkpoint = b.checkpoint.replace(&format!("{line}\n"), "");
    assert!(
        matches!(bundle_err(&b), VerifyError::LogSignature(_)),
        "missing log signature"
    );
    // Missing witness signatures.
    let mut b = good.clone();
    let kept: Vec<&str> = b
        .checkpoint
        .lines()
        .filter(|l| !l.contains("/members/"))
        .collect();
    b.checkpoint = kept.join("\n") + "\n";
    assert_eq!(bundle_err(&b), VerifyError::Quorum { have: 0, need: 2 });

    // A disbursement with only the company's signature, re-signed with the real keys.
    let mut b = good.clone();
    let exec = seq_of(&b, "disbursement_executed");
    edit(&mut b, exec, |v| {
        let first = v["approvals"][0].clone();
        v["approvals"] = Value::from(vec![first]);
    });
    resign(
        &mut b,
        t.log.signer(),
        &[&t.committee[0].1, &t.committee[1].1],
    );
    match bundle_err(&b) {
        VerifyError::Rule {
            seq,
            code: "policy_not_met",
            ..
        } => assert_eq!(seq, exec as u64),
        e => panic!("{e}"),
    }
    // A statement one fen off, re-signed with the real keys.
    let mut b = good.clone();
    let st = seq_of(&b, "statement_published");
    edit(&mut b, st, |v| {
        let fen: f64 = v["fees_collected"].as_str().unwrap().parse().unwrap();
        v["fees_collected"] = Value::from(format!("{:.2}", fen + 0.01));
    });
    resign(
        &mut b,
        t.log.signer(),
        &[&t.committee[0].1, &t.committee[1].1],
    );
    match bundle_err(&b) {
        VerifyError::Rule {
            seq,
            code: "wrong_figures",
            message,
        } => {
            assert_eq!(seq, st as u64);
            assert!(message.contains("fees_collected"), "{message}");
        }
        e => panic!("{e}"),
    }
    // Every message differs.
    let zh = VerifyError::Quorum { have: 0, need: 2 }.zh();
    assert!(zh.contains("见证"), "{zh}");
}

fn run_verify(file: &Path, state: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trustfund"))
        .args(["verify", "--lang", "en", "--state"])
        .arg(state)
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_history_is_caught_by_the_remembered_checkpoint() {
    // Two logs with the same keys that differ in one payment: each verifies
    // alone (the forger has the log key and the witnesses' keys), but a
    // verifier that remembered the first rejects the second.
    let (da, db_) = (
        TestDb::new(Engine::Sqlite).await,
        TestDb::new(Engine::Sqlite).await,
    );
    let (sa, sb) = (da.open().await, db_.open().await);
    let ta = witnessed_estate(&sa, &da, "twin", "99.99").await;
    witnessed_estate(&sb, &db_, "twin", "98.99").await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("verified.json");
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    std::fs::write(
        &a,
        serde_json::to_string(&sa.bundle(&ta.slug, None).await.unwrap()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        &b,
        serde_json::to_string(&sb.bundle(&ta.slug, None).await.unwrap()).unwrap(),
    )
    .unwrap();

    let (code, out) = run_verify(&a, &state);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("VERIFIED") && out.contains("first time"),
        "{out}"
    );
    let (code, out) = run_verify(&a, &state);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("consistent with the checkpoint remembered"),
        "{out}"
    );
    // The other history verifies on its own…
    let (code, out) = run_verify(&b, &dir.path().join("fresh.json"));
    assert_eq!(code, 0, "{out}");
    // …and is caught against what was remembered, with both checkpoints kept.
    let (code, out) = run_verify(&b, &state);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REWRITTEN HISTORY"), "{out}");
    let evidence: Vec<_> = std::fs::read_dir(dir.path().join("evidence"))
        .unwrap()
        .collect();
    assert_eq!(evidence.len(), 2, "both signed checkpoints saved");
    // A shorter log than the one remembered is caught too.
    let jan = sa
        .bundle(&ta.slug, Some(Period::parse("p", "2026-01").unwrap()))
        .await
        .unwrap();
    let short = dir.path().join("short.json");
    std::fs::write(&short, serde_json::to_string(&jan).unwrap()).unwrap();
    let (code, out) = run_verify(&short, &state);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("shorter"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_statement_bundle_verifies() {
    let db = TestDb::new(Engine::Sqlite).await;
    let store = db.open().await;
    let summary = trustfund::demo::load(
        &store,
        &db.keys(),
        Period::parse("a", "2026-11").unwrap(),
        Timestamp::from_unix(1_795_060_800).unwrap(),
    )
    .await
    .unwrap();
    let periods: Vec<Period> = store
        .with_state(&summary.slug, |s| s.statements().keys().copied().collect())
        .await
        .unwrap();
    assert_eq!(periods.len(), 12, "twelve closed months");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("verified.json");
    for p in periods {
        let file = dir.path().join(format!("{p}.json"));
        std::fs::write(
            &file,
            serde_json::to_string(&store.bundle(&summary.slug, Some(p)).await.unwrap()).unwrap(),
        )
        .unwrap();
        let (code, out) = run_verify(&file, &state);
        assert_eq!(code, 0, "{p}: {out}");
        assert!(out.contains(&format!("statement {p}")), "{out}");
        assert!(out.contains("witnessed by c1, c2, c3, c4"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_url_checks_the_live_log_against_what_it_remembered() {
    use std::sync::Arc;
    let db = TestDb::new(Engine::Sqlite).await;
    let store = Arc::new(db.open().await);
    let t = TestEstate::create(&store, &db.keys(), "live").await;
    // --url holds the live checkpoint to the same quorum as a bundle.
    let witnesses = [&t.committee[0], &t.committee[1]];
    common::cosign_latest(&store, &t, &witnesses).await;
    let app = trustfund::http::router(trustfund::http::AppState::new(store.clone(), db.keys()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("verified.json");
    let run = |args: Vec<String>| {
        let state = state.clone();
        async move {
            // The binary talks to this process's server: run it off the runtime.
            let out = tokio::task::spawn_blocking(move || {
                Command::new(env!("CARGO_BIN_EXE_trustfund"))
                    .args(["verify", "--lang", "en", "--state"])
                    .arg(&state)
                    .args(&args)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        }
    };
    let args = vec![
        "--url".to_string(),
        base.clone(),
        "--estate".into(),
        "live".into(),
    ];
    let (code, out) = run(args.clone()).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("first use") && out.contains("first time"),
        "{out}"
    );
    for _ in 0..5 {
        t.append(&store, vec![t.fee_paid(1, "8.00")]).await.unwrap();
    }
    common::cosign_latest(&store, &t, &witnesses).await;
    let (code, out) = run(args.clone()).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("consistent with the checkpoint remembered before, size 13"),
        "{out}"
    );
    // A pinned key that is not the log's is refused.
    let other = trustfund::tlog::note::Signer::from_seed(
        &t.origin(),
        trustfund::tlog::note::ALG_ED25519,
        &[77; 32],
    )
    .unwrap();
    let mut pinned = args.clone();
    pinned.extend(["--log-key".to_string(), other.verifier_key().format()]);
    let (code, out) = run(pinned).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("VERIFICATION FAILED"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_receipt_verifies_offline() {
    use std::sync::Arc;
    let db = TestDb::new(Engine::Sqlite).await;
    let store = Arc::new(db.open().await);
    let t = witnessed_estate(&store, &db, "receipts", "42.00").await;
    let app = trustfund::http::router(trustfund::http::AppState::new(store.clone(), db.keys()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let full = store.bundle(&t.slug, None).await.unwrap();
    let paid = full
        .entries
        .iter()
        .position(|e| e.contains("\"amount\":\"42.00\""))
        .unwrap();
    let r = reqwest::get(format!("{base}/estates/receipts/receipts/{paid}"))
        .await
        .unwrap();
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("receipt-receipts-{paid}.json")));
    let receipt = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(v["format"], "trustfund-receipt/v1");
    assert!(v["proof"]
        .as_str()
        .unwrap()
        .starts_with("c2sp.org/tlog-proof@v1\n"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("receipt.json");
    std::fs::write(&file, &receipt).unwrap();
    let log_key = t.log.verifier_key().format();
    let check = |file: std::path::PathBuf| {
        let log_key = log_key.clone();
        tokio::task::spawn_blocking(move || {
            let out = Command::new(env!("CARGO_BIN_EXE_trustfund"))
                .args(["verify-receipt", "--lang", "en", "--log-key", &log_key])
                .arg(&file)
                .output()
                .unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        })
    };
    let (code, out) = check(file.clone()).await.unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&paid.to_string()), "{out}");
    // The same receipt with the amount changed is refused.
    std::fs::write(&file, receipt.replace("42.00", "24.00")).unwrap();
    let (code, out) = check(file).await.unwrap();
    assert_eq!(code, 1, "{out}");
}
