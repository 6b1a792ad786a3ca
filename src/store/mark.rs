//! The database against the log key's mark ([`crate::keys::mark`]): what
//! the key last signed is kept beside the key, and a database that is
//! behind it, or holds a different tree, is refused.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::append::read_nodes;
use super::{from_db, to_db, Result, Store, StoreError};
use crate::domain::Slug;
use crate::keys::{Keyring, LogKey, MarkGuard, Marked};
use crate::tlog::checkpoint::open_checkpoint;
use crate::tlog::tree::{self, NodeId};
use crate::tlog::Hash;

/// The stored checkpoint of exactly `size`, if any: (root, note).
async fn stored_checkpoint(
    conn: &mut AnyConnection,
    slug: &Slug,
    size: u64,
) -> Result<Option<(Hash, String)>> {
    let row =
        sqlx::query("SELECT root, note FROM checkpoints WHERE estate = $1 AND tree_size = $2")
            .bind(slug.as_str())
            .bind(to_db(size)?)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|r| {
        let root: Vec<u8> = r.try_get(0)?;
        let root = <[u8; 32]>::try_from(root.as_slice())
            .map_err(|_| StoreError::Integrity("checkpoint root is not 32 bytes".into()))?;
        Ok((Hash(root), r.try_get(1)?))
    })
    .transpose()
}

async fn latest_stored_size(conn: &mut AnyConnection, slug: &Slug) -> Result<Option<u64>> {
    let size: Option<i64> = sqlx::query("SELECT MAX(tree_size) FROM checkpoints WHERE estate = $1")
        .bind(slug.as_str())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    size.map(from_db).transpose()
}

/// Opens the mark for a signing or check and settles what a crash may have
/// left: a pending checkpoint is released if the database holds exactly
/// it; a key without a mark yet (a data directory from before marks)
/// adopts the database's latest checkpoint, after checking its signature.
pub(super) async fn open_mark(
    conn: &mut AnyConnection,
    slug: &Slug,
    log: &LogKey,
) -> Result<MarkGuard> {
    let mut mark = log.lock_mark().await?;
    if let Some(p) = mark.pending().cloned() {
        let stored = stored_checkpoint(conn, slug, p.tree_size).await?;
        let released = stored.is_some_and(|(root, _)| root == p.root);
        mark.settle(released)?;
    }
    if !mark.existed() {
        if let Some(size) = latest_stored_size(conn, slug).await? {
            let (root, note) = stored_checkpoint(conn, slug, size)
                .await?
                .ok_or_else(|| StoreError::Integrity(format!("checkpoint {size} is missing")))?;
            open_checkpoint(&note, &log.verifier_key(), &[]).map_err(|e| {
                StoreError::Integrity(format!(
                    "stored checkpoint {size} is not signed by this log key: {e}"
                ))
            })?;
            tracing::warn!(estate = %slug, tree_size = size, "no log mark beside the key yet: adopting the database's latest checkpoint");
            mark.adopt(Marked {
                tree_size: size,
                root,
                note,
            })?;
        }
    }
    Ok(mark)
}

/// Refuses a tree of `size` and `root` unless it extends the checkpoint the
/// key last signed, proved with the stored tree nodes (a database that
/// forged its nodes cannot produce a proof that checks against the mark).
pub(super) async fn check_extends(
    conn: &mut AnyConnection,
    slug: &Slug,
    mark: &MarkGuard,
    size: u64,
    root: &Hash,
    nodes: &mut HashMap<NodeId, Hash>,
) -> Result<()> {
    let Some(last) = mark.signed() else {
        return Ok(());
    };
    let behind = || {
        StoreError::Integrity(format!(
            "the log key last signed a tree of {} entries (root {}), and the database's tree of {size} does not extend it: the database is behind the log key or was rewritten; nothing will be signed",
            last.tree_size,
            last.root.to_hex()
        ))
    };
    if size < last.tree_size {
        return Err(behind());
    }
    if size == last.tree_size {
        return if *root == last.root {
            Ok(())
        } else {
            Err(behind())
        };
    }
    read_nodes(
        conn,
        slug,
        &tree::nodes_for_consistency(last.tree_size, size)?,
        nodes,
    )
    .await?;
    let proof = tree::prove_consistency(last.tree_size, size, nodes)?;
    tree::check_consistency(&proof, last.tree_size, size, &last.root, root).map_err(|_| behind())
}

/// What [`Store::check_log_marks`] found for one estate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkCheck {
    Ok,
    /// The database is behind or different from the mark: frozen.
    Failed(String),
    /// This data directory has no key for the estate: nothing can be
    /// signed for it here, and there is no mark to compare with.
    NoKey(String),
}

impl Store {
    /// Checks one estate's database against its log key's mark; a database
    /// behind it or different from it freezes the estate. Returns why, when
    /// it does. A database ahead of the mark along a consistent history
    /// (the mark restored from an older copy) moves the mark forward.
    pub async fn check_log_mark(&self, slug: &Slug, log: &LogKey) -> Result<Option<String>> {
        let mut conn = self.pool.acquire().await?;
        let outcome = async {
            let mut mark = open_mark(&mut conn, slug, log).await?;
            let Some(size) = latest_stored_size(&mut conn, slug).await? else {
                return match mark.signed() {
                    Some(last) => Err(StoreError::Integrity(format!(
                        "the log key last signed a tree of {} entries, but the database holds no checkpoint: the database is behind the log key",
                        last.tree_size
                    ))),
                    None => Ok(()),
                };
            };
            let (root, note) = stored_checkpoint(&mut conn, slug, size)
                .await?
                .ok_or_else(|| StoreError::Integrity(format!("checkpoint {size} is missing")))?;
            let mut nodes = HashMap::new();
            read_nodes(&mut conn, slug, &tree::nodes_for_tree_hash(size), &mut nodes).await?;
            if tree::tree_hash(size, &nodes)? != root {
                return Err(StoreError::Integrity(format!(
                    "stored checkpoint {size} does not match the stored tree"
                )));
            }
            check_extends(&mut conn, slug, &mark, size, &root, &mut nodes).await?;
            if mark.signed().is_none_or(|last| last.tree_size < size) {
                open_checkpoint(&note, &log.verifier_key(), &[]).map_err(|e| {
                    StoreError::Integrity(format!(
                        "stored checkpoint {size} is not signed by this log key: {e}"
                    ))
                })?;
                mark.adopt(Marked {
                    tree_size: size,
                    root,
                    note,
                })
                ?;
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => Ok(None),
            Err(StoreError::Integrity(why)) => {
                self.freeze(slug.as_str(), why.clone());
                Ok(Some(why))
            }
            Err(e) => Err(e),
        }
    }

    /// [`Store::check_log_mark`] for every estate, with its key from `keys`.
    pub async fn check_log_marks(&self, keys: &Keyring) -> Result<Vec<(String, MarkCheck)>> {
        let mut out = Vec::new();
        for estate in self.list_estates().await? {
            let slug = Slug::parse("estate", &estate.slug).map_err(|e| {
                StoreError::Integrity(format!("estate slug {:?}: {e}", estate.slug))
            })?;
            let check = match keys.load(&slug, &estate.origin) {
                Ok(log) => match self.check_log_mark(&slug, &log).await? {
                    None => MarkCheck::Ok,
                    Some(why) => MarkCheck::Failed(why),
                },
                Err(e) => MarkCheck::NoKey(e.to_string()),
            };
            out.push((estate.slug, check));
        }
        Ok(out)
    }
}
