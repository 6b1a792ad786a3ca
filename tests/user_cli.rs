//! `trustfund user`: the real binary makes accounts that can sign in.

mod common;

use std::process::Command;

use common::{Engine, TestDb, TestEstate};
use trustfund::auth::Password;
use trustfund::ledger::Role;

fn trustfund(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trustfund"));
    c.env_remove("DATABASE_URL")
        .env_remove("TRUSTFUND_PASSWORD");
    if let Some(url) = db.database_url() {
        c.env("DATABASE_URL", url);
    }
    c
}

both_engines!(user_add_makes_an_account_with_a_role);

async fn user_add_makes_an_account_with_a_role(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    TestEstate::create(&store, &db.keys(), "alpha").await;
    let dir = db.data_dir();
    let out = trustfund(&db)
        .args([
            "user",
            "add",
            "--login",
            "Bad Name",
            "--name",
            "x",
            "--data-dir",
        ])
        .arg(&dir)
        .env("TRUSTFUND_PASSWORD", "long enough password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--login"));

    let out = trustfund(&db)
        .args([
            "user",
            "add",
            "--login",
            "wang",
            "--name",
            "王建国",
            "--estate",
            "alpha",
        ])
        .args(["--role", "committee", "--member", "c1", "--data-dir"])
        .arg(&dir)
        .env("TRUSTFUND_PASSWORD", "short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a short password is refused");
    assert!(store.user_credentials("wang").await.unwrap().is_none());

    let out = trustfund(&db)
        .args([
            "user",
            "add",
            "--login",
            "wang",
            "--name",
            "王建国",
            "--estate",
            "alpha",
        ])
        .args(["--role", "committee", "--member", "c1", "--data-dir"])
        .arg(&dir)
        .env("TRUSTFUND_PASSWORD", "long enough password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (user, hash) = store.user_credentials("wang").await.unwrap().unwrap();
    assert!(Password::attempt("long enough password")
        .unwrap()
        .verify(&hash));
    assert!(!user.is_admin);
    let m = store.memberships(user.id).await.unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].estate.as_str(), m[0].role),
        ("alpha", Role::Committee)
    );
    assert_eq!(m[0].member.as_deref(), Some("c1"));
}
