//! Fee rates and floor areas: a unit's monthly fee is area × rate.

use std::fmt;

use rust_decimal::Decimal;

use super::{code, numeric, serde_via_parse, DomainError, Money};

/// A fee rate in yuan per square metre per month, `0 < rate <= 1000`, at
/// most four decimals ("1.85", "2.355").
///
/// Held as an integer count of ten-thousandths of a yuan so area × rate is
/// exact until the one final rounding to the fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(i64);

const RATE_DECIMALS: u32 = 4;
const MAX_RATE_TEN_THOUSANDTHS: i64 = 1000 * 10_000;

impl Rate {
    /// Reads a positive rate in yuan/m²/month.
    pub fn parse(field: &str, text: &str) -> Result<Rate, DomainError> {
        let scaled = numeric::parse_scaled(field, text, RATE_DECIMALS, "1.85")?;
        let scaled = positive_at_most(
            field,
            scaled,
            MAX_RATE_TEN_THOUSANDTHS,
            "1000 yuan per m² per month",
        )?;
        Ok(Rate(scaled))
    }

    /// The rate in ten-thousandths of a yuan per m² per month.
    pub fn ten_thousandths_yuan_per_m2_month(&self) -> i64 {
        self.0
    }

    pub fn as_decimal(&self) -> Decimal {
        Decimal::new(self.0, RATE_DECIMALS).normalize()
    }
}

/// Canonical form: at least two decimals, no trailing zeros beyond them
/// ("2.50", "1.85", "1.855"), so rates read like prices.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&numeric::format_scaled(
            self.0.unsigned_abs().into(),
            RATE_DECIMALS,
            2,
        ))
    }
}

serde_via_parse!(Rate, "rate");

/// A floor area in square metres, `0 < area <= 100000.00`, at most two
/// decimals, as on a property certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Area(i64);

const AREA_DECIMALS: u32 = 2;
const MAX_AREA_HUNDREDTHS_M2: i64 = 100_000 * 100;

impl Area {
    /// Reads a positive area in m².
    pub fn parse(field: &str, text: &str) -> Result<Area, DomainError> {
        let scaled = numeric::parse_scaled(field, text, AREA_DECIMALS, "89.50")?;
        let scaled = positive_at_most(field, scaled, MAX_AREA_HUNDREDTHS_M2, "100000 m²")?;
        Ok(Area(scaled))
    }

    /// The area in hundredths of a square metre.
    pub fn hundredths_m2(&self) -> i64 {
        self.0
    }

    pub fn as_decimal(&self) -> Decimal {
        Decimal::new(self.0, AREA_DECIMALS)
    }

    /// The monthly fee for this area at `rate`, rounded half away from zero
    /// to the fen (四舍五入), as fee notices do.
    ///
    /// The product is at most 10^5 m² × 10^3 yuan = 10^8 yuan, far inside
    /// [`Money::MAX`]; the `Result` only guards that reasoning.
    pub fn times_rate(&self, rate: &Rate) -> Result<Money, DomainError> {
        // hundredths of m² × ten-thousandths of yuan = millionths of a yuan,
        // i.e. ten-thousandths of a fen.
        let micro_yuan = i128::from(self.0) * i128::from(rate.0);
        let fen = (micro_yuan + 5_000) / 10_000;
        let fen = i64::try_from(fen)
            .map_err(|_| DomainError::new("amount", code::TOO_LARGE, "area × rate is too large"))?;
        Money::from_fen(fen).map_err(|e| DomainError {
            field: "amount".into(),
            ..e
        })
    }
}

/// Canonical form: exactly two decimals ("89.50").
impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&numeric::format_scaled(
            self.0.unsigned_abs().into(),
            AREA_DECIMALS,
            2,
        ))
    }
}

serde_via_parse!(Area, "area");

