//! Bank CSV previews (table `imports`), the bank-reference look-up the
//! import and the payment form check against, and the rows of the
//! payments export.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::domain::{BankRef, Slug, Timestamp};
use crate::ledger::{Body, Entry};

/// Bank references looked up per query.
const REFS_PER_QUERY: usize = 200;
/// Most units one estate's look-up table holds (a charge run's bound).
const MAX_UNIT_ROWS: i64 = 100_000;
/// Most payments one export holds.
pub const MAX_EXPORT_ROWS: i64 = 200_000;

/// A stored CSV preview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRow {
    pub id: String,
    pub estate: String,
    pub user_id: i64,
    pub file_sha256: String,
    /// The parsed rows and verdicts, as JSON (the HTTP layer's format).
    pub report: String,
    pub created_at: String,
    pub committed_at: Option<String>,
    pub result: Option<String>,
}

/// One fee payment for the export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRow {
    pub seq: u64,
    pub time: Timestamp,
    pub unit_id: String,
    pub amount: String,
    pub paid_on: String,
    pub method: &'static str,
    pub reference: Option<String>,
}

impl Store {
    /// Which of `refs` are already recorded for the estate.
    pub async fn bank_refs_taken(&self, slug: &Slug, refs: &[BankRef]) -> Result<BTreeSet<String>> {
        let mut taken = BTreeSet::new();
        for chunk in refs.chunks(REFS_PER_QUERY) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT reference FROM bank_refs WHERE estate = $1 AND reference IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(slug.as_str());
            for r in chunk {
                q = q.bind(r.as_str());
            }
            for row in q.fetch_all(&self.pool).await? {
                taken.insert(row.try_get::<String, _>(0)?);
            }
        }
        Ok(taken)
    }

    /// Every unit of the estate: unit id → commitment (hex).
    pub async fn unit_commitments(&self, slug: &Slug) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query(
            "SELECT unit_id, commitment FROM units WHERE estate = $1 ORDER BY unit_id LIMIT $2",
        )
        .bind(slug.as_str())
        .bind(MAX_UNIT_ROWS)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Stores a preview.
    pub async fn create_import(
        &self,
        slug: &Slug,
        id: &str,
        user_id: i64,
        file_sha256: &str,
        report: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO imports (id, estate, user_id, file_sha256, report, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(slug.as_str())
        .bind(user_id)
        .bind(file_sha256)
        .bind(report)
        .bind(now.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A preview of this estate (another estate's id is not found).
    pub async fn import(&self, slug: &Slug, id: &str) -> Result<Option<ImportRow>> {
        let row = sqlx::query(
            "SELECT id, estate, user_id, file_sha256, report, created_at, committed_at, result \
             FROM imports WHERE estate = $1 AND id = $2",
        )
        .bind(slug.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ImportRow {
                id: r.try_get(0)?,
                estate: r.try_get(1)?,
                user_id: r.try_get(2)?,
                file_sha256: r.try_get(3)?,
                report: r.try_get(4)?,
                created_at: r.try_get(5)?,
                committed_at: r.try_get(6)?,
                result: r.try_get(7)?,
            })
        })
        .transpose()
    }

    /// Replaces a preview's report (after a commit found it stale).
    /// Committed previews are never changed.
    pub async fn update_import_report(&self, slug: &Slug, id: &str, report: &str) -> Result<()> {
        sqlx::query(
            "UPDATE imports SET report = $1 WHERE estate = $2 AND id = $3 AND committed_at IS NULL",
        )
        .bind(report)
        .bind(slug.as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a preview committed with its result, once: false if it
    /// already was.
    pub async fn mark_import_committed(
        &self,
        slug: &Slug,
        id: &str,
        result: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE imports SET committed_at = $1, result = $2 \
             WHERE estate = $3 AND id = $4 AND committed_at IS NULL",
        )
        .bind(now.to_string())
        .bind(result)
        .bind(slug.as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The estate's fee payments in log order, with unit ids and bank
    /// references (both private, so staff only), at most
    /// [`MAX_EXPORT_ROWS`].
    pub async fn fee_payments(&self, slug: &Slug) -> Result<Vec<PaymentRow>> {
        let units: BTreeMap<String, String> = self
            .unit_commitments(slug)
            .await?
            .into_iter()
            .map(|(id, c)| (c, id))
            .collect();
        let rows = sqlx::query(
            "SELECT e.body, b.reference FROM entries e \
             LEFT JOIN bank_refs b ON b.estate = e.estate AND b.seq = e.seq \
             WHERE e.estate = $1 AND e.kind = 'fee_paid' ORDER BY e.seq LIMIT $2",
        )
        .bind(slug.as_str())
        .bind(MAX_EXPORT_ROWS)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let body: String = r.try_get(0)?;
            let entry = Entry::parse(&body).map_err(|e| {
                StoreError::Integrity(format!("stored fee_paid entry does not parse: {e}"))
            })?;
            if let Body::FeePaid {
                unit,
                amount,
                paid_on,
                method,
                ..
            } = &entry.body
            {
                out.push(PaymentRow {
                    seq: entry.seq,
                    time: entry.time,
                    unit_id: units.get(&unit.to_string()).cloned().unwrap_or_default(),
                    amount: amount.to_string(),
                    paid_on: paid_on.to_string(),
                    method: method.as_str(),
                    reference: r.try_get(1)?,
                });
            }
        }
        Ok(out)
    }
}
