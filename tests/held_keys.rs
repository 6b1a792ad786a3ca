//! The web path of signing, over real HTTP on both engines: an approver's
//! key held on the server sealed under their passphrase, opened only to
//! sign one approval or one cosignature.

mod common;

use common::staff::{Session, StaffApp, PASSWORD};
use common::Engine;
use trustfund::approver_key::{Kdf, KeyFile, Passphrase};
use trustfund::domain::{MemberId, Timestamp};
use trustfund::ledger::approval::{approval_message, Decision};
use trustfund::ledger::{ClaimStatus, FundAccount, Role};
use trustfund::store::Appended;
use trustfund::tlog::note::{Note, Signer, ALG_COSIGNATURE_V1};

both_engines!(
    an_uploaded_key_file_signs_an_approval_and_a_cosignature,
    a_key_made_on_the_server_signs_once_the_admin_enrols_it,
);

const PASSPHRASE: &str = "the committee's own passphrase";

/// Carol's real key (member c1, seed [11; 32]) sealed as `trustfund
/// keygen` would.
fn key_file_for(app: &StaffApp, member: &str, seed: u8) -> String {
    let name = format!("{}/members/{member}", app.alpha.origin());
    let pass = Passphrase::new_choice(PASSPHRASE).unwrap();
    let (file, _) =
        KeyFile::seal(&name, &[seed; 32], &pass, Kdf::DEFAULT, [3; 16], [4; 12]).unwrap();
    file.format()
}

/// A claim with the company's approval already on it, so one committee
/// approval executes it.
async fn claim_signed_by_the_company(app: &StaffApp) -> Appended {
    let now = Timestamp::now().unwrap();
    let claim = app
        .store
        .append(
            &app.alpha.slug,
            vec![app.alpha.claim(FundAccount::Operating, "120.00")],
            now,
            &app.alpha.log,
        )
        .await
        .unwrap()
        .remove(0);
    app.store
        .append(
            &app.alpha.slug,
            vec![app.alpha.approve(&claim, &app.alpha.company)],
            now,
            &app.alpha.log,
        )
        .await
        .unwrap();
    claim
}

async fn claim_status(app: &StaffApp, seq: u64) -> ClaimStatus {
    app.store
        .with_state(&app.alpha.slug, |s| s.claims()[&seq].status)
        .await
        .unwrap()
}

