//! Closing claims whose approval window has passed.

use super::{Appended, Draft, Result, Store};
use crate::domain::{Slug, Timestamp};
use crate::keys::LogKey;
use crate::ledger::{Body, ClaimStatus};

impl Store {
    /// Appends, in one append, a `claim_expired` entry for every pending
    /// claim whose `expires` is before `now`, oldest first. Nothing to close
    /// means no append (and no new checkpoint) and an empty result.
    ///
    /// The ledger checks each closing again under the append's lock: if
    /// another writer closed one of these claims in between, the whole
    /// append is refused and the next run picks up what is left.
    pub async fn expire_claims(
        &self,
        slug: &Slug,
        now: Timestamp,
        log: &LogKey,
    ) -> Result<Vec<Appended>> {
        let due: Vec<u64> = self
            .with_state(slug, |s| {
                s.claims()
                    .values()
                    .filter(|c| c.status == ClaimStatus::Pending && c.expires < now)
                    .map(|c| c.seq)
                    .collect()
            })
            .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let drafts: Vec<Draft> = due
            .into_iter()
            .map(|claim| Body::ClaimExpired { claim }.into())
            .collect();
        self.append(slug, drafts, now, log).await
    }
}
