//! Entries: the only way the fund's state changes, and their exact bytes.
//!
//! An entry is a JSON object serialised by RFC 8785 (JCS). The envelope
//! fields `v`, `estate`, `seq`, `prev`, `time` and `kind` sit beside the
//! kind's own fields in one flat object. `docs/FORMAT.md` lists every kind
//! and field; a change here is a change to a public contract.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::account::{Category, FundAccount, IncomeSource, Posting};
use super::jcs;
use super::policy::PolicyRules;
use super::statement::Statement;
use crate::domain::{
    Area, BankRefCommitment, Date, Description, EstateTz, Location, MemberId, Money, Name, Payee,
    Period, Purpose, Rate, Ratio, Reason, Slug, Timestamp, UnitCommitment,
};
use crate::tlog::{record_hash, Hash};

/// The entry format version this code writes and reads.
pub const FORMAT_VERSION: u64 = 1;
/// Evidence files an entry may name.
pub const MAX_EVIDENCE: usize = 20;
/// Approvals a disbursement may list.
pub const MAX_APPROVALS: usize = 32;
/// Units one charge run may bill (each is one posting).
pub const MAX_UNITS_PER_CHARGE: usize = 20_000;

/// Who an enrolled member speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 物业服务企业: submits claims, signs for the company.
    Company,
    /// 业委会: co-signs or rejects claims, witnesses statements.
    Committee,
    /// 社区/街道: observer and witness; never moves money.
    Community,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Company, Role::Committee, Role::Community];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Company => "company",
            Role::Committee => "committee",
            Role::Community => "community",
        }
    }
}

/// How an owner paid a fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PayMethod {
    Bank,
    Wechat,
    Alipay,
    Cash,
    Other,
}

impl PayMethod {
    pub const ALL: [PayMethod; 5] = [
        PayMethod::Bank,
        PayMethod::Wechat,
        PayMethod::Alipay,
        PayMethod::Cash,
        PayMethod::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PayMethod::Bank => "bank",
            PayMethod::Wechat => "wechat",
            PayMethod::Alipay => "alipay",
            PayMethod::Cash => "cash",
            PayMethod::Other => "other",
        }
    }
}

/// Only CNY exists; the field is in the bytes so a reader never has to guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Currency {
    Cny,
}

impl Currency {
    pub const ALL: [Currency; 1] = [Currency::Cny];
    pub fn as_str(self) -> &'static str {
        "CNY"
    }
}

super::account::closed_vocabulary!(Role, "role");
super::account::closed_vocabulary!(PayMethod, "method");
super::account::closed_vocabulary!(Currency, "currency");

/// Serde for 32-byte hashes as 64 lowercase hex digits.
pub mod hex_hash {
    use crate::tlog::Hash;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&h.to_hex())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_hex(&s).map_err(serde::de::Error::custom)
    }

    /// The same for a list of hashes (evidence files).
    pub mod list {
        use super::Hash;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<S: Serializer>(hs: &[Hash], s: S) -> Result<S::Ok, S::Error> {
            let v: Vec<String> = hs.iter().map(Hash::to_hex).collect();
            v.serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
            let v = Vec::<String>::deserialize(d)?;
            v.iter()
                .map(|s| Hash::from_hex(s).map_err(serde::de::Error::custom))
                .collect()
        }
    }
}

/// A committee member's signature on a policy change (`policy_set` with
/// version above 1), over the policy message (`docs/FORMAT.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyApproval {
    pub member: MemberId,
    /// The member's active key, as a note verifier key.
    pub key: String,
    /// Ed25519 over the policy message, standard padded base64.
    pub signature: String,
}

/// Signatures a policy change may carry.
pub const MAX_POLICY_APPROVALS: usize = 15;

