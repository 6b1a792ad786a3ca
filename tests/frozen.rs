//! Frozen means frozen: an estate whose stored tables failed the audit
//! says so on every owners' page and API answer, and shows no figure from
//! those tables (issue 10, attack 4).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::{Engine, TestDb, TestEstate};
use serde_json::Value;
use trustfund::http::{router, AppState};

both_engines!(a_raised_balance_freezes_every_answer_and_shows_no_figure);

/// The true operating balance is ¥1,018.00 (¥1,000.00 opening and three
/// fees); the tampered one is ¥101,018.00.
const FALSE_FIGURES: [&str; 3] = ["101018", "101,018", "10101800"];

async fn a_raised_balance_freezes_every_answer_and_shows_no_figure(engine: Engine) {
    let db = TestDb::new(engine).await;
    {
        let store = db.open().await;
        let t = TestEstate::create(&store, &db.keys(), "frozen").await;
        for amount in ["5.00", "6.00", "7.00"] {
            t.append(&store, vec![t.fee_paid(1, amount)]).await.unwrap();
        }
        // The balances table is derived and mutable: an intruder with the
        // database needs no trigger dropped to raise it by ¥100,000.
        let raised = sqlx::query(
            "UPDATE balances SET balance_fen = balance_fen + 10000000 WHERE estate = 'frozen' AND account = 'fund:operating'",
        )
        .execute(store.pool())
        .await
        .unwrap();
        assert_eq!(raised.rows_affected(), 1);
        store.close().await;
    }

    // A restart: a fresh store, the start-up audit, then the server.
    let store = Arc::new(db.open().await);
    let reports = store.audit_all().await.unwrap();
    let failure = reports[0].failure.clone().expect("the audit fails");
    assert_eq!(
        failure.seq,
        Some(15),
        "the last entry that posted to it: {failure}"
    );
    assert!(failure.what.contains("fund:operating"), "{failure}");
    let app = router(AppState::new(store.clone(), db.keys()));
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
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let r = client.get(&url).send().await.unwrap();
            let status = r.status().as_u16();
            let frozen = r
                .headers()
                .get("trustfund-frozen")
                .map(|v| v.to_str().unwrap().to_string());
            (status, frozen, r.text().await.unwrap())
        }
    };
    let no_false_figure = |path: &str, body: &str| {
        for f in FALSE_FIGURES {
            assert!(!body.contains(f), "{path} shows the false balance: {body}");
        }
    };

    // The API: 503, a stable code, the reason; no balance at all.
    for path in [
        "/api/v1/estates/frozen",
        "/api/v1/estates/frozen/entries",
        "/api/v1/estates/frozen/claims",
        "/api/v1/estates/frozen/services",
        "/api/v1/estates/frozen/statements",
        "/api/v1/estates/frozen/units/00000000000000000002",
    ] {
        let (status, header, body) = get(path.to_string()).await;
        assert_eq!(status, 503, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "estate_frozen", "{path}: {body}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains("frozen"), "{path}: {message}");
        assert!(message.contains(&failure.what), "{path}: {message}");
        assert_eq!(header.as_deref(), Some("balances; seq=15"), "{path}");
        no_false_figure(path, &body);
    }
    let (status, _, body) = get("/api/v1/estates".into()).await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list[0]["slug"], "frozen");
    assert_eq!(list[0]["frozen"], true, "{body}");
    assert!(
        list[0]["frozen_reason"]
            .as_str()
            .unwrap()
            .contains(&failure.what),
        "{body}"
    );

    // The owners' pages: 503 in the reader's language, no English on a
    // Chinese page, no figure.
    for path in [
        "",
        "/ledger",
        "/claims",
        "/services",
        "/statements",
        "/unit",
        "/ledger/12",
    ] {
        for lang in ["zh", "en"] {
            let path = format!("/estates/frozen{path}?lang={lang}");
            let (status, header, html) = get(path.clone()).await;
            assert_eq!(status, 503, "{path}");
            assert!(header.is_some(), "{path}");
            no_false_figure(&path, &html);
            if lang == "zh" {
                assert!(html.contains("自检未通过"), "{path}: {html}");
                assert!(html.contains("余额表"), "{path}: names what failed");
                assert!(
                    html.contains("seq 15"),
                    "{path}: names the last fee, seq 15"
                );
                assert!(
                    !html.contains(&failure.what),
                    "{path}: English on a Chinese page"
                );
                assert!(
                    !html.contains("integrity"),
                    "{path}: English on a Chinese page"
                );
            } else {
                assert!(html.contains("failed its integrity check"), "{path}");
                assert!(html.contains(&failure.what), "{path}: says why");
            }
        }
    }
    let (status, _, html) = get("/?lang=zh".into()).await;
    assert_eq!(status, 200);
    assert!(html.contains("自检未通过"), "the landing page says so too");

    // The public log is the evidence: it keeps serving, marked frozen.
    let (status, header, _) = get("/estates/frozen/log/checkpoint".into()).await;
    assert_eq!(status, 200);
    assert!(header.is_some_and(|h| h.starts_with("balances")));
    store.close().await;
}
