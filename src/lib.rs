//! trustfund: a transparent, verifiable trust fund ledger for residential
//! estates (信托制物业).
//!
//! Code map (README.md has the long form):
//! - [`domain`], [`ledger`], [`tlog`] are pure: no IO, no SQL, no HTTP.
//! - [`store`] is the only module that knows SQL.
//! - [`http`] is the only module that knows axum, JSON bodies and HTML.
//! - [`cli`] has one module per subcommand; `main.rs` only calls it.
//! - No code path updates or deletes a ledger row; the database refuses it too.

/// Approver key files: an Ed25519 seed sealed under an Argon2id passphrase key.
pub mod approver_key;
/// Staff credentials: Argon2id passwords, session ids and API tokens.
pub mod auth;
/// Command-line subcommands.
pub mod cli;
/// Settings from flags and environment; secrets never printed.
pub mod config;
/// The demo estate, generated deterministically through the real append path.
pub mod demo;
/// Parse-don't-validate value types: money, identifiers, bounded text, dates.
pub mod domain;
/// Evidence files stored by their SHA-256 in the data directory.
pub mod evidence;
/// HTTP routes: public log endpoints and the JSON API.
pub mod http;
/// Estate log signing keys kept in the data directory.
pub mod keys;
/// Ledger entries, their canonical bytes, postings and validation rules.
pub mod ledger;
/// SQLite and PostgreSQL storage: the only module that knows SQL.
pub mod store;
/// RFC 9162 transparency log: hashes, tree, proofs, checkpoints, signed notes.
pub mod tlog;
/// Offline verification of bundles: what an owner's computer checks.
pub mod verify;
