//! `trustfund audit`: re-verify an estate's stored log from scratch.
//!
//! Nothing stored is trusted: every entry is re-parsed and re-hashed, the
//! chain and the rules are replayed, every tree node and checkpoint is
//! recomputed, the derived tables (postings, balances, monthly totals) and
//! the private units table are compared with what the entries say, and
//! every append-only trigger must still be in place.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::Row;

use super::{from_db, to_db, Result, Store};
use crate::domain::{BankRef, BankRefCommitment, Slug, UnitCommitment, UnitId, UnitSecret};
use crate::ledger::{Body, SealedEntry, Side, State};
use crate::tlog::checkpoint::open_checkpoint;
use crate::tlog::tree::{self, NodeId};
use crate::tlog::Hash;

/// Entries checked per query.
const AUDIT_PAGE: i64 = 5_000;

/// Which stored data an audit failure concerns. Pages name it in the
/// reader's language; the detail (`AuditFailure::what`) is English, for
/// operators and the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    /// An entry is missing, edited, or breaks a ledger rule.
    Entries,
    Postings,
    TreeNodes,
    Balances,
    MonthlyTotals,
    Checkpoints,
    /// The private units table disagrees with the log's commitments.
    Units,
    /// The private bank_refs table disagrees with the log.
    BankRefs,
    /// An append-only trigger is missing.
    Triggers,
    /// Found outside a full audit (e.g. while catching up with the log).
    Other,
}

impl FailureClass {
    /// Every class, in the order the texts tables list them.
    pub const ALL: [FailureClass; 10] = [
        FailureClass::Entries,
        FailureClass::Postings,
        FailureClass::TreeNodes,
        FailureClass::Balances,
        FailureClass::MonthlyTotals,
        FailureClass::Checkpoints,
        FailureClass::Units,
        FailureClass::BankRefs,
        FailureClass::Triggers,
        FailureClass::Other,
    ];

    /// A stable machine name, for headers and JSON.
    pub fn code(self) -> &'static str {
        match self {
            FailureClass::Entries => "entries",
            FailureClass::Postings => "postings",
            FailureClass::TreeNodes => "tree_nodes",
            FailureClass::Balances => "balances",
            FailureClass::MonthlyTotals => "monthly_totals",
            FailureClass::Checkpoints => "checkpoints",
            FailureClass::Units => "units",
            FailureClass::BankRefs => "bank_refs",
            FailureClass::Triggers => "triggers",
            FailureClass::Other => "other",
        }
    }
}

/// The first thing found wrong, with the entry it concerns when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFailure {
    pub seq: Option<u64>,
    pub class: FailureClass,
    pub what: String,
}

impl std::fmt::Display for AuditFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "seq {seq}: {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

/// What an audit of one estate found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    pub estate: String,
    pub entries: u64,
    pub checkpoints: u64,
    pub root: Option<Hash>,
    pub failure: Option<AuditFailure>,
}

fn fail(seq: Option<u64>, class: FailureClass, what: impl Into<String>) -> AuditFailure {
    AuditFailure {
        seq,
        class,
        what: what.into(),
    }
}

impl Store {
    /// Audits every estate; estates that fail are frozen.
    pub async fn audit_all(&self) -> Result<Vec<AuditReport>> {
        let mut reports = Vec::new();
        for estate in self.list_estates().await? {
            let slug = Slug::parse("estate", &estate.slug).map_err(|e| {
                super::StoreError::Integrity(format!("estate slug {:?}: {e}", estate.slug))
            })?;
            reports.push(self.audit(&slug).await?);
        }
        Ok(reports)
    }

    /// Audits one estate. Database errors are errors; anything wrong with
    /// the data is a report with a `failure`, and freezes the estate.
    pub async fn audit(&self, slug: &Slug) -> Result<AuditReport> {
        let mut report = AuditReport {
            estate: slug.to_string(),
            entries: 0,
            checkpoints: 0,
            root: None,
            failure: None,
        };
        let mut nodes = HashMap::new();
        let outcome = self.audit_inner(slug, &mut report, &mut nodes).await?;
        if let Err(f) = outcome {
            self.freeze_failure(slug.as_str(), f.clone());
            report.failure = Some(f);
        }
        Ok(report)
    }

