//! JSON:API error objects and the one place where an error becomes an HTTP response.
//!
//! Every failure a handler can produce is an [`ApiError`]: a list of error objects that
//! share one HTTP status (a 422 can carry one object per invalid attribute). The codes
//! are the protocol-level codes of SPEC §2; nothing here knows about users or teams.
//! The conversion to an HTTP response lives in `http.rs`, next to content negotiation.

use serde::Serialize;
use serde_json::Value;

/// Where in the request an error comes from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorSource {
    /// A JSON Pointer into the request document, e.g. `/data/attributes/email`.
    Pointer(String),
    /// A query parameter, e.g. `include` or `page[size]`.
    Parameter(String),
    /// A request header, e.g. `Content-Type`.
    Header(String),
}

/// The `links` member of an error object.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorLinks {
    /// A link that identifies the type of the error (used by profiles).
    #[serde(rename = "type")]
    pub kind: String,
}

/// One JSON:API error object.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorObject {
    #[serde(serialize_with = "status_as_string")]
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "source_as_object"
    )]
    pub source: Option<ErrorSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<ErrorLinks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

fn status_as_string<S: serde::Serializer>(status: &u16, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(status)
}

fn source_as_object<S: serde::Serializer>(
    source: &Option<ErrorSource>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(1))?;
    match source {
        Some(ErrorSource::Pointer(p)) => map.serialize_entry("pointer", p)?,
        Some(ErrorSource::Parameter(p)) => map.serialize_entry("parameter", p)?,
        Some(ErrorSource::Header(h)) => map.serialize_entry("header", h)?,
        None => {}
    }
    map.end()
}

/// The error codes of SPEC §2, with their status and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidJson,
    InvalidDocument,
    InvalidParameter,
    Unauthorized,
    InvalidCredentials,
    Forbidden,
    UserInactive,
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    UnsupportedMediaType,
    Conflict,
    Taken,
    LastOwner,
    InvalidTransition,
    PayloadTooLarge,
    ValidationFailed,
    TooManyRequests,
    ServiceUnavailable,
    Timeout,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidJson | InvalidDocument | InvalidParameter => 400,
            Unauthorized | InvalidCredentials => 401,
            Forbidden | UserInactive => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            NotAcceptable => 406,
            Conflict | Taken | LastOwner | InvalidTransition => 409,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            ValidationFailed => 422,
            TooManyRequests => 429,
            Internal => 500,
            ServiceUnavailable | Timeout => 503,
        }
    }

    pub fn code(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidJson => "invalid_json",
            InvalidDocument => "invalid_document",
            InvalidParameter => "invalid_parameter",
            Unauthorized => "unauthorized",
            InvalidCredentials => "invalid_credentials",
            Forbidden => "forbidden",
            UserInactive => "user_inactive",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            NotAcceptable => "not_acceptable",
            UnsupportedMediaType => "unsupported_media_type",
            Conflict => "conflict",
            Taken => "taken",
            LastOwner => "last_owner",
            InvalidTransition => "invalid_transition",
            PayloadTooLarge => "payload_too_large",
            ValidationFailed => "validation_failed",
            TooManyRequests => "too_many_requests",
            ServiceUnavailable => "service_unavailable",
            Timeout => "timeout",
            Internal => "internal",
        }
    }

    pub fn title(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidJson => "Invalid JSON",
            InvalidDocument => "Invalid document",
            InvalidParameter => "Invalid query parameter",
            Unauthorized => "Unauthorized",
            InvalidCredentials => "Invalid credentials",
            Forbidden => "Forbidden",
            UserInactive => "User inactive",
            NotFound => "Not found",
            MethodNotAllowed => "Method not allowed",
            NotAcceptable => "Not acceptable",
            UnsupportedMediaType => "Unsupported media type",
            Conflict => "Conflict",
            Taken => "Already taken",
            LastOwner => "Last owner",
            InvalidTransition => "Invalid transition",
            PayloadTooLarge => "Payload too large",
            ValidationFailed => "Validation failed",
            TooManyRequests => "Too many requests",
            ServiceUnavailable => "Service unavailable",
            Timeout => "Timeout",
            Internal => "Internal server error",
        }
    }
}