/// What happened: the kind and its fields. Serialised flat beside the
/// envelope, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Body {
    /// Always entry 0: who the estate is and which key signs its log.
    EstateCreated {
        name: Name,
        origin: String,
        /// Note verifier key (type 0x01) of the log key.
        log_key: String,
        timezone: EstateTz,
        currency: Currency,
        /// Monthly fee per m² of floor area.
        fee_rate: Rate,
    },
    /// An approver joins, with the Ed25519 key that will count for them.
    MemberEnrolled {
        member: MemberId,
        name: Name,
        role: Role,
        /// Note verifier key (type 0x04, a cosigner key) named after the member.
        key: String,
    },
    /// A key stops counting from this entry on (hand-over, re-election, loss).
    MemberRevoked {
        member: MemberId,
        key: String,
        reason: Reason,
    },
    /// Who must sign which claims. Version 1 is set at creation; a later
    /// version carries the committee's signatures under the policy it
    /// replaces.
    PolicySet {
        version: u32,
        rules: PolicyRules,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        approvals: Vec<PolicyApproval>,
    },
    /// The contract ratio of fee income the company may take as remuneration.
    RemunerationRatioSet { ratio: Ratio, from: Period },
    /// A unit, known publicly only by its commitment.
    UnitRegistered { unit: UnitCommitment, area: Area },
    /// A month's fees for every registered unit: one receivable debit per unit.
    FeesCharged {
        period: Period,
        rate: Rate,
        units: u32,
        postings: Vec<Posting>,
    },
    /// A fee payment from one unit.
    FeePaid {
        unit: UnitCommitment,
        amount: Money,
        paid_on: Date,
        method: PayMethod,
        /// The commitment to the bank's reference, when there is one
        /// (FORMAT.md revision 4): no two entries may carry the same.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bank_ref: Option<BankRefCommitment>,
        postings: Vec<Posting>,
    },
    /// Income from the estate's common property.
    PublicIncomeReceived {
        source: IncomeSource,
        amount: Money,
        received_on: Date,
        payer: Payee,
        memo: Purpose,
        #[serde(
            default,
            with = "hex_hash::list",
            skip_serializing_if = "Vec::is_empty"
        )]
        evidence: Vec<Hash>,
        postings: Vec<Posting>,
    },
    /// Money the fund already held when it joined trustfund.
    OpeningBalance {
        account: FundAccount,
        amount: Money,
        memo: Purpose,
        postings: Vec<Posting>,
    },
    /// The company asks for money out of the fund (or to move it between
    /// fund accounts, with `transfer_to`).
    ClaimSubmitted {
        account: FundAccount,
        category: Category,
        payee: Payee,
        amount: Money,
        purpose: Purpose,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quote: Option<Money>,
        #[serde(
            default,
            with = "hex_hash::list",
            skip_serializing_if = "Vec::is_empty"
        )]
        evidence: Vec<Hash>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service_record: Option<u64>,
        /// The month a remuneration claim is for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<Period>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transfer_to: Option<FundAccount>,
        expires: Timestamp,
    },
    /// One approver's signed "yes" to a claim.
    ClaimApproved {
        claim: u64,
        #[serde(with = "hex_hash")]
        claim_hash: Hash,
        policy: u32,
        member: MemberId,
        key: String,
        signature: String,
    },
    /// A committee member's signed "no": closes the claim.
    ClaimRejected {
        claim: u64,
        #[serde(with = "hex_hash")]
        claim_hash: Hash,
        policy: u32,
        member: MemberId,
        key: String,
        signature: String,
        reason: Reason,
    },
    /// A claim that ran past its `expires` without enough approvals.
    ClaimExpired { claim: u64 },
    /// Money leaves the fund, backed by the approvals listed.
    DisbursementExecuted {
        claim: u64,
        approvals: Vec<u64>,
        postings: Vec<Posting>,
    },
    /// Money moves between fund accounts, backed by the approvals listed.
    Transfer {
        claim: u64,
        approvals: Vec<u64>,
        postings: Vec<Posting>,
    },
    /// Work done on the estate (工单), with evidence.
    ServiceRecord {
        title: Name,
        description: Description,
        location: Location,
        done_on: Date,
        done_by: Name,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost: Option<Money>,
        #[serde(
            default,
            with = "hex_hash::list",
            skip_serializing_if = "Vec::is_empty"
        )]
        evidence: Vec<Hash>,
    },
    /// A month closed: its figures, checked against the entries it covers.
    StatementPublished(Statement),
    /// Reverses an earlier entry; nothing is ever edited or deleted.
    Correction {
        corrects: u64,
        #[serde(with = "hex_hash")]
        corrects_hash: Hash,
        reason: Reason,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        postings: Vec<Posting>,
    },
}

