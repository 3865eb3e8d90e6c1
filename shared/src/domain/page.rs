//! The page size every list accepts.

/// `?limit=`: 1..=100, 20 when absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(u16);

impl Limit {
    pub const DEFAULT: Limit = Limit(20);
    pub const MAX: u16 = 100;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let n: u16 = raw.parse().map_err(|_| format!("must be a whole number from 1 to {}", Self::MAX))?;
        if n == 0 || n > Self::MAX {
            return Err(format!("must be a whole number from 1 to {}", Self::MAX));
        }
        Ok(Limit(n))
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_one_to_one_hundred() {
        assert_eq!(Limit::parse("1").map(Limit::get), Ok(1));
        assert_eq!(Limit::parse("100").map(Limit::get), Ok(100));
        for bad in ["0", "101", "-1", "", "abc", "1.5", "99999999999", " 5"] {
            assert!(Limit::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(Limit::default().get(), 20);
    }
}
