//! Golden vectors for `docs/FORMAT.md`, under `fixtures/vectors/ledger/`.
//!
//! [`vectors_match_the_code`] builds a small, complete log for the estate
//! `vectors` through the real append path (a temporary SQLite database, the
//! public HTTP router) from fixed key seeds and fixed times, and compares
//! every file byte for byte with what is committed. Ed25519 is
//! deterministic, so the signatures are fixed too. A difference means either
//! that a file was edited or that the code's output changed, and both are a
//! change to the public contract.
//!
//! After a deliberate format change, rewrite the files with
//!
//! ```text
//! TRUSTFUND_UPDATE_VECTORS=1 cargo test --test vectors
//! ```
//!
//! then run the tests again without the variable, and review the diff.
//!
//! The other tests read only the committed files, the way an independent
//! verifier would: every entry re-parses strictly, the chain links, the
//! rules replay, the root recomputed from the leaf hashes is the signed
//! checkpoint's, the proofs check, the approval and commitment vectors hold,
//! every statement's figures recompute from the entries as docs/FORMAT.md
//! defines them, the statement bundle (`bundle.json`) verifies with
//! `trustfund::verify::verify_bundle`, and a changed byte in any entry is
//! refused or detected.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::http::{header, Request};
use serde_json::{json, Value};
use tower::ServiceExt as _;

use trustfund::domain::{
    Area, BankRef, BankRefCommitment, Date, Description, EstateTz, Location, MemberId, Money, Name,
    Payee, Period, Purpose, Rate, Ratio, Reason, Slug, Timestamp, UnitCommitment, UnitId,
    UnitSecret,
};
use trustfund::http::{router, AppState};
use trustfund::keys::{Keyring, LogKey};
use trustfund::ledger::approval::{
    approval_message, check_approval_signature, encode_signature, Decision,
};
use trustfund::ledger::entry::Currency;
use trustfund::ledger::{
    Body, Category, FundAccount, IncomeSource, PayMethod, PolicyRules, Role, SealedEntry, State,
};
use trustfund::store::{Appended, Draft, Store};
use trustfund::tlog::checkpoint::{cosign_checkpoint, open_checkpoint};
use trustfund::tlog::note::{Note, Signer, VerifierKey, ALG_COSIGNATURE_V1, ALG_ED25519};
use trustfund::tlog::tree::{self, NodeId};
use trustfund::tlog::{record_hash, Hash};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/vectors/ledger");
const UPDATE_VAR: &str = "TRUSTFUND_UPDATE_VECTORS";

const SLUG: &str = "vectors";
const ORIGIN: &str = "trustfund.example/estates/vectors";
const ESTATE_NAME: &str = "绿苑小区";
/// Seed of the estate's log key (0x01 note key named after the origin).
const LOG_SEED: u8 = 0x01;
/// The log is built in three months; the checkpoint of the first append
/// (estate creation) is the "old" side of the consistency proof.
const T0: &str = "2026-01-05T01:00:00Z";
/// When January is closed: after its remuneration was paid (so the
/// statement shows it as taken), before the rest of February.
const JANUARY_CLOSED: &str = "2026-02-04T01:00:00Z";
/// When February is closed: the first hour of March in Shanghai.
const FEBRUARY_CLOSED: &str = "2026-03-01T01:00:00Z";
/// Timestamp of the cosignatures on the February statement's checkpoint.
const STATEMENT_COSIGNED: &str = "2026-03-01T02:00:00Z";
/// Timestamp of the cosignatures on the latest checkpoint.
const LATEST_COSIGNED: &str = "2026-03-13T01:00:00Z";
/// The month whose statement bundle is a golden file.
const BUNDLE_PERIOD: &str = "2026-02";

// ---------------------------------------------------------------------------
// Building the log

struct Person {
    id: MemberId,
    role: Role,
    seed: u8,
    name: &'static str,
    signer: Signer,
}

fn person(id: &str, role: Role, seed: u8, name: &'static str) -> Person {
    let key_name = format!("{ORIGIN}/members/{id}");
    Person {
        id: MemberId::parse("member", id).expect("member id"),
        role,
        seed,
        name,
        signer: Signer::from_seed(&key_name, ALG_COSIGNATURE_V1, &[seed; 32]).expect("member key"),
    }
}

struct UnitSpec {
    id: &'static str,
    secret: &'static str,
    area: &'static str,
}

/// 89.50 m² × 1.85 = 165.575 → 165.58 and 98.36 m² × 1.85 = 181.966 →
/// 181.97: both fees round half away from zero, and 10% of their sum
/// (347.55) is 34.755 → 34.76, the January remuneration entitlement.
const UNITS: [UnitSpec; 2] = [
    UnitSpec {
        id: "1-1-101",
        secret: "7K3M9QXR2T5VB8NDW4HZ",
        area: "89.50",
    },
    UnitSpec {
        id: "2-3-502",
        secret: "J6P1YF0CG3SAE9K2M5RT",
        area: "98.36",
    },
];

fn ts(text: &str) -> Timestamp {
    Timestamp::parse("time", text).expect("fixed time")
}

fn money(text: &str) -> Money {
    Money::parse("amount", text).expect("fixed amount")
}

fn date(text: &str) -> Date {
    Date::parse("date", text).expect("fixed date")
}

fn purpose(text: &str) -> Purpose {
    Purpose::parse("purpose", text).expect("fixed text")
}

fn reason(text: &str) -> Reason {
    Reason::parse("reason", text).expect("fixed text")
}

/// The SHA-256 an evidence file would be stored under.
fn evidence(content: &str) -> Hash {
    let d = ring::digest::digest(&ring::digest::SHA256, content.as_bytes());
    Hash(d.as_ref().try_into().expect("32 bytes"))
}

fn signed(
    claim: &Appended,
    who: &Person,
    decision: Decision,
    why: Option<&str>,
) -> (Draft, String) {
    let msg = approval_message(ORIGIN, claim.seq, &claim.hash, decision, 1);
    let signature = encode_signature(&who.signer.sign_raw(msg.as_bytes()));
    let key = who.signer.verifier_key().format();
    let body = match why {
        None => Body::ClaimApproved {
            claim: claim.seq,
            claim_hash: claim.hash,
            policy: 1,
            member: who.id.clone(),
            key,
            signature,
        },
        Some(why) => Body::ClaimRejected {
            claim: claim.seq,
            claim_hash: claim.hash,
            policy: 1,
            member: who.id.clone(),
            key,
            signature,
            reason: reason(why),
        },
    };
    (body.into(), msg)
}

/// A claim as the company would submit it; unset options stay absent.
struct ClaimSpec {
    account: FundAccount,
    category: Category,
    payee: &'static str,
    amount: &'static str,
    purpose: &'static str,
    quote: Option<&'static str>,
    evidence: Vec<Hash>,
    service_record: Option<u64>,
    period: Option<&'static str>,
    transfer_to: Option<FundAccount>,
}

impl Default for ClaimSpec {
    fn default() -> ClaimSpec {
        ClaimSpec {
            account: FundAccount::Operating,
            category: Category::Other,
            payee: "",
            amount: "",
            purpose: "",
            quote: None,
            evidence: vec![],
            service_record: None,
            period: None,
            transfer_to: None,
        }
    }
}

impl ClaimSpec {
    fn draft(self) -> Draft {
        Body::ClaimSubmitted {
            account: self.account,
            category: self.category,
            payee: Payee::parse("payee", self.payee).expect("fixed payee"),
            amount: money(self.amount),
            purpose: purpose(self.purpose),
            quote: self.quote.map(money),
            evidence: self.evidence,
            service_record: self.service_record,
            period: self
                .period
                .map(|p| Period::parse("period", p).expect("fixed period")),
            transfer_to: self.transfer_to,
            // Filled in by the ledger: time + claim_ttl_days × 86400.
            expires: Timestamp::MIN,
        }
        .into()
    }
}

/// One approval (or rejection) as the vectors show it.
struct Signed {
    entry_seq: u64,
    claim: Appended,
    decision: Decision,
    who: usize,
    message: String,
}

/// The log and everything said about it, before it becomes files.
struct Generated {
    files: Vec<(&'static str, String)>,
}

struct Builder {
    store: Arc<Store>,
    slug: Slug,
    log: LogKey,
}

impl Builder {
    async fn add(&self, at: &str, drafts: Vec<Draft>) -> Vec<Appended> {
        self.store
            .append(&self.slug, drafts, ts(at), &self.log)
            .await
            .unwrap_or_else(|e| panic!("append at {at}: {e}"))
    }

    /// Closes a month at a fixed time: its `statement_published` entry.
    async fn close(&self, period: &str, at: &str) -> Appended {
        let period = Period::parse("period", period).expect("fixed period");
        let appended = self
            .store
            .close_month(&self.slug, period, ts(at), &self.log)
            .await
            .unwrap_or_else(|e| panic!("close {period} at {at}: {e}"));
        assert_eq!(appended.kind, "statement_published");
        appended
    }

    /// Each witness cosigns the checkpoint of `tree_size`, with the fixed
    /// time as its cosignature timestamp.
    async fn cosign(&self, tree_size: u64, witnesses: &[&Person], at: &str) {
        let cp = self
            .store
            .checkpoint_at(&self.slug, tree_size)
            .await
            .expect("read checkpoint")
            .unwrap_or_else(|| panic!("no checkpoint of size {tree_size}"));
        let text = Note::parse(&cp.note).expect("signed note").text;
        let timestamp = u64::try_from(ts(at).unix()).expect("after 1970");
        for w in witnesses {
            let sig = cosign_checkpoint(&text, &w.signer, timestamp).expect("cosignature");
            self.store
                .cosign(&self.slug, tree_size, &w.id, &sig, ts(at))
                .await
                .unwrap_or_else(|e| panic!("{} cosigns {tree_size}: {e}", w.id));
        }
    }

