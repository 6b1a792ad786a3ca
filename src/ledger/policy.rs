//! Approval policy: how many signatures of each party a claim needs.

use serde::{Deserialize, Serialize};

use super::account::FundAccount;
use crate::domain::Money;

/// Largest count a rule may demand of one party: far above any real
/// committee, small enough that a typo cannot lock the fund for good
/// without it being obvious.
pub const MAX_SIGNERS: u8 = 15;
/// Longest a claim may stay open.
pub const MAX_CLAIM_TTL_DAYS: u32 = 365;

/// Signatures needed from each party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub company: u8,
    pub committee: u8,
    pub community: u8,
}

impl Requirement {
    /// The stricter of two requirements, party by party.
    pub fn max(self, other: Requirement) -> Requirement {
        Requirement {
            company: self.company.max(other.company),
            committee: self.committee.max(other.committee),
            community: self.community.max(other.community),
        }
    }
}

/// A stricter requirement for claims strictly above an amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AboveRule {
    pub amount: Money,
    pub require: Requirement,
}

/// The rules of one policy version, as they appear in a `policy_set` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRules {
    /// Applies to every claim.
    pub default: Requirement,
    /// Also applies to claims on the maintenance reserve.
    pub reserve: Requirement,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<AboveRule>,
    pub claim_ttl_days: u32,
    /// Committee cosignatures a checkpoint needs to count as witnessed
    /// (C2SP tlog-policy quorum; 0 means the log's signature alone).
    pub witnesses: u8,
}

impl PolicyRules {
    /// The trust model's default: the company and at least one committee
    /// member; three committee members for the reserve or above ¥50,000.
    pub fn standard() -> PolicyRules {
        let strict = Requirement {
            company: 1,
            committee: 3,
            community: 0,
        };
        PolicyRules {
            default: Requirement {
                company: 1,
                committee: 1,
                community: 0,
            },
            reserve: strict,
            above: Money::from_fen(5_000_000).ok().map(|amount| AboveRule {
                amount,
                require: strict,
            }),
            claim_ttl_days: 30,
            witnesses: 2,
        }
    }

    /// What a claim on `account` for `amount` needs: the strictest rule that applies.
    pub fn requirement(&self, account: FundAccount, amount: Money) -> Requirement {
        let mut r = self.default;
        if account == FundAccount::Reserve {
            r = r.max(self.reserve);
        }
        if let Some(above) = &self.above {
            if amount > above.amount {
                r = r.max(above.require);
            }
        }
        r
    }

    /// Refuses rules that could never be met or would let money out unchecked.
    /// The committee signatures a change of this policy needs: its
    /// strictest committee requirement, since the policy also guards the
    /// reserve and large claims.
    pub fn committee_to_change(&self) -> u8 {
        let mut n = self.default.committee.max(self.reserve.committee);
        if let Some(above) = &self.above {
            n = n.max(above.require.committee);
        }
        n
    }

    pub fn check(&self) -> Result<(), String> {
        for (name, r) in [("default", self.default), ("reserve", self.reserve)]
            .into_iter()
            .chain(self.above.iter().map(|a| ("above", a.require)))
        {
            if r.company > MAX_SIGNERS || r.committee > MAX_SIGNERS || r.community > MAX_SIGNERS {
                return Err(format!(
                    "rules.{name}: at most {MAX_SIGNERS} signers per party"
                ));
            }
        }
        // The trust model's core promise: no money leaves without both sides.
        if self.default.company == 0 || self.default.committee == 0 {
            return Err(
                "rules.default: the company and at least one committee member must sign".into(),
            );
        }
        if self.witnesses > MAX_SIGNERS {
            return Err(format!("rules.witnesses: at most {MAX_SIGNERS}"));
        }
        if !(1..=MAX_CLAIM_TTL_DAYS).contains(&self.claim_ttl_days) {
            return Err(format!(
                "rules.claim_ttl_days: must be 1 to {MAX_CLAIM_TTL_DAYS}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictest_rule_applies() {
        let p = PolicyRules::standard();
        let small = Money::from_fen(10_000).unwrap();
        let big = Money::from_fen(6_000_000).unwrap();
        let edge = Money::from_fen(5_000_000).unwrap();
        assert_eq!(p.requirement(FundAccount::Operating, small).committee, 1);
        assert_eq!(
            p.requirement(FundAccount::Operating, edge).committee,
            1,
            "above means strictly above"
        );
        assert_eq!(p.requirement(FundAccount::Operating, big).committee, 3);
        assert_eq!(p.requirement(FundAccount::Reserve, small).committee, 3);
        assert!(p.check().is_ok());
    }

    #[test]
    fn rules_without_both_parties_are_refused() {
        let mut p = PolicyRules::standard();
        p.default.committee = 0;
        assert!(p.check().is_err());
        let mut p = PolicyRules::standard();
        p.claim_ttl_days = 0;
        assert!(p.check().is_err());
    }
}
