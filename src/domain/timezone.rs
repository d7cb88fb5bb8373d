//! IANA time zones.

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;

use super::DomainError;

/// An IANA time zone name that chrono-tz knows (`Europe/Berlin`, `UTC`, and the
/// database's backward-compatible aliases such as `US/Pacific`). Exact and
/// case-sensitive, as in the tz database. Defaults to `UTC`.
///
/// Holds the parsed [`Tz`] rather than the string: the name is a `&'static str` inside
/// it, so the type is `Copy` and [`Timezone::tz`] needs no second lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timezone(Tz);

impl Timezone {
    /// Every name [`Timezone::parse`] accepts.
    pub fn names() -> Vec<&'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
    }

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        input.parse::<Tz>().map(Self).map_err(|_| {
            DomainError::new("must be an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"")
        })
    }

    /// The canonical name, exactly as it was accepted.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    pub fn into_inner(self) -> String {
        self.0.name().to_owned()
    }

    /// The zone, for converting times (`utc.with_timezone(&tz.tz())`).
    pub fn tz(self) -> Tz {
        self.0
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self(Tz::UTC)
    }
}

impl AsRef<str> for Timezone {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Timezone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl FromStr for Timezone {
    type Err = DomainError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_listed_name_parses_as_itself() {
        let names = super::Timezone::names();
        assert!(names.len() > 400, "{}", names.len());
        for name in names {
            assert_eq!(super::Timezone::parse(name).expect(name).as_str(), name);
        }
    }

    use super::*;

    #[test]
    fn accepts_iana_names() {
        for ok in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Asia/Kolkata",
            "Etc/GMT+5",
            "US/Pacific",
            "Pacific/Chatham",
        ] {
            let tz = Timezone::parse(ok).expect(ok);
            assert_eq!(tz.as_str(), ok);
            assert_eq!(tz.to_string(), ok);
            assert_eq!(tz.into_inner(), ok);
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "utc",
            "europe/berlin",
            " Europe/Berlin",
            "Europe/Berlin ",
            "Europe/Atlantis",
            "Berlin",
            "+02:00",
            "CEST",
            "Europe/Berlin\0",
            "../../etc/localtime",
        ] {
            assert_eq!(
                Timezone::parse(bad),
                Err(DomainError::new(
                    "must be an IANA time zone name such as \"Europe/Berlin\" or \"UTC\""
                )),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn defaults_to_utc() {
        assert_eq!(Timezone::default().as_str(), "UTC");
        assert_eq!(Timezone::default().tz(), Tz::UTC);
        assert_eq!(Timezone::default(), Timezone::parse("UTC").expect("valid"));
    }

    #[test]
    fn gives_the_zone() {
        assert_eq!(
            Timezone::parse("Europe/Berlin").expect("valid").tz(),
            Tz::Europe__Berlin
        );
    }

    #[test]
    fn serializes_as_a_string() {
        let tz = Timezone::parse("Europe/Berlin").expect("valid");
        assert_eq!(
            serde_json::to_string(&tz).expect("serializes"),
            "\"Europe/Berlin\""
        );
    }
}
