//! Monthly statements: what a `statement_published` entry says, and the
//! per-month figures the ledger keeps so that it can check them.
//!
//! A statement for month P covers a contiguous run of entries,
//! `from_seq..to_seq`: everything since the previous statement up to the
//! last entry whose time falls in P. Figures are gross sums per kind, with
//! corrections in their own `reversed` block, so no figure is ever
//! negative. `State::apply` recomputes every figure and refuses a
//! statement that differs by as much as one fen.

use serde::{Deserialize, Serialize};

use super::account::{Category, FundAccount, IncomeSource};
use crate::domain::{Money, Period};

/// Balances of the three fund accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FundFigures {
    pub operating: Money,
    pub public_income: Money,
    pub reserve: Money,
}

impl FundFigures {
    pub fn get(&self, account: FundAccount) -> Money {
        match account {
            FundAccount::Operating => self.operating,
            FundAccount::PublicIncome => self.public_income,
            FundAccount::Reserve => self.reserve,
        }
    }
}

/// Public income by source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SourceFigures {
    pub elevator_ads: Money,
    pub parking: Money,
    pub venue: Money,
    pub other: Money,
}

impl SourceFigures {
    pub fn get(&self, source: IncomeSource) -> Money {
        match source {
            IncomeSource::ElevatorAds => self.elevator_ads,
            IncomeSource::Parking => self.parking,
            IncomeSource::Venue => self.venue,
            IncomeSource::Other => self.other,
        }
    }
}

/// Money paid out, by category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CategoryFigures {
    pub repairs: Money,
    pub cleaning: Money,
    pub security: Money,
    pub greening: Money,
    pub utilities: Money,
    pub elevator: Money,
    pub insurance: Money,
    pub administration: Money,
    pub remuneration: Money,
    pub other: Money,
}

impl CategoryFigures {
    pub fn get(&self, category: Category) -> Money {
        match category {
            Category::Repairs => self.repairs,
            Category::Cleaning => self.cleaning,
            Category::Security => self.security,
            Category::Greening => self.greening,
            Category::Utilities => self.utilities,
            Category::Elevator => self.elevator,
            Category::Insurance => self.insurance,
            Category::Administration => self.administration,
            Category::Remuneration => self.remuneration,
            Category::Other => self.other,
        }
    }
}

/// Amounts that corrections in the statement's range reversed, by the
/// kind of entry corrected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Reversed {
    pub fees_charged: Money,
    pub fees_collected: Money,
    pub public_income: Money,
    pub opening_balances: Money,
}

/// The company's remuneration for the statement's month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Remuneration {
    /// Ratio × fees collected in the month, rounded once (FORMAT.md §8.4).
    pub entitlement: Money,
    /// Remuneration claims for the month executed by the statement's time.
    pub taken: Money,
}

/// The fields of a `statement_published` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub period: Period,
    /// First entry covered.
    pub from_seq: u64,
    /// One past the last entry covered.
    pub to_seq: u64,
    pub opening: FundFigures,
    pub closing: FundFigures,
    pub opening_balances: Money,
    pub fees_charged: Money,
    pub fees_collected: Money,
    pub public_income: SourceFigures,
    pub spending: CategoryFigures,
    pub reversed: Reversed,
    pub remuneration: Remuneration,
    /// Fees charged and not yet paid, over all units, at the end of the range.
    pub arrears: Money,
}

impl Statement {
    /// A request to close `period`: the ledger fills in every figure.
    pub fn request(period: Period) -> Statement {
        MonthStats::default().to_statement(period, Remuneration::default())
    }

    /// Total public income of the month.
    pub fn public_income_total(&self) -> Money {
        let fen: i64 = IncomeSource::ALL
            .iter()
            .map(|s| self.public_income.get(*s).fen())
            .sum();
        Money::from_fen(fen).unwrap_or(Money::ZERO)
    }

    /// Total spending of the month.
    pub fn spending_total(&self) -> Money {
        let fen: i64 = Category::ALL
            .iter()
            .map(|c| self.spending.get(*c).fen())
            .sum();
        Money::from_fen(fen).unwrap_or(Money::ZERO)
    }

    /// The first figure that differs from `other`, by its field path.
    pub fn first_difference(&self, other: &Statement) -> Option<&'static str> {
        let a = serde_json::to_value(self).ok()?;
        let b = serde_json::to_value(other).ok()?;
        const FIELDS: [&str; 13] = [
            "period",
            "from_seq",
            "to_seq",
            "opening",
            "closing",
            "opening_balances",
            "fees_charged",
            "fees_collected",
            "public_income",
            "spending",
            "reversed",
            "remuneration",
            "arrears",
        ];
        FIELDS.into_iter().find(|f| a.get(f) != b.get(f))
    }
}

/// Running per-month figures, in fen, kept as entries are applied.
#[derive(Clone, Debug, Default)]
pub(crate) struct MonthStats {
    pub from_seq: u64,
    pub end_seq: u64,
    pub opening: [i64; 3],
    pub closing: [i64; 3],
    pub opening_balances: i64,
    pub fees_charged: i64,
    pub fees_collected: i64,
    pub public_income: [i64; 4],
    pub spending: [i64; 10],
    pub rev_fees_charged: i64,
    pub rev_fees_collected: i64,
    pub rev_public_income: i64,
    pub rev_opening_balances: i64,
    pub arrears_end: i64,
}

pub(crate) fn fund_index(a: FundAccount) -> usize {
    match a {
        FundAccount::Operating => 0,
        FundAccount::PublicIncome => 1,
        FundAccount::Reserve => 2,
    }
}

pub(crate) fn source_index(s: IncomeSource) -> usize {
    IncomeSource::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

pub(crate) fn category_index(c: Category) -> usize {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(0)
}

fn m(fen: i64) -> Money {
    // Sums of non-negative postings within the money bound.
    Money::from_fen(fen.max(0)).unwrap_or(Money::MAX)
}

pub(crate) fn funds(fen: [i64; 3]) -> FundFigures {
    FundFigures {
        operating: m(fen[0]),
        public_income: m(fen[1]),
        reserve: m(fen[2]),
    }
}

impl MonthStats {
    /// The figures of a statement over exactly this month's entries.
    pub fn to_statement(&self, period: Period, remuneration: Remuneration) -> Statement {
        let p = &self.public_income;
        let s = &self.spending;
        Statement {
            period,
            from_seq: self.from_seq,
            to_seq: self.end_seq,
            opening: funds(self.opening),
            closing: funds(self.closing),
            opening_balances: m(self.opening_balances),
            fees_charged: m(self.fees_charged),
            fees_collected: m(self.fees_collected),
            public_income: SourceFigures {
                elevator_ads: m(p[0]),
                parking: m(p[1]),
                venue: m(p[2]),
                other: m(p[3]),
            },
            spending: CategoryFigures {
                repairs: m(s[0]),
                cleaning: m(s[1]),
                security: m(s[2]),
                greening: m(s[3]),
                utilities: m(s[4]),
                elevator: m(s[5]),
                insurance: m(s[6]),
                administration: m(s[7]),
                remuneration: m(s[8]),
                other: m(s[9]),
            },
            reversed: Reversed {
                fees_charged: m(self.rev_fees_charged),
                fees_collected: m(self.rev_fees_collected),
                public_income: m(self.rev_public_income),
                opening_balances: m(self.rev_opening_balances),
            },
            remuneration,
            arrears: m(self.arrears_end),
        }
    }
}
