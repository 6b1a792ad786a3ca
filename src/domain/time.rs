//! Instants and the estate's time zone, which decides which day and month an
//! instant belongs to.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Offset, Timelike, Utc};

use super::{code, serde_via_parse, DomainError, Period};

/// An instant to the second, written `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, UTC,
/// one spelling per instant so it can go into hashed entries).
///
/// Range: 2000-01-01T00:00:00Z to 2998-12-31T23:59:59Z. Ending a year before
/// [`Period`]'s last year keeps the local date in every supported zone (UTC
/// to UTC+8) inside the range of [`Period`] and [`Date`](super::Date).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// 2000-01-01T00:00:00Z.
const MIN_UNIX_SECONDS: i64 = 946_684_800;
/// 2998-12-31T23:59:59Z (python3: calendar.timegm((2998, 12, 31, 23, 59, 59))).
const MAX_UNIX_SECONDS: i64 = 32_472_143_999;

impl Timestamp {
    /// The earliest instant representable (2000-01-01T00:00:00Z); also a
    /// placeholder for fields the ledger fills in, like a claim's expiry.
    pub const MIN: Timestamp = Timestamp(MIN_UNIX_SECONDS);

    const EXAMPLE: &'static str = "2024-05-01T08:30:00Z";

    pub fn parse(field: &str, text: &str) -> Result<Timestamp, DomainError> {
        let bad = |message: String| Err(DomainError::new(field, code::BAD_FORMAT, message));
        let bytes = text.as_bytes();
        // Name the usual near-misses, then fall back to the general shape.
        if bytes.get(19) == Some(&b'.') {
            return bad("must not have fractional seconds".into());
        }
        if bytes.len() == 25 && matches!(bytes.get(19), Some(b'+' | b'-')) {
            return bad(format!(
                "must be in UTC and end in Z, like {} (convert other offsets to UTC first)",
                Self::EXAMPLE
            ));
        }
        if bytes.get(10) == Some(&b't') || bytes.get(19) == Some(&b'z') {
            return bad("must use an uppercase T and Z".into());
        }
        let number = |start: usize, len: usize| {
            let slice = bytes.get(start..start + len)?;
            slice.iter().try_fold(0u32, |acc, &b| {
                b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
            })
        };
        let separators = [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'Z'),
        ];
        let shape_ok =
            bytes.len() == 20 && separators.iter().all(|&(at, b)| bytes.get(at) == Some(&b));
        let (true, Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
            shape_ok,
            number(0, 4),
            number(5, 2),
            number(8, 2),
            number(11, 2),
            number(14, 2),
            number(17, 2),
        ) else {
            return bad(format!("must be a UTC time written like {}", Self::EXAMPLE));
        };
        let instant = NaiveDate::from_ymd_opt(year as i32, month, day)
            .zip(NaiveTime::from_hms_opt(hour, minute, second))
            .map(|(date, time)| date.and_time(time).and_utc());
        let Some(instant) = instant else {
            // Includes leap seconds (:60), which Unix time cannot express.
            return Err(DomainError::new(
                field,
                code::OUT_OF_RANGE,
                "is not a real date and time",
            ));
        };
        Self::from_unix_in(field, instant.timestamp())
    }

    /// From seconds since 1970-01-01T00:00:00Z (field `unix_seconds`).
    pub fn from_unix(unix_seconds: i64) -> Result<Timestamp, DomainError> {
        Self::from_unix_in("unix_seconds", unix_seconds)
    }

    fn from_unix_in(field: &str, unix_seconds: i64) -> Result<Timestamp, DomainError> {
        if (MIN_UNIX_SECONDS..=MAX_UNIX_SECONDS).contains(&unix_seconds) {
            Ok(Timestamp(unix_seconds))
        } else {
            Err(DomainError::new(
                field,
                code::OUT_OF_RANGE,
                "must be between 2000-01-01T00:00:00Z and 2998-12-31T23:59:59Z",
            ))
        }
    }

    /// The current time, truncated to the second. Fails (field
    /// `system_clock`) only if the clock is set before 2000, which would
    /// otherwise stamp entries with a plainly wrong time.
    pub fn now() -> Result<Timestamp, DomainError> {
        Self::from_unix_in("system_clock", Utc::now().timestamp())
    }

    pub fn unix(&self) -> i64 {
        self.0
    }

    pub fn to_chrono(&self) -> DateTime<Utc> {
        // In range by construction; the fallback is never taken.
        DateTime::from_timestamp(self.0, 0).unwrap_or_default()
    }

    /// The calendar date at this instant on the estate's clocks.
    pub fn date_in(&self, tz: &EstateTz) -> NaiveDate {
        self.to_chrono()
            .with_timezone(&tz.fixed_offset())
            .date_naive()
    }

    /// The billing month at this instant on the estate's clocks: a payment
    /// at 2024-05-31T20:00:00Z belongs to June in Shanghai.
    pub fn period_in(&self, tz: &EstateTz) -> Period {
        Period::containing(self.date_in(tz))
    }
}