    /// Appends one draft that triggers nothing else.
    async fn one(&self, at: &str, draft: Draft) -> Appended {
        let mut appended = self.add(at, vec![draft]).await;
        assert_eq!(appended.len(), 1, "{at}");
        appended.remove(0)
    }
}

async fn generate() -> Generated {
    let tmp = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(
        Store::open_sqlite(&tmp.path().join("vectors.sqlite3"))
            .await
            .expect("open sqlite"),
    );
    let slug = Slug::parse("slug", SLUG).expect("slug");
    let log = Keyring::new(tmp.path()).with_signer(
        &slug,
        Signer::from_seed(ORIGIN, ALG_ED25519, &[LOG_SEED; 32]).expect("log key"),
    );
    let tz = EstateTz::parse("timezone", "Asia/Shanghai").expect("zone");
    let people = [
        person("p1", Role::Company, 0x10, "王建国"),
        person("c1", Role::Committee, 0x11, "李秀英"),
        person("c2", Role::Committee, 0x12, "张伟"),
        person("c3", Role::Committee, 0x13, "刘洋"),
        person("s1", Role::Community, 0x14, "幸福街道社区"),
    ];
    let [p1, c1, c2, c3, s1] = &people;

    // Month 1: the estate, its policy, people, units and opening money.
    let mut drafts: Vec<Draft> = vec![
        Body::EstateCreated {
            name: Name::parse("name", ESTATE_NAME).expect("name"),
            origin: ORIGIN.into(),
            log_key: log.verifier_key().format(),
            timezone: tz,
            currency: Currency::Cny,
            fee_rate: Rate::parse("fee_rate", "1.85").expect("rate"),
        }
        .into(),
        Body::PolicySet {
            version: 1,
            rules: PolicyRules::standard(),
            approvals: vec![],
        }
        .into(),
        Body::RemunerationRatioSet {
            ratio: Ratio::parse("ratio", "0.10").expect("ratio"),
            from: Period::parse("from", "2026-01").expect("period"),
        }
        .into(),
    ];
    for p in &people {
        drafts.push(
            Body::MemberEnrolled {
                member: p.id.clone(),
                name: Name::parse("name", p.name).expect("name"),
                role: p.role,
                key: p.signer.verifier_key().format(),
            }
            .into(),
        );
    }
    let mut unit_rows = Vec::new();
    for u in &UNITS {
        let unit_id = UnitId::parse("unit", u.id).expect("unit id");
        let secret = UnitSecret::parse("secret", u.secret).expect("secret");
        let commitment = UnitCommitment::compute(&slug, &unit_id, &secret);
        drafts.push(Draft {
            body: Body::UnitRegistered {
                unit: commitment,
                area: Area::parse("area", u.area).expect("area"),
            },
            unit: Some((unit_id, secret)),
            at: None,
            bank_ref: None,
        });
        unit_rows.push(commitment);
    }
    drafts.push(
        Body::OpeningBalance {
            account: FundAccount::Operating,
            amount: money("1000.00"),
            memo: purpose("2025年物业费结余转入"),
            postings: vec![],
        }
        .into(),
    );
    drafts.push(
        Body::OpeningBalance {
            account: FundAccount::Reserve,
            amount: money("80000"),
            memo: purpose("维修资金账户余额转入"),
            postings: vec![],
        }
        .into(),
    );
    let created = store
        .create_estate(&slug, ESTATE_NAME, ORIGIN, drafts, ts(T0), &log)
        .await
        .expect("create estate");
    let first_size = created.len() as u64;
    let b = Builder {
        store: store.clone(),
        slug: slug.clone(),
        log,
    };

    b.one(
        "2026-01-06T02:00:00Z",
        Body::FeesCharged {
            period: Period::parse("period", "2026-01").expect("period"),
            rate: Rate::parse("rate", "1.85").expect("rate"),
            units: 2,
            postings: vec![],
        }
        .into(),
    )
    .await;
    let fee = |unit: usize, amount: &str, paid_on: &str, method: PayMethod| -> Draft {
        Body::FeePaid {
            unit: unit_rows[unit],
            amount: money(amount),
            paid_on: date(paid_on),
            method,
            bank_ref: None,
            postings: vec![],
        }
        .into()
    };
    b.one(
        "2026-01-10T03:00:00Z",
        fee(0, "165.58", "2026-01-10", PayMethod::Bank),
    )
    .await;
    b.one(
        "2026-01-12T04:30:00Z",
        fee(1, "181.97", "2026-01-12", PayMethod::Wechat),
    )
    .await;
    b.one(
        "2026-01-15T06:00:00Z",
        Body::PublicIncomeReceived {
            source: IncomeSource::ElevatorAds,
            amount: money("3000.00"),
            received_on: date("2026-01-15"),
            payer: Payee::parse("payer", "\"城市之光\"传媒有限公司").expect("payer"),
            memo: purpose("2026年1月电梯广告位租金"),
            evidence: vec![evidence("电梯广告合同 2026-01")],
            postings: vec![],
        }
        .into(),
    )
    .await;
    let record = b
        .one(
            "2026-01-18T07:00:00Z",
            Body::ServiceRecord {
                title: Name::parse("title", "疏通3号楼排污管").expect("title"),
                description: Description::parse(
                    "description",
                    "3号楼地下排污管堵塞，污水倒灌。\r\n用高压水枪疏通约40米管道，清理检查井2处。",
                )
                .expect("description"),
                location: Location::parse("location", "3号楼地下室").expect("location"),
                done_on: date("2026-01-18"),
                done_by: Name::parse("done_by", "张师傅").expect("done_by"),
                cost: Some(money("300")),
                evidence: vec![evidence("疏通前照片"), evidence("疏通后照片")],
            }
            .into(),
        )
        .await
        .seq;

    // A repair, approved by the company and one committee member: the
    // second approval executes it in the same append.
    let repair = b
        .one(
            "2026-01-19T08:00:00Z",
            ClaimSpec {
                category: Category::Repairs,
                payee: "张师傅维修部",
                amount: "300.00",
                purpose: "疏通3号楼排污管",
                quote: Some("1500.00"),
                evidence: vec![evidence("发票 No.00012345")],
                service_record: Some(record),
                ..ClaimSpec::default()
            }
            .draft(),
        )
        .await;
    let mut signed_list = Vec::new();
    let (d, m) = signed(&repair, p1, Decision::Approve, None);
    let a = b.one("2026-01-19T09:00:00Z", d).await;
    signed_list.push(Signed {
        entry_seq: a.seq,
        claim: repair.clone(),
        decision: Decision::Approve,
        who: 0,
        message: m,
    });
    let (d, _) = signed(&repair, c1, Decision::Approve, None);
    let a = b.add("2026-01-20T02:00:00Z", vec![d]).await;
    assert_eq!(a.len(), 2, "the second approval executes the claim");

    // Month 2: January's remuneration, exactly the entitlement.
    let pay = b
        .one(
            "2026-02-02T02:00:00Z",
            ClaimSpec {
                category: Category::Remuneration,
                payee: "绿苑物业服务有限公司",
                amount: "34.76",
                purpose: "2026年1月酬金（物业费收缴额的10%）",
                period: Some("2026-01"),
                ..ClaimSpec::default()
            }
            .draft(),
        )
        .await;
    let (d, _) = signed(&pay, p1, Decision::Approve, None);
    b.one("2026-02-02T03:00:00Z", d).await;
    let (d, _) = signed(&pay, c2, Decision::Approve, None);
    assert_eq!(b.add("2026-02-03T02:00:00Z", vec![d]).await.len(), 2);

    // January is over and its remuneration paid: close it. The statement
    // covers entries 0 up to the first February entry; the statement entry
    // itself falls in February's range.
    let january = b.close("2026-01", JANUARY_CLOSED).await;

    // A transfer between fund accounts.
    let move_ = b
        .one(
            "2026-02-05T02:00:00Z",
            ClaimSpec {
                account: FundAccount::PublicIncome,
                payee: "本小区维修资金账户",
                amount: "1000.00",
                purpose: "按业主大会决议，公共收益转入维修资金",
                transfer_to: Some(FundAccount::Reserve),
                ..ClaimSpec::default()
            }
            .draft(),
        )
        .await;
    let (d, _) = signed(&move_, p1, Decision::Approve, None);
    b.one("2026-02-05T03:00:00Z", d).await;
    let (d, _) = signed(&move_, c3, Decision::Approve, None);
    assert_eq!(b.add("2026-02-06T02:00:00Z", vec![d]).await.len(), 2);

    // A claim the committee rejects.
    let cleaning = b
        .one(
            "2026-02-08T02:00:00Z",
            ClaimSpec {
                category: Category::Cleaning,
                payee: "清风保洁服务部",
                amount: "200.00",
                purpose: "春节前外墙玻璃清洗",
                ..ClaimSpec::default()
            }
            .draft(),
        )
        .await;
    let (d, m) = signed(
        &cleaning,
        c1,
        Decision::Reject,
        Some("报价偏高，请重新询价"),
    );
    let a = b.one("2026-02-09T02:00:00Z", d).await;
    signed_list.push(Signed {
        entry_seq: a.seq,
        claim: cleaning,
        decision: Decision::Reject,
        who: 1,
        message: m,
    });

    // A claim nobody approves: it expires 30 days later.
    let greening = b
        .one(
            "2026-02-10T02:00:00Z",
            ClaimSpec {
                category: Category::Greening,
                payee: "绿化养护队",
                amount: "150.00",
                purpose: "补种小区东门绿篱",
                ..ClaimSpec::default()
            }
            .draft(),
        )
        .await;

    // A payment recorded twice, and the correction that reverses it.
    let dup = b
        .one(
            "2026-02-11T02:00:00Z",
            fee(0, "165.58", "2026-01-10", PayMethod::Cash),
        )
        .await;
    b.one(
        "2026-02-12T02:00:00Z",
        Body::Correction {
            corrects: dup.seq,
            corrects_hash: dup.hash,
            reason: reason("同一笔缴费重复录入，冲正"),
            postings: vec![],
        }
        .into(),
    )
    .await;
    b.one(
        "2026-02-20T02:00:00Z",
        Body::MemberRevoked {
            member: c3.id.clone(),
            key: c3.signer.verifier_key().format(),
            reason: reason("业委会换届，卸任"),
        }
        .into(),
    )
    .await;
    // February's fees, billed late in the month; one unit pays, the other
    // is still in arrears when February closes.
    b.one(
        "2026-02-25T02:00:00Z",
        Body::FeesCharged {
            period: Period::parse("period", "2026-02").expect("period"),
            rate: Rate::parse("rate", "1.85").expect("rate"),
            units: 2,
            postings: vec![],
        }
        .into(),
    )
    .await;
    b.one(
        "2026-02-26T02:00:00Z",
        fee(1, "181.97", "2026-02-26", PayMethod::Alipay),
    )
    .await;

    // Month 3: close February; two committee members and the community
    // witness the checkpoint that first covers the statement.
    let february = b.close("2026-02", FEBRUARY_CLOSED).await;
    let statement_size = february.seq + 1;
    b.cosign(statement_size, &[c1, c2, s1], STATEMENT_COSIGNED)
        .await;

    // The open claim has run out.
    b.one(
        "2026-03-13T00:00:00Z",
        Body::ClaimExpired {
            claim: greening.seq,
        }
        .into(),
    )
    .await;
    // The committee witnesses the latest checkpoint too.
    let final_size = store.tree_size(&slug).await.expect("size");
    b.cosign(final_size, &[c1, c2], LATEST_COSIGNED).await;

    // Read everything back the way the public sees it.
    let size = store.tree_size(&slug).await.expect("size");
    let entries = store.entries_range(&slug, 0, size).await.expect("entries");
    let checkpoint = store
        .latest_checkpoint(&slug)
        .await
        .expect("checkpoint")
        .expect("a checkpoint exists");
    assert_eq!(checkpoint.tree_size, size);

    let sealed: Vec<SealedEntry> = entries
        .iter()
        .map(|b| SealedEntry::from_bytes(b).expect("stored entry parses"))
        .collect();
    let mut state = State::new();
    for s in &sealed {
        state.apply(s).expect("the vector log obeys the rules");
    }
    let leaves: Vec<Hash> = sealed.iter().map(|s| s.hash).collect();
    let nodes = tree_nodes(&leaves);
    let root = tree::tree_hash(size, &nodes).expect("root");
    assert_eq!(root, checkpoint.root);
    let first_root = tree::tree_hash(first_size, &nodes).expect("old root");
    let inclusion = tree::prove_inclusion(repair.seq, size, &nodes).expect("inclusion");
    let consistency = tree::prove_consistency(first_size, size, &nodes).expect("consistency");

    let mut balances: Vec<(String, i64)> = state
        .balances()
        .iter()
        .map(|(a, fen)| (a.to_string(), *fen))
        .collect();
    balances.sort();

    let statements: Vec<Value> = state
        .statements()
        .iter()
        .map(|(period, (seq, st))| {
            json!({
                "period": period.to_string(),
                "seq": seq,
                "from_seq": st.from_seq,
                "to_seq": st.to_seq,
                // The first checkpoint that covers the statement entry.
                "checkpoint_size": seq + 1,
            })
        })
        .collect();
    let closed: Vec<u64> = state.statements().values().map(|(seq, _)| *seq).collect();
    assert_eq!(closed, [january.seq, february.seq]);

    let log_key = b.log.verifier_key().format();
    let entries_json: Vec<Value> = sealed
        .iter()
        .map(|s| {
            json!({
                "seq": s.entry.seq,
                "kind": s.entry.body.kind(),
                "time": s.entry.time.to_string(),
                "leaf_hash": s.hash.to_hex(),
                "bytes": s.bytes,
            })
        })
        .collect();
    let log_json = json!({
        "description": "A complete log of the test estate `vectors`, built by tests/vectors.rs through the real append path from the fixed seeds and times below. `bytes` is each entry's exact text (RFC 8785); leaf_hash = SHA-256(0x00 || bytes), lowercase hex; each entry's `prev` is the previous leaf_hash (64 zeros for entry 0). The root is RFC 9162 MTH over the leaf hashes in seq order. Proof hashes are standard padded base64. Balances are debit minus credit in fen after replaying every entry. `statements` lists the closed months with the range of entries each covers and the size of the first checkpoint that covers it; `bundle` describes bundle.json, the statement bundle of one month as served over HTTP, whose checkpoint is cosigned by the members listed. Cosignature timestamps are fixed too. Seeds are RFC 8032 Ed25519 seeds (32 bytes, hex) and are public test keys: never use them for a real estate.",
        "estate": SLUG,
        "origin": ORIGIN,
        "keys": {
            "log": { "seed_hex": hex::encode([LOG_SEED; 32]), "vkey": log_key },
            "members": people.iter().map(|p| json!({
                "member": p.id.as_str(),
                "role": p.role.as_str(),
                "seed_hex": hex::encode([p.seed; 32]),
                "vkey": p.signer.verifier_key().format(),
            })).collect::<Vec<_>>(),
        },
        "entries": entries_json,
        "tree_size": size,
        "root_hex": root.to_hex(),
        "root_base64": root.to_base64(),
        "checkpoint": checkpoint.note,
        "inclusion_proof": {
            "index": repair.seq,
            "tree_size": size,
            "leaf_hash": repair.hash.to_hex(),
            "proof": inclusion.iter().map(Hash::to_base64).collect::<Vec<_>>(),
        },
        "consistency_proof": {
            "from": first_size,
            "to": size,
            "old_root_base64": first_root.to_base64(),
            "new_root_base64": root.to_base64(),
            "proof": consistency.iter().map(Hash::to_base64).collect::<Vec<_>>(),
        },
        "balances": balances.iter().map(|(a, fen)| json!({ "account": a, "balance_fen": fen })).collect::<Vec<_>>(),
        "statements": statements,
        "witness_quorum": state.witness_quorum(),
        "bundle": {
            "file": "bundle.json",
            "request": format!("GET /estates/{SLUG}/statements/{BUNDLE_PERIOD}/bundle.json"),
            "period": BUNDLE_PERIOD,
            "statement_seq": february.seq,
            "tree_size": statement_size,
            "cosigned_by": [c1.id.as_str(), c2.id.as_str(), s1.id.as_str()],
        },
    });

    let approvals: Vec<Value> = signed_list
        .iter()
        .map(|s| {
            let who = &people[s.who];
            let entry = &sealed[s.entry_seq as usize];
            let signature = match &entry.entry.body {
                Body::ClaimApproved { signature, .. } | Body::ClaimRejected { signature, .. } => {
                    signature.clone()
                }
                other => panic!("entry {} is {}", s.entry_seq, other.kind()),
            };
            json!({
                "origin": ORIGIN,
                "claim": s.claim.seq,
                "claim_hash": s.claim.hash.to_hex(),
                "decision": s.decision.as_str(),
                "policy": 1,
                "message": s.message,
                "message_hex": hex::encode(s.message.as_bytes()),
                "signer": {
                    "member": who.id.as_str(),
                    "role": who.role.as_str(),
                    "seed_hex": hex::encode([who.seed; 32]),
                    "vkey": who.signer.verifier_key().format(),
                },
                "signature": signature,
                "entry_seq": s.entry_seq,
            })
        })
        .collect();
    let approval_json = json!({
        "description": "Approval messages (docs/FORMAT.md, \"Approval message\") from the log in log.json: `message` is the exact signed text (UTF-8, every line ends in LF); `signature` is standard padded base64 of the 64-byte Ed25519 signature over those bytes by the public key inside `signer.vkey`; `entry_seq` is the claim_approved / claim_rejected entry that carries it.",
        "vectors": approvals,
    });

    let mut commitments = vec![commitment_vector(
        "dongfang",
        "1-1-101",
        "0123456789ABCDEFGHJK",
        None,
    )];
    commitments.push(commitment_vector(
        "dongfang",
        "b12-0304",
        "0123-4567-89ab-cdef-ghjk",
        None,
    ));
    for u in &UNITS {
        commitments.push(commitment_vector(SLUG, u.id, u.secret, Some(u.area)));
    }
    let commitment_json = json!({
        "description": "Unit commitments (docs/FORMAT.md, \"Unit commitment\"): commitment = lowercase hex SHA-256 of the UTF-8 bytes \"trustfund-unit/v1\\n\" + estate + \"\\n\" + unit_id + \"\\n\" + secret, with unit_id and secret in canonical form (unit id uppercased; secret as its 20 uppercase Crockford base32 symbols, no separators). `preimage_hex` is the exact hashed input. `as_typed` shows how people may write the same unit; it is normalised before hashing. The first vector is the known answer of src/domain/ids.rs; the `vectors` ones are the units of log.json.",
        "vectors": commitments,
    });

    let (http, bundle) =
        http_vectors(store.clone(), tmp.path(), size, repair.seq, first_size).await;
    // The statement bundle as served is what Store::bundle says, compact.
    let bundle_period = Period::parse("period", BUNDLE_PERIOD).expect("period");
    let from_store = store
        .bundle(&slug, Some(bundle_period))
        .await
        .expect("statement bundle");
    assert_eq!(
        bundle,
        serde_json::to_string(&from_store).expect("bundle json")
    );
    assert_eq!(
        from_store.statement.map(|st| (st.period, st.seq)),
        Some((bundle_period, february.seq))
    );
    assert_eq!(from_store.entries.len() as u64, statement_size);
    assert!(statement_size < size, "the bundle stops at its checkpoint");
    assert_eq!(from_store.entries[..], entries[..statement_size as usize]);

    store.close().await;
    let pretty = |v: &Value| format!("{}\n", serde_json::to_string_pretty(v).expect("json"));
    let mut jsonl = String::new();
    for e in &entries {
        jsonl.push_str(e);
        jsonl.push('\n');
    }
    let policy = http
        .iter()
        .find(|v| v["request"] == format!("GET /estates/{SLUG}/log/policy"))
        .and_then(|v| v["body"].as_str())
        .expect("policy response")
        .to_string();
    let http_json = json!({
        "description": "Responses of the public log endpoints (docs/FORMAT.md, \"Public HTTP endpoints\") for the log in log.json, produced by the real router. `body` is the exact response body as text.",
        "exchanges": http,
    });
    Generated {
        files: vec![
            ("entries.jsonl", jsonl),
            ("log.json", pretty(&log_json)),
            ("checkpoint.txt", checkpoint.note.clone()),
            ("log.vkey", format!("{log_key}\n")),
            ("policy.txt", policy),
            ("approval.json", pretty(&approval_json)),
            ("commitment.json", pretty(&commitment_json)),
            ("bank_ref.json", pretty(&bank_ref_json())),
            ("http.json", pretty(&http_json)),
            ("bundle.json", bundle),
        ],
    }
}

/// Bank reference commitments (FORMAT.md revision 4, §9.1).
fn bank_ref_json() -> Value {
    let vectors: Vec<Value> = [
        ("dongfang", "ICBC-20261015-000123"),
        (SLUG, " 2026101512345 "),
        (SLUG, "CCB/2026-02:07.a_b"),
    ]
    .iter()
    .map(|(estate, typed)| {
        let slug = Slug::parse("slug", estate).expect("slug");
        let reference = BankRef::parse("reference", typed).expect("reference");
        let preimage = format!("trustfund-bank-ref/v1\n{slug}\n{reference}");
        let mut v = json!({
            "estate": estate,
            "reference": reference.as_str(),
            "preimage_hex": hex::encode(preimage.as_bytes()),
            "commitment": BankRefCommitment::compute(&slug, &reference).to_string(),
        });
        if *typed != reference.as_str() {
            v["as_typed"] = json!(typed);
        }
        v
    })
    .collect();
    json!({
        "description": "Bank reference commitments (docs/FORMAT.md, \"Bank reference commitment\"): commitment = lowercase hex SHA-256 of the UTF-8 bytes \"trustfund-bank-ref/v1\\n\" + estate + \"\\n\" + reference, with the reference in canonical form (surrounding spaces trimmed; case kept). A fee_paid entry may carry it as `bank_ref`; no two entries of a log may carry the same one (duplicate_bank_ref). `preimage_hex` is the exact hashed input; `as_typed` shows how staff may have typed it.",
        "vectors": vectors,
    })
}

fn commitment_vector(estate: &str, unit: &str, secret: &str, area: Option<&str>) -> Value {
    let slug = Slug::parse("slug", estate).expect("slug");
    let unit_id = UnitId::parse("unit", unit).expect("unit id");
    let parsed = UnitSecret::parse("secret", secret).expect("secret");
    let preimage = format!("trustfund-unit/v1\n{slug}\n{unit_id}\n{parsed}");
    let commitment = UnitCommitment::compute(&slug, &unit_id, &parsed);
    let mut v = json!({
        "estate": estate,
        "unit_id": unit_id.as_str(),
        "secret": parsed.to_string(),
        "preimage_hex": hex::encode(preimage.as_bytes()),
        "commitment": commitment.to_string(),
    });
    if unit != unit_id.as_str() || secret != parsed.to_string() {
        v["as_typed"] = json!({ "unit_id": unit, "secret": secret });
    }
    if let Some(area) = area {
        v["area"] = json!(area);
    }
    v
}

/// Every stored node of the tree over `leaves`, built by RFC 9162 appends.
fn tree_nodes(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
    let mut nodes = HashMap::new();
    for (i, leaf) in leaves.iter().enumerate() {
        for (id, h) in tree::append(i as u64, *leaf, &nodes).expect("append") {
            nodes.insert(id, h);
        }
    }
    nodes
}

async fn http_vectors(
    store: Arc<Store>,
    data_dir: &std::path::Path,
    size: u64,
    index: u64,
    from: u64,
) -> (Vec<Value>, String) {
    let app = router(AppState::new(store, Keyring::new(data_dir)));
    let s = SLUG;
    let requests = [
        "/api/v1/estates".to_string(),
        format!("/estates/{s}/log/checkpoint"),
        format!("/estates/{s}/log/policy"),
        format!("/estates/{s}/log/entries/0"),
        format!("/estates/{s}/log/entries?start=1&end=3"),
        format!("/estates/{s}/log/proof/inclusion?index={index}&size={size}"),
        format!("/estates/{s}/log/proof/consistency?from={from}&to={size}"),
        format!("/estates/{s}/log/entries?start=0&end=1001"),
        format!("/estates/{s}/log/entries?start=0&end={}", size + 1),
        format!("/estates/{s}/log/entries/{size}"),
        format!("/estates/{s}/log/proof/inclusion?index={size}&size={size}"),
        format!("/estates/{s}/log/proof/consistency?from=0&to={size}"),
        "/estates/nowhere/log/checkpoint".to_string(),
        // March is not closed; a month must be written YYYY-MM.
        format!("/estates/{s}/statements/2026-03/bundle.json"),
        format!("/estates/{s}/statements/2026-3/bundle.json"),
    ];
    let mut out = Vec::new();
    for uri in requests {
        let (status, content_type, body) = fetch(&app, &uri).await;
        out.push(json!({
            "request": format!("GET {uri}"),
            "status": status,
            "content_type": content_type,
            "body": body,
        }));
    }
    // The golden statement bundle, exactly as an owner downloads it.
    let uri = format!("/estates/{s}/statements/{BUNDLE_PERIOD}/bundle.json");
    let (status, content_type, bundle) = fetch(&app, &uri).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    (out, bundle)
}

/// One GET through the router: status, content type and body text.
async fn fetch(app: &axum::Router, uri: &str) -> (u16, String, String) {
    let req = Request::builder()
        .uri(uri)
        .body(HttpBody::empty())
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = axum::body::to_bytes(resp.into_body(), 16 << 20)
        .await
        .expect("body");
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).expect("UTF-8 body"),
    )
}

