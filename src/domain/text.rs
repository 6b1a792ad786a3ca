//! Free text typed by people (names, purposes, reasons), bounded and cleaned
//! of characters that hide what the text says.

use std::fmt;

use super::{code, DomainError};

/// Single-line text of 1 to `MAX` characters (Unicode scalar values), with
/// surrounding whitespace removed.
///
/// Refuses control characters (category Cc: tabs, newlines, NUL, DEL and
/// U+0080–U+009F), because they break one-line displays and CSV exports,
/// and the bidirectional overrides and isolates U+202A–U+202E and
/// U+2066–U+2069, because they can make a payee or purpose on a public page
/// read differently from the bytes that were hashed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<const MAX: usize>(String);

/// A person's or organisation's name.
pub type Name = Text<100>;
/// What money is for.
pub type Purpose = Text<500>;
/// Why something was done (a correction, a refusal).
pub type Reason = Text<500>;
/// Who is paid.
pub type Payee = Text<200>;
/// Where in the estate.
pub type Location = Text<200>;

impl<const MAX: usize> Text<MAX> {
    pub const MAX_CHARS: usize = MAX;

    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        clean(field, text, MAX, false).map(Text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Text of 1 to `MAX` characters that may span lines, with the same refusals
/// as [`Text`] except for the line feed.
///
/// Line breaks are normalised to `\n` ("\r\n" and lone "\r" become "\n"),
/// because browsers submit textareas with "\r\n" and the same description
/// must hash the same whichever way it arrived.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MultilineText<const MAX: usize>(String);

/// What was done on a service visit or repair.
pub type Description = MultilineText<4000>;

impl<const MAX: usize> MultilineText<MAX> {
    pub const MAX_CHARS: usize = MAX;

    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        clean(field, text, MAX, true).map(MultilineText)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn clean(
    field: &str,
    text: &str,
    max_chars: usize,
    multiline: bool,
) -> Result<String, DomainError> {
    let normalised;
    let text = if multiline && text.contains('\r') {
        normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        normalised.as_str()
    } else {
        text
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::new(field, code::EMPTY, "must not be empty"));
    }
    let mut chars = 0usize;
    for c in text.chars() {
        chars += 1;
        if c.is_control() && !(multiline && c == '\n') {
            let message = if matches!(c, '\n' | '\r') {
                "must be a single line".to_string()
            } else {
                format!(
                    "must not contain control characters (found U+{:04X})",
                    u32::from(c)
                )
            };
            return Err(DomainError::new(field, code::CONTROL_CHARACTER, message));
        }
        if is_bidi_control(c) {
            return Err(DomainError::new(
                field,
                code::BIDI_CONTROL,
                format!(
                    "must not contain invisible text-direction characters (found U+{:04X})",
                    u32::from(c)
                ),
            ));
        }
    }
    if chars > max_chars {
        return Err(DomainError::new(
            field,
            code::TOO_LONG,
            format!("must be at most {max_chars} characters (found {chars})"),
        ));
    }
    Ok(text.to_owned())
}

/// Implements Display and serde (as the plain string, parsed with the field
/// name "text") for both text types.
macro_rules! text_impls {
    ($ty:ident) => {
        impl<const MAX: usize> fmt::Display for $ty<MAX> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<const MAX: usize> serde::Serialize for $ty<MAX> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de, const MAX: usize> serde::Deserialize<'de> for $ty<MAX> {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                Self::parse("text", &text).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_impls!(Text);
text_impls!(MultilineText);

/// A bank's transaction reference (流水号), the key that keeps one payment
/// from being recorded twice: 1 to 64 ASCII letters, digits and `-_./:`,
/// starting with a letter or digit (so it can never read as a spreadsheet
/// formula in an export). Compared exactly, case included.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BankRef(String);

impl BankRef {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(field: &str, text: &str) -> Result<BankRef, DomainError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DomainError::new(field, code::EMPTY, "must not be empty"));
        }
        if text.len() > Self::MAX_CHARS {
            return Err(DomainError::new(
                field,
                code::TOO_LONG,
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        let ok_char =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':');
        if !text.starts_with(|c: char| c.is_ascii_alphanumeric()) || !text.chars().all(ok_char) {
            return Err(DomainError::new(
                field,
                code::BAD_FORMAT,
                "must be letters, digits and - _ . / : only, starting with a letter or digit",
            ));
        }
        Ok(BankRef(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BankRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code_of<const MAX: usize>(text: &str) -> Option<&'static str> {
        Text::<MAX>::parse("purpose", text).err().map(|e| e.code)
    }

    #[test]
    fn trims_and_keeps_inner_text() {
        assert_eq!(
            Name::parse("name", "  王小明 ").map(|n| n.to_string()),
            Ok("王小明".into())
        );
        assert_eq!(
            Name::parse("name", "\u{3000}物业 公司\u{3000}").map(|n| n.to_string()),
            Ok("物业 公司".into())
        );
        // Surrounding newlines and tabs are whitespace, trimmed before checking.
        assert_eq!(
            Name::parse("name", "\n王\t").map(|n| n.to_string()),
            Ok("王".into())
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(code_of::<10>(""), Some(code::EMPTY));
        assert_eq!(code_of::<10>(" \t\n "), Some(code::EMPTY));
        assert_eq!(code_of::<10>("a\nb"), Some(code::CONTROL_CHARACTER));
        assert_eq!(code_of::<10>("a\tb"), Some(code::CONTROL_CHARACTER));
        assert_eq!(code_of::<10>("a\0b"), Some(code::CONTROL_CHARACTER));
        assert_eq!(code_of::<10>("a\u{7f}b"), Some(code::CONTROL_CHARACTER));
        assert_eq!(code_of::<10>("a\u{85}b"), Some(code::CONTROL_CHARACTER));
        assert_eq!(code_of::<10>("a\u{9f}b"), Some(code::CONTROL_CHARACTER));
        for bidi in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2069}',
        ] {
            assert_eq!(
                code_of::<10>(&format!("pay{bidi}ee")),
                Some(code::BIDI_CONTROL),
                "{bidi:?}"
            );
        }
        // Counted in characters, not bytes: ten CJK characters are 30 bytes.
        assert_eq!(code_of::<10>("一二三四五六七八九十"), None);
        assert_eq!(
            code_of::<10>("一二三四五六七八九十一"),
            Some(code::TOO_LONG)
        );
        let e = Purpose::parse("purpose", &"x".repeat(501)).err();
        assert!(e.is_some_and(
            |e| e.to_string() == "purpose: must be at most 500 characters (found 501)"
        ));
        assert_eq!(
            Purpose::parse("purpose", &"x".repeat(500)).map(|p| p.as_str().len()),
            Ok(500)
        );
    }

    #[test]
    fn multiline_allows_only_line_feeds() {
        let parse = |s: &str| {
            Description::parse("description", s)
                .map(|d| d.to_string())
                .map_err(|e| e.code)
        };
        assert_eq!(parse("换灯泡\n修门禁"), Ok("换灯泡\n修门禁".into()));
        assert_eq!(parse("a\r\nb\rc\n"), Ok("a\nb\nc".into()));
        assert_eq!(parse("a\tb"), Err(code::CONTROL_CHARACTER));
        assert_eq!(parse("a\u{2067}b"), Err(code::BIDI_CONTROL));
        assert_eq!(parse("\n\n"), Err(code::EMPTY));
        assert_eq!(
            MultilineText::<3>::parse("d", "a\nbc").map_err(|e| e.code),
            Err(code::TOO_LONG)
        );
    }

    #[test]
    fn serde_is_the_plain_string() {
        let name = Name::parse("name", "王小明");
        assert_eq!(
            name.as_ref()
                .ok()
                .and_then(|n| serde_json::to_string(n).ok()),
            Some("\"王小明\"".into())
        );
        let back: Result<Name, _> = serde_json::from_str("\" 王小明 \"");
        assert_eq!(back.ok(), name.ok());
        let refused = serde_json::from_str::<Name>("\"a\\u202eb\"").map_err(|e| e.to_string());
        assert!(refused.is_err_and(|e| e.starts_with("text: ")));
    }

    proptest! {
        #[test]
        fn accepted_text_parses_back_unchanged(s in any::<String>()) {
            if let Ok(text) = Reason::parse("reason", &s) {
                prop_assert_eq!(Reason::parse("reason", text.as_str()), Ok(text.clone()));
                prop_assert!(!text.as_str().chars().any(|c| c.is_control() || is_bidi_control(c)));
            }
        }
    }

    #[test]
    fn bank_refs_are_plain_and_never_formulas() {
        assert_eq!(
            BankRef::parse("reference", " 2026101512345 ").map(|r| r.to_string()),
            Ok("2026101512345".to_string())
        );
        assert!(BankRef::parse("reference", "ICBC-2026/10:15.a_b").is_ok());
        for bad in [
            "",
            "=HYPERLINK(1)",
            "+1",
            "-1",
            "@SUM",
            "a b",
            "号123",
            &"9".repeat(65),
        ] {
            assert!(
                BankRef::parse("reference", bad).is_err(),
                "{bad:?} accepted"
            );
        }
    }
}