impl Body {
    /// The `kind` string as it appears in the bytes.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::EstateCreated { .. } => "estate_created",
            Body::MemberEnrolled { .. } => "member_enrolled",
            Body::MemberRevoked { .. } => "member_revoked",
            Body::PolicySet { .. } => "policy_set",
            Body::RemunerationRatioSet { .. } => "remuneration_ratio_set",
            Body::UnitRegistered { .. } => "unit_registered",
            Body::FeesCharged { .. } => "fees_charged",
            Body::FeePaid { .. } => "fee_paid",
            Body::PublicIncomeReceived { .. } => "public_income_received",
            Body::OpeningBalance { .. } => "opening_balance",
            Body::ClaimSubmitted { .. } => "claim_submitted",
            Body::ClaimApproved { .. } => "claim_approved",
            Body::ClaimRejected { .. } => "claim_rejected",
            Body::ClaimExpired { .. } => "claim_expired",
            Body::DisbursementExecuted { .. } => "disbursement_executed",
            Body::Transfer { .. } => "transfer",
            Body::ServiceRecord { .. } => "service_record",
            Body::StatementPublished(_) => "statement_published",
            Body::Correction { .. } => "correction",
        }
    }

    /// Every kind, for filters and docs.
    pub const KINDS: [&'static str; 19] = [
        "estate_created",
        "member_enrolled",
        "member_revoked",
        "policy_set",
        "remuneration_ratio_set",
        "unit_registered",
        "fees_charged",
        "fee_paid",
        "public_income_received",
        "opening_balance",
        "claim_submitted",
        "claim_approved",
        "claim_rejected",
        "claim_expired",
        "disbursement_executed",
        "transfer",
        "service_record",
        "statement_published",
        "correction",
    ];

    /// The postings this entry carries (empty for kinds that move no money).
    pub fn postings(&self) -> &[Posting] {
        match self {
            Body::FeesCharged { postings, .. }
            | Body::FeePaid { postings, .. }
            | Body::PublicIncomeReceived { postings, .. }
            | Body::OpeningBalance { postings, .. }
            | Body::DisbursementExecuted { postings, .. }
            | Body::Transfer { postings, .. }
            | Body::Correction { postings, .. } => postings,
            _ => &[],
        }
    }

    /// The evidence files (SHA-256) this entry names.
    pub fn evidence(&self) -> &[Hash] {
        match self {
            Body::PublicIncomeReceived { evidence, .. }
            | Body::ClaimSubmitted { evidence, .. }
            | Body::ServiceRecord { evidence, .. } => evidence,
            _ => &[],
        }
    }

    /// Replaces the postings; the rules in `State` decide what they must be.
    pub fn set_postings(&mut self, new: Vec<Posting>) {
        match self {
            Body::FeesCharged { postings, .. }
            | Body::FeePaid { postings, .. }
            | Body::PublicIncomeReceived { postings, .. }
            | Body::OpeningBalance { postings, .. }
            | Body::DisbursementExecuted { postings, .. }
            | Body::Transfer { postings, .. }
            | Body::Correction { postings, .. } => *postings = new,
            _ => {}
        }
    }
}

/// An entry with its envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub estate: Slug,
    pub seq: u64,
    pub prev: Hash,
    pub time: Timestamp,
    pub body: Body,
}

/// Why entry bytes were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EntryError {
    #[error("entry is not canonical JSON: {0}")]
    Canonical(String),
    #[error("entry field {field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    #[error("entry fields do not match kind {kind:?}: {message}")]
    Body { kind: String, message: String },
}

const ENVELOPE: [&str; 5] = ["v", "estate", "seq", "prev", "time"];

impl Entry {
    /// The JSON object before canonicalisation.
    fn to_value(&self) -> Value {
        // Serialising a Body built from parsed domain values cannot fail:
        // every field is a string, small integer or list of them.
        let mut obj = match serde_json::to_value(&self.body) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        obj.insert("v".into(), Value::from(FORMAT_VERSION));
        obj.insert("estate".into(), Value::from(self.estate.to_string()));
        obj.insert("seq".into(), Value::from(self.seq));
        obj.insert("prev".into(), Value::from(self.prev.to_hex()));
        obj.insert("time".into(), Value::from(self.time.to_string()));
        Value::Object(obj)
    }