// ---------------------------------------------------------------------------
// The golden comparison

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vectors_match_the_code() {
    let generated = generate().await;
    if std::env::var_os(UPDATE_VAR).is_some() {
        std::fs::create_dir_all(DIR).expect("vector directory");
        for (name, content) in &generated.files {
            std::fs::write(format!("{DIR}/{name}"), content).expect("write vector");
        }
        return;
    }
    for (name, got) in &generated.files {
        let path = format!("{DIR}/{name}");
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (run with {UPDATE_VAR}=1 to create it)"));
        if *got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(g, w)| g != w)
                .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
            panic!(
                "{path} differs from what the code produces, first at line {}:\n--- file\n{}\n--- code\n{}\n\
                 If the format change is deliberate, rerun with {UPDATE_VAR}=1 and update docs/FORMAT.md.",
                line + 1,
                want.lines().nth(line).unwrap_or("<end of file>"),
                got.lines().nth(line).unwrap_or("<end of file>"),
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Checks on the committed files alone

fn read(name: &str) -> String {
    let path = format!("{DIR}/{name}");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run with {UPDATE_VAR}=1 to create it)"))
}

fn read_json(name: &str) -> Value {
    serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} must be a string, is {v}"))
}

fn u64_of(v: &Value, what: &str) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("{what} must be an integer, is {v}"))
}

