//! Calendar values: billing months and dates.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::{code, serde_via_parse, DomainError};

/// The supported years. The ledger is written by people about the present,
/// so a year outside this range is a typo, and a fixed range keeps every
/// canonical form at exactly four year digits.
const FIRST_YEAR: i32 = 2000;
const LAST_YEAR: i32 = 2999;

/// Reads exactly `len` ASCII digits at `text[start..]`.
fn digits(text: &[u8], start: usize, len: usize) -> Option<u32> {
    let slice = text.get(start..start + len)?;
    slice.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

fn year_in_range(field: &str, year: i32) -> Result<(), DomainError> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(DomainError::new(
            field,
            code::OUT_OF_RANGE,
            format!("year must be between {FIRST_YEAR} and {LAST_YEAR}"),
        ))
    }
}

/// A calendar month, "YYYY-MM", from 2000-01 to 2999-12: the unit of
/// billing and of monthly reports.
///
/// Field order (year, then month) makes the derived `Ord` chronological.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: u16,
    month: u8,
}

impl Period {
    pub fn parse(field: &str, text: &str) -> Result<Period, DomainError> {
        let bytes = text.as_bytes();
        let parsed = match (
            bytes.len(),
            digits(bytes, 0, 4),
            bytes.get(4),
            digits(bytes, 5, 2),
        ) {
            (7, Some(year), Some(b'-'), Some(month)) => Some((year, month)),
            _ => None,
        };
        let Some((year, month)) = parsed else {
            return Err(DomainError::new(
                field,
                code::BAD_FORMAT,
                "must be a month written YYYY-MM, like 2024-05",
            ));
        };
        Self::from_year_month(field, year as i32, month)
    }

    pub fn from_year_month(field: &str, year: i32, month: u32) -> Result<Period, DomainError> {
        year_in_range(field, year)?;
        if !(1..=12).contains(&month) {
            return Err(DomainError::new(
                field,
                code::OUT_OF_RANGE,
                "month must be 01 to 12",
            ));
        }
        // Both checked just above, so the narrowing casts are exact.
        Ok(Period {
            year: year as u16,
            month: month as u8,
        })
    }

    /// The month containing `date`.
    pub fn from_date(field: &str, date: NaiveDate) -> Result<Period, DomainError> {
        Self::from_year_month(field, date.year(), date.month())
    }

    /// The month containing `date`, for callers whose own range already
    /// keeps `date` within 2000..=2999 (a [`Date`], a local date of a
    /// [`Timestamp`](super::Timestamp)); saturates at the ends rather than
    /// panic if that reasoning is ever broken.
    pub(super) fn containing(date: NaiveDate) -> Period {
        let (year, month) = match date.year() {
            year if year < FIRST_YEAR => (FIRST_YEAR, 1),
            year if year > LAST_YEAR => (LAST_YEAR, 12),
            year => (year, date.month()),
        };
        Period {
            year: year as u16,
            month: month as u8,
        }
    }

    pub fn year(&self) -> i32 {
        i32::from(self.year)
    }

    /// 1 to 12.
    pub fn month(&self) -> u32 {
        u32::from(self.month)
    }

    /// The following month; `None` after 2999-12.
    pub fn next(&self) -> Option<Period> {
        let (year, month) = if self.month == 12 {
            (self.year() + 1, 1)
        } else {
            (self.year(), self.month() + 1)
        };
        Self::from_year_month("period", year, month).ok()
    }

    /// The preceding month; `None` before 2000-01.
    pub fn prev(&self) -> Option<Period> {
        let (year, month) = if self.month == 1 {
            (self.year() - 1, 12)
        } else {
            (self.year(), self.month() - 1)
        };
        Self::from_year_month("period", year, month).ok()
    }

    pub fn first_day(&self) -> NaiveDate {
        // Every Period is a real month between 2000 and 2999, all of which
        // chrono represents.
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1).unwrap_or(NaiveDate::MIN)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

serde_via_parse!(Period, "period");

/// A calendar date, "YYYY-MM-DD", real dates only (no 02-30), years 2000 to
/// 2999: when money was received or work was done, in the estate's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

impl Date {
    pub fn parse(field: &str, text: &str) -> Result<Date, DomainError> {
        let bytes = text.as_bytes();
        let shape_ok =
            bytes.len() == 10 && bytes.get(4) == Some(&b'-') && bytes.get(7) == Some(&b'-');
        let (Some(year), Some(month), Some(day), true) = (
            digits(bytes, 0, 4),
            digits(bytes, 5, 2),
            digits(bytes, 8, 2),
            shape_ok,
        ) else {
            return Err(DomainError::new(
                field,
                code::BAD_FORMAT,
                "must be a date written YYYY-MM-DD, like 2024-05-01",
            ));
        };
        let date = NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(|| {
            DomainError::new(field, code::OUT_OF_RANGE, "is not a real calendar date")
        })?;
        Self::from_naive(field, date)
    }

