//! `trustfund verify-receipt`: checks a payment receipt offline — that the
//! entry it carries is, byte for byte, entry `seq` of the estate's log, as
//! proved by a C2SP tlog-proof against a checkpoint the log key signed.
//!
//! A receipt is one JSON file (docs/FORMAT.md, "Receipts (tlog-proof)"):
//! `{"format":"trustfund-receipt/v1","origin":…,"log_key":…,"entry":…,"proof":…}`.
//! The tlog layer knows nothing of entries; this module ties the two.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::domain::{Money, Slug, Timestamp, UnitCommitment};
use crate::ledger::{Body, SealedEntry};
use crate::tlog::checkpoint::parse_checkpoint;
use crate::tlog::note::{Note, VerifierKey, ALG_COSIGNATURE_V1, ALG_ED25519};
use crate::tlog::proof::{check_proof, parse_proof, TlogProof};
use crate::tlog::tree::check_inclusion;
use crate::tlog::{Hash, TlogError};

/// The `format` field of every receipt of this version.
pub const RECEIPT_FORMAT: &str = "trustfund-receipt/v1";
/// Largest receipt file read, in bytes: a 64 KiB proof plus the largest
/// entry (a `fees_charged` for 20,000 units is about 3 MiB).
pub const MAX_RECEIPT_SIZE: u64 = 4 << 20;

#[derive(Debug, Args)]
pub struct VerifyReceiptArgs {
    /// The receipt file (trustfund-receipt/v1 JSON) from the unit page.
    file: PathBuf,
    /// The estate's log key (a vkey, `name+keyid+base64`) that must have
    /// signed the checkpoint. Without it the receipt's own `log_key` is
    /// trusted, which proves consistency, not authenticity.
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// A witness's cosignature key (vkey of type 0x04) whose cosignature
    /// to check and report; may be given more than once.
    #[arg(long = "witness", value_name = "VKEY")]
    witnesses: Vec<String>,
    /// Language of the report.
    #[arg(long, value_enum, default_value_t = Lang::Zh)]
    lang: Lang,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// 中文
    Zh,
    /// English
    En,
}

/// A receipt as downloaded. Fields are kept as text here and parsed by
/// [`verify_receipt`], which is the only place that decides what they mean.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`].
    pub format: String,
    /// The estate's log origin: the first line of its checkpoints.
    pub origin: String,
    /// The log's verifier key (type 0x01), named `origin`.
    pub log_key: String,
    /// The entry's exact bytes (docs/FORMAT.md §2).
    pub entry: String,
    /// The `c2sp.org/tlog-proof@v1` text for the entry.
    pub proof: String,
}

/// What a valid receipt shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptSummary {
    pub origin: String,
    pub estate: Slug,
    pub seq: u64,
    pub kind: &'static str,
    pub amount: Option<Money>,
    /// For payments: the paying unit's commitment (docs/FORMAT.md §9).
    pub unit: Option<UnitCommitment>,
    pub time: Timestamp,
    pub entry_hash: Hash,
    pub tree_size: u64,
    pub root: Hash,
    pub log_key: VerifierKey,
    /// Whether the caller named the log key (otherwise the receipt's own
    /// key was used).
    pub pinned: bool,
    /// Witnesses whose cosignature verified: key name and timestamp.
    pub witnesses: Vec<(String, u64)>,
    /// Names on other signature lines, not checked for lack of a key.
    pub unchecked: Vec<String>,
}

/// Why a receipt was refused. Each kind has its own opening words in both
/// languages, so a person (or a test) can tell them apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptError {
    /// Not JSON of the receipt shape, or a field that does not parse.
    NotAReceipt(String),
    /// The entry text is not a valid trustfund entry at all.
    EntryDamaged(String),
    /// The proof holds for another entry hash at this seq: the log
    /// recorded different bytes than this receipt carries.
    EntryChanged { seq: u64 },
    /// The tlog-proof is malformed or does not lead to the signed root.
    BadProof(String),
    /// The entry's `seq` is not the proof's `index`.
    WrongIndex { seq: u64, index: u64 },
    /// The checkpoint carries no valid signature by the log key.
    SignatureInvalid { key: String, detail: String },
    /// The receipt, its key, its checkpoint or the pinned key belong to
    /// different logs.
    WrongEstate { want: String, got: String },
    /// The receipt names another key than the pinned one, for the same log.
    LogKeyMismatch { pinned: String, receipt: String },
}