fn b64_hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .expect("proof array")
        .iter()
        .map(|h| Hash::from_base64(str_of(h, "proof hash")).expect("base64 hash"))
        .collect()
}

/// The committed log as exact entry texts, one per line of entries.jsonl.
fn committed_entries() -> Vec<String> {
    let text = read("entries.jsonl");
    assert!(text.ends_with('\n'), "entries.jsonl ends with a newline");
    text[..text.len() - 1]
        .split('\n')
        .map(str::to_string)
        .collect()
}

#[test]
fn entries_reparse_link_and_replay() {
    let entries = committed_entries();
    let log = read_json("log.json");
    let listed = log["entries"].as_array().expect("entries");
    assert_eq!(listed.len(), entries.len());
    let mut prev = Hash([0u8; 32]);
    let mut state = State::new();
    let mut kinds = BTreeSet::new();
    for (i, (bytes, v)) in entries.iter().zip(listed).enumerate() {
        let sealed =
            SealedEntry::from_bytes(bytes).unwrap_or_else(|e| panic!("entry {i} is refused: {e}"));
        assert_eq!(sealed.bytes, *bytes);
        assert_eq!(str_of(&v["bytes"], "bytes"), bytes, "entry {i}");
        assert_eq!(sealed.entry.seq, i as u64);
        assert_eq!(u64_of(&v["seq"], "seq"), i as u64);
        assert_eq!(str_of(&v["kind"], "kind"), sealed.entry.body.kind());
        assert_eq!(str_of(&v["time"], "time"), sealed.entry.time.to_string());
        // The leaf hash, computed by hand: SHA-256(0x00 || bytes).
        let mut leaf_input = vec![0x00];
        leaf_input.extend_from_slice(bytes.as_bytes());
        let by_hand = ring::digest::digest(&ring::digest::SHA256, &leaf_input);
        assert_eq!(hex::encode(by_hand.as_ref()), sealed.hash.to_hex());
        assert_eq!(str_of(&v["leaf_hash"], "leaf_hash"), sealed.hash.to_hex());
        assert_eq!(
            sealed.entry.prev,
            prev,
            "entry {i} links to entry {}",
            i as i64 - 1
        );
        assert_eq!(sealed.entry.estate.as_str(), SLUG);
        state
            .apply(&sealed)
            .unwrap_or_else(|e| panic!("entry {i} breaks a rule: {e}"));
        kinds.insert(sealed.entry.body.kind());
        prev = sealed.hash;
    }
    // Every kind the code can produce today is in the vectors.
    let all: BTreeSet<&str> = Body::KINDS.into_iter().collect();
    assert_eq!(kinds, all, "missing kinds: {:?}", all.difference(&kinds));

    let mut balances: Vec<(String, i64)> = state
        .balances()
        .iter()
        .map(|(a, fen)| (a.to_string(), *fen))
        .collect();
    balances.sort();
    let listed: Vec<(String, i64)> = log["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .map(|b| {
            (
                str_of(&b["account"], "account").to_string(),
                b["balance_fen"].as_i64().expect("balance_fen"),
            )
        })
        .collect();
    assert_eq!(balances, listed);
    for (account, fen) in &balances {
        assert!(
            !account.starts_with("fund:") || *fen >= 0,
            "{account} is negative"
        );
    }
}

