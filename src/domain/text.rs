//! Free text typed by people: names, descriptions, and the caller's own user ids.

use super::DomainError;

string_newtype! {
    /// A person's or account's name: surrounding whitespace trimmed, then 1–200
    /// characters without control characters (a name is one line; a newline or an escape
    /// sequence in it would break every list and log line that shows it).
    Name
}

string_newtype! {
    /// A team's name: the same rules as [`Name`], a separate type so that a team name can
    /// never be passed where a person's name is expected.
    TeamName
}

string_newtype! {
    /// A free-text description: 0–2000 characters, kept exactly as given (indentation and
    /// line breaks are part of what the author wrote). Line breaks and tabs are allowed;
    /// other control characters are not.
    Description
}

string_newtype! {
    /// The caller's own id for a user (an employee number, an email, a UUID from another
    /// system): surrounding whitespace trimmed, then 1–255 characters, no control
    /// characters. Trimmed because it is matched exactly by filters, and a stray space
    /// pasted from a spreadsheet would make a second, unfindable identity.
    Identifier
}

impl Name {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        one_line(input, Self::MAX_CHARS).map(Self)
    }
}

impl TeamName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        one_line(input, Self::MAX_CHARS).map(Self)
    }
}

impl Identifier {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        one_line(input, Self::MAX_CHARS).map(Self)
    }
}

impl Description {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        if exceeds_chars(input, Self::MAX_CHARS) {
            return Err(DomainError::new(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if input
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(DomainError::new(
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        Ok(Self(input.to_owned()))
    }
}

/// The shared rule of names and identifiers: trimmed, 1..=max chars, no control chars.
fn one_line(input: &str, max: usize) -> Result<String, DomainError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(DomainError::new("must not be blank"));
    }
    if exceeds_chars(trimmed, max) {
        return Err(DomainError::new(format!("must be 1–{max} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::new("must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Whether `s` has more than `max` chars, without counting past `max + 1`: the input may
/// be a multi-megabyte attribute, and the answer is known long before its end.
pub(super) fn exceeds_chars(s: &str, max: usize) -> bool {
    // A char is at least one byte, so a short enough byte length settles it at once.
    s.len() > max && s.chars().nth(max).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(s: &str, n: usize) -> String {
        s.repeat(n)
    }

    #[test]
    fn exceeds_chars_counts_chars_not_bytes() {
        assert!(!exceeds_chars("", 0));
        assert!(exceeds_chars("a", 0));
        assert!(!exceeds_chars("ééé", 3));
        assert!(exceeds_chars("éééé", 3));
        assert!(!exceeds_chars(&rep("🦀", 200), 200));
        assert!(exceeds_chars(&rep("🦀", 201), 200));
    }

    #[test]
    fn name_boundaries_in_chars() {
        for unit in ["a", "é", "🦀", "名"] {
            assert!(Name::parse(&rep(unit, 1)).is_ok(), "1 × {unit}");
            assert!(Name::parse(&rep(unit, 200)).is_ok(), "200 × {unit}");
            assert_eq!(
                Name::parse(&rep(unit, 201)),
                Err(DomainError::new("must be 1–200 characters")),
                "201 × {unit}"
            );
        }
        assert_eq!(Name::parse(""), Err(DomainError::new("must not be blank")));
    }

    #[test]
    fn name_is_trimmed_before_counting() {
        let name = Name::parse("  Ada Lovelace \t\n").expect("valid");
        assert_eq!(name.as_str(), "Ada Lovelace");
        let padded = format!("   {}   ", rep("é", 200));
        assert_eq!(
            Name::parse(&padded)
                .expect("valid")
                .as_str()
                .chars()
                .count(),
            200
        );
        // Non-breaking and ideographic spaces are whitespace too.
        assert_eq!(
            Name::parse("\u{a0}Ada\u{3000}").expect("valid").as_str(),
            "Ada"
        );
    }

    #[test]
    fn name_rejects_blank_and_control_characters() {
        for blank in ["", " ", "\t\n ", "\u{a0}\u{2003}"] {
            assert_eq!(
                Name::parse(blank),
                Err(DomainError::new("must not be blank")),
                "{blank:?}"
            );
        }
        for bad in [
            "Ada\nLovelace",
            "Ada\0",
            "A\u{1b}[31mda",
            "Ada\u{7f}",
            "A\u{85}da",
            "A\tda",
        ] {
            assert_eq!(
                Name::parse(bad),
                Err(DomainError::new("must not contain control characters")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn name_keeps_inner_text_and_case() {
        let name = Name::parse("Jean-Luc  O'Brien-SSmith").expect("valid");
        assert_eq!(name.as_str(), "Jean-Luc  O'Brien-SSmith");
        assert_eq!(name.to_string(), "Jean-Luc  O'Brien-SSmith");
        assert_eq!(name.as_ref(), "Jean-Luc  O'Brien-SSmith");
        assert_eq!(name.clone().into_inner(), "Jean-Luc  O'Brien-SSmith");
        assert_eq!("x".parse::<Name>().expect("valid").as_str(), "x");
    }

    #[test]
    fn team_name_follows_name_rules() {
        assert_eq!(
            TeamName::parse(" Platform ").expect("valid").as_str(),
            "Platform"
        );
        assert!(TeamName::parse(&rep("ü", 200)).is_ok());
        assert_eq!(
            TeamName::parse(&rep("ü", 201)),
            Err(DomainError::new("must be 1–200 characters"))
        );
        assert!(TeamName::parse("  ").is_err());
        assert!(TeamName::parse("a\rb").is_err());
    }

    #[test]
    fn description_boundaries_and_whitespace() {
        assert_eq!(Description::parse("").expect("empty is fine").as_str(), "");
        assert!(Description::parse(&rep("🦀", 2000)).is_ok());
        assert_eq!(
            Description::parse(&rep("🦀", 2001)),
            Err(DomainError::new("must be at most 2000 characters"))
        );
        let text = "  Line one\r\n\tLine two  \n";
        assert_eq!(Description::parse(text).expect("valid").as_str(), text);
    }

    #[test]
    fn description_rejects_other_control_characters() {
        for bad in ["a\0b", "\u{1b}[2J", "bell\u{7}", "del\u{7f}", "c1\u{9b}"] {
            assert_eq!(
                Description::parse(bad),
                Err(DomainError::new(
                    "must not contain control characters other than line breaks and tabs"
                )),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn identifier_boundaries() {
        assert_eq!(
            Identifier::parse(" emp-0042 ").expect("valid").as_str(),
            "emp-0042"
        );
        assert!(Identifier::parse("x").is_ok());
        assert!(Identifier::parse(&rep("ß", 255)).is_ok());
        assert_eq!(
            Identifier::parse(&rep("ß", 256)),
            Err(DomainError::new("must be 1–255 characters"))
        );
        assert_eq!(
            Identifier::parse(" \t "),
            Err(DomainError::new("must not be blank"))
        );
        assert!(Identifier::parse("a\u{0}b").is_err());
        // Case and inner punctuation are the caller's business.
        assert_eq!(
            Identifier::parse("Ada@Example.COM")
                .expect("valid")
                .as_str(),
            "Ada@Example.COM"
        );
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let name = Name::parse("Ada").expect("valid");
        assert_eq!(serde_json::to_string(&name).expect("serializes"), "\"Ada\"");
        let d = Description::parse("a\nb").expect("valid");
        assert_eq!(serde_json::to_value(&d).expect("serializes"), "a\nb");
    }
}
