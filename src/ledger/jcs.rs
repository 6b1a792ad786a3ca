//! RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a JSON
//! value that entries are hashed and signed in.
//!
//! Restricted to the JSON this project writes. Numbers may only be integers
//! with magnitude at most 2^53 − 1: amounts travel as strings ("1234.50"),
//! and RFC 8785 §3.2.2.3 (ECMAScript number formatting of IEEE 754 doubles)
//! is the classic place where two implementations disagree about the bytes.
//! With safe integers only, every implementation's canonical number is just
//! the decimal integer, so a verifier written in any language gets the same
//! bytes.
//!
//! [`canonicalize`] writes the canonical form; [`parse_canonical`] reads
//! entry text and refuses it unless it is already exactly canonical, so a
//! single value never has two accepted spellings (and so two hashes).

use serde_json::Value;

/// The largest entry text [`parse_canonical`] reads, and the largest output
/// [`canonicalize`] produces.
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;

/// The deepest nesting of arrays and objects accepted; a top-level object
/// with a scalar member is depth 1. Entries need about four levels.
pub const MAX_DEPTH: usize = 16;

/// 2^53 − 1, the largest integer every JSON implementation that parses
/// numbers as IEEE 754 doubles (I-JSON, RFC 7493 §2.2) holds exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JcsError {
    /// A float, or an integer outside ±(2^53 − 1).
    #[error(
        "number {number} at {path} is not allowed: only integers between -(2^53-1) and \
         2^53-1 may appear (amounts are written as strings)"
    )]
    NumberNotAllowed { path: String, number: String },
    #[error("nesting deeper than {max_depth} levels at {path}")]
    TooDeep { path: String, max_depth: usize },
    #[error("{size_bytes} bytes is more than the {max_bytes} bytes allowed for an entry")]
    TooLarge { size_bytes: usize, max_bytes: usize },
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// Valid JSON, but not byte for byte its own canonical form: whitespace,
    /// key order, escapes, number spelling or a duplicate key.
    #[error("not in RFC 8785 canonical form (first difference at byte {offset})")]
    NotCanonical { offset: usize },
}

/// Writes `value` in RFC 8785 canonical form.
///
/// - object members sorted by their names as UTF-16 code units (§3.2.3),
///   not as UTF-8 bytes or chars: "\u{1F600}" sorts before "\u{FB33}";
/// - no whitespace (§3.2.1);
/// - strings escaped as §3.2.2.2 says: only `"`, `\` and U+0000–U+001F,
///   using `\b \t \n \f \r` where they exist and lowercase `\u00xx`
///   otherwise; everything else, including `/`, U+007F and all non-ASCII,
///   is written as is;
/// - numbers: safe integers only (see the module comment).
///
/// Refuses values nested deeper than [`MAX_DEPTH`] or whose canonical form
/// is longer than [`MAX_ENTRY_BYTES`], so whatever this returns,
/// [`parse_canonical`] accepts.
pub fn canonicalize(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    let mut path = Vec::new();
    write_value(&mut out, value, &mut path)?;
    if out.len() > MAX_ENTRY_BYTES {
        return Err(JcsError::TooLarge {
            size_bytes: out.len(),
            max_bytes: MAX_ENTRY_BYTES,
        });
    }
    Ok(out)
}

/// Parses entry text and requires it to be exactly its own canonical form,
/// so a verifier refuses any entry whose bytes could have been written
/// another way.
///
/// This also refuses duplicate object keys, which serde_json would
/// otherwise resolve silently by keeping the last value: the parsed value
/// has fewer members than the text, so its canonical form is shorter than
/// the text and cannot be equal to it.
pub fn parse_canonical(text: &str) -> Result<Value, JcsError> {
    if text.len() > MAX_ENTRY_BYTES {
        return Err(JcsError::TooLarge {
            size_bytes: text.len(),
            max_bytes: MAX_ENTRY_BYTES,
        });
    }
    // serde_json stops at 128 levels of nesting, so this cannot exhaust the
    // stack; canonicalize then applies the tighter MAX_DEPTH.
    let value: Value = serde_json::from_str(text).map_err(|e| JcsError::Syntax(e.to_string()))?;
    let canonical = canonicalize(&value)?;
    if canonical != text {
        let offset = canonical
            .bytes()
            .zip(text.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(canonical.len().min(text.len()));
        return Err(JcsError::NotCanonical { offset });
    }
    Ok(value)
}

/// One step of the way from the root to a value, kept so errors can say
/// where the offending value is.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The location as an RFC 6901 JSON Pointer ("" is the root).
fn pointer(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        out.push('/');
        match step {
            Step::Key(key) => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Step::Index(index) => out.push_str(&index.to_string()),
        }
    }
    if out.is_empty() {
        "the top level".into()
    } else {
        out
    }
}

