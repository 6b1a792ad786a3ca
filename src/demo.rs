//! The demo estate: twelve months of a trust-model estate, generated from
//! `fixtures/demo/dongfang.json` with a fixed seed and appended through the
//! same [`Store::append`] path as real use, so its hashes, checkpoints and
//! approval signatures are all real.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::domain::{
    Area, Date, Description, EstateTz, Location, MemberId, Money, Name, Payee, Period, Purpose,
    Rate, Ratio, Reason, Slug, Timestamp, UnitCommitment, UnitId, UnitSecret,
};
use crate::keys::{Keyring, LogKey};
use crate::ledger::approval::{approval_message, encode_signature, Decision};
use crate::ledger::{Body, Category, FundAccount, IncomeSource, PayMethod, PolicyRules, Role};
use crate::store::{Appended, Draft, Store, StoreError};
use crate::tlog::checkpoint::cosign_checkpoint;
use crate::tlog::note::{Note, Signer, ALG_COSIGNATURE_V1, ALG_ED25519};
use crate::tlog::Hash;

/// The demo estate's description, shipped in the binary.
pub const DEMO_JSON: &str = include_str!("../fixtures/demo/dongfang.json");

/// Months of history the demo writes, ending with the month before the anchor.
pub const DEMO_MONTHS: u32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo fixture: {0}")]
    Fixture(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
}

impl From<crate::domain::DomainError> for DemoError {
    fn from(e: crate::domain::DomainError) -> DemoError {
        DemoError::Fixture(e.to_string())
    }
}

#[derive(Deserialize)]
struct Spec {
    seed: u64,
    slug: String,
    name: String,
    origin: String,
    timezone: String,
    fee_rate: String,
    remuneration_ratio: String,
    buildings: u32,
    floors: u32,
    units_per_floor: u32,
    areas: Vec<String>,
    payment_habits: Vec<Habit>,
    opening: Vec<Opening>,
    company: Person,
    committee: Vec<Person>,
    community: Person,
    public_income: Vec<IncomeSpec>,
    monthly_claims: Vec<ClaimSpec>,
    service_records: Vec<RecordSpec>,
    sewer: Sewer,
    rejected: Rejected,
    duplicate_payment_month: u32,
    pending: Pending,
}

/// How a share of the units pays: a percentage chance to pay each month,
/// and to settle all arrears when they do.
#[derive(Deserialize)]
struct Habit {
    share: u32,
    pay: u32,
    settle_arrears: u32,
}

#[derive(Deserialize)]
struct Opening {
    account: String,
    amount: String,
    memo: String,
}

