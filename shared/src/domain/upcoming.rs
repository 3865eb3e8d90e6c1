//! The filters of `GET /events/upcoming`, only constructible valid.

use super::category::Category;
use super::event::FieldErrors;
use super::text;
use super::time::Instant;

/// Longest substring filter accepted (the fields themselves are at most 200 characters).
const MAX_FILTER_CHARS: usize = 200;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpcomingFilter {
    /// Lower-cased, as the stored search fields are.
    pub title: Option<String>,
    pub location: Option<String>,
    pub category: Option<Category>,
    /// Inclusive bounds on `starts_at`.
    pub from: Option<Instant>,
    pub to: Option<Instant>,
}

fn substring(raw: Option<&str>, field: &str, errors: &mut FieldErrors) -> Option<String> {
    let raw = raw?;
    if raw.chars().count() > MAX_FILTER_CHARS {
        errors
            .entry(field.into())
            .or_default()
            .push(format!("must be at most {MAX_FILTER_CHARS} characters"));
        return None;
    }
    if raw.chars().any(char::is_control) {
        errors.entry(field.into()).or_default().push("must not contain control characters".into());
        return None;
    }
    // An empty filter matches everything: it is no filter.
    Some(text::search_key(raw)).filter(|s| !s.is_empty())
}

impl UpcomingFilter {
    /// Reads the filters through `get` (the query string), naming every bad value.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = substring(get("title"), "title", &mut errors);
        let location = substring(get("location"), "location", &mut errors);
        let mut bound = |name: &str, upper: bool| {
            get(name).and_then(|raw| {
                Instant::parse_bound(raw, upper)
                    .map_err(|e| errors.entry(name.into()).or_default().push(e))
                    .ok()
            })
        };
        let from = bound("from", false);
        let to = bound("to", true);
        let category = get("category").and_then(|raw| {
            Category::parse(raw).map_err(|e| errors.entry("category".into()).or_default().push(e)).ok()
        });
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            errors.entry("to".into()).or_default().push("must not be before from".into());
        }
        if errors.is_empty() {
            Ok(UpcomingFilter { title, location, category, from, to })
        } else {
            Err(errors)
        }
    }

    /// A canonical text of the filters: cursors are sealed to it, so a cursor of one filtered
    /// list cannot continue another.
    pub fn scope(&self) -> String {
        format!(
            "upcoming/t={}/l={}/c={}/f={}/u={}",
            self.title.as_deref().unwrap_or(""),
            self.location.as_deref().unwrap_or(""),
            self.category.map(|c| c.slug).unwrap_or(""),
            self.from.map(|i| i.to_string()).unwrap_or_default(),
            self.to.map(|i| i.to_string()).unwrap_or_default(),
        )
    }

    /// Whether an event with these fields matches (the same rule the store applies).
    pub fn matches(
        &self,
        title: &str,
        location: &str,
        category: Option<&str>,
        starts_at: Instant,
        now: Instant,
    ) -> bool {
        starts_at > now
            && self.from.is_none_or(|from| starts_at >= from)
            && self.to.is_none_or(|to| starts_at <= to)
            && self.category.is_none_or(|c| category == Some(c.slug))
            && self.title.as_deref().is_none_or(|t| text::search_key(title).contains(t))
            && self.location.as_deref().is_none_or(|l| text::search_key(location).contains(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&'static str, &'static str)]) -> Result<UpcomingFilter, FieldErrors> {
        UpcomingFilter::parse(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
    }

    #[test]
    fn reads_every_filter() {
        let f = parse(&[
            ("title", "RUST"),
            ("location", "Lisboa"),
            ("category", "workshop"),
            ("from", "2027-01-01"),
            ("to", "2027-01-31T12:00:00+01:00"),
        ])
        .unwrap();
        assert_eq!(f.title.as_deref(), Some("rust"));
        assert_eq!(f.location.as_deref(), Some("lisboa"));
        assert_eq!(f.category.map(|c| c.slug), Some("workshop"));
        assert_eq!(f.from.unwrap().to_string(), "2027-01-01T00:00:00Z");
        assert_eq!(f.to.unwrap().to_string(), "2027-01-31T11:00:00Z");
    }

    #[test]
    fn names_every_bad_value() {
        let errors =
            parse(&[("category", "nope"), ("from", "soon"), ("to", "2027-13-01"), ("title", "x\u{0}")])
                .unwrap_err();
        for field in ["category", "from", "to", "title"] {
            assert!(errors.contains_key(field), "{field}");
        }
        let errors = parse(&[("from", "2027-02-01"), ("to", "2027-01-01")]).unwrap_err();
        assert!(errors.contains_key("to"));
    }

    #[test]
    fn equal_day_bounds_cover_that_day() {
        let f = parse(&[("from", "2027-01-01"), ("to", "2027-01-01")]).unwrap();
        let now = Instant::parse("2026-01-01T00:00:00Z").unwrap();
        let at = |s| Instant::parse(s).unwrap();
        assert!(f.matches("t", "l", None, at("2027-01-01T00:00:00Z"), now));
        assert!(f.matches("t", "l", None, at("2027-01-01T23:59:59Z"), now));
        assert!(!f.matches("t", "l", None, at("2027-01-02T00:00:00Z"), now));
        assert!(!f.matches("t", "l", None, at("2026-12-31T23:59:59Z"), now));
    }

    #[test]
    fn scopes_differ_with_filters() {
        let a = parse(&[("title", "a")]).unwrap();
        let b = parse(&[("location", "a")]).unwrap();
        assert_ne!(a.scope(), b.scope());
        assert_eq!(a.scope(), parse(&[("title", "A")]).unwrap().scope());
    }
}
