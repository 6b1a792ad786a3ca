//! SHA-256 hashes and the three RFC 9162 §2.1.1 hash formulas.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::digest::{Context, SHA256};

use super::TlogError;

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 output: a record (leaf) hash, a node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// All zero bytes. Not the hash of anything: it stands for "no previous
    /// entry" in the `prev` link of entry 0, where a real hash would suggest
    /// a predecessor that does not exist.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// Lowercase hexadecimal, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 lowercase hexadecimal digits. Uppercase is refused
    /// so that every hash has one spelling and text can be compared as text.
    pub fn from_hex(s: &str) -> Result<Hash, TlogError> {
        let well_formed = s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(TlogError::Malformed(
                "a hash must be exactly 64 lowercase hexadecimal digits".into(),
            ));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)
            .map_err(|e| TlogError::Malformed(format!("hash is not hexadecimal: {e}")))?;
        Ok(Hash(out))
    }

    /// Standard padded base64 (RFC 4648 §4), the encoding checkpoints use.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parses standard padded base64 (RFC 4648 §4) of exactly 32 bytes.
    /// Non-canonical spellings (non-zero padding bits, missing padding) are
    /// refused so a checkpoint has exactly one valid byte form.
    pub fn from_base64(s: &str) -> Result<Hash, TlogError> {
        let bytes = decode_base64_canonical(s)?;
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            TlogError::Malformed(format!(
                "a hash must decode to 32 bytes, got {}",
                bytes.len()
            ))
        })?;
        Ok(Hash(arr))
    }
}

/// The zero hash: what `prev` holds before entry 0.
impl Default for Hash {
    fn default() -> Hash {
        Hash::ZERO
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

/// Decodes standard padded base64 (RFC 4648 §4) and refuses any input that
/// is not the one canonical encoding of its bytes. The re-encoding check
/// makes canonicality hold by construction rather than by trusting the
/// decoder's configuration.
pub(crate) fn decode_base64_canonical(s: &str) -> Result<Vec<u8>, TlogError> {
    let bytes = STANDARD
        .decode(s)
        .map_err(|e| TlogError::Malformed(format!("invalid base64: {e}")))?;
    if STANDARD.encode(&bytes) != s {
        return Err(TlogError::Malformed("non-canonical base64".into()));
    }
    Ok(bytes)
}

/// SHA-256 over the concatenation of `parts`.
fn sha256(parts: &[&[u8]]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    // SHA-256 always yields 32 bytes; the length is not input-derived.
    out.copy_from_slice(ctx.finish().as_ref());
    Hash(out)
}

/// The leaf hash of a record: `SHA-256(0x00 || data)` (RFC 9162 §2.1.1,
/// `MTH({d(0)})`). The prefix keeps a leaf from being passed off as a node.
pub fn record_hash(data: &[u8]) -> Hash {
    sha256(&[&[LEAF_PREFIX], data])
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`
/// (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[NODE_PREFIX], &left.0, &right.0])
}

/// The root of the empty tree: `SHA-256()` of no bytes (RFC 9162 §2.1.1,
/// `MTH({})`).
pub fn empty_tree_hash() -> Hash {
    sha256(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // SHA-256("") and the RFC 6962 test-vector leaf hash of the empty record.
        assert_eq!(
            empty_tree_hash().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            record_hash(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        // Size-2 root of the CT test leaves "" and 0x00.
        assert_eq!(
            node_hash(&record_hash(b""), &record_hash(&[0x00])).to_hex(),
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
        );
    }

    #[test]
    fn hex_round_trip_and_strictness() {
        let h = record_hash(b"x");
        assert_eq!(Hash::from_hex(&h.to_hex()).unwrap(), h);
        assert!(Hash::from_hex(&h.to_hex().to_uppercase()).is_err());
        assert!(Hash::from_hex(&h.to_hex()[..62]).is_err());
        assert!(Hash::from_hex(&format!("{}00", h.to_hex())).is_err());
        assert!(Hash::from_hex(&format!("{}g", &h.to_hex()[..63])).is_err());
        assert!(Hash::from_hex("").is_err());
        assert_eq!(format!("{h:?}"), format!("Hash({})", h.to_hex()));
    }

    #[test]
    fn base64_round_trip_and_strictness() {
        let h = record_hash(b"x");
        let b = h.to_base64();
        assert_eq!(b.len(), 44);
        assert_eq!(Hash::from_base64(&b).unwrap(), h);
        // Missing padding, URL alphabet, wrong length, whitespace.
        assert!(Hash::from_base64(b.trim_end_matches('=')).is_err());
        assert!(Hash::from_base64(&STANDARD.encode([0xfbu8; 32]).replace('+', "-")).is_err());
        assert!(Hash::from_base64(&STANDARD.encode([1u8; 31])).is_err());
        assert!(Hash::from_base64(&STANDARD.encode([1u8; 33])).is_err());
        assert!(Hash::from_base64(&format!(" {b}")).is_err());
        // Non-zero padding bits: 32 bytes leave 2 unused bits in char 43.
        let zero = Hash::ZERO.to_base64();
        assert_eq!(zero, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        let noncanonical = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=";
        assert!(Hash::from_base64(noncanonical).is_err());
    }
}
