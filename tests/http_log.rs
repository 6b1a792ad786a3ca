//! The public log endpoints (DESIGN.md §4.8), over real HTTP on a loopback
//! port, on both engines.

mod common;

use std::sync::Arc;

use common::{Engine, TestDb, TestEstate};
use serde_json::Value;
use trustfund::http::{router, AppState};
use trustfund::tlog::checkpoint::open_checkpoint;
use trustfund::tlog::note::VerifierKey;
use trustfund::tlog::tree::{check_consistency, check_inclusion};
use trustfund::tlog::{record_hash, Hash};

both_engines!(
    log_endpoints_serve_a_verifiable_log,
    bad_requests_are_refused_by_name,
    unknown_things_are_404
);

/// A server on 127.0.0.1:0 with a small estate and a few payments.
struct Running {
    base: String,
    _db: TestDb,
    estate: TestEstate,
    client: reqwest::Client,
}

async fn start(engine: Engine) -> Running {
    let db = TestDb::new(engine).await;
    let store = Arc::new(db.open().await);
    let estate = TestEstate::create(&store, &db.keys(), "weblog").await;
    for i in 0..9 {
        estate
            .append(&store, vec![estate.fee_paid(i % 4, "12.34")])
            .await
            .unwrap();
    }
    let app = router(AppState::new(store, db.keys()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Running {
        base,
        _db: db,
        estate,
        client: reqwest::Client::new(),
    }
}

impl Running {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }
    async fn text(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        r.text().await.unwrap()
    }
    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }
}

