//! The approval message: what a company signatory or committee member
//! signs to approve or reject a claim (DESIGN.md §4.6, `docs/FORMAT.md`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::signature::{UnparsedPublicKey, ED25519};

use crate::tlog::note::VerifierKey;
use crate::tlog::Hash;

/// First line of every approval message: domain separation, so an
/// approval signature can never be mistaken for a note or cosignature.
pub const APPROVAL_HEADER: &str = "trustfund-approval/v1";

/// Approve or reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }
}

/// The exact bytes signed. Binding the origin ties the signature to one
/// estate; the claim's entry hash ties it to the payee, amount, account
/// and purpose; the policy version makes it lapse when the policy changes.
///
/// ```text
/// trustfund-approval/v1\n
/// origin <origin>\n
/// claim <seq>\n
/// hash <claim entry hash, lowercase hex>\n
/// decision <approve|reject>\n
/// policy <version>\n
/// ```
pub fn approval_message(
    origin: &str,
    claim_seq: u64,
    claim_hash: &Hash,
    decision: Decision,
    policy: u32,
) -> String {
    format!(
        "{APPROVAL_HEADER}\norigin {origin}\nclaim {claim_seq}\nhash {}\ndecision {}\npolicy {policy}\n",
        claim_hash.to_hex(),
        decision.as_str()
    )
}

/// Checks an approval signature (standard padded base64 of 64 bytes).
pub fn check_approval_signature(
    message: &str,
    signature_b64: &str,
    key: &VerifierKey,
) -> Result<(), String> {
    let sig = B64
        .decode(signature_b64)
        .map_err(|_| "signature is not valid base64".to_string())?;
    if sig.len() != 64 || B64.encode(&sig) != signature_b64 {
        return Err("signature must be 64 bytes in standard padded base64".into());
    }
    UnparsedPublicKey::new(&ED25519, &key.public_key)
        .verify(message.as_bytes(), &sig)
        .map_err(|_| "signature does not verify for this claim, decision and key".to_string())
}

/// Encodes a raw signature the way entries carry it.
pub fn encode_signature(sig: &[u8; 64]) -> String {
    B64.encode(sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_bytes_are_fixed() {
        let h = Hash([0xab; 32]);
        let m = approval_message(
            "trustfund.example/estates/dongfang",
            42,
            &h,
            Decision::Approve,
            1,
        );
        assert_eq!(
            m,
            format!(
                "trustfund-approval/v1\norigin trustfund.example/estates/dongfang\nclaim 42\nhash {}\ndecision approve\npolicy 1\n",
                "ab".repeat(32)
            )
        );
    }
}
