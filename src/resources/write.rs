//! The shape every write shares, so that resource files hold only what is particular to
//! them: authorize and change inside one transaction (with its audit event), then answer
//! with the resource as the caller now sees it — or with 204.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::engine::DynResource;
use super::read::{load_one, parse_query, single_response};
use crate::auth::Caller;
use crate::db::{DbConnection, write_transaction};
use crate::state::AppState;
use std::collections::BTreeSet;

use crate::jsonapi::document::ResourceView;
use crate::jsonapi::error::{ApiError, ApiResult, ErrorSource};
use crate::jsonapi::http::Ctx;
use crate::jsonapi::input::{Linkage, ResourceInput};

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
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            let written = write_transaction(conn, |conn| change(conn, &caller))?;
            let graph = load_one(conn, &caller, resource, &written.id, &query)?;
            Ok((graph, written.meta, query))
        })
        .await?;
    Ok(single_response(req, &query, &graph, 0, status, meta))
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
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            write_transaction(conn, |conn| change(conn, &caller))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// SPEC §2: relationships in a body are honoured, never silently ignored. Those that a
/// write sets itself are its `settable` ones; any other → 403 `forbidden` pointing at it,
/// unless it repeats the value the resource has — clients such as Ember Data send the
/// whole record back. This is the check of a change to an existing resource (`view`).
pub fn refuse_unsettable(
    conn: &mut DbConnection,
    caller: &Caller,
    input: &ResourceInput,
    settable: &[&str],
    resource: &'static dyn DynResource,
    view: &dyn ResourceView,
) -> ApiResult<()> {
    for (name, linkage) in input.linkages() {
        let repeats = match linkage {
            _ if settable.contains(&name) => true,
            Linkage::One(id) => view.to_one(name) == id.as_deref(),
            Linkage::Many(ids) => {
                current_members(conn, caller, resource, view, name)?
                    == ids.into_iter().collect::<BTreeSet<String>>()
            }
        };
        if !repeats {
            return Err(not_settable(name));
        }
    }
    Ok(())
}

/// The same check on create: a relationship the create does not set may only name what
/// the server will give the new resource — `will_have`'s to-one values, and no members
/// for a to-many one.
pub fn refuse_unsettable_on_create(
    input: &ResourceInput,
    settable: &[&str],
    will_have: &[(&str, Option<&str>)],
) -> ApiResult<()> {
    for (name, linkage) in input.linkages() {
        let repeats = match linkage {
            _ if settable.contains(&name) => true,
            Linkage::One(id) => will_have
                .iter()
                .any(|(n, value)| *n == name && *value == id.as_deref()),
            Linkage::Many(ids) => ids.is_empty(),
        };
        if !repeats {
            return Err(not_settable(name));
        }
    }
    Ok(())
}

fn not_settable(name: &str) -> ApiError {
    ApiError::forbidden(format!(
        "`{name}` cannot be set here; it may only repeat its current value."
    ))
    .with_source(ErrorSource::Pointer(format!("/data/relationships/{name}")))
}

/// The ids a to-many relationship of `view` links to, as the caller sees them.
fn current_members(
    conn: &mut DbConnection,
    caller: &Caller,
    resource: &'static dyn DynResource,
    view: &dyn ResourceView,
    name: &str,
) -> ApiResult<BTreeSet<String>> {
    let internal = |what: &str| ApiError::internal(what.to_owned());
    let relationship = resource
        .schema()
        .relationship(name)
        .ok_or_else(|| internal("a declared relationship"))?;
    let target = super::lookup(relationship.target).ok_or_else(|| internal("a target engine"))?;
    let link = resource
        .link(name)
        .ok_or_else(|| internal("a relationship's link"))?;
    let scope = super::engine::single_scope(caller);
    Ok(target
        .load_linked(conn, &scope, link, &[view.id().to_owned()])?
        .into_iter()
        .map(|(_, node)| node.object.id().to_owned())
        .collect())
}
