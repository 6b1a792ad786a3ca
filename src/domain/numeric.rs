//! The one strict reader of non-negative decimal text shared by money,
//! ratios, rates and areas, so they all refuse the same things with the same
//! words.

use super::{code, DomainError};

/// More integer digits than this is "too large" for every caller, and keeps
/// the arithmetic below comfortably inside `u128`.
const MAX_INTEGER_DIGITS: usize = 20;

/// Reads `^(0|[1-9][0-9]*)(\.[0-9]{1,max_decimals})?$` (ASCII only) and
/// returns the value scaled by `10^max_decimals`, e.g. "12.5" with
/// `max_decimals = 2` is 1250.
///
/// The caller checks the upper bound, because only it knows how to phrase
/// it. `example` shows the user a well-formed value ("1234.50").
pub(super) fn parse_scaled(
    field: &str,
    text: &str,
    max_decimals: u32,
    example: &str,
) -> Result<u128, DomainError> {
    let err = |code: &'static str, message: String| DomainError::new(field, code, message);
    if text.is_empty() {
        return Err(err(code::EMPTY, "must not be empty".into()));
    }
    // Diagnose the common wrong shapes first so the message says what to
    // change, instead of a generic "not a number".
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), "nan" | "inf" | "infinity") {
        return Err(err(
            code::NOT_A_NUMBER,
            format!("must be a decimal number like {example}"),
        ));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(err(code::BAD_FORMAT, "must not contain spaces".into()));
    }
    if text.starts_with('-') {
        return Err(err(code::NEGATIVE, "must not be negative".into()));
    }
    if text.starts_with('+') {
        return Err(err(code::BAD_FORMAT, "must not start with '+'".into()));
    }
    if text.contains([',', '_', '\'', '，']) {
        return Err(err(
            code::BAD_FORMAT,
            format!("must not contain thousands separators (write {example})"),
        ));
    }
    if text.chars().any(|c| !c.is_ascii() && c.is_numeric()) {
        return Err(err(
            code::BAD_FORMAT,
            "must use the ASCII digits 0-9 (not full-width or other digits)".into(),
        ));
    }
    if text.contains(['e', 'E']) && text.chars().any(|c| c.is_ascii_digit()) {
        return Err(err(
            code::BAD_FORMAT,
            format!("must not use exponent notation (write {example})"),
        ));
    }
    if !text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(err(
            code::NOT_A_NUMBER,
            format!("must be a decimal number like {example}"),
        ));
    }

    let (integer, fraction) = match text.split_once('.') {
        None => (text, ""),
        Some((integer, fraction)) => {
            if fraction.contains('.') {
                return Err(err(
                    code::BAD_FORMAT,
                    "must have at most one decimal point".into(),
                ));
            }
            if integer.is_empty() || fraction.is_empty() {
                return Err(err(
                    code::BAD_FORMAT,
                    "must have digits on both sides of the decimal point".into(),
                ));
            }
            (integer, fraction)
        }
    };
    if fraction.len() > max_decimals as usize {
        return Err(err(
            code::TOO_MANY_DECIMALS,
            format!("must have at most {max_decimals} digits after the decimal point"),
        ));
    }
    if integer.len() > 1 && integer.starts_with('0') {
        return Err(err(
            code::LEADING_ZERO,
            "must not have leading zeros".into(),
        ));
    }
    if integer.len() > MAX_INTEGER_DIGITS {
        return Err(err(code::TOO_LARGE, "is far too large".into()));
    }

    // Only ASCII digits remain, and at most 20 + max_decimals of them.
    let digits_value = |digits: &str| {
        digits
            .bytes()
            .fold(0u128, |acc, b| acc * 10 + u128::from(b - b'0'))
    };
    let missing_decimals = max_decimals - fraction.len() as u32;
    Ok(digits_value(integer) * 10u128.pow(max_decimals)
        + digits_value(fraction) * 10u128.pow(missing_decimals))
}

/// Writes `scaled / 10^decimals` with at least `min_decimals` digits after
/// the point and no trailing zeros beyond them ("1.5" not "1.50" when
/// `min_decimals` is 0).
pub(super) fn format_scaled(scaled: u128, decimals: u32, min_decimals: u32) -> String {
    let unit = 10u128.pow(decimals);
    let integer = scaled / unit;
    let mut fraction = format!("{:0width$}", scaled % unit, width = decimals as usize);
    while fraction.len() > min_decimals as usize && fraction.ends_with('0') {
        fraction.pop();
    }
    if fraction.is_empty() {
        integer.to_string()
    } else {
        format!("{integer}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_fixed_decimals() {
        assert_eq!(parse_scaled("x", "12", 2, "1.00"), Ok(1200));
        assert_eq!(parse_scaled("x", "12.5", 2, "1.00"), Ok(1250));
        assert_eq!(parse_scaled("x", "0.0001", 4, "1.00"), Ok(1));
        assert_eq!(parse_scaled("x", "0", 4, "1.00"), Ok(0));
    }

    #[test]
    fn formats_with_minimum_decimals() {
        assert_eq!(format_scaled(12500, 4, 0), "1.25");
        assert_eq!(format_scaled(10000, 4, 0), "1");
        assert_eq!(format_scaled(25000, 4, 2), "2.50");
        assert_eq!(format_scaled(18550, 4, 2), "1.855");
        assert_eq!(format_scaled(5, 2, 2), "0.05");
    }
}