#[test]
fn root_checkpoint_and_proofs_verify() {
    let log = read_json("log.json");
    let leaves: Vec<Hash> = committed_entries()
        .iter()
        .map(|b| record_hash(b.as_bytes()))
        .collect();
    let size = leaves.len() as u64;
    let nodes = tree_nodes(&leaves);
    let root = tree::tree_hash(size, &nodes).expect("root");
    assert_eq!(u64_of(&log["tree_size"], "tree_size"), size);
    assert_eq!(str_of(&log["root_hex"], "root_hex"), root.to_hex());
    assert_eq!(str_of(&log["root_base64"], "root_base64"), root.to_base64());

    // The checkpoint opens with the published log key alone, and the log
    // key is the one entry 0 enrolled.
    let vkey_text = read("log.vkey");
    let log_key = VerifierKey::parse(vkey_text.trim_end_matches('\n')).expect("log vkey");
    assert_eq!(log_key.alg, ALG_ED25519);
    assert_eq!(log_key.name, ORIGIN);
    assert_eq!(
        str_of(&log["keys"]["log"]["vkey"], "log vkey"),
        log_key.format()
    );
    let entry0 = SealedEntry::from_bytes(&committed_entries()[0]).expect("entry 0");
    match &entry0.entry.body {
        Body::EstateCreated {
            log_key: k, origin, ..
        } => {
            assert_eq!(*k, log_key.format());
            assert_eq!(origin, ORIGIN);
        }
        other => panic!("entry 0 is {}", other.kind()),
    }
    let note = read("checkpoint.txt");
    assert_eq!(str_of(&log["checkpoint"], "checkpoint"), note);
    assert_eq!(
        note.split("\n\n").next().map(|t| format!("{t}\n")),
        Some(format!("{ORIGIN}\n{size}\n{}\n", root.to_base64()))
    );
    let (cp, _, witnesses) = open_checkpoint(&note, &log_key, &[]).expect("checkpoint opens");
    assert_eq!(
        (cp.origin.as_str(), cp.tree_size, cp.root),
        (ORIGIN, size, root)
    );
    assert!(cp.extensions.is_empty() && witnesses.is_empty());
    // The served checkpoint carries the committee's cosignatures, in
    // member-id order after the log's signature; they verify with the
    // member keys from the log's own member_enrolled entries.
    let member_keys: Vec<VerifierKey> = log["keys"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| VerifierKey::parse(str_of(&m["vkey"], "vkey")).expect("member vkey"))
        .collect();
    let (_, _, cosigned) =
        open_checkpoint(&note, &log_key, &member_keys).expect("cosignatures verify");
    let names: Vec<&str> = cosigned.iter().map(|(k, _)| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("{ORIGIN}/members/c1"),
            format!("{ORIGIN}/members/c2")
        ]
    );
    let stamp = u64::try_from(ts(LATEST_COSIGNED).unix()).expect("time");
    assert!(cosigned.iter().all(|(_, t)| *t == stamp));
    assert_eq!(
        note.matches("\n\u{2014} ").count(),
        3,
        "three signature lines"
    );
    let wrong_key = Signer::from_seed(ORIGIN, ALG_ED25519, &[0x02; 32]).expect("key");
    assert!(open_checkpoint(&note, &wrong_key.verifier_key(), &[]).is_err());

    // Inclusion of the first claim, consistency with the first checkpoint.
    let inc = &log["inclusion_proof"];
    let index = u64_of(&inc["index"], "index");
    assert_eq!(u64_of(&inc["tree_size"], "tree_size"), size);
    let leaf = Hash::from_hex(str_of(&inc["leaf_hash"], "leaf_hash")).expect("leaf");
    assert_eq!(leaf, leaves[index as usize]);
    let proof = b64_hashes(&inc["proof"]);
    tree::check_inclusion(&proof, index, size, &leaf, &root).expect("inclusion proof");
    assert!(tree::check_inclusion(&proof, index, size, &leaves[0], &root).is_err());

    let con = &log["consistency_proof"];
    let from = u64_of(&con["from"], "from");
    assert_eq!(u64_of(&con["to"], "to"), size);
    let old_root = Hash::from_base64(str_of(&con["old_root_base64"], "old root")).expect("old");
    assert_eq!(old_root, tree::tree_hash(from, &nodes).expect("old root"));
    let new_root = Hash::from_base64(str_of(&con["new_root_base64"], "new root")).expect("new");
    assert_eq!(new_root, root);
    let proof = b64_hashes(&con["proof"]);
    tree::check_consistency(&proof, from, size, &old_root, &root).expect("consistency proof");
    assert!(tree::check_consistency(&proof, from, size, &root, &root).is_err());

    // The HTTP answers say the same.
    let http = read_json("http.json");
    let exchanges = http["exchanges"].as_array().expect("exchanges");
    let body_of = |request: &str| -> &str {
        let found = exchanges
            .iter()
            .find(|x| x["request"] == request)
            .unwrap_or_else(|| panic!("no exchange {request}"));
        str_of(&found["body"], "body")
    };
    assert_eq!(
        body_of(&format!("GET /estates/{SLUG}/log/checkpoint")),
        note
    );
    assert_eq!(
        body_of(&format!("GET /estates/{SLUG}/log/policy")),
        read("policy.txt")
    );
    let inc_http: Value = serde_json::from_str(body_of(&format!(
        "GET /estates/{SLUG}/log/proof/inclusion?index={index}&size={size}"
    )))
    .expect("json");
    assert_eq!(inc_http["proof"], inc["proof"]);
    let con_http: Value = serde_json::from_str(body_of(&format!(
        "GET /estates/{SLUG}/log/proof/consistency?from={from}&to={size}"
    )))
    .expect("json");
    assert_eq!(con_http["proof"], con["proof"]);
    let listed: Vec<String> = serde_json::from_str(body_of(&format!(
        "GET /estates/{SLUG}/log/entries?start=1&end=3"
    )))
    .expect("json");
    assert_eq!(listed, committed_entries()[1..3]);
    assert_eq!(
        body_of(&format!("GET /estates/{SLUG}/log/entries/0")),
        committed_entries()[0]
    );
    for x in exchanges {
        if x["status"] != 200 {
            let err: Value = serde_json::from_str(str_of(&x["body"], "body")).expect("json");
            assert!(err["error"]["code"].is_string() && err["error"]["message"].is_string());
        }
    }
}

/// Changing any one byte of any entry never goes unnoticed: the bytes are
/// refused outright, or they parse to a different entry whose hash breaks
/// the next entry's `prev` (or, for the last entry, the signed root).
#[test]
fn mangled_entries_are_refused_or_detected() {
    let entries = committed_entries();
    let sealed: Vec<SealedEntry> = entries
        .iter()
        .map(|b| SealedEntry::from_bytes(b).expect("entry"))
        .collect();
    let leaves: Vec<Hash> = sealed.iter().map(|s| s.hash).collect();
    let root = tree::tree_hash(leaves.len() as u64, &tree_nodes(&leaves)).expect("root");
    // The state before each entry, so each mangled entry is applied in place.
    let mut before = vec![State::new()];
    for s in &sealed {
        let mut next = before.last().expect("state").clone();
        next.apply(s).expect("entry applies");
        before.push(next);
    }
    let mut refused = 0usize;
    let mut parsed = 0usize;
    for (i, original) in sealed.iter().enumerate() {
        let bytes = original.bytes.as_bytes();
        // Every position with one flipped bit, and a few positions with
        // bytes that JSON gives meaning to.
        let mut changes: Vec<(usize, u8)> =
            (0..bytes.len()).map(|p| (p, bytes[p] ^ 0x01)).collect();
        for p in [
            0,
            1,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len() - 2,
            bytes.len() - 1,
        ] {
            for b in [b' ', b'0', b'"', b'\\', b'a', b'}', b'\n'] {
                changes.push((p, b));
            }
        }
        for (p, b) in changes {
            if bytes[p] == b {
                continue;
            }
            let mut m = bytes.to_vec();
            m[p] = b;
            let Ok(text) = String::from_utf8(m) else {
                refused += 1; // not even text
                continue;
            };
            let Ok(mangled) = SealedEntry::from_bytes(&text) else {
                refused += 1;
                continue;
            };
            parsed += 1;
            assert_ne!(mangled.hash, original.hash, "entry {i} byte {p}");
            assert_ne!(
                mangled.entry, original.entry,
                "entry {i} byte {p}: same value, two spellings"
            );
            let mut state = before[i].clone();
            if state.apply(&mangled).is_err() {
                continue;
            }
            match sealed.get(i + 1) {
                Some(next) => assert!(
                    state.apply(next).is_err(),
                    "entry {i} byte {p}: the next entry still links"
                ),
                None => {
                    let mut changed = leaves.clone();
                    changed[i] = mangled.hash;
                    let r =
                        tree::tree_hash(changed.len() as u64, &tree_nodes(&changed)).expect("root");
                    assert_ne!(r, root, "entry {i} byte {p}: same root");
                }
            }
        }
    }
    assert!(refused > parsed, "{refused} refused, {parsed} parsed");
}

