//! Read-only views of the replayed [`State`] for the owners' pages and the
//! read API. Pure, like the rest of the ledger: they only look.

use super::entry::Role;
use super::state::{Claim, ClaimStatus, State};
use crate::domain::{MemberId, Period, Timestamp};

/// Where a claim stands as an owner would put it at a given moment: a
/// pending claim past its expiry can no longer be paid, even before the
/// `claim_expired` entry that records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Pending,
    Executed {
        seq: u64,
    },
    Rejected {
        seq: u64,
    },
    /// `seq` is the `claim_expired` entry, `None` while not yet recorded.
    Expired {
        seq: Option<u64>,
    },
}

impl Standing {
    /// The stable machine name used by filters and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Pending => "pending",
            Standing::Executed { .. } => "executed",
            Standing::Rejected { .. } => "rejected",
            Standing::Expired { .. } => "expired",
        }
    }

    pub const NAMES: [&'static str; 4] = ["pending", "executed", "rejected", "expired"];
}

impl Claim {
    /// Where the claim stands at `at`.
    pub fn standing(&self, at: Timestamp) -> Standing {
        match self.status {
            ClaimStatus::Pending if at > self.expires => Standing::Expired { seq: None },
            ClaimStatus::Pending => Standing::Pending,
            ClaimStatus::Executed { seq } => Standing::Executed { seq },
            ClaimStatus::Rejected { seq } => Standing::Rejected { seq },
            ClaimStatus::Expired { seq } => Standing::Expired { seq: Some(seq) },
        }
    }
}

impl State {
    /// Claims newest first, starting below `before` when given.
    pub fn claims_newest_first(&self, before: Option<u64>) -> impl Iterator<Item = &Claim> {
        self.claims()
            .range(..before.unwrap_or(u64::MAX))
            .rev()
            .map(|(_, c)| c)
    }

    /// Claims that can still be approved at `at`, newest first.
    pub fn open_claims(&self, at: Timestamp) -> impl Iterator<Item = &Claim> {
        self.claims_newest_first(None)
            .filter(move |c| c.standing(at) == Standing::Pending)
    }

    /// Every claim that names service record `record`, oldest first (a
    /// rejected claim frees the record for another).
    pub fn claims_for_record(&self, record: u64) -> Vec<&Claim> {
        self.claims()
            .values()
            .filter(|c| c.service_record == Some(record))
            .collect()
    }

    /// Fee income collected over several months, in fen.
    pub fn collected_fen_over(&self, periods: &[Period]) -> i64 {
        periods.iter().map(|p| self.collected(*p).fen()).sum()
    }

    /// The role a member was enrolled with.
    pub fn member_role(&self, member: &str) -> Option<Role> {
        let id = MemberId::parse("member", member).ok()?;
        self.members().get(&id).map(|m| m.role)
    }
}
