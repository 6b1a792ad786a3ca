//! The RFC 9162 §2.1 Merkle tree over stored, complete subtrees.
//!
//! Storage keeps one hash per complete, aligned subtree ([`NodeId`]), written
//! once when the subtree completes and never changed. Every tree hash and
//! proof is assembled from those nodes alone: the recursions of RFC 9162
//! §2.1 only ever ask for `MTH(D[lo:hi])` where `lo` is a multiple of a power
//! of two at least `hi - lo`, and such a range splits into at most 63
//! complete subtrees of strictly decreasing size. So no function here needs a
//! node that is not yet complete, and each reads O(log n) nodes: once a
//! proof's recursion enters a complete subtree every later sibling is a
//! single node, so only one sibling range ever needs more than one.
//!
//! Every function that reads has a `nodes_for_*` twin listing exactly the
//! ids it will ask the [`HashReader`] for, in the same order, so a caller
//! can prefetch them from a database in one query.

use std::collections::HashMap;

use super::hash::{empty_tree_hash, node_hash, Hash};
use super::TlogError;

/// The largest tree this module works with. 2^62 keeps every index and
/// size arithmetic below far from `u64` overflow and every level below 63;
/// no real log comes near it.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// A stored node: the complete, aligned subtree covering leaves
/// `[index << level, (index + 1) << level)`. Level 0 nodes are record hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

/// Where stored node hashes come from.
///
/// Contract: `read_hashes` returns one hash per requested id, in the order
/// asked, each the hash of that complete subtree; a node it does not have is
/// [`TlogError::MissingNode`]. It is never asked for a node that is not
/// complete in the tree size the caller named.
pub trait HashReader {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, TlogError>;
}

impl HashReader for HashMap<NodeId, Hash> {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, TlogError> {
        ids.iter()
            .map(|id| {
                self.get(id).copied().ok_or(TlogError::MissingNode {
                    level: id.level,
                    index: id.index,
                })
            })
            .collect()
    }
}

/// Reads `ids` and holds the reader to its contract on the count, so a
/// short answer cannot be mistaken for a shorter proof.
fn read_exact(r: &impl HashReader, ids: &[NodeId]) -> Result<Vec<Hash>, TlogError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = r.read_hashes(ids)?;
    if hashes.len() != ids.len() {
        return Err(TlogError::ReaderMismatch {
            want: ids.len(),
            got: hashes.len(),
        });
    }
    Ok(hashes)
}

fn check_size(size: u64) -> Result<(), TlogError> {
    if size > MAX_TREE_SIZE {
        return Err(TlogError::SizeTooLarge { size });
    }
    Ok(())
}

/// `k`, the largest power of two smaller than `n`, where RFC 9162 §2.1.1
/// splits a tree of `n >= 2` leaves.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

// ---------------------------------------------------------------------------
// Appending

/// The stored nodes [`append`] reads when leaf `leaf_index` is appended: the
/// left sibling of each subtree that the new leaf completes, lowest level
/// first. Empty for an even index (nothing completes above the leaf) and for
/// an index at or beyond [`MAX_TREE_SIZE`] (append refuses it unread).
pub fn nodes_for_append(leaf_index: u64) -> Vec<NodeId> {
    let mut ids = Vec::new();
    if leaf_index >= MAX_TREE_SIZE {
        return ids;
    }
    let mut level = 0u8;
    let mut index = leaf_index;
    // A node that is a right child completes its parent; the parent needs
    // the left sibling, which completed earlier and is stored.
    while index & 1 == 1 {
        ids.push(NodeId {
            level,
            index: index - 1,
        });
        index >>= 1;
        level += 1;
    }
    ids
}

