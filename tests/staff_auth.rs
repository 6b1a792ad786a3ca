//! Sign-in, sessions, tokens and the role and estate checks, over real
//! HTTP on both engines.

mod common;

use common::staff::{cross_site_post, StaffApp, PASSWORD};
use common::Engine;

both_engines!(
    sign_in_sets_a_strict_http_only_session_and_sign_out_ends_it,
    wrong_passwords_are_refused_and_rate_limited,
    staff_of_one_estate_cannot_touch_another,
    an_owner_link_cannot_reach_staff_pages,
    cross_site_posts_are_refused,
    api_tokens_are_scoped_to_their_estate_and_revocable,
    tokens_are_made_once_and_revoked_on_the_tokens_page,
);

async fn sign_in_sets_a_strict_http_only_session_and_sign_out_ends_it(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let anon = app.anonymous();
    let before = anon.get("/staff").await;
    assert_eq!(before.status().as_u16(), 303, "signed out: sent to sign-in");
    assert_eq!(before.headers()["location"], "/login?next=%2Fstaff");

    let resp = anon
        .post_form(
            "/login",
            &[
                ("login", "alice"),
                ("password", PASSWORD),
                ("next", "/estates/alpha/staff"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(resp.headers()["location"], "/estates/alpha/staff");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP on loopback");

    let alice = app.login("alice").await;
    let (status, html) = alice.page("/estates/alpha/staff").await;
    assert_eq!(status, 200);
    assert!(html.contains("/estates/alpha/staff/payments"), "{html}");
    // A second sign-in gets a different session id.
    let again = app.login("alice").await;
    assert_ne!(again.cookie, alice.cookie);

    let out = alice.post_form("/logout", &[]).await;
    assert_eq!(out.status().as_u16(), 303);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        alice.get("/staff").await.status().as_u16(),
        303,
        "the old cookie is dead"
    );
    assert_eq!(
        again.get("/staff").await.status().as_u16(),
        200,
        "other sessions live on"
    );
}

async fn wrong_passwords_are_refused_and_rate_limited(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let anon = app.anonymous();
    for login in ["alice", "nobody"] {
        let r = anon
            .post_form(
                "/login",
                &[("login", login), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(r.status().as_u16(), 401, "{login}");
        assert!(r.headers().get("set-cookie").is_none());
    }
    // Five attempts per account per window: the fifth wrong one still
    // answers 401, the sixth is refused even with the right password.
    for _ in 0..4 {
        let r = anon
            .post_form(
                "/login",
                &[("login", "alice"), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(r.status().as_u16(), 401);
    }
    let r = anon
        .post_form("/login", &[("login", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status().as_u16(), 429);
    // Another account from the same address is not locked out by that.
    let r = anon
        .post_form("/login", &[("login", "carol"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status().as_u16(), 303);
}

async fn staff_of_one_estate_cannot_touch_another(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let bob = app.login("bob").await;
    assert_eq!(bob.page("/estates/beta/staff").await.0, 200);
    let (status, html) = bob.page("/estates/alpha/staff").await;
    assert_eq!(status, 403, "{html}");
    assert_eq!(
        bob.page("/estates/nosuch/staff").await.0,
        403,
        "no hint whether it exists"
    );
    let admin = app.login("admin").await;
    assert_eq!(
        admin.page("/estates/alpha/staff").await.0,
        403,
        "admins move no money"
    );
}

async fn an_owner_link_cannot_reach_staff_pages(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let owner = app.anonymous();
    let secret = app.alpha.units[0].1.to_string();
    let unit_page = format!("/estates/alpha/units/{secret}");
    let (status, html) = owner.page(&unit_page).await;
    assert_eq!(status, 200, "the owner's own page opens");
    assert!(html.contains("1-101"), "{html}");
    let r = owner.get("/estates/alpha/staff").await;
    assert_eq!(r.status().as_u16(), 303, "staff pages need a sign-in");
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
}

async fn cross_site_posts_are_refused(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let alice = app.login("alice").await;
    let r = cross_site_post(&alice, "/logout", &[]).await;
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        alice.get("/staff").await.status().as_u16(),
        200,
        "still signed in"
    );
    // A cookie with no origin headers at all is refused too.
    let r = alice
        .client
        .post(format!("{}/logout", alice.base))
        .header("cookie", &alice.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // A sign-in form posted from another site is refused.
    let r = app
        .anonymous()
        .client
        .post(format!("{}/login", app.base))
        .header("origin", "http://evil.example")
        .form(&[("login", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

async fn api_tokens_are_scoped_to_their_estate_and_revocable(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let token = app.api_token("alice", &app.alpha).await;
    assert_eq!(token.page("/estates/alpha/staff").await.0, 200);
    let bob_token = app.api_token("bob", &app.beta).await;
    assert_eq!(bob_token.page("/estates/alpha/staff").await.0, 403);
    let (user, _) = app.store.user_credentials("alice").await.unwrap().unwrap();
    let tokens = app.store.api_tokens(user.id).await.unwrap();
    assert_eq!(tokens.len(), 1);
    let now = trustfund::domain::Timestamp::now().unwrap();
    assert!(app
        .store
        .revoke_api_token(user.id, tokens[0].id, now)
        .await
        .unwrap());
    let (status, _) = token.page("/estates/alpha/staff").await;
    assert_eq!(status, 303, "a revoked token is no sign-in");
}

async fn tokens_are_made_once_and_revoked_on_the_tokens_page(engine: Engine) {
    let app = StaffApp::start(engine).await;
    let alice = app.login("alice").await;
    // Not for an estate alice has no role in.
    let r = alice
        .post_form(
            "/staff/tokens?lang=en",
            &[("estate", "beta"), ("label", "erp")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("choose an estate you have a role in"));

    let r = alice
        .post_form(
            "/staff/tokens",
            &[("estate", "alpha"), ("label", "财务系统")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    let start = html.find("<code id=\"new-token\">").unwrap() + "<code id=\"new-token\">".len();
    let token = html[start..start + html[start..].find('<').unwrap()].to_string();
    assert!(token.starts_with("tfk_"), "{token}");
    let mut api = app.anonymous();
    api.token = Some(token.clone());
    assert_eq!(api.page("/estates/alpha/staff").await.0, 200);
    // A token cannot manage tokens.
    assert_eq!(api.page("/staff/tokens").await.0, 403);
    // The list shows it without the secret.
    let (_, list) = alice.page("/staff/tokens").await;
    assert!(list.contains("财务系统") && !list.contains(&token));

    let (user, _) = app.store.user_credentials("alice").await.unwrap().unwrap();
    let id = app.store.api_tokens(user.id).await.unwrap()[0].id;
    // Bob cannot revoke alice's token.
    let bob = app.login("bob").await;
    let r = bob
        .post_form(&format!("/staff/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(api.page("/estates/alpha/staff").await.0, 200);
    let r = alice
        .post_form(&format!("/staff/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(api.get("/estates/alpha/staff").await.status().as_u16(), 303);
}