/// Canonical form: `YYYY-MM-DDTHH:MM:SSZ`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.to_chrono();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

serde_via_parse!(Timestamp, "timestamp");

/// The whitelist of estate time zones: IANA name and UTC offset in seconds.
///
/// Only zones with one fixed offset for all of 2000..=2998 as far as is known
/// today (none of these has observed daylight saving since 1991), so a fixed
/// offset gives the same answer as the tz database without shipping one.
const ZONES: [(&str, i32); 5] = [
    ("Asia/Shanghai", 8 * 3600),
    ("Asia/Hong_Kong", 8 * 3600),
    ("Asia/Macau", 8 * 3600),
    ("Asia/Taipei", 8 * 3600),
    ("UTC", 0),
];

/// The time zone an estate keeps its books in, chosen from a short
/// whitelist by IANA name; decides which day and month a payment falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EstateTz {
    name: &'static str,
    utc_offset_seconds: i32,
}

impl EstateTz {
    pub const SHANGHAI: EstateTz = EstateTz {
        name: ZONES[0].0,
        utc_offset_seconds: ZONES[0].1,
    };

    /// Exact, case-sensitive IANA names, as tz databases spell them.
    pub fn parse(field: &str, text: &str) -> Result<EstateTz, DomainError> {
        if text.is_empty() {
            return Err(DomainError::new(field, code::EMPTY, "must not be empty"));
        }
        ZONES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|&(name, utc_offset_seconds)| EstateTz {
                name,
                utc_offset_seconds,
            })
            .ok_or_else(|| {
                let names: Vec<&str> = Self::supported_names().collect();
                DomainError::new(
                    field,
                    code::UNSUPPORTED,
                    format!("must be one of {}", names.join(", ")),
                )
            })
    }

    pub fn supported_names() -> impl Iterator<Item = &'static str> {
        ZONES.iter().map(|(name, _)| *name)
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn utc_offset_seconds(&self) -> i32 {
        self.utc_offset_seconds
    }

    pub fn fixed_offset(&self) -> FixedOffset {
        // Whitelisted offsets are all valid; UTC is never actually used.
        FixedOffset::east_opt(self.utc_offset_seconds).unwrap_or(Utc.fix())
    }
}

/// The IANA name.
impl fmt::Display for EstateTz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

