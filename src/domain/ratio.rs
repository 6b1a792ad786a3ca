//! Shares of a whole, such as the fraction of common income kept by the
//! property manager.

use std::fmt;

use rust_decimal::Decimal;

use super::{code, numeric, serde_via_parse, DomainError};

/// A fraction in `[0, 1]` with at most four decimals ("0.1", "0.125").
///
/// Held as an integer count of ten-thousandths so it is exact and cheap to
/// apply to fen. Four decimals allow shares like 12.34% while keeping
/// every ratio × amount computation exact before the final rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ratio(u32);

const DECIMALS: u32 = 4;
const ONE: u32 = 10_000;

impl Ratio {
    pub const ZERO: Ratio = Ratio(0);
    pub const ONE: Ratio = Ratio(ONE);

    /// Reads a decimal in `[0, 1]`, ASCII only, at most four decimals, no
    /// sign, exponent or leading zeros ("0.10" and "0.1" are the same).
    pub fn parse(field: &str, text: &str) -> Result<Ratio, DomainError> {
        let scaled = numeric::parse_scaled(field, text, DECIMALS, "0.125")?;
        match u32::try_from(scaled) {
            Ok(scaled) if scaled <= ONE => Ok(Ratio(scaled)),
            _ => Err(DomainError::new(
                field,
                code::TOO_LARGE,
                "must be at most 1 (write shares as fractions: 0.1 for 10%)",
            )),
        }
    }

    /// The ratio in ten-thousandths (万分之): 0.125 is 1250.
    pub fn per_ten_thousand(&self) -> u32 {
        self.0
    }

    /// Exact decimal value, trailing zeros removed.
    pub fn as_decimal(&self) -> Decimal {
        Decimal::new(i64::from(self.0), DECIMALS).normalize()
    }

    /// For pages: "10%", "12.5%", "0.01%".
    pub fn percent(&self) -> String {
        format!(
            "{}%",
            numeric::format_scaled(u128::from(self.0), DECIMALS - 2, 0)
        )
    }
}

/// Canonical form: no trailing zeros ("0.1", "1", "0").
impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&numeric::format_scaled(u128::from(self.0), DECIMALS, 0))
    }
}

serde_via_parse!(Ratio, "ratio");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ratio(text: &str) -> Ratio {
        match Ratio::parse("ratio", text) {
            Ok(r) => r,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    #[test]
    fn canonical_text_strips_trailing_zeros() {
        assert_eq!(ratio("0.10").to_string(), "0.1");
        assert_eq!(ratio("1.0").to_string(), "1");
        assert_eq!(ratio("1.0000").to_string(), "1");
        assert_eq!(ratio("0").to_string(), "0");
        assert_eq!(ratio("0.125").to_string(), "0.125");
        assert_eq!(ratio("0.0001").to_string(), "0.0001");
        assert_eq!(ratio("0.1"), ratio("0.1000"));
    }

    #[test]
    fn percent_for_pages() {
        assert_eq!(ratio("0.1").percent(), "10%");
        assert_eq!(ratio("0.125").percent(), "12.5%");
        assert_eq!(ratio("0.0001").percent(), "0.01%");
        assert_eq!(ratio("1").percent(), "100%");
        assert_eq!(ratio("0").percent(), "0%");
    }

    #[test]
    fn decimal_value() {
        assert_eq!(ratio("0.10").as_decimal().to_string(), "0.1");
        assert_eq!(ratio("1").as_decimal().to_string(), "1");
        assert_eq!(ratio("0.125").per_ten_thousand(), 1250);
    }

    #[test]
    fn refusals() {
        let cases = [
            ("1.0001", code::TOO_LARGE),
            ("2", code::TOO_LARGE),
            ("0.12345", code::TOO_MANY_DECIMALS),
            ("-0.1", code::NEGATIVE),
            ("+0.1", code::BAD_FORMAT),
            ("1e-1", code::BAD_FORMAT),
            ("10%", code::NOT_A_NUMBER),
            ("００.1", code::BAD_FORMAT),
            ("00.1", code::LEADING_ZERO),
            (".5", code::BAD_FORMAT),
            ("", code::EMPTY),
            ("NaN", code::NOT_A_NUMBER),
        ];
        for (text, expected) in cases {
            let e = Ratio::parse("manager_share", text).err();
            assert_eq!(e.as_ref().map(|e| e.code), Some(expected), "{text:?}");
            assert_eq!(e.map(|e| e.field), Some("manager_share".to_string()));
        }
    }

    proptest! {
        #[test]
        fn display_parses_back(n in 0..=ONE) {
            let r = Ratio(n);
            prop_assert_eq!(Ratio::parse("ratio", &r.to_string()), Ok(r));
        }
    }
}
