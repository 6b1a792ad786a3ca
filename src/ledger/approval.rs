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

/// First line of a policy-change message, domain separated from claim
/// approvals, notes and cosignatures.
pub const POLICY_HEADER: &str = "trustfund-policy/v1";

/// The exact bytes a committee member signs to agree to a new policy:
/// the estate's origin, the new version, and the SHA-256 of the new rules'
/// RFC 8785 bytes (so every count, amount and day is bound).
///
/// ```text
/// trustfund-policy/v1\n
/// origin <origin>\n
/// version <new version>\n
/// rules <SHA-256 of the rules object's RFC 8785 bytes, lowercase hex>\n
/// ```
pub fn policy_message(origin: &str, version: u32, rules: &super::PolicyRules) -> String {
    let value = serde_json::to_value(rules).unwrap_or_default();
    // Rules hold only small integers and decimal strings: JCS cannot fail.
    let bytes = super::jcs::canonicalize(&value).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes.as_bytes());
    format!(
        "{POLICY_HEADER}\norigin {origin}\nversion {version}\nrules {}\n",
        hex::encode(digest.as_ref())
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
    fn policy_message_bytes_are_fixed() {
        // The rules hash is SHA-256 of the standard rules' RFC 8785 bytes as
        // docs/FORMAT.md prints them, computed independently of this code.
        let msg = policy_message(
            "trustfund.example/estates/vectors",
            2,
            &crate::ledger::PolicyRules::standard(),
        );
        assert_eq!(
            msg,
            "trustfund-policy/v1\norigin trustfund.example/estates/vectors\nversion 2\nrules 79d2c4bb8e61f9e518c0e1ebe2321fe5badcebdd00b47964d483a72154c16278\n"
        );
        // Domain separated from claim approvals.
        assert!(!msg.starts_with(APPROVAL_HEADER));
    }

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

    #[test]
    fn every_flipped_byte_of_message_or_signature_is_rejected() {
        use crate::tlog::note::{Signer, ALG_COSIGNATURE_V1};
        let signer = Signer::from_seed(
            "trustfund.example/estates/x/members/c1",
            ALG_COSIGNATURE_V1,
            &[5; 32],
        )
        .unwrap();
        let key = signer.verifier_key();
        let msg = approval_message(
            "trustfund.example/estates/x",
            7,
            &Hash([0x11; 32]),
            Decision::Approve,
            1,
        );
        let sig = signer.sign_raw(msg.as_bytes());
        let b64 = encode_signature(&sig);
        assert!(check_approval_signature(&msg, &b64, &key).is_ok());
        // Any change to the signed message: claim, hash, decision, policy, origin.
        let bytes = msg.as_bytes();
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x20, 0x80] {
                let mut m = bytes.to_vec();
                m[i] ^= bit;
                if let Ok(m) = String::from_utf8(m) {
                    assert!(
                        check_approval_signature(&m, &b64, &key).is_err(),
                        "message byte {i} bit {bit:#x}"
                    );
                }
            }
        }
        // Any change to the signature.
        for i in 0..64 {
            for bit in [0x01u8, 0x40, 0x80] {
                let mut s = sig;
                s[i] ^= bit;
                assert!(
                    check_approval_signature(&msg, &encode_signature(&s), &key).is_err(),
                    "sig byte {i}"
                );
            }
        }
        // A reject signature is not an approve signature, and vice versa.
        let reject = approval_message(
            "trustfund.example/estates/x",
            7,
            &Hash([0x11; 32]),
            Decision::Reject,
            1,
        );
        assert!(check_approval_signature(&reject, &b64, &key).is_err());
        // Non-canonical or truncated base64 is refused before any crypto.
        assert!(check_approval_signature(&msg, &b64[..b64.len() - 4], &key).is_err());
        assert!(check_approval_signature(&msg, &format!("{b64}\n"), &key).is_err());
    }
}
