//! Amounts of renminbi, held as integer fen.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

use super::{code, numeric, serde_via_parse, DomainError};

/// An amount of CNY, never negative, exact to the fen (0.01 yuan).
///
/// Rule: `0 <= amount < 10^12 yuan`, i.e. at most `999999999999.99`. That is
/// far above any estate fund, and keeps every sum of two amounts inside
/// `i64` fen and every amount inside the Chinese capital numerals up to 亿.
///
/// Text form (in entries and forms) is ASCII `^(0|[1-9]\d{0,11})(\.\d{1,2})?$`:
/// "12", "12.5" and "12.50" are the same amount; the canonical form written
/// by [`Display`](fmt::Display) always has exactly two decimals ("12.50").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

const FEN_PER_YUAN: i64 = 100;

impl Money {
    pub const ZERO: Money = Money(0);
    /// The largest amount, 999999999999.99 yuan.
    pub const MAX: Money = Money(Self::MAX_FEN);
    const MAX_FEN: i64 = 1_000_000_000_000 * FEN_PER_YUAN - 1;
    const EXAMPLE: &'static str = "1234.50";

    /// Reads an amount in yuan ("1234.50"); zero is allowed.
    pub fn parse(field: &str, text: &str) -> Result<Money, DomainError> {
        let fen = numeric::parse_scaled(field, text, 2, Self::EXAMPLE)?;
        match i64::try_from(fen) {
            Ok(fen) if fen <= Self::MAX_FEN => Ok(Money(fen)),
            _ => Err(Self::too_large(field)),
        }
    }

    /// Like [`Money::parse`], and also refuses zero: for payments and
    /// charges, where a zero amount is always a typing mistake.
    pub fn parse_positive(field: &str, text: &str) -> Result<Money, DomainError> {
        let amount = Self::parse(field, text)?;
        if amount.is_zero() {
            return Err(DomainError::new(
                field,
                code::ZERO,
                "must be greater than zero",
            ));
        }
        Ok(amount)
    }

    /// From the integer fen kept in storage (field `amount_fen`).
    pub fn from_fen(fen: i64) -> Result<Money, DomainError> {
        const FIELD: &str = "amount_fen";
        if fen < 0 {
            return Err(DomainError::new(
                FIELD,
                code::NEGATIVE,
                "must not be negative",
            ));
        }
        if fen > Self::MAX_FEN {
            return Err(Self::too_large(FIELD));
        }
        Ok(Money(fen))
    }

    pub fn fen(&self) -> i64 {
        self.0
    }

    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// `None` when the sum would pass [`Money::MAX`].
    pub fn checked_add(&self, other: Money) -> Option<Money> {
        // Both are below 10^14, so the i64 sum cannot overflow.
        Self::from_fen(self.0 + other.0).ok()
    }

    /// `None` when `other` is larger than `self`.
    pub fn checked_sub(&self, other: Money) -> Option<Money> {
        Self::from_fen(self.0 - other.0).ok()
    }

    /// This share of the amount, rounded half away from zero to the fen.
    ///
    /// Cannot fail: a ratio is at most 1, so the result is at most `self`.
    pub fn times_ratio(&self, ratio: &super::Ratio) -> Money {
        let per_ten_thousand = i128::from(ratio.per_ten_thousand());
        // fen < 10^14 and ratio <= 10^4, so the product fits easily in i128;
        // adding half the divisor before dividing rounds half up, which is
        // half away from zero for non-negative values.
        let fen = (i128::from(self.0) * per_ten_thousand + 5_000) / 10_000;
        Money(i64::try_from(fen).map_or(self.0, |fen| fen.min(self.0)))
    }

