//! Offline verification of a bundle: everything an owner's computer checks
//! without trusting the server. Pure: the CLI does the file IO.
//!
//! The only trust anchor is the log key (pinned by the owner, or remembered
//! from an earlier run); witness keys and the quorum come from the hashed
//! entries themselves, never from what the server says about them. A
//! bundle file and a live server go through the same rules core.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::{MemberId, Period};
use crate::ledger::{RuleError, SealedEntry, State};
use crate::tlog::checkpoint::{open_checkpoint, Checkpoint};
use crate::tlog::note::VerifierKey;
use crate::tlog::tree::{self, NodeId};
use crate::tlog::Hash;

/// The `format` of a bundle this code writes and reads.
pub const BUNDLE_FORMAT: &str = "trustfund-bundle/v1";
/// Most entries a bundle may carry (a city estate's decades of history fit).
pub const MAX_BUNDLE_ENTRIES: usize = 5_000_000;

/// One JSON document with everything needed to verify an estate's log up to
/// a signed checkpoint (DESIGN.md §4.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    pub origin: String,
    /// The log key's note verifier key (type 0x01).
    pub log_key: String,
    /// The C2SP tlog-policy the ledger implies at this size.
    pub policy: String,
    /// The signed checkpoint note, with its cosignatures.
    pub checkpoint: String,
    /// For a statement bundle: which statement it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementRef>,
    /// Every entry from 0 to the checkpoint's size, as exact bytes.
    pub entries: Vec<String>,
}

/// The statement a bundle is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRef {
    pub period: Period,
    pub seq: u64,
}

/// Why a bundle does not verify. Each failure has its own message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the bundle is not a trustfund bundle: {0}")]
    Format(String),
    #[error("the log key is not the one you trust: bundle has {found}, expected {expected}")]
    WrongLogKey { expected: String, found: String },
    #[error("entry {seq} is not a valid entry: {message}")]
    BadEntry { seq: u64, message: String },
    #[error("position {position} holds entry {seq}: entries were deleted, inserted or reordered")]
    OutOfOrder { position: u64, seq: u64 },
    #[error("entry {seq} does not link to entry {prev}: one of them was changed")]
    BrokenChain { seq: u64, prev: u64 },
    #[error("entry {seq} breaks a ledger rule ({code}): {message}")]
    Rule {
        seq: u64,
        code: &'static str,
        message: String,
    },
    #[error("the checkpoint's log signature is missing or invalid: {0}")]
    LogSignature(String),
    #[error("the checkpoint covers {checkpoint} entries but the bundle has {entries}: the log was truncated or extended")]
    SizeMismatch { checkpoint: u64, entries: u64 },
    #[error(
        "the Merkle root of the entries does not match the signed checkpoint: an entry was changed"
    )]
    RootMismatch,
    #[error("missing witness signatures: {have} of the {need} committee cosignatures the policy requires")]
    Quorum { have: usize, need: usize },
    #[error("the bundle's policy file does not match what the ledger says")]
    PolicyMismatch,
    #[error("the statement reference is wrong: {0}")]
    Statement(String),
}

impl VerifyError {
    /// The same failure in Chinese.
    pub fn zh(&self) -> String {
        match self {
            VerifyError::Format(m) => format!("这不是 trustfund 数据包：{m}"),
            VerifyError::WrongLogKey { expected, found } => {
                format!("日志公钥不是您信任的那一把：数据包中为 {found}，应为 {expected}")
            }
            VerifyError::BadEntry { seq, message } => format!("第 {seq} 条记录无效：{message}"),
            VerifyError::OutOfOrder { position, seq } => {
                format!("第 {position} 个位置上是第 {seq} 条记录：有记录被删除、插入或调换了顺序")
            }
            VerifyError::BrokenChain { seq, prev } => {
                format!("第 {seq} 条记录与第 {prev} 条记录的哈希链接不上：其中一条被改动过")
            }
            VerifyError::Rule { seq, code, message } => {
                format!("第 {seq} 条记录违反账本规则（{code}）：{message}")
            }
            VerifyError::LogSignature(m) => format!("检查点缺少有效的日志签名：{m}"),
            VerifyError::SizeMismatch {
                checkpoint,
                entries,
            } => {
                format!(
                    "检查点覆盖 {checkpoint} 条记录，数据包中却有 {entries} 条：日志被截断或追加过"
                )
            }
            VerifyError::RootMismatch => {
                "记录算出的默克尔根与签名检查点不一致：有记录被改动过".into()
            }
            VerifyError::Quorum { have, need } => {
                format!("见证签名不足：策略要求 {need} 位业委会成员联署，只有 {have} 位")
            }
            VerifyError::PolicyMismatch => "数据包中的验证策略与账本记录不符".into(),
            VerifyError::Statement(m) => format!("对账单引用有误：{m}"),
        }
    }
}

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct Verified {
    pub state: State,
    pub checkpoint: Checkpoint,
    pub log_key: VerifierKey,
    /// Witnesses whose cosignatures verified, with their timestamps.
    pub witnesses: Vec<(MemberId, u64)>,
    pub quorum: usize,
    /// Leaf hashes, for checking remembered checkpoints.
    pub leaves: Vec<Hash>,
}

