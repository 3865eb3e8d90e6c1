//! Text rules shared by the string fields: trimming, length in characters, and the normalised form
//! that case-insensitive substring search compares against.

/// Checks that `raw` holds between `min` and `max` characters once trimmed, and returns it trimmed.
/// Control characters other than newline and tab are refused: they have no place in user text and
/// break calendar output.
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
    Ok(value.to_owned())
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
    fn search_key_is_unicode_lowercase() {
        assert_eq!(search_key("CAFÉ Über"), "café über");
    }
}
