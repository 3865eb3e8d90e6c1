//! Points in time. Input must carry an offset (a naive datetime is ambiguous); output and storage are
//! always UTC with `Z`, at whole seconds, so that stored strings sort in time order.

use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, SubsecRound, TimeZone, Timelike, Utc};

/// An instant in UTC, at whole-second precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(DateTime<Utc>);

impl Instant {
    pub fn now() -> Self {
        Self::from_utc(Utc::now())
    }

    /// Truncates to whole seconds. A leap second (`23:59:60`) becomes the second before it, so
    /// that every instant is one a calendar, an RRULE and a sorted key all read the same way.
    pub fn from_utc(at: DateTime<Utc>) -> Self {
        Instant(at.with_nanosecond(0).unwrap_or_else(|| at.trunc_subsecs(0)))
    }

    /// An instant that fits the stored form (four-digit years from 1970), else why it does not.
    pub fn within_range(at: DateTime<Utc>) -> Result<Self, String> {
        if at.timestamp() < 0 || at.format("%Y").to_string().len() != 4 {
            return Err("must be between 1970 and 9999".to_owned());
        }
        Ok(Self::from_utc(at))
    }

    pub fn from_unix(secs: i64) -> Option<Self> {
        Utc.timestamp_opt(secs, 0).single().map(Instant)
    }

    /// Parses an RFC 3339 datetime that carries an offset (`Z` or `±hh:mm`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let parsed = DateTime::parse_from_rfc3339(raw.trim()).map_err(|_| {
            "must be an RFC 3339 datetime with an offset, such as 2027-03-01T18:00:00+01:00".to_owned()
        })?;
        Self::within_range(parsed.with_timezone(&Utc))
    }

    /// Parses a filter bound: an RFC 3339 datetime, or a `YYYY-MM-DD` day meaning that whole UTC
    /// day (its first second for a lower bound, its last for an upper bound).
    pub fn parse_bound(raw: &str, upper: bool) -> Result<Self, String> {
        if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            let start = day
                .and_hms_opt(0, 0, 0)
                .map(|naive| Utc.from_utc_datetime(&naive))
                .ok_or_else(|| "is not a valid date".to_owned())?;
            let at = if upper { start + chrono::Duration::seconds(86_399) } else { start };
            return Self::within_range(at);
        }
        Self::parse(&with_offset_sign(raw)).map_err(|_| {
            "must be an RFC 3339 datetime with an offset or a date such as 2027-03-01".to_owned()
        })
    }

    pub fn utc(self) -> DateTime<Utc> {
        self.0
    }

    pub fn unix(self) -> i64 {
        self.0.timestamp()
    }

    /// In Unix milliseconds, as stored where a time is compared or ordered by number (when a
    /// webhook is due, when a change was made); 0 before 1970, which no stored instant is.
    pub fn unix_millis(self) -> u64 {
        u64::try_from(self.0.timestamp_millis()).unwrap_or(0)
    }

    /// The instant of `ms` Unix milliseconds, to the second (instants hold whole seconds).
    pub fn from_unix_millis(ms: u64) -> Option<Self> {
        Self::from_unix(i64::try_from(ms / 1000).ok()?)
    }

    /// `secs` later, if that is still an instant the stored form can say.
    pub fn checked_plus_seconds(self, secs: i64) -> Result<Self, String> {
        let later = self.0.checked_add_signed(chrono::Duration::seconds(secs)).ok_or("is out of range")?;
        Self::within_range(later)
    }

    pub fn plus_seconds(self, secs: i64) -> Self {
        Instant(self.0 + chrono::Duration::seconds(secs))
    }

    /// The UTC day (`YYYY-MM-DD`): what an event's daily counts are kept by.
    pub fn day(self) -> String {
        self.0.format("%Y-%m-%d").to_string()
    }

    /// The month bucket of the time index (`YYYY-MM`), see `store::keys`.
    pub fn month(self) -> String {
        self.0.format("%Y-%m").to_string()
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

impl serde::Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// RFC 3339: input must carry an offset; output is UTC with `Z`, at whole seconds.
impl utoipa::PartialSchema for Instant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::KnownFormat;
        use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(
                "RFC 3339. Input must carry an offset (`+01:00` or `Z`); output is UTC with `Z`, at whole seconds.",
            ))
            .examples(["2027-03-01T17:00:00Z"])
            .into()
    }
}