#[test]
fn approval_vectors_verify() {
    let v = read_json("approval.json");
    let entries = committed_entries();
    let vectors = v["vectors"].as_array().expect("vectors");
    assert!(!vectors.is_empty());
    for a in vectors {
        let claim = u64_of(&a["claim"], "claim");
        let claim_hash = Hash::from_hex(str_of(&a["claim_hash"], "claim_hash")).expect("hash");
        let decision = match str_of(&a["decision"], "decision") {
            "approve" => Decision::Approve,
            "reject" => Decision::Reject,
            other => panic!("decision {other}"),
        };
        let policy = u64_of(&a["policy"], "policy") as u32;
        let origin = str_of(&a["origin"], "origin");
        let message = str_of(&a["message"], "message");
        assert_eq!(
            approval_message(origin, claim, &claim_hash, decision, policy),
            message
        );
        assert_eq!(
            message,
            format!(
                "trustfund-approval/v1\norigin {origin}\nclaim {claim}\nhash {}\ndecision {}\npolicy {policy}\n",
                claim_hash.to_hex(),
                decision.as_str()
            )
        );
        assert_eq!(
            str_of(&a["message_hex"], "message_hex"),
            hex::encode(message.as_bytes())
        );
        // The claim hash is the claim entry's leaf hash.
        assert_eq!(record_hash(entries[claim as usize].as_bytes()), claim_hash);

        let vkey = str_of(&a["signer"]["vkey"], "vkey");
        let key = VerifierKey::parse(vkey).expect("signer vkey");
        assert_eq!(key.alg, ALG_COSIGNATURE_V1);
        let seed: [u8; 32] = hex::decode(str_of(&a["signer"]["seed_hex"], "seed"))
            .expect("hex")
            .try_into()
            .expect("32 bytes");
        let signer = Signer::from_seed(&key.name, ALG_COSIGNATURE_V1, &seed).expect("signer");
        assert_eq!(signer.verifier_key(), key);
        let signature = str_of(&a["signature"], "signature");
        assert_eq!(
            encode_signature(&signer.sign_raw(message.as_bytes())),
            signature
        );
        check_approval_signature(message, signature, &key).expect("signature verifies");

        // A signature is good for exactly this message.
        let other = if decision == Decision::Approve {
            Decision::Reject
        } else {
            Decision::Approve
        };
        for wrong in [
            approval_message(origin, claim, &claim_hash, other, policy),
            approval_message(origin, claim + 1, &claim_hash, decision, policy),
            approval_message(origin, claim, &claim_hash, decision, policy + 1),
            approval_message(
                "trustfund.example/estates/other",
                claim,
                &claim_hash,
                decision,
                policy,
            ),
            message.trim_end_matches('\n').to_string(),
        ] {
            assert!(check_approval_signature(&wrong, signature, &key).is_err());
        }

        // The entry that carries it.
        let seq = u64_of(&a["entry_seq"], "entry_seq");
        let sealed = SealedEntry::from_bytes(&entries[seq as usize]).expect("entry");
        let (c, h, k, s, p, kind) = match &sealed.entry.body {
            Body::ClaimApproved {
                claim,
                claim_hash,
                key,
                signature,
                policy,
                ..
            } => (claim, claim_hash, key, signature, policy, Decision::Approve),
            Body::ClaimRejected {
                claim,
                claim_hash,
                key,
                signature,
                policy,
                ..
            } => (claim, claim_hash, key, signature, policy, Decision::Reject),
            other => panic!("entry {seq} is {}", other.kind()),
        };
        assert_eq!(
            (*c, *h, k.as_str(), s.as_str(), *p, kind),
            (claim, claim_hash, vkey, signature, policy, decision)
        );
    }
}

#[test]
fn bank_ref_vectors_hold() {
    let v = read_json("bank_ref.json");
    let vectors = v["vectors"].as_array().expect("vectors");
    assert_eq!(
        str_of(&vectors[0]["commitment"], "commitment"),
        "9a2e5879520adc4f5d86216d8d099900e4e36c770cf1843b4fb8c167b4389bcf",
        "the known answer of FORMAT.md §9.1"
    );
    for c in vectors {
        let estate = str_of(&c["estate"], "estate");
        let reference = str_of(&c["reference"], "reference");
        let preimage = format!("trustfund-bank-ref/v1\n{estate}\n{reference}");
        assert_eq!(
            str_of(&c["preimage_hex"], "preimage_hex"),
            hex::encode(&preimage)
        );
        let by_hand = hex::encode(ring::digest::digest(
            &ring::digest::SHA256,
            preimage.as_bytes(),
        ));
        assert_eq!(str_of(&c["commitment"], "commitment"), by_hand);
        let typed = c
            .get("as_typed")
            .map_or(reference, |t| str_of(t, "as_typed"));
        let computed = BankRefCommitment::compute(
            &Slug::parse("slug", estate).expect("slug"),
            &BankRef::parse("reference", typed).expect("reference"),
        );
        assert_eq!(computed.to_string(), by_hand);
    }
}

#[test]
fn commitment_vectors_hold() {
    let v = read_json("commitment.json");
    let vectors = v["vectors"].as_array().expect("vectors");
    assert_eq!(
        str_of(&vectors[0]["commitment"], "commitment"),
        "17840a5399cab0bf69b15e256b5ce4fe9ab75a7bd5829b51b96ab87d59fe5ab9",
        "the known answer of src/domain/ids.rs"
    );
    let mut registered = BTreeMap::new();
    for e in committed_entries() {
        if let Body::UnitRegistered { unit, area } =
            SealedEntry::from_bytes(&e).expect("entry").entry.body
        {
            registered.insert(unit.to_string(), area.to_string());
        }
    }
    for c in vectors {
        let estate = str_of(&c["estate"], "estate");
        let unit = str_of(&c["unit_id"], "unit_id");
        let secret = str_of(&c["secret"], "secret");
        let preimage = format!("trustfund-unit/v1\n{estate}\n{unit}\n{secret}");
        assert_eq!(
            str_of(&c["preimage_hex"], "preimage_hex"),
            hex::encode(&preimage)
        );
        let by_hand = hex::encode(ring::digest::digest(
            &ring::digest::SHA256,
            preimage.as_bytes(),
        ));
        assert_eq!(str_of(&c["commitment"], "commitment"), by_hand);
        let (typed_unit, typed_secret) = match c.get("as_typed") {
            Some(t) => (
                str_of(&t["unit_id"], "unit_id"),
                str_of(&t["secret"], "secret"),
            ),
            None => (unit, secret),
        };
        let computed = UnitCommitment::compute(
            &Slug::parse("slug", estate).expect("slug"),
            &UnitId::parse("unit", typed_unit).expect("unit"),
            &UnitSecret::parse("secret", typed_secret).expect("secret"),
        );
        assert_eq!(computed.to_string(), by_hand);
        if let Some(area) = c.get("area") {
            assert_eq!(estate, SLUG);
            assert_eq!(registered.get(&by_hand).map(String::as_str), area.as_str());
        }
    }
    assert_eq!(registered.len(), UNITS.len());
}

