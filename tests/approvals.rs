//! Dual-key approval over real HTTP on both engines: the approvers' queue,
//! the review page, and approve/reject by signatures made offline with the
//! members' real keys.

mod common;

use std::sync::Arc;

use common::staff::{Session, StaffApp, PASSWORD};
use common::{ts, Engine, T0};
use serde_json::{json, Value};
use trustfund::auth::Password;
use trustfund::domain::{Money, Reason, Timestamp};
use trustfund::ledger::approval::{approval_message, encode_signature, Decision};
use trustfund::ledger::{Body, FundAccount, Role};
use trustfund::store::{Appended, Draft};
use trustfund::tlog::note::Signer;

both_engines!(
    the_company_alone_does_not_execute,
    company_and_committee_execute_once_under_a_race,
    the_same_key_counts_once,
    a_signature_for_another_claim_or_estate_is_refused,
    an_expired_claim_is_refused,
    a_revoked_key_is_refused,
    a_committee_rejection_closes_the_claim,
    an_overdraw_is_refused_at_execution_and_changes_nothing,
    the_review_page_shows_the_exact_message_and_capitals,
    community_and_other_estates_get_403,
    a_flipped_signature_is_refused,
);

const ALPHA_ORIGIN: &str = "trustfund.example/estates/alpha";
const BETA_ORIGIN: &str = "trustfund.example/estates/beta";

fn sign(signer: &Signer, origin: &str, claim: &Appended, d: Decision) -> String {
    let msg = approval_message(origin, claim.seq, &claim.hash, d, 1);
    encode_signature(&signer.sign_raw(msg.as_bytes()))
}

fn company(app: &StaffApp) -> &Signer {
    &app.alpha.company.1
}

fn c1(app: &StaffApp) -> &Signer {
    &app.alpha.committee[0].1
}

async fn claim(app: &StaffApp, amount: &str) -> Appended {
    app.alpha
        .append(
            &app.store,
            vec![app.alpha.claim(FundAccount::Operating, amount)],
        )
        .await
        .unwrap()
        .remove(0)
}

async fn tree_size(app: &StaffApp) -> u64 {
    app.store.tree_size(&app.alpha.slug).await.unwrap()
}

async fn balances(app: &StaffApp) -> Vec<(String, i64)> {
    app.store.fund_balances(&app.alpha.slug).await.unwrap()
}

async fn operating_fen(app: &StaffApp) -> i64 {
    balances(app)
        .await
        .into_iter()
        .find(|(a, _)| a.contains("operating"))
        .map(|(_, b)| b)
        .expect("an operating account")
}

/// Seqs of the entries of `kind` in alpha's log.
async fn entries_of(app: &StaffApp, kind: &str) -> Vec<(u64, Body)> {
    let mut out = Vec::new();
    for seq in 0..tree_size(app).await {
        let row = app
            .store
            .entry_row(&app.alpha.slug, seq)
            .await
            .unwrap()
            .unwrap();
        let body = row.entry().unwrap().body;
        if body.kind() == kind {
            out.push((seq, body));
        }
    }
    out
}

/// A signed-in person for `member` in alpha, enrolled as `role`.
async fn enrol(app: &StaffApp, login: &str, role: Role, member: &str) {
    let hash = Password::new_choice(PASSWORD).unwrap().hash();
    let id = app
        .store
        .create_user(login, login, &hash, false, ts(T0))
        .await
        .unwrap();
    app.store
        .grant(id, &app.alpha.slug, role, Some(member))
        .await
        .unwrap();
}

fn api_path(seq: u64) -> String {
    format!("/api/v1/estates/alpha/claims/{seq}/approvals")
}

fn page_path(seq: u64) -> String {
    format!("/estates/alpha/staff/approvals/{seq}")
}

