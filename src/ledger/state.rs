//! The fund's state as a pure function of its entries.
//!
//! [`State::apply`] is the single place that decides whether an entry may
//! follow the log so far: the server calls it before appending, `audit`
//! and `verify` replay the whole log through it. It never does IO, and it
//! changes nothing unless the entry is accepted.

use std::collections::{BTreeMap, BTreeSet};

use super::account::{is_balanced, Account, Category, FundAccount, Posting, Side};
use super::approval::{approval_message, check_approval_signature, policy_message, Decision};
use super::entry::{
    Body, Entry, PolicyApproval, Role, SealedEntry, MAX_APPROVALS, MAX_EVIDENCE,
    MAX_POLICY_APPROVALS, MAX_UNITS_PER_CHARGE,
};
use super::policy::{PolicyRules, Requirement};
use super::statement::{
    category_index, fund_index, funds, source_index, MonthStats, Remuneration, Statement,
};
use crate::domain::{
    Area, BankRefCommitment, EstateTz, MemberId, Money, Period, Rate, Ratio, Slug, Timestamp,
    UnitCommitment,
};
use crate::tlog::note::{VerifierKey, ALG_COSIGNATURE_V1, ALG_ED25519};
use crate::tlog::Hash;

/// Why an entry may not follow the log. `code` is stable for clients; the
/// message says what to do in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {seq} ({kind}): {message}")]
pub struct RuleError {
    pub seq: u64,
    pub kind: &'static str,
    pub code: &'static str,
    pub message: String,
}

/// Where a claim stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimStatus {
    Pending,
    Executed { seq: u64 },
    Rejected { seq: u64 },
    Expired { seq: u64 },
}

/// One approval recorded against a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRecord {
    pub seq: u64,
    pub member: MemberId,
    pub role: Role,
    pub key: VerifierKey,
    pub policy: u32,
}

/// A claim and what has happened to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub seq: u64,
    pub hash: Hash,
    pub account: FundAccount,
    pub category: Category,
    pub amount: Money,
    pub period: Option<Period>,
    pub transfer_to: Option<FundAccount>,
    pub service_record: Option<u64>,
    pub expires: Timestamp,
    pub status: ClaimStatus,
    pub approvals: Vec<ApprovalRecord>,
}

/// An enrolled member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub role: Role,
    /// The key that counts now; `None` once revoked.
    pub key: Option<VerifierKey>,
}

/// What the estate's first entry fixed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EstateInfo {
    pub slug: Slug,
    pub origin: String,
    pub log_key: VerifierKey,
    pub timezone: EstateTz,
    pub fee_rate: Rate,
}

#[derive(Clone, Debug)]
struct Correctable {
    kind: &'static str,
    hash: Hash,
    postings: Vec<Posting>,
    /// The month it was recorded in (always known once the estate exists).
    period: Option<Period>,
    /// For a fee payment: its amount, which counts toward that month's collections.
    fee_paid_fen: i64,
    charged_period: Option<Period>,
}

/// The replayed state of one estate's log.
#[derive(Clone, Debug, Default)]
pub struct State {
    size: u64,
    head: Hash,
    last_time: Option<Timestamp>,
    estate: Option<EstateInfo>,
    members: BTreeMap<MemberId, Member>,
    /// Every public key ever enrolled, so none is reused by another member.
    keys_seen: BTreeSet<[u8; 32]>,
    policy: Option<(u32, PolicyRules)>,
    ratios: Vec<(Period, Ratio)>,
    units: BTreeMap<UnitCommitment, Area>,
    charged: BTreeMap<Period, u64>,
    balances: BTreeMap<Account, i64>,
    collected_fen: BTreeMap<Period, i64>,
    claims: BTreeMap<u64, Claim>,
    /// Service record seq → the claim that paid for it, and whether it was voided.
    service_records: BTreeMap<u64, (Option<u64>, bool)>,
    correctable: BTreeMap<u64, Correctable>,
    corrected: BTreeSet<u64>,
    /// Set by the first charge, payment, income or claim.
    trading: bool,
    /// Figures per month of entry time, kept for statements.
    months: BTreeMap<Period, MonthStats>,
    /// Fees charged and unpaid, over all units (sum of positive receivables).
    arrears_fen: i64,
    /// Every evidence file some entry names: what may be served publicly.
    evidence: BTreeSet<Hash>,
    /// Bank reference commitments of payments → the seq that used each.
    bank_refs: BTreeMap<BankRefCommitment, u64>,
    /// Published statements: month → (seq, statement).
    statements: BTreeMap<Period, (u64, Statement)>,
}

const DAY_SECONDS: i64 = 86_400;

impl State {
    pub fn new() -> State {
        State::default()
    }

    /// Entries applied so far (the tree size).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Hash of the last entry applied (zeros before entry 0).
    pub fn head(&self) -> Hash {
        self.head
    }

    pub fn last_time(&self) -> Option<Timestamp> {
        self.last_time
    }

    pub fn estate(&self) -> Option<&EstateInfo> {
        self.estate.as_ref()
    }

    /// Balance of every account touched so far, as debit minus credit in fen.
    /// Whether an entry of this log names the evidence file.
    pub fn names_evidence(&self, hash: &Hash) -> bool {
        self.evidence.contains(hash)
    }

    pub fn balances(&self) -> &BTreeMap<Account, i64> {
        &self.balances
    }

    pub fn balance_fen(&self, account: &Account) -> i64 {
        self.balances.get(account).copied().unwrap_or(0)
    }

    pub fn claims(&self) -> &BTreeMap<u64, Claim> {
        &self.claims
    }

    pub fn members(&self) -> &BTreeMap<MemberId, Member> {
        &self.members
    }

    pub fn policy(&self) -> Option<&(u32, PolicyRules)> {
        self.policy.as_ref()
    }

    /// Bank reference commitments the log's payments carry, with the seq
    /// of the payment that used each.
    pub fn bank_refs(&self) -> &BTreeMap<BankRefCommitment, u64> {
        &self.bank_refs
    }

