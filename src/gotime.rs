//! Timestamps exactly as Go's `encoding/json` writes `time.Time`: RFC 3339 with up to nine
//! fraction digits (trailing zeros trimmed), a zone offset (`Z` for zero) and the zero time
//! `0001-01-01T00:00:00Z` meaning "unset".
//!
//! The offset is kept so that a payload written back reads exactly as the agent wrote it.
//! This module knows nothing of payloads or OTLP.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds from 0001-01-01T00:00:00Z (Go's zero time) to the Unix epoch.
const ZERO_TIME_UNIX_SECS: i64 = -62_135_596_800;

/// An instant with the zone offset it was written in.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GoTime {
    /// Seconds since the Unix epoch (UTC).
    unix_secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    nanos: u32,
    /// Seconds east of UTC the time was written in.
    offset_secs: i32,
}

/// Why a timestamp string is not RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid RFC 3339 timestamp {text:?}: {reason}")]
pub struct TimeParseError {
    text: String,
    reason: &'static str,
}

/// How an instant fits OTLP's unsigned nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnixNanos {
    /// The instant fits.
    Exact(u64),
    /// The instant lies outside 1970..2554 and was clamped to the nearest end.
    Clamped(u64),
}

impl Default for GoTime {
    fn default() -> Self {
        Self::ZERO
    }
}

impl GoTime {
    /// Go's zero time, `0001-01-01T00:00:00Z`: "unset".
    pub const ZERO: GoTime = GoTime {
        unix_secs: ZERO_TIME_UNIX_SECS,
        nanos: 0,
        offset_secs: 0,
    };

    /// Whether this is Go's zero time (any offset: Go's `IsZero` compares the instant).
    pub fn is_zero(&self) -> bool {
        self.unix_secs == ZERO_TIME_UNIX_SECS && self.nanos == 0
    }

    /// A UTC time from OTLP nanoseconds; 0 (OTLP's "unset") gives the zero time.
    pub fn from_unix_nanos(nanos: u64) -> Self {
        if nanos == 0 {
            return Self::ZERO;
        }
        GoTime {
            unix_secs: (nanos / 1_000_000_000) as i64,
            nanos: (nanos % 1_000_000_000) as u32,
            offset_secs: 0,
        }
    }

    /// A time from Unix seconds, nanoseconds and an offset east of UTC.
    pub fn from_parts(unix_secs: i64, nanos: u32, offset_secs: i32) -> Self {
        GoTime {
            unix_secs: unix_secs + i64::from(nanos / 1_000_000_000),
            nanos: nanos % 1_000_000_000,
            offset_secs,
        }
    }

    /// This time in a form RFC 3339 can write. Go's parser accepts offsets up to `±24:60`,
    /// which can carry a time past year 9999 or before year 0, but its writer refuses an
    /// offset of a day or more: such a time is written in UTC, or, when even UTC falls outside
    /// years 0–9999, with its offset as read, or else clamped to the nearest writable instant
    /// (far outside what OTLP's nanoseconds hold, so nothing sent changes).
    pub fn writable(&self) -> GoTime {
        const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        const FIRST: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
        let local = self.unix_secs + i64::from(self.offset_secs);
        let fits = |secs: i64| (FIRST..=LAST).contains(&secs);
        if self.offset_secs.unsigned_abs() < 86_400 && fits(local) {
            *self
        } else if fits(self.unix_secs) {
            GoTime {
                offset_secs: 0,
                ..*self
            }
        } else if self.offset_secs.unsigned_abs() < 25 * 3600 && fits(local) {
            *self
        } else if self.unix_secs > LAST {
            GoTime::from_parts(LAST, 999_999_999, 0)
        } else {
            GoTime::from_parts(FIRST, 0, 0)
        }
    }

