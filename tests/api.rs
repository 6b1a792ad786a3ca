//! The JSON read API under /api/v1 over real HTTP, on both engines, and
//! the OpenAPI document that describes it.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use common::{Engine, TestDb, TestEstate};
use serde_json::Value;
use trustfund::domain::{Money, Period, Slug, Timestamp};
use trustfund::http::{router, AppState, OPENAPI};
use trustfund::keys::Keyring;
use trustfund::ledger::Entry;
use trustfund::store::Store;
use trustfund::tlog::record_hash;

both_engines!(api_serves_the_demo, api_refuses_nonsense_by_name);

struct Server {
    base: String,
    client: reqwest::Client,
}

impl Server {
    async fn start(store: Arc<Store>, keys: Keyring) -> Server {
        let app = router(AppState::new(store, keys));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap()
        });
        Server {
            base,
            client: reqwest::Client::new(),
        }
    }

    async fn call(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        (status, r.json().await.unwrap())
    }

    async fn json(&self, path: &str) -> Value {
        let (status, v) = self.call(path).await;
        assert_eq!(status, 200, "{path}: {v}");
        no_fractions(path, &v);
        v
    }
}

/// Amounts are decimal strings: no JSON number in a response may have a
/// fraction or exponent.
fn no_fractions(path: &str, v: &Value) {
    match v {
        Value::Number(n) => assert!(n.is_u64() || n.is_i64(), "{path}: float {n}"),
        Value::Array(a) => a.iter().for_each(|x| no_fractions(path, x)),
        Value::Object(o) => o.values().for_each(|x| no_fractions(path, x)),
        _ => {}
    }
}

fn decimal(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}", Money::from_fen(fen.abs()).unwrap())
}