    async fn audit_inner(
        &self,
        slug: &Slug,
        report: &mut AuditReport,
        nodes: &mut HashMap<NodeId, Hash>,
    ) -> Result<std::result::Result<(), AuditFailure>> {
        let mut state = State::new();
        // Debits, credits and the last seq that posted, per (month, account).
        let mut monthly: BTreeMap<(String, String), (i64, i64, u64)> = BTreeMap::new();
        // Every unit_registered entry: commitment -> (seq, area).
        let mut registered: BTreeMap<UnitCommitment, (u64, String)> = BTreeMap::new();
        // Payments written before FORMAT.md revision 4, whose bank
        // reference (if any) the log does not commit to.
        let mut uncommitted_payments: BTreeSet<u64> = BTreeSet::new();
        loop {
            let start = state.size();
            let rows = sqlx::query(
                "SELECT seq, kind, time, period, hash, prev, body FROM entries WHERE estate = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
            )
            .bind(slug.as_str())
            .bind(to_db(start)?)
            .bind(AUDIT_PAGE)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            let end = start + rows.len() as u64;
            let mut postings = self.stored_postings(slug, start, end).await?;
            for row in rows {
                let seq = from_db(row.try_get(0)?)?;
                let kind: String = row.try_get(1)?;
                let time: String = row.try_get(2)?;
                let period: String = row.try_get(3)?;
                let hash: Vec<u8> = row.try_get(4)?;
                let prev: Vec<u8> = row.try_get(5)?;
                let body: String = row.try_get(6)?;
                if seq != state.size() {
                    return Ok(Err(fail(
                        Some(state.size()),
                        FailureClass::Entries,
                        "entry is missing (seq numbers are not contiguous)",
                    )));
                }
                let sealed = match SealedEntry::from_bytes(&body) {
                    Ok(s) => s,
                    Err(e) => {
                        return Ok(Err(fail(
                            Some(seq),
                            FailureClass::Entries,
                            format!("stored bytes do not parse: {e}"),
                        )))
                    }
                };
                if sealed.hash.0.as_slice() != hash.as_slice() {
                    return Ok(Err(fail(
                        Some(seq),
                        FailureClass::Entries,
                        "stored bytes do not hash to the stored hash (the entry was edited)",
                    )));
                }
                if sealed.entry.prev.0.as_slice() != prev.as_slice() {
                    return Ok(Err(fail(
                        Some(seq),
                        FailureClass::Entries,
                        "stored prev column differs from the entry's prev",
                    )));
                }
                if sealed.entry.seq != seq
                    || sealed.entry.body.kind() != kind
                    || sealed.entry.time.to_string() != time
                {
                    return Ok(Err(fail(
                        Some(seq),
                        FailureClass::Entries,
                        "stored seq, kind or time columns differ from the entry",
                    )));
                }
                match &sealed.entry.body {
                    Body::UnitRegistered { unit, area } => {
                        registered.insert(*unit, (seq, area.to_string()));
                    }
                    Body::FeePaid { bank_ref: None, .. } => {
                        uncommitted_payments.insert(seq);
                    }
                    _ => {}
                }
                if let Err(e) = state.apply(&sealed) {
                    return Ok(Err(fail(Some(seq), FailureClass::Entries, e.to_string())));
                }
                if state.period_of(sealed.entry.time).map(|p| p.to_string()) != Some(period.clone())
                {
                    return Ok(Err(fail(
                        Some(seq),
                        FailureClass::Entries,
                        "stored period column differs from the entry's month",
                    )));
                }
                let want: Vec<(String, i64, i64)> = sealed
                    .entry
                    .body
                    .postings()
                    .iter()
                    .map(|p| match p.side {
                        Side::Debit => (p.account.to_string(), p.amount.fen(), 0),
                        Side::Credit => (p.account.to_string(), 0, p.amount.fen()),
                    })
                    .collect();
                if postings.remove(&seq).unwrap_or_default() != want {
                    return Ok(Err(fail(
                        Some(seq),
                        FailureClass::Postings,
                        "stored postings differ from the entry's postings",
                    )));
                }
                for (account, d, c) in want {
                    let t = monthly
                        .entry((period.clone(), account))
                        .or_insert((0, 0, seq));
                    t.0 += d;
                    t.1 += c;
                    t.2 = seq;
                }
                for (id, h) in
                    tree::append(seq, sealed.hash, &*nodes).map_err(super::StoreError::Tlog)?
                {
                    nodes.insert(id, h);
                }
                report.entries += 1;
            }
            if let Some(seq) = postings.keys().next() {
                return Ok(Err(fail(
                    Some(*seq),
                    FailureClass::Postings,
                    "postings are stored for an entry that has none",
                )));
            }
        }
        let size = state.size();
        if size > 0 {
            report.root = Some(tree::tree_hash(size, &*nodes)?);
        }
        if let Err(f) = self.audit_tree(slug, nodes).await? {
            return Ok(Err(f));
        }
        if let Err(f) = self.audit_derived(slug, &state, &monthly).await? {
            return Ok(Err(f));
        }
        if let Err(f) = self.audit_units(slug, &registered).await? {
            return Ok(Err(f));
        }
        if let Err(f) = self
            .audit_bank_refs(slug, state.bank_refs(), &uncommitted_payments)
            .await?
        {
            return Ok(Err(f));
        }
        if let Err(f) = self.audit_checkpoints(slug, &state, nodes, report).await? {
            return Ok(Err(f));
        }
        self.audit_guards().await
    }

