//! A user's free-form preferences object.

use std::fmt;
use std::io;

use serde_json::{Map, Value};

use super::DomainError;

/// A user's preferences: any JSON object whose compact serialization is at most 16 KiB
/// (16384 bytes) and which nests at most 64 levels deep.
///
/// Holds the compact serialization, which is what the database stores and what the size
/// limit is measured on, so that the limit means the same thing on every path.
///
/// The depth limit is not about taste: serde_json refuses to read JSON nested 128 levels
/// or deeper, so a deeper object could be written and then never read back, and walking
/// it recursively could overflow the stack. 64 leaves room for the object to sit inside a
/// request document and is far more than any settings object needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Preferences(String);

impl Preferences {
    pub const MAX_BYTES: usize = 16 * 1024;
    pub const MAX_DEPTH: usize = 64;

    pub fn parse(value: &Value) -> Result<Self, DomainError> {
        if !value.is_object() {
            return Err(DomainError::new("must be a JSON object"));
        }
        if exceeds_depth(value, Self::MAX_DEPTH) {
            return Err(DomainError::new(format!(
                "must not be nested more than {} levels deep",
                Self::MAX_DEPTH
            )));
        }
        // Written into a capped buffer: a huge value fails at 16 KiB instead of first
        // being copied whole into a string only to be thrown away.
        let mut out = Capped(Vec::new());
        if serde_json::to_writer(&mut out, value).is_err() {
            return Err(DomainError::new(format!(
                "must be at most {} bytes (16 KiB) as compact JSON",
                Self::MAX_BYTES
            )));
        }
        // serde_json writes UTF-8; the fallback cannot be reached but costs no panic.
        String::from_utf8(out.0)
            .map(Self)
            .map_err(|_| DomainError::new("must be a JSON object"))
    }

