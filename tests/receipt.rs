//! Payment receipts end to end: built from what the store serves, checked
//! by the real `trustfund verify-receipt` binary, offline, and refused with
//! a distinct reason for each kind of tampering.

mod common;

use std::process::Command;

use serde_json::{json, Value};
use tempfile::TempDir;

use common::{Engine, TestDb, TestEstate};
use trustfund::tlog::note::{sign_note, Note, Signer, ALG_ED25519};
use trustfund::tlog::proof::{build_proof, format_proof, parse_proof};

const AMOUNT: &str = "123.45";

/// A receipt for a ¥123.45 payment in a log with entries after it.
struct Fixture {
    // Keeps the database alive for the test's duration.
    _db: TestDb,
    receipt: Value,
    seq: u64,
    tree_size: u64,
    origin: String,
    log_vkey: String,
}

async fn fixture() -> Fixture {
    let db = TestDb::new(Engine::Sqlite).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "receipts").await;
    t.append(&store, vec![t.fee_paid(0, "10.00")])
        .await
        .unwrap();
    let paid = t.append(&store, vec![t.fee_paid(1, AMOUNT)]).await.unwrap();
    let seq = paid[0].seq;
    assert_eq!(paid[0].kind, "fee_paid");
    t.append(&store, vec![t.fee_paid(2, "30.00"), t.fee_paid(3, "40.00")])
        .await
        .unwrap();

    // Exactly what the server does for GET …/receipt: entry bytes, the
    // latest checkpoint, the inclusion proof at that checkpoint's size.
    let entry = store.entry_bytes(&t.slug, seq).await.unwrap().unwrap();
    let cp = store.latest_checkpoint(&t.slug).await.unwrap().unwrap();
    let path = store
        .inclusion_proof(&t.slug, seq, cp.tree_size)
        .await
        .unwrap();
    let proof = build_proof(entry.as_bytes(), seq, path, &cp.note).unwrap();
    let log_vkey = t.log.verifier_key().format();
    let receipt = json!({
        "format": "trustfund-receipt/v1",
        "origin": t.origin(),
        "log_key": log_vkey,
        "entry": entry,
        "proof": format_proof(&proof),
    });
    store.close().await;
    Fixture {
        _db: db,
        receipt,
        seq,
        tree_size: cp.tree_size,
        origin: t.origin(),
        log_vkey,
    }
}

/// Writes `receipt` to a file and runs `trustfund verify-receipt FILE ARGS`;
/// returns (exit code, stdout and stderr).
fn verify(receipt: &Value, args: &[&str]) -> (i32, String) {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("receipt.json");
    std::fs::write(&file, serde_json::to_vec(receipt).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trustfund"))
        .arg("verify-receipt")
        .arg(&file)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run trustfund verify-receipt");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn text(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap().to_string()
}

fn with(v: &Value, field: &str, value: String) -> Value {
    let mut v = v.clone();
    v[field] = Value::String(value);
    v
}

/// The checkpoint inside `proof_text`, re-signed by `signer` alone.
fn resign(proof_text: &str, signer: &Signer) -> String {
    let mut p = parse_proof(proof_text).unwrap();
    let note = Note::parse(&p.checkpoint).unwrap();
    let sig = sign_note(&note.text, signer, 0).unwrap();
    p.checkpoint = Note {
        signatures: vec![sig],
        ..note
    }
    .format();
    format_proof(&p)
}

fn impostor(origin: &str) -> Signer {
    Signer::from_seed(origin, ALG_ED25519, &[77u8; 32]).unwrap()
}

#[tokio::test]
async fn a_valid_receipt_verifies_offline() {
    let f = fixture().await;
    let (code, out) = verify(&f.receipt, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("第 {} 条", f.seq)), "{out}");
    assert!(out.contains(AMOUNT), "{out}");
    assert!(out.contains(&format!("共 {} 条", f.tree_size)), "{out}");
    assert!(out.contains("log key not pinned"), "{out}");

    let (code, out) = verify(&f.receipt, &["--lang", "en", "--log-key", &f.log_vkey]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("seq {}, fee_paid", f.seq)), "{out}");
    assert!(out.contains(&format!("amount ¥{AMOUNT}")), "{out}");
    assert!(
        out.contains(&format!("checkpoint size {}", f.tree_size)),
        "{out}"
    );
    assert!(out.contains(&f.origin), "{out}");
    assert!(!out.contains("not pinned"), "{out}");
}