#[derive(Deserialize)]
struct Person {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct IncomeSpec {
    source: String,
    payer: String,
    memo: String,
    day: u32,
    min: String,
    max: String,
    every: u32,
}

#[derive(Deserialize)]
struct ClaimSpec {
    category: String,
    payee: String,
    purpose: String,
    min: String,
    max: String,
    #[serde(default)]
    record: Option<String>,
}

#[derive(Deserialize)]
struct RecordSpec {
    title: String,
    description: String,
    location: String,
    done_by: String,
}

#[derive(Deserialize)]
struct Sewer {
    month: u32,
    title: String,
    description: String,
    location: String,
    done_by: String,
    quote: String,
    cost: String,
    payee: String,
    purpose: String,
}

#[derive(Deserialize)]
struct Rejected {
    month: u32,
    payee: String,
    amount: String,
    purpose: String,
    reason: String,
}

#[derive(Deserialize)]
struct Pending {
    payee: String,
    amount: String,
    purpose: String,
}

/// What loading the demo produced.
#[derive(Debug)]
pub struct DemoSummary {
    pub slug: Slug,
    pub entries: u64,
    pub first_month: Period,
    pub last_month: Period,
}

/// The demo's sign-in password, for every demo account. It is printed when
/// the demo loads and written in the README: demo data only.
pub const DEMO_PASSWORD: &str = "trustfund-demo";

/// A demo account: login, name, and role in the demo estate with the
/// member id they sign as (`None`: platform admin).
pub struct DemoAccount {
    pub login: &'static str,
    pub name: &'static str,
    pub role: Option<(Role, &'static str)>,
}

pub const DEMO_ACCOUNTS: [DemoAccount; 3] = [
    DemoAccount {
        login: "admin",
        name: "平台管理员",
        role: None,
    },
    DemoAccount {
        login: "company",
        name: "赵立新（物业项目经理）",
        role: Some((Role::Company, "p1")),
    },
    DemoAccount {
        login: "committee",
        name: "王建国（业委会主任）",
        role: Some((Role::Committee, "c1")),
    },
];

/// Creates the demo accounts (a demo never runs against real accounts: it
/// loads only into an empty database).
pub async fn create_accounts(store: &Store, slug: &Slug, now: Timestamp) -> Result<(), DemoError> {
    let hash = crate::auth::Password::new_choice(DEMO_PASSWORD)
        .map_err(|e| DemoError::Fixture(e.to_string()))?
        .hash();
    for DemoAccount { login, name, role } in DEMO_ACCOUNTS {
        let id = store
            .create_user(login, name, &hash, role.is_none(), now)
            .await?;
        if let Some((role, member)) = role {
            store.grant(id, slug, role, Some(member)).await?;
        }
    }
    Ok(())
}

/// Keeps the demo accounts' signing keys on the server, sealed under the
/// demo password, so a newcomer can approve a claim on the web.
async fn hold_demo_keys(
    store: &Store,
    slug: &Slug,
    origin: &str,
    seeds: &BTreeMap<MemberId, [u8; 32]>,
    now: Timestamp,
) -> Result<(), DemoError> {
    use rand::RngCore;
    let pass = crate::approver_key::Passphrase::new_choice(DEMO_PASSWORD)
        .map_err(|e| DemoError::Fixture(e.to_string()))?;
    for (_, member) in DEMO_ACCOUNTS.iter().filter_map(|a| a.role) {
        let id = MemberId::parse("member", member)?;
        let Some(seed) = seeds.get(&id) else { continue };
        let (mut salt, mut nonce) = ([0u8; 16], [0u8; 12]);
        rand::rngs::OsRng.fill_bytes(&mut salt);
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let (file, _) = crate::approver_key::KeyFile::seal(
            &format!("{origin}/members/{member}"),
            seed,
            &pass,
            crate::approver_key::Kdf::DEFAULT,
            salt,
            nonce,
        )
        .map_err(|e| DemoError::Fixture(e.to_string()))?;
        store
            .put_approver_key(slug, &id, &file.format(), now)
            .await?;
    }
    Ok(())
}

/// An approver in the demo, with the key they sign with.
struct Approver {
    id: MemberId,
    role: Role,
    signer: Signer,
}

/// Writes the demo estate. `anchor` is the current month: the demo covers
/// the twelve months before it, and leaves one claim pending at `now`.
pub async fn load(
    store: &Store,
    keys: &Keyring,
    anchor: Period,
    now: Timestamp,
) -> Result<DemoSummary, DemoError> {
    let spec: Spec =
        serde_json::from_str(DEMO_JSON).map_err(|e| DemoError::Fixture(e.to_string()))?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let files = DemoFiles::default();
    let mut seeds: BTreeMap<MemberId, [u8; 32]> = BTreeMap::new();
    let slug = Slug::parse("slug", &spec.slug)?;
    let tz = EstateTz::parse("timezone", &spec.timezone)?;
    let fee_rate = Rate::parse("fee_rate", &spec.fee_rate)?;
    let mut first = anchor;
    for _ in 0..DEMO_MONTHS {
        first = first
            .prev()
            .ok_or_else(|| DemoError::Fixture("anchor month too early".into()))?;
    }
    let at = |period: Period, day: u32, hour: u32, minute: u32| -> Result<Timestamp, DemoError> {
        let date = period.first_day() + chrono::Duration::days(i64::from(day.saturating_sub(1)));
        let local = date
            .and_hms_opt(hour, minute, 0)
            .ok_or_else(|| DemoError::Fixture("bad demo time".into()))?;
        let unix = local.and_utc().timestamp() - i64::from(tz.utc_offset_seconds());
        Ok(Timestamp::from_unix(unix)?)
    };

    // Keys: the log key and each approver's, from the seeded generator.
    let log_seed: [u8; 32] = rng.gen();
    keys.create(&slug, &log_seed)?;
    let log = keys.with_signer(
        &slug,
        Signer::from_seed(&spec.origin, ALG_ED25519, &log_seed)
            .map_err(|e| DemoError::Fixture(e.to_string()))?,
    );
    let mut approvers: Vec<Approver> = Vec::new();
    let mut people: Vec<(&Person, Role)> = vec![(&spec.company, Role::Company)];
    people.extend(spec.committee.iter().map(|p| (p, Role::Committee)));
    people.push((&spec.community, Role::Community));
    let mut genesis: Vec<Draft> = Vec::new();
    let t0 = at(first, 1, 8, 0)?;
    genesis.push(timed(
        Body::EstateCreated {
            name: Name::parse("name", &spec.name)?,
            origin: spec.origin.clone(),
            log_key: log.verifier_key().format(),
            timezone: tz,
            currency: crate::ledger::entry::Currency::Cny,
            fee_rate,
        },
        t0,
    ));
    genesis.push(timed(
        Body::PolicySet {
            version: 1,
            rules: PolicyRules::standard(),
            approvals: vec![],
        },
        t0,
    ));
    genesis.push(timed(
        Body::RemunerationRatioSet {
            ratio: Ratio::parse("ratio", &spec.remuneration_ratio)?,
            from: first,
        },
        t0,
    ));
    for (person, role) in people {
        let seed: [u8; 32] = rng.gen();
        let id = MemberId::parse("member", &person.id)?;
        let key_name = format!("{}/members/{}", spec.origin, person.id);
        let signer = Signer::from_seed(&key_name, ALG_COSIGNATURE_V1, &seed)
            .map_err(|e| DemoError::Fixture(e.to_string()))?;
        genesis.push(timed(
            Body::MemberEnrolled {
                member: id.clone(),
                name: Name::parse("name", &person.name)?,
                role,
                key: signer.verifier_key().format(),
            },
            t0,
        ));
        seeds.insert(id.clone(), seed);
        approvers.push(Approver { id, role, signer });
    }
    let mut units: Vec<(UnitCommitment, Money, usize)> = Vec::new();
    for b in 1..=spec.buildings {
        for floor in 1..=spec.floors {
            for u in 1..=spec.units_per_floor {
                let unit_id = UnitId::parse("unit", &format!("{b}-{floor}{u:02}"))?;
                let secret = UnitSecret::generate(&mut rng);
                let area = Area::parse("area", &spec.areas[rng.gen_range(0..spec.areas.len())])?;
                let commitment = UnitCommitment::compute(&slug, &unit_id, &secret);
                let habit = pick_habit(&mut rng, &spec.payment_habits);
                units.push((commitment, area.times_rate(&fee_rate)?, habit));
                genesis.push(Draft {
                    body: Body::UnitRegistered {
                        unit: commitment,
                        area,
                    },
                    unit: Some((unit_id, secret)),
                    at: Some(t0),
                    bank_ref: None,
                });
            }
        }
    }
    for o in &spec.opening {
        genesis.push(timed(
            Body::OpeningBalance {
                account: o.account.parse()?,
                amount: Money::parse_positive("amount", &o.amount)?,
                memo: Purpose::parse("memo", &o.memo)?,
                postings: vec![],
            },
            t0,
        ));
    }
    let mut total = store
        .create_estate(&slug, &spec.name, &spec.origin, genesis, t0, &log)
        .await?
        .len() as u64;

    let company: Vec<&Approver> = approvers
        .iter()
        .filter(|a| a.role == Role::Company)
        .collect();
    let committee: Vec<&Approver> = approvers
        .iter()
        .filter(|a| a.role == Role::Committee)
        .collect();
    let mut unpaid: BTreeMap<usize, u32> = BTreeMap::new();
    let witnesses: Vec<&Approver> = approvers
        .iter()
        .filter(|a| a.role != Role::Company)
        .take(4)
        .collect();
    let mut period = first;
    for m in 0..DEMO_MONTHS {
        // Close last month first thing, and have the committee witness it.
        if let Some(prev) = period.prev().filter(|_| m > 0) {
            total += close_and_witness(store, &slug, &log, prev, at(period, 1, 0, 30)?, &witnesses)
                .await?;
        }
        let mut batch: Vec<Draft> = Vec::new();
        // Charges on the 1st.
        batch.push(timed(
            Body::FeesCharged {
                period,
                rate: fee_rate,
                units: units.len() as u32,
                postings: vec![],
            },
            at(period, 1, 9, 0)?,
        ));
        // Payments: most units pay within the month; some settle arrears too.
        let mut payments: Vec<(Timestamp, usize, Money)> = Vec::new();
        for (i, (_, fee, habit)) in units.iter().enumerate() {
            let habit = &spec.payment_habits[*habit];
            if rng.gen_range(0..100) < habit.pay {
                let arrears = if rng.gen_range(0..100) < habit.settle_arrears {
                    unpaid.remove(&i).unwrap_or(0)
                } else {
                    0
                };
                let owed = arrears + 1;
                let amount = Money::from_fen(fee.fen() * i64::from(owed))?;
                payments.push((
                    at(
                        period,
                        rng.gen_range(2..=27),
                        rng.gen_range(8..=20),
                        rng.gen_range(0..60),
                    )?,
                    i,
                    amount,
                ));
            } else {
                *unpaid.entry(i).or_insert(0) += 1;
            }
        }
        payments.sort_by_key(|(t, i, _)| (*t, *i));
        for (t, i, amount) in &payments {
            let method = [PayMethod::Bank, PayMethod::Wechat, PayMethod::Alipay][i % 3];
            batch.push(timed(
                Body::FeePaid {
                    unit: units[*i].0,
                    amount: *amount,
                    paid_on: Date::from_naive("paid_on", t.date_in(&tz))?,
                    method,
                    bank_ref: None,
                    postings: vec![],
                },
                *t,
            ));
        }
        // Public income.
        for inc in &spec.public_income {
            if m % inc.every.max(1) != 0 {
                continue;
            }
            let amount = pick(&mut rng, &inc.min, &inc.max)?;
            let t = at(period, inc.day, 10, 30)?;
            batch.push(timed(
                Body::PublicIncomeReceived {
                    source: inc.source.parse::<IncomeSource>()?,
                    amount,
                    received_on: Date::from_naive("received_on", t.date_in(&tz))?,
                    payer: Payee::parse("payer", &inc.payer)?,
                    memo: Purpose::parse("memo", &format!("{} {period}", inc.memo))?,
                    evidence: vec![],
                    postings: vec![],
                },
                t,
            ));
        }
        batch.sort_by_key(|d| d.at);
        let mut appended = store
            .append(&slug, batch, at(period, 28, 0, 0)?, &log)
            .await?;
        total += appended.len() as u64;

        // A duplicated bank import, found and reversed the same month.
        if m == spec.duplicate_payment_month {
            if let Some((t, i, amount)) = payments.first() {
                let dup = Body::FeePaid {
                    unit: units[*i].0,
                    amount: *amount,
                    paid_on: Date::from_naive("paid_on", t.date_in(&tz))?,
                    method: PayMethod::Bank,
                    bank_ref: None,
                    postings: vec![],
                };
                let t = at(period, 27, 21, 0)?;
                let a = store.append(&slug, vec![timed(dup, t)], t, &log).await?;
                let fix = Body::Correction {
                    corrects: a[0].seq,
                    corrects_hash: a[0].hash,
                    reason: Reason::parse("reason", "银行流水重复导入，冲正重复记录")?,
                    postings: vec![],
                };
                total += 1 + store
                    .append(&slug, vec![timed(fix, t)], t, &log)
                    .await?
                    .len() as u64;
            }
        }

        // Service records, then the month's claims.
        let mut records: BTreeMap<String, u64> = BTreeMap::new();
        let mut later: Vec<Draft> = Vec::new();
        for (k, r) in spec.service_records.iter().enumerate() {
            if k > 0 && (m as usize + k) % 2 == 1 {
                continue;
            }
            later.push(timed(
                Body::ServiceRecord {
                    title: Name::parse("title", &r.title)?,
                    description: Description::parse("description", &r.description)?,
                    location: Location::parse("location", &r.location)?,
                    done_on: Date::from_naive("done_on", at(period, 18, 10, 0)?.date_in(&tz))?,
                    done_by: Name::parse("done_by", &r.done_by)?,
                    cost: None,
                    evidence: vec![evidence_hash(
                        &files,
                        &format!("{}/{period}/{}", spec.slug, r.title),
                    )],
                },
                at(period, 18, 16, k as u32)?,
            ));
        }
        if m == spec.sewer.month {
            later.push(timed(
                Body::ServiceRecord {
                    title: Name::parse("title", &spec.sewer.title)?,
                    description: Description::parse("description", &spec.sewer.description)?,
                    location: Location::parse("location", &spec.sewer.location)?,
                    done_on: Date::from_naive("done_on", at(period, 12, 10, 0)?.date_in(&tz))?,
                    done_by: Name::parse("done_by", &spec.sewer.done_by)?,
                    cost: Some(Money::parse_positive("cost", &spec.sewer.cost)?),
                    evidence: vec![
                        evidence_hash(&files, "sewer/quote-original.pdf"),
                        evidence_hash(&files, "sewer/invoice.pdf"),
                        evidence_hash(&files, "sewer/photo-after.jpg"),
                    ],
                },
                at(period, 18, 17, 0)?,
            ));
        }
        for (a, d) in store
            .append(&slug, later, at(period, 18, 18, 0)?, &log)
            .await?
            .iter()
            .zip(records_titles(&spec, m))
        {
            records.insert(d, a.seq);
        }
        total += records.len() as u64;

        let mut claims: Vec<(Draft, Vec<&Approver>)> = Vec::new();
        let t_claim = at(period, 20, 9, 0)?;
        let regular: Vec<&Approver> = vec![company[0], committee[m as usize % committee.len()]];
        for c in &spec.monthly_claims {
            let record = c.record.as_ref().and_then(|r| records.get(r)).copied();
            claims.push((
                timed(
                    claim(
                        &files,
                        FundAccount::Operating,
                        c.category.parse()?,
                        &c.payee,
                        pick(&mut rng, &c.min, &c.max)?,
                        &c.purpose,
                        None,
                        record,
                        None,
                    )?,
                    t_claim,
                ),
                regular.clone(),
            ));
        }
        if m > 0 {
            let prev = period
                .prev()
                .ok_or_else(|| DemoError::Fixture("period".into()))?;
            let entitled = store.with_state(&slug, |s| s.entitlement(prev)).await?;
            if entitled > Money::ZERO {
                let purpose = format!("{prev} 物业服务酬金（按当月实收物业费 10% 计提）");
                claims.push((
                    timed(
                        claim(
                            &files,
                            FundAccount::Operating,
                            Category::Remuneration,
                            &spec.company.name,
                            entitled,
                            &purpose,
                            None,
                            None,
                            Some(prev),
                        )?,
                        t_claim,
                    ),
                    regular.clone(),
                ));
            }
        }
        if m == spec.sewer.month {
            let rec = records.get(&spec.sewer.title).copied();
            let quote = Money::parse_positive("quote", &spec.sewer.quote)?;
            claims.push((
                timed(
                    claim(
                        &files,
                        FundAccount::Reserve,
                        Category::Repairs,
                        &spec.sewer.payee,
                        Money::parse_positive("cost", &spec.sewer.cost)?,
                        &spec.sewer.purpose,
                        Some(quote),
                        rec,
                        None,
                    )?,
                    t_claim,
                ),
                vec![company[0], committee[0], committee[2], committee[3]],
            ));
        }
        let rejected_at = if m == spec.rejected.month {
            Some(claims.len())
        } else {
            None
        };
        if rejected_at.is_some() {
            claims.push((
                timed(
                    claim(
                        &files,
                        FundAccount::Operating,
                        Category::Other,
                        &spec.rejected.payee,
                        Money::parse_positive("amount", &spec.rejected.amount)?,
                        &spec.rejected.purpose,
                        None,
                        None,
                        None,
                    )?,
                    t_claim,
                ),
                vec![company[0]],
            ));
        }
        let drafts: Vec<Draft> = claims.iter().map(|(d, _)| d.clone()).collect();
        appended = store.append(&slug, drafts, t_claim, &log).await?;
        total += appended.len() as u64;

        // Approvals on the 26th; the last one of each claim executes it.
        let mut decisions: Vec<Draft> = Vec::new();
        let t_sign = at(period, 26, 15, 0)?;
        for (i, ((_, signers), a)) in claims.iter().zip(&appended).enumerate() {
            for s in signers {
                decisions.push(timed(
                    sign(&spec.origin, a, s, Decision::Approve, None)?,
                    t_sign,
                ));
            }
            if rejected_at == Some(i) {
                let reason = Reason::parse("reason", &spec.rejected.reason)?;
                decisions.push(timed(
                    sign(
                        &spec.origin,
                        a,
                        committee[1],
                        Decision::Reject,
                        Some(reason),
                    )?,
                    t_sign,
                ));
            }
        }
        total += store.append(&slug, decisions, t_sign, &log).await?.len() as u64;
        period = period
            .next()
            .ok_or_else(|| DemoError::Fixture("period".into()))?;
    }

    let last_month = period
        .prev()
        .ok_or_else(|| DemoError::Fixture("period".into()))?;
    total += close_and_witness(
        store,
        &slug,
        &log,
        last_month,
        at(period, 1, 0, 30)?,
        &witnesses,
    )
    .await?;

    // One claim still waiting for the committee, submitted just before now.
    let last = store
        .with_state(&slug, |s| s.last_time())
        .await?
        .unwrap_or(now);
    let t = Timestamp::from_unix((now.unix() - 86_400).max(last.unix()))?;
    let p = &spec.pending;
    let body = claim(
        &files,
        FundAccount::Operating,
        Category::Elevator,
        &p.payee,
        Money::parse_positive("amount", &p.amount)?,
        &p.purpose,
        None,
        None,
        None,
    )?;
    let a = store.append(&slug, vec![timed(body, t)], t, &log).await?;
    total += 1 + store
        .append(
            &slug,
            vec![timed(
                sign(&spec.origin, &a[0], company[0], Decision::Approve, None)?,
                t,
            )],
            t,
            &log,
        )
        .await?
        .len() as u64;

    // Witnesses also cosign the newest checkpoint, so the live log and the
    // full-log bundle are witnessed as well as the statements.
    let size = store.tree_size(&slug).await?;
    witness(store, &slug, size, t, &witnesses).await?;

    let evidence = crate::evidence::EvidenceStore::new(keys.data_dir());
    for bytes in files.borrow().values() {
        evidence
            .put(bytes)
            .map_err(|e| DemoError::Fixture(format!("demo evidence: {e}")))?;
    }

    hold_demo_keys(store, &slug, &spec.origin, &seeds, now).await?;

    Ok(DemoSummary {
        slug,
        entries: total,
        first_month: first,
        last_month: anchor.prev().unwrap_or(anchor),
    })
}

fn pick_habit(rng: &mut ChaCha8Rng, habits: &[Habit]) -> usize {
    let total: u32 = habits.iter().map(|h| h.share).sum();
    let mut roll = rng.gen_range(0..total.max(1));
    for (i, h) in habits.iter().enumerate() {
        if roll < h.share {
            return i;
        }
        roll -= h.share;
    }
    0
}

/// Closes a month and has witnesses cosign the checkpoint that covers the
/// statement, each after the consistency check `Store::cosign` makes.
async fn close_and_witness(
    store: &Store,
    slug: &Slug,
    log: &LogKey,
    period: Period,
    at: Timestamp,
    witnesses: &[&Approver],
) -> Result<u64, DemoError> {
    let statement = store.close_month(slug, period, at, log).await?;
    witness(store, slug, statement.seq + 1, at, witnesses).await?;
    Ok(1)
}

/// Has each witness cosign the checkpoint of `size`, each after the
/// consistency check `Store::cosign` makes.
async fn witness(
    store: &Store,
    slug: &Slug,
    size: u64,
    at: Timestamp,
    witnesses: &[&Approver],
) -> Result<(), DemoError> {
    let cp = store
        .checkpoint_at(slug, size)
        .await?
        .ok_or_else(|| DemoError::Fixture(format!("no checkpoint at {size}")))?;
    let text = Note::parse(&cp.note)
        .map_err(|e| DemoError::Fixture(e.to_string()))?
        .text;
    for (i, w) in witnesses.iter().enumerate() {
        // Witnesses sign within the morning, a few minutes apart.
        let ts = u64::try_from(at.unix()).unwrap_or(0) + 3_600 + 600 * i as u64;
        let sig = cosign_checkpoint(&text, &w.signer, ts)
            .map_err(|e| DemoError::Fixture(e.to_string()))?;
        store.cosign(slug, size, &w.id, &sig, at).await?;
    }
    Ok(())
}

fn timed(body: Body, at: Timestamp) -> Draft {
    Draft {
        body,
        unit: None,
        bank_ref: None,
        at: Some(at),
    }
}

/// The titles of the service records written in month `m`, in order.
fn records_titles(spec: &Spec, m: u32) -> Vec<String> {
    let mut out: Vec<String> = spec
        .service_records
        .iter()
        .enumerate()
        .filter(|(k, _)| !(*k > 0 && (m as usize + k) % 2 == 1))
        .map(|(_, r)| r.title.clone())
        .collect();
    if m == spec.sewer.month {
        out.push(spec.sewer.title.clone());
    }
    out
}

/// The demo's evidence files, made as the entries name them and stored
/// once the log is written.
type DemoFiles = std::cell::RefCell<BTreeMap<Hash, Vec<u8>>>;

/// A one-page PDF standing in for an invoice, photo or contract: it says
/// it is demo evidence and names what it stands for (non-ASCII shown as
/// `?`, since the PDF base fonts have no Chinese).
fn demo_pdf(name: &str) -> Vec<u8> {
    let label: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .filter(|c| !matches!(c, '(' | ')' | '\\'))
        .collect();
    let text = format!(
        "BT /F1 14 Tf 56 760 Td (trustfund demo evidence) Tj 0 -24 Td /F1 10 Tf ({label}) Tj ET"
    );
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = format!("%PDF-1.4\n% trustfund demo evidence: {name}\n").into_bytes();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        table.push_str(&format!("{o:010} 00000 n \n"));
    }
    table.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.extend_from_slice(table.as_bytes());
    out
}

/// The hash an entry names for a demo evidence file, keeping the file.
fn evidence_hash(files: &DemoFiles, name: &str) -> Hash {
    let bytes = demo_pdf(name);
    let d = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let mut h = [0u8; 32];
    h.copy_from_slice(d.as_ref());
    let hash = Hash(h);
    files.borrow_mut().entry(hash).or_insert(bytes);
    hash
}

fn pick(rng: &mut ChaCha8Rng, min: &str, max: &str) -> Result<Money, DemoError> {
    let (lo, hi) = (
        Money::parse_positive("min", min)?.fen(),
        Money::parse_positive("max", max)?.fen(),
    );
    // Whole yuan, as real invoices mostly are.
    let yuan = rng.gen_range(lo / 100..=hi / 100);
    Ok(Money::from_fen(yuan * 100)?)
}

#[allow(clippy::too_many_arguments)]
fn claim(
    files: &DemoFiles,
    account: FundAccount,
    category: Category,
    payee: &str,
    amount: Money,
    purpose: &str,
    quote: Option<Money>,
    service_record: Option<u64>,
    period: Option<Period>,
) -> Result<Body, DemoError> {
    Ok(Body::ClaimSubmitted {
        account,
        category,
        payee: Payee::parse("payee", payee)?,
        amount,
        purpose: Purpose::parse("purpose", purpose)?,
        quote,
        evidence: vec![evidence_hash(files, &format!("claim/{purpose}/{amount}"))],
        service_record,
        period,
        transfer_to: None,
        expires: Timestamp::MIN,
    })
}

/// An approver's signed decision on an appended claim (policy version 1).
fn sign(
    origin: &str,
    claim: &Appended,
    who: &Approver,
    decision: Decision,
    reason: Option<Reason>,
) -> Result<Body, DemoError> {
    let msg = approval_message(origin, claim.seq, &claim.hash, decision, 1);
    let signature = encode_signature(&who.signer.sign_raw(msg.as_bytes()));
    let key = who.signer.verifier_key().format();
    Ok(match (decision, reason) {
        (Decision::Approve, _) => Body::ClaimApproved {
            claim: claim.seq,
            claim_hash: claim.hash,
            policy: 1,
            member: who.id.clone(),
            key,
            signature,
        },
        (Decision::Reject, reason) => Body::ClaimRejected {
            claim: claim.seq,
            claim_hash: claim.hash,
            policy: 1,
            member: who.id.clone(),
            key,
            signature,
            reason: reason.unwrap_or(Reason::parse("reason", "rejected")?),
        },
    })
}