    /// The current time, in UTC.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        GoTime::from_parts(since.as_secs() as i64, since.subsec_nanos(), 0)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_secs(&self) -> i64 {
        self.unix_secs
    }

    /// Signed nanoseconds since the epoch, wide enough for any RFC 3339 year.
    pub fn unix_nanos_i128(&self) -> i128 {
        i128::from(self.unix_secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// The instant as OTLP nanoseconds, clamped (never wrapped) when it does not fit.
    pub fn unix_nanos(&self) -> UnixNanos {
        let n = self.unix_nanos_i128();
        if n < 0 {
            UnixNanos::Clamped(0)
        } else if n > i128::from(u64::MAX) {
            UnixNanos::Clamped(u64::MAX)
        } else {
            UnixNanos::Exact(n as u64)
        }
    }

    /// Parses a timestamp as Go 1.27's `time.Time.UnmarshalJSON` does: `time.Parse` with the
    /// `RFC3339` layout, which is laxer than RFC 3339 in a few ways (the vectors in
    /// `testdata/go` come from Go itself): a one-digit hour, a comma before the fraction,
    /// fraction digits beyond nine (truncated), zone offsets up to `±24:60`. Letter case is
    /// strict: `t` and `z` are refused.
    pub fn parse(text: &str) -> Result<Self, TimeParseError> {
        let err = |reason| TimeParseError {
            text: text.to_owned(),
            reason,
        };
        let mut rest = text.as_bytes();
        // Go's `getnum`: two digits, or one when `fixed` is false and no second digit follows.
        let number = |fixed: bool, rest: &mut &[u8]| -> Result<u32, TimeParseError> {
            match *rest {
                [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
                    *rest = &rest[2..];
                    Ok(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
                }
                [a, ..] if a.is_ascii_digit() && !fixed => {
                    *rest = &rest[1..];
                    Ok(u32::from(a - b'0'))
                }
                _ => Err(err("expected a two-digit number")),
            }
        };
        let literal = |c: u8, rest: &mut &[u8], reason| match rest.split_first() {
            Some((&first, tail)) if first == c => {
                *rest = tail;
                Ok(())
            }
            _ => Err(err(reason)),
        };
        let year = match rest {
            [a, b, c, d, ..] if [a, b, c, d].iter().all(|x| x.is_ascii_digit()) => {
                let year = [a, b, c, d]
                    .iter()
                    .fold(0u32, |v, &&x| v * 10 + u32::from(x - b'0'));
                rest = &rest[4..];
                year
            }
            _ => return Err(err("expected a four-digit year")),
        };
        literal(b'-', &mut rest, "expected '-' after the year")?;
        let month = number(true, &mut rest)?;
        literal(b'-', &mut rest, "expected '-' after the month")?;
        let day = number(true, &mut rest)?;
        literal(b'T', &mut rest, "expected 'T' between date and time")?;
        let hour = number(false, &mut rest)?;
        literal(b':', &mut rest, "expected ':' after the hour")?;
        let minute = number(true, &mut rest)?;
        literal(b':', &mut rest, "expected ':' after the minute")?;
        let second = number(true, &mut rest)?;
        let mut nanos = 0u32;
        if let [b'.' | b',', d, ..] = rest {
            if d.is_ascii_digit() {
                let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                // Go keeps the first nine digits and drops the rest.
                nanos = rest[1..]
                    .iter()
                    .chain(std::iter::repeat(&b'0'))
                    .take(9)
                    .enumerate()
                    .fold(0, |v, (i, &c)| {
                        let digit = if i < digits { u32::from(c - b'0') } else { 0 };
                        v * 10 + digit
                    });
                rest = &rest[1 + digits..];
            }
        }
        let offset_secs = match rest {
            [b'Z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let two = |a: u8, b: u8| {
                    (a.is_ascii_digit() && b.is_ascii_digit())
                        .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
                };
                let (Some(oh), Some(om)) = (two(*h1, *h2), two(*m1, *m2)) else {
                    return Err(err("expected a zone offset like +02:00"));
                };
                // Go allows ±24:00 and a minute of 60: "some people do write offsets of 24
                // hours or 60 minutes".
                if oh > 24 || om > 60 {
                    return Err(err("zone offset out of range"));
                }
                let secs = (oh * 3600 + om * 60) as i32;
                if *sign == b'-' {
                    -secs
                } else {
                    secs
                }
            }
            [b'Z', ..] => return Err(err("unexpected text after 'Z'")),
            _ => return Err(err("expected 'Z' or a zone offset like +02:00")),
        };
        if !(1..=12).contains(&month) {
            return Err(err("month out of range"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(err("time of day out of range"));
        }
        if day == 0 || day > days_in_month(i64::from(year), month) {
            return Err(err("day out of range"));
        }
        let days = days_from_civil(i64::from(year), month, day);
        let local = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        Ok(GoTime {
            unix_secs: local - i64::from(offset_secs),
            nanos,
            offset_secs,
        })
    }
}

impl fmt::Display for GoTime {
    /// Formats as Go's `time.RFC3339Nano`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.unix_secs + i64::from(self.offset_secs);
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        let sod = local.rem_euclid(86_400);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        )?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        if self.offset_secs == 0 {
            f.write_str("Z")
        } else {
            let sign = if self.offset_secs < 0 { '-' } else { '+' };
            let abs = self.offset_secs.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60)
        }
    }
}

impl fmt::Debug for GoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for GoTime {
    /// Writes as Go's `MarshalJSON` does, and where Go fails, as the nearest time that reads
    /// back: see [`GoTime::writable`].
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.writable())
    }
}