fn write_value<'a>(
    out: &mut String,
    value: &'a Value,
    path: &mut Vec<Step<'a>>,
) -> Result<(), JcsError> {
    let is_container = matches!(value, Value::Array(_) | Value::Object(_));
    // Depth of this value counted in containers, itself included.
    if is_container && path.len() + 1 > MAX_DEPTH {
        return Err(JcsError::TooDeep {
            path: pointer(path),
            max_depth: MAX_DEPTH,
        });
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            let safe = match (number.as_i64(), number.as_u64()) {
                (Some(i), _) => i.unsigned_abs() <= MAX_SAFE_INTEGER,
                (None, Some(u)) => u <= MAX_SAFE_INTEGER,
                (None, None) => false,
            };
            if !safe {
                return Err(JcsError::NumberNotAllowed {
                    path: pointer(path),
                    number: number.to_string(),
                });
            }
            // Integer Display is the plain decimal, which is also what
            // ECMAScript's Number.prototype.toString gives for safe integers.
            out.push_str(&number.to_string());
        }
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                path.push(Step::Index(index));
                write_value(out, item, path)?;
                path.pop();
            }
            out.push(']');
        }
        Value::Object(members) => {
            // serde_json's preserve_order keeps insertion order, so sort
            // explicitly. Names in a map are unique, so the order is total.
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (index, (name, member)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                path.push(Step::Key(name));
                write_value(out, member, path)?;
                path.pop();
            }
            out.push('}');
        }
    }
    Ok(())
}