/// The spellings docs/FORMAT.md says a verifier must refuse, made from real
/// entries of the vector log: canonical JSON is not enough, every field must
/// be in its own canonical form and no field may be added, nulled or left
/// empty where the format says "absent".
#[test]
fn non_canonical_spellings_are_refused() {
    use trustfund::ledger::jcs::canonicalize;
    let entries = committed_entries();
    let by_kind = |kind: &str| -> (String, Value) {
        let text = entries
            .iter()
            .find(|e| e.contains(&format!("\"kind\":\"{kind}\"")))
            .unwrap_or_else(|| panic!("no {kind} entry"))
            .clone();
        let value = serde_json::from_str(&text).expect("json");
        (text, value)
    };
    // Valid JSON, canonical by RFC 8785, and still not a v1 entry.
    let edits: Vec<(&str, &str, Value)> = vec![
        ("correction", "partial", json!(false)),
        ("correction", "partial", json!(true)),
        ("claim_submitted", "quote", Value::Null),
        ("claim_submitted", "evidence", json!([])),
        ("claim_submitted", "amount", json!("300.0")),
        ("claim_submitted", "amount", json!("300")),
        ("claim_submitted", "amount", json!(300)),
        ("claim_submitted", "memo", json!("x")),
        (
            "fee_paid",
            "unit",
            json!("58F2C7C2947640F93385323C6A10FCCAB6965A645BC1B1ED91AA77F3CB08A4D4"),
        ),
        ("fee_paid", "time", json!("2026-01-10T11:00:00+08:00")),
        ("fee_paid", "time", json!("2026-01-10T03:00:00.000Z")),
        ("fee_paid", "seq", json!("13")),
        ("fee_paid", "v", json!(2)),
        ("fee_paid", "method", json!("Bank")),
        ("estate_created", "fee_rate", json!("1.850")),
        ("estate_created", "name", json!(" 绿苑小区")),
        ("remuneration_ratio_set", "ratio", json!("0.10")),
        ("unit_registered", "area", json!("89.5")),
        ("service_record", "description", json!("a\r\nb")),
    ];
    for (kind, field, replacement) in edits {
        let (text, mut value) = by_kind(kind);
        assert!(SealedEntry::from_bytes(&text).is_ok());
        value[field] = replacement.clone();
        let canonical = canonicalize(&value).expect("canonical JSON");
        assert!(
            SealedEntry::from_bytes(&canonical).is_err(),
            "{kind} with {field} = {replacement} was accepted"
        );
    }
    // Not canonical JSON at all.
    let (text, _) = by_kind("public_income_received");
    let escaped_quote = text.replacen("\\\"", "\\u0022", 1);
    let escaped_ascii = text.replacen("\"kind\"", "\"\\u006bind\"", 1);
    let escaped_cjk = text.replacen("城", "\\u57ce", 1);
    let slash = text.replacen("elevator_ads\"", "elevator_ads\\/\"", 1);
    for bad in [
        format!("{text}\n"),
        format!(" {text}"),
        format!("\u{feff}{text}"),
        text.replacen(",", ", ", 1),
        text.replacen("{\"amount\":\"3000.00\",", "{", 1).replacen(
            "}",
            ",\"amount\":\"3000.00\"}",
            1,
        ),
        text.replacen("\"seq\":15", "\"seq\":15.0", 1),
        text.replacen("\"seq\":15", "\"seq\":1.5e1", 1),
        text.replacen("\"seq\":15", "\"seq\":015", 1),
        text.replacen("\"v\":1", "\"v\":1,\"v\":1", 1),
        escaped_quote,
        escaped_ascii,
        escaped_cjk,
        slash,
    ] {
        assert_ne!(bad, text);
        assert!(SealedEntry::from_bytes(&bad).is_err(), "accepted {bad}");
    }
}

// ---------------------------------------------------------------------------
// Statements and the bundle, checked from the committed files

/// Fen of a Money string (`1234.56`).
fn fen(text: &str) -> i64 {
    let (yuan, cents) = text.split_once('.').expect("two decimals");
    assert_eq!(cents.len(), 2, "{text}");
    yuan.parse::<i64>().expect("yuan") * 100 + cents.parse::<i64>().expect("fen")
}

/// Money string of fen, as the format writes it.
fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// Every figure of every `statement_published` entry, recomputed from the
/// entries the way docs/FORMAT.md defines them (not with the ledger's own
/// bookkeeping): a verifier that follows the document gets the same bytes.
#[test]
fn statement_figures_follow_the_document() {
    let entries: Vec<Value> = committed_entries()
        .iter()
        .map(|e| serde_json::from_str(e).expect("json"))
        .collect();
    let tz = EstateTz::parse("timezone", str_of(&entries[0]["timezone"], "timezone")).expect("tz");
    let month = |e: &Value| -> String {
        Timestamp::parse("time", str_of(&e["time"], "time"))
            .expect("time")
            .period_in(&tz)
            .to_string()
    };
    // Account balances after entries 0 … n − 1.
    let balances_before = |n: usize| -> BTreeMap<String, i64> {
        let mut b = BTreeMap::new();
        for e in &entries[..n] {
            for p in e["postings"].as_array().into_iter().flatten() {
                let account = str_of(&p["account"], "account").to_string();
                let signed = match (p.get("debit"), p.get("credit")) {
                    (Some(d), None) => fen(str_of(d, "debit")),
                    (None, Some(c)) => -fen(str_of(c, "credit")),
                    _ => panic!("posting {p}"),
                };
                *b.entry(account).or_insert(0) += signed;
            }
        }
        b
    };
    let funds = |b: &BTreeMap<String, i64>| -> Value {
        let get = |a: &str| yuan(b.get(&format!("fund:{a}")).copied().unwrap_or(0));
        json!({ "operating": get("operating"), "public_income": get("public_income"), "reserve": get("reserve") })
    };
    let mut checked = 0;
    let mut prev_to = 0u64;
    for (s, st) in entries.iter().enumerate() {
        if st["kind"] != "statement_published" {
            continue;
        }
        let period = str_of(&st["period"], "period").to_string();
        // The range: from the previous statement's to_seq, up to one past
        // the last entry whose time falls in the month.
        let from = prev_to;
        let to = entries[..s]
            .iter()
            .rposition(|e| month(e) == period)
            .map_or(from, |i| i as u64 + 1);
        assert!(entries[from as usize..to as usize]
            .iter()
            .all(|e| month(e) == period));
        assert_eq!(
            (u64_of(&st["from_seq"], "from"), u64_of(&st["to_seq"], "to")),
            (from, to),
            "{period}"
        );
        let range = &entries[from as usize..to as usize];

        // Gross sums by posting account over the range.
        let mut sum: BTreeMap<String, i64> = BTreeMap::new();
        let mut add = |key: String, f: i64| *sum.entry(key).or_insert(0) += f;
        for e in range {
            let corrected_kind = e
                .get("corrects")
                .map(|c| entries[u64_of(c, "corrects") as usize]["kind"].clone());
            if e["kind"] == "fee_paid" {
                add("fees_collected".into(), fen(str_of(&e["amount"], "amount")));
            }
            for p in e["postings"].as_array().into_iter().flatten() {
                let account = str_of(&p["account"], "account");
                let (debit, f) = match (p.get("debit"), p.get("credit")) {
                    (Some(d), None) => (true, fen(str_of(d, "debit"))),
                    (None, Some(c)) => (false, fen(str_of(c, "credit"))),
                    _ => panic!("posting {p}"),
                };
                match (account, debit) {
                    ("income:fees", false) => add("fees_charged".into(), f),
                    ("income:fees", true) => add("reversed.fees_charged".into(), f),
                    ("equity:opening", false) => add("opening_balances".into(), f),
                    ("equity:opening", true) => add("reversed.opening_balances".into(), f),
                    (a, false) if a.starts_with("income:public:") => {
                        add(format!("public_income.{}", &a["income:public:".len()..]), f)
                    }
                    (a, true) if a.starts_with("income:public:") => {
                        add("reversed.public_income".into(), f)
                    }
                    (a, true) if a.starts_with("expense:") => {
                        add(format!("spending.{}", &a["expense:".len()..]), f)
                    }
                    (a, true)
                        if a.starts_with("receivable:")
                            && corrected_kind.as_ref() == Some(&json!("fee_paid")) =>
                    {
                        add("reversed.fees_collected".into(), f)
                    }
                    _ => {}
                }
            }
        }
        let g = |key: &str| yuan(sum.get(key).copied().unwrap_or(0));

        // Remuneration: entitlement from the month's collections net of
        // corrections made before the statement; taken = executed claims.
        let before = &entries[..s];
        let corrected: BTreeSet<u64> = before
            .iter()
            .filter_map(|e| e.get("corrects").map(|c| u64_of(c, "corrects")))
            .collect();
        let collected: i64 = before
            .iter()
            .filter(|e| e["kind"] == "fee_paid" && month(e) == period)
            .filter(|e| !corrected.contains(&u64_of(&e["seq"], "seq")))
            .map(|e| fen(str_of(&e["amount"], "amount")))
            .sum();
        let ratio = before
            .iter()
            .rev()
            .find(|e| {
                e["kind"] == "remuneration_ratio_set"
                    && str_of(&e["from"], "from") <= period.as_str()
            })
            .map(|e| str_of(&e["ratio"], "ratio").to_string());
        let entitlement = match ratio {
            None => 0,
            Some(r) => {
                // Ratio in ten-thousandths, then round half up to the fen.
                let (int, frac) = r.split_once('.').unwrap_or((&r, ""));
                let e4 = int.parse::<i64>().expect("ratio") * 10_000
                    + format!("{frac:0<4}").parse::<i64>().expect("ratio");
                (collected * e4 + 5_000) / 10_000
            }
        };
        let executed: BTreeSet<u64> = before
            .iter()
            .filter(|e| e["kind"] == "disbursement_executed")
            .map(|e| u64_of(&e["claim"], "claim"))
            .collect();
        let taken: i64 = before
            .iter()
            .filter(|e| e["kind"] == "claim_submitted" && e["category"] == "remuneration")
            .filter(|e| e["period"] == json!(period))
            .filter(|e| executed.contains(&u64_of(&e["seq"], "seq")))
            .map(|e| fen(str_of(&e["amount"], "amount")))
            .sum();

        let closing = balances_before(to as usize);
        let arrears: i64 = closing
            .iter()
            .filter(|(a, _)| a.starts_with("receivable:"))
            .map(|(_, f)| (*f).max(0))
            .sum();
        let categories = [
            "administration",
            "cleaning",
            "elevator",
            "greening",
            "insurance",
            "other",
            "remuneration",
            "repairs",
            "security",
            "utilities",
        ];
        let want = json!({
            "period": period,
            "from_seq": from,
            "to_seq": to,
            "opening": funds(&balances_before(from as usize)),
            "closing": funds(&closing),
            "opening_balances": g("opening_balances"),
            "fees_charged": g("fees_charged"),
            "fees_collected": g("fees_collected"),
            "public_income": {
                "elevator_ads": g("public_income.elevator_ads"),
                "parking": g("public_income.parking"),
                "venue": g("public_income.venue"),
                "other": g("public_income.other"),
            },
            "spending": categories
                .iter()
                .map(|c| (c.to_string(), json!(g(&format!("spending.{c}")))))
                .collect::<serde_json::Map<_, _>>(),
            "reversed": {
                "fees_charged": g("reversed.fees_charged"),
                "fees_collected": g("reversed.fees_collected"),
                "public_income": g("reversed.public_income"),
                "opening_balances": g("reversed.opening_balances"),
            },
            "remuneration": { "entitlement": yuan(entitlement), "taken": yuan(taken) },
            "arrears": yuan(arrears),
        });
        let mut got = st.clone();
        for envelope in ["v", "estate", "seq", "prev", "time", "kind"] {
            got.as_object_mut().expect("object").remove(envelope);
        }
        assert_eq!(got, want, "statement at seq {s}");
        prev_to = to;
        checked += 1;
    }
    assert_eq!(checked, 2, "January and February are closed");
}

