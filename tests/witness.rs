//! Witnessing over real HTTP on both engines: a committee member cosigns
//! the checkpoint, only forward, only with their own key, and never over a
//! history rewritten since they last cosigned.

mod common;

use common::staff::{Session, StaffApp};
use common::Engine;
use trustfund::domain::{MemberId, Timestamp};
use trustfund::tlog::checkpoint::{cosign_checkpoint, sign_checkpoint, Checkpoint};
use trustfund::tlog::note::{Note, Signer};
use trustfund::tlog::Hash;

both_engines!(
    a_committee_member_witnesses_forward_only_with_their_own_key,
    a_witness_refuses_a_history_rewritten_since_it_last_cosigned,
    only_witnesses_witness,
);

/// The latest checkpoint's size and text, from the public endpoint.
async fn latest(s: &Session) -> (u64, String) {
    let note = s
        .get("/estates/alpha/log/checkpoint")
        .await
        .text()
        .await
        .unwrap();
    let text = Note::parse(&note).unwrap().text;
    let size = text.lines().nth(1).unwrap().parse().unwrap();
    (size, text)
}

fn line(text: &str, signer: &Signer) -> String {
    let now = Timestamp::now().unwrap().unix() as u64;
    let sig = cosign_checkpoint(text, signer, now).unwrap();
    sig.format_line().trim_end().to_string()
}

async fn submit(s: &Session, size: u64, line: &str) -> (u16, String) {
    let r = s
        .post_form(
            "/estates/alpha/staff/witness?lang=en",
            &[("tree_size", &size.to_string()), ("signature", line)],
        )
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn grow(app: &StaffApp) {
    app.store
        .append(
            &app.alpha.slug,
            vec![app.alpha.fee_paid(0, "10.00")],
            Timestamp::now().unwrap(),
            &app.alpha.log,
        )
        .await
        .unwrap();
}

async fn a_committee_member_witnesses_forward_only_with_their_own_key(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let carol = app.login("carol").await;
    let (status, html) = carol.page("/estates/alpha/staff/witness").await;
    assert_eq!(status, 200);
    let (size, text) = latest(&carol).await;
    assert!(
        html.contains(&format!("<dd id=\"tree-size\">{size}</dd>")),
        "{html}"
    );
    assert!(
        html.contains(text.lines().next().unwrap()),
        "the exact text is shown"
    );

    // Signed with another member's key: refused, nothing recorded.
    let c2 = &app.alpha.committee[1].1;
    let (status, html) = submit(&carol, size, &line(&text, c2)).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"err-signature\""));
    // A flipped byte in a good line: refused.
    let c1 = &app.alpha.committee[0].1;
    let good = line(&text, c1);
    let mut flipped = good.clone().into_bytes();
    let last = flipped.len() - 3;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let (status, _) = submit(&carol, size, &String::from_utf8(flipped).unwrap()).await;
    assert_eq!(status, 422);
    let m = MemberId::parse("m", "c1").unwrap();
    assert!(app
        .store
        .last_cosigned(&app.alpha.slug, &m)
        .await
        .unwrap()
        .is_none());

    let r = carol
        .post_form(
            "/estates/alpha/staff/witness",
            &[("tree_size", &size.to_string()), ("signature", &good)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let note = carol
        .get("/estates/alpha/log/checkpoint")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        note.contains(&good),
        "the public checkpoint carries the cosignature"
    );
    // The same checkpoint again: a witness only moves forward.
    let (status, html) = submit(&carol, size, &good).await;
    assert_eq!(status, 422);
    assert!(html.contains("only moves forward"), "{html}");

    // A newer checkpoint that extends the old one is taken, via the API too.
    grow(&app).await;
    let (size2, text2) = latest(&carol).await;
    assert!(size2 > size);
    let token = app.api_token("carol", &app.alpha).await;
    let (status, body) = token
        .post_json(
            &format!("/api/v1/estates/alpha/checkpoints/{size2}/cosignatures"),
            &serde_json::json!({ "signature": line(&text2, c1) }),
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["tree_size"], size2);
    assert_eq!(
        app.store
            .last_cosigned(&app.alpha.slug, &m)
            .await
            .unwrap()
            .map(|l| l.0),
        Some(size2)
    );
}

async fn a_witness_refuses_a_history_rewritten_since_it_last_cosigned(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let carol = app.login("carol").await;
    let c1 = &app.alpha.committee[0].1;
    let (size, text) = latest(&carol).await;
    assert_eq!(submit(&carol, size, &line(&text, c1)).await.0, 303);

    // The operator rewrites the checkpoint carol witnessed (a different
    // root, properly signed with the real log key) and extends the log.
    let forged = sign_checkpoint(
        &Checkpoint {
            origin: app.alpha.origin(),
            tree_size: size,
            root: Hash([7; 32]),
            extensions: vec![],
        },
        app.alpha.log.signer(),
    )
    .unwrap()
    .format();
    let pool = app.store.pool();
    let statements: &[&str] = match engine {
        Engine::Sqlite => &["DROP TRIGGER checkpoints_no_update"],
        Engine::Postgres => &["ALTER TABLE checkpoints DISABLE TRIGGER USER"],
    };
    for sql in statements {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    sqlx::query("UPDATE checkpoints SET note = $1 WHERE estate = 'alpha' AND tree_size = $2")
        .bind(&forged)
        .bind(size as i64)
        .execute(pool)
        .await
        .unwrap();
    grow(&app).await;
    let (size2, text2) = latest(&carol).await;
    let (status, html) = submit(&carol, size2, &line(&text2, c1)).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("rewritten history"), "{html}");
    let m = MemberId::parse("m", "c1").unwrap();
    assert_eq!(
        app.store
            .last_cosigned(&app.alpha.slug, &m)
            .await
            .unwrap()
            .map(|l| l.0),
        Some(size),
        "nothing recorded"
    );
}

async fn only_witnesses_witness(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let alice = app.login("alice").await;
    assert_eq!(alice.page("/estates/alpha/staff/witness").await.0, 403);
    let bob = app.login("bob").await;
    assert_eq!(bob.page("/estates/alpha/staff/witness").await.0, 403);
    let (size, text) = latest(&alice).await;
    let (status, _) = submit(&bob, size, &line(&text, &app.alpha.committee[0].1)).await;
    assert_eq!(status, 403);
}