impl Verified {
    /// Root of the tree over the first `size` entries.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        root_of(&self.leaves, size)
    }
}

/// RFC 9162 root of the first `size` leaves.
pub fn root_of(leaves: &[Hash], size: u64) -> Option<Hash> {
    let n = usize::try_from(size).ok().filter(|n| *n <= leaves.len())?;
    let mut nodes: HashMap<NodeId, Hash> = HashMap::new();
    for (i, leaf) in leaves[..n].iter().enumerate() {
        for (id, h) in tree::append(i as u64, *leaf, &nodes).ok()? {
            nodes.insert(id, h);
        }
    }
    tree::tree_hash(size, &nodes).ok()
}

/// A cosignature line on a checkpoint whose key is not a witness key in
/// the ledger: not the log's, not an active committee or community key of
/// a `member_enrolled` entry. It is never verified and never counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncounted {
    pub name: String,
    pub key_id: u32,
}

impl std::fmt::Display for Uncounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:08x})", self.name, self.key_id)
    }
}

/// What the log key is checked against: the key in entry 0 is the log's,
/// and this says whose word makes it the right one.
#[derive(Debug, Clone, Copy)]
enum Anchor<'a> {
    /// A bundle names its origin and key; entry 0 must agree (§17 step 7).
    Bundle {
        origin: &'a str,
        log_key: &'a VerifierKey,
    },
    /// A key the owner pinned or remembered: entry 0 must be signed over to it.
    Trusted(&'a VerifierKey),
    /// Nothing pinned or remembered: entry 0's key is taken on first use.
    FirstUse,
}

/// Everything a verifier checks about a log, whatever it came from (a
/// bundle file or a live server): the checks of FORMAT.md §17 from step 3.
struct LogInput<'a> {
    anchor: Anchor<'a>,
    checkpoint: &'a str,
    entries: &'a [String],
    /// A bundle's policy file, compared with the ledger's (step 11). A live
    /// server's policy file is never read: nothing in it is needed.
    policy: Option<&'a str>,
    statement: Option<StatementRef>,
}

/// Verifies a bundle completely: entries, chain, ledger rules (every
/// posting balanced, no fund negative, every disbursement backed by
/// approvals that met the policy in force, remuneration within
/// entitlement, every statement's figures), the Merkle root, the log's
/// signature and the witness quorum.
pub fn verify_bundle(b: &Bundle, pinned: Option<&VerifierKey>) -> Result<Verified, VerifyError> {
    verify_bundle_reporting(b, pinned).0
}

/// [`verify_bundle`], also returning the cosignatures that did not count
/// whether or not the bundle verified, so that a refusal for a missing
/// quorum can say which keys tried to make it up.
pub fn verify_bundle_reporting(
    b: &Bundle,
    pinned: Option<&VerifierKey>,
) -> (Result<Verified, VerifyError>, Vec<Uncounted>) {
    let mut uncounted = Vec::new();
    let result = check_bundle_format(b, pinned).and_then(|log_key| {
        verify_log(
            &LogInput {
                anchor: Anchor::Bundle {
                    origin: &b.origin,
                    log_key: &log_key,
                },
                checkpoint: &b.checkpoint,
                entries: &b.entries,
                policy: Some(&b.policy),
                statement: b.statement,
            },
            &mut uncounted,
        )
    });
    (result, uncounted)
}

/// Verifies a live log: the latest checkpoint a server served and the
/// entries it covers, with the same rules as a bundle. The witnesses and
/// the quorum come from the entries; the log key is `trusted` (pinned or
/// remembered), or, when there is none, entry 0's (trust on first use).
pub fn verify_live(
    checkpoint: &str,
    entries: &[String],
    trusted: Option<&VerifierKey>,
) -> (Result<Verified, VerifyError>, Vec<Uncounted>) {
    let mut uncounted = Vec::new();
    let result = if entries.is_empty() || entries.len() > MAX_BUNDLE_ENTRIES {
        Err(VerifyError::Format(format!(
            "a log has 1 to {MAX_BUNDLE_ENTRIES} entries"
        )))
    } else {
        verify_log(
            &LogInput {
                anchor: trusted.map_or(Anchor::FirstUse, Anchor::Trusted),
                checkpoint,
                entries,
                policy: None,
                statement: None,
            },
            &mut uncounted,
        )
    };
    (result, uncounted)
}

/// §17 steps 1 and 2: the bundle's shape, and its key against the pinned one.
fn check_bundle_format(
    b: &Bundle,
    pinned: Option<&VerifierKey>,
) -> Result<VerifierKey, VerifyError> {
    if b.format != BUNDLE_FORMAT {
        return Err(VerifyError::Format(format!(
            "format must be {BUNDLE_FORMAT}"
        )));
    }
    if b.entries.is_empty() || b.entries.len() > MAX_BUNDLE_ENTRIES {
        return Err(VerifyError::Format(format!(
            "a bundle has 1 to {MAX_BUNDLE_ENTRIES} entries"
        )));
    }
    let log_key =
        VerifierKey::parse(&b.log_key).map_err(|e| VerifyError::Format(format!("log_key: {e}")))?;
    if let Some(p) = pinned {
        if *p != log_key {
            return Err(VerifyError::WrongLogKey {
                expected: p.format(),
                found: log_key.format(),
            });
        }
    }
    Ok(log_key)
}