    pub fn units(&self) -> &BTreeMap<UnitCommitment, Area> {
        &self.units
    }

    pub fn is_charged(&self, period: Period) -> bool {
        self.charged.contains_key(&period)
    }

    /// Fee income collected in a month (by entry time in the estate's zone).
    pub fn collected(&self, period: Period) -> Money {
        Money::from_fen(self.collected_fen.get(&period).copied().unwrap_or(0))
            .unwrap_or(Money::ZERO)
    }

    /// The remuneration ratio in force for a month (zero before any is set).
    pub fn ratio_for(&self, period: Period) -> Option<Ratio> {
        self.ratios
            .iter()
            .rev()
            .find(|(from, _)| *from <= period)
            .map(|(_, r)| *r)
    }

    /// What the company may take as remuneration for a month: the contract
    /// ratio × fee income collected that month, rounded once, to the fen,
    /// half away from zero.
    pub fn entitlement(&self, period: Period) -> Money {
        match self.ratio_for(period) {
            Some(ratio) => Money::round_fen_half_away_from_zero(
                ratio.as_decimal() * self.collected(period).to_decimal(),
            )
            .unwrap_or(Money::ZERO),
            None => Money::ZERO,
        }
    }

    /// Remuneration already claimed for a month at `at`: paid claims, and
    /// open claims that have not expired by then.
    pub fn remuneration_claimed(&self, period: Period, at: Timestamp) -> Money {
        let fen: i64 = self
            .claims
            .values()
            .filter(|c| c.category == Category::Remuneration && c.period == Some(period))
            .filter(|c| match c.status {
                ClaimStatus::Executed { .. } => true,
                ClaimStatus::Pending => at <= c.expires,
                _ => false,
            })
            .map(|c| c.amount.fen())
            .sum();
        Money::from_fen(fen).unwrap_or(Money::ZERO)
    }

    /// Balances of the three fund accounts, in fen.
    fn fund_fen(&self) -> [i64; 3] {
        let mut out = [0; 3];
        for a in FundAccount::ALL {
            out[fund_index(a)] = self.balance_fen(&Account::Fund(a));
        }
        out
    }

    /// Published statements by month, with the seq of each.
    pub fn statements(&self) -> &BTreeMap<Period, (u64, Statement)> {
        &self.statements
    }

    /// Fees charged and not yet paid, over all units, now.
    pub fn arrears(&self) -> Money {
        Money::from_fen(self.arrears_fen.max(0)).unwrap_or(Money::ZERO)
    }

    /// The month that must be closed next: the one after the last statement,
    /// or the month of entry 0.
    pub fn next_statement_period(&self) -> Option<Period> {
        match self.statements.last_key_value() {
            Some((p, _)) => p.next(),
            None => self.months.first_key_value().map(|(p, _)| *p),
        }
    }

    /// The statement for `period` as the entries so far determine it, if
    /// that month may be closed at `at`.
    pub fn statement_for(
        &self,
        period: Period,
        at: Timestamp,
    ) -> Result<Statement, (&'static str, String)> {
        let info = self.estate.as_ref().ok_or((
            "no_estate",
            "the log has no estate_created entry".to_string(),
        ))?;
        if let Some((seq, _)) = self.statements.get(&period) {
            return Err((
                "already_closed",
                format!("{period} was already closed at seq {seq}"),
            ));
        }
        let expected = self.next_statement_period();
        if expected != Some(period) {
            let next = expected.map(|p| p.to_string()).unwrap_or_default();
            return Err((
                "out_of_order",
                format!("months close in order: {next} must be closed first"),
            ));
        }
        if at.period_in(&info.timezone) <= period {
            return Err((
                "month_not_over",
                format!("{period} cannot be closed before the month is over"),
            ));
        }
        let taken: i64 = self
            .claims
            .values()
            .filter(|c| c.category == Category::Remuneration && c.period == Some(period))
            .filter(|c| matches!(c.status, ClaimStatus::Executed { .. }))
            .map(|c| c.amount.fen())
            .sum();
        let remuneration = Remuneration {
            entitlement: self.entitlement(period),
            taken: Money::from_fen(taken).unwrap_or(Money::ZERO),
        };
        let (from_seq, opening, arrears) = match self.statements.last_key_value() {
            Some((_, (_, st))) => (st.to_seq, st.closing, st.arrears),
            None => (0, funds([0; 3]), Money::ZERO),
        };
        Ok(match self.months.get(&period) {
            Some(month) => {
                if month.from_seq != from_seq {
                    return Err(("bad_range", format!("{period} starts at seq {} but the previous statement ends at {from_seq}", month.from_seq)));
                }
                month.to_statement(period, remuneration)
            }
            // A month without entries: nothing moved.
            None => {
                let mut st = crate::ledger::statement::MonthStats::default()
                    .to_statement(period, remuneration);
                st.from_seq = from_seq;
                st.to_seq = from_seq;
                st.opening = opening;
                st.closing = opening;
                st.arrears = arrears;
                st
            }
        })
    }

    /// Adds an applied entry to its month's figures.
    fn record_month(&mut self, sealed: &SealedEntry, funds_before: [i64; 3]) {
        let e = &sealed.entry;
        let Some(period) = self.period_of(e.time) else {
            return;
        };
        let closing = self.fund_fen();
        let arrears = self.arrears_fen;
        let corrected_kind = match &e.body {
            Body::Correction { corrects, .. } => self.correctable.get(corrects).map(|c| c.kind),
            _ => None,
        };
        let month = self.months.entry(period).or_insert_with(|| MonthStats {
            from_seq: e.seq,
            opening: funds_before,
            ..MonthStats::default()
        });
        month.end_seq = e.seq + 1;
        month.closing = closing;
        month.arrears_end = arrears;
        for p in e.body.postings() {
            let fen = p.amount.fen();
            match (&p.account, p.side) {
                (Account::IncomeFees, Side::Credit) => month.fees_charged += fen,
                (Account::IncomeFees, Side::Debit) => month.rev_fees_charged += fen,
                (Account::IncomePublic(s), Side::Credit) => {
                    month.public_income[source_index(*s)] += fen
                }
                (Account::IncomePublic(_), Side::Debit) => month.rev_public_income += fen,
                (Account::OpeningEquity, Side::Credit) => month.opening_balances += fen,
                (Account::OpeningEquity, Side::Debit) => month.rev_opening_balances += fen,
                (Account::Expense(c), Side::Debit) => month.spending[category_index(*c)] += fen,
                (Account::Receivable(_), Side::Debit) if corrected_kind == Some("fee_paid") => {
                    month.rev_fees_collected += fen
                }
                _ => {}
            }
        }
        if let Body::FeePaid { amount, .. } = &e.body {
            month.fees_collected += amount.fen();
        }
    }