serde_via_parse!(EstateTz, "time_zone");

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        match Timestamp::parse("at", text) {
            Ok(t) => t,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn tz(name: &str) -> EstateTz {
        match EstateTz::parse("tz", name) {
            Ok(t) => t,
            Err(e) => panic!("{name:?}: {e}"),
        }
    }

    #[test]
    fn timestamps_round_trip_exactly() {
        for text in [
            "2024-05-01T08:30:00Z",
            "2000-01-01T00:00:00Z",
            "2998-12-31T23:59:59Z",
            "2024-02-29T23:59:59Z",
        ] {
            assert_eq!(ts(text).to_string(), text);
            assert_eq!(Timestamp::from_unix(ts(text).unix()), Ok(ts(text)));
        }
        assert_eq!(ts("2000-01-01T00:00:00Z").unix(), MIN_UNIX_SECONDS);
        assert_eq!(ts("2998-12-31T23:59:59Z").unix(), MAX_UNIX_SECONDS);
        assert_eq!(ts("2024-05-01T08:30:00Z").unix(), 1_714_552_200);
        assert_eq!(
            ts("2024-05-01T08:30:00Z").to_chrono().timestamp(),
            1_714_552_200
        );
        assert!(ts("2024-05-01T08:30:00Z") < ts("2024-05-01T08:30:01Z"));
    }

    #[test]
    fn timestamps_refuse_other_spellings() {
        let cases = [
            ("2024-05-01T08:30:00+08:00", code::BAD_FORMAT),
            ("2024-05-01T08:30:00+00:00", code::BAD_FORMAT),
            ("2024-05-01T08:30:00.000Z", code::BAD_FORMAT),
            ("2024-05-01T08:30:00.5Z", code::BAD_FORMAT),
            ("2024-05-01t08:30:00Z", code::BAD_FORMAT),
            ("2024-05-01T08:30:00z", code::BAD_FORMAT),
            ("2024-05-01 08:30:00Z", code::BAD_FORMAT),
            ("2024-05-01T08:30:00", code::BAD_FORMAT),
            ("2024-05-01T08:30Z", code::BAD_FORMAT),
            ("2024-5-01T08:30:00Z", code::BAD_FORMAT),
            (" 2024-05-01T08:30:00Z", code::BAD_FORMAT),
            ("", code::BAD_FORMAT),
            ("2024-02-30T08:30:00Z", code::OUT_OF_RANGE),
            ("2024-05-01T24:00:00Z", code::OUT_OF_RANGE),
            ("2016-12-31T23:59:60Z", code::OUT_OF_RANGE),
            ("1999-12-31T23:59:59Z", code::OUT_OF_RANGE),
            ("2999-01-01T00:00:00Z", code::OUT_OF_RANGE),
        ];
        for (text, expected) in cases {
            let e = Timestamp::parse("received_at", text).err();
            assert_eq!(e.as_ref().map(|e| e.code), Some(expected), "{text:?}");
            assert_eq!(e.map(|e| e.field), Some("received_at".into()));
        }
        assert!(Timestamp::from_unix(MIN_UNIX_SECONDS - 1).is_err());
        assert!(Timestamp::from_unix(MAX_UNIX_SECONDS + 1).is_err());
        assert!(Timestamp::from_unix(i64::MIN).is_err());
    }

    #[test]
    fn now_is_in_range() {
        assert!(Timestamp::now().is_ok());
    }

    #[test]
    fn local_dates_and_periods() {
        let shanghai = tz("Asia/Shanghai");
        let utc = tz("UTC");
        let late = ts("2024-05-31T20:00:00Z");
        assert_eq!(late.date_in(&utc).to_string(), "2024-05-31");
        assert_eq!(late.date_in(&shanghai).to_string(), "2024-06-01");
        assert_eq!(late.period_in(&utc).to_string(), "2024-05");
        assert_eq!(late.period_in(&shanghai).to_string(), "2024-06");
        assert_eq!(
            ts("2024-05-31T15:59:59Z").period_in(&shanghai).to_string(),
            "2024-05"
        );
        // The very last instant still lands inside Period's range.
        assert_eq!(
            ts("2998-12-31T23:59:59Z").period_in(&shanghai).to_string(),
            "2999-01"
        );
        assert_eq!(
            ts("2000-01-01T00:00:00Z").period_in(&utc).to_string(),
            "2000-01"
        );
    }

    #[test]
    fn time_zone_whitelist() {
        for name in [
            "Asia/Shanghai",
            "Asia/Hong_Kong",
            "Asia/Macau",
            "Asia/Taipei",
        ] {
            assert_eq!(tz(name).utc_offset_seconds(), 8 * 3600);
            assert_eq!(tz(name).to_string(), name);
        }
        assert_eq!(tz("UTC").utc_offset_seconds(), 0);
        assert_eq!(EstateTz::SHANGHAI, tz("Asia/Shanghai"));
        let refused = EstateTz::parse("time_zone", "Asia/Tokyo").err();
        assert_eq!(refused.as_ref().map(|e| e.code), Some(code::UNSUPPORTED));
        assert!(refused
            .is_some_and(|e| e.message.contains("Asia/Shanghai") && e.message.contains("UTC")));
        for name in ["asia/shanghai", "CST", "+08:00", "Etc/GMT-8", " UTC"] {
            assert!(EstateTz::parse("time_zone", name).is_err(), "{name}");
        }
        assert_eq!(
            EstateTz::parse("time_zone", "").map_err(|e| e.code),
            Err(code::EMPTY)
        );
    }
}
