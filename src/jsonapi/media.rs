//! Content negotiation (JSON:API 1.1 §"Content Negotiation"): the media type, its only
//! allowed parameters `ext` and `profile`, and what `Accept` and `Content-Type` headers
//! mean for a request.

pub const JSONAPI_MEDIA_TYPE: &str = "application/vnd.api+json";
pub const ATOMIC_EXTENSION: &str = "https://jsonapi.org/ext/atomic";

/// The extension an endpoint speaks: only the Atomic Operations endpoint has one.
pub fn extension_of(path: &str) -> Option<&'static str> {
    path.ends_with("/operations").then_some(ATOMIC_EXTENSION)
}

/// One media range of a header, e.g. `application/vnd.api+json; profile="a b"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRange {
    /// `type/subtype`, lower-cased.
    pub essence: String,
    /// Parameters with lower-cased names and unquoted values.
    pub params: Vec<(String, String)>,
}

impl MediaRange {
    pub fn is_jsonapi(&self) -> bool {
        self.essence == JSONAPI_MEDIA_TYPE
    }

    /// Only `ext` and `profile` may qualify the JSON:API media type (`q` is an Accept
    /// weight, not a media-type parameter).
    pub fn has_foreign_params(&self) -> bool {
        self.params
            .iter()
            .any(|(name, _)| name != "ext" && name != "profile" && name != "q")
    }

    /// The space-separated URIs of a parameter (`ext` or `profile`).
    pub fn uris(&self, param: &str) -> Vec<&str> {
        self.params
            .iter()
            .filter(|(name, _)| name == param)
            .flat_map(|(_, value)| value.split_ascii_whitespace())
            .collect()
    }
}

/// Splits a header into media ranges, honouring quoted strings (a profile URI list is
/// quoted and may contain `;` or `,`).
pub fn parse_media_ranges(header: &str) -> Vec<MediaRange> {
    let mut ranges = Vec::new();
    for part in split_outside_quotes(header, ',') {
        let mut pieces = split_outside_quotes(&part, ';').into_iter();
        let essence = match pieces.next() {
            Some(e) if !e.trim().is_empty() => e.trim().to_ascii_lowercase(),
            _ => continue,
        };
        let params = pieces
            .filter_map(|p| {
                let (name, value) = p.split_once('=')?;
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value)
                    .replace("\\\"", "\"");
                Some((name.trim().to_ascii_lowercase(), value))
            })
            .collect();
        ranges.push(MediaRange { essence, params });
    }
    ranges
}

fn split_outside_quotes(text: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c == separator && !quoted => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts
}

/// What the `Accept` header allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// The response may be sent; `cursor_profile` tells whether a JSON:API range asked
    /// for the cursor-pagination profile.
    Acceptable { cursor_profile: bool },
    /// Every JSON:API range carries a parameter other than `ext`/`profile`, or asks
    /// for an extension this endpoint does not speak → 406.
    NotAcceptable,
}

/// Judges an `Accept` header. `supported_ext` is the extension the endpoint speaks, if any.
pub fn judge_accept(header: Option<&str>, supported_ext: Option<&str>) -> Acceptance {
    let Some(header) = header else {
        return Acceptance::Acceptable {
            cursor_profile: false,
        };
    };
    let ranges = parse_media_ranges(header);
    let jsonapi: Vec<&MediaRange> = ranges.iter().filter(|r| r.is_jsonapi()).collect();
    if jsonapi.is_empty() {
        return Acceptance::Acceptable {
            cursor_profile: false,
        };
    }
    let usable: Vec<&&MediaRange> = jsonapi
        .iter()
        .filter(|r| !r.has_foreign_params())
        .filter(|r| r.uris("ext").iter().all(|ext| Some(*ext) == supported_ext))
        .collect();
    if usable.is_empty() {
        // A client that also accepts `*/*` or `application/*` still gets JSON:API.
        let wildcard = ranges
            .iter()
            .any(|r| r.essence == "*/*" || r.essence == "application/*");
        if wildcard {
            return Acceptance::Acceptable {
                cursor_profile: false,
            };
        }
        return Acceptance::NotAcceptable;
    }
    let cursor_profile = usable
        .iter()
        .any(|r| r.uris("profile").contains(&super::query::CURSOR_PROFILE));
    Acceptance::Acceptable { cursor_profile }
}

