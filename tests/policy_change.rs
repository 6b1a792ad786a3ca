//! Changing the approval policy: a later `policy_set` needs the committee's
//! signatures under the policy it replaces, and approvals gathered under
//! the old version stop counting. Real store on both engines.

mod common;

use common::{Engine, TestDb, TestEstate};
use trustfund::domain::{MemberId, Reason};
use trustfund::ledger::approval::{approval_message, encode_signature, policy_message, Decision};
use trustfund::ledger::entry::PolicyApproval;
use trustfund::ledger::{Body, ClaimStatus, FundAccount, PolicyRules};
use trustfund::store::{Appended, Draft, StoreError};
use trustfund::tlog::note::Signer;

both_engines!(
    a_policy_change_needs_the_committees_signatures_under_the_old_policy,
    approvals_under_the_old_policy_stop_counting,
);

/// One committee member's signature on `rules` as version `version`.
fn sign(
    t: &TestEstate,
    who: &(MemberId, Signer),
    version: u32,
    rules: &PolicyRules,
) -> PolicyApproval {
    let msg = policy_message(&t.origin(), version, rules);
    PolicyApproval {
        member: who.0.clone(),
        key: who.1.verifier_key().format(),
        signature: encode_signature(&who.1.sign_raw(msg.as_bytes())),
    }
}

fn change(version: u32, rules: &PolicyRules, approvals: Vec<PolicyApproval>) -> Draft {
    Body::PolicySet {
        version,
        rules: rules.clone(),
        approvals,
    }
    .into()
}

fn refused_code(r: Result<Vec<Appended>, StoreError>) -> &'static str {
    match r {
        Err(StoreError::Rule(e)) => e.code,
        other => panic!("expected a ledger refusal, got {other:?}"),
    }
}

/// The standard policy with two committee members for ordinary claims.
fn stricter() -> PolicyRules {
    let mut r = PolicyRules::standard();
    r.default.committee = 2;
    r
}

async fn a_policy_change_needs_the_committees_signatures_under_the_old_policy(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "alpha").await;
    let rules = stricter();
    let c = &t.committee;
    let size = store.tree_size(&t.slug).await.unwrap();

    // The standard policy needs 3 committee members for the reserve, so a
    // change needs 3.
    let two = vec![sign(&t, &c[0], 2, &rules), sign(&t, &c[1], 2, &rules)];
    assert_eq!(
        refused_code(t.append(&store, vec![change(2, &rules, two)]).await),
        "policy_not_met"
    );
    assert_eq!(
        refused_code(t.append(&store, vec![change(2, &rules, vec![])]).await),
        "policy_not_met"
    );
    // The company cannot sign a policy change.
    let with_company = vec![
        sign(&t, &c[0], 2, &rules),
        sign(&t, &c[1], 2, &rules),
        sign(&t, &t.company, 2, &rules),
    ];
    assert_eq!(
        refused_code(
            t.append(&store, vec![change(2, &rules, with_company)])
                .await
        ),
        "not_allowed"
    );
    // The same member twice counts once.
    let twice = vec![
        sign(&t, &c[0], 2, &rules),
        sign(&t, &c[1], 2, &rules),
        sign(&t, &c[1], 2, &rules),
    ];
    assert_eq!(
        refused_code(t.append(&store, vec![change(2, &rules, twice)]).await),
        "already_approved"
    );
    // Signatures bind the rules: signed for other rules, refused.
    let other = PolicyRules::standard();
    let wrong_rules = vec![
        sign(&t, &c[0], 2, &other),
        sign(&t, &c[1], 2, &rules),
        sign(&t, &c[2], 2, &rules),
    ];
    assert_eq!(
        refused_code(t.append(&store, vec![change(2, &rules, wrong_rules)]).await),
        "bad_signature"
    );
    // ...and the version: signed as version 3, refused for version 2.
    let wrong_version = vec![
        sign(&t, &c[0], 3, &rules),
        sign(&t, &c[1], 2, &rules),
        sign(&t, &c[2], 2, &rules),
    ];
    assert_eq!(
        refused_code(
            t.append(&store, vec![change(2, &rules, wrong_version)])
                .await
        ),
        "bad_signature"
    );
    // Every byte of a signature matters.
    let mut flipped = sign(&t, &c[0], 2, &rules);
    let mut raw = flipped.signature.into_bytes();
    raw[5] = if raw[5] == b'A' { b'B' } else { b'A' };
    flipped.signature = String::from_utf8(raw).unwrap();
    let bad = vec![
        flipped,
        sign(&t, &c[1], 2, &rules),
        sign(&t, &c[2], 2, &rules),
    ];
    assert_eq!(
        refused_code(t.append(&store, vec![change(2, &rules, bad)]).await),
        "bad_signature"
    );
    assert_eq!(
        store.tree_size(&t.slug).await.unwrap(),
        size,
        "nothing appended"
    );

    // A revoked key never counts.
    t.append(
        &store,
        vec![Body::MemberRevoked {
            member: c[2].0.clone(),
            key: c[2].1.verifier_key().format(),
            reason: Reason::parse("reason", "换届").unwrap(),
        }
        .into()],
    )
    .await
    .unwrap();
    let with_revoked = vec![
        sign(&t, &c[0], 2, &rules),
        sign(&t, &c[1], 2, &rules),
        sign(&t, &c[2], 2, &rules),
    ];
    assert_eq!(
        refused_code(
            t.append(&store, vec![change(2, &rules, with_revoked)])
                .await
        ),
        "revoked_key"
    );

    // Three active committee members: accepted, and in force.
    let t2 = TestEstate::create(&store, &db.keys(), "beta").await;
    let ok = vec![
        sign(&t2, &t2.committee[0], 2, &rules),
        sign(&t2, &t2.committee[1], 2, &rules),
        sign(&t2, &t2.committee[2], 2, &rules),
    ];
    // Beta's own members' keys, but signed over alpha's origin: useless
    // for beta.
    let for_alpha = |who: &(MemberId, Signer)| {
        let msg = policy_message(&t.origin(), 2, &rules);
        PolicyApproval {
            member: who.0.clone(),
            key: who.1.verifier_key().format(),
            signature: encode_signature(&who.1.sign_raw(msg.as_bytes())),
        }
    };
    let alpha_sigs = vec![
        for_alpha(&t2.committee[0]),
        sign(&t2, &t2.committee[1], 2, &rules),
        sign(&t2, &t2.committee[2], 2, &rules),
    ];
    assert_eq!(
        refused_code(t2.append(&store, vec![change(2, &rules, alpha_sigs)]).await),
        "bad_signature"
    );
    t2.append(&store, vec![change(2, &rules, ok)])
        .await
        .unwrap();
    let policy = store
        .with_state(&t2.slug, |s| s.policy().cloned())
        .await
        .unwrap();
    assert_eq!(policy, Some((2, rules.clone())));
    // The log still audits clean, rule by rule, from its bytes.
    let report = store.audit(&t2.slug).await.unwrap();
    assert!(report.failure.is_none(), "{:?}", report.failure);
}

