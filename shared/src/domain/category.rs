//! The fixed list of event categories. Events refer to one by its slug.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(examples(json!({"slug": "workshop", "name": "Workshop"})))]
pub struct Category {
    pub slug: &'static str,
    pub name: &'static str,
}

/// Every category, in the order `GET /categories` lists them.
pub const ALL: &[Category] = &[
    Category { slug: "conference", name: "Conference" },
    Category { slug: "workshop", name: "Workshop" },
    Category { slug: "meetup", name: "Meetup" },
    Category { slug: "webinar", name: "Webinar" },
    Category { slug: "networking", name: "Networking" },
    Category { slug: "concert", name: "Concert" },
    Category { slug: "festival", name: "Festival" },
    Category { slug: "exhibition", name: "Exhibition" },
    Category { slug: "sports", name: "Sports" },
    Category { slug: "social", name: "Social" },
    Category { slug: "other", name: "Other" },
];

impl Category {
    /// Exact, case-sensitive slug match.
    pub fn parse(raw: &str) -> Result<Self, String> {
        ALL.iter()
            .copied()
            .find(|c| c.slug == raw)
            .ok_or_else(|| "must be one of the slugs listed by GET /categories".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_parse_exactly() {
        for c in ALL {
            assert_eq!(Category::parse(c.slug), Ok(*c));
            assert!(c.slug.chars().all(|ch| ch.is_ascii_lowercase()));
        }
        let mut slugs: Vec<_> = ALL.iter().map(|c| c.slug).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), ALL.len());
        assert!(Category::parse("Workshop").is_err());
        assert!(Category::parse("").is_err());
    }
}
