//! The landing page: both languages, hostile names escaped.

mod common;

use std::sync::Arc;

use common::{Engine, TestDb, TestEstate};
use trustfund::http::{router, AppState};

#[tokio::test]
async fn landing_page_lists_estates_in_both_languages_and_escapes_names() {
    let db = TestDb::new(Engine::Sqlite).await;
    let store = Arc::new(db.open().await);
    // The test estate's registry name is plain; register one whose name is hostile.
    TestEstate::create(&store, &db.keys(), "plain").await;
    let app = router(AppState::new(store.clone(), db.keys()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();

    let zh = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(zh.status(), 200);
    assert_eq!(zh.headers()["content-language"], "zh-CN");
    let body = zh.text().await.unwrap();
    assert!(body.contains("<html lang=\"zh-CN\">"));
    assert!(body.contains("小区") && body.contains("测试小区"), "{body}");
    assert!(body.contains("/estates/plain/log/checkpoint"));

    let en = client
        .get(format!("{base}/"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let body = en.text().await.unwrap();
    assert!(
        body.contains("<html lang=\"en\">") && body.contains("Estates"),
        "{body}"
    );

    // An explicit choice is remembered in a cookie.
    let pick = client.get(format!("{base}/?lang=en")).send().await.unwrap();
    let cookie = pick.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("tf_lang=en"), "{cookie}");
    let again = client
        .get(format!("{base}/"))
        .header("cookie", "tf_lang=en")
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    assert!(again.text().await.unwrap().contains("Estates"));
}

#[tokio::test]
async fn hostile_estate_names_are_escaped() {
    let db = TestDb::new(Engine::Sqlite).await;
    let store = db.open().await;
    let hostile = "<script>alert(1)</script>\" onmouseover=\"x";
    let t = TestEstate::create(&store, &db.keys(), "quiet").await;
    // A second estate registered under a hostile display name.
    let slug = trustfund::domain::Slug::parse("slug", "loud").unwrap();
    let origin = "trustfund.example/estates/loud";
    let log = db.keys().with_signer(
        &slug,
        trustfund::tlog::note::Signer::from_seed(
            origin,
            trustfund::tlog::note::ALG_ED25519,
            &[3; 32],
        )
        .unwrap(),
    );
    let body = trustfund::ledger::Body::EstateCreated {
        name: trustfund::domain::Name::parse("name", hostile).unwrap(),
        origin: origin.into(),
        log_key: log.verifier_key().format(),
        timezone: trustfund::domain::EstateTz::SHANGHAI,
        currency: trustfund::ledger::entry::Currency::Cny,
        fee_rate: trustfund::domain::Rate::parse("r", "1.00").unwrap(),
    };
    store
        .create_estate(&slug, hostile, origin, vec![body.into()], t.t0, &log)
        .await
        .unwrap();
    let app = router(AppState::new(Arc::new(store), db.keys()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let html = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
    assert!(!html.contains("\" onmouseover=\"x"), "{html}");
}
