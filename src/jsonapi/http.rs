//! JSON:API over actix-web: the request context every handler gets, the middleware that
//! does content negotiation and writes `Server-Timing`, the request-body extractor
//! (415 / 413 / 400), and the conversion of [`ApiError`] into a response.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use serde_json::Value;

use super::error::{ApiError, ErrorCode, ErrorSource};
use super::media::{self, Acceptance, JSONAPI_MEDIA_TYPE};
use crate::db::DbUsage;

/// Largest request body accepted (SPEC §2: over 1 MiB → 413).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Per-request state shared by the middleware and the handler.
#[derive(Debug)]
pub struct RequestContext {
    pub db: RefCell<DbUsage>,
    /// The `Accept` header asked for the cursor-pagination profile.
    pub cursor_profile: bool,
}

/// The request context, as an extractor.
#[derive(Debug, Clone)]
pub struct Ctx(pub Rc<RequestContext>);

impl std::ops::Deref for Ctx {
    type Target = RequestContext;
    fn deref(&self) -> &RequestContext {
        &self.0
    }
}

impl FromRequest for Ctx {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Ctx, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Ctx(request_context(req))))
    }
}

/// The context the middleware stored; a fresh one if the route is outside it.
pub fn request_context(req: &HttpRequest) -> Rc<RequestContext> {
    if let Some(ctx) = req.extensions().get::<Rc<RequestContext>>() {
        return ctx.clone();
    }
    let ctx = Rc::new(RequestContext {
        db: RefCell::default(),
        cursor_profile: false,
    });
    req.extensions_mut().insert(ctx.clone());
    ctx
}

/// The middleware around every route: rejects an unacceptable `Accept` (406), gives
/// every error a JSON:API body (actix's own 404/405/400 included), sets the JSON:API
/// `Content-Type`, and writes `Server-Timing` with the statement count of the request.
pub async fn jsonapi_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let supported_ext = media::extension_of(req.path());
    let acceptance = media::judge_accept(accept, supported_ext);
    let cursor_profile = matches!(
        acceptance,
        Acceptance::Acceptable {
            cursor_profile: true
        }
    );
    let ctx = Rc::new(RequestContext {
        db: RefCell::default(),
        cursor_profile,
    });
    req.extensions_mut().insert(ctx.clone());

    let unknown_parameter = super::query::unknown_parameter(req.query_string());
    let mut response = if let Some(error) = unknown_parameter {
        // Checked for every method, so that a write with a misspelt parameter does
        // nothing rather than something unintended.
        req.into_response(error.error_response())
    } else if acceptance == Acceptance::NotAcceptable {
        let error = ApiError::new(
            ErrorCode::NotAcceptable,
            format!(
                "every `{JSONAPI_MEDIA_TYPE}` in `Accept` carries a parameter other than `ext` or `profile`, or an unsupported extension"
            ),
        )
        .with_source(ErrorSource::Header("Accept".into()));
        req.into_response(error.error_response())
    } else {
        let response = next.call(req).await?.map_into_boxed_body();
        normalize_error(response)
    };

    let usage = *ctx.db.borrow();
    let timing = format!(
        "db;dur={:.3};desc=\"queries={}\", app;dur={:.3}",
        usage.elapsed.as_secs_f64() * 1000.0,
        usage.statements,
        started.elapsed().as_secs_f64() * 1000.0,
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&timing) {
        headers.insert(header::HeaderName::from_static("server-timing"), value);
    }
    Ok(response)
}

/// Replaces a response that actix produced on its own (no route, wrong method, a path
/// that does not parse) with the JSON:API error for its status.
fn normalize_error(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_jsonapi = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(JSONAPI_MEDIA_TYPE));
    if is_jsonapi {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            ErrorCode::MethodNotAllowed,
            "This method is not allowed on this URL.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
        s if s.is_client_error() => {
            ApiError::new(ErrorCode::InvalidDocument, "The request is malformed.")
        }
        _ => ApiError::internal(format!("unhandled {status} response")),
    };
    let (req, _) = response.into_parts();
    ServiceResponse::new(req, error.error_response())
}

fn payload_too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
    )
}

/// A request body that is a JSON document sent with the JSON:API media type.
#[derive(Debug, Clone)]
pub struct JsonApiBody(pub Value);

impl FromRequest for JsonApiBody {
    type Error = ApiError;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsonApiBody, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("(not text)").to_owned());
        let supported_ext = media::extension_of(req.path());
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if let Err(detail) = media::judge_content_type(content_type.as_deref(), supported_ext) {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType, detail)
                    .with_source(ErrorSource::Header("Content-Type".into())));
            }
            if declared_length.is_some_and(|n| n > MAX_BODY_BYTES) {
                return Err(payload_too_large());
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::new(
                        ErrorCode::InvalidDocument,
                        format!("cannot read the body: {e}"),
                    )
                })?;
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(payload_too_large());
                }
                body.extend_from_slice(&chunk);
            }
            let value: Value = serde_json::from_slice(&body).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidJson,
                    format!("The body is not valid JSON: {e}."),
                )
            })?;
            Ok(JsonApiBody(value))
        })
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(JSONAPI_MEDIA_TYPE),
        ));
        for (name, value) in &self.headers {
            response.insert_header((*name, value.as_str()));
        }
        response.body(self.to_document())
    }
}