impl ReceiptError {
    pub fn message(&self, lang: Lang) -> String {
        use ReceiptError::*;
        match (lang, self) {
            (Lang::En, NotAReceipt(d)) => format!("not a receipt: {d}"),
            (Lang::Zh, NotAReceipt(d)) => format!("不是有效的收据文件：{d}"),
            (Lang::En, EntryDamaged(d)) => {
                format!("entry damaged: the entry text is not a valid trustfund entry ({d})")
            }
            (Lang::Zh, EntryDamaged(d)) => format!("条目已损坏：收据中的条目不是有效的条目（{d}）"),
            (Lang::En, EntryChanged { seq }) => format!(
                "entry changed: the log recorded different bytes as entry {seq}; \
                 the entry in this receipt was altered"
            ),
            (Lang::Zh, EntryChanged { seq }) => {
                format!("条目被改动：日志中第 {seq} 条的内容与收据中的不同，收据中的条目已被修改")
            }
            (Lang::En, BadProof(d)) => format!("bad proof: {d}"),
            (Lang::Zh, BadProof(d)) => format!("证明无效：{d}"),
            (Lang::En, WrongIndex { seq, index }) => format!(
                "wrong index: the entry is number {seq} but the proof is for position {index}"
            ),
            (Lang::Zh, WrongIndex { seq, index }) => {
                format!("序号不符：条目是第 {seq} 条，证明却是针对第 {index} 个位置")
            }
            (Lang::En, SignatureInvalid { key, detail }) => format!(
                "signature invalid: the checkpoint is not signed by the log key {key} ({detail})"
            ),
            (Lang::Zh, SignatureInvalid { key, detail }) => {
                format!("签名无效：检查点没有日志密钥 {key} 的有效签名（{detail}）")
            }
            (Lang::En, WrongEstate { want, got }) => {
                format!("wrong estate: expected the log of {want}, but found {got}")
            }
            (Lang::Zh, WrongEstate { want, got }) => {
                format!("小区不符：应为 {want} 的日志，实际是 {got}")
            }
            (Lang::En, LogKeyMismatch { pinned, receipt }) => format!(
                "log key mismatch: the receipt names the key {receipt}, not the pinned key {pinned}"
            ),
            (Lang::Zh, LogKeyMismatch { pinned, receipt }) => {
                format!("日志密钥不符：收据使用的密钥是 {receipt}，不是指定的 {pinned}")
            }
        }
    }
}

/// Parses a receipt file's bytes: JSON of exactly the receipt's fields.
pub fn parse_receipt(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
    let r: Receipt =
        serde_json::from_slice(bytes).map_err(|e| ReceiptError::NotAReceipt(e.to_string()))?;
    if r.format != RECEIPT_FORMAT {
        return Err(ReceiptError::NotAReceipt(format!(
            "format is {:?}, want {RECEIPT_FORMAT:?}",
            r.format
        )));
    }
    Ok(r)
}