/// Appends leaf `leaf_index` with record hash `leaf` and returns every new
/// node to store: the leaf itself at level 0, then each parent the leaf
/// completed, upwards. Parents are `node_hash(left, right)` (RFC 9162
/// §2.1.1). `r` must hold the nodes of the tree of size `leaf_index`.
pub fn append(
    leaf_index: u64,
    leaf: Hash,
    r: &impl HashReader,
) -> Result<Vec<(NodeId, Hash)>, TlogError> {
    if leaf_index >= MAX_TREE_SIZE {
        return Err(TlogError::SizeTooLarge {
            size: leaf_index.saturating_add(1),
        });
    }
    let ids = nodes_for_append(leaf_index);
    let siblings = read_exact(r, &ids)?;
    let mut out = Vec::with_capacity(ids.len() + 1);
    out.push((
        NodeId {
            level: 0,
            index: leaf_index,
        },
        leaf,
    ));
    let mut h = leaf;
    for (id, left) in ids.iter().zip(&siblings) {
        h = node_hash(left, &h);
        out.push((
            NodeId {
                level: id.level + 1,
                index: id.index >> 1,
            },
            h,
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Subtree ranges

/// Appends the stored nodes that exactly cover leaves `[lo, hi)`, left to
/// right. Each step takes the largest power of two that fits the remaining
/// width and divides `lo`, so any range gets a valid cover; for the ranges
/// RFC 9162 §2.1 recursions produce (`lo` a multiple of a power of two
/// no smaller than `hi - lo`) the sizes strictly decrease, which is what
/// makes [`fold_right`] of their hashes equal `MTH(D[lo:hi])`.
fn push_range_ids(mut lo: u64, hi: u64, out: &mut Vec<NodeId>) {
    while lo < hi {
        let width_level = 63 - (hi - lo).leading_zeros();
        let level = if lo == 0 {
            width_level
        } else {
            width_level.min(lo.trailing_zeros())
        };
        out.push(NodeId {
            level: level as u8,
            index: lo >> level,
        });
        lo += 1 << level;
    }
}

/// `MTH` of a range from the hashes of its cover, largest first: the right
/// part of every RFC 9162 §2.1.1 split is folded before it is joined to its
/// complete left sibling. An empty cover is the empty tree, `SHA-256()`.
fn fold_right(hashes: &[Hash]) -> Hash {
    match hashes.split_last() {
        None => empty_tree_hash(),
        Some((last, rest)) => rest
            .iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc)),
    }
}

fn ranges_ids(ranges: &[(u64, u64)]) -> Vec<NodeId> {
    let mut ids = Vec::new();
    for &(lo, hi) in ranges {
        push_range_ids(lo, hi, &mut ids);
    }
    ids
}

/// Reads the covers of all `ranges` in one call and returns each range's
/// `MTH`, in order.
fn hash_ranges(ranges: &[(u64, u64)], r: &impl HashReader) -> Result<Vec<Hash>, TlogError> {
    let mut ids = Vec::new();
    let mut ends = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        push_range_ids(lo, hi, &mut ids);
        ends.push(ids.len());
    }
    let hashes = read_exact(r, &ids)?;
    let mut start = 0;
    let mut out = Vec::with_capacity(ranges.len());
    for end in ends {
        // read_exact returned exactly ids.len() hashes and every end is at
        // most ids.len(), so the slice is in bounds.
        out.push(fold_right(&hashes[start..end]));
        start = end;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Tree hash

/// The stored nodes [`tree_hash`] reads: the maximal complete subtrees that
/// make up a tree of `tree_size` leaves, largest (leftmost) first. Empty for
/// size 0 and for sizes beyond [`MAX_TREE_SIZE`].
pub fn nodes_for_tree_hash(tree_size: u64) -> Vec<NodeId> {
    let mut ids = Vec::new();
    if tree_size <= MAX_TREE_SIZE {
        push_range_ids(0, tree_size, &mut ids);
    }
    ids
}

/// The root `MTH(D[tree_size])` (RFC 9162 §2.1.1) from at most 62 stored
/// nodes; the empty tree's root is `SHA-256()`.
pub fn tree_hash(tree_size: u64, r: &impl HashReader) -> Result<Hash, TlogError> {
    check_size(tree_size)?;
    let ids = nodes_for_tree_hash(tree_size);
    Ok(fold_right(&read_exact(r, &ids)?))
}

// ---------------------------------------------------------------------------
// Inclusion proofs

fn check_index(index: u64, tree_size: u64) -> Result<(), TlogError> {
    check_size(tree_size)?;
    if index >= tree_size {
        return Err(TlogError::IndexOutOfRange {
            index,
            size: tree_size,
        });
    }
    Ok(())
}

/// The leaf ranges whose `MTH`s form `PATH(index, D[tree_size])`
/// (RFC 9162 §2.1.3.1), in proof order: sibling of the leaf first, sibling
/// of the root's child last. The recursion appends its own element after the
/// recursive part, so walking it top-down yields the reverse order.
fn inclusion_ranges(index: u64, tree_size: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0u64, tree_size);
    let mut out = Vec::new();
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
        }
    }
    out.reverse();
    out
}

/// The stored nodes [`prove_inclusion`] reads, in read order.
pub fn nodes_for_inclusion(index: u64, tree_size: u64) -> Result<Vec<NodeId>, TlogError> {
    check_index(index, tree_size)?;
    Ok(ranges_ids(&inclusion_ranges(index, tree_size)))
}

/// The audit path `PATH(index, D[tree_size])` (RFC 9162 §2.1.3.1).
pub fn prove_inclusion(
    index: u64,
    tree_size: u64,
    r: &impl HashReader,
) -> Result<Vec<Hash>, TlogError> {
    check_index(index, tree_size)?;
    hash_ranges(&inclusion_ranges(index, tree_size), r)
}