    /// The month an instant falls in, in the estate's time zone.
    pub fn period_of(&self, time: Timestamp) -> Option<Period> {
        self.estate.as_ref().map(|e| time.period_in(&e.timezone))
    }

    /// Fills the fields the rules derive (postings, a claim's expiry), so
    /// that callers only say what happened.
    pub fn prepare(&self, seq: u64, time: Timestamp, body: &mut Body) -> Result<(), RuleError> {
        if let Body::ClaimSubmitted { expires, .. } = body {
            let (_, rules) = self.policy.as_ref().ok_or_else(|| {
                err(
                    seq,
                    "claim_submitted",
                    "no_policy",
                    "the estate has no approval policy yet",
                )
            })?;
            *expires =
                Timestamp::from_unix(time.unix() + i64::from(rules.claim_ttl_days) * DAY_SECONDS)
                    .map_err(|e| err(seq, "claim_submitted", "bad_time", e.message))?;
        }
        if let Body::StatementPublished(st) = body {
            *st = self
                .statement_for(st.period, time)
                .map_err(|(code, m)| err(seq, "statement_published", code, m))?;
        }
        let postings = self.expected_postings(seq, body)?;
        body.set_postings(postings);
        Ok(())
    }

    /// If a pending claim now has the approvals its policy needs, the entry
    /// that executes it (postings still to be prepared).
    pub fn execution_for(&self, claim_seq: u64) -> Option<Body> {
        let claim = self.claims.get(&claim_seq)?;
        if claim.status != ClaimStatus::Pending {
            return None;
        }
        let (version, rules) = self.policy.as_ref()?;
        let counting = self.counting_approvals(claim, *version);
        let need = rules.requirement(claim.account, claim.amount);
        if !meets(&counting, need) {
            return None;
        }
        let approvals = counting.iter().map(|a| a.seq).collect();
        Some(match claim.transfer_to {
            Some(_) => Body::Transfer {
                claim: claim_seq,
                approvals,
                postings: vec![],
            },
            None => Body::DisbursementExecuted {
                claim: claim_seq,
                approvals,
                postings: vec![],
            },
        })
    }