async fn claim_status(store: &trustfund::store::Store, t: &TestEstate, seq: u64) -> ClaimStatus {
    store
        .with_state(&t.slug, |s| s.claims()[&seq].status)
        .await
        .unwrap()
}

async fn approvals_under_the_old_policy_stop_counting(engine: Engine) {
    let db = TestDb::new(engine).await;
    let store = db.open().await;
    let t = TestEstate::create(&store, &db.keys(), "alpha").await;
    let claim = t
        .append(&store, vec![t.claim(FundAccount::Operating, "50.00")])
        .await
        .unwrap()
        .remove(0);
    t.append(&store, vec![t.approve(&claim, &t.company)])
        .await
        .unwrap();
    let rules = PolicyRules::standard();
    let sigs = t.committee.iter().map(|m| sign(&t, m, 2, &rules)).collect();
    t.append(&store, vec![change(2, &rules, sigs)])
        .await
        .unwrap();

    // An approval signed for version 1 is refused now.
    assert_eq!(
        refused_code(
            t.append(&store, vec![t.approve(&claim, &t.committee[0])])
                .await
        ),
        "old_policy"
    );
    // A committee approval under version 2 alone does not execute: the
    // company's version-1 approval no longer counts.
    let v2 = |who: &(MemberId, Signer)| -> Draft {
        let msg = approval_message(&t.origin(), claim.seq, &claim.hash, Decision::Approve, 2);
        Body::ClaimApproved {
            claim: claim.seq,
            claim_hash: claim.hash,
            policy: 2,
            member: who.0.clone(),
            key: who.1.verifier_key().format(),
            signature: encode_signature(&who.1.sign_raw(msg.as_bytes())),
        }
        .into()
    };
    t.append(&store, vec![v2(&t.committee[0])]).await.unwrap();
    assert_eq!(
        claim_status(&store, &t, claim.seq).await,
        ClaimStatus::Pending
    );
    // The company signs again under version 2: now it executes.
    let out = t.append(&store, vec![v2(&t.company)]).await.unwrap();
    assert_eq!(
        out.len(),
        2,
        "the approval and the disbursement, in one append"
    );
    assert!(matches!(
        claim_status(&store, &t, claim.seq).await,
        ClaimStatus::Executed { .. }
    ));
}
