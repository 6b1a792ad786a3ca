//! Reads for the owners' pages and the JSON read API.
//!
//! Every query here is bounded and walks an index that leads with the
//! estate: a page costs the same on a log of ten entries as on one of ten
//! million. Nothing here writes.

use std::collections::BTreeMap;

use sqlx::Row;

use super::read::UnitRow;
use super::{from_db, to_db, Result, Store, StoreError};
use crate::domain::{Period, Slug, Timestamp, UnitSecret};
use crate::ledger::{Account, Body, Entry};
use crate::tlog::Hash;

/// Most rows one page of entries, claims or service records may hold.
pub const MAX_PAGE_ROWS: u64 = 200;
/// Most postings of one account a page shows (twenty years of monthly
/// charges and payments).
pub const MAX_ACCOUNT_ROWS: u64 = 500;
/// Most entries fetched by seq in one call.
pub const MAX_ENTRIES_BY_SEQ: usize = 1_000;
/// Most enrolments read to name members; an estate has a few dozen.
const MAX_MEMBER_ROWS: i64 = 10_000;
/// Most corrections scanned to see whether an entry was reversed.
const MAX_CORRECTION_ROWS: i64 = 10_000;
/// How much of a `fees_charged` entry the unit page reads: its `period`
/// is among the first fields of the canonical bytes (members are sorted:
/// `estate`, `kind`, `period`, …), while the rest is one posting per unit.
const CHARGE_PREFIX_CHARS: i64 = 160;

/// One stored entry with what the pages show about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRow {
    pub seq: u64,
    pub kind: String,
    pub time: Timestamp,
    pub hash: Hash,
    pub prev: Hash,
    /// The exact canonical bytes.
    pub body: String,
}

impl EntryRow {
    /// The typed entry. Stored bytes were checked when appended and are
    /// re-checked by `audit`; a failure here means the database was edited.
    pub fn entry(&self) -> Result<Entry> {
        Entry::parse(&self.body).map_err(|e| {
            StoreError::Integrity(format!(
                "entry {}: stored bytes do not parse: {e}",
                self.seq
            ))
        })
    }
}

/// Which entries a ledger page lists. Every field narrows the list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryFilter {
    /// One of [`Body::KINDS`].
    pub kind: Option<&'static str>,
    /// Entries with a posting on this account.
    pub account: Option<Account>,
    /// Entries recorded in this month (the estate's time zone).
    pub period: Option<Period>,
}

/// Debits and credits of one account in one month, in fen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthlyTotal {
    pub period: Period,
    pub account: String,
    pub debit_fen: i64,
    pub credit_fen: i64,
}

/// One posting on an account, with the entry it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountPosting {
    pub seq: u64,
    pub kind: String,
    pub time: Timestamp,
    pub hash: Hash,
    pub debit_fen: i64,
    pub credit_fen: i64,
    /// For `fees_charged`, the month charged (read from the entry's first
    /// bytes); `None` for other kinds.
    pub charged_period: Option<Period>,
    /// The whole entry for kinds other than `fees_charged` (payments and
    /// corrections are small; a charge run holds one posting per unit).
    pub entry: Option<Entry>,
}

fn hash_of(bytes: Vec<u8>, what: &str) -> Result<Hash> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(Hash)
        .map_err(|_| StoreError::Integrity(format!("{what} is not 32 bytes")))
}

fn time_of(text: &str, seq: u64) -> Result<Timestamp> {
    Timestamp::parse("time", text)
        .map_err(|e| StoreError::Integrity(format!("entry {seq}: stored time: {e}")))
}

fn entry_row(r: &sqlx::any::AnyRow) -> Result<EntryRow> {
    let seq = from_db(r.try_get(0)?)?;
    let time: String = r.try_get(2)?;
    Ok(EntryRow {
        seq,
        kind: r.try_get(1)?,
        time: time_of(&time, seq)?,
        hash: hash_of(r.try_get(3)?, "entry hash")?,
        prev: hash_of(r.try_get(4)?, "entry prev")?,
        body: r.try_get(5)?,
    })
}

