//! Platform administration over real HTTP on both engines: creating an
//! estate, registering units with fresh codes, enrolling members.

mod common;

use common::staff::{StaffApp, PASSWORD};
use common::Engine;
use trustfund::domain::Slug;
use trustfund::ledger::{Body, Role};
use trustfund::tlog::note::{Signer, ALG_COSIGNATURE_V1};

both_engines!(
    an_admin_creates_an_estate_with_its_policy_and_log,
    units_get_codes_that_open_their_pages_and_bad_lines_change_nothing,
    members_are_enrolled_with_accounts_and_keys,
    only_admins_administer,
);

async fn tree_size(app: &StaffApp, slug: &str) -> u64 {
    app.store
        .tree_size(&Slug::parse("slug", slug).unwrap())
        .await
        .unwrap()
}

async fn an_admin_creates_an_estate_with_its_policy_and_log(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let admin = app.login("admin").await;
    let (status, html) = admin.page("/admin").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"create-estate\""));

    let fields = [
        ("name", "翠湖苑"),
        ("slug", "cuihu"),
        ("origin", "trustfund.example/estates/cuihu"),
        ("timezone", "Asia/Shanghai"),
        ("fee_rate", "2.80"),
        ("ratio", "0.12"),
        ("committee_default", "2"),
        ("committee_reserve", "3"),
        ("above_amount", "20000.00"),
        ("claim_ttl_days", "14"),
        ("witnesses", "2"),
    ];
    // A bad fee rate is named and nothing is created.
    let mut bad = fields;
    bad[4] = ("fee_rate", "2.8.0");
    let r = admin.post_form("/admin/estates?lang=en", &bad).await;
    assert_eq!(r.status().as_u16(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"err-fee_rate\""), "{html}");
    assert!(app
        .store
        .estate(&Slug::parse("s", "cuihu").unwrap())
        .await
        .unwrap()
        .is_none());

    let r = admin.post_form("/admin/estates", &fields).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/admin/estates/cuihu");
    let slug = Slug::parse("s", "cuihu").unwrap();
    let (policy, ratio) = app
        .store
        .with_state(&slug, |s| {
            (
                s.policy().cloned(),
                s.ratio_for(
                    s.estate()
                        .map(|_| {
                            trustfund::domain::Timestamp::now()
                                .unwrap()
                                .period_in(&s.estate().unwrap().timezone)
                        })
                        .unwrap(),
                ),
            )
        })
        .await
        .unwrap();
    let (version, rules) = policy.unwrap();
    assert_eq!(version, 1);
    assert_eq!(rules.default.committee, 2);
    assert_eq!(rules.default.company, 1);
    assert_eq!(rules.claim_ttl_days, 14);
    assert_eq!(rules.above.unwrap().amount.to_string(), "20000.00");
    assert_eq!(ratio.unwrap().to_string(), "0.12");
    // The new estate's log is public and signed.
    let (status, _) = app.anonymous().page("/estates/cuihu/log/checkpoint").await;
    assert_eq!(status, 200);
    // The same slug again is refused next to the slug field.
    let r = admin.post_form("/admin/estates", &fields).await;
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.unwrap().contains("id=\"err-slug\""));
}

async fn units_get_codes_that_open_their_pages_and_bad_lines_change_nothing(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let admin = app.login("admin").await;
    let before = tree_size(&app, "alpha").await;
    let r = admin
        .post_form(
            "/admin/estates/alpha/units?lang=en",
            &[("units", "2-101 88.00\n2-102 abc\n1-101 80.00")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("line 2 area"), "{html}");
    assert_eq!(tree_size(&app, "alpha").await, before, "nothing appended");
    // 1-101 is already registered: refused as a whole.
    let r = admin
        .post_form(
            "/admin/estates/alpha/units?lang=en",
            &[("units", "2-101 88.00\n1-101 80.00")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("already registered: 1-101"));
    assert_eq!(tree_size(&app, "alpha").await, before);

    let r = admin
        .post_form(
            "/admin/estates/alpha/units",
            &[("units", "2-101 88.00\n2-102, 101.25\n")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(tree_size(&app, "alpha").await, before + 2);
    let slug = Slug::parse("s", "alpha").unwrap();
    let row = app.store.unit(&slug, "2-102").await.unwrap().unwrap();
    assert_eq!(row.area, "101.25");

    let r = admin.get("/admin/estates/alpha/units/codes").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let secret = trustfund::domain::UnitSecret::parse("s", &row.secret).unwrap();
    assert!(
        html.contains(&secret.grouped()),
        "the printed code is the unit's secret"
    );
    // The printed code opens that unit's page for its owner.
    let (status, page) = app
        .anonymous()
        .page(&format!(
            "/estates/alpha/units/{}",
            secret.grouped().replace(' ', "")
        ))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("2-102"), "{page}");
}

async fn members_are_enrolled_with_accounts_and_keys(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let admin = app.login("admin").await;
    let origin = app.alpha.origin();
    let signer = Signer::from_seed(
        &format!("{origin}/members/c4"),
        ALG_COSIGNATURE_V1,
        &[44; 32],
    )
    .unwrap();
    let vkey = signer.verifier_key().format();
    let before = tree_size(&app, "alpha").await;
    // A short password for a new account is refused next to the field.
    let r = admin
        .post_form(
            "/admin/estates/alpha/members?lang=en",
            &[
                ("login", "dave"),
                ("name", "Dave 业委会"),
                ("password", "short"),
                ("role", "committee"),
                ("member", "c4"),
                ("key", &vkey),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("at least 10 characters"));
    assert_eq!(tree_size(&app, "alpha").await, before);
    // A key that is not a verifier key is refused by the ledger, no account made.
    let r = admin
        .post_form(
            "/admin/estates/alpha/members?lang=en",
            &[
                ("login", "dave"),
                ("name", "Dave 业委会"),
                ("password", PASSWORD),
                ("role", "committee"),
                ("member", "c4"),
                ("key", "not-a-key"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(app.store.user_credentials("dave").await.unwrap().is_none());

    let r = admin
        .post_form(
            "/admin/estates/alpha/members",
            &[
                ("login", "dave"),
                ("name", "Dave 业委会"),
                ("password", PASSWORD),
                ("role", "committee"),
                ("member", "c4"),
                ("key", &vkey),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(tree_size(&app, "alpha").await, before + 1);
    let slug = Slug::parse("s", "alpha").unwrap();
    let bytes = app.store.entry_bytes(&slug, before).await.unwrap().unwrap();
    let entry = trustfund::ledger::Entry::parse(&bytes).unwrap();
    match entry.body {
        Body::MemberEnrolled {
            member, role, key, ..
        } => {
            assert_eq!(member.as_str(), "c4");
            assert_eq!(role, Role::Committee);
            assert_eq!(key, vkey);
        }
        other => panic!("expected member_enrolled, got {other:?}"),
    }
    // Dave signs in and lands in alpha as committee.
    let dave = app.login("dave").await;
    let (status, html) = dave.page("/estates/alpha/staff").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("/staff/payments"),
        "committee records no payments"
    );
}

async fn only_admins_administer(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let alice = app.login("alice").await;
    assert_eq!(alice.page("/admin").await.0, 403);
    let r = alice
        .post_form("/admin/estates/alpha/units", &[("units", "9-101 50.00")])
        .await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(alice.page("/admin/estates/alpha/units/codes").await.0, 403);
    let token = app.api_token("alice", &app.alpha).await;
    assert_eq!(token.page("/admin").await.0, 403);
    assert_eq!(app.anonymous().get("/admin").await.status().as_u16(), 303);
}