impl utoipa::ToSchema for Instant {}

impl<'de> serde::Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Instant::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A query string turns an unencoded `+` into a space, so `?from=2027-03-01T18:00:00+01:00`
/// arrives as `2027-03-01T18:00:00 01:00`: a space just before a final `hh:mm` offset can only
/// have been its sign.
fn with_offset_sign(raw: &str) -> std::borrow::Cow<'_, str> {
    let bytes = raw.as_bytes();
    let n = bytes.len();
    let offset_like = n > 6
        && bytes[n - 6] == b' '
        && bytes[n - 3] == b':'
        && [n - 5, n - 4, n - 2, n - 1].iter().all(|&i| bytes[i].is_ascii_digit());
    if offset_like { format!("{}+{}", &raw[..n - 6], &raw[n - 5..]).into() } else { raw.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_milliseconds_round_trip_to_the_second() {
        let at = Instant::parse("2027-03-01T17:00:00Z").unwrap();
        assert_eq!(at.unix_millis(), 1_803_920_400_000);
        assert_eq!(Instant::from_unix_millis(at.unix_millis()), Some(at));
        assert_eq!(Instant::from_unix_millis(at.unix_millis() + 999), Some(at), "milliseconds are dropped");
        assert_eq!(Instant::from_unix_millis(u64::MAX), None, "beyond what a date can be");
    }

    #[test]
    fn normalises_offsets_to_utc_seconds() {
        let at = Instant::parse("2027-03-01T18:00:00.750+01:00").unwrap();
        assert_eq!(at.to_string(), "2027-03-01T17:00:00Z");
    }

    #[test]
    fn refuses_naive_and_malformed_datetimes() {
        for bad in [
            "2027-03-01T18:00:00",
            "2027-03-01 18:00",
            "2027-03-01",
            "tomorrow",
            "",
            "2027-13-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert!(Instant::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn day_bounds_cover_the_whole_utc_day() {
        let from = Instant::parse_bound("2027-03-01", false).unwrap();
        let to = Instant::parse_bound("2027-03-01", true).unwrap();
        assert_eq!(from.to_string(), "2027-03-01T00:00:00Z");
        assert_eq!(to.to_string(), "2027-03-01T23:59:59Z");
        assert!(Instant::parse_bound("2027-02-30", false).is_err());
        assert!(Instant::parse_bound("2027-03-01T10:00:00Z", true).is_ok());
        assert!(Instant::parse_bound("2027-03-01T10:00:00", true).is_err());
        // A leap second is the second before it.
        assert_eq!(Instant::parse("2027-06-30T23:59:60Z").unwrap().to_string(), "2027-06-30T23:59:59Z");
        assert_eq!(Instant::parse("2027-06-30T23:59:59.5Z").unwrap().to_string(), "2027-06-30T23:59:59Z");
        // An unencoded `+` in a query string arrives as a space.
        assert_eq!(
            Instant::parse_bound("2027-03-01T10:00:00 01:00", false),
            Instant::parse_bound("2027-03-01T09:00:00Z", false)
        );
        assert!(Instant::parse_bound("2027-03-01T10:00:00 1:00", false).is_err());
        assert!(Instant::parse_bound("2027-03-01 10:00", false).is_err());
    }

    #[test]
    fn string_order_is_time_order() {
        let a = Instant::parse("2027-03-01T09:00:00Z").unwrap();
        let b = Instant::parse("2027-03-01T10:00:00+00:30").unwrap();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
        assert_eq!(a.month(), "2027-03");
    }
}