/// A page may ask for one row more than it shows, to learn whether
/// another page follows.
fn page_limit(limit: u64) -> Result<i64> {
    if limit == 0 || limit > MAX_PAGE_ROWS + 1 {
        return Err(StoreError::BadRequest(format!(
            "a page holds 1 to {MAX_PAGE_ROWS} rows"
        )));
    }
    to_db(limit)
}

impl Store {
    /// One entry with its hash, `prev` and time.
    pub async fn entry_row(&self, slug: &Slug, seq: u64) -> Result<Option<EntryRow>> {
        let row = sqlx::query(
            "SELECT seq, kind, time, hash, prev, body FROM entries WHERE estate = $1 AND seq = $2",
        )
        .bind(slug.as_str())
        .bind(to_db(seq)?)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(entry_row).transpose()
    }

    /// The entries with these sequence numbers (those that exist), by seq.
    pub async fn entry_rows(&self, slug: &Slug, seqs: &[u64]) -> Result<BTreeMap<u64, EntryRow>> {
        let mut wanted: Vec<u64> = seqs.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.len() > MAX_ENTRIES_BY_SEQ {
            return Err(StoreError::BadRequest(format!(
                "at most {MAX_ENTRIES_BY_SEQ} entries per request"
            )));
        }
        let mut out = BTreeMap::new();
        // Chunks keep the statement small on both engines.
        for chunk in wanted.chunks(100) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT seq, kind, time, hash, prev, body FROM entries WHERE estate = $1 AND seq IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(slug.as_str());
            for s in chunk {
                q = q.bind(to_db(*s)?);
            }
            for r in q.fetch_all(&self.pool).await? {
                let row = entry_row(&r)?;
                out.insert(row.seq, row);
            }
        }
        Ok(out)
    }

    /// A page of entries, newest first, with `seq < before` when given.
    /// With an account filter the walk follows `postings_by_account`; with
    /// a month, `entries_by_period`; with a kind, `entries_by_kind`.
    pub async fn entries_page(
        &self,
        slug: &Slug,
        filter: &EntryFilter,
        before: Option<u64>,
        limit: u64,
    ) -> Result<Vec<EntryRow>> {
        let limit = page_limit(limit)?;
        let before = match before {
            Some(b) => to_db(b)?,
            None => i64::MAX,
        };
        let account = filter.account.as_ref().map(Account::to_string);
        let period = filter.period.map(|p| p.to_string());
        let mut sql = String::from("SELECT e.seq, e.kind, e.time, e.hash, e.prev, e.body ");
        let mut n = 2;
        if account.is_some() {
            sql.push_str(
                "FROM postings p JOIN entries e ON e.estate = p.estate AND e.seq = p.seq \
                 WHERE p.estate = $1 AND p.account = $2 AND p.seq < $3",
            );
            n = 4;
        } else {
            sql.push_str("FROM entries e WHERE e.estate = $1 AND e.seq < $2");
            n += 1;
        }
        if filter.kind.is_some() {
            sql.push_str(&format!(" AND e.kind = ${n}"));
            n += 1;
        }
        if period.is_some() {
            sql.push_str(&format!(" AND e.period = ${n}"));
            n += 1;
        }
        let order = if account.is_some() { "p.seq" } else { "e.seq" };
        sql.push_str(&format!(" ORDER BY {order} DESC LIMIT ${n}"));
        let mut q = sqlx::query(&sql).bind(slug.as_str());
        if let Some(a) = &account {
            q = q.bind(a.as_str());
        }
        q = q.bind(before);
        if let Some(k) = filter.kind {
            q = q.bind(k);
        }
        if let Some(p) = &period {
            q = q.bind(p.as_str());
        }
        q = q.bind(limit);
        let mut out: Vec<EntryRow> = Vec::new();
        for r in q.fetch_all(&self.pool).await? {
            let row = entry_row(&r)?;
            // An entry never posts twice to one account, but a page must
            // not show one twice even if it did.
            if out.last().is_none_or(|last| last.seq != row.seq) {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Entries with `from <= seq < to`, oldest first, at most `limit`
    /// ([`MAX_PAGE_ROWS`] at most): the entries a monthly statement covers,
    /// read along the primary key.
    pub async fn entries_between(
        &self,
        slug: &Slug,
        from: u64,
        to: u64,
        limit: u64,
    ) -> Result<Vec<EntryRow>> {
        if limit == 0 || limit > MAX_PAGE_ROWS {
            return Err(StoreError::BadRequest(format!(
                "a page holds 1 to {MAX_PAGE_ROWS} rows"
            )));
        }
        if to <= from {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT seq, kind, time, hash, prev, body FROM entries \
             WHERE estate = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT $4",
        )
        .bind(slug.as_str())
        .bind(to_db(from)?)
        .bind(to_db(to)?)
        .bind(to_db(limit)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_row).collect()
    }

    /// Monthly totals of the income, expense and fund accounts for the
    /// given months (receivables, one per unit, are left out).
    pub async fn monthly_totals(
        &self,
        slug: &Slug,
        periods: &[Period],
    ) -> Result<Vec<MonthlyTotal>> {
        if periods.is_empty() {
            return Ok(vec![]);
        }
        if periods.len() > 120 {
            return Err(StoreError::BadRequest(
                "at most 120 months per request".into(),
            ));
        }
        let marks: Vec<String> = (0..periods.len()).map(|i| format!("${}", i + 2)).collect();
        // 'expense:' <= account < 'income;' covers expense:*, fund:* and
        // income:* and nothing else (equity:opening sorts before, receivable:*
        // after), so the primary key (estate, period, account) is a range
        // per month.
        let sql = format!(
            "SELECT period, account, debit_fen, credit_fen FROM monthly_totals \
             WHERE estate = $1 AND period IN ({}) AND account >= 'expense:' AND account < 'income;' \
             ORDER BY period, account",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(slug.as_str());
        for p in periods {
            q = q.bind(p.to_string());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let period: String = r.try_get(0)?;
                Ok(MonthlyTotal {
                    period: Period::parse("period", &period).map_err(|e| {
                        StoreError::Integrity(format!("monthly_totals period: {e}"))
                    })?,
                    account: r.try_get(1)?,
                    debit_fen: r.try_get(2)?,
                    credit_fen: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// The balance of one account (debit minus credit, fen); 0 if untouched.
    pub async fn account_balance(&self, slug: &Slug, account: &Account) -> Result<i64> {
        let row =
            sqlx::query("SELECT balance_fen FROM balances WHERE estate = $1 AND account = $2")
                .bind(slug.as_str())
                .bind(account.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => 0,
        })
    }

    /// The postings on one account, newest first, at most
    /// [`MAX_ACCOUNT_ROWS`], along `postings_by_account`.
    pub async fn account_postings(
        &self,
        slug: &Slug,
        account: &Account,
        limit: u64,
    ) -> Result<Vec<AccountPosting>> {
        let limit = to_db(limit.clamp(1, MAX_ACCOUNT_ROWS))?;
        // The prefix length is a constant, written into the SQL so both
        // engines see plain integer literals in substr().
        let sql = format!(
            "SELECT e.seq, e.kind, e.time, e.hash, p.debit_fen, p.credit_fen, \
             CASE WHEN e.kind = 'fees_charged' THEN substr(e.body, 1, {CHARGE_PREFIX_CHARS}) ELSE e.body END \
             FROM postings p JOIN entries e ON e.estate = p.estate AND e.seq = p.seq \
             WHERE p.estate = $1 AND p.account = $2 ORDER BY p.seq DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(slug.as_str())
            .bind(account.to_string())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let seq = from_db(r.try_get(0)?)?;
                let kind: String = r.try_get(1)?;
                let time: String = r.try_get(2)?;
                let body: String = r.try_get(6)?;
                let (charged_period, entry) = if kind == "fees_charged" {
                    (charged_period(&body), None)
                } else {
                    let e = Entry::parse(&body).map_err(|e| {
                        StoreError::Integrity(format!(
                            "entry {seq}: stored bytes do not parse: {e}"
                        ))
                    })?;
                    (None, Some(e))
                };
                Ok(AccountPosting {
                    seq,
                    time: time_of(&time, seq)?,
                    hash: hash_of(r.try_get(3)?, "entry hash")?,
                    kind,
                    debit_fen: r.try_get(4)?,
                    credit_fen: r.try_get(5)?,
                    charged_period,
                    entry,
                })
            })
            .collect()
    }

    /// The unit whose bill carries this secret. The secret is compared by
    /// the database through `units_by_secret`; it is never logged.
    pub async fn unit_by_secret(
        &self,
        slug: &Slug,
        secret: &UnitSecret,
    ) -> Result<Option<UnitRow>> {
        let row = sqlx::query(
            "SELECT unit_id, commitment, secret, area, seq FROM units WHERE estate = $1 AND secret = $2",
        )
        .bind(slug.as_str())
        .bind(secret.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(super::read::unit_row).transpose()
    }

    /// Display names of members, from their enrolments (latest wins).
    pub async fn member_names(&self, slug: &Slug) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query(
            "SELECT seq, body FROM entries WHERE estate = $1 AND kind = 'member_enrolled' ORDER BY seq LIMIT $2",
        )
        .bind(slug.as_str())
        .bind(MAX_MEMBER_ROWS)
        .fetch_all(&self.pool)
        .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            let seq = from_db(r.try_get(0)?)?;
            let body: String = r.try_get(1)?;
            let entry = Entry::parse(&body).map_err(|e| {
                StoreError::Integrity(format!("entry {seq}: stored bytes do not parse: {e}"))
            })?;
            if let Body::MemberEnrolled { member, name, .. } = entry.body {
                out.insert(member.to_string(), name.to_string());
            }
        }
        Ok(out)
    }

    /// The correction that reversed entry `seq`, if any. Corrections are
    /// rare; they are read along `entries_by_kind`, from `seq` on.
    pub async fn correction_of(&self, slug: &Slug, seq: u64) -> Result<Option<EntryRow>> {
        let rows = sqlx::query(
            "SELECT seq, kind, time, hash, prev, body FROM entries \
             WHERE estate = $1 AND kind = 'correction' AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(slug.as_str())
        .bind(to_db(seq)?)
        .bind(MAX_CORRECTION_ROWS)
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let row = entry_row(&r)?;
            if let Body::Correction { corrects, .. } = row.entry()?.body {
                if corrects == seq {
                    return Ok(Some(row));
                }
            }
        }
        Ok(None)
    }
}

/// The `period` of a `fees_charged` entry from the first bytes of its
/// canonical form: the first `"period":"` there is the member name (a
/// quote inside a string value is always escaped).
fn charged_period(prefix: &str) -> Option<Period> {
    let start = prefix.find("\"period\":\"")? + "\"period\":\"".len();
    let text = prefix.get(start..start + 7)?;
    Period::parse("period", text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_is_read_from_the_charge_prefix() {
        let p =
            r#"{"estate":"dongfang","kind":"fees_charged","period":"2026-05","postings":[{"acc"#;
        assert_eq!(charged_period(p), Period::parse("p", "2026-05").ok());
        assert_eq!(
            charged_period(r#"{"estate":"x","kind":"fees_charged","per"#),
            None
        );
    }
}
