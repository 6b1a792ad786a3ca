//! Signatures gathered for a proposed policy change, until the change has
//! enough to be appended as a `policy_set` entry.

use sqlx::Row;

use super::{to_db, Result, Store};
use crate::domain::{MemberId, Slug, Timestamp};

/// One committee member's signature on a proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicySignature {
    /// The proposed rules, as their RFC 8785 bytes.
    pub rules: String,
    pub member: String,
    pub key: String,
    pub signature: String,
}

/// Proposals (and their signatures) kept for one version at most.
pub const MAX_POLICY_SIGNATURE_ROWS: i64 = 500;

impl Store {
    /// Records (or replaces) `member`'s signature on the proposal.
    pub async fn put_policy_signature(
        &self,
        slug: &Slug,
        version: u32,
        sig: &PolicySignature,
        now: Timestamp,
    ) -> Result<()> {
        let member = MemberId::parse("member", &sig.member)
            .map_err(|e| super::StoreError::BadRequest(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM policy_signatures WHERE estate = $1 AND version = $2 AND rules = $3 AND member = $4",
        )
        .bind(slug.as_str())
        .bind(to_db(u64::from(version))?)
        .bind(&sig.rules)
        .bind(member.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO policy_signatures (estate, version, rules, member, key, signature, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(slug.as_str())
        .bind(to_db(u64::from(version))?)
        .bind(&sig.rules)
        .bind(member.as_str())
        .bind(&sig.key)
        .bind(&sig.signature)
        .bind(now.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every signature gathered for proposals of `version`, oldest first.
    pub async fn policy_signatures(
        &self,
        slug: &Slug,
        version: u32,
    ) -> Result<Vec<PolicySignature>> {
        let rows = sqlx::query(
            "SELECT rules, member, key, signature FROM policy_signatures WHERE estate = $1 AND version = $2 ORDER BY created_at, member LIMIT $3",
        )
        .bind(slug.as_str())
        .bind(to_db(u64::from(version))?)
        .bind(MAX_POLICY_SIGNATURE_ROWS)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PolicySignature {
                    rules: r.try_get(0)?,
                    member: r.try_get(1)?,
                    key: r.try_get(2)?,
                    signature: r.try_get(3)?,
                })
            })
            .collect()
    }
}