fn positive_at_most(
    field: &str,
    scaled: u128,
    max: i64,
    max_text: &str,
) -> Result<i64, DomainError> {
    if scaled == 0 {
        return Err(DomainError::new(
            field,
            code::ZERO,
            "must be greater than zero",
        ));
    }
    match i64::try_from(scaled) {
        Ok(scaled) if scaled <= max => Ok(scaled),
        _ => Err(DomainError::new(
            field,
            code::TOO_LARGE,
            format!("must be at most {max_text}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rate(text: &str) -> Rate {
        match Rate::parse("rate", text) {
            Ok(r) => r,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn area(text: &str) -> Area {
        match Area::parse("area", text) {
            Ok(a) => a,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    #[test]
    fn rate_canonical_text() {
        assert_eq!(rate("2.5").to_string(), "2.50");
        assert_eq!(rate("1.8500").to_string(), "1.85");
        assert_eq!(rate("1.855").to_string(), "1.855");
        assert_eq!(rate("3").to_string(), "3.00");
        assert_eq!(rate("0.0001").to_string(), "0.0001");
        assert_eq!(rate("1000").to_string(), "1000.00");
        assert_eq!(rate("1.855").as_decimal().to_string(), "1.855");
    }

    #[test]
    fn area_canonical_text() {
        assert_eq!(area("89.5").to_string(), "89.50");
        assert_eq!(area("120").to_string(), "120.00");
        assert_eq!(area("0.01").to_string(), "0.01");
        assert_eq!(area("100000").hundredths_m2(), 10_000_000);
    }

    #[test]
    fn refusals() {
        let rate_code = |s: &str| Rate::parse("rate", s).map_err(|e| e.code).err();
        assert_eq!(rate_code("0"), Some(code::ZERO));
        assert_eq!(rate_code("0.0000"), Some(code::ZERO));
        assert_eq!(rate_code("1000.0001"), Some(code::TOO_LARGE));
        assert_eq!(rate_code("1.23456"), Some(code::TOO_MANY_DECIMALS));
        assert_eq!(rate_code("-1.5"), Some(code::NEGATIVE));
        assert_eq!(rate_code("1.5元"), Some(code::NOT_A_NUMBER));
        let area_code = |s: &str| Area::parse("area", s).map_err(|e| e.code).err();
        assert_eq!(area_code("0"), Some(code::ZERO));
        assert_eq!(area_code("100000.01"), Some(code::TOO_LARGE));
        assert_eq!(area_code("89.505"), Some(code::TOO_MANY_DECIMALS));
        assert_eq!(area_code("89,5"), Some(code::BAD_FORMAT));
    }

    #[test]
    fn fee_is_area_times_rate_rounded_half_away() {
        let fee = |a: &str, r: &str| area(a).times_rate(&rate(r)).map(|m| m.to_string());
        assert_eq!(fee("100", "1.85"), Ok("185.00".into()));
        // 89.50 × 1.85 = 165.575 → 165.58
        assert_eq!(fee("89.5", "1.85"), Ok("165.58".into()));
        // 0.01 × 0.0001 = 0.000001 → 0.00
        assert_eq!(fee("0.01", "0.0001"), Ok("0.00".into()));
        // 1 × 0.005 = 0.005 → 0.01
        assert_eq!(fee("1", "0.005"), Ok("0.01".into()));
        assert_eq!(fee("1", "0.0049"), Ok("0.00".into()));
        assert_eq!(fee("100000", "1000"), Ok("100000000.00".into()));
    }

    proptest! {
        #[test]
        fn display_parses_back(r in 1..=MAX_RATE_TEN_THOUSANDTHS, a in 1..=MAX_AREA_HUNDREDTHS_M2) {
            prop_assert_eq!(Rate::parse("rate", &Rate(r).to_string()), Ok(Rate(r)));
            prop_assert_eq!(Area::parse("area", &Area(a).to_string()), Ok(Area(a)));
        }

        #[test]
        fn fee_matches_decimal_rounding(r in 1..=MAX_RATE_TEN_THOUSANDTHS, a in 1..=MAX_AREA_HUNDREDTHS_M2) {
            let product = Area(a).as_decimal() * Rate(r).as_decimal();
            prop_assert_eq!(
                Area(a).times_rate(&Rate(r)),
                Money::round_fen_half_away_from_zero(product)
            );
        }
    }
}
