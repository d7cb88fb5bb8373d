//! Comparing documents across runs and backends: `normalize`, which makes a response
//! document snapshot-stable (port, UUIDs, contract timestamps, tokens and cursors), and the
//! contract timestamp format it relies on (`is_contract_timestamp`, `time`).

use std::collections::HashMap;

use serde_json::Value;

/// Replaces what differs between runs and backends, so that whole documents can be
/// snapshotted: the server's port, UUIDs (numbered by first appearance, so linkage stays
/// visible), timestamps in the contract's format (anything else is left to show), and
/// tokens and cursors.
pub fn normalize(value: &Value, port: u16) -> Value {
    let mut ids: HashMap<String, usize> = HashMap::new();
    normalize_inner(value, None, &format!("http://127.0.0.1:{port}"), &mut ids)
}

fn normalize_inner(
    value: &Value,
    key: Option<&str>,
    origin: &str,
    ids: &mut HashMap<String, usize>,
) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalize_inner(v, Some(k), origin, ids)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| normalize_inner(v, key, origin, ids))
                .collect(),
        ),
        Value::String(s) => {
            let key = key.unwrap_or("");
            if key.ends_with("_at") && is_contract_timestamp(s) {
                return Value::String("[timestamp]".into());
            }
            if key == "token" || key == "cursor" {
                return Value::String(format!("[{key}]"));
            }
            let s = s.replace(origin, "http://roster.test");
            let s = redact_cursor_params(&s);
            Value::String(replace_uuids(&s, ids))
        }
        other => other.clone(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: RFC 3339, UTC with `Z`, to the microsecond.
pub fn is_contract_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 27
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            26 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn redact_cursor_params(s: &str) -> String {
    let mut out = s.to_owned();
    for param in ["page[after]=", "page[before]="] {
        if let Some(start) = out.find(param) {
            let value_start = start + param.len();
            let end = out[value_start..]
                .find('&')
                .map_or(out.len(), |i| value_start + i);
            out.replace_range(value_start..end, "[cursor]");
        }
    }
    out
}

fn replace_uuids(s: &str, ids: &mut HashMap<String, usize>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        if rest.len() >= 36 && rest.is_char_boundary(36) && is_uuid(&rest[..36]) {
            let next = ids.len() + 1;
            let n = *ids.entry(rest[..36].to_ascii_lowercase()).or_insert(next);
            out.push_str(&format!("[uuid-{n}]"));
            rest = &rest[36..];
        } else {
            let c = rest.chars().next().expect("non-empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Parses a contract timestamp.
pub fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    assert!(is_contract_timestamp(s), "not RFC 3339 UTC to the µs: {s}");
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("timestamp")
        .with_timezone(&chrono::Utc)
}
