//! Users: names, addresses, passwords and roles.

use std::fmt;

use serde::{Deserialize, Serialize};

/// 3..=30 of `[A-Za-z0-9_.-]`. Unique ignoring case: [`Username::key`] is what uniqueness uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if !(3..=30).contains(&len) {
            return Err("must be 3 to 30 characters".to_owned());
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
            return Err("may only contain letters, digits, '_', '.' and '-'".to_owned());
        }
        Ok(Username(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form that must be unique.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A syntactically valid address of at most 254 characters. Unique ignoring case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.len() > 254 {
            return Err("must be at most 254 characters".to_owned());
        }
        let valid = email_address::EmailAddress::parse_with_options(
            value,
            email_address::Options::default().without_display_text().without_domain_literal(),
        )
        .is_ok();
        // A deliverable address needs a dotted domain; `user@localhost` is not one.
        let dotted_domain =
            value.rsplit_once('@').is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
        if !valid || !dotted_domain {
            return Err("must be a valid email address".to_owned());
        }
        Ok(Email(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form that must be unique (see [`email_key`]).
    pub fn key(&self) -> String {
        email_key(&self.0)
    }
}

/// The unique form of an address: compatibility-normalized (NFKC, so a domain typed with
/// decomposed accents or full-width letters is the same domain), then case-folded.
pub fn email_key(address: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    address.nfkc().collect::<String>().to_lowercase()
}

/// A new password, as NIST SP 800-63B asks of one chosen by a person: at least 8 characters,
/// any characters at all, and not easily guessed (<https://pages.nist.gov/800-63-4/sp800-63b.html>,
/// section 3.1.1.2). No composition rules: they make passwords harder to remember, not to guess.
/// The upper bound only keeps hashing cost bounded.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 1024;
    /// The fewest guesses a password may take to find, as estimated by zxcvbn: 10^4. That
    /// refuses the common passwords (`password123`, `iloveyou1`, `qwertyuiop`), repeats,
    /// sequences and the account's own name, and the login limits (about a hundred guesses a day
    /// at one account) stretch 10^4 guesses to over three months.
    pub const MIN_GUESSES_LOG10: f64 = 4.0;
    /// Only the first this many characters are estimated: the estimate's cost grows quickly with
    /// length, and a password this long is not guessed by enumeration anyway.
    const ESTIMATED_CHARS: usize = 100;

    /// A new password, with no account context (see [`Password::parse_for`]).
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::parse_for(raw, &[])
    }

    /// A new password for the account described by `context` (its username and email): a
    /// password made of those is as good as public.
    pub fn parse_for(raw: &str, context: &[&str]) -> Result<Self, String> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(format!("must be at least {} characters", Self::MIN_CHARS));
        }
        if len > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        let estimated: String = raw.chars().take(Self::ESTIMATED_CHARS).collect();
        let estimate = zxcvbn::zxcvbn(&estimated, context);
        if estimate.guesses_log10() < Self::MIN_GUESSES_LOG10 {
            let why = estimate
                .feedback()
                .and_then(|feedback| feedback.warning())
                .map(|warning| format!(" ({})", warning.to_string().trim_end_matches('.').to_lowercase()))
                .unwrap_or_default();
            return Err(format!(
                "is too easy to guess{why}; a longer phrase of unrelated words is easy to remember and hard to guess"
            ));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_edges() {
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(30)).is_ok());
        assert!(Username::parse("A_b.c-9").is_ok());
        for bad in ["ab", &"a".repeat(31), "has space", "émile", "a/b", "a@b", ""] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Username::parse("Alice").unwrap().key(), "alice");
    }

    #[test]
    fn email_edges() {
        assert!(Email::parse("alice@example.com").is_ok());
        assert_eq!(Email::parse("Alice@Example.COM").unwrap().key(), "alice@example.com");
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "a b@example.com",
            "Alice <alice@example.com>",
            "alice@example.com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        // One address, however its domain's letters are encoded or cased.
        let composed = Email::parse("alice@b\u{fc}cher.example").unwrap();
        let decomposed = Email::parse("ALICE@BU\u{308}CHER.example").unwrap();
        let full_width = Email::parse("alice@\u{ff42}\u{fc}cher.example").unwrap();
        assert_eq!(composed.key(), decomposed.key());
        assert_eq!(composed.key(), full_width.key());
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn password_edges() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("tbq-7vmz").is_ok());
        assert!(Password::parse(&"x".repeat(Password::MAX_CHARS + 1)).is_err());
        assert!(Password::parse(&"Zq8 ".repeat(Password::MAX_CHARS / 4)).is_ok());
        assert!(Password::parse("ζωή είναι ωραία").is_ok(), "any characters");
        assert_eq!(format!("{:?}", Password::parse("secret-pass-77").unwrap()), "Password(<redacted>)");
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for common in
            ["password", "12345678", "password123", "qwertyuiop", "iloveyou1", "11111111", "abcdefgh"]
        {
            let refused = Password::parse(common).unwrap_err();
            assert!(refused.starts_with("is too easy to guess"), "{common:?}: {refused}");
        }
        assert!(Password::parse("correct-horse-battery").is_ok());
        // A password made of the account's own name is refused for that account only.
        assert!(Password::parse("rosalind-q").is_ok());
        assert!(Password::parse_for("rosalind-q", &["rosalind-q", "rq@example.com"]).is_err());
    }
}
