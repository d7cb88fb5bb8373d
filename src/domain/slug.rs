//! Account slugs.

use super::DomainError;

string_newtype! {
    /// An account's short name in URLs and at sign-in (`demo`, `acme-eu`):
    /// `[a-z0-9-]{3,63}`, not starting or ending with `-`.
    ///
    /// Not lower-cased or trimmed for the caller: a slug is an identifier the client
    /// will keep using, so the client should learn the exact form now rather than have
    /// the server silently store a different one.
    Slug
}

impl Slug {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 63;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let allowed = input
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        // Only ASCII got past `allowed`, so bytes are characters here.
        let fits = (Self::MIN_LEN..=Self::MAX_LEN).contains(&input.len());
        if allowed && fits && !input.starts_with('-') && !input.ends_with('-') {
            Ok(Self(input.to_owned()))
        } else {
            Err(DomainError::new(
                "must be 3–63 characters, only lower-case letters a–z, digits 0–9 and '-', \
                 and must not start or end with '-'",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_pattern() {
        for ok in [
            "abc",
            "demo",
            "acme-eu",
            "a-b",
            "123",
            "0-0",
            "a--b",
            "2024-team",
            &"a".repeat(63),
            &format!("a{}z", "-".repeat(61)),
        ] {
            assert_eq!(Slug::parse(ok).expect(ok).as_str(), ok);
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "a",
            "ab",
            "-ab",
            "ab-",
            "---",
            "-a-",
            "Demo",
            "DEMO",
            "de mo",
            " demo",
            "demo ",
            "demo\n",
            "de_mo",
            "de.mo",
            "de/mo",
            "dëmo",
            "démo",
            "ｄｅｍｏ",
            "demo🦀",
            &"a".repeat(64),
        ] {
            let err = Slug::parse(bad).expect_err(bad);
            assert!(err.0.contains("3–63"), "{bad:?}: {err}");
            assert!(err.0.contains("must not start or end with '-'"), "{err}");
        }
    }

    #[test]
    fn multibyte_cannot_sneak_past_the_length_check() {
        // 3 bytes but 1 char; 63 chars of which one is 2 bytes.
        assert!(Slug::parse("€").is_err());
        assert!(Slug::parse(&format!("{}é", "a".repeat(61))).is_err());
    }

    #[test]
    fn serializes_as_a_string() {
        let slug = Slug::parse("demo").expect("valid");
        assert_eq!(
            serde_json::to_string(&slug).expect("serializes"),
            "\"demo\""
        );
    }
}
