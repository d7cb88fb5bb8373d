//! Avatar file names.

use super::DomainError;

string_newtype! {
    /// The file name of a user's avatar, e.g. `avatar.png` — a name, never a path.
    ///
    /// Whoever serves or stores the file will join this name onto a directory, so
    /// everything that could climb out of that directory or be read as a separator on
    /// some platform is refused: `/`, `\`, `..` anywhere, `.` alone. Control characters
    /// (NUL truncates C strings; others corrupt logs and terminals) are refused too. At
    /// most 255 characters *and* 255 bytes, the file-name limit of common file systems.
    /// Kept exactly as given: a file name is not free text.
    Avatar
}

impl Avatar {
    pub const MAX_BYTES: usize = 255;

    /// A regular expression (ECMA-262) that only names [`Avatar::parse`] accepts:
    /// no control characters, `/` or `\\`, no `..`, not blank, not `.`. (Stricter at
    /// the edges: the last dot-separated part must have a character other than white
    /// space.) Combined with at most 63 characters it also keeps within 255 bytes.
    pub const PATTERN: &'static str = r"^\.?(?:[^./\\\u0000-\u001F\u007F-\u009F]+\.)*[^./\\\u0000-\u001F\u007F-\u009F]*[^\s./\\\u0000-\u001F\u007F-\u009F][^./\\\u0000-\u001F\u007F-\u009F]*$";

    pub fn parse(input: &str) -> Result<Self, DomainError> {
        if input.is_empty() {
            return Err(DomainError::new("must not be empty"));
        }
        // 255 bytes is never more than 255 chars, so the byte limit covers both.
        if input.len() > Self::MAX_BYTES {
            return Err(DomainError::new(
                "must be at most 255 characters and 255 bytes (UTF-8)",
            ));
        }
        if input.chars().any(char::is_control) {
            return Err(DomainError::new("must not contain control characters"));
        }
        if input.contains(['/', '\\']) {
            return Err(DomainError::new(
                "must be a file name without directory parts (no '/' or '\\')",
            ));
        }
        if input.contains("..") {
            return Err(DomainError::new("must not contain '..'"));
        }
        if input == "." {
            return Err(DomainError::new("must not be '.'"));
        }
        if input.trim().is_empty() {
            return Err(DomainError::new("must not be only whitespace"));
        }
        Ok(Self(input.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(input: &str) -> String {
        Avatar::parse(input).expect_err(input).0
    }

    #[test]
    fn accepts_file_names() {
        for ok in [
            "avatar.png",
            "a",
            ".hidden",
            "photo.2024.jpg",
            "my avatar (1).JPG",
            "ünïcödé-🦀.webp",
            "a.",
            " padded.png ",
        ] {
            assert_eq!(Avatar::parse(ok).expect(ok).as_str(), ok);
        }
    }

    #[test]
    fn length_is_limited_in_chars_and_bytes() {
        assert_eq!(detail(""), "must not be empty");
        assert!(Avatar::parse(&"a".repeat(255)).is_ok());
        assert_eq!(
            detail(&"a".repeat(256)),
            "must be at most 255 characters and 255 bytes (UTF-8)"
        );
        // 127 × 2 bytes + 1 = 255 bytes: fine. 128 × 2 = 256 bytes in only 128 chars: not.
        assert!(Avatar::parse(&format!("{}a", "é".repeat(127))).is_ok());
        assert!(detail(&"é".repeat(128)).starts_with("must be at most 255"));
        assert!(Avatar::parse(&format!("{}abc", "🦀".repeat(63))).is_ok());
        assert!(detail(&"🦀".repeat(64)).starts_with("must be at most 255"));
    }

    #[test]
    fn rejects_directory_parts() {
        for bad in [
            "a/b.png",
            "/avatar.png",
            "avatar.png/",
            "a\\b.png",
            "C:\\x.png",
            "\\\\srv\\x",
        ] {
            assert_eq!(
                detail(bad),
                "must be a file name without directory parts (no '/' or '\\')",
                "{bad:?}"
            );
        }
        // `/` wins over `..` in the detail, but both are refused.
        assert!(Avatar::parse("../etc/passwd").is_err());
    }

    #[test]
    fn rejects_dot_dot_anywhere() {
        for bad in ["..", "...", "..png", "avatar..png", "avatar.png..", " .. "] {
            assert_eq!(detail(bad), "must not contain '..'", "{bad:?}");
        }
    }

    #[test]
    fn rejects_a_lone_dot() {
        assert_eq!(detail("."), "must not be '.'");
        // Not alone: fine.
        assert!(Avatar::parse(". ").is_ok());
    }

    #[test]
    fn rejects_control_characters() {
        for bad in [
            "avatar.png\0",
            "\0",
            "a\nb.png",
            "a\rb",
            "a\tb.png",
            "a\u{1b}b",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{9f}b",
        ] {
            assert_eq!(
                detail(bad),
                "must not contain control characters",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rejects_only_whitespace() {
        for bad in [" ", "   ", "\u{a0}", "\u{3000}\u{2003}"] {
            assert_eq!(detail(bad), "must not be only whitespace", "{bad:?}");
        }
    }

    #[test]
    fn serializes_as_a_string() {
        let a = Avatar::parse("avatar.png").expect("valid");
        assert_eq!(
            serde_json::to_string(&a).expect("serializes"),
            "\"avatar.png\""
        );
    }
}
