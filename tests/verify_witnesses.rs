//! `trustfund verify` trusts only what it should: witness keys come from
//! the ledger's own member entries, never from a policy file or a
//! checkpoint it was sent, and taking the log key on first use is said in
//! words. The hostile case runs the real server behind a proxy that adds a
//! cosignature from its own key `c9` and names `c9` in the policy it serves.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{cosign_latest, serve_app, Engine, TestDb, TestEstate};
use trustfund::domain::Timestamp;
use trustfund::tlog::checkpoint::cosign_checkpoint;
use trustfund::tlog::note::{Note, Signer, ALG_COSIGNATURE_V1, ALG_ED25519};
use trustfund::verify::{verify_bundle_reporting, verify_live, VerifyError};

both_engines!(
    a_witness_the_server_names_does_not_count,
    a_bundle_cosignature_from_outside_the_ledger_does_not_count,
    trust_on_first_use_is_said_in_words,
    keys_outside_the_witnesses_never_count,
);

/// The server's own witness key: named like a member's, enrolled nowhere.
fn c9(t: &TestEstate) -> Signer {
    Signer::from_seed(
        &format!("{}/members/c9", t.origin()),
        ALG_COSIGNATURE_V1,
        &[99; 32],
    )
    .unwrap()
}

/// `note` with a cosignature line by `who` added.
fn add_cosignature(note: &str, who: &Signer) -> String {
    let mut note = Note::parse(note).unwrap();
    let now = Timestamp::now().unwrap().unix() as u64;
    note.signatures
        .push(cosign_checkpoint(&note.text, who, now).unwrap());
    note.format()
}

