//! Claims that expire close by themselves; a hand-over revokes and enrols
//! members in one append, over real HTTP, on both engines.

mod common;

use common::staff::StaffApp;
use common::{Engine, TestDb, TestEstate};
use trustfund::domain::{MemberId, Slug, Timestamp};
use trustfund::ledger::{ClaimStatus, FundAccount};
use trustfund::store::{Appended, Draft, Store, StoreError};
use trustfund::tlog::note::{Signer, ALG_COSIGNATURE_V1};

both_engines!(
    expired_claims_close_once_and_refuse_approvals,
    the_expire_claims_command_closes_what_is_due,
    a_handover_revokes_and_enrols_in_one_append,
    revoked_approvals_stop_counting_on_pending_claims,
    a_handover_with_one_bad_line_changes_nothing,
    a_handover_that_leaves_too_few_signers_is_refused,
    only_admins_hand_over,
);

const DAY: i64 = 86_400;

async fn status(store: &Store, slug: &Slug, claim: u64) -> ClaimStatus {
    store
        .with_state(slug, |s| s.claims()[&claim].status)
        .await
        .unwrap()
}

async fn expired_claims_close_once_and_refuse_approvals(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let estate = TestEstate::create(&store, &db.keys(), "exp").await;
    // Submitted a day after t0 (2026-01-05) with a 30-day window: expired
    // since 2026-02-05.
    let mut old = estate.claim(FundAccount::Operating, "100.00");
    old.at = Some(Timestamp::from_unix(estate.t0.unix() + DAY).unwrap());
    let old = estate.append(&store, vec![old]).await.unwrap().remove(0);
    let fresh = estate
        .append(&store, vec![estate.claim(FundAccount::Operating, "50.00")])
        .await
        .unwrap()
        .remove(0);
    let now = Timestamp::now().unwrap();
    assert!(
        now.unix() > estate.t0.unix() + 31 * DAY,
        "the test needs a clock past 2026-02-05"
    );

    let closed = store
        .expire_claims(&estate.slug, now, &estate.log)
        .await
        .unwrap();
    assert_eq!(closed.len(), 1, "only the old claim is past its window");
    assert_eq!(closed[0].kind, "claim_expired");
    assert_eq!(
        status(&store, &estate.slug, old.seq).await,
        ClaimStatus::Expired { seq: closed[0].seq }
    );
    assert_eq!(
        status(&store, &estate.slug, fresh.seq).await,
        ClaimStatus::Pending
    );

    let size = store.tree_size(&estate.slug).await.unwrap();
    let again = store
        .expire_claims(&estate.slug, now, &estate.log)
        .await
        .unwrap();
    assert!(again.is_empty(), "a second run appends nothing");
    assert_eq!(store.tree_size(&estate.slug).await.unwrap(), size);

    let late = estate
        .append(&store, vec![estate.approve(&old, &estate.committee[0])])
        .await;
    match late {
        Err(StoreError::Rule(r)) => assert_eq!(r.code, "claim_closed", "{r}"),
        other => panic!("an approval of an expired claim must be refused: {other:?}"),
    }
    assert_eq!(store.tree_size(&estate.slug).await.unwrap(), size);
    // The claim still in its window can be approved as usual.
    estate
        .append(&store, vec![estate.approve(&fresh, &estate.committee[0])])
        .await
        .unwrap();
    assert_eq!(
        status(&store, &estate.slug, fresh.seq).await,
        ClaimStatus::Pending
    );
}

async fn the_expire_claims_command_closes_what_is_due(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let estate = TestEstate::create(&store, &db.keys(), "cli").await;
    let mut old = estate.claim(FundAccount::Operating, "100.00");
    old.at = Some(Timestamp::from_unix(estate.t0.unix() + DAY).unwrap());
    let old = estate.append(&store, vec![old]).await.unwrap().remove(0);
    let run = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_trustfund"));
        cmd.arg("expire-claims")
            .arg("--data-dir")
            .arg(db.data_dir())
            .env_remove("DATABASE_URL");
        if let Some(url) = db.database_url() {
            cmd.env("DATABASE_URL", url);
        }
        cmd.output().unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{first:?}");
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(out.contains("cli: claim closed as expired"), "{out}");
    assert!(matches!(
        status(&store, &estate.slug, old.seq).await,
        ClaimStatus::Expired { .. }
    ));
    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("no claim is past its expiry"));
}