    /// Every append-only trigger must be in place: without them the
    /// tables this audit trusts to stay put can be rewritten in silence.
    async fn audit_guards(&self) -> Result<std::result::Result<(), AuditFailure>> {
        Ok(match self.check_guards().await?.first() {
            Some(p) => Err(fail(
                None,
                FailureClass::Triggers,
                format!("{p}; `trustfund audit --restore-triggers` puts it back"),
            )),
            None => Ok(()),
        })
    }

    /// Stored postings for seqs `start..end`, grouped by seq in order.
    async fn stored_postings(
        &self,
        slug: &Slug,
        start: u64,
        end: u64,
    ) -> Result<BTreeMap<u64, Vec<(String, i64, i64)>>> {
        let rows = sqlx::query(
            "SELECT seq, account, debit_fen, credit_fen FROM postings WHERE estate = $1 AND seq >= $2 AND seq < $3 ORDER BY seq, n",
        )
        .bind(slug.as_str())
        .bind(to_db(start)?)
        .bind(to_db(end)?)
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<u64, Vec<(String, i64, i64)>> = BTreeMap::new();
        for r in rows {
            out.entry(from_db(r.try_get(0)?)?).or_default().push((
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
            ));
        }
        Ok(out)
    }

    /// Every stored tree node must be exactly the recomputed one.
    async fn audit_tree(
        &self,
        slug: &Slug,
        nodes: &HashMap<NodeId, Hash>,
    ) -> Result<std::result::Result<(), AuditFailure>> {
        let rows = sqlx::query("SELECT level, idx, hash FROM tree_nodes WHERE estate = $1")
            .bind(slug.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut first_bad: Option<(u64, String)> = None;
        let mut seen = std::collections::HashSet::new();
        for r in rows {
            let level: i64 = r.try_get(0)?;
            let idx = from_db(r.try_get(1)?)?;
            let hash: Vec<u8> = r.try_get(2)?;
            let id = u8::try_from(level)
                .ok()
                .map(|level| NodeId { level, index: idx });
            let ok = id
                .and_then(|id| nodes.get(&id))
                .is_some_and(|h| h.0.as_slice() == hash.as_slice());
            if let Some(id) = id {
                seen.insert(id);
            }
            if !ok {
                let first_leaf = idx
                    .checked_shl(u32::try_from(level).unwrap_or(63))
                    .unwrap_or(u64::MAX);
                if first_bad.as_ref().is_none_or(|(s, _)| first_leaf < *s) {
                    first_bad = Some((
                        first_leaf,
                        format!(
                            "stored tree node level {level} index {idx} does not match the entries"
                        ),
                    ));
                }
            }
        }
        if let Some((seq, what)) = first_bad {
            return Ok(Err(fail(Some(seq), FailureClass::TreeNodes, what)));
        }
        // Every stored node matched, so any difference is a missing one:
        // named by the first leaf under it.
        let missing = nodes
            .keys()
            .filter(|id| !seen.contains(*id))
            .min_by_key(|id| {
                id.index
                    .checked_shl(u32::from(id.level))
                    .unwrap_or(u64::MAX)
            });
        if let Some(id) = missing {
            return Ok(Err(fail(
                Some(
                    id.index
                        .checked_shl(u32::from(id.level))
                        .unwrap_or(u64::MAX),
                ),
                FailureClass::TreeNodes,
                format!(
                    "tree node level {} index {} is missing ({} stored, {} expected)",
                    id.level,
                    id.index,
                    seen.len(),
                    nodes.len()
                ),
            )));
        }
        Ok(Ok(()))
    }

    /// Balances and monthly totals must equal what the entries add up to.
    /// A stored total says nothing of which posting it went wrong at, so a
    /// wrong one is named by the last entry that posted to it (the total
    /// must hold from there on); a row for which nothing posted at all, by
    /// the log's last entry. Of several, the earliest is named.
    async fn audit_derived(
        &self,
        slug: &Slug,
        state: &State,
        monthly: &BTreeMap<(String, String), (i64, i64, u64)>,
    ) -> Result<std::result::Result<(), AuditFailure>> {
        let head = state.size().checked_sub(1);
        // Balances: the last seq posting to each account comes from the
        // monthly map (its latest month holds it).
        let mut last_seq: BTreeMap<&str, u64> = BTreeMap::new();
        for ((_, account), (_, _, seq)) in monthly {
            let s = last_seq.entry(account.as_str()).or_insert(*seq);
            *s = (*s).max(*seq);
        }
        let stored: BTreeMap<String, i64> = self.balances(slug).await?.into_iter().collect();
        let replayed: BTreeMap<String, i64> = state
            .balances()
            .iter()
            .map(|(a, b)| (a.to_string(), *b))
            .collect();
        let mut first_bad: Option<(Option<u64>, String)> = None;
        let mut keep = |seq: Option<u64>, account: &str| {
            if first_bad
                .as_ref()
                .is_none_or(|(s, _)| seq.unwrap_or(u64::MAX) < s.unwrap_or(u64::MAX))
            {
                first_bad = Some((seq, account.to_string()));
            }
        };
        for account in replayed.keys().chain(stored.keys()) {
            if stored.get(account) != replayed.get(account) {
                keep(last_seq.get(account.as_str()).copied().or(head), account);
            }
        }
        if let Some((seq, account)) = first_bad {
            return Ok(Err(fail(
                seq,
                FailureClass::Balances,
                format!("stored balance of {account} differs from the sum of its postings"),
            )));
        }
        let rows = sqlx::query(
            "SELECT period, account, debit_fen, credit_fen FROM monthly_totals WHERE estate = $1",
        )
        .bind(slug.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut stored_monthly: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
        for r in rows {
            stored_monthly.insert(
                (r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?),
                (r.try_get(2)?, r.try_get(3)?),
            );
        }
        let mut first_bad: Option<(Option<u64>, &(String, String))> = None;
        for key in monthly.keys().chain(stored_monthly.keys()) {
            let want = monthly.get(key).map(|(d, c, _)| (*d, *c));
            if stored_monthly.get(key).copied() != want {
                let seq = monthly.get(key).map(|(_, _, s)| *s).or(head);
                if first_bad
                    .as_ref()
                    .is_none_or(|(s, _)| seq.unwrap_or(u64::MAX) < s.unwrap_or(u64::MAX))
                {
                    first_bad = Some((seq, key));
                }
            }
        }
        if let Some((seq, (period, account))) = first_bad {
            return Ok(Err(fail(
                seq,
                FailureClass::MonthlyTotals,
                format!("stored monthly total of {account} for {period} differs from its postings"),
            )));
        }
        Ok(Ok(()))
    }

    /// The private units table must say exactly what the log's commitments
    /// say: each row's commitment recomputes from its unit name and secret
    /// (FORMAT.md §9) and is the one its unit_registered entry published,
    /// with that entry's area and seq, and every registered unit has its
    /// row. A row swapped with another would make a payment typed for one
    /// unit carry the other's commitment; the first bad entry is named.
    async fn audit_units(
        &self,
        slug: &Slug,
        registered: &BTreeMap<UnitCommitment, (u64, String)>,
    ) -> Result<std::result::Result<(), AuditFailure>> {
        let rows = sqlx::query(
            "SELECT unit_id, commitment, secret, area, seq FROM units WHERE estate = $1",
        )
        .bind(slug.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut first_bad: Option<AuditFailure> = None;
        let mut keep = |f: AuditFailure| {
            if first_bad
                .as_ref()
                .is_none_or(|b| f.seq.unwrap_or(u64::MAX) < b.seq.unwrap_or(u64::MAX))
            {
                first_bad = Some(f);
            }
        };
        let mut seen = BTreeMap::new();
        for r in rows {
            let unit_id: String = r.try_get(0)?;
            let commitment: String = r.try_get(1)?;
            let secret: String = r.try_get(2)?;
            let area: String = r.try_get(3)?;
            let row_seq: i64 = r.try_get(4)?;
            let stored = UnitCommitment::parse("commitment", &commitment).ok();
            // Name the entry that published this row's commitment; failing
            // that, the seq the row claims.
            let entry = stored.and_then(|c| registered.get(&c).map(|(seq, a)| (c, *seq, a)));
            let seq = entry
                .map(|(_, seq, _)| seq)
                .or_else(|| u64::try_from(row_seq).ok());
            let bad = |what: String| {
                fail(
                    seq,
                    FailureClass::Units,
                    format!("units row for {unit_id:?}: {what}"),
                )
            };
            let Some((c, entry_seq, entry_area)) = entry else {
                keep(bad(
                    "its commitment is not one any unit_registered entry published".into(),
                ));
                continue;
            };
            let recomputed = match (
                UnitId::parse("unit_id", &unit_id),
                UnitSecret::parse("secret", &secret),
            ) {
                (Ok(id), Ok(secret)) => Some(UnitCommitment::compute(slug, &id, &secret)),
                _ => None,
            };
            if recomputed != Some(c) {
                keep(bad(
                    "the commitment does not recompute from the unit and its secret (rows were edited or swapped)".into(),
                ));
            } else if *entry_area != area || u64::try_from(row_seq).ok() != Some(entry_seq) {
                keep(bad(
                    "its area or seq differs from the unit_registered entry".into(),
                ));
            }
            seen.insert(c, unit_id);
        }
        for (c, (seq, _)) in registered {
            if !seen.contains_key(c) {
                keep(fail(
                    Some(*seq),
                    FailureClass::Units,
                    "the unit this entry registered has no units row",
                ));
            }
        }
        Ok(match first_bad {
            Some(f) => Err(f),
            None => Ok(()),
        })
    }

    /// The private bank_refs table must match the commitments the log's
    /// payments carry, both ways: every row's reference commits to the
    /// commitment of the payment at its seq (an edited row does not), and
    /// every committed reference has its row (a deleted row, which would
    /// let the server's quick check credit the reference again, does not).
    /// Rows of payments written before the log committed to references
    /// can only be checked to belong to a payment.
    async fn audit_bank_refs(
        &self,
        slug: &Slug,
        committed: &BTreeMap<BankRefCommitment, u64>,
        uncommitted_payments: &BTreeSet<u64>,
    ) -> Result<std::result::Result<(), AuditFailure>> {
        let rows = sqlx::query("SELECT reference, seq FROM bank_refs WHERE estate = $1")
            .bind(slug.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut first_bad: Option<AuditFailure> = None;
        let mut keep = |f: AuditFailure| {
            if first_bad
                .as_ref()
                .is_none_or(|b| f.seq.unwrap_or(u64::MAX) < b.seq.unwrap_or(u64::MAX))
            {
                first_bad = Some(f);
            }
        };
        let mut seen = BTreeSet::new();
        for r in rows {
            let reference: String = r.try_get(0)?;
            let seq = from_db(r.try_get(1)?)?;
            let c = BankRef::parse("reference", &reference)
                .ok()
                .map(|b| BankRefCommitment::compute(slug, &b));
            match c.and_then(|c| committed.get(&c).map(|at| (c, *at))) {
                Some((c, at)) if at == seq => {
                    seen.insert(c);
                }
                Some((c, at)) => {
                    seen.insert(c);
                    keep(fail(
                        Some(at.min(seq)),
                        FailureClass::BankRefs,
                        format!("bank_refs row of seq {seq}: the log credits this reference at seq {at}"),
                    ));
                }
                None if uncommitted_payments.contains(&seq) => {}
                None => keep(fail(
                    Some(seq),
                    FailureClass::BankRefs,
                    "bank_refs row: its reference is not the one the payment at this seq commits to (the row was edited)",
                )),
            }
        }
        for (c, seq) in committed {
            if !seen.contains(c) {
                keep(fail(
                    Some(*seq),
                    FailureClass::BankRefs,
                    "this payment's bank reference has no bank_refs row (the row was deleted)",
                ));
            }
        }
        Ok(match first_bad {
            Some(f) => Err(f),
            None => Ok(()),
        })
    }

    /// Every checkpoint must carry a valid log signature over the root the
    /// entries actually produce at its size.
    async fn audit_checkpoints(
        &self,
        slug: &Slug,
        state: &State,
        nodes: &HashMap<NodeId, Hash>,
        report: &mut AuditReport,
    ) -> Result<std::result::Result<(), AuditFailure>> {
        let Some(info) = state.estate() else {
            return Ok(Ok(()));
        };
        let rows = sqlx::query(
            "SELECT tree_size, root, note FROM checkpoints WHERE estate = $1 ORDER BY tree_size",
        )
        .bind(slug.as_str())
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let size = from_db(r.try_get(0)?)?;
            let root: Vec<u8> = r.try_get(1)?;
            let note: String = r.try_get(2)?;
            // A checkpoint is named by the last entry it covers.
            let at = |what: String| {
                fail(
                    size.checked_sub(1),
                    FailureClass::Checkpoints,
                    format!("checkpoint of size {size}: {what}"),
                )
            };
            if size > state.size() {
                // Named by the first entry it covers that is not stored.
                return Ok(Err(fail(
                    Some(state.size()),
                    FailureClass::Checkpoints,
                    format!(
                        "checkpoint of size {size} is beyond the log's {} entries",
                        state.size()
                    ),
                )));
            }
            let (cp, _, _) = match open_checkpoint(&note, &info.log_key, &[]) {
                Ok(x) => x,
                Err(e) => return Ok(Err(at(format!("signature does not verify: {e}")))),
            };
            let want = tree::tree_hash(size, nodes)?;
            if cp.tree_size != size
                || cp.root != want
                || root.as_slice() != want.0.as_slice()
                || cp.origin != info.origin
            {
                return Ok(Err(
                    at("does not match the root the entries produce".into()),
                ));
            }
            report.checkpoints += 1;
        }
        Ok(Ok(()))
    }
}