/// Checks a receipt offline. With `expected_log_key` the checkpoint must be
/// signed by that key; without it by the receipt's own `log_key`. Each
/// `witnesses` key (type 0x04) whose cosignature is on the checkpoint and
/// verifies is reported; their absence is not a failure, since the log's
/// policy requires no quorum yet (docs/FORMAT.md §14).
pub fn verify_receipt(
    r: &Receipt,
    expected_log_key: Option<&VerifierKey>,
    witnesses: &[VerifierKey],
) -> Result<ReceiptSummary, ReceiptError> {
    use ReceiptError::*;
    if r.format != RECEIPT_FORMAT {
        return Err(NotAReceipt(format!("format is {:?}", r.format)));
    }
    let own_key =
        VerifierKey::parse(&r.log_key).map_err(|e| NotAReceipt(format!("log_key: {e}")))?;
    if own_key.name != r.origin {
        return Err(WrongEstate {
            want: r.origin.clone(),
            got: format!("a log key named {}", own_key.name),
        });
    }
    let log_key = match expected_log_key {
        None => own_key,
        Some(pinned) if pinned.name != r.origin => {
            return Err(WrongEstate {
                want: pinned.name.clone(),
                got: r.origin.clone(),
            })
        }
        Some(pinned) if *pinned != own_key => {
            return Err(LogKeyMismatch {
                pinned: pinned.format(),
                receipt: own_key.format(),
            })
        }
        Some(pinned) => pinned.clone(),
    };
    let sealed = SealedEntry::from_bytes(&r.entry).map_err(|e| EntryDamaged(e.to_string()))?;
    let entry = &sealed.entry;
    if let Body::EstateCreated { origin, .. } = &entry.body {
        if *origin != r.origin {
            return Err(WrongEstate {
                want: r.origin.clone(),
                got: origin.clone(),
            });
        }
    }
    let proof = parse_proof(&r.proof).map_err(|e| BadProof(e.to_string()))?;
    if entry.seq != proof.index {
        return Err(WrongIndex {
            seq: entry.seq,
            index: proof.index,
        });
    }
    let extra = match proof.extra.as_deref() {
        None => None,
        Some(bytes) => Some(<[u8; 32]>::try_from(bytes).map(Hash).map_err(|_| {
            BadProof(format!(
                "its extra data must be the 32-byte entry hash, not {} bytes",
                bytes.len()
            ))
        })?),
    };
    let (cp, cosigned) = match check_proof(&proof, r.entry.as_bytes(), &log_key, witnesses) {
        Ok(ok) => ok,
        Err(e) => return Err(explain(e, &proof, extra, &sealed, &log_key)),
    };
    if extra.is_some_and(|h| h != sealed.hash) {
        // The entry is in the log; only the unauthenticated extra line was
        // changed. Refused anyway: a receipt has one valid form.
        return Err(BadProof(
            "its extra data is not the hash of the entry it comes with".into(),
        ));
    }
    let verified: Vec<(String, u32)> = std::iter::once(&log_key)
        .chain(cosigned.iter().map(|(k, _)| k))
        .map(|k| (k.name.clone(), k.key_id))
        .collect();
    // open_checkpoint in check_proof already parsed this note.
    let unchecked = Note::parse(&proof.checkpoint)
        .map(|n| n.signatures)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| !verified.contains(&(s.name.clone(), s.key_id)))
        .map(|s| s.name)
        .collect();
    let (amount, unit) = match &entry.body {
        Body::FeePaid { unit, amount, .. } => (Some(*amount), Some(*unit)),
        Body::PublicIncomeReceived { amount, .. }
        | Body::OpeningBalance { amount, .. }
        | Body::ClaimSubmitted { amount, .. } => (Some(*amount), None),
        _ => (None, None),
    };
    Ok(ReceiptSummary {
        origin: r.origin.clone(),
        estate: entry.estate.clone(),
        seq: entry.seq,
        kind: entry.body.kind(),
        amount,
        unit,
        time: entry.time,
        entry_hash: sealed.hash,
        tree_size: cp.tree_size,
        root: cp.root,
        log_key,
        pinned: expected_log_key.is_some(),
        witnesses: cosigned.into_iter().map(|(k, t)| (k.name, t)).collect(),
        unchecked,
    })
}

/// Turns a failed [`check_proof`] into what went wrong, in the receipt's
/// terms. When the path is bad for this entry but leads to the signed root
/// from the hash in `extra`, the log holds other bytes at this seq: the
/// entry was changed, not the proof. (`extra` is unauthenticated, but here
/// the inclusion check itself vouches for it.)
fn explain(
    e: TlogError,
    proof: &TlogProof,
    extra: Option<Hash>,
    sealed: &SealedEntry,
    log_key: &VerifierKey,
) -> ReceiptError {
    match e {
        TlogError::OriginMismatch { origin, key_name } => ReceiptError::WrongEstate {
            want: key_name,
            got: format!("a checkpoint of {origin}"),
        },
        TlogError::NoTrustedSignature
        | TlogError::BadSignature(_)
        | TlogError::UnknownKey { .. }
        | TlogError::AmbiguousKey { .. }
        | TlogError::BadKey(_) => ReceiptError::SignatureInvalid {
            key: log_key.format(),
            detail: e.to_string(),
        },
        TlogError::IndexOutOfRange { index, size } => ReceiptError::BadProof(format!(
            "the signed checkpoint covers {size} entries, so it cannot include entry {index}"
        )),
        TlogError::BadProof(_) => {
            // check_proof only checks inclusion after the signature held,
            // so this checkpoint text is the log's.
            let recorded_elsewhere = extra.filter(|h| *h != sealed.hash).is_some_and(|h| {
                Note::parse(&proof.checkpoint)
                    .and_then(|n| parse_checkpoint(&n.text))
                    .is_ok_and(|cp| {
                        check_inclusion(&proof.proof, proof.index, cp.tree_size, &h, &cp.root)
                            .is_ok()
                    })
            });
            if recorded_elsewhere {
                ReceiptError::EntryChanged { seq: proof.index }
            } else {
                ReceiptError::BadProof(
                    "the inclusion proof does not lead from this entry to the signed root".into(),
                )
            }
        }
        other => ReceiptError::BadProof(other.to_string()),
    }
}