/// A failed request: one or more error objects with one status, and extra headers
/// (`WWW-Authenticate`, `Retry-After`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub errors: Vec<ErrorObject>,
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// An error with one error object.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            status: code.status(),
            errors: vec![ErrorObject {
                status: code.status(),
                code: code.code(),
                title: code.title(),
                detail: detail.into(),
                source: None,
                links: None,
                meta: None,
            }],
            headers: Vec::new(),
        }
    }

    pub fn with_source(mut self, source: ErrorSource) -> Self {
        if let Some(first) = self.errors.first_mut() {
            first.source = Some(source);
        }
        self
    }

    pub fn with_meta(mut self, meta: Value) -> Self {
        if let Some(first) = self.errors.first_mut() {
            first.meta = Some(meta);
        }
        self
    }

    pub fn with_type_link(mut self, link: impl Into<String>) -> Self {
        if let Some(first) = self.errors.first_mut() {
            first.links = Some(ErrorLinks { kind: link.into() });
        }
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Joins the error objects of two errors of the same status (e.g. two invalid
    /// attributes give one 422 with two objects).
    pub fn merge(mut self, other: ApiError) -> Self {
        self.errors.extend(other.errors);
        self.headers.extend(other.headers);
        self
    }

    /// The same error for operation `index` of an Atomic Operations request: every
    /// pointer into a single request's document (`/data/attributes/email`, `/meta/role`,
    /// or the document itself) is rebased onto that operation
    /// (`/atomic:operations/3/data/attributes/email`), and an error without a source
    /// points at the operation.
    pub fn at_operation(mut self, index: usize) -> Self {
        let prefix = format!("/atomic:operations/{index}");
        for object in &mut self.errors {
            match &mut object.source {
                Some(ErrorSource::Pointer(pointer)) => *pointer = format!("{prefix}{pointer}"),
                Some(_) => {}
                None => object.source = Some(ErrorSource::Pointer(prefix.clone())),
            }
        }
        self
    }

    pub fn code(&self) -> &'static str {
        self.errors.first().map(|e| e.code).unwrap_or("internal")
    }

    // Shorthands for the errors every handler needs.

    pub fn invalid_parameter(parameter: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameter, detail)
            .with_source(ErrorSource::Parameter(parameter.into()))
    }

    pub fn invalid_document(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidDocument, detail)
            .with_source(ErrorSource::Pointer(pointer.into()))
    }

    pub fn validation(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, detail)
            .with_source(ErrorSource::Pointer(pointer.into()))
    }

    pub fn taken(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Taken, detail).with_source(ErrorSource::Pointer(pointer.into()))
    }

    pub fn conflict(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, detail).with_source(ErrorSource::Pointer(pointer.into()))
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "The resource does not exist.")
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, detail).with_header("WWW-Authenticate", "Bearer")
    }

    /// A failure whose cause must not reach the client: the cause is logged, the client
    /// gets a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        log::error!("internal error: {cause}");
        Self::new(
            ErrorCode::Internal,
            "The server failed to answer this request; the failure has been logged.",
        )
    }

    /// The JSON:API error document, `jsonapi` member first.
    pub fn to_document(&self) -> String {
        #[derive(Serialize)]
        struct Version {
            version: &'static str,
        }
        #[derive(Serialize)]
        struct Document<'a> {
            jsonapi: Version,
            errors: &'a [ErrorObject],
        }
        serde_json::to_string(&Document {
            jsonapi: Version { version: "1.1" },
            errors: &self.errors,
        })
        .unwrap_or_else(|_| String::from(r#"{"errors":[{"status":"500","code":"internal"}]}"#))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.errors.first() {
            Some(e) => write!(f, "{} {}: {}", self.status, e.code, e.detail),
            None => write!(f, "{}", self.status),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

// ---------------------------------------------------------------------------------
// Database errors at the HTTP edge

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(e) => ApiError::from(e),
            other => ApiError::internal(other),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => ApiError::not_found(),
            other if crate::db::timeout::is_timeout(&other) => ApiError::new(
                ErrorCode::Timeout,
                "The request's database work ran past ROSTER_STATEMENT_TIMEOUT and was cancelled.",
            )
            .with_header("Retry-After", "5"),
            other => ApiError::internal(other),
        }
    }
}

/// Maps a unique violation (a concurrent write that slipped past the checks) to 409:
/// `taken` at the pointer of the first `(fragment, pointer, detail)` the violated index
/// or columns mention, else `conflict` on the id. Other errors pass through.
pub fn map_unique(e: diesel::result::Error, rules: &[(&str, &str, &str)]) -> ApiError {
    let Some(violated) = crate::db::unique_violation(&e) else {
        return ApiError::from(e);
    };
    for (fragment, pointer, detail) in rules {
        if violated.contains(fragment) {
            return ApiError::taken(*pointer, *detail);
        }
    }
    ApiError::conflict("/data/id", "A resource with this id already exists.")
}
