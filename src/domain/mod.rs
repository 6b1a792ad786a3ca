//! Parse-don't-validate value types: money, ratios, rates, identifiers,
//! calendar values and bounded text.
//!
//! Every type here has a private field and a fallible `parse(field, text)`,
//! so a value that exists is a value that is valid; code further in never
//! re-checks. Nothing in this module does IO (the one exception,
//! [`Timestamp::now`], reads the clock).
//!
//! Errors name the field the text came from and carry a stable machine
//! [`code`] so a page can translate them; the English message is for people
//! reading logs or the CLI.

mod ids;
mod money;
mod numeric;
mod period;
mod rate;
mod ratio;
mod text;
mod time;

pub use ids::{BankRefCommitment, MemberId, Slug, UnitCommitment, UnitId, UnitSecret};
pub use money::Money;
pub use period::{Date, Period};
pub use rate::{Area, Rate};
pub use ratio::Ratio;
pub use text::{BankRef, Description, Location, MultilineText, Name, Payee, Purpose, Reason, Text};
pub use time::{EstateTz, Timestamp};

/// A value refused at the edge: which field, a stable machine code, and a
/// message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    /// The name of the input field, as the user or file knows it.
    pub field: String,
    /// One of the constants in [`code`]; stable across releases so a UI can
    /// translate it.
    pub code: &'static str,
    /// Plain English, without the field name (Display adds it).
    pub message: String,
}

impl DomainError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        DomainError {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// Stable machine codes for [`DomainError::code`].
///
/// These strings are part of the interface with pages and scripts: add new
/// ones freely, never rename or reuse one.
pub mod code {
    /// Nothing was given.
    pub const EMPTY: &str = "empty";
    /// A minus sign on a quantity that cannot be negative.
    pub const NEGATIVE: &str = "negative";
    /// Zero where only a positive value makes sense.
    pub const ZERO: &str = "zero";
    /// Not a decimal number at all (letters, NaN, infinity…).
    pub const NOT_A_NUMBER: &str = "not_a_number";
    /// More digits after the decimal point than the type can hold exactly.
    pub const TOO_MANY_DECIMALS: &str = "too_many_decimals";
    /// Above the type's maximum.
    pub const TOO_LARGE: &str = "too_large";
    /// A number written with leading zeros, such as `007`.
    pub const LEADING_ZERO: &str = "leading_zero";
    /// Longer than the type's maximum length.
    pub const TOO_LONG: &str = "too_long";
    /// Shorter than the type's minimum length.
    pub const TOO_SHORT: &str = "too_short";
    /// A control character (tab, NUL, C1 controls…), or a newline in a
    /// single-line field.
    pub const CONTROL_CHARACTER: &str = "control_character";
    /// A bidirectional override or isolate, which can make text display
    /// differently from what it says.
    pub const BIDI_CONTROL: &str = "bidi_control";
    /// Wrong shape: separators, exponents, spaces, wrong characters…
    pub const BAD_FORMAT: &str = "bad_format";
    /// Well formed but outside the supported range (dates, periods, times).
    pub const OUT_OF_RANGE: &str = "out_of_range";
    /// Well formed but not one of the supported choices.
    pub const UNSUPPORTED: &str = "unsupported";
}

/// Implements `Serialize` as the canonical `Display` string and
/// `Deserialize` through `parse` with a fixed field name, so JSON can never
/// smuggle in a value the parser would refuse.
macro_rules! serde_via_parse {
    ($ty:ty, $field:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                <$ty>::parse($field, &text).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_parse;
