//! Reads: the public log, proofs, balances. Every list has a bound.

use std::collections::HashMap;

use sqlx::Row;

use super::append::read_nodes;
use super::{from_db, to_db, Result, Store, StoreError};
use crate::domain::Slug;
use crate::tlog::tree::{self, NodeId};
use crate::tlog::Hash;

/// Most entries one read returns (DESIGN.md §4.8: at most 1,000 per call).
pub const MAX_ENTRIES_PER_READ: u64 = 1_000;

/// An estate as the registry lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EstateRow {
    pub slug: String,
    pub name: String,
    pub origin: String,
}

/// A signed checkpoint as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRow {
    pub tree_size: u64,
    pub root: Hash,
    /// The signed note text (checkpoint body, blank line, signature lines).
    pub note: String,
    pub signed_at: String,
}

/// A unit's private record (staff and its owner only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitRow {
    pub unit_id: String,
    pub commitment: String,
    pub secret: String,
    pub area: String,
    pub seq: u64,
}

impl Store {
    /// All estates, by slug.
    pub async fn list_estates(&self) -> Result<Vec<EstateRow>> {
        let rows = sqlx::query("SELECT slug, name, origin FROM estates ORDER BY slug")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(EstateRow {
                    slug: r.try_get(0)?,
                    name: r.try_get(1)?,
                    origin: r.try_get(2)?,
                })
            })
            .collect()
    }

    pub async fn estate(&self, slug: &Slug) -> Result<Option<EstateRow>> {
        let row = sqlx::query("SELECT slug, name, origin FROM estates WHERE slug = $1")
            .bind(slug.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(EstateRow {
                slug: r.try_get(0)?,
                name: r.try_get(1)?,
                origin: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Number of entries in the estate's log.
    pub async fn tree_size(&self, slug: &Slug) -> Result<u64> {
        let head: Option<i64> = sqlx::query("SELECT MAX(seq) FROM entries WHERE estate = $1")
            .bind(slug.as_str())
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        head.map_or(Ok(0), |s| Ok(from_db(s)? + 1))
    }

    /// The exact bytes of one entry.
    pub async fn entry_bytes(&self, slug: &Slug, seq: u64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT body FROM entries WHERE estate = $1 AND seq = $2")
            .bind(slug.as_str())
            .bind(to_db(seq)?)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Entries `start..end` as their exact bytes; refuses ranges that are
    /// empty, reversed, or longer than [`MAX_ENTRIES_PER_READ`].
    pub async fn entries_range(&self, slug: &Slug, start: u64, end: u64) -> Result<Vec<String>> {
        if end <= start {
            return Err(StoreError::BadRequest(
                "end must be greater than start".into(),
            ));
        }
        if end - start > MAX_ENTRIES_PER_READ {
            return Err(StoreError::BadRequest(format!(
                "at most {MAX_ENTRIES_PER_READ} entries per request"
            )));
        }
        let rows = sqlx::query(
            "SELECT body FROM entries WHERE estate = $1 AND seq >= $2 AND seq < $3 ORDER BY seq",
        )
        .bind(slug.as_str())
        .bind(to_db(start)?)
        .bind(to_db(end)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// The newest signed checkpoint, with every cosignature it has gathered.
    pub async fn latest_checkpoint(&self, slug: &Slug) -> Result<Option<CheckpointRow>> {
        let row = sqlx::query("SELECT MAX(tree_size) FROM checkpoints WHERE estate = $1")
            .bind(slug.as_str())
            .fetch_one(&self.pool)
            .await?;
        let size: Option<i64> = row.try_get(0)?;
        match size {
            Some(size) => self.checkpoint_at(slug, from_db(size)?).await,
            None => Ok(None),
        }
    }

    /// RFC 9162 inclusion proof of entry `index` in the tree of `tree_size`.
    pub async fn inclusion_proof(
        &self,
        slug: &Slug,
        index: u64,
        tree_size: u64,
    ) -> Result<Vec<Hash>> {
        self.check_size(slug, tree_size).await?;
        if index >= tree_size {
            return Err(StoreError::BadRequest(format!(
                "index {index} is not below size {tree_size}"
            )));
        }
        let ids = tree::nodes_for_inclusion(index, tree_size)?;
        let nodes = self.nodes(slug, &ids).await?;
        Ok(tree::prove_inclusion(index, tree_size, &nodes)?)
    }

    /// RFC 9162 consistency proof between two tree sizes.
    pub async fn consistency_proof(
        &self,
        slug: &Slug,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Hash>> {
        self.check_size(slug, new_size).await?;
        if old_size == 0 || old_size > new_size {
            return Err(StoreError::BadRequest(format!(
                "from must be between 1 and {new_size}"
            )));
        }
        let ids = tree::nodes_for_consistency(old_size, new_size)?;
        let nodes = self.nodes(slug, &ids).await?;
        Ok(tree::prove_consistency(old_size, new_size, &nodes)?)
    }

    /// Root hash of the tree at any size up to the current one.
    pub async fn root_at(&self, slug: &Slug, tree_size: u64) -> Result<Hash> {
        self.check_size(slug, tree_size).await?;
        let nodes = self
            .nodes(slug, &tree::nodes_for_tree_hash(tree_size))
            .await?;
        Ok(tree::tree_hash(tree_size, &nodes)?)
    }

    async fn check_size(&self, slug: &Slug, tree_size: u64) -> Result<()> {
        let current = self.tree_size(slug).await?;
        if tree_size == 0 || tree_size > current {
            return Err(StoreError::BadRequest(format!(
                "size must be between 1 and the tree size {current}"
            )));
        }
        Ok(())
    }

    async fn nodes(&self, slug: &Slug, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>> {
        let mut conn = self.pool.acquire().await?;
        let mut map = HashMap::with_capacity(ids.len());
        read_nodes(&mut conn, slug, ids, &mut map).await?;
        Ok(map)
    }

    /// Balance of every account, as debit minus credit in fen.
    pub async fn balances(&self, slug: &Slug) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT account, balance_fen FROM balances WHERE estate = $1 ORDER BY account",
        )
        .bind(slug.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Balances of the fund's own accounts only (a handful of rows).
    pub async fn fund_balances(&self, slug: &Slug) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT account, balance_fen FROM balances WHERE estate = $1 AND account LIKE 'fund:%' ORDER BY account")
            .bind(slug.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Every unit's private record, by unit id (for the printable list of
    /// unit codes); at most [`crate::ledger::entry::MAX_UNITS_PER_CHARGE`].
    pub async fn units(&self, slug: &Slug) -> Result<Vec<UnitRow>> {
        let rows = sqlx::query("SELECT unit_id, commitment, secret, area, seq FROM units WHERE estate = $1 ORDER BY unit_id LIMIT $2")
            .bind(slug.as_str())
            .bind(crate::ledger::entry::MAX_UNITS_PER_CHARGE as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(unit_row).collect()
    }

    /// A unit's private record by its staff-facing id.
    pub async fn unit(&self, slug: &Slug, unit_id: &str) -> Result<Option<UnitRow>> {
        let row = sqlx::query("SELECT unit_id, commitment, secret, area, seq FROM units WHERE estate = $1 AND unit_id = $2")
            .bind(slug.as_str())
            .bind(unit_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(unit_row).transpose()
    }
}

/// Decodes a units row selected as `unit_id, commitment, secret, area, seq`.
pub(super) fn unit_row(r: &sqlx::any::AnyRow) -> Result<UnitRow> {
    Ok(UnitRow {
        unit_id: r.try_get(0)?,
        commitment: r.try_get(1)?,
        secret: r.try_get(2)?,
        area: r.try_get(3)?,
        seq: from_db(r.try_get(4)?)?,
    })
}
