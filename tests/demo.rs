//! The demo estate: deterministic, realistic, and a real ledger.

mod common;

use common::{Engine, TestDb};
use trustfund::domain::{Money, Period, Timestamp};
use trustfund::ledger::{Body, Category, ClaimStatus, FundAccount, SealedEntry};
use trustfund::store::Store;

const ANCHOR: &str = "2026-11";
/// 2026-11-20T04:00:00Z, inside the anchor month.
const NOW: i64 = 1_795_060_800;

async fn load(db: &TestDb) -> (Store, trustfund::demo::DemoSummary) {
    let store = db.open().await;
    let summary = trustfund::demo::load(
        &store,
        &db.keys(),
        Period::parse("anchor", ANCHOR).unwrap(),
        Timestamp::from_unix(NOW).unwrap(),
    )
    .await
    .expect("demo loads");
    (store, summary)
}

async fn all_entries(store: &Store, slug: &trustfund::domain::Slug) -> Vec<SealedEntry> {
    let size = store.tree_size(slug).await.unwrap();
    let mut out = Vec::new();
    let mut start = 0;
    while start < size {
        let end = (start + 1000).min(size);
        for bytes in store.entries_range(slug, start, end).await.unwrap() {
            out.push(SealedEntry::from_bytes(&bytes).unwrap());
        }
        start = end;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_deterministic_and_audits_clean() {
    let (a, b) = (
        TestDb::new(Engine::Sqlite).await,
        TestDb::new(Engine::Sqlite).await,
    );
    let (sa, summary) = load(&a).await;
    let (sb, _) = load(&b).await;
    let slug = summary.slug.clone();
    assert_eq!(summary.first_month.to_string(), "2025-11");
    assert_eq!(summary.last_month.to_string(), "2026-10");
    let (ca, cb) = (
        sa.latest_checkpoint(&slug).await.unwrap().unwrap(),
        sb.latest_checkpoint(&slug).await.unwrap().unwrap(),
    );
    assert_eq!(ca.tree_size, summary.entries);
    assert_eq!(
        (ca.tree_size, ca.root),
        (cb.tree_size, cb.root),
        "same seed and anchor, same log"
    );
    assert_eq!(ca.note, cb.note, "same signed checkpoint byte for byte");
    let report = sa.audit(&slug).await.unwrap();
    assert_eq!(report.failure, None);
    assert_eq!(report.entries, summary.entries);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_looks_like_a_real_trust_model_estate() {
    let db = TestDb::new(Engine::Sqlite).await;
    let (store, summary) = load(&db).await;
    let slug = summary.slug.clone();
    let entries = all_entries(&store, &slug).await;
    let count = |kind: &str| {
        entries
            .iter()
            .filter(|e| e.entry.body.kind() == kind)
            .count()
    };
    assert_eq!(count("unit_registered"), 480, "480 units in 12 buildings");
    assert_eq!(count("fees_charged"), 12, "twelve months charged");
    assert_eq!(
        count("member_enrolled"),
        7,
        "company, committee of 5, community"
    );

    // Collection rate around 90%: fees collected ÷ fees charged.
    let mut charged = 0i64;
    let mut paid = 0i64;
    for e in &entries {
        match &e.entry.body {
            Body::FeesCharged { postings, .. } => {
                charged += postings.last().map(|p| p.amount.fen()).unwrap_or(0)
            }
            Body::FeePaid { amount, .. } => paid += amount.fen(),
            Body::Correction { postings, .. } => {
                paid -= postings.first().map(|p| p.amount.fen()).unwrap_or(0)
            }
            _ => {}
        }
    }
    let rate = paid as f64 / charged as f64;
    assert!((0.86..=0.94).contains(&rate), "collection rate {rate:.3}");

    store
        .with_state(&slug, |s| {
            let claims: Vec<_> = s.claims().values().collect();
            // The blocked-sewer repair: from the reserve, far below its quote,
            // with the company and three committee members behind it.
            let sewer = claims
                .iter()
                .find(|c| c.account == FundAccount::Reserve && c.category == Category::Repairs)
                .expect("sewer claim");
            assert_eq!(sewer.amount, Money::parse("a", "7800.00").unwrap());
            assert!(matches!(sewer.status, ClaimStatus::Executed { .. }));
            assert_eq!(sewer.approvals.len(), 4);
            assert!(sewer.service_record.is_some());
            assert!(
                claims
                    .iter()
                    .any(|c| matches!(c.status, ClaimStatus::Rejected { .. })),
                "a rejected claim"
            );
            assert_eq!(
                claims
                    .iter()
                    .filter(|c| c.status == ClaimStatus::Pending)
                    .count(),
                1,
                "one claim pending"
            );
            // Remuneration: never above the entitlement of its month.
            let mut months = 0;
            for c in claims
                .iter()
                .filter(|c| c.category == Category::Remuneration)
            {
                let p = c.period.unwrap();
                assert!(c.amount <= s.entitlement(p), "{p}");
                months += 1;
            }
            assert_eq!(months, 11);
            for account in FundAccount::ALL {
                assert!(s.balance_fen(&trustfund::ledger::Account::Fund(account)) >= 0);
            }
        })
        .await
        .unwrap();
    // A unit's private record is there for its owner's page.
    let unit = store
        .unit(&slug, "1-101")
        .await
        .unwrap()
        .expect("unit 1-101");
    assert_eq!(unit.secret.len(), 20);
}

/// A newcomer can sign in as the demo's committee chair and approve the
/// pending claim with the key the demo keeps on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_committee_key_is_held_under_the_demo_password() {
    let db = TestDb::new(Engine::Sqlite).await;
    let (store, summary) = load(&db).await;
    let c1 = trustfund::domain::MemberId::parse("m", "c1").unwrap();
    let text = store
        .approver_key(&summary.slug, &c1)
        .await
        .unwrap()
        .expect("c1's key is held");
    let file = trustfund::approver_key::KeyFile::parse(&text).unwrap();
    let pass =
        trustfund::approver_key::Passphrase::attempt(trustfund::demo::DEMO_PASSWORD).unwrap();
    let signer = file.unlock(&pass).unwrap();
    let active = store
        .with_state(&summary.slug, |s| {
            s.members()[&c1].key.as_ref().map(|k| k.format())
        })
        .await
        .unwrap();
    assert_eq!(
        active,
        Some(signer.verifier_key().format()),
        "it is c1's enrolled key"
    );
    let p1 = trustfund::domain::MemberId::parse("m", "p1").unwrap();
    assert!(store
        .approver_key(&summary.slug, &p1)
        .await
        .unwrap()
        .is_some());
    let c2 = trustfund::domain::MemberId::parse("m", "c2").unwrap();
    assert!(
        store
            .approver_key(&summary.slug, &c2)
            .await
            .unwrap()
            .is_none(),
        "only demo accounts' keys"
    );
}
