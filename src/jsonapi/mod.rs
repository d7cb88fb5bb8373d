//! The JSON:API 1.1 protocol, knowing nothing of users or teams: documents, errors,
//! content negotiation, query parameters. `resources/` declares types against it.

pub mod document;
pub mod error;
pub mod http;
pub mod input;
pub mod media;
pub mod openapi;
pub mod query;
pub mod schema;

pub use error::{ApiError, ApiResult, ErrorCode, ErrorSource};