impl<'de> Deserialize<'de> for GoTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = GoTime;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<GoTime, E> {
                GoTime::parse(v).map_err(E::custom)
            }
            // Go's Time.UnmarshalJSON leaves the zero time on `null`.
            fn visit_unit<E: serde::de::Error>(self) -> Result<GoTime, E> {
                Ok(GoTime::ZERO)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_go_formatted_times() {
        for text in [
            "2025-05-29T12:16:34.123456789-05:00",
            "2025-05-29T13:16:34.706189354-04:00",
            "2025-05-29T19:30:00.79850216+02:00",
            "2025-05-29T17:20:03.5Z",
            "0001-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999999999Z",
            "2000-02-29T00:00:00+14:00",
            "9999-12-31T23:59:59.999999999-23:59",
        ] {
            let t = GoTime::parse(text).unwrap();
            assert_eq!(t.to_string(), text);
        }
    }

    #[test]
    fn parses_to_the_right_instant() {
        let t = GoTime::parse("2025-05-29T13:16:34.706189354-04:00").unwrap();
        assert_eq!(t.unix_nanos(), UnixNanos::Exact(1_748_538_994_706_189_354));
        let utc = GoTime::parse("2025-05-29T17:16:34.706189354Z").unwrap();
        assert_eq!(t.unix_nanos(), utc.unix_nanos());
        assert!(GoTime::parse("0001-01-01T00:00:00Z").unwrap().is_zero());
        assert!(GoTime::parse("0001-01-01T02:00:00+02:00")
            .unwrap()
            .is_zero());
        assert!(!t.is_zero());
    }

    #[test]
    fn out_of_range_instants_clamp_instead_of_wrapping() {
        let before = GoTime::parse("1960-01-01T00:00:00Z").unwrap();
        assert_eq!(before.unix_nanos(), UnixNanos::Clamped(0));
        let after = GoTime::parse("2600-01-01T00:00:00Z").unwrap();
        assert_eq!(after.unix_nanos(), UnixNanos::Clamped(u64::MAX));
        let last = GoTime::from_unix_nanos(u64::MAX);
        assert_eq!(last.unix_nanos(), UnixNanos::Exact(u64::MAX));
    }

    /// A few cases from the Go vectors (`testdata/go`, held line by line in
    /// `model::go_vectors`), where Go's layout parser is laxer or stricter than RFC 3339.
    #[test]
    fn reads_what_go_reads_and_refuses_what_go_refuses() {
        for (text, go_reads_it_as) in [
            (
                "2025-05-29T13:16:34.1234567891234Z",
                "2025-05-29T13:16:34.123456789Z",
            ),
            ("2025-05-29T13:16:34,5Z", "2025-05-29T13:16:34.5Z"),
            ("2025-05-29T7:21:50Z", "2025-05-29T07:21:50Z"),
            ("2025-05-29T13:16:34+24:00", "2025-05-29T13:16:34+24:00"),
            ("2025-05-29T13:16:34+23:60", "2025-05-29T13:16:34+24:00"),
            ("2025-05-29T13:16:34+24:01", "2025-05-29T13:16:34+24:01"),
            ("2025-05-29T13:16:34-00:00", "2025-05-29T13:16:34Z"),
        ] {
            assert_eq!(GoTime::parse(text).unwrap().to_string(), go_reads_it_as);
        }
        for bad in [
            "2025-05-29T13:16:34z",
            "2025-05-29t13:16:34Z",
            "2025-05-29 13:16:34Z",
            "2025-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2025-05-29T24:00:00Z",
            "2025-05-29T13:16:34",
            "2025-05-29T13:16:34.Z",
            "2025-05-29T13:16:34+0200",
            "2025-05-29T13:16:34+25:00",
            "2025-05-29T13:16:34+00:61",
            "2025-05-29T13:16:34Zjunk",
            "2025-5-29T13:16:34Z",
            "",
        ] {
            assert!(GoTime::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    /// Go reads `+24:60` but refuses to write an offset of a day or more; so do we, and write
    /// the instant in UTC instead.
    #[test]
    fn offsets_of_a_day_or_more_are_written_in_utc() {
        let t = GoTime::parse("2025-05-29T13:16:34+24:60").unwrap();
        let written = serde_json::to_string(&t).unwrap();
        assert_eq!(written, r#""2025-05-28T12:16:34Z""#);
        let back: GoTime = serde_json::from_str(&written).unwrap();
        assert_eq!(back.unix_nanos(), t.unix_nanos());
    }

    #[test]
    fn from_unix_nanos_is_utc_and_zero_means_unset() {
        assert!(GoTime::from_unix_nanos(0).is_zero());
        let t = GoTime::from_unix_nanos(1_748_538_994_706_189_354);
        assert_eq!(t.to_string(), "2025-05-29T17:16:34.706189354Z");
    }

    #[test]
    fn civil_conversion_agrees_across_four_centuries() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