fn new_member(estate: &TestEstate, id: &str, seed: u8) -> (MemberId, Signer) {
    let name = format!("{}/members/{id}", estate.origin());
    (
        MemberId::parse("member", id).unwrap(),
        Signer::from_seed(&name, ALG_COSIGNATURE_V1, &[seed; 32]).unwrap(),
    )
}

fn line(id: &str, name: &str, who: &(MemberId, Signer)) -> String {
    format!("{id} committee {name} {}", who.1.verifier_key().format())
}

async fn size(app: &StaffApp) -> u64 {
    app.store.tree_size(&app.alpha.slug).await.unwrap()
}

async fn active(app: &StaffApp, id: &str) -> bool {
    let id = MemberId::parse("member", id).unwrap();
    app.store
        .with_state(&app.alpha.slug, |s| {
            s.members().get(&id).is_some_and(|m| m.key.is_some())
        })
        .await
        .unwrap()
}

const PATH: &str = "/admin/estates/alpha/handover";

async fn a_handover_revokes_and_enrols_in_one_append(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let admin = app.login("admin").await;
    let (code, html) = admin.page(PATH).await;
    assert_eq!(code, 200);
    assert!(html.contains("value=\"c3\""), "active members are listed");
    let c4 = new_member(&app.alpha, "c4", 40);
    let c5 = new_member(&app.alpha, "c5", 41);
    let enrol = format!(
        "{}\n\n{}\n",
        line("c4", "王 芳", &c4),
        line("c5", "李明", &c5)
    );
    let before = size(&app).await;
    let r = admin
        .post_form(
            PATH,
            &[
                ("revoke", "c3"),
                ("reason", "2026 年业委会换届"),
                ("enrol", &enrol),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        size(&app).await,
        before + 3,
        "one revocation and two enrolments"
    );
    let slug = &app.alpha.slug;
    assert!(app
        .store
        .checkpoint_at(slug, before + 1)
        .await
        .unwrap()
        .is_none());
    assert!(app
        .store
        .checkpoint_at(slug, before + 2)
        .await
        .unwrap()
        .is_none());
    assert!(
        app.store
            .checkpoint_at(slug, before + 3)
            .await
            .unwrap()
            .is_some(),
        "one append, one new checkpoint"
    );
    let kinds: Vec<String> = app
        .store
        .entries_range(slug, before, before + 3)
        .await
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["member_revoked", "member_enrolled", "member_enrolled"]
    );
    assert!(!active(&app, "c3").await);
    assert!(active(&app, "c4").await && active(&app, "c5").await);
    let (_, html) = admin.page(&format!("{PATH}?done=1")).await;
    assert!(
        !html.contains("value=\"c3\""),
        "c3 is no longer listed as active"
    );

    // c3 comes back only with a new key: its old one is refused.
    let c3 = &app.alpha.committee[2];
    let old_key = line("c3", "回任", c3);
    let r = admin.post_form(PATH, &[("enrol", &old_key)]).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(!active(&app, "c3").await);
    let c3_new = new_member(&app.alpha, "c3", 42);
    let r = admin
        .post_form(PATH, &[("enrol", &line("c3", "回任", &c3_new))])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(active(&app, "c3").await);
}