async fn approve_with_passphrase(s: &Session, seq: u64, passphrase: &str) -> (u16, String) {
    let r = s
        .post_form(
            &format!("/estates/alpha/staff/approvals/{seq}?lang=en"),
            &[("decision", "approve"), ("passphrase", passphrase)],
        )
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn an_uploaded_key_file_signs_an_approval_and_a_cosignature(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let carol = app.login("carol").await;
    let (status, html) = carol.page("/estates/alpha/staff/key").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"active-key\""),
        "carol is enrolled with a key"
    );

    // Another member's key file is not carol's active key.
    let r = carol
        .post_form(
            "/estates/alpha/staff/key/upload?lang=en",
            &[("key_file", &key_file_for(&app, "c2", 12))],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("not your active key"));
    // Junk is refused by name.
    let r = carol
        .post_form(
            "/estates/alpha/staff/key/upload?lang=en",
            &[("key_file", "not a key file")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let c1 = MemberId::parse("m", "c1").unwrap();
    assert!(app
        .store
        .approver_key(&app.alpha.slug, &c1)
        .await
        .unwrap()
        .is_none());

    // Never through an API token.
    let token = app.api_token("carol", &app.alpha).await;
    let r = token
        .post_form(
            "/estates/alpha/staff/key/upload",
            &[("key_file", &key_file_for(&app, "c1", 11))],
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(app
        .store
        .approver_key(&app.alpha.slug, &c1)
        .await
        .unwrap()
        .is_none());

    // Her own file, pasted from a browser (CRLF line ends), is kept.
    let file = key_file_for(&app, "c1", 11).replace('\n', "\r\n");
    let r = carol
        .post_form("/estates/alpha/staff/key/upload", &[("key_file", &file)])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = carol.page("/estates/alpha/staff/key?lang=en").await;
    assert!(html.contains("usable for signing"), "{html}");

    // The review page now offers the passphrase.
    let claim = claim_signed_by_the_company(&app).await;
    let (_, html) = carol
        .page(&format!("/estates/alpha/staff/approvals/{}", claim.seq))
        .await;
    assert!(html.contains("name=\"passphrase\""), "{html}");
    let size = app.store.tree_size(&app.alpha.slug).await.unwrap();
    let (status, html) = approve_with_passphrase(&carol, claim.seq, "wrong passphrase!!").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("wrong passphrase"));
    assert_eq!(
        app.store.tree_size(&app.alpha.slug).await.unwrap(),
        size,
        "nothing appended"
    );
    assert_eq!(claim_status(&app, claim.seq).await, ClaimStatus::Pending);

    let (status, html) = approve_with_passphrase(&carol, claim.seq, PASSPHRASE).await;
    assert_eq!(status, 303, "{html}");
    assert!(matches!(
        claim_status(&app, claim.seq).await,
        ClaimStatus::Executed { .. }
    ));
    // The ledger record is the one an offline signature makes: Ed25519 is
    // deterministic, so the same key over the same message gives the same bytes.
    let policy = app
        .store
        .with_state(&app.alpha.slug, |s| s.policy().unwrap().0)
        .await
        .unwrap();
    let message = approval_message(
        &app.alpha.origin(),
        claim.seq,
        &claim.hash,
        Decision::Approve,
        policy,
    );
    let offline = trustfund::ledger::approval::encode_signature(
        &app.alpha.committee[0].1.sign_raw(message.as_bytes()),
    );
    let bundle = app
        .store
        .entries_range(&app.alpha.slug, size, size + 1)
        .await
        .unwrap();
    assert!(bundle[0].contains(&offline), "{}", bundle[0]);

    // The same key witnesses the checkpoint with the passphrase.
    let note = carol
        .get("/estates/alpha/log/checkpoint")
        .await
        .text()
        .await
        .unwrap();
    let text = Note::parse(&note).unwrap().text;
    let tree_size = text.lines().nth(1).unwrap().to_string();
    let (_, html) = carol.page("/estates/alpha/staff/witness").await;
    assert!(html.contains("name=\"passphrase\""));
    let r = carol
        .post_form(
            "/estates/alpha/staff/witness",
            &[
                ("tree_size", tree_size.as_str()),
                ("signature", ""),
                ("passphrase", PASSPHRASE),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let last = app.store.last_cosigned(&app.alpha.slug, &c1).await.unwrap();
    assert_eq!(last.map(|l| l.0.to_string()), Some(tree_size));
}

async fn a_key_made_on_the_server_signs_once_the_admin_enrols_it(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let hash = trustfund::auth::Password::new_choice(PASSWORD)
        .unwrap()
        .hash();
    let dave = app
        .store
        .create_user(
            "dave",
            "Dave 业委会",
            &hash,
            false,
            Timestamp::now().unwrap(),
        )
        .await
        .unwrap();
    app.store
        .grant(dave, &app.alpha.slug, Role::Committee, Some("c4"))
        .await
        .unwrap();
    let dave = app.login("dave").await;

    // Carol already has an active key: a new one would be a hand-over.
    let carol = app.login("carol").await;
    let r = carol
        .post_form(
            "/estates/alpha/staff/key/generate?lang=en",
            &[("passphrase", PASSPHRASE), ("confirm", PASSPHRASE)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("already have an active key"));

    for (pass, confirm, field) in [
        ("short", "short", "err-passphrase"),
        (PASSPHRASE, "different passphrase", "err-confirm"),
    ] {
        let r = dave
            .post_form(
                "/estates/alpha/staff/key/generate?lang=en",
                &[("passphrase", pass), ("confirm", confirm)],
            )
            .await;
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains(field));
    }
    let r = dave
        .post_form(
            "/estates/alpha/staff/key/generate",
            &[("passphrase", PASSPHRASE), ("confirm", PASSPHRASE)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let c4 = MemberId::parse("m", "c4").unwrap();
    let held = KeyFile::parse(
        &app.store
            .approver_key(&app.alpha.slug, &c4)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let vkey = held.verifier_key().to_string();
    let (_, html) = dave.page("/estates/alpha/staff/key?lang=en").await;
    assert!(html.contains(&vkey) && html.contains("usable once the admin enrols this key"));
    // The stored file is sealed: the passphrase opens it, to the same key.
    let pass = Passphrase::attempt(PASSPHRASE).unwrap();
    let signer: Signer = held.unlock(&pass).unwrap();
    assert_eq!(signer.verifier_key().format(), vkey);
    assert!(held.unlock(&Passphrase::attempt("nope").unwrap()).is_err());
    assert_eq!(signer.verifier_key().alg, ALG_COSIGNATURE_V1);

    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/admin/estates/alpha/members",
            &[
                ("login", "dave"),
                ("name", "Dave 业委会"),
                ("role", "committee"),
                ("member", "c4"),
                ("key", &vkey),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    let claim = claim_signed_by_the_company(&app).await;
    let (status, html) = approve_with_passphrase(&dave, claim.seq, PASSPHRASE).await;
    assert_eq!(status, 303, "{html}");
    assert!(matches!(
        claim_status(&app, claim.seq).await,
        ClaimStatus::Executed { .. }
    ));
}