async fn api_serves_the_demo(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = Arc::new(db.open().await);
    trustfund::demo::load(
        &store,
        &db.keys(),
        Period::parse("anchor", "2026-11").unwrap(),
        Timestamp::from_unix(1_795_060_800).unwrap(),
    )
    .await
    .expect("demo loads");
    let slug = Slug::parse("slug", "dongfang").unwrap();
    let s = Server::start(store.clone(), db.keys()).await;

    // The estate: balances exactly as the ledger's balances table.
    let e = s.json("/api/v1/estates/dongfang").await;
    assert_eq!(e["slug"], "dongfang");
    assert_eq!(e["timezone"], "Asia/Shanghai");
    for (account, fen) in store.fund_balances(&slug).await.unwrap() {
        assert_eq!(e["balances"][&account], decimal(fen), "{account}");
    }
    assert_eq!(e["months"].as_array().unwrap().len(), 12);
    let months = e["months"].as_array().unwrap();
    let collected: i64 = months
        .iter()
        .map(|m| {
            Money::parse("m", m["fees_collected"].as_str().unwrap())
                .unwrap()
                .fen()
        })
        .sum();
    assert_eq!(
        e["last_12_months"]["fees_collected"],
        decimal(collected),
        "the year's figures are the sum of its months"
    );
    let rate = e["last_12_months"]["collection_rate"].as_str().unwrap();
    assert!(rate.starts_with("0.9"), "{rate}");
    let size = store.tree_size(&slug).await.unwrap();
    assert_eq!(e["tree_size"], size);
    let cp = store.latest_checkpoint(&slug).await.unwrap().unwrap();
    assert_eq!(e["checkpoint"]["root"], cp.root.to_hex());
    assert_eq!(
        e["checkpoint"]["signers"][0]["key_name"],
        "trustfund.example/estates/dongfang"
    );

    // Entries: decoded fields, exact bytes, hash; newest first with a cursor.
    let page = s.json("/api/v1/estates/dongfang/entries?limit=3").await;
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["seq"], size - 1);
    assert_eq!(page["next_before"], size - 3);
    for x in entries {
        let bytes = x["bytes"].as_str().unwrap();
        assert_eq!(x["hash"], record_hash(bytes.as_bytes()).to_hex());
        assert_eq!(x["entry"], serde_json::from_str::<Value>(bytes).unwrap());
        assert_eq!(x["entry"]["seq"], x["seq"]);
        Entry::parse(bytes).unwrap();
    }
    let next = s
        .json(&format!(
            "/api/v1/estates/dongfang/entries?limit=3&before={}",
            size - 3
        ))
        .await;
    assert_eq!(next["entries"][0]["seq"], size - 4);
    let paid = s
        .json("/api/v1/estates/dongfang/entries?kind=disbursement_executed&account=fund:reserve")
        .await;
    let paid = paid["entries"].as_array().unwrap();
    assert_eq!(
        paid.len(),
        1,
        "one payment from the reserve: the sewer repair"
    );
    assert_eq!(paid[0]["entry"]["postings"][0]["debit"], "7800.00");
    let may = s
        .json("/api/v1/estates/dongfang/entries?month=2026-05&category=cleaning")
        .await;
    assert_eq!(may["entries"].as_array().unwrap().len(), 1);
    assert_eq!(may["next_before"], Value::Null);

    // Statements: every closed month, newest first, with its entry's own
    // figures and the witnesses whose cosignatures verify.
    let statements = store
        .with_state(&slug, |st| st.statements().clone())
        .await
        .unwrap();
    let list = s.json("/api/v1/estates/dongfang/statements").await;
    let items = list["statements"].as_array().unwrap();
    assert_eq!(items.len(), 12);
    assert_eq!(list["next_before"], Value::Null);
    for (item, (period, (seq, st))) in items.iter().zip(statements.iter().rev()) {
        assert_eq!(item["period"], period.to_string());
        assert_eq!(item["seq"], *seq);
        assert_eq!(item["from_seq"], st.from_seq);
        assert_eq!(item["figures"], serde_json::to_value(st).unwrap());
        assert_eq!(item["figures"]["arrears"], st.arrears.to_string());
        assert_eq!(item["totals"]["spending"], st.spending_total().to_string());
        let cp = store
            .checkpoint_covering(&slug, *seq)
            .await
            .unwrap()
            .unwrap();
        let c = &item["checkpoint"];
        assert_eq!(c["tree_size"], cp.tree_size);
        assert_eq!(c["root"], cp.root.to_hex());
        assert_eq!(c["root_base64"], cp.root.to_base64());
        assert_eq!(c["note"], cp.note);
        assert_eq!(c["log_signature_verified"], true);
        let members: Vec<&str> = c["witnesses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["member"].as_str().unwrap())
            .collect();
        assert_eq!(members, ["c1", "c2", "c3", "c4"]);
        assert_eq!(c["witnesses"][1]["name"], "李秀英");
        assert_eq!(c["witnesses"][1]["role"], "committee");
        assert_eq!(c["quorum_met"], true);
        assert_eq!(
            item["links"]["bundle"],
            format!("/estates/dongfang/statements/{period}/bundle.json")
        );
    }
    let june = s.json("/api/v1/estates/dongfang/statements/2026-06").await;
    assert_eq!(
        &june,
        items.iter().find(|i| i["period"] == "2026-06").unwrap()
    );
    let older = s
        .json("/api/v1/estates/dongfang/statements?before=2026-05")
        .await;
    assert_eq!(older["statements"][0]["period"], "2026-04");
    assert_eq!(older["statements"].as_array().unwrap().len(), 6);
    assert_eq!(e["latest_statement"]["period"], "2026-10");

    // Claims and service records.
    let claims = s.json("/api/v1/estates/dongfang/claims?limit=200").await;
    let claims = claims["claims"].as_array().unwrap();
    let sewer = claims.iter().find(|c| c["account"] == "reserve").unwrap();
    assert_eq!(sewer["amount"], "7800.00");
    assert_eq!(sewer["amount_capital"], "柒仟捌佰元整");
    assert_eq!(sewer["quote"], "38600.00");
    assert_eq!(sewer["status"], "executed");
    assert_eq!(sewer["approvals"].as_array().unwrap().len(), 4);
    let one = s
        .json(&format!("/api/v1/estates/dongfang/claims/{}", sewer["seq"]))
        .await;
    assert_eq!(&one, sewer);
    let record = sewer["service_record"].as_u64().unwrap();
    let r = s
        .json(&format!("/api/v1/estates/dongfang/services/{record}"))
        .await;
    assert_eq!(r["cost"], "7800.00");
    assert_eq!(r["paid_by"][0]["claim"], sewer["seq"]);
    let list = s.json("/api/v1/estates/dongfang/services?limit=2").await;
    assert_eq!(list["service_records"].as_array().unwrap().len(), 2);
    assert!(list["next_before"].is_u64());
    let rejected = s
        .json("/api/v1/estates/dongfang/claims?status=rejected")
        .await;
    assert_eq!(rejected["claims"][0]["rejection"]["role"], "committee");

    // A unit by the code on its bill.
    let unit = store.unit(&slug, "3-1502").await.unwrap().unwrap();
    let u = s
        .json(&format!(
            "/api/v1/estates/dongfang/units/{}",
            unit.secret.to_lowercase()
        ))
        .await;
    assert_eq!(u["unit"], "3-1502");
    assert_eq!(u["commitment"], unit.commitment);
    let owed = store
        .balances(&slug)
        .await
        .unwrap()
        .into_iter()
        .find(|(a, _)| *a == format!("receivable:{}", unit.commitment))
        .map_or(0, |(_, b)| b);
    assert_eq!(u["balance_owed"], decimal(owed));
    assert_eq!(u["charges"].as_array().unwrap().len(), 12);
    for p in u["payments"].as_array().unwrap() {
        let proof = p["receipt"]["proof"].as_str().unwrap();
        let v = s.json(proof).await;
        assert_eq!(v["index"], p["seq"]);
    }
    assert!(
        !u.to_string().contains(&unit.secret),
        "the secret is never echoed"
    );
    let (status, wrong) = s
        .call("/api/v1/estates/dongfang/units/0000-0000-0000-0000-0000")
        .await;
    assert_eq!(status, 404);
    let (_, malformed) = s.call("/api/v1/estates/dongfang/units/nonsense").await;
    assert_eq!(
        wrong, malformed,
        "a wrong code and a malformed one look the same"
    );
    assert_eq!(wrong["error"]["code"], "not_found");
}

