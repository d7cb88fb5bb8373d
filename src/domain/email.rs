//! Email addresses.

use validator::ValidateEmail;

use super::DomainError;
use super::text::exceeds_chars;

string_newtype! {
    /// An email address in the HTML5 form-field sense (what `validator` accepts), trimmed
    /// and at most 254 characters (the longest address SMTP can carry, RFC 5321).
    ///
    /// The case is kept as given — it is what the user typed and what mail is sent to.
    /// Uniqueness and sign-in compare case-insensitively; see [`Email::normalized`].
    Email
}

const INVALID: &str = "must be a valid email address";

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        // Before the syntax check: there is no point running regexes over megabytes.
        if exceeds_chars(trimmed, Self::MAX_CHARS) {
            return Err(DomainError::new(format!(
                "must be a valid email address of at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if !trimmed.validate_email() || !closes_gaps_in_validator(trimmed) {
            return Err(DomainError::new(INVALID));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The address in lower case, the form in which two addresses are "the same"
    /// (uniqueness per account, sign-in, the sign-in throttle key).
    ///
    /// Full Unicode lower-casing: the local part is ASCII anyway (`validator` allows
    /// nothing else there), so this only differs from ASCII lower-casing in an
    /// internationalised domain name.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// `validator` 0.20 checks an address-literal domain with a regex anchored only at its
/// end, so it accepts `a@anything here[127.0.0.1]`, spaces and control characters
/// included. An address containing whitespace or control characters is never
/// deliverable, and a literal must be the whole domain.
fn closes_gaps_in_validator(address: &str) -> bool {
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match address.rsplit_once('@') {
        Some((_, domain)) => !domain.contains('[') || domain.starts_with('['),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "ada@example.com",
            "ada.lovelace+roster@mail.example.co.uk",
            "first_last-1@sub-domain.example.org",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            "ada@localhost",
            "ada@[127.0.0.1]",
            "ada@[2001:db8::1]",
            "ada@bücher.example",
            "a@b.c",
        ] {
            let email = Email::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(email.as_str(), ok);
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@@example.com",
            "ada@example..com",
            "ada@-example.com",
            "ada@example.com-",
            "ada lovelace@example.com",
            "ada@exa mple.com",
            "\"ada\"@example.com",
            "ada@example.com\0",
            "ada\n@example.com",
            "ada@garbage[127.0.0.1]",
            "ada@ x[127.0.0.1]",
            "ada@\n[127.0.0.1]",
            "ada@[999.0.0.1]",
            "adä@example.com",
        ] {
            assert_eq!(
                Email::parse(bad),
                Err(DomainError::new(INVALID)),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn trims_and_keeps_case() {
        let email = Email::parse("  Ada.Lovelace@Example.COM\n").expect("valid");
        assert_eq!(email.as_str(), "Ada.Lovelace@Example.COM");
        assert_eq!(email.normalized(), "ada.lovelace@example.com");
        assert_eq!(
            Email::parse("ADA@BÜCHER.EXAMPLE")
                .expect("valid")
                .normalized(),
            "ada@bücher.example"
        );
    }

    #[test]
    fn length_boundary_is_254_characters() {
        // A 64-character local part (the most validator allows) and labels of ≤ 63.
        let local = "a".repeat(64);
        let domain_for = |total: usize| {
            let last = total - local.len() - 1 - (63 + 1) * 2;
            format!("{}.{}.{}", "b".repeat(63), "c".repeat(63), "d".repeat(last))
        };
        let at_limit = format!("{local}@{}", domain_for(254));
        assert_eq!(at_limit.chars().count(), 254);
        assert!(Email::parse(&at_limit).is_ok());

        let over = format!("{local}@{}", domain_for(255));
        assert_eq!(over.chars().count(), 255);
        assert_eq!(
            Email::parse(&over),
            Err(DomainError::new(
                "must be a valid email address of at most 254 characters"
            ))
        );
        // Surrounding whitespace does not count.
        assert!(Email::parse(&format!("  {at_limit}  ")).is_ok());
    }

    #[test]
    fn rejects_huge_input_quickly() {
        let huge = format!("{}@example.com", "a".repeat(5_000_000));
        assert!(Email::parse(&huge).is_err());
    }

    #[test]
    fn serializes_as_given() {
        let email = Email::parse("Ada@Example.com").expect("valid");
        assert_eq!(
            serde_json::to_string(&email).expect("serializes"),
            "\"Ada@Example.com\""
        );
        assert_eq!(email.to_string(), "Ada@Example.com");
    }
}