async fn api_approve(s: &Session, seq: u64, signature: &str) -> (u16, Value) {
    s.post_json(
        &api_path(seq),
        &json!({"decision": "approve", "signature": signature}),
        None,
    )
    .await
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn error_field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

async fn the_company_alone_does_not_execute(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let c = claim(&app, "300.00").await;
    let alice = app.login("alice").await;
    let before = operating_fen(&app).await;

    // The queue lists it, unsigned by alice.
    let (status, html) = alice.page("/estates/alpha/staff/approvals").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("id=\"claim-{}\"", c.seq)), "{html}");
    assert!(html.contains("signed-false"));

    let sig = sign(company(&app), ALPHA_ORIGIN, &c, Decision::Approve);
    let resp = alice
        .post_form(
            &page_path(c.seq),
            &[("decision", "approve"), ("signature", &sig)],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(
        resp.headers()["location"].to_str().unwrap(),
        format!("/estates/alpha/claims/{}", c.seq)
    );
    let approvals = entries_of(&app, "claim_approved").await;
    assert_eq!(approvals.len(), 1);
    match &approvals[0].1 {
        Body::ClaimApproved {
            claim,
            claim_hash,
            member,
            key,
            ..
        } => {
            assert_eq!(*claim, c.seq);
            assert_eq!(*claim_hash, c.hash);
            assert_eq!(member.as_str(), "p1");
            assert_eq!(*key, company(&app).verifier_key().format());
        }
        other => panic!("{other:?}"),
    }
    assert!(entries_of(&app, "disbursement_executed").await.is_empty());
    assert_eq!(operating_fen(&app).await, before, "nothing paid yet");

    // Still in the queue; alice has signed, carol has not, and it still
    // needs one committee signature.
    let (_, html) = alice.page("/estates/alpha/staff/approvals").await;
    assert!(html.contains("signed-true"), "{html}");
    let carol = app.login("carol").await;
    let (_, home) = carol.page("/estates/alpha/staff").await;
    assert!(home.contains("/estates/alpha/staff/approvals"), "{home}");
    let (status, html) = carol.page("/estates/alpha/staff/approvals").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("id=\"claim-{}\"", c.seq)));
    // Not a claim: 404, on the page and in the API.
    assert_eq!(carol.page(&page_path(0)).await.0, 404);
    assert_eq!(carol.page("/estates/alpha/staff/approvals/x1").await.0, 404);
    let token = app.api_token("carol", &app.alpha).await;
    assert_eq!(api_approve(&token, 0, &sig).await.0, 404);
    assert!(html.contains("signed-false"));
    assert!(
        html.contains("1 × "),
        "still needs one committee member: {html}"
    );
}

async fn company_and_committee_execute_once_under_a_race(engine: Engine) {
    let app = StaffApp::start(engine).await;
    enrol(&app, "dave", Role::Committee, "c2").await;
    let c = claim(&app, "250.00").await;
    let before = operating_fen(&app).await;
    let alice = app.api_token("alice", &app.alpha).await;
    let sig = sign(company(&app), ALPHA_ORIGIN, &c, Decision::Approve);
    let (status, v) = api_approve(&alice, c.seq, &sig).await;
    assert_eq!(status, 201, "{v}");
    assert!(v["executed"].is_null(), "{v}");

    let carol = Arc::new(app.api_token("carol", &app.alpha).await);
    let dave = Arc::new(app.api_token("dave", &app.alpha).await);
    let sig_c1 = sign(c1(&app), ALPHA_ORIGIN, &c, Decision::Approve);
    let sig_c2 = sign(
        &app.alpha.committee[1].1,
        ALPHA_ORIGIN,
        &c,
        Decision::Approve,
    );
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (who, sig) = if i % 2 == 0 {
            (carol.clone(), sig_c1.clone())
        } else {
            (dave.clone(), sig_c2.clone())
        };
        let seq = c.seq;
        tasks.push(tokio::spawn(
            async move { api_approve(&who, seq, &sig).await },
        ));
    }
    let mut executed = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (status, v) = t.await.unwrap();
        match status {
            201 => {
                if let Some(e) = v["executed"].as_u64() {
                    executed.push(e);
                }
            }
            422 => {
                assert!(
                    matches!(error_code(&v), "claim_closed" | "already_approved"),
                    "{v}"
                );
                refused += 1;
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(executed.len(), 1, "exactly one request executed the claim");
    assert_eq!(refused, 9);
    let paid = entries_of(&app, "disbursement_executed").await;
    assert_eq!(paid.len(), 1, "one disbursement in the log");
    assert_eq!(paid[0].0, executed[0]);
    assert_eq!(operating_fen(&app).await, before - 25_000);
    assert_eq!(entries_of(&app, "claim_approved").await.len(), 2);

    // Paid: out of the queue.
    let (_, html) = app
        .login("carol")
        .await
        .page("/estates/alpha/staff/approvals")
        .await;
    assert!(!html.contains(&format!("id=\"claim-{}\"", c.seq)));
}

async fn the_same_key_counts_once(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let c = claim(&app, "100.00").await;
    let alice = app.login("alice").await;
    let sig = sign(company(&app), ALPHA_ORIGIN, &c, Decision::Approve);
    let form = [("decision", "approve"), ("signature", sig.as_str())];
    assert_eq!(
        alice.post_form(&page_path(c.seq), &form).await.status(),
        303
    );
    let size = tree_size(&app).await;
    let resp = alice.post_form(&page_path(c.seq), &form).await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("id=\"approve-signature-error\""),
        "refusal next to the signature: {html}"
    );
    assert!(html.contains("同一密钥只计一次"), "in Chinese: {html}");
    let token = app.api_token("alice", &app.alpha).await;
    let (status, v) = api_approve(&token, c.seq, &sig).await;
    assert_eq!(status, 422);
    assert_eq!(error_code(&v), "already_approved");
    assert_eq!(error_field(&v), "signature");
    assert_eq!(tree_size(&app).await, size, "nothing appended");
    assert!(entries_of(&app, "disbursement_executed").await.is_empty());
}

