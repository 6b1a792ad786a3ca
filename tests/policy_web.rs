//! Changing the approval policy over real HTTP on both engines: committee
//! members sign the proposed rules one by one; the change enters the
//! ledger once enough have signed.

mod common;

use common::staff::{Session, StaffApp, PASSWORD};
use common::Engine;
use trustfund::domain::Timestamp;
use trustfund::ledger::approval::{encode_signature, policy_message};
use trustfund::ledger::{Body, PolicyRules, Role};
use trustfund::tlog::note::Signer;

both_engines!(
    the_committee_changes_the_policy_by_signing_it,
    only_committee_members_with_keys_sign
);

fn stricter() -> PolicyRules {
    let mut r = PolicyRules::standard();
    r.default.committee = 2;
    r
}

fn fields(sig: &str, action: &str) -> Vec<(&'static str, String)> {
    vec![
        ("committee_default", "2".into()),
        ("committee_reserve", "3".into()),
        ("above_amount", "50000.00".into()),
        ("claim_ttl_days", "30".into()),
        ("witnesses", "2".into()),
        ("signature", sig.into()),
        ("action", action.into()),
    ]
}

async fn post(s: &Session, f: &[(&'static str, String)]) -> (u16, String) {
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s
        .post_form("/estates/alpha/staff/policy?lang=en", &pairs)
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

fn signature(app: &StaffApp, who: &Signer) -> String {
    let msg = policy_message(&app.alpha.origin(), 2, &stricter());
    encode_signature(&who.sign_raw(msg.as_bytes()))
}

async fn committee_login(app: &StaffApp, login: &str, member: &str) -> Session {
    let hash = trustfund::auth::Password::new_choice(PASSWORD)
        .unwrap()
        .hash();
    let id = app
        .store
        .create_user(login, login, &hash, false, Timestamp::now().unwrap())
        .await
        .unwrap();
    app.store
        .grant(id, &app.alpha.slug, Role::Committee, Some(member))
        .await
        .unwrap();
    app.login(login).await
}

async fn the_committee_changes_the_policy_by_signing_it(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let carol = app.login("carol").await;
    let (status, html) = carol.page("/estates/alpha/staff/policy").await;
    assert_eq!(status, 200);
    assert!(html.contains("<dd id=\"needed\">3</dd>"), "{html}");

    // The preview shows the exact message to sign.
    let (status, html) = post(&carol, &fields("", "preview")).await;
    assert_eq!(status, 200);
    let msg = policy_message(&app.alpha.origin(), 2, &stricter());
    assert!(html.contains(&msg), "{html}");

    // A signature by another member's key is refused.
    let c = &app.alpha.committee;
    let (status, html) = post(&carol, &fields(&signature(&app, &c[1].1), "sign")).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"err-signature\""));

    let size = app.store.tree_size(&app.alpha.slug).await.unwrap();
    let (status, _) = post(&carol, &fields(&signature(&app, &c[0].1), "sign")).await;
    assert_eq!(status, 303);
    let (_, html) = carol.page("/estates/alpha/staff/policy").await;
    assert!(html.contains("(1/3)"), "{html}");
    let c2 = committee_login(&app, "cheng", "c2").await;
    assert_eq!(
        post(&c2, &fields(&signature(&app, &c[1].1), "sign"))
            .await
            .0,
        303
    );
    assert_eq!(
        app.store.tree_size(&app.alpha.slug).await.unwrap(),
        size,
        "not yet"
    );
    let c3 = committee_login(&app, "zhang", "c3").await;
    assert_eq!(
        post(&c3, &fields(&signature(&app, &c[2].1), "sign"))
            .await
            .0,
        303
    );

    // The third signature put the change into the ledger, with all three.
    assert_eq!(
        app.store.tree_size(&app.alpha.slug).await.unwrap(),
        size + 1
    );
    let policy = app
        .store
        .with_state(&app.alpha.slug, |s| s.policy().cloned())
        .await
        .unwrap();
    assert_eq!(policy, Some((2, stricter())));
    let bytes = app
        .store
        .entry_bytes(&app.alpha.slug, size)
        .await
        .unwrap()
        .unwrap();
    match trustfund::ledger::Entry::parse(&bytes).unwrap().body {
        Body::PolicySet {
            version, approvals, ..
        } => {
            assert_eq!(version, 2);
            let who: Vec<&str> = approvals.iter().map(|a| a.member.as_str()).collect();
            assert_eq!(who, ["c1", "c2", "c3"]);
        }
        other => panic!("{other:?}"),
    }
    let (_, html) = carol.page("/estates/alpha/staff/policy").await;
    assert!(html.contains("v2"));
    // The same rules again are no change.
    let mut same = fields("", "preview");
    same[0].1 = "2".into();
    let (status, html) = post(&carol, &same).await;
    assert_eq!(status, 400);
    assert!(html.contains("same as the current ones"));
}

async fn only_committee_members_with_keys_sign(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let alice = app.login("alice").await;
    assert_eq!(alice.page("/estates/alpha/staff/policy").await.0, 403);
    let bob = app.login("bob").await;
    assert_eq!(bob.page("/estates/alpha/staff/policy").await.0, 403);
    // A committee member with no ledger key can look but not sign.
    let dave = committee_login(&app, "dave", "c9").await;
    let (status, html) = dave.page("/estates/alpha/staff/policy").await;
    assert_eq!(status, 200);
    assert!(!html.contains("value=\"sign\""));
    let (status, _) = post(&dave, &fields("AAAA", "sign")).await;
    assert_eq!(status, 422);
    assert_eq!(
        app.store
            .policy_signatures(&app.alpha.slug, 2)
            .await
            .unwrap()
            .len(),
        0
    );
    // Bad rules are named.
    let carol = app.login("carol").await;
    let mut bad = fields("", "preview");
    bad[3].1 = "0".into();
    let (status, html) = post(&carol, &bad).await;
    assert_eq!(status, 400);
    assert!(html.contains("id=\"err-claim_ttl_days\""));
}
