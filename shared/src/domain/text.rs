//! Text rules shared by the string fields: trimming, length in characters, and the normalised form
//! that case-insensitive substring search compares against.

/// Checks that `raw` holds between `min` and `max` characters once trimmed, and returns it trimmed.
/// Control characters other than newline and tab are refused: they have no place in user text and
/// break calendar output. So are the invisible characters that make text read other than it is
/// ([`is_deceptive`]).
pub fn bounded(raw: &str, min: usize, max: usize) -> Result<String, String> {
    let value = raw.trim();
    let len = value.chars().count();
    if len < min {
        return Err(if min == 1 {
            "must not be blank".to_owned()
        } else {
            format!("must be at least {min} characters")
        });
    }
    if len > max {
        return Err(format!("must be at most {max} characters"));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err("must not contain control characters".to_owned());
    }
    if value.chars().any(is_deceptive) {
        return Err("must not contain bidirectional overrides or invisible characters".to_owned());
    }
    Ok(value.to_owned())
}

/// Invisible characters that change how text reads without showing themselves: the bidirectional
/// embeddings, overrides and isolates (which can show a title or a comment in another order than
/// it is stored, CVE-2021-42574), and zero-width spaces, word joiners and invisible operators
/// (which make two names that look the same differ). The zero-width joiner and non-joiner are
/// kept: emoji sequences and scripts such as Persian and Devanagari need them, and the left-to-right
/// and right-to-left marks only mark a direction.
pub fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{180E}' | '\u{200B}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A character [`bounded`] keeps, as a regular-expression class: no control character but tab,
/// line feed and carriage return, and nothing [`is_deceptive`].
const KEPT_CHAR: &str =
    r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]";

/// A kept character that is not whitespace either: text of `min` 1 holds one.
const VISIBLE_CHAR: &str =
    r"[^\s\x00-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]";

/// The OpenAPI schema of the strings [`bounded`] accepts with these bounds: the lengths, and a
/// pattern refusing the characters it refuses.
pub fn schema(min: usize, max: usize) -> utoipa::openapi::schema::ObjectBuilder {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let pattern =
        if min > 0 { format!("^{KEPT_CHAR}*{VISIBLE_CHAR}{KEPT_CHAR}*$") } else { format!("^{KEPT_CHAR}*$") };
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .min_length((min > 0).then_some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
}

/// The form stored beside a searchable field: Unicode lower case, so that a filter matches
/// "Café" with "CAFÉ" and "café".
pub fn search_key(value: &str) -> String {
    value.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_counts_characters_not_bytes() {
        assert_eq!(bounded("  hé  ", 1, 2).as_deref(), Ok("hé"));
        assert!(bounded("héé", 1, 2).is_err());
        assert!(bounded("   ", 1, 2).is_err());
        assert!(bounded("ab", 3, 5).is_err());
    }

    #[test]
    fn refuses_control_characters_but_keeps_newlines() {
        assert!(bounded("a\u{0}b", 1, 10).is_err());
        assert!(bounded("a\u{1b}[31m", 1, 10).is_err());
        assert_eq!(bounded("a\nb", 1, 10).as_deref(), Ok("a\nb"));
    }

    #[test]
    fn refuses_bidi_overrides_and_invisible_characters_but_keeps_joiners() {
        for deceptive in ["a\u{202E}b", "\u{2066}x\u{2069}", "ad\u{200B}min", "x\u{FEFF}", "a\u{2060}b"] {
            assert!(bounded(deceptive, 1, 10).is_err(), "{deceptive:?}");
        }
        for fine in ["👨\u{200D}👩\u{200D}👧", "می\u{200C}خواهم", "abc\u{200F}"] {
            assert!(bounded(fine, 1, 10).is_ok(), "{fine:?}");
        }
    }

    /// The documented pattern says of every character what [`bounded`] says.
    #[test]
    fn the_schema_pattern_refuses_what_bounded_refuses() {
        let pattern = |min| {
            let schema = schema(min, 10).build();
            regex::Regex::new(schema.pattern.as_deref().unwrap()).unwrap()
        };
        let (one_line, any) = (pattern(1), pattern(0));
        let samples =
            (0..0x3100).chain([0x180E, 0x200B, 0x200C, 0x200D, 0x202E, 0x2062, 0x2068, 0xFEFF, 0x1F600]);
        for c in samples.filter_map(char::from_u32) {
            let inside = format!("a{c}b");
            let kept = bounded(&inside, 1, 10).is_ok();
            assert_eq!(one_line.is_match(&inside), kept, "{c:?}");
            assert_eq!(any.is_match(&inside), kept, "{c:?}");
            // Text of nothing but `c`: blank when `c` is whitespace.
            let alone = c.to_string().repeat(3);
            assert_eq!(one_line.is_match(&alone), bounded(&alone, 1, 10).is_ok(), "{c:?} alone");
        }
    }

    #[test]
    fn search_key_is_unicode_lowercase() {
        assert_eq!(search_key("CAFÉ Über"), "café über");
    }
}
