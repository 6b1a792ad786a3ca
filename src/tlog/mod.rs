//! The transparency log core: RFC 9162 hashes, the Merkle tree over stored
//! nodes, inclusion and consistency proofs, C2SP signed notes and
//! checkpoints, and C2SP tlog-cosignature/v1 witness signatures.
//!
//! Modelled on Go's `golang.org/x/mod/sumdb/tlog` and `sumdb/note`.
//! Everything here is pure: no IO, no clock, no randomness except what a
//! caller passes in. Storage reaches the tree only through
//! [`tree::HashReader`]; every `tree::prove_*`/`tree_hash`/`append` has a
//! `nodes_for_*` twin naming exactly the nodes it will read, so a caller can
//! fetch them in one query first.

pub mod checkpoint;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tree;

pub use hash::{empty_tree_hash, node_hash, record_hash, Hash};

/// Everything that can go wrong in the log core. Messages are written for
/// the operator who has to act on them; none quotes secret material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TlogError {
    /// A leaf index that is not inside the tree it is asked about.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A tree size beyond [`tree::MAX_TREE_SIZE`].
    #[error("tree size {size} exceeds the maximum of 2^62 leaves")]
    SizeTooLarge { size: u64 },
    /// A consistency question where the "old" tree is the larger one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    /// The hash reader does not have a node the computation needs.
    #[error("stored hash for tree node at level {level}, index {index} is missing")]
    MissingNode { level: u8, index: u64 },
    /// The hash reader broke its contract by answering with the wrong count.
    #[error("hash reader returned {got} hashes for {want} requested nodes")]
    ReaderMismatch { want: usize, got: usize },
    /// An inclusion or consistency proof that does not prove its claim.
    #[error("proof rejected: {0}")]
    BadProof(String),
    /// Text or encoded bytes that do not follow their format.
    #[error("malformed input: {0}")]
    Malformed(String),
    /// A key that is not usable: bad name, algorithm, length or key id.
    #[error("invalid key: {0}")]
    BadKey(String),
    /// A signature from a known key that does not verify.
    #[error("signature rejected: {0}")]
    BadSignature(String),
    /// A signature line whose (name, key id) is not the key it was checked with.
    #[error("no trusted key named {name:?} with key id {key_id:08x}")]
    UnknownKey { name: String, key_id: u32 },
    /// Two different trusted keys share one (name, key id) pair.
    #[error("more than one trusted key is named {name:?} with key id {key_id:08x}")]
    AmbiguousKey { name: String, key_id: u32 },
    /// A note none of whose signatures comes from a trusted key.
    #[error("note has no valid signature from a trusted key")]
    NoTrustedSignature,
    /// A checkpoint whose origin line is not the name of the log key.
    #[error("checkpoint origin {origin:?} does not match log key name {key_name:?}")]
    OriginMismatch { origin: String, key_name: String },
    /// The random number generator a caller passed in failed.
    #[error("random number generator failed")]
    Rng,
}

/// Known-answer files under `fixtures/vectors/tlog/`.
#[cfg(test)]
pub(crate) mod golden {
    /// Compares `got` byte for byte with the committed vector file `name`.
    /// With `TLOG_UPDATE_GOLDEN=1` set it writes the file instead; the
    /// vectors are produced by this code once and then frozen, so any later
    /// change in output (or edit of the file) fails the test.
    pub(crate) fn check(name: &str, got: &str) {
        let path = format!(
            "{}/fixtures/vectors/tlog/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        if std::env::var_os("TLOG_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, got).unwrap();
            return;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (run with TLOG_UPDATE_GOLDEN=1 to create it)"));
        assert!(
            got == want,
            "{path} differs from what the code produces:\n--- file\n{want}\n--- code\n{got}"
        );
    }

    /// Reads a committed vector file.
    pub(crate) fn read(name: &str) -> String {
        let path = format!(
            "{}/fixtures/vectors/tlog/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}
