//! trustfund: a transparent, verifiable trust fund ledger for residential estates.
//!
//! Code map (see README.md for the long form):
//! - [`domain`]: parse-don't-validate value types (money, slugs, text…); pure, no IO.
//! - [`ledger`]: entry kinds, canonical bytes (RFC 8785), postings and the rules an entry must obey; pure.
//! - [`tlog`]: RFC 9162 Merkle tree, proofs, C2SP checkpoints and signed notes; pure.

/// Parse-don't-validate value types: money, identifiers, bounded text, dates.
pub mod domain;
/// Ledger entries, their canonical bytes, postings and validation rules.
pub mod ledger;
/// RFC 9162 transparency log: hashes, tree, proofs, checkpoints, signed notes.
pub mod tlog;