#[tokio::test]
async fn a_changed_amount_is_a_changed_entry() {
    let f = fixture().await;
    let entry = text(&f.receipt, "entry").replace(AMOUNT, "923.45");
    let (code, out) = verify(&with(&f.receipt, "entry", entry), &["--lang", "en"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("entry changed"), "{out}");
    let entry = text(&f.receipt, "entry").replace(AMOUNT, "923.45");
    let (code, out) = verify(&with(&f.receipt, "entry", entry), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("条目被改动"), "{out}");
}

#[tokio::test]
async fn a_flipped_proof_hash_is_a_bad_proof() {
    let f = fixture().await;
    let mut p = parse_proof(&text(&f.receipt, "proof")).unwrap();
    assert!(!p.proof.is_empty());
    p.proof[0].0[31] ^= 0x80;
    let (code, out) = verify(
        &with(&f.receipt, "proof", format_proof(&p)),
        &["--lang", "en"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bad proof"), "{out}");
}

#[tokio::test]
async fn a_wrong_index_is_named() {
    let f = fixture().await;
    let proof = text(&f.receipt, "proof").replace(
        &format!("\nindex {}\n", f.seq),
        &format!("\nindex {}\n", f.seq + 1),
    );
    let (code, out) = verify(&with(&f.receipt, "proof", proof), &["--lang", "en"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("wrong index"), "{out}");
}

#[tokio::test]
async fn a_checkpoint_signed_by_another_key_is_refused() {
    let f = fixture().await;
    let proof = resign(&text(&f.receipt, "proof"), &impostor(&f.origin));
    let (code, out) = verify(&with(&f.receipt, "proof", proof), &["--lang", "en"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signature invalid"), "{out}");
}

/// A receipt forged whole — checkpoint and `log_key` both from another
/// key — is consistent in itself, so only pinning the estate's real key
/// catches it; unpinned, the report says the key was not pinned.
#[tokio::test]
async fn only_a_pinned_log_key_catches_a_forged_key() {
    let f = fixture().await;
    let fake = impostor(&f.origin);
    let forged = with(
        &with(
            &f.receipt,
            "proof",
            resign(&text(&f.receipt, "proof"), &fake),
        ),
        "log_key",
        fake.verifier_key().format(),
    );
    let (code, out) = verify(&forged, &["--lang", "en"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("log key not pinned"), "{out}");
    let (code, out) = verify(&forged, &["--lang", "en", "--log-key", &f.log_vkey]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("log key mismatch"), "{out}");
}

#[tokio::test]
async fn a_pinned_key_of_another_log_is_refused() {
    let f = fixture().await;
    // Same log name, another key.
    let other = impostor(&f.origin).verifier_key().format();
    let (code, out) = verify(&f.receipt, &["--lang", "en", "--log-key", &other]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("log key mismatch"), "{out}");
    // Another estate's key.
    let other = impostor("trustfund.example/estates/elsewhere")
        .verifier_key()
        .format();
    let (code, out) = verify(&f.receipt, &["--lang", "en", "--log-key", &other]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("wrong estate"), "{out}");
    // Not a key at all is a usage error, not a verdict on the receipt.
    let (code, out) = verify(&f.receipt, &["--log-key", "nonsense"]);
    assert_eq!(code, 2, "{out}");
}

/// The default (Chinese) report names each kind of tampering in its own
/// words, and only those.
#[tokio::test]
async fn each_tampering_gets_its_own_message() {
    let f = fixture().await;
    let r = &f.receipt;
    let mut flipped = parse_proof(&text(r, "proof")).unwrap();
    flipped.proof[0].0[0] ^= 1;
    let moved = text(r, "proof").replace(
        &format!("\nindex {}\n", f.seq),
        &format!("\nindex {}\n", f.seq + 1),
    );
    let other = impostor(&f.origin).verifier_key().format();
    let elsewhere = impostor("trustfund.example/estates/elsewhere")
        .verifier_key()
        .format();
    let cases: Vec<(Value, Vec<&str>, &str)> = vec![
        (
            with(r, "entry", text(r, "entry").replace(AMOUNT, "923.45")),
            vec![],
            "条目被改动",
        ),
        (
            with(r, "entry", text(r, "entry").replace("\"v\":1", "\"v\":9")),
            vec![],
            "条目已损坏",
        ),
        (with(r, "proof", format_proof(&flipped)), vec![], "证明无效"),
        (with(r, "proof", moved), vec![], "序号不符"),
        (
            with(r, "proof", resign(&text(r, "proof"), &impostor(&f.origin))),
            vec![],
            "签名无效",
        ),
        (r.clone(), vec!["--log-key", &other], "日志密钥不符"),
        (r.clone(), vec!["--log-key", &elsewhere], "小区不符"),
    ];
    let phrases: Vec<&str> = cases.iter().map(|c| c.2).collect();
    for (receipt, args, phrase) in &cases {
        let (code, out) = verify(receipt, args);
        assert_eq!(code, 1, "{out}");
        assert!(out.starts_with(&format!("收据无效：{phrase}")), "{out}");
        for p in phrases.iter().filter(|p| *p != phrase) {
            assert!(!out.contains(p), "{phrase} case also says {p}: {out}");
        }
    }
}
