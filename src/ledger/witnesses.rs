//! Who witnesses the log, and the C2SP tlog-policy that follows from the
//! ledger itself: witness keys are the committee's and community's enrolled
//! keys, the quorum is the policy's `witnesses` count. A verifier derives
//! this from the entries; it never has to trust a policy file it was sent.

use super::entry::Role;
use super::state::State;
use crate::domain::MemberId;
use crate::tlog::note::VerifierKey;

/// Name of the committee group in the policy file. Member ids cannot
/// contain ':', so it never collides with a witness name.
pub const COMMITTEE_GROUP: &str = "trustfund:committee";

impl State {
    /// Members who may cosign checkpoints (committee and community, with an
    /// active key), in member-id order.
    pub fn witnesses(&self) -> Vec<(MemberId, Role, VerifierKey)> {
        self.members()
            .iter()
            .filter_map(|(id, m)| match (&m.key, m.role) {
                (Some(k), Role::Committee | Role::Community) => {
                    Some((id.clone(), m.role, k.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Committee cosignatures a checkpoint needs (0 before any policy).
    pub fn witness_quorum(&self) -> u8 {
        self.policy().map_or(0, |(_, rules)| rules.witnesses)
    }

    /// The C2SP tlog-policy file for the log as it stands:
    ///
    /// ```text
    /// log <log vkey>
    /// witness <member id> <vkey>          (committee and community)
    /// group trustfund:committee <k> <committee member ids…>
    /// quorum trustfund:committee          (or `quorum none` when k is 0)
    /// ```
    pub fn witness_policy(&self) -> Option<String> {
        let info = self.estate()?;
        let mut out = format!("log {}\n", info.log_key.format());
        let witnesses = self.witnesses();
        for (id, _, key) in &witnesses {
            out.push_str(&format!("witness {id} {}\n", key.format()));
        }
        let committee: Vec<String> = witnesses
            .iter()
            .filter(|(_, r, _)| *r == Role::Committee)
            .map(|(id, _, _)| id.to_string())
            .collect();
        let k = self.witness_quorum();
        if k == 0 {
            out.push_str("quorum none\n");
        } else if committee.len() < usize::from(k) {
            // The rules ask for more cosignatures than there are committee
            // keys: no checkpoint can be witnessed. C2SP has no way to say
            // "impossible", so the file says so in a comment and names the
            // whole committee; verifiers that read the ledger still demand k.
            out.push_str(&format!(
                "# the policy requires {k} committee cosignatures, but only {} committee members have keys\n",
                committee.len()
            ));
            if committee.is_empty() {
                out.push_str("quorum none\n");
            } else {
                out.push_str(&format!(
                    "group {COMMITTEE_GROUP} all {}\n",
                    committee.join(" ")
                ));
                out.push_str(&format!("quorum {COMMITTEE_GROUP}\n"));
            }
        } else {
            out.push_str(&format!(
                "group {COMMITTEE_GROUP} {k} {}\n",
                committee.join(" ")
            ));
            out.push_str(&format!("quorum {COMMITTEE_GROUP}\n"));
        }
        Some(out)
    }
}
