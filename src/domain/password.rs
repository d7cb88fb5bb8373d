//! Plain-text passwords on their way to the hasher.

use std::fmt;
use std::str::FromStr;

use super::DomainError;

/// A password as the user chose it: 10–256 characters, anything allowed, nothing trimmed
/// (a space is as good a character as any, and silently changing a password would make it
/// impossible to type again).
///
/// It cannot leak by accident: `Debug` prints `Password(***)`, `Display` prints `***`,
/// there is no `Serialize`, `AsRef<str>` or `into_inner`, and no error detail repeats it.
/// [`Password::expose`] is the one way to read it, so every read is easy to find.
///
/// No `PartialEq` either: comparing secrets with `==` is not constant-time. To check a
/// confirmation, compare the two `expose()`d strings where that is the intent.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        // Stops counting just past the maximum: the input may be megabytes long.
        let chars = input.chars().take(Self::MAX_CHARS + 1).count();
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            Ok(Self(input.to_owned()))
        } else {
            Err(DomainError::new(format!(
                "must be {}–{} characters",
                Self::MIN_CHARS,
                Self::MAX_CHARS
            )))
        }
    }

    /// The secret itself, for hashing or verifying. The only way to read it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for Password {
    type Err = DomainError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DETAIL: &str = "must be 10–256 characters";

    #[test]
    fn length_boundaries_in_chars() {
        for unit in ["a", "é", "🦀", " "] {
            assert!(Password::parse(&unit.repeat(9)).is_err(), "9 × {unit:?}");
            assert!(Password::parse(&unit.repeat(10)).is_ok(), "10 × {unit:?}");
            assert!(Password::parse(&unit.repeat(256)).is_ok(), "256 × {unit:?}");
            assert_eq!(
                Password::parse(&unit.repeat(257)).map(|_| ()),
                Err(DomainError::new(DETAIL)),
                "257 × {unit:?}"
            );
        }
        assert!(Password::parse("").is_err());
        // Ten 4-byte characters are 40 bytes but only 10 characters: fine. Nine are not,
        // however many bytes they take.
        assert_eq!(
            Password::parse(&"🦀".repeat(10))
                .expect("valid")
                .expose()
                .len(),
            40
        );
    }

    #[test]
    fn kept_exactly_as_given() {
        let given = "  correct horse battery staple\t";
        assert_eq!(Password::parse(given).expect("valid").expose(), given);
        assert_eq!(
            "0123456789".parse::<Password>().expect("valid").expose(),
            "0123456789"
        );
    }

    #[test]
    fn never_printed() {
        let secret = "hunter2-but-longer";
        let pw = Password::parse(secret).expect("valid");
        let debug = format!("{pw:?}");
        let display = format!("{pw}");
        assert_eq!(debug, "Password(***)");
        assert_eq!(display, "***");
        assert!(!debug.contains(secret) && !display.contains(secret));
        assert!(!format!("{pw:#?}").contains(secret));
        assert!(!format!("{:?}", Some(pw.clone())).contains(secret));
        assert!(!format!("{:?}", Password::parse(secret)).contains(secret));
        // Nor in the detail when it is rejected.
        let short = "hunter2";
        let err = Password::parse(short).map(|_| ()).expect_err("too short");
        assert!(!err.to_string().contains(short));
        assert!(!format!("{err:?}").contains(short));
    }
}
