//! Statements and witnessing: closing a month, cosigning checkpoints, and
//! reading a checkpoint with every cosignature it has gathered.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sqlx::Row;

use super::{from_db, to_db, Appended, Result, Store, StoreError};
use crate::domain::{MemberId, Period, Slug, Timestamp};
use crate::keys::LogKey;
use crate::ledger::{Body, Statement};
use crate::tlog::note::{verify_signature, Note, NoteSignature};
use crate::tlog::tree;
use crate::tlog::Hash;

use super::read::CheckpointRow;

impl Store {
    /// Closes a month: appends its `statement_published` entry, whose
    /// figures the ledger computes and checks, and signs a checkpoint that
    /// covers it (the checkpoint witnesses then cosign).
    pub async fn close_month(
        &self,
        slug: &Slug,
        period: Period,
        now: Timestamp,
        log: &LogKey,
    ) -> Result<Appended> {
        let body = Body::StatementPublished(Statement::request(period));
        let mut out = self.append(slug, vec![body.into()], now, log).await?;
        out.pop()
            .ok_or_else(|| StoreError::Integrity("append wrote nothing".into()))
    }

    /// The signed checkpoint of exactly `tree_size`, with its cosignatures.
    pub async fn checkpoint_at(
        &self,
        slug: &Slug,
        tree_size: u64,
    ) -> Result<Option<CheckpointRow>> {
        self.checkpoint_where(slug, "tree_size = $2", tree_size)
            .await
    }

    /// The first signed checkpoint that includes entry `seq`.
    pub async fn checkpoint_covering(
        &self,
        slug: &Slug,
        seq: u64,
    ) -> Result<Option<CheckpointRow>> {
        self.checkpoint_where(slug, "tree_size > $2", seq).await
    }

    async fn checkpoint_where(
        &self,
        slug: &Slug,
        cond: &str,
        n: u64,
    ) -> Result<Option<CheckpointRow>> {
        let sql = format!(
            "SELECT tree_size, root, note, signed_at FROM checkpoints WHERE estate = $1 AND {cond} ORDER BY tree_size LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(slug.as_str())
            .bind(to_db(n)?)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let root: Vec<u8> = r.try_get(1)?;
                let root = <[u8; 32]>::try_from(root.as_slice())
                    .map_err(|_| StoreError::Integrity("checkpoint root is not 32 bytes".into()))?;
                let cp = CheckpointRow {
                    tree_size: from_db(r.try_get(0)?)?,
                    root: Hash(root),
                    note: r.try_get(2)?,
                    signed_at: r.try_get(3)?,
                };
                Ok(Some(self.with_cosignatures(slug, cp).await?))
            }
        }
    }

    /// Size of the newest checkpoint with at least `quorum` cosignatures.
    pub async fn latest_witnessed_size(&self, slug: &Slug, quorum: u8) -> Result<Option<u64>> {
        if quorum == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT tree_size FROM cosignatures WHERE estate = $1 GROUP BY tree_size HAVING COUNT(*) >= $2 ORDER BY tree_size DESC LIMIT 1",
        )
        .bind(slug.as_str())
        .bind(i64::from(quorum))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| from_db(r.try_get(0)?)).transpose()
    }

    /// Appends the cosignature lines gathered for a checkpoint to its note.
    pub(super) async fn with_cosignatures(
        &self,
        slug: &Slug,
        mut cp: CheckpointRow,
    ) -> Result<CheckpointRow> {
        let rows = sqlx::query(
            "SELECT line FROM cosignatures WHERE estate = $1 AND tree_size = $2 ORDER BY witness",
        )
        .bind(slug.as_str())
        .bind(to_db(cp.tree_size)?)
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let line: String = r.try_get(0)?;
            cp.note.push_str(&line);
        }
        Ok(cp)
    }

    /// The newest checkpoint size `member` cosigned, with the stored line.
    pub async fn last_cosigned(
        &self,
        slug: &Slug,
        member: &MemberId,
    ) -> Result<Option<(u64, String)>> {
        let row = sqlx::query(
            "SELECT tree_size, line FROM cosignatures WHERE estate = $1 AND witness = $2 ORDER BY tree_size DESC LIMIT 1",
        )
        .bind(slug.as_str())
        .bind(member.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((from_db(r.try_get(0)?)?, r.try_get(1)?)))
            .transpose()
    }

    /// Witnesses the checkpoint of `tree_size` with `member`'s cosignature.
    ///
    /// Refused unless the member is a current witness (committee or
    /// community, active key), the cosignature verifies over exactly that
    /// checkpoint, and the checkpoint is newer than, and consistent with,
    /// the last one this witness cosigned (whose stored text must still be
    /// what that earlier cosignature covers).
    pub async fn cosign(
        &self,
        slug: &Slug,
        tree_size: u64,
        member: &MemberId,
        sig: &NoteSignature,
        now: Timestamp,
    ) -> Result<()> {
        if let Some(why) = self.frozen_reason(slug.as_str()) {
            return Err(StoreError::Integrity(format!(
                "estate {slug} is frozen: {why}"
            )));
        }
        let witnesses = self.with_state(slug, |s| s.witnesses()).await?;
        let key = witnesses
            .into_iter()
            .find(|(id, _, _)| id == member)
            .map(|(_, _, k)| k)
            .ok_or_else(|| StoreError::BadRequest(format!("{member} is not a witness of estate {slug} (committee or community member with an active key)")))?;
        let cp = self
            .checkpoint_at(slug, tree_size)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("checkpoint of size {tree_size}")))?;
        let text = Note::parse(&cp.note).map_err(StoreError::Tlog)?.text;
        verify_signature(&text, sig, &key).map_err(|e| {
            StoreError::BadRequest(format!("cosignature does not verify for {member}: {e}"))
        })?;

        if let Some((last, line)) = self.last_cosigned(slug, member).await? {
            if last >= tree_size {
                return Err(StoreError::Conflict(format!(
                    "{member} already witnessed the checkpoint of size {last}; a witness only moves forward"
                )));
            }
            let old = self
                .checkpoint_at(slug, last)
                .await?
                .ok_or_else(|| StoreError::Integrity(format!("checkpoint {last} is missing")))?;
            // What the witness signed last time is its own memory of the
            // log: the stored checkpoint must still be the one its earlier
            // cosignature covers, or the server has rewritten it.
            let old_text = Note::parse(&old.note).map_err(StoreError::Tlog)?.text;
            let earlier =
                NoteSignature::parse_line(line.trim_end_matches('\n')).map_err(StoreError::Tlog)?;
            if earlier.key_id == key.key_id && verify_signature(&old_text, &earlier, &key).is_err()
            {
                return Err(StoreError::Conflict(format!(
                    "checkpoint {last} is no longer the one {member} witnessed: refusing to cosign a rewritten history"
                )));
            }
            let proof = self.consistency_proof(slug, last, tree_size).await?;
            tree::check_consistency(&proof, last, tree_size, &old.root, &cp.root).map_err(|e| {
                StoreError::Conflict(format!("checkpoint {tree_size} is not consistent with checkpoint {last} that {member} witnessed: {e}"))
            })?;
        }
        let mut raw = sig.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.sig);
        let line = format!("\u{2014} {} {}\n", sig.name, B64.encode(raw));
        sqlx::query("INSERT INTO cosignatures (estate, tree_size, witness, line, signed_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(slug.as_str())
            .bind(to_db(tree_size)?)
            .bind(member.as_str())
            .bind(line)
            .bind(now.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