/// Why a request body's `Content-Type` is refused, if it is.
pub fn judge_content_type(header: Option<&str>, supported_ext: Option<&str>) -> Result<(), String> {
    let Some(header) = header else {
        return Err(format!(
            "a request body must have `Content-Type: {JSONAPI_MEDIA_TYPE}`"
        ));
    };
    let ranges = parse_media_ranges(header);
    let [range] = ranges.as_slice() else {
        return Err(format!("`{header}` is not one media type"));
    };
    if !range.is_jsonapi() {
        return Err(format!(
            "`{}` is not supported; send `{JSONAPI_MEDIA_TYPE}`",
            range.essence
        ));
    }
    if range
        .params
        .iter()
        .any(|(name, _)| name != "ext" && name != "profile")
    {
        return Err(
            "the JSON:API media type allows only the `ext` and `profile` parameters".into(),
        );
    }
    let exts = range.uris("ext");
    if let Some(ext) = exts.iter().find(|e| Some(**e) != supported_ext) {
        return Err(format!(
            "the extension `{ext}` is not supported by this endpoint"
        ));
    }
    if let Some(required) = supported_ext
        && !exts.contains(&required)
    {
        return Err(format!(
            "this endpoint needs `Content-Type: {JSONAPI_MEDIA_TYPE}; ext=\"{required}\"`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_rules() {
        let ok = Acceptance::Acceptable {
            cursor_profile: false,
        };
        assert_eq!(judge_accept(None, None), ok);
        assert_eq!(judge_accept(Some("application/vnd.api+json"), None), ok);
        assert_eq!(judge_accept(Some("application/json"), None), ok);
        assert_eq!(
            judge_accept(Some("application/vnd.api+json; charset=utf-8"), None),
            Acceptance::NotAcceptable
        );
        assert_eq!(
            judge_accept(
                Some("application/vnd.api+json; charset=utf-8, application/vnd.api+json"),
                None
            ),
            ok
        );
        assert_eq!(
            judge_accept(
                Some("application/vnd.api+json; profile=\"https://example.com/x\""),
                None
            ),
            ok
        );
        assert_eq!(
            judge_accept(
                Some(
                    "application/vnd.api+json; profile=\"https://jsonapi.org/profiles/ethanresnick/cursor-pagination\""
                ),
                None
            ),
            Acceptance::Acceptable {
                cursor_profile: true
            }
        );
        assert_eq!(
            judge_accept(
                Some("application/vnd.api+json; ext=\"https://example.com/ext\""),
                None
            ),
            Acceptance::NotAcceptable
        );
        assert_eq!(
            judge_accept(Some("application/vnd.api+json; charset=utf-8, */*"), None),
            ok
        );
    }

    #[test]
    fn content_type_rules() {
        assert!(judge_content_type(Some("application/vnd.api+json"), None).is_ok());
        assert!(
            judge_content_type(Some("application/vnd.api+json; profile=\"x y\""), None).is_ok()
        );
        assert!(judge_content_type(Some("application/json"), None).is_err());
        assert!(judge_content_type(None, None).is_err());
        assert!(judge_content_type(Some("application/vnd.api+json; charset=utf-8"), None).is_err());
        assert!(
            judge_content_type(
                Some("application/vnd.api+json; ext=\"https://jsonapi.org/ext/atomic\""),
                None
            )
            .is_err()
        );
        assert!(
            judge_content_type(
                Some("application/vnd.api+json; ext=\"https://jsonapi.org/ext/atomic\""),
                Some(ATOMIC_EXTENSION)
            )
            .is_ok()
        );
        assert!(
            judge_content_type(Some("application/vnd.api+json"), Some(ATOMIC_EXTENSION)).is_err()
        );
    }
}
