//! Bundles: one JSON document to verify an estate's log up to a signed
//! checkpoint, from genesis.

use super::{Result, Store, StoreError, MAX_ENTRIES_PER_READ};
use crate::domain::{Period, Slug};
use crate::ledger::{SealedEntry, State};
use crate::verify::{Bundle, StatementRef, BUNDLE_FORMAT};

impl Store {
    /// A bundle for the month's statement (the first checkpoint that covers
    /// the statement entry), or for the whole log at its latest checkpoint.
    pub async fn bundle(&self, slug: &Slug, statement: Option<Period>) -> Result<Bundle> {
        let (statement, checkpoint) = match statement {
            Some(period) => {
                let seq = self
                    .with_state(slug, |s| s.statements().get(&period).map(|(seq, _)| *seq))
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("statement for {period}")))?;
                let cp = self.checkpoint_covering(slug, seq).await?.ok_or_else(|| {
                    StoreError::Integrity(format!("no checkpoint covers statement entry {seq}"))
                })?;
                (Some(StatementRef { period, seq }), cp)
            }
            None => {
                // The newest checkpoint the committee has witnessed, so the
                // bundle verifies; the newest of all if none is yet.
                let quorum = self.with_state(slug, |s| s.witness_quorum()).await?;
                let witnessed = self.latest_witnessed_size(slug, quorum).await?;
                let cp = match witnessed {
                    Some(size) => self.checkpoint_at(slug, size).await?,
                    None => self.latest_checkpoint(slug).await?,
                };
                (
                    None,
                    cp.ok_or_else(|| StoreError::NotFound("checkpoint".into()))?,
                )
            }
        };
        let size = checkpoint.tree_size;
        let mut entries = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut start = 0;
        while start < size {
            let end = (start + MAX_ENTRIES_PER_READ).min(size);
            entries.extend(self.entries_range(slug, start, end).await?);
            start = end;
        }
        // The policy as of this size: replay exactly these entries.
        let mut state = State::new();
        for (i, bytes) in entries.iter().enumerate() {
            let sealed = SealedEntry::from_bytes(bytes)?;
            state
                .apply(&sealed)
                .map_err(|e| StoreError::Integrity(format!("entry {i} no longer replays: {e}")))?;
        }
        let info = state
            .estate()
            .ok_or_else(|| StoreError::Integrity("no estate_created entry".into()))?;
        Ok(Bundle {
            format: BUNDLE_FORMAT.into(),
            origin: info.origin.clone(),
            log_key: info.log_key.format(),
            policy: state.witness_policy().unwrap_or_default(),
            checkpoint: checkpoint.note,
            statement,
            entries,
        })
    }
}