    /// Parses stored JSON text (a database column) under the same rules.
    pub fn from_json_str(text: &str) -> Result<Self, DomainError> {
        let value: Value =
            serde_json::from_str(text).map_err(|_| DomainError::new("must be a JSON object"))?;
        Self::parse(&value)
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// The object as a JSON value.
    pub fn to_value(&self) -> Value {
        // `parse` wrote this text from an object within serde_json's own depth limit, so
        // reading it back cannot fail; the empty object only keeps this total.
        serde_json::from_str(&self.0).unwrap_or_else(|_| Value::Object(Map::new()))
    }
}

impl Default for Preferences {
    fn default() -> Self {
        Self("{}".to_owned())
    }
}

impl AsRef<str> for Preferences {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Preferences {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Serializes as the JSON *object*, not as a string holding JSON text: the API shows
/// `"preferences": {"theme": "dark"}`, never `"preferences": "{\"theme\":\"dark\"}"`.
impl serde::Serialize for Preferences {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// Whether any array or object in `value` sits more than `max` levels deep (the outermost
/// container is level 1). Iterative, so that a hostile depth cannot overflow the stack.
fn exceeds_depth(value: &Value, max: usize) -> bool {
    let mut stack = vec![(value, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        match value {
            Value::Array(_) | Value::Object(_) if depth > max => return true,
            Value::Array(items) => stack.extend(items.iter().map(|item| (item, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|item| (item, depth + 1))),
            _ => {}
        }
    }
    false
}

/// A writer that fails once more than [`Preferences::MAX_BYTES`] would be written.
struct Capped(Vec<u8>);

impl io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.len() + buf.len() > Preferences::MAX_BYTES {
            return Err(io::Error::other("preferences too large"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TOO_LARGE: &str = "must be at most 16384 bytes (16 KiB) as compact JSON";

    /// `{"k":"xxx…"}` of exactly `total` bytes when serialized compactly.
    fn object_of_size(total: usize, unit: &str) -> Value {
        let overhead = r#"{"k":""}"#.len();
        let n = (total - overhead) / unit.len();
        let value = json!({ "k": unit.repeat(n) });
        assert_eq!(
            serde_json::to_string(&value).expect("serializes").len(),
            total,
            "test helper needs a total that {unit:?} divides"
        );
        value
    }

    #[test]
    fn accepts_objects() {
        let value = json!({"theme": "dark", "nested": {"list": [1, 2.5, null, true]}});
        let prefs = Preferences::parse(&value).expect("valid");
        assert_eq!(prefs.to_value(), value);
        assert_eq!(
            prefs.as_str(),
            r#"{"nested":{"list":[1,2.5,null,true]},"theme":"dark"}"#
        );
        assert_eq!(
            Preferences::parse(&json!({})).expect("valid").as_str(),
            "{}"
        );
    }

    #[test]
    fn rejects_everything_but_an_object() {
        for bad in [
            json!(null),
            json!([]),
            json!([{}]),
            json!("{}"),
            json!(1),
            json!(true),
        ] {
            assert_eq!(
                Preferences::parse(&bad),
                Err(DomainError::new("must be a JSON object")),
                "{bad}"
            );
        }
    }

    #[test]
    fn size_boundary_is_16_kib_of_compact_json() {
        assert!(Preferences::parse(&object_of_size(16384, "x")).is_ok());
        assert_eq!(
            Preferences::parse(&object_of_size(16385, "x")),
            Err(DomainError::new(TOO_LARGE))
        );
        // Bytes, not characters: 2-byte characters fill it twice as fast.
        let pound = object_of_size(16384, "£");
        assert!(Preferences::parse(&pound).is_ok());
        assert!(Preferences::parse(&object_of_size(16386, "£")).is_err());
        // Escapes count as written: each control character is six bytes (\u0001).
        let escaped = json!({ "k": "\u{1}".repeat(2731) });
        assert!(Preferences::parse(&escaped).is_err());
        assert!(Preferences::parse(&json!({ "k": "\u{1}".repeat(2729) })).is_ok());
    }

    #[test]
    fn pretty_input_is_measured_compactly() {
        let value = object_of_size(16384, "x");
        let pretty = serde_json::to_string_pretty(&value).expect("serializes");
        assert!(pretty.len() > 16384);
        assert!(Preferences::from_json_str(&pretty).is_ok());
    }

    #[test]
    fn rejects_a_huge_object_without_panicking() {
        let many: Map<String, Value> = (0..100_000)
            .map(|i| (format!("key{i}"), json!(i)))
            .collect();
        assert_eq!(
            Preferences::parse(&Value::Object(many)),
            Err(DomainError::new(TOO_LARGE))
        );
    }

    /// `{"a":{"a":…{}}}`, `levels` objects deep.
    fn nested_objects(levels: usize) -> Value {
        let mut value = json!({});
        for _ in 1..levels {
            value = json!({ "a": value });
        }
        value
    }

    /// `{"a":[[…[]]]}`, `levels` containers deep.
    fn nested_arrays(levels: usize) -> Value {
        let mut value = json!([]);
        for _ in 2..levels {
            value = json!([value]);
        }
        json!({ "a": value })
    }

    fn depth_of(value: &Value) -> usize {
        let text = serde_json::to_string(value).expect("serializes");
        text.matches(['{', '[']).count()
    }

    #[test]
    fn depth_boundary() {
        for build in [nested_objects, nested_arrays] {
            let at_limit = build(64);
            assert_eq!(depth_of(&at_limit), 64);
            let prefs = Preferences::parse(&at_limit).expect("64 levels is fine");
            assert_eq!(prefs.to_value(), at_limit);
            assert_eq!(Preferences::from_json_str(prefs.as_str()), Ok(prefs));

            let over = build(65);
            assert_eq!(depth_of(&over), 65);
            assert_eq!(
                Preferences::parse(&over),
                Err(DomainError::new(
                    "must not be nested more than 64 levels deep"
                ))
            );
        }
        // Scalars inside the deepest container do not add a level.
        let mut value = json!({ "leaf": 1 });
        for _ in 1..64 {
            value = json!({ "a": value });
        }
        assert_eq!(depth_of(&value), 64);
        assert!(Preferences::parse(&value).is_ok());
    }

    #[test]
    fn a_hostile_depth_is_refused_without_recursing() {
        // Deeper than serde_json would ever parse; built by hand (not with `json!`,
        // which copies its arguments through a recursive serializer).
        let mut value = json!({});
        for _ in 0..10_000 {
            value = Value::Object(Map::from_iter([("a".to_owned(), value)]));
        }
        assert!(Preferences::parse(&value).is_err());
        // Dropping a Value recurses; take it apart iteratively so the test itself
        // does not overflow its stack.
        while let Value::Object(mut map) = value {
            value = map.remove("a").unwrap_or(Value::Null);
        }
    }

    #[test]
    fn from_json_str_applies_the_same_rules() {
        assert_eq!(
            Preferences::from_json_str(r#"{ "theme" : "dark" }"#)
                .expect("valid")
                .as_str(),
            r#"{"theme":"dark"}"#
        );
        for bad in ["", "[]", "null", "{", "{\"a\":1} x", "\"{}\""] {
            assert_eq!(
                Preferences::from_json_str(bad),
                Err(DomainError::new("must be a JSON object")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn default_is_the_empty_object() {
        assert_eq!(Preferences::default().as_str(), "{}");
        assert_eq!(Preferences::default().to_value(), json!({}));
    }

    #[test]
    fn serializes_as_an_object() {
        let prefs = Preferences::parse(&json!({"theme": "dark"})).expect("valid");
        assert_eq!(
            serde_json::to_value(&prefs).expect("serializes"),
            json!({"theme": "dark"})
        );
        assert_eq!(prefs.to_string(), r#"{"theme":"dark"}"#);
        assert_eq!(prefs.clone().into_inner(), r#"{"theme":"dark"}"#);
    }
}