async fn api_refuses_nonsense_by_name(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = Arc::new(db.open().await);
    let estate = TestEstate::create(&store, &db.keys(), "api").await;
    estate
        .append(&store, vec![estate.fee_paid(0, "160.00")])
        .await
        .unwrap();
    let s = Server::start(store, db.keys()).await;
    for (query, name) in [
        ("entries?limit=0", "limit"),
        ("entries?limit=201", "limit"),
        ("entries?before=1.5", "before"),
        ("entries?kind=statement", "kind"),
        ("entries?account=fund:", "account"),
        ("entries?month=2026-1", "month"),
        ("entries?category=fun", "category"),
        ("entries?limit=1&limit=2", "limit"),
        ("claims?status=paid", "status"),
        ("claims?before=x", "before"),
        ("services?limit=-3", "limit"),
        ("statements?before=2026-13", "before"),
        ("statements?before=2026-01&before=2026-02", "before"),
        ("statements/2026-1", "period"),
        ("statements/latest", "period"),
    ] {
        let (status, v) = s.call(&format!("/api/v1/estates/api/{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(v["error"]["code"], "bad_parameter", "{query}");
        assert!(
            v["error"]["message"].as_str().unwrap().starts_with(name),
            "{query}: {v}"
        );
    }
    for path in [
        "/api/v1/estates/nope",
        "/api/v1/estates/nope/entries",
        "/api/v1/estates/api/claims/0",
        "/api/v1/estates/api/claims/1e3",
        "/api/v1/estates/api/services/3",
        "/api/v1/estates/api/statements/2026-01",
        "/api/v1/estates/nope/statements",
    ] {
        let (status, v) = s.call(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(v["error"]["code"], "not_found", "{path}");
    }
    // Ten unit look-ups a minute per client, then 429 with a stable code.
    let mut limited = None;
    for _ in 0..30 {
        let (status, v) = s.call("/api/v1/estates/api/units/nope").await;
        if status == 429 {
            limited = Some(v);
            break;
        }
        assert_eq!(status, 404);
    }
    assert_eq!(
        limited.expect("rate limited")["error"]["code"],
        "rate_limited"
    );
}

/// Every `.route("…")` path in src/http (and its submodules) that serves
/// JSON: under /api/, under /log/, or ending in .json.
fn json_routes() -> BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for f in std::fs::read_dir(dir).unwrap() {
            let path = f.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut out = BTreeSet::new();
    for path in files {
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for chunk in text.split(".route(").skip(1) {
            let Some(rest) = chunk.trim_start().strip_prefix('"') else {
                continue;
            };
            let route = &rest[..rest.find('"').unwrap()];
            if route.starts_with("/api/") || route.contains("/log/") || route.ends_with(".json") {
                out.insert(route.to_string());
            }
        }
    }
    out
}

#[tokio::test]
async fn openapi_describes_every_json_route() {
    let doc: Value = serde_json::from_str(OPENAPI).expect("the OpenAPI document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let routes = json_routes();
    assert!(routes.len() >= 15, "{routes:?}");
    for r in &routes {
        assert!(
            paths.contains_key(r),
            "route {r} is missing from src/http/openapi.json"
        );
    }
    // Every $ref resolves, every operation says what success looks like.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
    for (p, item) in paths {
        let ops: Vec<(&String, &Value)> = item
            .as_object()
            .unwrap()
            .iter()
            .filter(|(m, _)| matches!(m.as_str(), "get" | "post"))
            .collect();
        assert!(!ops.is_empty(), "{p} has no operation");
        for (method, op) in ops {
            let ok = &op["responses"];
            assert!(
                ok["200"].is_object() || ok["201"].is_object(),
                "{method} {p} says nothing of success"
            );
            assert!(op["operationId"].is_string(), "{method} {p}");
            if method == "post" {
                assert!(
                    op["responses"]["401"].is_object() || op["responses"]["403"].is_object(),
                    "{method} {p}: writes need a sign-in and say so"
                );
            }
        }
    }

    // Served by the app, and every documented path is a real route: with
    // its parameters filled in it never reaches the catch-all.
    let db = TestDb::new(Engine::Sqlite).await;
    let store = Arc::new(db.open().await);
    TestEstate::create(&store, &db.keys(), "doc").await;
    let s = Server::start(store, db.keys()).await;
    let served = s.json("/api/v1/openapi.json").await;
    assert_eq!(served, doc);
    for p in paths.keys() {
        let concrete = p
            .replace("{slug}", "doc")
            .replace("{seq}", "0")
            .replace("{code}", "x")
            .replace("{period}", "2026-01");
        let r = s
            .client
            .get(format!("{}{concrete}", s.base))
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("no such page or endpoint"),
            "{p} is not routed"
        );
    }
}
