//! Accounts and postings: the double-entry side of the ledger.
//!
//! Account names are part of the hashed entry bytes, so their spelling is
//! fixed by `docs/FORMAT.md` ("Accounts").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::{DomainError, Money, UnitCommitment};

/// The trust fund's own money, held in the jointly controlled account.
/// Balances of these can never go negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FundAccount {
    /// 物业费: fee income, spends on day-to-day operation.
    Operating,
    /// 公共收益: adverts, parking, venue rent.
    PublicIncome,
    /// 维修资金: the maintenance reserve.
    Reserve,
}

impl FundAccount {
    pub const ALL: [FundAccount; 3] = [
        FundAccount::Operating,
        FundAccount::PublicIncome,
        FundAccount::Reserve,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FundAccount::Operating => "operating",
            FundAccount::PublicIncome => "public_income",
            FundAccount::Reserve => "reserve",
        }
    }
}

/// Where public income comes from (公共收益来源).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IncomeSource {
    ElevatorAds,
    Parking,
    Venue,
    Other,
}

impl IncomeSource {
    pub const ALL: [IncomeSource; 4] = [
        IncomeSource::ElevatorAds,
        IncomeSource::Parking,
        IncomeSource::Venue,
        IncomeSource::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncomeSource::ElevatorAds => "elevator_ads",
            IncomeSource::Parking => "parking",
            IncomeSource::Venue => "venue",
            IncomeSource::Other => "other",
        }
    }
}

/// What a claim spends money on (支出类别).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Repairs,
    Cleaning,
    Security,
    Greening,
    Utilities,
    Elevator,
    Insurance,
    Administration,
    /// 酬金: the property company's agreed share; bounded by the entitlement.
    Remuneration,
    Other,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Repairs,
        Category::Cleaning,
        Category::Security,
        Category::Greening,
        Category::Utilities,
        Category::Elevator,
        Category::Insurance,
        Category::Administration,
        Category::Remuneration,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Repairs => "repairs",
            Category::Cleaning => "cleaning",
            Category::Security => "security",
            Category::Greening => "greening",
            Category::Utilities => "utilities",
            Category::Elevator => "elevator",
            Category::Insurance => "insurance",
            Category::Administration => "administration",
            Category::Remuneration => "remuneration",
            Category::Other => "other",
        }
    }
}

/// Implements `FromStr`, `Display` and string serde for the small closed
/// vocabularies above, so their spelling lives in exactly one `as_str`.
macro_rules! closed_vocabulary {
    ($ty:ident, $field:literal) => {
        impl ::std::str::FromStr for $ty {
            type Err = $crate::domain::DomainError;
            fn from_str(s: &str) -> Result<Self, $crate::domain::DomainError> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let allowed: Vec<&str> = $ty::ALL.iter().map(|v| v.as_str()).collect();
                        $crate::domain::DomainError::new(
                            $field,
                            "unknown_value",
                            format!("must be one of {}", allowed.join(", ")),
                        )
                    })
            }
        }
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use closed_vocabulary;

closed_vocabulary!(FundAccount, "account");
closed_vocabulary!(IncomeSource, "source");
closed_vocabulary!(Category, "category");

/// A ledger account. Spelled in entries as given in `docs/FORMAT.md`:
/// `fund:operating`, `receivable:<unit commitment>`, `income:fees`,
/// `income:public:<source>`, `expense:<category>`, `equity:opening`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    Fund(FundAccount),
    /// Fees charged to a unit and not yet paid (a negative balance is a prepayment).
    Receivable(UnitCommitment),
    IncomeFees,
    IncomePublic(IncomeSource),
    Expense(Category),
    /// Money the fund already held when the estate joined trustfund.
    OpeningEquity,
}

impl Account {
    pub fn is_fund(&self) -> bool {
        matches!(self, Account::Fund(_))
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::Fund(a) => write!(f, "fund:{a}"),
            Account::Receivable(u) => write!(f, "receivable:{u}"),
            Account::IncomeFees => f.write_str("income:fees"),
            Account::IncomePublic(s) => write!(f, "income:public:{s}"),
            Account::Expense(c) => write!(f, "expense:{c}"),
            Account::OpeningEquity => f.write_str("equity:opening"),
        }
    }
}

impl FromStr for Account {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::new("account", "bad_format", format!("unknown account {s:?}"));
        if let Some(rest) = s.strip_prefix("fund:") {
            return Ok(Account::Fund(rest.parse()?));
        }
        if let Some(rest) = s.strip_prefix("receivable:") {
            return Ok(Account::Receivable(UnitCommitment::parse("account", rest)?));
        }
        if let Some(rest) = s.strip_prefix("income:public:") {
            return Ok(Account::IncomePublic(rest.parse()?));
        }
        if let Some(rest) = s.strip_prefix("expense:") {
            return Ok(Account::Expense(rest.parse()?));
        }
        match s {
            "income:fees" => Ok(Account::IncomeFees),
            "equity:opening" => Ok(Account::OpeningEquity),
            _ => Err(bad()),
        }
    }
}

