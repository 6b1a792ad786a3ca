//! The fund's books: entry kinds and their exact bytes, double-entry
//! postings, approval messages and the rules every entry must obey.
//! Pure: no IO, no clock, no randomness.

pub mod account;
pub mod approval;
pub mod bank_csv;
pub mod entry;
pub mod jcs;
pub mod policy;
pub mod state;
pub mod statement;
pub mod views;
pub mod witnesses;

pub use account::{Account, Category, FundAccount, IncomeSource, Posting, Side};
pub use entry::{Body, Entry, EntryError, PayMethod, Role, SealedEntry};
pub use policy::{PolicyRules, Requirement};
pub use state::{Claim, ClaimStatus, RuleError, State};
pub use statement::Statement;