async fn log_endpoints_serve_a_verifiable_log(engine: Engine) {
    let s = start(engine).await;
    let slug = s.estate.slug.to_string();
    let estates = s.json("/api/v1/estates").await;
    assert_eq!(estates[0]["slug"], slug);
    assert_eq!(estates[0]["origin"], s.estate.origin());
    assert!(estates[0]["name"].as_str().unwrap().contains("测试小区"));

    // The policy names the log key; the checkpoint verifies under it.
    let policy = s.text(&format!("/estates/{slug}/log/policy")).await;
    let log_line = policy.lines().next().unwrap();
    let vkey = VerifierKey::parse(log_line.strip_prefix("log ").unwrap()).unwrap();
    assert_eq!(vkey, s.estate.log.verifier_key());
    assert_eq!(
        policy.lines().filter(|l| l.starts_with("witness ")).count(),
        4,
        "3 committee + 1 community:\n{policy}"
    );
    assert!(policy.lines().any(|l| l.starts_with("quorum ")));

    let r = s.get(&format!("/estates/{slug}/log/checkpoint")).await;
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let note = r.text().await.unwrap();
    let (cp, _, _) = open_checkpoint(&note, &vkey, &[]).expect("checkpoint verifies");
    assert_eq!(cp.origin, s.estate.origin());
    let size = cp.tree_size;
    assert_eq!(size, 13 + 9, "genesis (13 entries) and nine payments");

    // Entries in bulk equal entries one by one, and chain to each other.
    let all: Vec<String> = serde_json::from_value(
        s.json(&format!("/estates/{slug}/log/entries?start=0&end={size}"))
            .await,
    )
    .unwrap();
    assert_eq!(all.len() as u64, size);
    let mut prev = Hash::ZERO;
    let mut leaves = Vec::new();
    for (i, bytes) in all.iter().enumerate() {
        let r = s.get(&format!("/estates/{slug}/log/entries/{i}")).await;
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(&r.text().await.unwrap(), bytes, "entry {i}");
        let v: Value = serde_json::from_str(bytes).unwrap();
        assert_eq!(v["seq"], i as u64);
        assert_eq!(v["prev"], prev.to_hex());
        prev = record_hash(bytes.as_bytes());
        leaves.push(prev);
    }

    // Every inclusion proof checks against the signed root.
    for (i, leaf) in leaves.iter().enumerate() {
        let p = s
            .json(&format!(
                "/estates/{slug}/log/proof/inclusion?index={i}&size={size}"
            ))
            .await;
        assert_eq!(p["index"], i as u64);
        assert_eq!(p["size"], size);
        let proof: Vec<Hash> = p["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
            .collect();
        check_inclusion(&proof, i as u64, size, leaf, &cp.root)
            .unwrap_or_else(|e| panic!("inclusion {i}: {e}"));
    }
    // Consistency from every earlier size, against roots computed here.
    for m in 1..size {
        let old_root = naive_root(&leaves[..m as usize]);
        let p = s
            .json(&format!(
                "/estates/{slug}/log/proof/consistency?from={m}&to={size}"
            ))
            .await;
        assert_eq!(
            (p["from"].as_u64(), p["to"].as_u64()),
            (Some(m), Some(size))
        );
        let proof: Vec<Hash> = p["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
            .collect();
        check_consistency(&proof, m, size, &old_root, &cp.root)
            .unwrap_or_else(|e| panic!("consistency {m}: {e}"));
    }
    assert_eq!(naive_root(&leaves), cp.root);
    let health = s.json("/healthz").await;
    assert_eq!(health["status"], "ok");
}

/// RFC 9162 §2.1.1 MTH, straight from the definition.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => trustfund::tlog::empty_tree_hash(),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            trustfund::tlog::node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

async fn bad_requests_are_refused_by_name(engine: Engine) {
    let s = start(engine).await;
    let slug = s.estate.slug.to_string();
    let cases = [
        (format!("/estates/{slug}/log/entries?end=3"), "start"),
        (format!("/estates/{slug}/log/entries?start=0"), "end"),
        (
            format!("/estates/{slug}/log/entries?start=-1&end=3"),
            "start",
        ),
        (
            format!("/estates/{slug}/log/entries?start=1e3&end=3"),
            "start",
        ),
        (
            format!("/estates/{slug}/log/entries?start=%EF%BC%91&end=3"),
            "start",
        ),
        (
            format!("/estates/{slug}/log/entries?start=3&end=3"),
            "start < end",
        ),
        (
            format!("/estates/{slug}/log/entries?start=0&end=1001"),
            "1000",
        ),
        (
            format!("/estates/{slug}/log/entries?start=0&end=99"),
            "tree size",
        ),
        (format!("/estates/{slug}/log/entries/abc"), "seq"),
        (format!("/estates/{slug}/log/entries/-1"), "seq"),
        (
            format!("/estates/{slug}/log/proof/inclusion?index=0"),
            "size",
        ),
        (
            format!("/estates/{slug}/log/proof/inclusion?index=22&size=22"),
            "index",
        ),
        (
            format!("/estates/{slug}/log/proof/inclusion?index=0&size=23"),
            "size",
        ),
        (
            format!("/estates/{slug}/log/proof/inclusion?index=0&size=99999999999999999999"),
            "size",
        ),
        (
            format!("/estates/{slug}/log/proof/consistency?from=5&to=4"),
            "from",
        ),
        (
            format!("/estates/{slug}/log/proof/consistency?from=0&to=4"),
            "from",
        ),
        (
            format!("/estates/{slug}/log/proof/consistency?from=1&to=23"),
            "size",
        ),
    ];
    for (path, names) in cases {
        let r = s.get(&path).await;
        assert_eq!(r.status(), 400, "{path}");
        let body: Value = r.json().await.unwrap();
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(
            !body["error"]["code"].as_str().unwrap().is_empty(),
            "{path}"
        );
        assert!(
            msg.contains(names),
            "{path}: message {msg:?} should mention {names:?}"
        );
    }
}

async fn unknown_things_are_404(engine: Engine) {
    let s = start(engine).await;
    let slug = s.estate.slug.to_string();
    for path in [
        "/estates/nope/log/checkpoint".to_string(),
        "/estates/NOT%20A%20SLUG/log/policy".to_string(),
        "/estates/nope/log/entries/0".to_string(),
        format!("/estates/{slug}/log/entries/22"),
        "/no/such/path".to_string(),
    ] {
        let r = s.get(&path).await;
        assert_eq!(r.status(), 404, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}