    /// The amount in yuan as a decimal with scale 2 ("12.50").
    pub fn to_decimal(&self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Exact conversion: refuses values with more than two decimals after
    /// trailing zeros are dropped (12.500 is fine, 12.505 is not), negative
    /// values and values above [`Money::MAX`].
    pub fn from_decimal(field: &str, value: Decimal) -> Result<Money, DomainError> {
        if value < Decimal::ZERO {
            return Err(DomainError::new(
                field,
                code::NEGATIVE,
                "must not be negative",
            ));
        }
        if value > Self::MAX.to_decimal() {
            return Err(Self::too_large(field));
        }
        let value = value.normalize();
        let scale = value.scale();
        if scale > 2 {
            return Err(DomainError::new(
                field,
                code::TOO_MANY_DECIMALS,
                "must have at most 2 digits after the decimal point",
            ));
        }
        // Bounded above, so the mantissa is below 10^14 and fits i64.
        let fen = value.mantissa() * 10i128.pow(2 - scale);
        i64::try_from(fen)
            .ok()
            .and_then(|fen| Self::from_fen(fen).ok())
            .ok_or_else(|| Self::too_large(field))
    }

    /// Rounds a computed amount (area × rate, ratio × income) to the fen,
    /// half away from zero (四舍五入): 0.005 → 0.01, 0.0049 → 0.00,
    /// 2.675 → 2.68. Refuses negative results and results above the maximum,
    /// naming the field "amount".
    pub fn round_fen_half_away_from_zero(value: Decimal) -> Result<Money, DomainError> {
        let rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        Self::from_decimal("amount", rounded)
    }

    /// For pages: "¥1,234.50", with thousands separators. Never parse this
    /// back; the canonical form is [`Display`](fmt::Display).
    pub fn format_cny(&self) -> String {
        let yuan = (self.0 / FEN_PER_YUAN).to_string();
        let mut grouped = String::with_capacity(yuan.len() + yuan.len() / 3);
        for (i, digit) in yuan.chars().enumerate() {
            if i > 0 && (yuan.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        format!("¥{grouped}.{:02}", self.0 % FEN_PER_YUAN)
    }

    /// The amount in Chinese capital numerals (人民币大写) as written on
    /// cheques, receipts and bills.
    ///
    /// Conventions, following 《正确填写票据和结算凭证的基本规定》:
    /// - whole yuan end in "元整" ("壹拾元整"; zero is "零元整");
    /// - amounts ending at 角 end in "角整" ("壹元伍角整", "伍角整"); the rules
    ///   allow either "角" or "角整", and we pick "角整" so every amount
    ///   without 分 ends in 整;
    /// - amounts with 分 have no 整;
    /// - tens are always written with their digit ("壹拾", not "拾");
    /// - every run of zero digits between two non-zero digits is written as
    ///   one "零", also where the run covers the 万 or 元 position
    ///   ("壹仟陆佰捌拾元零叁角贰分", "壹亿零壹万元整"). The rules allow leaving
    ///   out that 零 at the 万 and 元 positions; always writing it is the
    ///   strict form of the rule and leaves nothing to judgement;
    /// - amounts below one yuan start at the first non-zero digit ("伍分").
    pub fn to_chinese_capital(&self) -> String {
        const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
        // Indexed by the position within a group of four digits.
        const IN_GROUP: [&str; 4] = ["", "拾", "佰", "仟"];

        let yuan = self.0 / FEN_PER_YUAN;
        let jiao = (self.0 / 10 % 10) as usize;
        let fen = (self.0 % 10) as usize;
        if self.0 == 0 {
            return "零元整".into();
        }

        let mut out = String::new();
        let mut started = false;
        let mut pending_zero = false;
        let mut group_has_digit = false;
        let push_digit = |out: &mut String, pending_zero: &mut bool, digit: usize| {
            if *pending_zero {
                out.push('零');
                *pending_zero = false;
            }
            out.push(DIGITS[digit]);
        };
        // MAX is below 10^12 yuan: twelve digit positions, 亿 is the top group.
        for position in (0..12u32).rev() {
            let digit = (yuan / 10i64.pow(position) % 10) as usize;
            if digit == 0 {
                pending_zero |= started;
            } else {
                push_digit(&mut out, &mut pending_zero, digit);
                out.push_str(IN_GROUP[(position % 4) as usize]);
                started = true;
                group_has_digit = true;
            }
            match position {
                8 if group_has_digit => out.push('亿'),
                4 if group_has_digit => out.push('万'),
                0 if started => out.push('元'),
                _ => {}
            }
            if position % 4 == 0 {
                group_has_digit = false;
            }
        }
        if jiao == 0 {
            pending_zero |= started;
        } else {
            push_digit(&mut out, &mut pending_zero, jiao);
            out.push('角');
        }
        if fen == 0 {
            out.push('整');
        } else {
            push_digit(&mut out, &mut pending_zero, fen);
            out.push('分');
        }
        out
    }

    fn too_large(field: &str) -> DomainError {
        DomainError::new(
            field,
            code::TOO_LARGE,
            "must be less than 1000000000000 yuan (at most 999999999999.99)",
        )
    }
}

/// The canonical entry form: at least one integer digit, exactly two
/// decimals, no separators ("0.05", "1234.50").
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / FEN_PER_YUAN, self.0 % FEN_PER_YUAN)
    }
}