/// RFC 8785 §3.2.2.2, which is ECMAScript's JSON.stringify for strings.
fn write_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{0}'..='\u{1f}' => {
                let byte = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[byte >> 4]));
                out.push(char::from(HEX[byte & 0xf]));
            }
            // Rust strings hold no lone surrogates, so the well-formed
            // JSON.stringify rule for them never applies.
            _ => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn parse(text: &str) -> Value {
        match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => panic!("test input must be JSON: {e}: {text}"),
        }
    }

    fn canonical(text: &str) -> Result<String, JcsError> {
        canonicalize(&parse(text))
    }

    #[test]
    fn rfc8785_sorting_example_uses_utf16_order() {
        // RFC 8785 §3.2.3.
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
                        \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
                        \"\u{1f600}\":\"Emoji: Grinning Face\",\
                        \"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canonical(input), Ok(expected.to_string()));
        // UTF-8 byte order (and char order) would put U+1F600 last.
        assert!("\u{1f600}" > "\u{fb33}");
    }

    #[test]
    fn utf16_order_puts_astral_before_high_bmp() {
        let value = json!({"\u{ffff}": 1, "\u{10000}": 2, "\u{e000}": 3, "\u{e9}": 4, "z": 5});
        assert_eq!(
            canonicalize(&value),
            Ok("{\"z\":5,\"\u{e9}\":4,\"\u{10000}\":2,\"\u{e000}\":3,\"\u{ffff}\":1}".into())
        );
    }

    #[test]
    fn rfc8785_string_example() {
        // RFC 8785 §3.2.2 example, without its "numbers" member (floats are
        // refused here; see rfc8785_example_with_floats_is_refused).
        let input = r#"{
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let expected = r#"{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;
        assert_eq!(canonical(input), Ok(expected.to_string()));
        assert_eq!(parse_canonical(expected), Ok(parse(input)));
    }

    #[test]
    fn rfc8785_example_with_floats_is_refused() {
        let input = r#"{
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "literals": [null, true, false]
        }"#;
        assert!(matches!(
            canonical(input),
            Err(JcsError::NumberNotAllowed { path, .. }) if path == "/numbers/0"
        ));
    }

    #[test]
    fn cyberphone_test_vectors() {
        // From github.com/cyberphone/json-canonicalization testdata/, the
        // reference implementation's vectors (structures.json with its one
        // float 56.0 changed to 56).
        let cases = [
            (
                "{\n  \"\\u20ac\": \"Euro Sign\",\n  \"1\": \"One\",\n  \"\\u0080\": \"Control\\u007f\",\n  \
                 \"\\ud83d\\ude02\": \"Smiley\",\n  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\",\n  \
                 \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n  \"</script>\": \"Browser Challenge\"\n}\n",
                "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u{80}\":\"Control\u{7f}\",\
                 \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
                 \"\u{1f602}\":\"Smiley\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}",
            ),
            (
                "{\n  \"peach\": \"This sorting order\",\n  \"p\u{e9}ch\u{e9}\": \"is wrong according to French\",\n  \
                 \"p\u{ea}che\": \"but canonicalization MUST\",\n  \"sin\":   \"ingnore locale\"\n}\n",
                "{\"peach\":\"This sorting order\",\"p\u{e9}ch\u{e9}\":\"is wrong according to French\",\
                 \"p\u{ea}che\":\"but canonicalization MUST\",\"sin\":\"ingnore locale\"}",
            ),
            (
                "{\n  \"Unnormalized Unicode\":\"\\u1e0d\\u0307\"\n}\n",
                "{\"Unnormalized Unicode\":\"\u{1e0d}\u{307}\"}",
            ),
            (
                "{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56},\n  \"10\": { },\n  \"\": \"empty\",\n  \
                 \"a\": { },\n  \"111\": [ { } ],\n  \"A\": { }\n}",
                "{\"\":\"empty\",\"1\":{\"\\n\":56,\"f\":{\"F\":5,\"f\":\"hi\"}},\"10\":{},\"111\":[{}],\"A\":{},\"a\":{}}",
            ),
            (
                "[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
                "[56,{\"1\":[],\"10\":null,\"d\":true}]",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(canonical(input), Ok(expected.to_string()), "{input}");
            assert_eq!(parse_canonical(expected), Ok(parse(input)));
        }
    }

    #[test]
    fn escapes_exactly_the_required_characters() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        let value = json!([
            all_controls,
            "/\u{7f}\u{80}\u{9f}\u{2028}\u{2029}\u{feff}<>&'"
        ]);
        assert_eq!(
            canonicalize(&value),
            Ok(
                "[\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\
                \\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\
                \\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\",\
                \"/\u{7f}\u{80}\u{9f}\u{2028}\u{2029}\u{feff}<>&'\"]"
                    .into()
            )
        );
    }

    #[test]
    fn integers_only_within_the_safe_range() {
        let max = MAX_SAFE_INTEGER as i64;
        assert_eq!(
            canonicalize(&json!([max, -max, 0, -1])),
            Ok(format!("[{max},{},0,-1]", -max))
        );
        for refused in [
            json!(max + 1),
            json!(-max - 1),
            json!(u64::MAX),
            json!(1.5),
            json!(1.0),
            json!(-0.0),
        ] {
            assert!(
                matches!(
                    canonicalize(&refused),
                    Err(JcsError::NumberNotAllowed { .. })
                ),
                "{refused}"
            );
        }
        let nested = json!({"postings": [{"amount": 12.5}]});
        assert!(matches!(
            canonicalize(&nested),
            Err(JcsError::NumberNotAllowed { path, number }) if path == "/postings/0/amount" && number == "12.5"
        ));
    }

    #[test]
    fn depth_limit() {
        let nest = |depth: usize| (0..depth).fold(json!("leaf"), |inner, _| json!([inner]));
        assert!(canonicalize(&nest(MAX_DEPTH)).is_ok());
        assert!(matches!(
            canonicalize(&nest(MAX_DEPTH + 1)),
            Err(JcsError::TooDeep { .. })
        ));
        let deep_text = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            parse_canonical(&deep_text),
            Err(JcsError::TooDeep { .. })
        ));
        let very_deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_canonical(&very_deep).is_err());
        assert!(parse_canonical(&"[".repeat(100_000)).is_err());
    }

    #[test]
    fn size_limit() {
        let fits = json!("x".repeat(MAX_ENTRY_BYTES - 2));
        let Ok(text) = canonicalize(&fits) else {
            panic!("exactly MAX_ENTRY_BYTES must be accepted");
        };
        assert_eq!(text.len(), MAX_ENTRY_BYTES);
        assert!(parse_canonical(&text).is_ok());
        let too_big = json!("x".repeat(MAX_ENTRY_BYTES - 1));
        assert!(matches!(
            canonicalize(&too_big),
            Err(JcsError::TooLarge { .. })
        ));
        let too_big_text = format!("\"{}\"", "x".repeat(MAX_ENTRY_BYTES - 1));
        assert!(matches!(
            parse_canonical(&too_big_text),
            Err(JcsError::TooLarge { .. })
        ));
    }

    #[test]
    fn parse_canonical_accepts_canonical_text() {
        let text = r#"{"amount":"1234.50","kind":"payment","n":3,"tags":["a","b"]}"#;
        assert_eq!(
            parse_canonical(text),
            Ok(json!({"kind": "payment", "amount": "1234.50", "n": 3, "tags": ["a", "b"]}))
        );
        for scalar in ["null", "true", "0", "-5", "\"\"", "[]", "{}"] {
            assert!(parse_canonical(scalar).is_ok(), "{scalar}");
        }
    }

    #[test]
    fn parse_canonical_refuses_every_other_spelling() {
        let refused = [
            // Duplicate keys: serde_json would keep one value silently.
            r#"{"a":1,"a":1}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":1,"b":1}}"#,
            r#"{"a":1,"b":2,"a":1}"#,
            // Order and whitespace.
            r#"{"b":1,"a":2}"#,
            r#"{"a":1, "b":2}"#,
            r#"{"a":1,"b":2} "#,
            " {\"a\":1}",
            "{\"a\":1}\n",
            "[1,2 ]",
            "\u{feff}{\"a\":1}",
            // Escapes that canonical form writes differently.
            r#"["\/"]"#,
            r#"["\u0041"]"#,
            r#"["\u000F"]"#,
            r#"["\u000a"]"#,
            r#"["\u20ac"]"#,
            r#"["\ud83d\ude00"]"#,
            r#"["\u007f"]"#,
            // Numbers.
            "[1.0]",
            "[1e2]",
            "[1E2]",
            "[-0]",
            "[0.5]",
            "[9007199254740992]",
            "[-9007199254740992]",
            "[01]",
            // Not JSON at all.
            "",
            "{",
            "[1,]",
            "{'a':1}",
            "NaN",
            "[\"\\ud800\"]",
        ];
        for text in refused {
            assert!(parse_canonical(text).is_err(), "{text:?} must be refused");
        }
        assert_eq!(
            parse_canonical(r#"{"a":1,"a":1}"#),
            Err(JcsError::NotCanonical { offset: 6 })
        );
        assert_eq!(
            parse_canonical("{\"a\":1}\n"),
            Err(JcsError::NotCanonical { offset: 7 })
        );
    }

    #[test]
    fn flipping_any_byte_of_an_entry_is_never_silently_accepted_as_the_same_value() {
        let text =
            r#"{"amount":"1234.50","lines":[{"k":1},{"k":-2}],"memo":"\n€","ok":true,"z":null}"#;
        let Ok(original) = parse_canonical(text) else {
            panic!("fixture must be canonical");
        };
        let bytes = text.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b' ', b'0', b'"', b'\\', b'a', b'}'] {
                let mut mangled = bytes.to_vec();
                mangled[i] = replacement;
                let Ok(mangled) = String::from_utf8(mangled) else {
                    continue;
                };
                if mangled == text {
                    continue;
                }
                // Either refused, or a different value: never two spellings
                // of the same value.
                if let Ok(value) = parse_canonical(&mangled) {
                    assert_ne!(value, original, "{mangled}");
                }
            }
        }
    }

    fn any_string() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
            "[\\x00-\\x1f\"\\\\/a\u{7f}\u{80}\u{e9}\u{ffff}\u{10000}\u{1f600}]{0,8}",
        ]
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let max = MAX_SAFE_INTEGER as i64;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-max..=max).prop_map(Value::from),
            any_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((any_string(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_form_is_a_fixed_point(value in any_value()) {
            let text = canonicalize(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
            // An independent JSON parser reads back the same value...
            let reparsed: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&reparsed, &value);
            // ...canonicalizing again changes nothing...
            prop_assert_eq!(canonicalize(&reparsed), Ok(text.clone()));
            // ...and the strict reader accepts it.
            prop_assert_eq!(parse_canonical(&text), Ok(value));
        }

        #[test]
        fn members_come_out_in_utf16_order(keys in prop::collection::btree_set(any_string(), 0..8)) {
            let value = Value::Object(keys.iter().map(|k| (k.clone(), Value::Null)).collect());
            let text = canonicalize(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let Ok(Value::Object(parsed)) = parse_canonical(&text) else {
                return Err(TestCaseError::fail("must parse back to an object"));
            };
            let order: Vec<Vec<u16>> = parsed.keys().map(|k| k.encode_utf16().collect()).collect();
            prop_assert!(order.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