async fn revoked_approvals_stop_counting_on_pending_claims(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let a = &app.alpha;
    let claim: Appended = a
        .append(&app.store, vec![a.claim(FundAccount::Operating, "100.00")])
        .await
        .unwrap()
        .remove(0);
    a.append(&app.store, vec![a.approve(&claim, &a.committee[2])])
        .await
        .unwrap();
    assert_eq!(
        status(&app.store, &a.slug, claim.seq).await,
        ClaimStatus::Pending
    );

    let admin = app.login("admin").await;
    let c4 = new_member(a, "c4", 40);
    let r = admin
        .post_form(
            PATH,
            &[
                ("revoke", "c3"),
                ("reason", "换届"),
                ("enrol", &line("c4", "王芳", &c4)),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // Company plus c3 would have met the policy; c3 no longer counts.
    let company: Vec<Draft> = vec![a.approve(&claim, &a.company)];
    let out = a.append(&app.store, company).await.unwrap();
    assert_eq!(out.len(), 1, "the company approval alone executes nothing");
    assert_eq!(
        status(&app.store, &a.slug, claim.seq).await,
        ClaimStatus::Pending
    );
    // c3's old key cannot approve again either.
    match a
        .append(&app.store, vec![a.approve(&claim, &a.committee[2])])
        .await
    {
        Err(StoreError::Rule(r)) => assert_eq!(r.code, "revoked_key", "{r}"),
        other => panic!("a revoked key must not approve: {other:?}"),
    }
    let out = a
        .append(&app.store, vec![a.approve(&claim, &c4)])
        .await
        .unwrap();
    assert_eq!(
        out.len(),
        2,
        "c4's approval completes the policy and executes"
    );
    assert_eq!(out[1].kind, "disbursement_executed");
    assert!(matches!(
        status(&app.store, &a.slug, claim.seq).await,
        ClaimStatus::Executed { .. }
    ));
}

async fn a_handover_with_one_bad_line_changes_nothing(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let admin = app.login("admin").await;
    let c4 = new_member(&app.alpha, "c4", 40);
    let before = size(&app).await;
    // Line 2 reuses c1's key: the ledger refuses it, and so the whole hand-over.
    let reused = format!(
        "{}\n{}",
        line("c4", "王芳", &c4),
        line("c5", "李明", &app.alpha.committee[0])
    );
    let r = admin
        .post_form(
            PATH,
            &[("revoke", "c3"), ("reason", "换届"), ("enrol", &reused)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("第 2 行") || html.contains("line 2"),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    assert_eq!(size(&app).await, before);
    assert!(active(&app, "c3").await && !active(&app, "c4").await);

    // A line that does not parse is refused before the ledger sees anything.
    let garbled = format!("{}\nc5 committee", line("c4", "王芳", &c4));
    let r = admin
        .post_form(
            PATH,
            &[("revoke", "c3"), ("reason", "换届"), ("enrol", &garbled)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 400);
    // A key that is not a verifier key, and an unknown member to revoke.
    let bad_key = format!("{}\nc5 committee 李明 not-a-key", line("c4", "王芳", &c4));
    let r = admin
        .post_form(
            PATH,
            &[("revoke", "c3"), ("reason", "换届"), ("enrol", &bad_key)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = admin
        .post_form(
            PATH,
            &[
                ("revoke", "c9"),
                ("reason", "换届"),
                ("enrol", &line("c4", "王芳", &c4)),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(size(&app).await, before);
    assert!(active(&app, "c3").await && !active(&app, "c4").await);
}

async fn a_handover_that_leaves_too_few_signers_is_refused(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let admin = app.login("admin").await;
    let before = size(&app).await;
    // The standard policy needs 3 committee signatures for the reserve.
    let r = admin
        .post_form(PATH, &[("revoke", "c3"), ("reason", "辞职")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"err-quorum\""), "{html}");
    assert!(html.contains("业委会签名人") || html.contains("committee signers"));
    // Removing the only company signer is refused too.
    let r = admin
        .post_form(PATH, &[("revoke", "p1"), ("reason", "更换物业")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(size(&app).await, before);
    assert!(active(&app, "c3").await && active(&app, "p1").await);
}

async fn only_admins_hand_over(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let before = size(&app).await;
    for login in ["alice", "carol"] {
        let s = app.login(login).await;
        assert_eq!(s.page(PATH).await.0, 403, "{login}");
        let r = s
            .post_form(PATH, &[("revoke", "c1"), ("reason", "x")])
            .await;
        assert_eq!(r.status().as_u16(), 403, "{login}");
    }
    let token = app.api_token("alice", &app.alpha).await;
    assert_eq!(token.page(PATH).await.0, 403);
    assert_eq!(size(&app).await, before);
}
