//! The shape every write shares, so that resource files hold only what is particular to
//! them: authorize and change inside one transaction (with its audit event), then answer
//! with the resource as the caller now sees it — or with 204.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::engine::DynResource;
use super::read::{load_one, parse_query, single_response};
use crate::app::AppState;
use crate::auth::Caller;
use crate::db::{DbConnection, write_transaction};
use crate::jsonapi::error::ApiResult;
use crate::jsonapi::http::Ctx;

/// What a change reports: the resource to show, and the response's top-level meta.
pub struct Written {
    pub id: String,
    pub meta: Option<Value>,
}

impl Written {
    pub fn id(id: impl Into<String>) -> Self {
        Written {
            id: id.into(),
            meta: None,
        }
    }
}

/// Runs `change` in one transaction, then answers `status` with the resource.
pub async fn change_and_show(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ctx: &Ctx,
    caller: Caller,
    resource: &'static dyn DynResource,
    status: StatusCode,
    change: impl FnOnce(&mut DbConnection, &Caller) -> ApiResult<Written> + Send + 'static,
) -> ApiResult<HttpResponse> {
    let query = parse_query(req, ctx, resource, false)?;
    let (graph, meta, query) = state
        .db
        .run(&ctx.db, move |conn| {
            let written = write_transaction(conn, |conn| change(conn, &caller))?;
            let graph = load_one(conn, &caller, resource, &written.id, &query)?;
            Ok((graph, written.meta, query))
        })
        .await?;
    Ok(single_response(req, &query, &graph, 0, status, meta))
}

/// After the statement that deletes a row: none changed means a concurrent request
/// deleted it first (and answered 204), so this one is a 404.
pub fn ensure_changed(changed: usize) -> ApiResult<()> {
    if changed == 0 {
        Err(crate::jsonapi::error::ApiError::not_found())
    } else {
        Ok(())
    }
}

/// Runs `change` in one transaction, then answers 204.
pub async fn change_only(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    caller: Caller,
    change: impl FnOnce(&mut DbConnection, &Caller) -> ApiResult<()> + Send + 'static,
) -> ApiResult<HttpResponse> {
    state
        .db
        .run(&ctx.db, move |conn| {
            write_transaction(conn, |conn| change(conn, &caller))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
