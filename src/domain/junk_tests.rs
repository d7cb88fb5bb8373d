//! Every parser against a few thousand junk inputs: none may panic, and whatever one
//! accepts it must accept again unchanged (its output is already in canonical form).

use serde_json::{Map, Value, json};

use super::*;

/// xorshift64*: deterministic, so a failure reproduces; no dependency for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        // `n` is small, so the modulo bias does not matter for fuzzing.
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.below(max_len + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Strings made of the characters the parsers care about, so that some of them are
    /// accepted and the interesting boundaries are hit, not only the first check.
    fn tricky(&mut self, max_len: usize) -> String {
        const PIECES: &[&str] = &[
            "a",
            "z",
            "0",
            "9",
            "-",
            "_",
            ".",
            "..",
            "/",
            "\\",
            "@",
            "[",
            "]",
            ":",
            " ",
            "\t",
            "\n",
            "\r",
            "\0",
            "\u{7f}",
            "\u{85}",
            "\u{a0}",
            "é",
            "ß",
            "🦀",
            "名",
            "A",
            "Z",
            "example.com",
            "Europe/Berlin",
            "UTC",
            "owner",
            "member",
            "ios",
            "{",
            "}",
            "\"",
            "\u{200b}",
            "\u{feff}",
            "\u{202e}",
            "\u{fffd}",
            "x",
            "+",
            "%",
        ];
        let len = self.below(max_len + 1);
        (0..len).map(|_| PIECES[self.below(PIECES.len())]).collect()
    }

    fn value(&mut self, depth: usize) -> Value {
        match self.below(if depth == 0 { 4 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(self.next().is_multiple_of(2)),
            2 => json!(self.next() as i64),
            3 => Value::String(self.tricky(20)),
            4 | 5 => {
                let n = self.below(6);
                Value::Object(
                    (0..n)
                        .map(|_| (self.tricky(8), self.value(depth - 1)))
                        .collect::<Map<_, _>>(),
                )
            }
            _ => Value::Array((0..self.below(6)).map(|_| self.value(depth - 1)).collect()),
        }
    }
}

/// Parses with `parse`, and if accepted, checks that parsing the result again is a no-op.
macro_rules! check {
    ($ty:ty, $input:expr) => {{
        let input: &str = $input;
        if let Ok(parsed) = <$ty>::parse(input) {
            assert_eq!(
                <$ty>::parse(parsed.as_str()).as_ref(),
                Ok(&parsed),
                "{input:?}"
            );
            assert_eq!(parsed.to_string(), parsed.as_str());
        }
    }};
}

fn every_parser(input: &str) {
    check!(Name, input);
    check!(TeamName, input);
    check!(Description, input);
    check!(Email, input);
    check!(Identifier, input);
    check!(Slug, input);
    check!(Avatar, input);
    check!(Timezone, input);
    check!(AccountRole, input);
    check!(TeamRole, input);
    check!(UserStatus, input);
    check!(DeviceType, input);
    check!(DeviceSubType, input);
    if let Ok(pw) = Password::parse(input) {
        assert_eq!(pw.expose(), input);
        assert_eq!(format!("{pw:?}{pw}"), "Password(***)***");
    }
    // Strings are never preferences, and JSON text is parsed under the same rules.
    assert!(Preferences::parse(&Value::String(input.to_owned())).is_err());
    if let Ok(prefs) = Preferences::from_json_str(input) {
        assert_eq!(Preferences::parse(&prefs.to_value()), Ok(prefs));
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..4000 {
        let bytes = rng.bytes(300);
        every_parser(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn tricky_strings_never_panic() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..8000 {
        let input = rng.tricky(40);
        every_parser(&input);
        every_parser(&format!("{input}@example.com"));
        every_parser(&format!("user@{input}"));
    }
}

#[test]
fn random_json_never_panics() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for _ in 0..3000 {
        let value = rng.value(5);
        match Preferences::parse(&value) {
            Ok(prefs) => {
                assert!(value.is_object());
                assert!(prefs.as_str().len() <= Preferences::MAX_BYTES);
                assert_eq!(prefs.to_value(), value);
            }
            Err(_) => assert!(!value.is_object()),
        }
        // Its text form, and broken prefixes of it, through the text entry point.
        let text = value.to_string();
        every_parser(&text);
        let cut = rng.below(text.len() + 1);
        if let Some(prefix) = text.get(..cut) {
            every_parser(prefix);
        }
    }
}

#[test]
fn long_inputs_are_rejected_not_choked_on() {
    for unit in ["a", "é", "🦀", "\0", " ", "/", "-"] {
        every_parser(&unit.repeat(100_000));
    }
}