    /// The exact bytes that are hashed, stored and published (RFC 8785).
    pub fn canonical_bytes(&self) -> String {
        // JCS only fails on floats and out-of-range integers, which an
        // Entry cannot hold (seq is bounded by the tree size, far below 2^53).
        jcs::canonicalize(&self.to_value()).unwrap_or_default()
    }

    /// Parses entry bytes strictly: they must be canonical JSON, every
    /// field must parse, and re-serialising must give back the same bytes
    /// (so unknown fields, `"12.5"` for `"12.50"` and the like are refused).
    pub fn parse(bytes: &str) -> Result<Entry, EntryError> {
        let value =
            jcs::parse_canonical(bytes).map_err(|e| EntryError::Canonical(e.to_string()))?;
        let Value::Object(mut obj) = value else {
            return Err(EntryError::Canonical("entry is not a JSON object".into()));
        };
        let take_str =
            |obj: &mut Map<String, Value>, field: &'static str| -> Result<String, EntryError> {
                match obj.remove(field) {
                    Some(Value::String(s)) => Ok(s),
                    _ => Err(EntryError::Field {
                        field,
                        message: "missing or not a string".into(),
                    }),
                }
            };
        match obj.remove("v") {
            Some(Value::Number(n)) if n.as_u64() == Some(FORMAT_VERSION) => {}
            _ => {
                return Err(EntryError::Field {
                    field: "v",
                    message: "format version must be 1".into(),
                })
            }
        }
        let seq = match obj.remove("seq") {
            Some(Value::Number(n)) => n.as_u64().ok_or(EntryError::Field {
                field: "seq",
                message: "must be a non-negative integer".into(),
            })?,
            _ => {
                return Err(EntryError::Field {
                    field: "seq",
                    message: "missing".into(),
                })
            }
        };
        let estate = Slug::parse("estate", &take_str(&mut obj, "estate")?).map_err(|e| {
            EntryError::Field {
                field: "estate",
                message: e.message,
            }
        })?;
        let prev = Hash::from_hex(&take_str(&mut obj, "prev")?).map_err(|e| EntryError::Field {
            field: "prev",
            message: e.to_string(),
        })?;
        let time = Timestamp::parse("time", &take_str(&mut obj, "time")?).map_err(|e| {
            EntryError::Field {
                field: "time",
                message: e.message,
            }
        })?;
        let kind = match obj.get("kind") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(EntryError::Field {
                    field: "kind",
                    message: "missing or not a string".into(),
                })
            }
        };
        debug_assert!(ENVELOPE.iter().all(|f| !obj.contains_key(*f)));
        let body: Body =
            serde_json::from_value(Value::Object(obj)).map_err(|e| EntryError::Body {
                kind: kind.clone(),
                message: e.to_string(),
            })?;
        let entry = Entry {
            estate,
            seq,
            prev,
            time,
            body,
        };
        if entry.canonical_bytes() != bytes {
            return Err(EntryError::Body {
                kind,
                message: "fields are not in their canonical form (re-encoding differs)".into(),
            });
        }
        Ok(entry)
    }

    /// Canonical bytes and their RFC 9162 leaf hash, computed once.
    pub fn seal(self) -> SealedEntry {
        let bytes = self.canonical_bytes();
        let hash = record_hash(bytes.as_bytes());
        SealedEntry {
            entry: self,
            bytes,
            hash,
        }
    }
}

/// An entry together with its exact bytes and hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedEntry {
    pub entry: Entry,
    pub bytes: String,
    pub hash: Hash,
}

impl SealedEntry {
    /// Parses stored or published bytes and hashes them.
    pub fn from_bytes(bytes: &str) -> Result<SealedEntry, EntryError> {
        let entry = Entry::parse(bytes)?;
        Ok(SealedEntry {
            entry,
            bytes: bytes.to_string(),
            hash: record_hash(bytes.as_bytes()),
        })
    }
}