async fn a_signature_for_another_claim_or_estate_is_refused(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let a = claim(&app, "100.00").await;
    let b = claim(&app, "100.00").await;
    let alice = app.api_token("alice", &app.alpha).await;
    let size = tree_size(&app).await;

    let for_a = sign(company(&app), ALPHA_ORIGIN, &a, Decision::Approve);
    let (status, v) = api_approve(&alice, b.seq, &for_a).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(error_code(&v), "bad_signature");
    assert_eq!(error_field(&v), "signature");

    let other_estate = sign(company(&app), BETA_ORIGIN, &a, Decision::Approve);
    let (status, v) = api_approve(&alice, a.seq, &other_estate).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(error_code(&v), "bad_signature");

    // A reject signature is no approval either.
    let reject = sign(company(&app), ALPHA_ORIGIN, &a, Decision::Reject);
    let (status, v) = api_approve(&alice, a.seq, &reject).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(error_code(&v), "bad_signature");
    assert_eq!(tree_size(&app).await, size);

    // And the right one goes through.
    let (status, v) = api_approve(&alice, a.seq, &for_a).await;
    assert_eq!(status, 201, "{v}");
}

async fn an_expired_claim_is_refused(engine: Engine) {
    let app = StaffApp::start(engine).await;
    // The estate's entries are dated T0 (2026-01-05); a claim a day later
    // expires 30 days after that, long before today.
    let draft = Draft {
        at: Some(ts(T0 + 86_400)),
        ..app.alpha.claim(FundAccount::Operating, "100.00")
    };
    let c = app
        .store
        .append(
            &app.alpha.slug,
            vec![draft],
            ts(T0 + 86_400),
            &app.alpha.log,
        )
        .await
        .unwrap()
        .remove(0);
    let expires = app
        .store
        .with_state(&app.alpha.slug, |s| s.claims()[&c.seq].expires)
        .await
        .unwrap();
    assert!(expires < Timestamp::now().unwrap(), "the claim has expired");

    let carol = app.login("carol").await;
    let (_, html) = carol.page("/estates/alpha/staff/approvals").await;
    assert!(
        !html.contains(&format!("id=\"claim-{}\"", c.seq)),
        "an expired claim is not in the queue"
    );
    let size = tree_size(&app).await;
    let alice = app.api_token("alice", &app.alpha).await;
    let sig = sign(company(&app), ALPHA_ORIGIN, &c, Decision::Approve);
    let (status, v) = api_approve(&alice, c.seq, &sig).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(error_code(&v), "expired");
    let resp = carol
        .post_form(
            &page_path(c.seq),
            &[
                ("decision", "approve"),
                (
                    "signature",
                    &sign(c1(&app), ALPHA_ORIGIN, &c, Decision::Approve),
                ),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("该申请已过期"), "{html}");
    assert_eq!(tree_size(&app).await, size);
}

async fn a_revoked_key_is_refused(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let c = claim(&app, "100.00").await;
    let alice = app.api_token("alice", &app.alpha).await;
    let (status, _) = api_approve(
        &alice,
        c.seq,
        &sign(company(&app), ALPHA_ORIGIN, &c, Decision::Approve),
    )
    .await;
    assert_eq!(status, 201);
    app.alpha
        .append(
            &app.store,
            vec![Body::MemberRevoked {
                member: app.alpha.committee[0].0.clone(),
                key: c1(&app).verifier_key().format(),
                reason: Reason::parse("reason", "换届").unwrap(),
            }
            .into()],
        )
        .await
        .unwrap();
    let size = tree_size(&app).await;
    let carol = app.api_token("carol", &app.alpha).await;
    let (status, v) = api_approve(
        &carol,
        c.seq,
        &sign(c1(&app), ALPHA_ORIGIN, &c, Decision::Approve),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(error_code(&v), "revoked_key");
    assert_eq!(error_field(&v), "signature");
    assert_eq!(tree_size(&app).await, size);
    assert!(entries_of(&app, "disbursement_executed").await.is_empty());
}

async fn a_committee_rejection_closes_the_claim(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let c = claim(&app, "100.00").await;
    let carol = app.login("carol").await;
    let reject_sig = sign(c1(&app), ALPHA_ORIGIN, &c, Decision::Reject);

    // A rejection needs a reason.
    let size = tree_size(&app).await;
    let resp = carol
        .post_form(
            &page_path(c.seq),
            &[("decision", "reject"), ("signature", &reject_sig)],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("id=\"reject-reason-error\""));
    assert_eq!(tree_size(&app).await, size);

    // The company cannot reject.
    let alice = app.api_token("alice", &app.alpha).await;
    let (status, v) = alice
        .post_json(
            &api_path(c.seq),
            &json!({"decision": "reject", "reason": "不要",
                    "signature": sign(company(&app), ALPHA_ORIGIN, &c, Decision::Reject)}),
            None,
        )
        .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(error_code(&v), "not_allowed");

    let resp = carol
        .post_form(
            &page_path(c.seq),
            &[
                ("decision", "reject"),
                ("signature", &reject_sig),
                ("reason", "报价过高，请重新询价"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let rejected = entries_of(&app, "claim_rejected").await;
    assert_eq!(rejected.len(), 1);
    match &rejected[0].1 {
        Body::ClaimRejected { reason, member, .. } => {
            assert_eq!(reason.as_str(), "报价过高，请重新询价");
            assert_eq!(member.as_str(), "c1");
        }
        other => panic!("{other:?}"),
    }

    // Closed: later approvals are refused.
    let (status, v) = api_approve(
        &alice,
        c.seq,
        &sign(company(&app), ALPHA_ORIGIN, &c, Decision::Approve),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(error_code(&v), "claim_closed");
    let (status, html) = carol.page(&page_path(c.seq)).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"closed\""));
    assert!(
        !html.contains("<form method=\"post\""),
        "no forms on a closed claim"
    );
}

async fn an_overdraw_is_refused_at_execution_and_changes_nothing(engine: Engine) {
    let app = StaffApp::start(engine).await;
    // ¥5,000 from an operating account holding ¥1,000 (below the ¥50,000
    // line, so the company and one committee member suffice).
    let c = claim(&app, "5000.00").await;
    let alice = app.api_token("alice", &app.alpha).await;
    let (status, v) = api_approve(
        &alice,
        c.seq,
        &sign(company(&app), ALPHA_ORIGIN, &c, Decision::Approve),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let size = tree_size(&app).await;
    let before = balances(&app).await;
    let carol = app.login("carol").await;
    let resp = carol
        .post_form(
            &page_path(c.seq),
            &[
                ("decision", "approve"),
                (
                    "signature",
                    &sign(c1(&app), ALPHA_ORIGIN, &c, Decision::Approve),
                ),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("资金账户余额不足"), "{html}");
    assert_eq!(tree_size(&app).await, size, "the approval was refused too");
    assert_eq!(balances(&app).await, before);
    assert_eq!(entries_of(&app, "claim_approved").await.len(), 1);
    assert!(entries_of(&app, "disbursement_executed").await.is_empty());
    let token = app.api_token("carol", &app.alpha).await;
    let (status, v) = api_approve(
        &token,
        c.seq,
        &sign(c1(&app), ALPHA_ORIGIN, &c, Decision::Approve),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error_code(&v), "insufficient_funds");
    assert_eq!(tree_size(&app).await, size);
}

async fn the_review_page_shows_the_exact_message_and_capitals(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let c = claim(&app, "1234.50").await;
    let carol = app.login("carol").await;
    let (status, html) = carol.page(&page_path(c.seq)).await;
    assert_eq!(status, 200);
    for d in [Decision::Approve, Decision::Reject] {
        let msg = approval_message(ALPHA_ORIGIN, c.seq, &c.hash, d, 1);
        let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, msg.as_bytes()));
        assert!(
            html.contains(&format!(
                "<pre class=\"bytes\" id=\"{}-message\">{msg}</pre>",
                d.as_str()
            )),
            "exact {} message in the page: {html}",
            d.as_str()
        );
        assert!(html.contains(&sha));
        assert!(html.contains(&format!(
            "trustfund sign --url {} --estate alpha --claim {} --decision {}",
            app.base,
            c.seq,
            d.as_str()
        )));
    }
    let capital = Money::parse("amount", "1234.50")
        .unwrap()
        .to_chinese_capital();
    assert!(html.contains(&capital), "大写 {capital}: {html}");
    assert!(html.contains("修理队"), "payee decoded from the bytes");
    assert!(html.contains(&c.hash.to_hex()));
    assert!(html.contains("name=\"signature\""));
    assert!(html.contains("name=\"reason\""), "carol may reject");
    assert!(
        !html.contains("name=\"passphrase\""),
        "no key is held on the server yet"
    );
    // The company's page has no reject form.
    let (_, html) = app.login("alice").await.page(&page_path(c.seq)).await;
    assert!(!html.contains("name=\"reason\""));

    // The public JSON gives the same bytes.
    let anon = app.anonymous();
    let (status, v) = anon
        .get_json(&format!(
            "/api/v1/estates/alpha/claims/{}/approval-message?decision=approve",
            c.seq
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    let msg = approval_message(ALPHA_ORIGIN, c.seq, &c.hash, Decision::Approve, 1);
    assert_eq!(v["message"], json!(msg));
    assert_eq!(v["claim"], json!(c.seq));
    assert_eq!(v["claim_hash"], json!(c.hash.to_hex()));
    assert_eq!(v["policy"], json!(1));
    assert_eq!(v["origin"], json!(ALPHA_ORIGIN));
    assert_eq!(
        v["message_sha256"],
        json!(hex::encode(ring::digest::digest(
            &ring::digest::SHA256,
            msg.as_bytes()
        )))
    );
    let (status, _) = anon
        .get_json(&format!(
            "/api/v1/estates/alpha/claims/{}/approval-message?decision=maybe",
            c.seq
        ))
        .await;
    assert_eq!(status, 400);
    let (status, _) = anon
        .get_json("/api/v1/estates/alpha/claims/9999/approval-message?decision=approve")
        .await;
    assert_eq!(status, 404);
}

async fn community_and_other_estates_get_403(engine: Engine) {
    let app = StaffApp::start(engine).await;
    enrol(&app, "sam", Role::Community, "s1").await;
    let c = claim(&app, "100.00").await;
    let sig = sign(&app.alpha.community.1, ALPHA_ORIGIN, &c, Decision::Approve);
    for login in ["sam", "bob"] {
        let s = app.login(login).await;
        let (status, _) = s.page("/estates/alpha/staff/approvals").await;
        assert_eq!(status, 403, "{login}: queue");
        let (status, _) = s.page(&page_path(c.seq)).await;
        assert_eq!(status, 403, "{login}: review");
        let resp = s
            .post_form(
                &page_path(c.seq),
                &[("decision", "approve"), ("signature", &sig)],
            )
            .await;
        assert_eq!(resp.status().as_u16(), 403, "{login}: form post");
    }
    let bob = app.api_token("bob", &app.beta).await;
    let (status, _) = api_approve(&bob, c.seq, &sig).await;
    assert_eq!(status, 403);
    // Nobody signed in at all.
    let (status, _) = api_approve(&app.anonymous(), c.seq, &sig).await;
    assert_eq!(status, 401);
    assert!(entries_of(&app, "claim_approved").await.is_empty());
}

async fn a_flipped_signature_is_refused(engine: Engine) {
    use base64::Engine as _;
    let app = StaffApp::start(engine).await;
    let c = claim(&app, "100.00").await;
    let alice = app.api_token("alice", &app.alpha).await;
    let good = sign(company(&app), ALPHA_ORIGIN, &c, Decision::Approve);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&good)
        .unwrap();
    let size = tree_size(&app).await;
    for i in [0usize, 1, 31, 32, 62, 63] {
        let mut bad = raw.clone();
        bad[i] ^= 0x01;
        let bad = base64::engine::general_purpose::STANDARD.encode(&bad);
        let (status, v) = api_approve(&alice, c.seq, &bad).await;
        assert_eq!(status, 422, "byte {i}: {v}");
        assert_eq!(error_code(&v), "bad_signature", "byte {i}");
    }
    for junk in ["", "not base64!", &good[..good.len() - 4]] {
        let (status, v) = api_approve(&alice, c.seq, junk).await;
        assert_eq!(status, 422, "{junk:?}: {v}");
        assert_eq!(error_field(&v), "signature");
    }
    assert_eq!(tree_size(&app).await, size);
    // An Idempotency-Key is accepted: the retry gets the first answer.
    let body = json!({"decision": "approve", "signature": good});
    let (status, first) = alice.post_json(&api_path(c.seq), &body, Some("k-1")).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = alice.post_json(&api_path(c.seq), &body, Some("k-1")).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["seq"], first["seq"]);
    assert_eq!(again["replayed"], json!(true));
    assert_eq!(tree_size(&app).await, size + 1);
}