serde_via_parse!(Money, "amount");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(text: &str) -> Money {
        match Money::parse("amount", text) {
            Ok(m) => m,
            Err(e) => panic!("{text:?} should parse: {e}"),
        }
    }

    fn refusal(text: &str) -> DomainError {
        match Money::parse("paid", text) {
            Ok(m) => panic!("{text:?} should be refused, got {m}"),
            Err(e) => e,
        }
    }

    #[test]
    fn accepts_plain_decimals() {
        assert_eq!(money("12").fen(), 1200);
        assert_eq!(money("12.5").fen(), 1250);
        assert_eq!(money("12.50").fen(), 1250);
        assert_eq!(money("0").fen(), 0);
        assert_eq!(money("0.05").fen(), 5);
        assert_eq!(money("999999999999.99"), Money::MAX);
    }

    #[test]
    fn refusals_name_the_field_and_the_problem() {
        let cases = [
            ("12.345", code::TOO_MANY_DECIMALS),
            ("-1", code::NEGATIVE),
            ("-0.01", code::NEGATIVE),
            ("+1", code::BAD_FORMAT),
            ("", code::EMPTY),
            ("NaN", code::NOT_A_NUMBER),
            ("inf", code::NOT_A_NUMBER),
            ("-Infinity", code::NOT_A_NUMBER),
            ("1e3", code::BAD_FORMAT),
            ("1E3", code::BAD_FORMAT),
            ("１２", code::BAD_FORMAT),
            ("1,234.50", code::BAD_FORMAT),
            ("1 234.50", code::BAD_FORMAT),
            (" 12", code::BAD_FORMAT),
            ("12 ", code::BAD_FORMAT),
            ("007", code::LEADING_ZERO),
            ("00.50", code::LEADING_ZERO),
            ("1000000000000", code::TOO_LARGE),
            ("1000000000000.00", code::TOO_LARGE),
            ("99999999999999999999999999", code::TOO_LARGE),
            (".5", code::BAD_FORMAT),
            ("5.", code::BAD_FORMAT),
            ("1.2.3", code::BAD_FORMAT),
            ("abc", code::NOT_A_NUMBER),
            ("0x10", code::NOT_A_NUMBER),
            ("¥12", code::NOT_A_NUMBER),
        ];
        for (text, expected) in cases {
            let e = refusal(text);
            assert_eq!(e.code, expected, "{text:?}: {e}");
            assert_eq!(e.field, "paid");
            assert!(e.to_string().starts_with("paid: "), "{e}");
        }
    }

    #[test]
    fn positive_refuses_zero() {
        assert_eq!(
            Money::parse_positive("amount", "0.00").map_err(|e| e.code),
            Err(code::ZERO)
        );
        assert_eq!(
            Money::parse_positive("amount", "0.01").map(|m| m.fen()),
            Ok(1)
        );
    }

    #[test]
    fn canonical_display() {
        assert_eq!(money("0.05").to_string(), "0.05");
        assert_eq!(money("1234.5").to_string(), "1234.50");
        assert_eq!(money("0").to_string(), "0.00");
        assert_eq!(Money::MAX.to_string(), "999999999999.99");
    }

    #[test]
    fn fen_bounds_and_arithmetic() {
        assert_eq!(Money::from_fen(-1).map_err(|e| e.code), Err(code::NEGATIVE));
        assert_eq!(
            Money::from_fen(Money::MAX.fen() + 1).map_err(|e| e.code),
            Err(code::TOO_LARGE)
        );
        let a = money("10.00");
        let b = money("0.01");
        assert_eq!(a.checked_add(b), Some(money("10.01")));
        assert_eq!(a.checked_sub(b), Some(money("9.99")));
        assert_eq!(b.checked_sub(a), None);
        assert_eq!(Money::MAX.checked_add(b), None);
        assert_eq!(a.checked_sub(a), Some(Money::ZERO));
    }

    #[test]
    fn decimal_conversions() {
        assert_eq!(money("12.5").to_decimal().to_string(), "12.50");
        let d = |s: &str| match s.parse::<Decimal>() {
            Ok(d) => d,
            Err(e) => panic!("{s}: {e}"),
        };
        assert_eq!(Money::from_decimal("x", d("12.500")), Ok(money("12.5")));
        assert_eq!(Money::from_decimal("x", d("-0")), Ok(Money::ZERO));
        let code_of = |s: &str| Money::from_decimal("x", d(s)).map_err(|e| e.code);
        assert_eq!(code_of("12.505"), Err(code::TOO_MANY_DECIMALS));
        assert_eq!(code_of("-0.01"), Err(code::NEGATIVE));
        assert_eq!(code_of("1000000000000"), Err(code::TOO_LARGE));
        assert_eq!(
            code_of("79228162514264337593543950335"),
            Err(code::TOO_LARGE)
        );
    }

    #[test]
    fn rounds_half_away_from_zero_to_the_fen() {
        let round = |s: &str| {
            let value = s.parse::<Decimal>().map_err(|e| e.to_string())?;
            Money::round_fen_half_away_from_zero(value)
                .map(|m| m.to_string())
                .map_err(|e| e.to_string())
        };
        assert_eq!(round("0.005"), Ok("0.01".into()));
        assert_eq!(round("0.0049"), Ok("0.00".into()));
        assert_eq!(round("2.675"), Ok("2.68".into()));
        assert_eq!(round("2.665"), Ok("2.67".into()));
        assert_eq!(round("2.6749999"), Ok("2.67".into()));
        assert_eq!(round("123"), Ok("123.00".into()));
        assert!(round("-0.01").is_err_and(|e| e.starts_with("amount: ")));
        // Rounds to -0.00, which is zero, not a negative amount.
        assert_eq!(round("-0.004"), Ok("0.00".into()));
    }

    #[test]
    fn share_by_ratio() {
        let ratio = |s: &str| match super::super::Ratio::parse("ratio", s) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(money("100.00").times_ratio(&ratio("0.1")), money("10.00"));
        assert_eq!(money("0.05").times_ratio(&ratio("0.1")), money("0.01"));
        assert_eq!(money("0.04").times_ratio(&ratio("0.1")), money("0.00"));
        assert_eq!(Money::MAX.times_ratio(&ratio("1")), Money::MAX);
        assert_eq!(money("3.33").times_ratio(&ratio("0.125")), money("0.42"));
    }

    #[test]
    fn page_format() {
        assert_eq!(money("1234.5").format_cny(), "¥1,234.50");
        assert_eq!(money("0.05").format_cny(), "¥0.05");
        assert_eq!(money("999").format_cny(), "¥999.00");
        assert_eq!(money("100000").format_cny(), "¥100,000.00");
        assert_eq!(Money::MAX.format_cny(), "¥999,999,999,999.99");
    }

    #[test]
    fn chinese_capital_numerals() {
        let cases = [
            ("0", "零元整"),
            ("0.05", "伍分"),
            ("0.50", "伍角整"),
            ("0.55", "伍角伍分"),
            ("1.50", "壹元伍角整"),
            ("10.00", "壹拾元整"),
            ("15", "壹拾伍元整"),
            ("1004.05", "壹仟零肆元零伍分"),
            ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
            ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
            ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
            ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
            ("325.04", "叁佰贰拾伍元零肆分"),
            ("1000.50", "壹仟元零伍角整"),
            ("100000", "壹拾万元整"),
            ("107000.53", "壹拾万零柒仟元零伍角叁分"),
            ("100010000.00", "壹亿零壹万元整"),
            ("100000001", "壹亿零壹元整"),
            ("100001000", "壹亿零壹仟元整"),
            ("110000000", "壹亿壹仟万元整"),
            ("200000000000", "贰仟亿元整"),
            ("10000.10", "壹万元零壹角整"),
            (
                "999999999999.99",
                "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(money(text).to_chinese_capital(), expected, "{text}");
        }
    }

    #[test]
    fn serde_uses_the_canonical_string() {
        assert_eq!(
            serde_json::to_string(&money("12.5")).ok(),
            Some("\"12.50\"".into())
        );
        let back: Result<Money, _> = serde_json::from_str("\"12.5\"");
        assert_eq!(back.ok(), Some(money("12.50")));
        // Numbers are refused: JSON numbers are how cents get lost.
        assert!(serde_json::from_str::<Money>("12.5").is_err());
        let refused = serde_json::from_str::<Money>("\"1e3\"").map_err(|e| e.to_string());
        assert!(refused.is_err_and(|e| e.starts_with("amount: ")));
    }

    proptest! {
        #[test]
        fn display_parses_back(fen in 0..=Money::MAX.fen()) {
            let m = Money::from_fen(fen).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Money::parse("amount", &m.to_string()), Ok(m));
            prop_assert_eq!(Money::from_decimal("amount", m.to_decimal()), Ok(m));
        }

        #[test]
        fn capital_numerals_have_no_double_zero(fen in 0..=Money::MAX.fen()) {
            let m = Money::from_fen(fen).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let words = m.to_chinese_capital();
            prop_assert!(!words.contains("零零"), "{}", words);
            prop_assert!(words.ends_with('整') != words.ends_with('分'), "{}", words);
            prop_assert!(fen == 0 || !words.starts_with('零'), "{}", words);
        }
    }
}