/// Chinese names of the entry kinds, for the report.
fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "estate_created" => "小区建账",
        "policy_set" => "审批规则",
        "remuneration_ratio_set" => "酬金比例",
        "member_enrolled" => "成员登记",
        "member_revoked" => "成员撤销",
        "unit_registered" => "房屋登记",
        "fees_charged" => "计收物业费",
        "fee_paid" => "缴纳物业费",
        "public_income_received" => "公共收益",
        "opening_balance" => "期初余额",
        "service_record" => "工单",
        "claim_submitted" => "支出申请",
        "claim_approved" => "同意签名",
        "claim_rejected" => "否决签名",
        "claim_expired" => "申请过期",
        "disbursement_executed" => "支出执行",
        "transfer" => "账户划转",
        "correction" => "更正",
        "statement_published" => "月度报表",
        _ => "其他",
    }
}

fn unix_time(t: u64) -> String {
    i64::try_from(t)
        .ok()
        .and_then(|t| Timestamp::from_unix(t).ok())
        .map_or_else(|| t.to_string(), |t| t.to_string())
}

/// The human report of a valid receipt.
pub fn format_summary(s: &ReceiptSummary, lang: Lang) -> String {
    let key = format!("{}+{:08x}", s.log_key.name, s.log_key.key_id);
    let witnesses: Vec<String> = s
        .witnesses
        .iter()
        .map(|(name, t)| format!("{name} ({})", unix_time(*t)))
        .collect();
    let mut out = String::new();
    match lang {
        Lang::Zh => {
            out.push_str("收据有效：该条目已收录在小区的公开账本中。\n");
            out.push_str(&format!("小区：{}（日志 {}）\n", s.estate, s.origin));
            let amount = s.amount.map(|a| format!("，金额 ¥{a}")).unwrap_or_default();
            out.push_str(&format!(
                "条目：第 {} 条，{}（{}）{amount}，记账时间 {}\n",
                s.seq,
                kind_zh(s.kind),
                s.kind,
                s.time
            ));
            if let Some(u) = &s.unit {
                out.push_str(&format!("房屋承诺值：{u}\n"));
            }
            out.push_str(&format!("条目哈希：{}\n", s.entry_hash.to_hex()));
            out.push_str(&format!(
                "收录于检查点：共 {} 条，根哈希 {}，由日志密钥 {key} 签名\n",
                s.tree_size,
                s.root.to_base64()
            ));
            if witnesses.is_empty() {
                out.push_str("见证人联署：无（未核验到见证人签名）\n");
            } else {
                out.push_str(&format!("见证人联署：{}\n", witnesses.join("、")));
            }
            if !s.unchecked.is_empty() {
                out.push_str(&format!(
                    "未核验的签名（未提供其公钥，可用 --witness 指定）：{}\n",
                    s.unchecked.join("、")
                ));
            }
            if !s.pinned {
                out.push_str(
                    "注意：未指定日志密钥（log key not pinned），使用的是收据自带的密钥；\
                     请用 --log-key 核对小区公布的日志密钥。\n",
                );
            }
        }
        Lang::En => {
            out.push_str("Receipt valid: the entry is in the estate's public log.\n");
            out.push_str(&format!("Estate: {} (log {})\n", s.estate, s.origin));
            let amount = s
                .amount
                .map(|a| format!(", amount ¥{a}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "Entry: seq {}, {}{amount}, recorded {}\n",
                s.seq, s.kind, s.time
            ));
            if let Some(u) = &s.unit {
                out.push_str(&format!("Unit commitment: {u}\n"));
            }
            out.push_str(&format!("Entry hash: {}\n", s.entry_hash.to_hex()));
            out.push_str(&format!(
                "Included at checkpoint size {}, root {}, signed by log key {key}\n",
                s.tree_size,
                s.root.to_base64()
            ));
            if witnesses.is_empty() {
                out.push_str("Witness cosignatures: none verified\n");
            } else {
                out.push_str(&format!("Witness cosignatures: {}\n", witnesses.join(", ")));
            }
            if !s.unchecked.is_empty() {
                out.push_str(&format!(
                    "Signatures not checked (no key given; use --witness): {}\n",
                    s.unchecked.join(", ")
                ));
            }
            if !s.pinned {
                out.push_str(
                    "Note: log key not pinned; the receipt's own key was trusted. \
                     Compare it with the estate's published key, or pass --log-key.\n",
                );
            }
        }
    }
    out
}