/// The rules core shared by bundles and live logs (§17 steps 3 to 13).
/// Cosignature lines from keys that are not the ledger's witnesses are
/// pushed to `uncounted` as soon as the checkpoint has opened.
fn verify_log(input: &LogInput, uncounted: &mut Vec<Uncounted>) -> Result<Verified, VerifyError> {
    let mut state = State::new();
    let mut leaves = Vec::with_capacity(input.entries.len());
    for (i, bytes) in input.entries.iter().enumerate() {
        let position = i as u64;
        let sealed = SealedEntry::from_bytes(bytes).map_err(|e| VerifyError::BadEntry {
            seq: position,
            message: e.to_string(),
        })?;
        if sealed.entry.seq != position {
            return Err(VerifyError::OutOfOrder {
                position,
                seq: sealed.entry.seq,
            });
        }
        if let Err(e) = state.apply(&sealed) {
            return Err(rule_error(e));
        }
        leaves.push(sealed.hash);
    }
    let info = state
        .estate()
        .ok_or_else(|| VerifyError::Format("entry 0 is not estate_created".into()))?;
    match input.anchor {
        Anchor::Bundle { origin, log_key } => {
            if info.log_key != *log_key || info.origin != origin {
                return Err(VerifyError::Format(
                    "origin or log_key differ from entry 0".into(),
                ));
            }
        }
        Anchor::Trusted(k) => {
            if info.log_key != *k {
                return Err(VerifyError::WrongLogKey {
                    expected: k.format(),
                    found: info.log_key.format(),
                });
            }
        }
        Anchor::FirstUse => {}
    }
    let log_key = info.log_key.clone();
    // Witness keys come from the member entries just replayed, never from
    // a list that came with the checkpoint.
    let roles = state.witnesses();
    let witness_keys: Vec<VerifierKey> = roles.iter().map(|(_, _, k)| k.clone()).collect();
    let (checkpoint, note, cosigned) = open_checkpoint(input.checkpoint, &log_key, &witness_keys)
        .map_err(|e| VerifyError::LogSignature(e.to_string()))?;
    let known = |name: &str, key_id: u32| {
        std::iter::once(&log_key)
            .chain(&witness_keys)
            .any(|k| k.name == name && k.key_id == key_id)
    };
    for sig in &note.signatures {
        let line = Uncounted {
            name: sig.name.clone(),
            key_id: sig.key_id,
        };
        if !known(&sig.name, sig.key_id) && !uncounted.contains(&line) {
            uncounted.push(line);
        }
    }
    let entries = input.entries.len() as u64;
    if checkpoint.tree_size != entries {
        return Err(VerifyError::SizeMismatch {
            checkpoint: checkpoint.tree_size,
            entries,
        });
    }
    if root_of(&leaves, entries) != Some(checkpoint.root) {
        return Err(VerifyError::RootMismatch);
    }
    if let Some(policy) = input.policy {
        if state.witness_policy().as_deref() != Some(policy) {
            return Err(VerifyError::PolicyMismatch);
        }
    }
    let mut witnesses = Vec::new();
    let mut committee = 0;
    for (key, ts) in &cosigned {
        if let Some((id, role, _)) = roles.iter().find(|(_, _, k)| k == key) {
            witnesses.push((id.clone(), *ts));
            if *role == crate::ledger::Role::Committee {
                committee += 1;
            }
        }
    }
    let quorum = usize::from(state.witness_quorum());
    if committee < quorum {
        return Err(VerifyError::Quorum {
            have: committee,
            need: quorum,
        });
    }
    if let Some(st) = &input.statement {
        match state.statements().get(&st.period) {
            Some((seq, _)) if *seq == st.seq => {}
            _ => {
                return Err(VerifyError::Statement(format!(
                    "no statement for {} at seq {}",
                    st.period, st.seq
                )))
            }
        }
    }
    Ok(Verified {
        state,
        checkpoint,
        log_key,
        witnesses,
        quorum,
        leaves,
    })
}

/// A rule failure, told as the kind of tampering it most likely is.
fn rule_error(e: RuleError) -> VerifyError {
    match e.code {
        "bad_prev" => VerifyError::BrokenChain {
            seq: e.seq,
            prev: e.seq.saturating_sub(1),
        },
        "bad_seq" => VerifyError::OutOfOrder {
            position: e.seq,
            seq: e.seq,
        },
        _ => VerifyError::Rule {
            seq: e.seq,
            code: e.code,
            message: e.message,
        },
    }
}

/// The statement entry of a bundle, if it is a statement bundle.
pub fn bundle_statement(v: &Verified, b: &Bundle) -> Option<(u64, crate::ledger::Statement)> {
    let st = b.statement?;
    v.state.statements().get(&st.period).cloned()
}