/// Which side of the books a posting is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Debit,
    Credit,
}

/// One line of a balanced money movement: `{"account":…,"debit":"…"}` or
/// `{"account":…,"credit":"…"}`, amount strictly positive.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Posting {
    pub account: Account,
    pub side: Side,
    pub amount: Money,
}

impl Posting {
    pub fn debit(account: Account, amount: Money) -> Posting {
        Posting {
            account,
            side: Side::Debit,
            amount,
        }
    }

    pub fn credit(account: Account, amount: Money) -> Posting {
        Posting {
            account,
            side: Side::Credit,
            amount,
        }
    }

    /// The effect on the account's balance, kept as debit minus credit.
    pub fn signed_fen(&self) -> i64 {
        match self.side {
            Side::Debit => self.amount.fen(),
            Side::Credit => -self.amount.fen(),
        }
    }

    /// The same posting on the other side: how a correction reverses it.
    pub fn reversed(&self) -> Posting {
        let side = match self.side {
            Side::Debit => Side::Credit,
            Side::Credit => Side::Debit,
        };
        Posting {
            account: self.account.clone(),
            side,
            amount: self.amount,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostingWire {
    account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    debit: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credit: Option<Money>,
}

impl Serialize for Posting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (debit, credit) = match self.side {
            Side::Debit => (Some(self.amount), None),
            Side::Credit => (None, Some(self.amount)),
        };
        PostingWire {
            account: self.account.to_string(),
            debit,
            credit,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Posting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let w = PostingWire::deserialize(d)?;
        let account: Account = w.account.parse().map_err(D::Error::custom)?;
        let (side, amount) = match (w.debit, w.credit) {
            (Some(a), None) => (Side::Debit, a),
            (None, Some(a)) => (Side::Credit, a),
            _ => {
                return Err(D::Error::custom(
                    "a posting has exactly one of debit or credit",
                ))
            }
        };
        if amount == Money::ZERO {
            return Err(D::Error::custom(
                "a posting amount must be greater than zero",
            ));
        }
        Ok(Posting {
            account,
            side,
            amount,
        })
    }
}

/// True when total debits equal total credits (and nothing overflowed).
pub fn is_balanced(postings: &[Posting]) -> bool {
    let mut debit: i128 = 0;
    let mut credit: i128 = 0;
    for p in postings {
        match p.side {
            Side::Debit => debit += i128::from(p.amount.fen()),
            Side::Credit => credit += i128::from(p.amount.fen()),
        }
    }
    debit == credit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_round_trip() {
        let unit = "ab".repeat(32);
        for s in [
            "fund:operating".to_string(),
            "fund:public_income".to_string(),
            "fund:reserve".to_string(),
            format!("receivable:{unit}"),
            "income:fees".to_string(),
            "income:public:elevator_ads".to_string(),
            "expense:repairs".to_string(),
            "expense:remuneration".to_string(),
            "equity:opening".to_string(),
        ] {
            let a: Account = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
        for bad in [
            "fund:",
            "fund:savings",
            "income:public:",
            "receivable:AB",
            "expenses:repairs",
            "",
        ] {
            assert!(bad.parse::<Account>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn posting_wire_form_is_strict() {
        let p = Posting::debit(
            Account::Fund(FundAccount::Operating),
            Money::from_fen(12050).unwrap(),
        );
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"account":"fund:operating","debit":"120.50"}"#
        );
        for bad in [
            r#"{"account":"fund:operating"}"#,
            r#"{"account":"fund:operating","debit":"1.00","credit":"1.00"}"#,
            r#"{"account":"fund:operating","debit":"0.00"}"#,
            r#"{"account":"fund:operating","debit":"1.00","memo":"x"}"#,
            r#"{"account":"fund:operating","debit":"-1.00"}"#,
        ] {
            assert!(serde_json::from_str::<Posting>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn balance_check() {
        let m = |f| Money::from_fen(f).unwrap();
        let ok = [
            Posting::debit(Account::Fund(FundAccount::Operating), m(100)),
            Posting::credit(Account::IncomeFees, m(100)),
        ];
        assert!(is_balanced(&ok));
        let off_by_one = [
            Posting::debit(Account::Fund(FundAccount::Operating), m(100)),
            Posting::credit(Account::IncomeFees, m(99)),
        ];
        assert!(!is_balanced(&off_by_one));
    }
}