fn committed_bundle() -> (String, trustfund::verify::Bundle) {
    let text = read("bundle.json");
    let bundle: trustfund::verify::Bundle = serde_json::from_str(&text).expect("bundle parses");
    // The file is the compact serialisation, byte for byte.
    assert_eq!(serde_json::to_string(&bundle).expect("json"), text);
    (text, bundle)
}

fn vector_log_key() -> VerifierKey {
    VerifierKey::parse(read("log.vkey").trim_end_matches('\n')).expect("log vkey")
}

#[test]
fn statement_bundle_verifies() {
    use trustfund::verify::{bundle_statement, verify_bundle, BUNDLE_FORMAT};
    let (_, b) = committed_bundle();
    let log = read_json("log.json");
    let info = &log["bundle"];
    let size = u64_of(&info["tree_size"], "tree_size");
    assert_eq!(b.format, BUNDLE_FORMAT);
    assert_eq!(b.origin, ORIGIN);
    assert_eq!(b.log_key, vector_log_key().format());
    // The entries are the log's first `size` entries, as exact bytes.
    assert_eq!(b.entries[..], committed_entries()[..size as usize]);
    // The policy is the one the ledger implies at that size (the same text
    // as the live policy here, since no member changed since).
    assert_eq!(b.policy, read("policy.txt"));
    let st = b.statement.expect("a statement bundle");
    assert_eq!(st.period.to_string(), str_of(&info["period"], "period"));
    assert_eq!(st.seq, u64_of(&info["statement_seq"], "statement_seq"));
    assert_eq!(
        st.seq + 1,
        size,
        "the first checkpoint covering the statement"
    );

    let v = verify_bundle(&b, Some(&vector_log_key())).expect("the bundle verifies");
    assert_eq!(v.checkpoint.tree_size, size);
    assert_eq!(v.quorum, 2);
    let by: Vec<&str> = v.witnesses.iter().map(|(id, _)| id.as_str()).collect();
    let want: Vec<&str> = info["cosigned_by"]
        .as_array()
        .expect("cosigned_by")
        .iter()
        .map(|x| str_of(x, "member"))
        .collect();
    assert_eq!(by, want);
    let stamp = u64::try_from(ts(STATEMENT_COSIGNED).unix()).expect("time");
    assert!(v.witnesses.iter().all(|(_, t)| *t == stamp));
    let (seq, statement) = bundle_statement(&v, &b).expect("statement");
    assert_eq!(seq, st.seq);
    assert_eq!(statement.period, st.period);
    // Without a pinned key, the bundle's own key is used; it still verifies.
    assert!(verify_bundle(&b, None).is_ok());
}

/// One changed byte in any entry, or any other tampering, is refused, each
/// with the VerifyError docs/FORMAT.md maps it to.
#[test]
fn tampered_bundles_are_refused() {
    use trustfund::verify::{verify_bundle, Bundle, VerifyError};
    let (_, good) = committed_bundle();
    let key = vector_log_key();
    let check = |b: &Bundle| verify_bundle(b, Some(&key)).map(|_| ());
    assert!(check(&good).is_ok());
    let n = good.entries.len();
    let with_entry = |i: usize, from: &str, to: &str| -> Bundle {
        let mut b = good.clone();
        assert!(b.entries[i].contains(from), "entry {i} has no {from}");
        b.entries[i] = b.entries[i].replacen(from, to, 1);
        assert_eq!(b.entries[i].len(), good.entries[i].len());
        let changed = b.entries[i]
            .bytes()
            .zip(good.entries[i].bytes())
            .filter(|(x, y)| x != y)
            .count();
        assert_eq!(changed, 1, "exactly one byte of entry {i} changed");
        b
    };

    // Any one byte of any entry: flip a bit in the middle.
    for i in 0..n {
        let mut bytes = good.entries[i].clone().into_bytes();
        let p = bytes.len() / 2;
        bytes[p] ^= 0x01;
        let mut b = good.clone();
        match String::from_utf8(bytes) {
            Ok(text) => b.entries[i] = text,
            Err(_) => continue, // not text: not even a JSON string
        }
        assert!(check(&b).is_err(), "entry {i} byte {p} changed unnoticed");
    }

    // A text that still parses and obeys every rule: the next entry's
    // `prev` no longer links.
    let b = with_entry(15, "2026年1月电梯", "2026年2月电梯");
    assert_eq!(
        check(&b),
        Err(VerifyError::BrokenChain { seq: 16, prev: 15 })
    );
    // An amount whose postings no longer follow.
    let b = with_entry(13, "\"amount\":\"165.58\"", "\"amount\":\"165.59\"");
    assert!(matches!(
        check(&b),
        Err(VerifyError::Rule {
            seq: 13,
            code: "wrong_postings",
            ..
        })
    ));
    // A statement figure one fen off.
    let last = n - 1;
    let b = with_entry(last, "\"arrears\":\"165.58\"", "\"arrears\":\"165.59\"");
    assert!(
        matches!(check(&b), Err(VerifyError::Rule { code: "wrong_figures", seq, .. }) if seq == last as u64)
    );
    // Not canonical: a space after a comma.
    let mut b = good.clone();
    b.entries[3] = b.entries[3].replacen(',', ", ", 1);
    assert!(matches!(
        check(&b),
        Err(VerifyError::BadEntry { seq: 3, .. })
    ));
    // Entries swapped or dropped.
    let mut b = good.clone();
    b.entries.swap(20, 21);
    assert_eq!(
        check(&b),
        Err(VerifyError::OutOfOrder {
            position: 20,
            seq: 21
        })
    );
    let mut b = good.clone();
    b.entries.pop();
    assert_eq!(
        check(&b),
        Err(VerifyError::SizeMismatch {
            checkpoint: n as u64,
            entries: n as u64 - 1
        })
    );
    // Another log key, pinned.
    let other = Signer::from_seed(ORIGIN, ALG_ED25519, &[0x02; 32]).expect("key");
    assert!(matches!(
        verify_bundle(&good, Some(&other.verifier_key())),
        Err(VerifyError::WrongLogKey { .. })
    ));
    // The checkpoint: a changed root no longer carries the log's signature.
    let mut b = good.clone();
    let root = b.checkpoint.lines().nth(2).expect("root line").to_string();
    let mut changed = root.clone().into_bytes();
    changed[0] = if changed[0] == b'A' { b'B' } else { b'A' };
    b.checkpoint = b
        .checkpoint
        .replacen(&root, &String::from_utf8(changed).expect("ascii"), 1);
    assert!(matches!(check(&b), Err(VerifyError::LogSignature(_))));
    // A validly signed checkpoint over different entries: the latest one,
    // with the bundle's entries and a last entry one second later.
    let mut b = good.clone();
    b.checkpoint = read("checkpoint.txt");
    let entries = committed_entries();
    b.entries = entries.clone();
    assert!(check(&b).is_ok(), "the whole log at the latest checkpoint");
    let last = entries.len() - 1;
    b.entries[last] = entries[last].replacen("T00:00:00Z", "T00:00:01Z", 1);
    assert_eq!(check(&b), Err(VerifyError::RootMismatch));
    // Cosignatures below the quorum: drop c2's and s1's lines.
    let mut b = good.clone();
    b.checkpoint = good
        .checkpoint
        .lines()
        .filter(|l| !l.contains("/members/c2 ") && !l.contains("/members/s1 "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(check(&b), Err(VerifyError::Quorum { have: 1, need: 2 }));
    // The community's cosignature does not count toward the committee quorum.
    let mut b = good.clone();
    b.checkpoint = good
        .checkpoint
        .lines()
        .filter(|l| !l.contains("/members/c2 "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(check(&b), Err(VerifyError::Quorum { have: 1, need: 2 }));
    // A policy file that says something else than the ledger.
    let mut b = good.clone();
    b.policy = b
        .policy
        .replace("quorum trustfund:committee\n", "quorum none\n");
    assert_eq!(check(&b), Err(VerifyError::PolicyMismatch));
    // A statement reference that does not match the statement entry.
    let mut b = good.clone();
    if let Some(st) = b.statement.as_mut() {
        st.seq -= 1;
    }
    assert!(matches!(check(&b), Err(VerifyError::Statement(_))));
    let mut b = good.clone();
    b.format = "trustfund-bundle/v2".into();
    assert!(matches!(check(&b), Err(VerifyError::Format(_))));
    // Every failure has words in both languages.
    assert!(!VerifyError::RootMismatch.zh().is_empty());
}