/// A policy file that names `c9` as a committee witness.
fn add_to_policy(policy: &str, c9: &Signer) -> String {
    let mut out = String::new();
    for line in policy.lines() {
        if line.starts_with("group ") {
            out.push_str(&format!("witness c9 {}\n", c9.verifier_key().format()));
            out.push_str(&format!("{line} c9\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[derive(Clone)]
struct Hostile {
    upstream: String,
    slug: String,
    c9: Arc<Signer>,
    client: reqwest::Client,
}

/// Relays every GET to the real server, adding `c9` where it can.
async fn relay(State(h): State<Hostile>, uri: Uri) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let r = h
        .client
        .get(format!("{}{path}", h.upstream))
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
    let body = r.text().await.unwrap();
    let log = format!("/estates/{}/log", h.slug);
    let body = if uri.path() == format!("{log}/checkpoint") && status.is_success() {
        add_cosignature(&body, &h.c9)
    } else if uri.path() == format!("{log}/policy") && status.is_success() {
        add_to_policy(&body, &h.c9)
    } else {
        body
    };
    (status, body).into_response()
}

async fn hostile_proxy(upstream: String, t: &TestEstate) -> String {
    let app = axum::Router::new().fallback(relay).with_state(Hostile {
        upstream,
        slug: t.slug.to_string(),
        c9: Arc::new(c9(t)),
        client: reqwest::Client::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Runs `trustfund verify` off the runtime (it talks to this process's servers).
async fn verify(state: &Path, args: Vec<String>) -> (i32, String) {
    let state = state.to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_trustfund"))
            .arg("verify")
            .arg("--state")
            .arg(&state)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn url_args(base: &str, t: &TestEstate, lang: &str) -> Vec<String> {
    vec![
        "--lang".into(),
        lang.into(),
        "--url".into(),
        base.into(),
        "--estate".into(),
        t.slug.to_string(),
        "--log-key".into(),
        t.log.verifier_key().format(),
    ]
}

/// The report's line that starts with `label` (indent removed), or "".
fn line<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(label))
        .unwrap_or("")
}

async fn estate(store: &trustfund::store::Store, db: &TestDb, slug: &str) -> TestEstate {
    let t = TestEstate::create(store, &db.keys(), slug).await;
    for i in 0..3 {
        t.append(store, vec![t.fee_paid(i, "10.00")]).await.unwrap();
    }
    t
}

async fn a_witness_the_server_names_does_not_count(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = Arc::new(db.open().await);
    let t = estate(&store, &db, "hostile").await;
    // The policy needs two committee cosignatures; only c1 has given one.
    cosign_latest(&store, &t, &[&t.committee[0]]).await;
    let upstream = serve_app(store.clone(), db.keys()).await;
    let proxy = hostile_proxy(upstream, &t).await;
    let c9_name = format!("{}/members/c9", t.origin());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("verified.json");

    // The quorum would be met only with c9: refused, and c9 named as not counting.
    let (code, out) = verify(&state, url_args(&proxy, &t, "en")).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("missing witness signatures: 1 of the 2"),
        "{out}"
    );
    let uncounted = line(&out, "cosignatures that do not count");
    assert!(uncounted.contains(&c9_name), "{out}");
    assert!(!line(&out, "witnessed by").contains("c9"), "{out}");
    let (code, out) = verify(&state, url_args(&proxy, &t, "zh")).await;
    assert_eq!(code, 1, "{out}");
    assert!(line(&out, "不计入的联署").contains(&c9_name), "{out}");

    // With c2's cosignature the ledger's own witnesses meet the quorum; c9
    // still counts for nothing and is said not to.
    cosign_latest(&store, &t, &[&t.committee[1]]).await;
    let (code, out) = verify(&state, url_args(&proxy, &t, "en")).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERIFIED"), "{out}");
    let witnessed = line(&out, "witnessed by");
    assert!(witnessed.starts_with("witnessed by c1, c2 ("), "{out}");
    assert!(!witnessed.contains("c9"), "{out}");
    assert!(
        line(&out, "cosignatures that do not count").contains(&c9_name),
        "{out}"
    );
    let (code, out) = verify(&state, url_args(&proxy, &t, "zh")).await;
    assert_eq!(code, 0, "{out}");
    assert!(!line(&out, "见证人联署").contains("c9"), "{out}");
    assert!(line(&out, "不计入的联署").contains(&c9_name), "{out}");
}

async fn a_bundle_cosignature_from_outside_the_ledger_does_not_count(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = estate(&store, &db, "bundled").await;
    cosign_latest(&store, &t, &[&t.committee[0]]).await;
    let c9 = c9(&t);
    let c9_name = format!("{}/members/c9", t.origin());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    let args = |lang: &str| {
        vec![
            "--no-remember".to_string(),
            "--lang".into(),
            lang.into(),
            "--log-key".into(),
            t.log.verifier_key().format(),
            file.display().to_string(),
        ]
    };
    let state = dir.path().join("verified.json");

    // Only c1 and c9: the quorum of two is not met.
    let mut b = store.bundle(&t.slug, None).await.unwrap();
    b.checkpoint = add_cosignature(&b.checkpoint, &c9);
    std::fs::write(&file, serde_json::to_string(&b).unwrap()).unwrap();
    let (code, out) = verify(&state, args("en")).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("missing witness signatures: 1 of the 2"),
        "{out}"
    );
    assert!(
        line(&out, "cosignatures that do not count").contains(&c9_name),
        "{out}"
    );

    // Naming c9 in the bundle's policy file does not make it a witness.
    let mut named = b.clone();
    named.policy = add_to_policy(&named.policy, &c9);
    std::fs::write(&file, serde_json::to_string(&named).unwrap()).unwrap();
    let (code, out) = verify(&state, args("en")).await;
    assert_eq!(code, 1, "{out}");
    assert!(!line(&out, "witnessed by").contains("c9"), "{out}");

    // c1 and c2 meet it; c9's line is reported as not counting.
    cosign_latest(&store, &t, &[&t.committee[1]]).await;
    let mut b = store.bundle(&t.slug, None).await.unwrap();
    b.checkpoint = add_cosignature(&b.checkpoint, &c9);
    std::fs::write(&file, serde_json::to_string(&b).unwrap()).unwrap();
    let (code, out) = verify(&state, args("en")).await;
    assert_eq!(code, 0, "{out}");
    let witnessed = line(&out, "witnessed by");
    assert!(witnessed.starts_with("witnessed by c1, c2 ("), "{out}");
    assert!(
        line(&out, "cosignatures that do not count").contains(&c9_name),
        "{out}"
    );
    let (code, out) = verify(&state, args("zh")).await;
    assert_eq!(code, 0, "{out}");
    assert!(line(&out, "不计入的联署").contains(&c9_name), "{out}");
    assert!(!line(&out, "见证人联署").contains("c9"), "{out}");
}

async fn trust_on_first_use_is_said_in_words(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = Arc::new(db.open().await);
    let t = estate(&store, &db, "tofu").await;
    cosign_latest(&store, &t, &[&t.committee[0], &t.committee[1]]).await;
    let vkey = t.log.verifier_key().format();
    let pin = format!("--log-key '{vkey}'");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    let bundle = store.bundle(&t.slug, None).await.unwrap();
    std::fs::write(&file, serde_json::to_string(&bundle).unwrap()).unwrap();
    let bundle_args = |lang: &str| {
        vec![
            "--lang".to_string(),
            lang.into(),
            file.display().to_string(),
        ]
    };

    // Nothing pinned, nothing remembered: what was trusted, and how to pin it.
    let (code, out) = verify(&dir.path().join("en.json"), bundle_args("en")).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERIFIED (first use"), "{out}");
    assert!(out.contains("Trust on first use"), "{out}");
    assert!(out.contains("no --log-key was given"), "{out}");
    assert!(out.contains(&format!("was trusted: {vkey}")), "{out}");
    assert!(out.contains(&pin), "{out}");
    let zh_state = dir.path().join("zh.json");
    let (code, out) = verify(&zh_state, bundle_args("zh")).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("核验通过（首次使用"), "{out}");
    assert!(out.contains("没有用 --log-key 指定日志公钥"), "{out}");
    assert!(out.contains(&format!("日志公钥 {vkey}")), "{out}");
    assert!(out.contains(&pin), "{out}");

    // Remembered from then on: no longer first use.
    let (code, out) = verify(&zh_state, bundle_args("zh")).await;
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("首次使用"), "{out}");
    assert!(out.contains("与之前记住的一致"), "{out}");
    // Pinned: not first use either.
    let mut pinned = bundle_args("en");
    pinned.extend(["--log-key".to_string(), vkey.clone()]);
    let (code, out) = verify(&dir.path().join("pinned.json"), pinned).await;
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("first use"), "{out}");
    assert!(out.contains("the one given with --log-key"), "{out}");

    // The same over --url.
    let base = serve_app(store.clone(), db.keys()).await;
    let live = |lang: &str| {
        vec![
            "--lang".to_string(),
            lang.into(),
            "--url".into(),
            base.clone(),
            "--estate".into(),
            t.slug.to_string(),
        ]
    };
    let (code, out) = verify(&dir.path().join("url-en.json"), live("en")).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERIFIED (first use"), "{out}");
    assert!(out.contains("entry 0 of the log the server sent"), "{out}");
    assert!(out.contains(&pin), "{out}");
    let (code, out) = verify(&dir.path().join("url-zh.json"), live("zh")).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("服务器发来的日志第 0 条记录"), "{out}");
    assert!(out.contains(&pin), "{out}");
}

async fn keys_outside_the_witnesses_never_count(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = estate(&store, &db, "outsiders").await;
    // c3 leaves the committee: its key stops being a witness key.
    t.append(
        &store,
        vec![trustfund::ledger::Body::MemberRevoked {
            member: t.committee[2].0.clone(),
            key: t.committee[2].1.verifier_key().format(),
            reason: trustfund::domain::Reason::parse("reason", "换届").unwrap(),
        }
        .into()],
    )
    .await
    .unwrap();
    cosign_latest(&store, &t, &[&t.committee[0]]).await;
    let b = store.bundle(&t.slug, None).await.unwrap();
    let key = t.log.verifier_key();
    let name = |id: &str| format!("{}/members/{id}", t.origin());

    // The company's enrolled key, the revoked c3 and the unknown c9 each
    // add a valid cosignature line; with c1 that would make four.
    let mut b = b.clone();
    for who in [&t.company.1, &t.committee[2].1, &c9(&t)] {
        b.checkpoint = add_cosignature(&b.checkpoint, who);
    }
    let (result, uncounted) = verify_bundle_reporting(&b, Some(&key));
    assert_eq!(
        result.unwrap_err(),
        VerifyError::Quorum { have: 1, need: 2 }
    );
    let names: Vec<&str> = uncounted.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, [name("p1"), name("c3"), name("c9")]);

    // The live path gives the same answer from the same bytes.
    let (result, live) = verify_live(&b.checkpoint, &b.entries, Some(&key));
    assert_eq!(
        result.unwrap_err(),
        VerifyError::Quorum { have: 1, need: 2 }
    );
    assert_eq!(live, uncounted);

    // With c2 the quorum is met by the ledger's witnesses alone.
    cosign_latest(&store, &t, &[&t.committee[1]]).await;
    let mut b = store.bundle(&t.slug, None).await.unwrap();
    for who in [&t.company.1, &t.committee[2].1, &c9(&t)] {
        b.checkpoint = add_cosignature(&b.checkpoint, who);
    }
    let (result, live) = verify_live(&b.checkpoint, &b.entries, None);
    let v = result.unwrap();
    let ids: Vec<String> = v.witnesses.iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    assert_eq!(live, uncounted);

    // A live log whose entry 0 names another key than the trusted one.
    let other = Signer::from_seed(&t.origin(), ALG_ED25519, &[77; 32]).unwrap();
    let (result, _) = verify_live(&b.checkpoint, &b.entries, Some(&other.verifier_key()));
    assert!(
        matches!(result, Err(VerifyError::WrongLogKey { .. })),
        "{result:?}"
    );
}
