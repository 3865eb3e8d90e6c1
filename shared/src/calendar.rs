//! iCalendar (RFC 5545) output: one event, or a personal feed. Times are written in UTC, which
//! every client reads without a VTIMEZONE; the event's zone travels as `X-WR-TIMEZONE` for
//! display. TEXT values are escaped by the `icalendar` crate (and NAME, which it does not know,
//! here), after [`one_newline`] turns any carriage return into a plain line break, which
//! escaping then writes as `\n`; lines are folded by [`fold`], which never leaves whitespace at
//! the end of a physical line, since many parsers trim it.

use icalendar::{Calendar, Component, Event, EventLike, EventStatus};

use crate::domain::Instant;
use crate::records::EventRecord;

const PRODUCT: &str = "-//Event Management API//EN";

fn calendar(name: &str, timezone: Option<&str>) -> Calendar {
    let mut calendar = Calendar::empty();
    calendar.append_property(("VERSION", "2.0"));
    calendar.append_property(("PRODID", PRODUCT));
    calendar.append_property(("CALSCALE", "GREGORIAN"));
    calendar.append_property(("METHOD", "PUBLISH"));
    // The crate escapes TEXT values of the properties it knows; RFC 7986's NAME is not among
    // them (X-WR-CALNAME, an X- property, is), so NAME is escaped here.
    let name = one_newline(name);
    calendar.append_property(("NAME", escape_text(&name).as_str()));
    calendar.append_property(("X-WR-CALNAME", name.as_str()));
    if let Some(zone) = timezone {
        calendar.append_property(("X-WR-TIMEZONE", zone));
    }
    calendar
}

/// The VEVENT of an event. `tentative` marks a place on the waitlist.
fn vevent(event: &EventRecord, base_url: &str, now: Instant, tentative: bool) -> Event {
    let mut vevent = Event::new();
    vevent
        .uid(&format!("{}@events-api", event.id))
        .timestamp(now.utc())
        .summary(&one_newline(&event.title))
        .location(&one_newline(&event.location))
        .starts(event.starts_at.utc())
        .url(&format!("{base_url}/events/{}", event.id))
        .sequence(event.version.min(u64::from(u32::MAX)) as u32)
        .created(event.created_at.utc())
        .last_modified(event.updated_at.utc())
        .status(if tentative { EventStatus::Tentative } else { EventStatus::Confirmed });
    if let Some(ends_at) = event.ends_at {
        vevent.ends(ends_at.utc());
    }
    if let Some(description) = &event.description {
        vevent.description(&one_newline(description));
    }
    if let Some(category) = &event.category {
        vevent.add_property("CATEGORIES", category);
    }
    vevent.done()
}

/// Text with every line break as a plain `\n`: a carriage return would survive escaping and
/// end a content line early.
fn one_newline(value: &str) -> String {
    value.replace("\r\n", "\n").replace('\r', "\n")
}

/// RFC 5545 TEXT escaping (section 3.3.11).
fn escape_text(value: &str) -> String {
    value.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace('\n', "\\n")
}

/// A calendar holding one event.
pub fn event_calendar(event: &EventRecord, base_url: &str, now: Instant) -> String {
    let mut calendar = calendar(&event.title, Some(&event.timezone));
    calendar.push(vevent(event, base_url, now, false));
    refold(&calendar.done().to_string())
}

/// A personal feed: each event with whether the user only waits for a seat.
pub fn feed_calendar(owner: &str, events: &[(EventRecord, bool)], base_url: &str, now: Instant) -> String {
    let mut calendar = calendar(&format!("{owner}'s events"), None);
    for (event, waiting) in events {
        calendar.push(vevent(event, base_url, now, *waiting));
    }
    refold(&calendar.done().to_string())
}

/// An "add to Google Calendar" link for an event.
pub fn google_calendar_url(event: &EventRecord) -> String {
    let compact = |at: Instant| at.utc().format("%Y%m%dT%H%M%SZ").to_string();
    let end = event.ends_at.unwrap_or(event.starts_at.plus_seconds(3600));
    let mut query = vec![
        ("action", "TEMPLATE".to_owned()),
        ("text", event.title.clone()),
        ("dates", format!("{}/{}", compact(event.starts_at), compact(end))),
        ("location", event.location.clone()),
        ("ctz", event.timezone.clone()),
    ];
    if let Some(description) = &event.description {
        query.push(("details", description.clone()));
    }
    let encoded = serde_urlencoded::to_string(&query).unwrap_or_default();
    format!("https://calendar.google.com/calendar/render?{encoded}")
}

/// Octets per physical line, the CRLF aside (RFC 5545 section 3.1).
const LINE_OCTETS: usize = 75;

/// Unfolds a calendar and folds it again with [`fold`].
fn refold(text: &str) -> String {
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    let mut out = String::with_capacity(text.len() + text.len() / 70 * 3);
    for line in unfolded.split("\r\n").filter(|l| !l.is_empty()) {
        out.push_str(&fold(line));
        out.push_str("\r\n");
    }
    out
}

/// Folds one content line into physical lines of at most 75 octets, at character boundaries,
/// preferring breaks that leave no whitespace at the end of a line.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut rest = line;
    let mut budget = LINE_OCTETS;
    while rest.len() > budget {
        let boundaries: Vec<usize> = (1..=budget).filter(|&i| rest.is_char_boundary(i)).collect();
        let clean = boundaries.iter().rev().find(|&&i| !rest[..i].ends_with(char::is_whitespace));
        let at = clean.or(boundaries.last()).copied().unwrap_or(budget);
        out.push_str(&rest[..at]);
        out.push_str("\r\n ");
        rest = &rest[at..];
        // A continuation line starts with the folding space.
        budget = LINE_OCTETS - 1;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_every_line_break_and_separator() {
        assert_eq!(escape_text(&one_newline("a\r\nb\rc\nd")), "a\\nb\\nc\\nd");
        assert_eq!(escape_text("x, y; z\\"), "x\\, y\\; z\\\\");
    }

    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    #[test]
    fn folds_at_75_octets_without_trailing_whitespace() {
        let line = format!("DESCRIPTION:{}", "word ".repeat(60));
        let folded = fold(&line);
        let physical: Vec<&str> = folded.split("\r\n").collect();
        assert!(physical.len() > 3);
        assert!(physical.iter().all(|l| l.len() <= 75));
        // Only the content's own last character may be a space.
        assert!(physical[..physical.len() - 1].iter().all(|l| !l.ends_with(' ')), "{physical:?}");
        assert_eq!(unfold(&folded), line);
    }

    #[test]
    fn never_splits_a_character() {
        let line = format!("SUMMARY:{}", "é—ü".repeat(40));
        let folded = fold(&line);
        assert!(folded.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(unfold(&folded), line);
        let spaces = format!("X:{}", " ".repeat(200));
        assert_eq!(unfold(&fold(&spaces)), spaces);
    }

    #[test]
    fn short_lines_are_untouched() {
        assert_eq!(fold("UID:abc"), "UID:abc");
    }
}
