//! Recurring events: an RFC 5545 RRULE, limited to what the API offers, expanded into occurrence
//! starts in the event's time zone, so that an 18:00 Europe/Lisbon event stays at 18:00 local
//! time across daylight-saving changes. With the default zone, UTC, the UTC time stays fixed.

use chrono::{Months, TimeZone};
use rrule::{RRule, Unvalidated};

use super::event::Timezone;
use super::time::Instant;

/// Most occurrences one series may have.
pub const MAX_OCCURRENCES: usize = 100;
/// The last occurrence may start at most this long after the first.
pub const MAX_SPAN_MONTHS: u32 = 24;

const ALLOWED_PARTS: &[&str] = &["FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL"];
const ALLOWED_FREQUENCIES: &[&str] = &["DAILY", "WEEKLY", "MONTHLY"];

/// A validated recurrence rule (not yet anchored to a start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recurrence(String);

impl Recurrence {
    /// Checks the rule's shape: FREQ DAILY, WEEKLY or MONTHLY; INTERVAL and BYDAY optional;
    /// exactly one of COUNT and UNTIL; nothing else.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let rule = raw.trim().strip_prefix("RRULE:").unwrap_or(raw.trim()).to_ascii_uppercase();
        if rule.is_empty() || rule.len() > 512 {
            return Err("must be an RRULE such as FREQ=WEEKLY;COUNT=10".into());
        }
        let mut seen = Vec::new();
        for part in rule.split(';') {
            let (name, value) = part.split_once('=').ok_or_else(|| format!("{part:?} is not NAME=VALUE"))?;
            if !ALLOWED_PARTS.contains(&name) {
                return Err(format!("{name} is not supported; use {}", ALLOWED_PARTS.join(", ")));
            }
            if seen.contains(&name) {
                return Err(format!("{name} is given twice"));
            }
            if name == "FREQ" && !ALLOWED_FREQUENCIES.contains(&value) {
                return Err("FREQ must be DAILY, WEEKLY or MONTHLY".into());
            }
            if name == "COUNT" && !value.parse::<usize>().is_ok_and(|c| (1..=MAX_OCCURRENCES).contains(&c)) {
                return Err(format!("COUNT must be from 1 to {MAX_OCCURRENCES}"));
            }
            if name == "INTERVAL" && !value.parse::<u16>().is_ok_and(|i| (1..=365).contains(&i)) {
                return Err("INTERVAL must be from 1 to 365".into());
            }
            seen.push(name);
        }
        if !seen.contains(&"FREQ") {
            return Err("FREQ is required".into());
        }
        if seen.contains(&"COUNT") == seen.contains(&"UNTIL") {
            return Err("exactly one of COUNT and UNTIL is required".into());
        }
        rule.parse::<RRule<Unvalidated>>().map_err(|e| format!("is not a valid RRULE: {e}"))?;
        Ok(Recurrence(rule))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The starts of every occurrence, the first being `first` itself.
    pub fn occurrences(&self, first: Instant, zone: Timezone) -> Result<Vec<Instant>, String> {
        let tz = zone.tz();
        let local_start = tz.from_utc_datetime(&first.utc().naive_utc());
        let dt_start = local_start.with_timezone(&rrule::Tz::Tz(tz));
        let rule: RRule<Unvalidated> = self.0.parse().map_err(|e| format!("is not a valid RRULE: {e}"))?;
        let set = rule.build(dt_start).map_err(|e| format!("is not a valid RRULE: {e}"))?;
        let result = set.all((MAX_OCCURRENCES + 1) as u16);
        if result.dates.len() > MAX_OCCURRENCES {
            return Err(format!("must give at most {MAX_OCCURRENCES} occurrences"));
        }
        let last_allowed = first
            .utc()
            .checked_add_months(Months::new(MAX_SPAN_MONTHS))
            .ok_or_else(|| "reaches too far".to_owned())?;
        let starts = result
            .dates
            .iter()
            .map(|d| Instant::within_range(d.with_timezone(&chrono::Utc)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("has an occurrence that {e}"))?;
        if starts.iter().any(|s| s.utc() > last_allowed) {
            return Err(format!("must end within {} years of the first occurrence", MAX_SPAN_MONTHS / 12));
        }
        if starts.is_empty() {
            return Err("gives no occurrence".into());
        }
        Ok(starts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        Instant::parse(s).unwrap()
    }

    #[test]
    fn accepts_the_supported_parts_only() {
        for ok in [
            "FREQ=WEEKLY;COUNT=10",
            "RRULE:FREQ=DAILY;INTERVAL=2;COUNT=3",
            "FREQ=MONTHLY;BYDAY=1MO;UNTIL=20280101T000000Z",
            "freq=weekly;byday=mo,we;count=4",
        ] {
            assert!(Recurrence::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "FREQ=YEARLY;COUNT=2",
            "FREQ=HOURLY;COUNT=2",
            "FREQ=WEEKLY",
            "FREQ=WEEKLY;COUNT=2;UNTIL=20280101T000000Z",
            "FREQ=WEEKLY;COUNT=101",
            "FREQ=WEEKLY;COUNT=0",
            "FREQ=WEEKLY;COUNT=2;BYHOUR=3",
            "FREQ=WEEKLY;FREQ=DAILY;COUNT=2",
            "COUNT=2",
            "FREQ=WEEKLY;COUNT=2;BYDAY=XX",
            "nonsense",
        ] {
            assert!(Recurrence::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weekly_in_a_zone_keeps_local_time_across_dst() {
        // 18:00 in Lisbon: UTC+0 in winter, UTC+1 from the last Sunday of March.
        let rule = Recurrence::parse("FREQ=WEEKLY;COUNT=4").unwrap();
        let starts =
            rule.occurrences(at("2027-03-16T18:00:00Z"), Timezone::parse("Europe/Lisbon").unwrap()).unwrap();
        let text: Vec<String> = starts.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["2027-03-16T18:00:00Z", "2027-03-23T18:00:00Z", "2027-03-30T17:00:00Z", "2027-04-06T17:00:00Z"]
        );
    }

    #[test]
    fn without_a_zone_the_utc_time_is_kept() {
        let rule = Recurrence::parse("FREQ=WEEKLY;COUNT=3").unwrap();
        let starts = rule.occurrences(at("2027-03-16T18:00:00Z"), Timezone::default()).unwrap();
        assert!(starts.iter().all(|s| s.to_string().ends_with("T18:00:00Z")));
    }

    #[test]
    fn limits_count_and_span() {
        let daily = Recurrence::parse("FREQ=DAILY;UNTIL=20290101T000000Z").unwrap();
        assert!(daily.occurrences(at("2027-01-01T10:00:00Z"), Timezone::default()).is_err());
        let too_far = Recurrence::parse("FREQ=MONTHLY;INTERVAL=12;COUNT=4").unwrap();
        assert!(too_far.occurrences(at("2027-01-01T10:00:00Z"), Timezone::default()).is_err());
        let two_years = Recurrence::parse("FREQ=MONTHLY;INTERVAL=12;COUNT=3").unwrap();
        assert_eq!(
            two_years.occurrences(at("2027-01-01T10:00:00Z"), Timezone::default()).map(|v| v.len()),
            Ok(3)
        );
        // Within two years, but past what a stored datetime can say.
        let past_9999 = Recurrence::parse("FREQ=DAILY;COUNT=3").unwrap();
        let refused = past_9999.occurrences(at("9999-12-30T10:00:00Z"), Timezone::default());
        assert!(refused.is_err_and(|e| e.contains("9999")));
        let hundred = Recurrence::parse("FREQ=DAILY;COUNT=100").unwrap();
        assert_eq!(hundred.occurrences(at("2027-01-01T10:00:00Z"), Timezone::default()).unwrap().len(), 100);
    }
}