    /// Approvals that still count: under the current policy version, by a
    /// key that is still its member's active key, one per key.
    fn counting_approvals<'a>(&self, claim: &'a Claim, version: u32) -> Vec<&'a ApprovalRecord> {
        let mut seen = BTreeSet::new();
        claim
            .approvals
            .iter()
            .filter(|a| a.policy == version)
            .filter(|a| {
                self.members
                    .get(&a.member)
                    .and_then(|m| m.key.as_ref())
                    .is_some_and(|k| *k == a.key)
            })
            .filter(|a| seen.insert(a.key.public_key))
            .collect()
    }

    /// The postings an entry must carry, derived from its fields and the
    /// state. `apply` refuses an entry whose postings differ.
    pub fn expected_postings(&self, seq: u64, body: &Body) -> Result<Vec<Posting>, RuleError> {
        let kind = body.kind();
        Ok(match body {
            Body::FeesCharged { rate, .. } => {
                let mut postings = Vec::with_capacity(self.units.len() + 1);
                let mut total = Money::ZERO;
                for (unit, area) in &self.units {
                    let amount = area
                        .times_rate(rate)
                        .map_err(|e| err(seq, kind, "bad_amount", e.to_string()))?;
                    if amount == Money::ZERO {
                        continue;
                    }
                    total = total
                        .checked_add(amount)
                        .ok_or_else(|| err(seq, kind, "overflow", "total charge is too large"))?;
                    postings.push(Posting::debit(Account::Receivable(*unit), amount));
                }
                if total != Money::ZERO {
                    postings.push(Posting::credit(Account::IncomeFees, total));
                }
                postings
            }
            Body::FeePaid { unit, amount, .. } => vec![
                Posting::debit(Account::Fund(FundAccount::Operating), *amount),
                Posting::credit(Account::Receivable(*unit), *amount),
            ],
            Body::PublicIncomeReceived { source, amount, .. } => vec![
                Posting::debit(Account::Fund(FundAccount::PublicIncome), *amount),
                Posting::credit(Account::IncomePublic(*source), *amount),
            ],
            Body::OpeningBalance {
                account, amount, ..
            } => vec![
                Posting::debit(Account::Fund(*account), *amount),
                Posting::credit(Account::OpeningEquity, *amount),
            ],
            Body::DisbursementExecuted { claim, .. } | Body::Transfer { claim, .. } => {
                let c = self.claims.get(claim).ok_or_else(|| {
                    err(
                        seq,
                        kind,
                        "unknown_claim",
                        format!("there is no claim at seq {claim}"),
                    )
                })?;
                match c.transfer_to {
                    Some(to) => vec![
                        Posting::debit(Account::Fund(to), c.amount),
                        Posting::credit(Account::Fund(c.account), c.amount),
                    ],
                    None => vec![
                        Posting::debit(Account::Expense(c.category), c.amount),
                        Posting::credit(Account::Fund(c.account), c.amount),
                    ],
                }
            }
            Body::Correction { corrects, .. } => match self.correctable.get(corrects) {
                Some(c) => c.postings.iter().map(Posting::reversed).collect(),
                None => vec![],
            },
            _ => vec![],
        })
    }

    /// Accepts the entry if it may follow the log so far, and updates the
    /// state; otherwise says why and leaves the state untouched.
    pub fn apply(&mut self, sealed: &SealedEntry) -> Result<(), RuleError> {
        let e = &sealed.entry;
        let (seq, kind) = (e.seq, e.body.kind());
        self.check_envelope(e)?;
        let postings = e.body.postings();
        if !is_balanced(postings) {
            return Err(err(
                seq,
                kind,
                "unbalanced",
                "postings are not balanced: debits differ from credits",
            ));
        }
        let expected = self.expected_postings(seq, &e.body)?;
        if postings != expected.as_slice() {
            return Err(err(
                seq,
                kind,
                "wrong_postings",
                "postings do not follow the rules for this kind of entry",
            ));
        }
        // Compute every new fund balance before changing anything.
        let mut new_balances: BTreeMap<Account, i64> = BTreeMap::new();
        for p in postings {
            let cur = new_balances
                .get(&p.account)
                .copied()
                .unwrap_or_else(|| self.balance_fen(&p.account));
            let next = cur
                .checked_add(p.signed_fen())
                .ok_or_else(|| err(seq, kind, "overflow", "balance out of range"))?;
            new_balances.insert(p.account.clone(), next);
        }
        for (account, fen) in &new_balances {
            if account.is_fund() && *fen < 0 {
                let have = Money::from_fen(self.balance_fen(account)).unwrap_or(Money::ZERO);
                return Err(err(
                    seq,
                    kind,
                    "insufficient_funds",
                    format!(
                        "{account} holds ¥{have}, not enough for this entry; it would go negative"
                    ),
                ));
            }
        }
        let funds_before = self.fund_fen();
        let arrears_delta: i64 = new_balances
            .iter()
            .filter(|(a, _)| matches!(a, Account::Receivable(_)))
            .map(|(a, new)| (*new).max(0) - self.balance_fen(a).max(0))
            .sum();
        self.apply_body(sealed)?;
        if matches!(
            e.body,
            Body::FeesCharged { .. }
                | Body::FeePaid { .. }
                | Body::PublicIncomeReceived { .. }
                | Body::ClaimSubmitted { .. }
        ) {
            self.trading = true;
        }
        self.balances.extend(new_balances);
        self.evidence.extend(e.body.evidence().iter().copied());
        self.arrears_fen += arrears_delta;
        self.record_month(sealed, funds_before);
        self.size += 1;
        self.head = sealed.hash;
        self.last_time = Some(e.time);
        Ok(())
    }

    /// A policy change needs, under the policy it replaces, signatures of
    /// [`PolicyRules::committee_to_change`] distinct committee members,
    /// each with their active key, over the policy message.
    fn check_policy_approvals(
        &self,
        origin: &str,
        version: u32,
        rules: &PolicyRules,
        old: &PolicyRules,
        approvals: &[PolicyApproval],
    ) -> Result<(), (&'static str, String)> {
        if approvals.len() > MAX_POLICY_APPROVALS {
            return Err((
                "bad_approvals",
                format!("at most {MAX_POLICY_APPROVALS} approvals"),
            ));
        }
        let message = policy_message(origin, version, rules);
        let mut keys = BTreeSet::new();
        for a in approvals {
            let key = VerifierKey::parse(&a.key).map_err(|e| ("bad_key", format!("key: {e}")))?;
            let member = self
                .members
                .get(&a.member)
                .ok_or_else(|| ("unknown_member", format!("no member {}", a.member)))?;
            if member.role != Role::Committee {
                return Err((
                    "not_allowed",
                    format!("{} is not a committee member", a.member),
                ));
            }
            if member.key.as_ref() != Some(&key) {
                return Err((
                    "revoked_key",
                    format!("that key is not member {}'s active key", a.member),
                ));
            }
            check_approval_signature(&message, &a.signature, &key)
                .map_err(|m| ("bad_signature", format!("{}: {m}", a.member)))?;
            if !keys.insert(key.public_key) {
                return Err((
                    "already_approved",
                    format!("{} signed this change twice", a.member),
                ));
            }
        }
        let need = old.committee_to_change();
        if keys.len() < usize::from(need) {
            return Err((
                "policy_not_met",
                format!(
                    "changing the policy needs {need} committee signatures under version {}; it has {}",
                    version - 1,
                    keys.len()
                ),
            ));
        }
        Ok(())
    }

    fn check_envelope(&self, e: &Entry) -> Result<(), RuleError> {
        let (seq, kind) = (e.seq, e.body.kind());
        if seq != self.size {
            return Err(err(
                seq,
                kind,
                "bad_seq",
                format!("seq must be {}", self.size),
            ));
        }
        if e.prev != self.head {
            return Err(err(
                seq,
                kind,
                "bad_prev",
                "prev is not the hash of the previous entry",
            ));
        }
        if let Some(info) = &self.estate {
            if e.estate != info.slug {
                return Err(err(
                    seq,
                    kind,
                    "wrong_estate",
                    format!("entry names estate {}, log is {}", e.estate, info.slug),
                ));
            }
        }
        if let Some(last) = self.last_time {
            if e.time < last {
                return Err(err(
                    seq,
                    kind,
                    "time_backwards",
                    "time is earlier than the previous entry's",
                ));
            }
        }
        match (&e.body, seq) {
            (Body::EstateCreated { .. }, 0) => Ok(()),
            (Body::EstateCreated { .. }, _) => Err(err(
                seq,
                kind,
                "bad_kind",
                "estate_created may only be entry 0",
            )),
            (_, 0) => Err(err(seq, kind, "bad_kind", "entry 0 must be estate_created")),
            _ => Ok(()),
        }
    }

    fn info(&self, seq: u64, kind: &'static str) -> Result<&EstateInfo, RuleError> {
        self.estate.as_ref().ok_or_else(|| {
            err(
                seq,
                kind,
                "no_estate",
                "the log has no estate_created entry",
            )
        })
    }

    fn apply_body(&mut self, sealed: &SealedEntry) -> Result<(), RuleError> {
        let e = &sealed.entry;
        let (seq, kind) = (e.seq, e.body.kind());
        let fail = |code: &'static str, msg: String| err(seq, kind, code, msg);
        match &e.body {
            Body::EstateCreated {
                origin,
                log_key,
                timezone,
                fee_rate,
                ..
            } => {
                check_origin(origin).map_err(|m| fail("bad_origin", m))?;
                let key = VerifierKey::parse(log_key)
                    .map_err(|x| fail("bad_key", format!("log_key: {x}")))?;
                if key.alg != ALG_ED25519 || key.name != *origin {
                    return Err(fail(
                        "bad_key",
                        "log_key must be an Ed25519 (type 0x01) key named after the origin".into(),
                    ));
                }
                self.estate = Some(EstateInfo {
                    slug: e.estate.clone(),
                    origin: origin.clone(),
                    log_key: key,
                    timezone: *timezone,
                    fee_rate: *fee_rate,
                });
            }
            Body::MemberEnrolled {
                member, role, key, ..
            } => {
                let key =
                    VerifierKey::parse(key).map_err(|x| fail("bad_key", format!("key: {x}")))?;
                if key.alg != ALG_COSIGNATURE_V1 {
                    return Err(fail(
                        "bad_key",
                        "key must be an Ed25519 cosigner key (type 0x04)".into(),
                    ));
                }
                let info = self.info(seq, kind)?;
                let want_name = format!("{}/members/{member}", info.origin);
                if key.name != want_name {
                    return Err(fail(
                        "bad_key",
                        format!("the key must be named {want_name}"),
                    ));
                }
                if member.as_str() == "none" {
                    // `none` is the tlog-policy keyword for "no quorum".
                    return Err(fail("bad_member", "member id none is reserved".into()));
                }
                if self.keys_seen.contains(&key.public_key)
                    || key.public_key == info.log_key.public_key
                {
                    return Err(fail(
                        "key_reused",
                        "this key was enrolled before (or is the log key); each member needs a fresh key".into(),
                    ));
                }
                if let Some(m) = self.members.get(member) {
                    if m.key.is_some() {
                        return Err(fail(
                            "already_enrolled",
                            format!("member {member} already has an active key; revoke it first"),
                        ));
                    }
                    if m.role != *role {
                        return Err(fail(
                            "role_change",
                            format!(
                                "member {member} was enrolled as {}; use a new member id",
                                m.role
                            ),
                        ));
                    }
                }
                self.keys_seen.insert(key.public_key);
                self.members.insert(
                    member.clone(),
                    Member {
                        role: *role,
                        key: Some(key),
                    },
                );
            }
            Body::MemberRevoked { member, key, .. } => {
                let key =
                    VerifierKey::parse(key).map_err(|x| fail("bad_key", format!("key: {x}")))?;
                let m = self
                    .members
                    .get_mut(member)
                    .ok_or_else(|| fail("unknown_member", format!("no member {member}")))?;
                if m.key.as_ref() != Some(&key) {
                    return Err(fail(
                        "not_active",
                        format!("that key is not member {member}'s active key"),
                    ));
                }
                m.key = None;
            }
            Body::PolicySet {
                version,
                rules,
                approvals,
            } => {
                rules.check().map_err(|m| fail("bad_policy", m))?;
                let expected = self.policy.as_ref().map_or(1, |(v, _)| v + 1);
                if *version != expected {
                    return Err(fail(
                        "bad_version",
                        format!("policy version must be {expected}"),
                    ));
                }
                match &self.policy {
                    None if !approvals.is_empty() => {
                        return Err(fail(
                            "bad_approvals",
                            "the first policy carries no approvals".into(),
                        ))
                    }
                    None => {}
                    Some((_, old)) => {
                        let origin = self.info(seq, kind)?.origin.clone();
                        self.check_policy_approvals(&origin, *version, rules, old, approvals)
                            .map_err(|(code, m)| fail(code, m))?;
                    }
                }
                self.policy = Some((*version, rules.clone()));
            }
            Body::RemunerationRatioSet { ratio, from } => {
                let now = self.info(seq, kind)?;
                let period = e.time.period_in(&now.timezone);
                if *from < period {
                    return Err(fail(
                        "retroactive",
                        format!("from must not be before the current month {period}"),
                    ));
                }
                if self.ratios.last().is_some_and(|(f, _)| *from <= *f) {
                    return Err(fail(
                        "bad_period",
                        "from must be later than the previous ratio's".into(),
                    ));
                }
                self.ratios.push((*from, *ratio));
            }
            Body::UnitRegistered { unit, area } => {
                self.info(seq, kind)?;
                if self.units.contains_key(unit) {
                    return Err(fail(
                        "duplicate_unit",
                        "this unit is already registered".into(),
                    ));
                }
                self.units.insert(*unit, *area);
            }
            Body::FeesCharged {
                period,
                rate,
                units,
                postings,
            } => {
                let info = self.info(seq, kind)?;
                if *period > e.time.period_in(&info.timezone) {
                    return Err(fail(
                        "future_period",
                        format!("fees for {period} cannot be charged before that month"),
                    ));
                }
                if *rate != info.fee_rate {
                    return Err(fail(
                        "bad_rate",
                        format!("rate must be the estate's fee rate {}", info.fee_rate),
                    ));
                }
                if self.units.is_empty() || self.units.len() > MAX_UNITS_PER_CHARGE {
                    return Err(fail(
                        "no_units",
                        format!("a charge run needs 1 to {MAX_UNITS_PER_CHARGE} registered units"),
                    ));
                }
                if usize::try_from(*units).ok() != Some(self.units.len()) {
                    return Err(fail(
                        "bad_units",
                        format!("units must be {}", self.units.len()),
                    ));
                }
                if let Some(first) = self.charged.get(period) {
                    return Err(fail(
                        "already_charged",
                        format!("fees for {period} were already charged at seq {first}"),
                    ));
                }
                self.charged.insert(*period, seq);
                self.add_correctable(sealed, Some(*period), 0, postings.clone());
            }
            Body::FeePaid {
                unit,
                amount,
                bank_ref,
                postings,
                ..
            } => {
                self.info(seq, kind)?;
                if !self.units.contains_key(unit) {
                    return Err(fail("unknown_unit", "no such unit is registered".into()));
                }
                positive(*amount).map_err(|m| fail("bad_amount", m))?;
                if let Some(first) = bank_ref.and_then(|c| self.bank_refs.get(&c)) {
                    return Err(fail(
                        "duplicate_bank_ref",
                        format!("this bank reference was already credited at seq {first}"),
                    ));
                }
                let period = e.time.period_in(&self.info(seq, kind)?.timezone);
                *self.collected_fen.entry(period).or_insert(0) += amount.fen();
                self.add_correctable(sealed, None, amount.fen(), postings.clone());
                if let Some(c) = bank_ref {
                    self.bank_refs.insert(*c, seq);
                }
            }
            Body::PublicIncomeReceived {
                amount,
                evidence,
                postings,
                ..
            } => {
                self.info(seq, kind)?;
                positive(*amount).map_err(|m| fail("bad_amount", m))?;
                bounded_evidence(evidence).map_err(|m| fail("too_much_evidence", m))?;
                self.add_correctable(sealed, None, 0, postings.clone());
            }
            Body::OpeningBalance {
                amount, postings, ..
            } => {
                self.info(seq, kind)?;
                positive(*amount).map_err(|m| fail("bad_amount", m))?;
                if self.trading {
                    return Err(fail(
                        "too_late",
                        "opening balances come before the first charge, payment, income or claim"
                            .into(),
                    ));
                }
                self.add_correctable(sealed, None, 0, postings.clone());
            }
            Body::ClaimSubmitted {
                account,
                category,
                amount,
                quote,
                evidence,
                service_record,
                period,
                transfer_to,
                expires,
                ..
            } => {
                let info = self.info(seq, kind)?;
                let now_period = e.time.period_in(&info.timezone);
                positive(*amount).map_err(|m| fail("bad_amount", m))?;
                if let Some(q) = quote {
                    positive(*q).map_err(|m| fail("bad_quote", format!("quote: {m}")))?;
                }
                bounded_evidence(evidence).map_err(|m| fail("too_much_evidence", m))?;
                let (_, rules) = self.policy.as_ref().ok_or_else(|| {
                    fail("no_policy", "the estate has no approval policy yet".into())
                })?;
                let want_expiry = e.time.unix() + i64::from(rules.claim_ttl_days) * DAY_SECONDS;
                if expires.unix() != want_expiry {
                    return Err(fail(
                        "bad_expiry",
                        format!("expires must be {} days after time", rules.claim_ttl_days),
                    ));
                }
                if let Some(to) = transfer_to {
                    if to == account {
                        return Err(fail(
                            "bad_transfer",
                            "transfer_to must differ from account".into(),
                        ));
                    }
                    if *category == Category::Remuneration {
                        return Err(fail(
                            "bad_transfer",
                            "a transfer cannot be remuneration".into(),
                        ));
                    }
                }
                match (category, period) {
                    (Category::Remuneration, Some(p)) => {
                        if *account != FundAccount::Operating {
                            return Err(fail(
                                "bad_account",
                                "remuneration is paid from the operating account".into(),
                            ));
                        }
                        if *p > now_period {
                            return Err(fail(
                                "future_period",
                                format!("remuneration for {p} cannot be claimed before that month"),
                            ));
                        }
                        let entitled = self.entitlement(*p);
                        let claimed = self.remuneration_claimed(*p, e.time);
                        let left = entitled.checked_sub(claimed).unwrap_or(Money::ZERO);
                        if *amount > left {
                            return Err(fail(
                                "above_entitlement",
                                format!("remuneration for {p} is limited to ¥{entitled}; ¥{claimed} is already claimed, so at most ¥{left} remains"),
                            ));
                        }
                    }
                    (Category::Remuneration, None) => {
                        return Err(fail(
                            "missing_period",
                            "a remuneration claim must name the month it is for".into(),
                        ))
                    }
                    (_, Some(_)) => {
                        return Err(fail(
                            "unexpected_period",
                            "only remuneration claims name a period".into(),
                        ))
                    }
                    (_, None) => {}
                }
                if let Some(rec) = service_record {
                    match self.service_records.get(rec) {
                        None => {
                            return Err(fail(
                                "unknown_record",
                                format!("there is no service record at seq {rec}"),
                            ))
                        }
                        Some((_, true)) => {
                            return Err(fail(
                                "voided_record",
                                format!("service record {rec} was corrected away"),
                            ))
                        }
                        Some((Some(c), _)) => {
                            return Err(fail(
                                "record_paid",
                                format!("service record {rec} is already linked to claim {c}"),
                            ))
                        }
                        Some((None, false)) => {}
                    }
                }
                if let Some(rec) = service_record {
                    self.service_records.insert(*rec, (Some(seq), false));
                }
                self.claims.insert(
                    seq,
                    Claim {
                        seq,
                        hash: sealed.hash,
                        account: *account,
                        category: *category,
                        amount: *amount,
                        period: *period,
                        transfer_to: *transfer_to,
                        service_record: *service_record,
                        expires: *expires,
                        status: ClaimStatus::Pending,
                        approvals: vec![],
                    },
                );
            }
            Body::ClaimApproved {
                claim,
                claim_hash,
                policy,
                member,
                key,
                signature,
            } => {
                let (role, vkey) = self.check_decision(
                    e,
                    *claim,
                    claim_hash,
                    *policy,
                    member,
                    key,
                    signature,
                    Decision::Approve,
                )?;
                if role == Role::Community {
                    return Err(fail(
                        "not_allowed",
                        "community observers witness statements; they do not approve payments"
                            .into(),
                    ));
                }
                let c = self
                    .claims
                    .get_mut(claim)
                    .ok_or_else(|| fail("unknown_claim", format!("no claim {claim}")))?;
                if c.approvals
                    .iter()
                    .any(|a| a.key == vkey && a.policy == *policy)
                {
                    return Err(fail(
                        "already_approved",
                        format!("member {member} already approved claim {claim} with this key"),
                    ));
                }
                c.approvals.push(ApprovalRecord {
                    seq,
                    member: member.clone(),
                    role,
                    key: vkey,
                    policy: *policy,
                });
            }
            Body::ClaimRejected {
                claim,
                claim_hash,
                policy,
                member,
                key,
                signature,
                ..
            } => {
                let (role, _) = self.check_decision(
                    e,
                    *claim,
                    claim_hash,
                    *policy,
                    member,
                    key,
                    signature,
                    Decision::Reject,
                )?;
                if role != Role::Committee {
                    return Err(fail(
                        "not_allowed",
                        "only committee members reject claims".into(),
                    ));
                }
                self.close_claim(*claim, ClaimStatus::Rejected { seq });
            }
            Body::ClaimExpired { claim } => {
                let c = self.pending_claim(seq, kind, *claim)?;
                if e.time <= c.expires {
                    return Err(fail(
                        "not_expired",
                        format!("claim {claim} is open until {}", c.expires),
                    ));
                }
                self.close_claim(*claim, ClaimStatus::Expired { seq });
            }
            Body::DisbursementExecuted {
                claim, approvals, ..
            }
            | Body::Transfer {
                claim, approvals, ..
            } => {
                let c = self.pending_claim(seq, kind, *claim)?;
                if c.transfer_to.is_some() != matches!(e.body, Body::Transfer { .. }) {
                    return Err(fail(
                        "bad_kind",
                        "a transfer claim executes as transfer, any other as disbursement_executed"
                            .into(),
                    ));
                }
                if e.time > c.expires {
                    return Err(fail(
                        "expired",
                        format!("claim {claim} expired at {}", c.expires),
                    ));
                }
                if approvals.is_empty() || approvals.len() > MAX_APPROVALS {
                    return Err(fail(
                        "bad_approvals",
                        format!("list 1 to {MAX_APPROVALS} approvals"),
                    ));
                }
                let (version, rules) = self
                    .policy
                    .as_ref()
                    .ok_or_else(|| fail("no_policy", "no policy".into()))?;
                let counting = self.counting_approvals(c, *version);
                let mut listed = Vec::with_capacity(approvals.len());
                for a in approvals {
                    let rec = counting.iter().find(|r| r.seq == *a).ok_or_else(|| {
                        fail("bad_approvals", format!("seq {a} is not an approval of claim {claim} that still counts (wrong claim, older policy, revoked key or a key already counted)"))
                    })?;
                    if listed.iter().any(|r: &&ApprovalRecord| r.seq == *a) {
                        return Err(fail(
                            "bad_approvals",
                            format!("approval {a} is listed twice"),
                        ));
                    }
                    listed.push(*rec);
                }
                let need = rules.requirement(c.account, c.amount);
                if !meets(&listed, need) {
                    return Err(fail(
                        "policy_not_met",
                        format!(
                            "policy {version} needs {} company, {} committee and {} community signatures for this claim",
                            need.company, need.committee, need.community
                        ),
                    ));
                }
                self.close_claim(*claim, ClaimStatus::Executed { seq });
            }
            Body::ServiceRecord { evidence, cost, .. } => {
                self.info(seq, kind)?;
                if let Some(c) = cost {
                    positive(*c).map_err(|m| fail("bad_cost", format!("cost: {m}")))?;
                }
                bounded_evidence(evidence).map_err(|m| fail("too_much_evidence", m))?;
                self.service_records.insert(seq, (None, false));
                let period = self.period_of(e.time);
                self.correctable.insert(
                    seq,
                    Correctable {
                        kind,
                        hash: sealed.hash,
                        postings: vec![],
                        period,
                        fee_paid_fen: 0,
                        charged_period: None,
                    },
                );
            }
            Body::StatementPublished(st) => {
                let want = self
                    .statement_for(st.period, e.time)
                    .map_err(|(code, m)| fail(code, m))?;
                if *st != want {
                    let field = st.first_difference(&want).unwrap_or("figures");
                    return Err(fail(
                        "wrong_figures",
                        format!(
                            "statement for {}: {field} does not match what the entries add up to",
                            st.period
                        ),
                    ));
                }
                self.statements.insert(st.period, (seq, st.clone()));
            }
            Body::Correction {
                corrects,
                corrects_hash,
                ..
            } => {
                if self.corrected.contains(corrects) {
                    return Err(fail(
                        "already_corrected",
                        format!("entry {corrects} was already corrected"),
                    ));
                }
                let target = self.correctable.get(corrects).ok_or_else(|| {
                    fail("not_correctable", format!("entry {corrects} does not exist or cannot be corrected (claims, approvals and members have their own ways to be undone)"))
                })?;
                if target.hash != *corrects_hash {
                    return Err(fail(
                        "bad_hash",
                        format!("corrects_hash is not the hash of entry {corrects}"),
                    ));
                }
                if target.kind == "service_record"
                    && self
                        .service_records
                        .get(corrects)
                        .is_some_and(|(c, _)| c.is_some())
                {
                    return Err(fail(
                        "record_paid",
                        format!("service record {corrects} is linked to a claim"),
                    ));
                }
                let (fee_fen, period, charged, tkind) = (
                    target.fee_paid_fen,
                    target.period,
                    target.charged_period,
                    target.kind,
                );
                if let (true, Some(period)) = (fee_fen > 0, period) {
                    // Remuneration already taken for that month must stay
                    // within the entitlement the corrected collections give.
                    let after = Money::from_fen(self.collected(period).fen() - fee_fen)
                        .unwrap_or(Money::ZERO);
                    let entitled = match self.ratio_for(period) {
                        Some(r) => Money::round_fen_half_away_from_zero(
                            r.as_decimal() * after.to_decimal(),
                        )
                        .unwrap_or(Money::ZERO),
                        None => Money::ZERO,
                    };
                    let claimed = self.remuneration_claimed(period, e.time);
                    if claimed > entitled {
                        return Err(fail(
                            "remuneration_exceeded",
                            format!("after this correction the remuneration entitlement for {period} would be ¥{entitled}, below the ¥{claimed} already claimed; settle the remuneration claim first"),
                        ));
                    }
                    *self.collected_fen.entry(period).or_insert(0) -= fee_fen;
                }
                if let Some(p) = charged {
                    self.charged.remove(&p);
                }
                if tkind == "service_record" {
                    self.service_records.insert(*corrects, (None, true));
                }
                self.corrected.insert(*corrects);
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn check_decision(
        &self,
        e: &Entry,
        claim: u64,
        claim_hash: &Hash,
        policy: u32,
        member: &MemberId,
        key: &str,
        signature: &str,
        decision: Decision,
    ) -> Result<(Role, VerifierKey), RuleError> {
        let (seq, kind) = (e.seq, e.body.kind());
        let fail = |code: &'static str, msg: String| err(seq, kind, code, msg);
        let info = self.info(seq, kind)?;
        let c = self.pending_claim(seq, kind, claim)?;
        if c.hash != *claim_hash {
            return Err(fail("wrong_claim", format!("claim_hash is not the hash of claim {claim}; the signature was made for something else")));
        }
        if e.time > c.expires {
            return Err(fail(
                "expired",
                format!("claim {claim} expired at {}", c.expires),
            ));
        }
        let (version, _) = self
            .policy
            .as_ref()
            .ok_or_else(|| fail("no_policy", "no policy".into()))?;
        if policy != *version {
            return Err(fail(
                "old_policy",
                format!("signed under policy {policy}; the policy in force is {version}"),
            ));
        }
        let vkey = VerifierKey::parse(key).map_err(|x| fail("bad_key", format!("key: {x}")))?;
        let m = self
            .members
            .get(member)
            .ok_or_else(|| fail("unknown_member", format!("no member {member}")))?;
        if m.key.as_ref() != Some(&vkey) {
            return Err(fail("revoked_key", format!("that key is not member {member}'s active key (revoked, rotated or never enrolled)")));
        }
        let msg = approval_message(&info.origin, claim, claim_hash, decision, policy);
        check_approval_signature(&msg, signature, &vkey).map_err(|m| fail("bad_signature", m))?;
        Ok((m.role, vkey))
    }

    fn pending_claim(&self, seq: u64, kind: &'static str, claim: u64) -> Result<&Claim, RuleError> {
        let c = self.claims.get(&claim).ok_or_else(|| {
            err(
                seq,
                kind,
                "unknown_claim",
                format!("there is no claim at seq {claim}"),
            )
        })?;
        match c.status {
            ClaimStatus::Pending => Ok(c),
            ClaimStatus::Executed { seq: s } => Err(err(
                seq,
                kind,
                "claim_closed",
                format!("claim {claim} was already paid at seq {s}"),
            )),
            ClaimStatus::Rejected { seq: s } => Err(err(
                seq,
                kind,
                "claim_closed",
                format!("claim {claim} was rejected at seq {s}"),
            )),
            ClaimStatus::Expired { seq: s } => Err(err(
                seq,
                kind,
                "claim_closed",
                format!("claim {claim} expired at seq {s}"),
            )),
        }
    }

    fn close_claim(&mut self, claim: u64, status: ClaimStatus) {
        if let Some(c) = self.claims.get_mut(&claim) {
            c.status = status;
            if let (ClaimStatus::Rejected { .. } | ClaimStatus::Expired { .. }, Some(rec)) =
                (status, c.service_record)
            {
                // The work is still on record; another claim may pay for it.
                self.service_records.insert(rec, (None, false));
            }
        }
    }

    fn add_correctable(
        &mut self,
        sealed: &SealedEntry,
        charged: Option<Period>,
        fee_paid_fen: i64,
        postings: Vec<Posting>,
    ) {
        let e = &sealed.entry;
        let period = self.period_of(e.time);
        self.correctable.insert(
            e.seq,
            Correctable {
                kind: e.body.kind(),
                hash: sealed.hash,
                postings,
                period,
                fee_paid_fen,
                charged_period: charged,
            },
        );
    }
}

fn meets(approvals: &[&ApprovalRecord], need: Requirement) -> bool {
    let count = |role| approvals.iter().filter(|a| a.role == role).count();
    count(Role::Company) >= usize::from(need.company)
        && count(Role::Committee) >= usize::from(need.committee)
        && count(Role::Community) >= usize::from(need.community)
}

fn err(seq: u64, kind: &'static str, code: &'static str, message: impl Into<String>) -> RuleError {
    RuleError {
        seq,
        kind,
        code,
        message: message.into(),
    }
}

fn positive(m: Money) -> Result<(), String> {
    if m == Money::ZERO {
        Err("amount must be greater than zero".into())
    } else {
        Ok(())
    }
}

fn bounded_evidence(evidence: &[Hash]) -> Result<(), String> {
    if evidence.len() > MAX_EVIDENCE {
        return Err(format!("at most {MAX_EVIDENCE} evidence files"));
    }
    let distinct: BTreeSet<_> = evidence.iter().collect();
    if distinct.len() != evidence.len() {
        return Err("an evidence file is listed twice".into());
    }
    Ok(())
}

/// Longest origin accepted: it is a line of every checkpoint.
pub const MAX_ORIGIN_LEN: usize = 200;

/// A log origin per C2SP tlog-checkpoint, restricted to printable ASCII so
/// that it reads the same everywhere.
pub fn check_origin(origin: &str) -> Result<(), String> {
    if origin.is_empty() || origin.len() > MAX_ORIGIN_LEN {
        return Err(format!("origin must be 1 to {MAX_ORIGIN_LEN} characters"));
    }
    if !origin.bytes().all(|b| b.is_ascii_graphic() && b != b'+') {
        return Err("origin must be printable ASCII without spaces or '+', like trustfund.example/estates/dongfang".into());
    }
    Ok(())
}