    pub fn from_naive(field: &str, date: NaiveDate) -> Result<Date, DomainError> {
        year_in_range(field, date.year())?;
        Ok(Date(date))
    }

    pub fn as_naive(&self) -> NaiveDate {
        self.0
    }

    /// The month this date falls in.
    pub fn period(&self) -> Period {
        Period::containing(self.0)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

serde_via_parse!(Date, "date");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn period(text: &str) -> Period {
        match Period::parse("period", text) {
            Ok(p) => p,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    #[test]
    fn periods_parse_and_order() {
        assert_eq!(period("2024-05").to_string(), "2024-05");
        assert_eq!(
            (period("2024-05").year(), period("2024-05").month()),
            (2024, 5)
        );
        assert!(period("2023-12") < period("2024-01"));
        assert!(period("2024-02") < period("2024-10"));
        assert_eq!(period("2024-12").next(), Some(period("2025-01")));
        assert_eq!(period("2025-01").prev(), Some(period("2024-12")));
        assert_eq!(period("2999-12").next(), None);
        assert_eq!(period("2000-01").prev(), None);
        assert_eq!(
            period("2024-02").first_day(),
            NaiveDate::from_ymd_opt(2024, 2, 1).unwrap_or_default()
        );
    }

    #[test]
    fn periods_refuse() {
        let cases = [
            ("2024-5", code::BAD_FORMAT),
            ("2024-05-01", code::BAD_FORMAT),
            ("2024/05", code::BAD_FORMAT),
            ("202405", code::BAD_FORMAT),
            (" 2024-05", code::BAD_FORMAT),
            ("２０２４-05", code::BAD_FORMAT),
            ("+024-05", code::BAD_FORMAT),
            ("2024-00", code::OUT_OF_RANGE),
            ("2024-13", code::OUT_OF_RANGE),
            ("1999-12", code::OUT_OF_RANGE),
            ("3000-01", code::OUT_OF_RANGE),
            ("", code::BAD_FORMAT),
        ];
        for (text, expected) in cases {
            let e = Period::parse("billing_month", text).err();
            assert_eq!(e.as_ref().map(|e| e.code), Some(expected), "{text:?}");
            assert_eq!(e.map(|e| e.field), Some("billing_month".into()));
        }
    }

    #[test]
    fn dates_are_real() {
        let parse = |s: &str| {
            Date::parse("paid_on", s)
                .map(|d| d.to_string())
                .map_err(|e| e.code)
        };
        assert_eq!(parse("2024-02-29"), Ok("2024-02-29".into()));
        assert_eq!(parse("2023-02-29"), Err(code::OUT_OF_RANGE));
        assert_eq!(parse("2024-04-31"), Err(code::OUT_OF_RANGE));
        assert_eq!(parse("2024-4-1"), Err(code::BAD_FORMAT));
        assert_eq!(parse("2024-04-01T00:00:00Z"), Err(code::BAD_FORMAT));
        assert_eq!(parse("1999-12-31"), Err(code::OUT_OF_RANGE));
        assert_eq!(parse("3000-01-01"), Err(code::OUT_OF_RANGE));
        assert_eq!(parse("2024-0a-01"), Err(code::BAD_FORMAT));
        let date = Date::parse("paid_on", "2024-05-31").map(|d| d.period());
        assert_eq!(date, Ok(period("2024-05")));
    }

    proptest! {
        #[test]
        fn next_and_prev_are_inverse(year in 2000..=2999i32, month in 1..=12u32) {
            let p = Period::from_year_month("period", year, month).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Period::parse("period", &p.to_string()), Ok(p));
            if let Some(next) = p.next() {
                prop_assert!(next > p);
                prop_assert_eq!(next.prev(), Some(p));
                prop_assert_eq!(next.first_day().pred_opt().map(|d| Period::from_date("p", d)), Some(Ok(p)));
            }
        }
    }
}