fn parse_key(flag: &str, text: &str, alg: u8) -> Result<VerifierKey, String> {
    let key = VerifierKey::parse(text.trim()).map_err(|e| format!("{flag}: {e}"))?;
    if key.alg != alg {
        return Err(format!(
            "{flag}: {} is a key of type 0x{:02x}, want 0x{alg:02x}",
            key.name, key.alg
        ));
    }
    Ok(key)
}

/// Exit status: 0 for a valid receipt, 1 for a refused one; problems with
/// the command line or reading the file are returned as errors (status 2).
pub fn run(args: VerifyReceiptArgs) -> Result<ExitCode, String> {
    let pinned = args
        .log_key
        .as_deref()
        .map(|k| parse_key("--log-key", k, ALG_ED25519))
        .transpose()?;
    let witnesses = args
        .witnesses
        .iter()
        .map(|k| parse_key("--witness", k, ALG_COSIGNATURE_V1))
        .collect::<Result<Vec<_>, _>>()?;
    let file = std::fs::File::open(&args.file)
        .map_err(|e| format!("{}: cannot open: {e}", args.file.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_RECEIPT_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: cannot read: {e}", args.file.display()))?;
    let result = if bytes.len() as u64 > MAX_RECEIPT_SIZE {
        Err(ReceiptError::NotAReceipt(format!(
            "larger than {MAX_RECEIPT_SIZE} bytes"
        )))
    } else {
        parse_receipt(&bytes).and_then(|r| verify_receipt(&r, pinned.as_ref(), &witnesses))
    };
    match result {
        Ok(summary) => {
            print!("{}", format_summary(&summary, args.lang));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let verdict = match args.lang {
                Lang::Zh => "收据无效：",
                Lang::En => "RECEIPT REJECTED: ",
            };
            println!("{verdict}{}", e.message(args.lang));
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::ledger::Entry;
    use crate::tlog::checkpoint::{cosign_checkpoint, sign_checkpoint, Checkpoint};
    use crate::tlog::note::{sign_note, Signer};
    use crate::tlog::proof::{build_proof, format_proof};
    use crate::tlog::record_hash;
    use crate::tlog::tree::{append, prove_inclusion, tree_hash, NodeId};

    /// The committed vector log's entries, exact bytes.
    fn vector_entries() -> Vec<String> {
        vector("entries.jsonl").lines().map(String::from).collect()
    }

    fn vector(name: &str) -> String {
        let path = format!(
            "{}/fixtures/vectors/ledger/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The stored nodes of the tree over `entries`.
    fn tree_of(entries: &[String]) -> HashMap<NodeId, Hash> {
        let mut nodes = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            for (id, h) in append(i as u64, record_hash(e.as_bytes()), &nodes).unwrap() {
                nodes.insert(id, h);
            }
        }
        nodes
    }

    /// The first `fee_paid` entry of the vector log: its seq and amount.
    fn first_payment(entries: &[String]) -> (u64, Money) {
        entries
            .iter()
            .find_map(|e| match SealedEntry::from_bytes(e).unwrap().entry {
                Entry {
                    seq,
                    body: Body::FeePaid { amount, .. },
                    ..
                } => Some((seq, amount)),
                _ => None,
            })
            .expect("the vector log has a payment")
    }

    /// A receipt for the first payment of the vector log, built the way
    /// the server builds one, against the checkpoint `note` of the whole log.
    fn receipt_for(entries: &[String], note: &str, log_key: &VerifierKey) -> Receipt {
        let nodes = tree_of(entries);
        let (seq, _) = first_payment(entries);
        let path = prove_inclusion(seq, entries.len() as u64, &nodes).unwrap();
        let entry = &entries[seq as usize];
        let proof = build_proof(entry.as_bytes(), seq, path, note).unwrap();
        Receipt {
            format: RECEIPT_FORMAT.into(),
            origin: log_key.name.clone(),
            log_key: log_key.format(),
            entry: entry.clone(),
            proof: format_proof(&proof),
        }
    }

    /// The vector entries under a checkpoint signed here by a test key
    /// alone, so the tests below do not depend on which witnesses the
    /// committed checkpoint happens to carry.
    fn own_receipt() -> (Receipt, VerifierKey) {
        let entries = vector_entries();
        let log = Signer::from_seed("trustfund.example/estates/vectors", ALG_ED25519, &[5u8; 32])
            .unwrap();
        let nodes = tree_of(&entries);
        let size = entries.len() as u64;
        let cp = Checkpoint {
            origin: log.name().into(),
            tree_size: size,
            root: tree_hash(size, &nodes).unwrap(),
            extensions: vec![],
        };
        let note = sign_checkpoint(&cp, &log).unwrap().format();
        let key = log.verifier_key();
        (receipt_for(&entries, &note, &key), key)
    }

    /// The committed checkpoint and log key of the vector log verify a
    /// receipt built from the committed entries.
    #[test]
    fn vector_receipt_verifies() {
        let entries = vector_entries();
        let log_key = VerifierKey::parse(vector("log.vkey").trim_end()).unwrap();
        let r = receipt_for(&entries, &vector("checkpoint.txt"), &log_key);
        let (seq, amount) = first_payment(&entries);
        let s = verify_receipt(&r, None, &[]).unwrap();
        assert_eq!((s.seq, s.kind), (seq, "fee_paid"));
        assert_eq!(s.tree_size, entries.len() as u64);
        assert_eq!(s.estate.as_str(), "vectors");
        assert_eq!(s.amount, Some(amount));
        assert!(s.unit.is_some());
        assert!(!s.pinned);
        let pinned = verify_receipt(&r, Some(&log_key), &[]).unwrap();
        assert!(pinned.pinned);
        for lang in [Lang::Zh, Lang::En] {
            assert!(format_summary(&s, lang).contains("log key not pinned"));
            assert!(!format_summary(&pinned, lang).contains("log key not pinned"));
            assert!(format_summary(&s, lang).contains(&amount.to_string()));
        }
        assert!(format_summary(&s, Lang::Zh).contains(&format!("第 {seq} 条")));
        assert!(format_summary(&s, Lang::En).contains(&format!("seq {seq}")));
        // The JSON form parses back to the same receipt.
        let json = serde_json::to_vec(&r).unwrap();
        assert_eq!(parse_receipt(&json).unwrap(), r);
        // A receipt signed by a test key verifies only with that key.
        let (own, own_key) = own_receipt();
        let s = verify_receipt(&own, Some(&own_key), &[]).unwrap();
        assert!(s.witnesses.is_empty() && s.unchecked.is_empty());
        assert!(verify_receipt(&own, Some(&log_key), &[]).is_err());
    }

    #[test]
    fn strict_receipt_json() {
        let (r, _) = own_receipt();
        let good = serde_json::to_value(&r).unwrap();
        let mut extra_field = good.clone();
        extra_field["note"] = "hi".into();
        let mut wrong_format = good.clone();
        wrong_format["format"] = "trustfund-receipt/v2".into();
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("proof");
        for v in [extra_field, wrong_format, missing] {
            let bytes = serde_json::to_vec(&v).unwrap();
            assert!(matches!(
                parse_receipt(&bytes),
                Err(ReceiptError::NotAReceipt(_))
            ));
        }
        let dup = br#"{"format":"trustfund-receipt/v1","format":"trustfund-receipt/v1"}"#;
        assert!(parse_receipt(dup).is_err());
        assert!(parse_receipt(b"").is_err());
        assert!(parse_receipt(b"[]").is_err());
    }

    #[test]
    fn each_failure_has_its_own_words() {
        let (r, key) = own_receipt();
        let (_, amount) = first_payment(&vector_entries());
        let impostor = Signer::from_seed(&key.name, ALG_ED25519, &[42u8; 32]).unwrap();
        let stranger =
            Signer::from_seed("trustfund.example/estates/other", ALG_ED25519, &[43u8; 32]).unwrap();

        let changed = Receipt {
            entry: r
                .entry
                .replace(&format!("\"{amount}\""), &format!("\"9{amount}\"")),
            ..r.clone()
        };
        let damaged = Receipt {
            entry: r.entry.replace("\"v\":1", "\"v\":2"),
            ..r.clone()
        };
        let mut p = parse_proof(&r.proof).unwrap();
        p.proof[0].0[0] ^= 1;
        let flipped = Receipt {
            proof: format_proof(&p),
            ..r.clone()
        };
        let moved = Receipt {
            proof: r.proof.replace("index 13\n", "index 14\n"),
            ..r.clone()
        };
        let note = Note::parse(&parse_proof(&r.proof).unwrap().checkpoint).unwrap();
        let mut p = parse_proof(&r.proof).unwrap();
        p.checkpoint = Note {
            signatures: vec![sign_note(&note.text, &impostor, 0).unwrap()],
            ..note
        }
        .format();
        let forged = Receipt {
            proof: format_proof(&p),
            ..r.clone()
        };
        let other_origin = Receipt {
            origin: stranger.name().into(),
            ..r.clone()
        };

        let cases: Vec<(Receipt, Option<VerifierKey>, &str, &str)> = vec![
            (changed, None, "entry changed", "条目被改动"),
            (damaged, None, "entry damaged", "条目已损坏"),
            (flipped, None, "bad proof", "证明无效"),
            (moved, None, "wrong index", "序号不符"),
            (forged, None, "signature invalid", "签名无效"),
            (other_origin, None, "wrong estate", "小区不符"),
            (
                r.clone(),
                Some(impostor.verifier_key()),
                "log key mismatch",
                "日志密钥不符",
            ),
            (
                r.clone(),
                Some(stranger.verifier_key()),
                "wrong estate",
                "小区不符",
            ),
        ];
        for (receipt, pin, en, zh) in cases {
            let e = verify_receipt(&receipt, pin.as_ref(), &[]).unwrap_err();
            assert!(e.message(Lang::En).starts_with(en), "{e:?}");
            assert!(e.message(Lang::Zh).starts_with(zh), "{e:?}");
        }
    }

    #[test]
    fn witnesses_are_named_when_their_keys_are_given() {
        let (r, _) = own_receipt();
        let witness = Signer::from_seed(
            "trustfund.example/estates/vectors/members/c1",
            ALG_COSIGNATURE_V1,
            &[21u8; 32],
        )
        .unwrap();
        let mut p = parse_proof(&r.proof).unwrap();
        let mut note = Note::parse(&p.checkpoint).unwrap();
        let cosig = cosign_checkpoint(&note.text, &witness, 1_767_225_600).unwrap();
        note.signatures.push(cosig);
        p.checkpoint = note.format();
        let r = Receipt {
            proof: format_proof(&p),
            ..r
        };
        let key = witness.verifier_key();
        let s = verify_receipt(&r, None, std::slice::from_ref(&key)).unwrap();
        assert_eq!(s.witnesses, vec![(key.name.clone(), 1_767_225_600)]);
        assert!(s.unchecked.is_empty());
        assert!(format_summary(&s, Lang::En).contains(&format!(
            "Witness cosignatures: {} (2026-01-01T00:00:00Z)",
            key.name
        )));
        // Without the key the line is reported as not checked, not as a witness.
        let s = verify_receipt(&r, None, &[]).unwrap();
        assert!(s.witnesses.is_empty());
        assert_eq!(s.unchecked, vec![key.name.clone()]);
        assert!(format_summary(&s, Lang::Zh).contains(&key.name));
    }

    /// No changed byte of the proof text or of the entry gets through: the
    /// entry is hashed whole, and the receipt layer also holds the `extra`
    /// line to the entry's hash.
    #[test]
    fn every_byte_flip_is_refused() {
        let (r, _) = own_receipt();
        verify_receipt(&r, None, &[]).unwrap();
        for field in ["proof", "entry"] {
            let text = if field == "proof" { &r.proof } else { &r.entry };
            let bytes = text.as_bytes();
            for i in 0..bytes.len() {
                for mangle in [
                    |b: u8| b ^ 0x01,
                    |b: u8| b.wrapping_add(1),
                    |b: u8| b ^ 0x40,
                ] {
                    let mut m = bytes.to_vec();
                    m[i] = mangle(m[i]);
                    let Ok(s) = String::from_utf8(m) else {
                        continue;
                    };
                    let mut bad = r.clone();
                    if field == "proof" {
                        bad.proof = s;
                    } else {
                        bad.entry = s;
                    }
                    assert!(
                        verify_receipt(&bad, None, &[]).is_err(),
                        "{field} byte {i} accepted"
                    );
                }
            }
        }
    }
}
