//! Reading timestamps fast. Diesel reads a SQLite timestamp (stored as text) by trying
//! chrono format strings one after another, and chrono re-parses the format string on
//! every call: profiles of a 500 KB include page showed it at 7% of the server's CPU.
//! [`Time`] and [`OptionalTime`] read the one form roster writes,
//! `YYYY-MM-DD HH:MM:SS.ffffff`, by hand, and hand anything else to diesel. On
//! PostgreSQL (binary timestamps) they are diesel's own reading.
//!
//! Use them on the timestamp fields of a row: `#[diesel(deserialize_as = Time)]` on a
//! `NaiveDateTime`, `#[diesel(deserialize_as = OptionalTime)]` on an
//! `Option<NaiveDateTime>`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

use super::MultiBackend;

/// A `NaiveDateTime` read from either backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub NaiveDateTime);

/// An `Option<NaiveDateTime>` read from either backend (NULL is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalTime(pub Option<NaiveDateTime>);

impl From<Time> for NaiveDateTime {
    fn from(time: Time) -> Self {
        time.0
    }
}

impl From<OptionalTime> for Option<NaiveDateTime> {
    fn from(time: OptionalTime) -> Self {
        time.0
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1–9 digits of fraction — what diesel
/// writes for a `NaiveDateTime` on SQLite. `None` for anything else.
fn parse_sqlite_text(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if b.len() < 19 || separators.iter().any(|&(at, c)| b[at] != c) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let (month, day) = (number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let value = number(20..b.len())?;
            value * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, day)?.and_hms_nano_opt(hour, minute, second, nanos)
}

impl FromSql<Timestamp, Sqlite> for Time {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(time) = parse_sqlite_text(value.read_text()) {
            return Ok(Time(time));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Time)
    }
}

impl FromSql<Timestamp, Pg> for Time {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Time)
    }
}

impl FromSql<Timestamp, MultiBackend> for Time {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl FromSql<Nullable<Timestamp>, MultiBackend> for OptionalTime {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value
            .from_sql::<Time, Timestamp>()
            .map(|time| OptionalTime(Some(time.0)))
    }

    fn from_nullable_sql(
        value: Option<<MultiBackend as Backend>::RawValue<'_>>,
    ) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(OptionalTime(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_sqlite_text;

    fn chrono(text: &str) -> chrono::NaiveDateTime {
        chrono::NaiveDateTime::parse_from_str(text, "%F %T%.f").unwrap()
    }

    #[test]
    fn reads_what_diesel_writes() {
        for text in [
            "2026-11-26 09:15:02.123456",
            "2026-11-26 09:15:02",
            "2026-01-01 00:00:00.000001",
            "1999-12-31 23:59:59.999999999",
            "2024-02-29 12:00:00.5",
            "0001-01-01 00:00:00",
        ] {
            assert_eq!(parse_sqlite_text(text), Some(chrono(text)), "{text}");
        }
    }

    #[test]
    fn leaves_every_other_form_to_diesel() {
        for text in [
            "",
            "2026-11-26",
            "2026-11-26T09:15:02",
            "2026-11-26 09:15:02Z",
            "2026-11-26 09:15:02+01:00",
            "2026-11-26 09:15:02.",
            "2026-11-26 09:15:02.1234567890",
            "2026-11-26 09:15",
            "2026-13-01 00:00:00",
            "2026-02-30 00:00:00",
            "2026-11-26 24:00:00",
            "2026-11-26 09:60:00",
            "2026-1a-26 09:15:02",
            "+2026-11-26 09:15:02",
            "2026-11-26 09:15:02.12a",
            "２０２６-11-26 09:15:02",
            "2459000.5",
        ] {
            assert_eq!(parse_sqlite_text(text), None, "{text:?}");
        }
    }
}