/// Verifies that `leaf` (a record hash) is at `index` in the tree of
/// `tree_size` leaves with root `root`, by the algorithm of RFC 9162
/// §2.1.3.2. A proof with extra or missing hashes is refused even before
/// hashing: its length is fixed by `index` and `tree_size`.
pub fn check_inclusion(
    proof: &[Hash],
    index: u64,
    tree_size: u64,
    leaf: &Hash,
    root: &Hash,
) -> Result<(), TlogError> {
    check_index(index, tree_size)?;
    let want = inclusion_ranges(index, tree_size).len();
    if proof.len() != want {
        return Err(TlogError::BadProof(format!(
            "inclusion proof for leaf {index} in tree size {tree_size} has {} hashes, want {want}",
            proof.len()
        )));
    }
    let mut fn_ = index;
    let mut sn = tree_size - 1;
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(TlogError::BadProof("inclusion proof is too long".into()));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // Past the right edge of the tree, levels without a right
            // sibling carry the hash up unchanged.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(TlogError::BadProof("inclusion proof is too short".into()));
    }
    if r != *root {
        return Err(TlogError::BadProof(format!(
            "inclusion proof for leaf {index} does not lead to the root of tree size {tree_size}"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Consistency proofs

fn check_sizes(old_size: u64, new_size: u64) -> Result<(), TlogError> {
    check_size(new_size)?;
    if old_size > new_size {
        return Err(TlogError::SizesOutOfOrder { old_size, new_size });
    }
    Ok(())
}

/// The leaf ranges whose `MTH`s form `PROOF(old_size, D[new_size])` =
/// `SUBPROOF(old_size, D[new_size], true)` (RFC 9162 §2.1.4.1), in proof
/// order. Requires `0 < old_size < new_size`. `complete` is the recursion's
/// flag `b`: whether the old tree's root is the current range's root and so
/// already known to the verifier.
fn consistency_ranges(old_size: u64, new_size: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0u64, new_size);
    let mut complete = true;
    let mut out = Vec::new();
    // Invariant: lo < old_size <= hi, so the loop ends at old_size == hi
    // before the range can shrink below two leaves.
    loop {
        if old_size == hi {
            if !complete {
                out.push((lo, hi));
            }
            break;
        }
        let k = split_point(hi - lo);
        if old_size <= lo + k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
            complete = false;
        }
    }
    out.reverse();
    out
}

fn consistency_ranges_checked(old_size: u64, new_size: u64) -> Result<Vec<(u64, u64)>, TlogError> {
    check_sizes(old_size, new_size)?;
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    Ok(consistency_ranges(old_size, new_size))
}

/// The stored nodes [`prove_consistency`] reads, in read order.
pub fn nodes_for_consistency(old_size: u64, new_size: u64) -> Result<Vec<NodeId>, TlogError> {
    Ok(ranges_ids(&consistency_ranges_checked(old_size, new_size)?))
}

/// The consistency proof `PROOF(old_size, D[new_size])` (RFC 9162
/// §2.1.4.1). Empty when `old_size` is 0 or equals `new_size`: every tree
/// extends the empty tree, and a tree is consistent with itself.
pub fn prove_consistency(
    old_size: u64,
    new_size: u64,
    r: &impl HashReader,
) -> Result<Vec<Hash>, TlogError> {
    hash_ranges(&consistency_ranges_checked(old_size, new_size)?, r)
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a
/// prefix of the tree of `new_size` leaves with root `new_root`, by the
/// algorithm of RFC 9162 §2.1.4.2. For `old_size == new_size` the proof
/// must be empty and the roots equal; for `old_size == 0` the proof must be
/// empty and `old_root` must be the empty tree's root.
pub fn check_consistency(
    proof: &[Hash],
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), TlogError> {
    let want = consistency_ranges_checked(old_size, new_size)?.len();
    if proof.len() != want {
        return Err(TlogError::BadProof(format!(
            "consistency proof from size {old_size} to {new_size} has {} hashes, want {want}",
            proof.len()
        )));
    }
    if old_size == new_size {
        if old_root != new_root {
            return Err(TlogError::BadProof(format!(
                "two different roots for tree size {new_size}"
            )));
        }
        return Ok(());
    }
    if old_size == 0 {
        if *old_root != empty_tree_hash() {
            return Err(TlogError::BadProof(
                "root of the empty tree is not SHA-256 of nothing".into(),
            ));
        }
        return Ok(());
    }
    // The proof omits the old root when it is itself a node of the new tree
    // (old_size a power of two); the verifier supplies it.
    let (first, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(TlogError::BadProof("consistency proof is empty".into())),
        }
    };
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if sn == 0 {
            return Err(TlogError::BadProof("consistency proof is too long".into()));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(TlogError::BadProof("consistency proof is too short".into()));
    }
    if fr != *old_root {
        return Err(TlogError::BadProof(format!(
            "consistency proof does not lead to the root of tree size {old_size}"
        )));
    }
    if sr != *new_root {
        return Err(TlogError::BadProof(format!(
            "consistency proof does not lead to the root of tree size {new_size}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use proptest::prelude::*;

    use super::*;
    use crate::tlog::hash::record_hash;

    /// `MTH`, `PATH` and `SUBPROOF` transcribed from RFC 9162 §2.1.1,
    /// §2.1.3.1 and §2.1.4.1 over an in-memory list of record hashes. The
    /// memo only caches `MTH` results, it does not change the recursion.
    struct Reference {
        leaves: Vec<Hash>,
        memo: RefCell<HashMap<(usize, usize), Hash>>,
    }

    impl Reference {
        fn new(leaves: Vec<Hash>) -> Self {
            Reference {
                leaves,
                memo: RefCell::new(HashMap::new()),
            }
        }

        fn k(n: usize) -> usize {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            k
        }

        /// MTH(D[lo:hi])
        fn mth(&self, lo: usize, hi: usize) -> Hash {
            if let Some(h) = self.memo.borrow().get(&(lo, hi)) {
                return *h;
            }
            let h = match hi - lo {
                0 => empty_tree_hash(),
                1 => self.leaves[lo],
                n => {
                    let k = Self::k(n);
                    node_hash(&self.mth(lo, lo + k), &self.mth(lo + k, hi))
                }
            };
            self.memo.borrow_mut().insert((lo, hi), h);
            h
        }

        /// PATH(m, D[lo:hi])
        fn path(&self, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
            let n = hi - lo;
            if n == 1 {
                return vec![];
            }
            let k = Self::k(n);
            if m < k {
                let mut p = self.path(m, lo, lo + k);
                p.push(self.mth(lo + k, hi));
                p
            } else {
                let mut p = self.path(m - k, lo + k, hi);
                p.push(self.mth(lo, lo + k));
                p
            }
        }

        /// SUBPROOF(m, D[lo:hi], b)
        fn subproof(&self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<Hash> {
            let n = hi - lo;
            if m == n {
                return if b { vec![] } else { vec![self.mth(lo, hi)] };
            }
            let k = Self::k(n);
            if m <= k {
                let mut p = self.subproof(m, lo, lo + k, b);
                p.push(self.mth(lo + k, hi));
                p
            } else {
                let mut p = self.subproof(m - k, lo + k, hi, false);
                p.push(self.mth(lo, lo + k));
                p
            }
        }

        /// PROOF(m, D[n]), with the empty cases of the module's contract.
        fn proof(&self, m: usize, n: usize) -> Vec<Hash> {
            if m == 0 || m == n {
                return vec![];
            }
            self.subproof(m, 0, n, true)
        }
    }

    /// A reader that records what it was asked and refuses any node that is
    /// not complete in a tree of `limit` leaves.
    struct Recorder<'a> {
        store: &'a HashMap<NodeId, Hash>,
        limit: u64,
        asked: RefCell<Vec<NodeId>>,
    }

    impl<'a> Recorder<'a> {
        fn new(store: &'a HashMap<NodeId, Hash>, limit: u64) -> Self {
            Recorder {
                store,
                limit,
                asked: RefCell::new(Vec::new()),
            }
        }
        fn take(&self) -> Vec<NodeId> {
            std::mem::take(&mut *self.asked.borrow_mut())
        }
    }

    impl HashReader for Recorder<'_> {
        fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, TlogError> {
            for id in ids {
                let end = (id.index + 1) << id.level;
                assert!(
                    end <= self.limit,
                    "read incomplete node {id:?} in tree of size {}",
                    self.limit
                );
            }
            self.asked.borrow_mut().extend_from_slice(ids);
            self.store.read_hashes(ids)
        }
    }

    /// Builds the stored nodes of a tree by appending `leaves` one by one,
    /// checking on the way that append reads exactly what it announced.
    fn build(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
        let mut store = HashMap::new();
        for (i, leaf) in leaves.iter().enumerate() {
            let i = i as u64;
            let rec = Recorder::new(&store, i);
            let new = append(i, *leaf, &rec).unwrap();
            assert_eq!(rec.take(), nodes_for_append(i), "append {i}");
            assert_eq!(new[0], (NodeId { level: 0, index: i }, *leaf));
            assert_eq!(new.len(), nodes_for_append(i).len() + 1);
            for (id, h) in new {
                assert!(store.insert(id, h).is_none(), "node {id:?} stored twice");
            }
        }
        store
    }

    fn h(s: &str) -> Hash {
        Hash::from_hex(s).unwrap()
    }

    /// The RFC 6962 / certificate-transparency test leaves.
    const CT_LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    /// Roots for sizes 1..=8 published with the CT test data.
    const CT_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn ct_leaf_hashes() -> Vec<Hash> {
        CT_LEAVES
            .iter()
            .map(|l| record_hash(&hex::decode(l).unwrap()))
            .collect()
    }

    #[test]
    fn ct_roots() {
        let leaves = ct_leaf_hashes();
        let reference = Reference::new(leaves.clone());
        let store = build(&leaves);
        assert_eq!(tree_hash(0, &store).unwrap(), empty_tree_hash());
        for (i, want) in CT_ROOTS.iter().enumerate() {
            let n = i + 1;
            assert_eq!(reference.mth(0, n), h(want), "reference root {n}");
            assert_eq!(tree_hash(n as u64, &store).unwrap(), h(want), "root {n}");
        }
    }

    /// Inclusion and consistency proofs from the certificate-transparency
    /// test data (C++ ReferenceMerklePath / ReferenceSnapshotConsistency,
    /// as carried by transparency-dev/merkle), there with 1-based leaf
    /// numbers, here 0-based indices.
    #[test]
    fn ct_proofs() {
        let store = build(&ct_leaf_hashes());
        let root = |n: u64| h(CT_ROOTS[n as usize - 1]);
        let inclusion: &[(u64, u64, &[&str])] = &[
            (0, 1, &[]),
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        let leaves = ct_leaf_hashes();
        for &(index, size, want) in inclusion {
            let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
            assert_eq!(prove_inclusion(index, size, &store).unwrap(), want);
            check_inclusion(&want, index, size, &leaves[index as usize], &root(size)).unwrap();
        }
        let consistency: &[(u64, u64, &[&str])] = &[
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                6,
                7,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for &(old, new, want) in consistency {
            let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
            assert_eq!(prove_consistency(old, new, &store).unwrap(), want);
            check_consistency(&want, old, new, &root(old), &root(new)).unwrap();
        }
    }

    /// The labelled 7-leaf example of RFC 6962 §2.1.3 (labels as in C2SP
    /// merkle-tree: h=ab, i=cd, j=ef, k=hi, l=jg).
    #[test]
    fn rfc_seven_leaf_example() {
        let d = ct_leaf_hashes();
        let (a, b, c, dd, e, f, g) = (d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
        let hh = node_hash(&a, &b);
        let i = node_hash(&c, &dd);
        let j = node_hash(&e, &f);
        let k = node_hash(&hh, &i);
        let l = node_hash(&j, &g);
        let root = node_hash(&k, &l);
        let store = build(&d[..7]);
        assert_eq!(tree_hash(7, &store).unwrap(), root);
        assert_eq!(root, h(CT_ROOTS[6]));
        assert_eq!(prove_inclusion(0, 7, &store).unwrap(), vec![b, i, l]);
        assert_eq!(prove_inclusion(3, 7, &store).unwrap(), vec![c, hh, l]);
        assert_eq!(prove_inclusion(4, 7, &store).unwrap(), vec![f, g, k]);
        assert_eq!(prove_inclusion(6, 7, &store).unwrap(), vec![j, k]);
        assert_eq!(prove_consistency(3, 7, &store).unwrap(), vec![c, dd, hh, l]);
        assert_eq!(prove_consistency(4, 7, &store).unwrap(), vec![l]);
        assert_eq!(prove_consistency(6, 7, &store).unwrap(), vec![j, g, k]);
    }

    fn synthetic_leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| record_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    /// Every size up to 300, every index and every old size: the stored-node
    /// functions equal the RFC transcription, read exactly what their
    /// `nodes_for_*` twin lists, never touch an incomplete node, and the
    /// checks accept what they produce.
    #[test]
    fn exhaustive_against_reference() {
        const N: usize = 300;
        let leaves = synthetic_leaves(N);
        let reference = Reference::new(leaves.clone());
        let store = build(&leaves);
        let roots: Vec<Hash> = (0..=N).map(|n| reference.mth(0, n)).collect();
        for n in 0..=N as u64 {
            let rec = Recorder::new(&store, n);
            assert_eq!(tree_hash(n, &rec).unwrap(), roots[n as usize], "root {n}");
            assert_eq!(rec.take(), nodes_for_tree_hash(n));
            for i in 0..n {
                let proof = prove_inclusion(i, n, &rec).unwrap();
                assert_eq!(rec.take(), nodes_for_inclusion(i, n).unwrap());
                assert_eq!(
                    proof,
                    reference.path(i as usize, 0, n as usize),
                    "PATH({i}, {n})"
                );
                check_inclusion(&proof, i, n, &leaves[i as usize], &roots[n as usize]).unwrap();
            }
            for m in 0..=n {
                let proof = prove_consistency(m, n, &rec).unwrap();
                assert_eq!(rec.take(), nodes_for_consistency(m, n).unwrap());
                assert_eq!(
                    proof,
                    reference.proof(m as usize, n as usize),
                    "PROOF({m}, {n})"
                );
                check_consistency(&proof, m, n, &roots[m as usize], &roots[n as usize]).unwrap();
            }
        }
    }

    /// Every way of changing a valid inclusion proof or its claim is refused.
    #[test]
    fn inclusion_mangling() {
        const N: u64 = 40;
        let leaves = synthetic_leaves(N as usize);
        let store = build(&leaves);
        let roots: Vec<Hash> = (0..=N).map(|n| tree_hash(n, &store).unwrap()).collect();
        let other = record_hash(b"not in the tree");
        for n in 1..=N {
            let root = roots[n as usize];
            for i in 0..n {
                let leaf = leaves[i as usize];
                let proof = prove_inclusion(i, n, &store).unwrap();
                let bad = |p: &[Hash], i2: u64, n2: u64, leaf2: &Hash, root2: &Hash| {
                    assert!(
                        check_inclusion(p, i2, n2, leaf2, root2).is_err(),
                        "accepted mangled proof for ({i}, {n}) as ({i2}, {n2})"
                    );
                };
                for k in 0..proof.len() {
                    for bit in 0..256 {
                        let mut p = proof.clone();
                        p[k].0[bit / 8] ^= 1 << (bit % 8);
                        bad(&p, i, n, &leaf, &root);
                    }
                    let mut p = proof.clone();
                    p.remove(k);
                    bad(&p, i, n, &leaf, &root);
                    let mut p = proof.clone();
                    p.insert(k, other);
                    bad(&p, i, n, &leaf, &root);
                    if k + 1 < proof.len() {
                        let mut p = proof.clone();
                        p.swap(k, k + 1);
                        if p != proof {
                            bad(&p, i, n, &leaf, &root);
                        }
                    }
                }
                let mut p = proof.clone();
                p.push(root);
                bad(&p, i, n, &leaf, &root);
                bad(&proof, i, n, &other, &root);
                bad(&proof, i, n, &leaf, &other);
                bad(&proof, i, n, &leaf, &empty_tree_hash());
                // Another index in the same tree, with the same root.
                for i2 in 0..n {
                    if i2 != i {
                        bad(&proof, i2, n, &leaf, &root);
                    }
                }
                // Another size, with that size's true root. (With the old
                // root unchanged, a size whose verification walk is the same
                // would recompute the same root: that claims nothing new.)
                for n2 in i + 1..=N {
                    if n2 != n {
                        bad(&proof, i, n2, &leaf, &roots[n2 as usize]);
                    }
                }
                bad(&proof, i, n * 2, &leaf, &root);
                bad(&proof, n, n, &leaf, &root);
            }
        }
    }

    /// Every way of changing a valid consistency proof or its claim is refused.
    #[test]
    fn consistency_mangling() {
        const N: u64 = 40;
        let leaves = synthetic_leaves(N as usize);
        let store = build(&leaves);
        let roots: Vec<Hash> = (0..=N).map(|n| tree_hash(n, &store).unwrap()).collect();
        let other = record_hash(b"not in the tree");
        for n in 1..=N {
            for m in 1..n {
                let (r1, r2) = (roots[m as usize], roots[n as usize]);
                let proof = prove_consistency(m, n, &store).unwrap();
                let bad = |p: &[Hash], m2: u64, n2: u64, r1b: &Hash, r2b: &Hash| {
                    assert!(
                        check_consistency(p, m2, n2, r1b, r2b).is_err(),
                        "accepted mangled proof for ({m}, {n}) as ({m2}, {n2})"
                    );
                };
                for k in 0..proof.len() {
                    for bit in 0..256 {
                        let mut p = proof.clone();
                        p[k].0[bit / 8] ^= 1 << (bit % 8);
                        bad(&p, m, n, &r1, &r2);
                    }
                    let mut p = proof.clone();
                    p.remove(k);
                    bad(&p, m, n, &r1, &r2);
                    let mut p = proof.clone();
                    p.insert(k, other);
                    bad(&p, m, n, &r1, &r2);
                }
                for extra in [r1, r2, other] {
                    let mut p = proof.clone();
                    p.push(extra);
                    bad(&p, m, n, &r1, &r2);
                    let mut p = proof.clone();
                    p.insert(0, extra);
                    bad(&p, m, n, &r1, &r2);
                }
                bad(&[], m, n, &r1, &r2);
                bad(&proof, m, n, &r2, &r1);
                bad(&proof, m, n, &other, &r2);
                bad(&proof, m, n, &r1, &other);
                for m2 in 1..n {
                    if m2 != m {
                        bad(&proof, m2, n, &roots[m2 as usize], &r2);
                    }
                }
                for n2 in m + 1..=N {
                    if n2 != n {
                        bad(&proof, m, n2, &r1, &roots[n2 as usize]);
                    }
                }
                bad(&proof, n, m, &r2, &r1);
            }
        }
        // The degenerate cases: equal sizes and the empty old tree.
        let r5 = roots[5];
        check_consistency(&[], 5, 5, &r5, &r5).unwrap();
        assert!(check_consistency(&[], 5, 5, &r5, &roots[4]).is_err());
        assert!(check_consistency(&[r5], 5, 5, &r5, &r5).is_err());
        check_consistency(&[], 0, 5, &empty_tree_hash(), &r5).unwrap();
        assert!(check_consistency(&[], 0, 5, &r5, &r5).is_err());
        assert!(check_consistency(&[r5], 0, 5, &empty_tree_hash(), &r5).is_err());
    }

    #[test]
    fn bounds_are_errors_not_panics() {
        let store = build(&synthetic_leaves(4));
        let big = MAX_TREE_SIZE + 1;
        assert_eq!(
            prove_inclusion(4, 4, &store),
            Err(TlogError::IndexOutOfRange { index: 4, size: 4 })
        );
        assert!(prove_inclusion(0, 0, &store).is_err());
        assert!(nodes_for_inclusion(u64::MAX, u64::MAX).is_err());
        assert_eq!(
            tree_hash(big, &store),
            Err(TlogError::SizeTooLarge { size: big })
        );
        assert!(tree_hash(u64::MAX, &store).is_err());
        assert!(nodes_for_tree_hash(u64::MAX).is_empty());
        assert_eq!(
            prove_consistency(3, 2, &store),
            Err(TlogError::SizesOutOfOrder {
                old_size: 3,
                new_size: 2
            })
        );
        assert!(nodes_for_consistency(1, u64::MAX).is_err());
        assert!(append(MAX_TREE_SIZE, Hash::ZERO, &store).is_err());
        assert!(append(u64::MAX, Hash::ZERO, &store).is_err());
        assert!(nodes_for_append(u64::MAX).is_empty());
        let leaf = record_hash(b"");
        assert!(check_inclusion(&[], 0, 0, &leaf, &leaf).is_err());
        assert!(check_inclusion(&[], u64::MAX, u64::MAX, &leaf, &leaf).is_err());
        assert!(check_inclusion(&[leaf; 70], 0, MAX_TREE_SIZE, &leaf, &leaf).is_err());
        assert!(check_consistency(&[], 2, 1, &leaf, &leaf).is_err());
        assert!(check_consistency(&[], 1, u64::MAX, &leaf, &leaf).is_err());
        // Missing nodes are reported, not invented.
        assert_eq!(
            tree_hash(5, &store),
            Err(TlogError::MissingNode { level: 0, index: 4 })
        );
        // The largest tree still works on ids alone.
        assert_eq!(
            nodes_for_tree_hash(MAX_TREE_SIZE),
            vec![NodeId {
                level: 62,
                index: 0
            }]
        );
        assert_eq!(
            nodes_for_inclusion(MAX_TREE_SIZE - 1, MAX_TREE_SIZE)
                .unwrap()
                .len(),
            62
        );
        assert_eq!(nodes_for_append(MAX_TREE_SIZE - 1).len(), 62);
    }

    #[test]
    fn short_reader_is_refused() {
        struct Short;
        impl HashReader for Short {
            fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, TlogError> {
                Ok(vec![Hash::ZERO; ids.len().saturating_sub(1)])
            }
        }
        assert_eq!(
            tree_hash(3, &Short),
            Err(TlogError::ReaderMismatch { want: 2, got: 1 })
        );
        assert!(prove_inclusion(0, 8, &Short).is_err());
        assert!(append(1, Hash::ZERO, &Short).is_err());
    }

    /// A tree whose leaves are all the same record: the hash of every
    /// complete subtree depends only on its level, so trees up to 2^62
    /// leaves can be served in O(level) work per node.
    struct Uniform {
        by_level: Vec<Hash>,
    }

    impl Uniform {
        fn new() -> Self {
            let mut by_level = vec![record_hash(b"same")];
            for l in 1..=62 {
                let below = by_level[l - 1];
                by_level.push(node_hash(&below, &below));
            }
            Uniform { by_level }
        }
    }

    impl HashReader for Uniform {
        fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, TlogError> {
            Ok(ids
                .iter()
                .map(|id| self.by_level[id.level as usize])
                .collect())
        }
    }

    fn complete_in(ids: &[NodeId], size: u64) -> bool {
        ids.iter().all(|id| ((id.index + 1) << id.level) <= size)
    }

    /// `fixtures/vectors/tlog/tree.json`: every root, inclusion proof and
    /// consistency proof of the eight RFC 6962 test leaves. The file must be
    /// exactly what the code produces, and its proofs must verify against
    /// the published CT roots on their own.
    #[test]
    fn golden_tree_json() {
        use serde_json::{json, Value};
        let leaves = ct_leaf_hashes();
        let store = build(&leaves);
        let b64 = |v: Vec<Hash>| v.iter().map(Hash::to_base64).collect::<Vec<_>>();
        let mut roots = Vec::new();
        let mut inclusion = Vec::new();
        let mut consistency = Vec::new();
        for n in 1..=8u64 {
            roots.push(json!({"tree_size": n, "root": tree_hash(n, &store).unwrap().to_base64()}));
            for i in 0..n {
                let proof = b64(prove_inclusion(i, n, &store).unwrap());
                inclusion.push(json!({"index": i, "tree_size": n, "proof": proof}));
            }
            for m in 1..=n {
                let proof = b64(prove_consistency(m, n, &store).unwrap());
                consistency.push(json!({"old_size": m, "new_size": n, "proof": proof}));
            }
        }
        let doc = json!({
            "description": "RFC 9162 §2.1 Merkle tree over the RFC 6962 / certificate-transparency test leaves: leaf data in hex, leaf hash = SHA-256(0x00 || data); roots and proofs are standard base64 (RFC 4648 §4) of 32-byte hashes; indices are 0-based.",
            "leaves": CT_LEAVES,
            "roots": roots,
            "inclusion_proofs": inclusion,
            "consistency_proofs": consistency,
        });
        let text = format!("{}\n", serde_json::to_string_pretty(&doc).unwrap());
        crate::tlog::golden::check("tree.json", &text);

        // Independently of the generator: the file's proofs verify against
        // the CT roots written in this test.
        let file: Value = serde_json::from_str(&crate::tlog::golden::read("tree.json")).unwrap();
        let hashes = |v: &Value| -> Vec<Hash> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| Hash::from_base64(s.as_str().unwrap()).unwrap())
                .collect()
        };
        let root = |n: u64| h(CT_ROOTS[n as usize - 1]);
        for r in file["roots"].as_array().unwrap() {
            let n = r["tree_size"].as_u64().unwrap();
            assert_eq!(
                Hash::from_base64(r["root"].as_str().unwrap()).unwrap(),
                root(n)
            );
        }
        let inc = file["inclusion_proofs"].as_array().unwrap();
        assert_eq!(inc.len(), 36);
        for p in inc {
            let (i, n) = (
                p["index"].as_u64().unwrap(),
                p["tree_size"].as_u64().unwrap(),
            );
            check_inclusion(&hashes(&p["proof"]), i, n, &leaves[i as usize], &root(n)).unwrap();
        }
        let con = file["consistency_proofs"].as_array().unwrap();
        assert_eq!(con.len(), 36);
        for p in con {
            let (m, n) = (
                p["old_size"].as_u64().unwrap(),
                p["new_size"].as_u64().unwrap(),
            );
            check_consistency(&hashes(&p["proof"]), m, n, &root(m), &root(n)).unwrap();
        }
    }

    proptest! {
        #[test]
        fn huge_trees_prove_and_check(
            size in 1u64..=MAX_TREE_SIZE,
            index_seed in any::<u64>(),
            old_seed in any::<u64>(),
        ) {
            let u = Uniform::new();
            let index = index_seed % size;
            let old = old_seed % (size + 1);
            let leaf = u.by_level[0];
            let root = tree_hash(size, &u).unwrap();
            let old_root = tree_hash(old, &u).unwrap();

            let ids = nodes_for_inclusion(index, size).unwrap();
            prop_assert!(complete_in(&ids, size));
            prop_assert!(ids.len() <= 2 * 62);
            let proof = prove_inclusion(index, size, &u).unwrap();
            prop_assert!(proof.len() <= 62);
            prop_assert!(check_inclusion(&proof, index, size, &leaf, &root).is_ok());
            prop_assert!(check_inclusion(&proof[..proof.len().saturating_sub(1)], index, size, &leaf, &root).is_err() || proof.is_empty());

            let ids = nodes_for_consistency(old, size).unwrap();
            prop_assert!(complete_in(&ids, size));
            prop_assert!(ids.len() <= 2 * 62);
            let proof = prove_consistency(old, size, &u).unwrap();
            prop_assert!(proof.len() <= 63);
            prop_assert!(check_consistency(&proof, old, size, &old_root, &root).is_ok());

            let ids = nodes_for_append(size - 1);
            prop_assert!(complete_in(&ids, size - 1));
            let new = append(size - 1, leaf, &u).unwrap();
            for (id, hash) in new {
                prop_assert_eq!(hash, u.by_level[id.level as usize]);
            }
        }

        #[test]
        fn arbitrary_claims_never_panic(
            proof_len in 0usize..70,
            index in any::<u64>(),
            size in any::<u64>(),
            old in any::<u64>(),
        ) {
            let proof = vec![record_hash(b"x"); proof_len];
            let leaf = record_hash(b"y");
            let _ = check_inclusion(&proof, index, size, &leaf, &leaf);
            let _ = check_consistency(&proof, old, size, &leaf, &leaf);
            let _ = nodes_for_inclusion(index, size);
            let _ = nodes_for_consistency(old, size);
            let _ = nodes_for_tree_hash(size);
            let _ = nodes_for_append(index);
        }
    }
}
