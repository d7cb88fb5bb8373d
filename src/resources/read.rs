//! The read side every resource type shares: collections, single resources, related
//! collections and relationship linkage, with the whole query language. The type comes
//! from the route (`TypeRef` app data), so these handlers are written once.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::engine::{
    self, Discarded, DynResource, Link, PageResult, Scope, live_single_scope, single_scope,
};
use super::{REGISTRY, lookup};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::jsonapi::document::{self, DocumentOptions, Graph, Node, Primary};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorCode};
use crate::jsonapi::http::Ctx;
use crate::jsonapi::media::JSONAPI_MEDIA_TYPE;
use crate::jsonapi::query::{FilterValue, Page, ParseOptions, Query};
use crate::state::AppState;

/// The resource type a route serves.
#[derive(Clone, Copy)]
pub struct TypeRef(pub &'static dyn DynResource);

/// `ROSTER_PUBLIC_URL` + `/api/v1`: the prefix of every link in a response. Never from
/// `Host`, `Forwarded` or `X-Forwarded-*`, which the client chooses (SPEC §1).
pub fn base_url(req: &HttpRequest) -> String {
    match req.app_data::<web::Data<AppState>>() {
        Some(state) => state.links_base.clone(),
        // Every route of `Application` has the state; a relative link is still right.
        None => super::API_PREFIX.to_owned(),
    }
}

/// The request's path below `/api/v1` (`/users/…`): links that echo the request keep
/// its path and query and take everything before them from the configuration.
fn path_below_prefix(req: &HttpRequest) -> &str {
    let path = req.path();
    path.strip_prefix(super::API_PREFIX).unwrap_or(path)
}

fn type_ref(req: &HttpRequest) -> ApiResult<&'static dyn DynResource> {
    req.app_data::<TypeRef>()
        .map(|t| t.0)
        .ok_or_else(|| ApiError::internal("route without TypeRef"))
}

pub fn parse_query(
    req: &HttpRequest,
    ctx: &Ctx,
    schema_type: &'static dyn DynResource,
    collection: bool,
) -> ApiResult<Query> {
    Query::parse(
        req.query_string(),
        schema_type.schema(),
        &REGISTRY,
        ParseOptions {
            collection,
            cursor_profile_requested: ctx.cursor_profile,
        },
    )
}

/// The scope of a collection request: the caller's account, or another one a platform
/// admin chose with `filter[account]`; soft-deleted rows only with `filter[discarded]`,
/// which only account admins may use.
pub fn collection_scope<'a>(
    caller: &'a Caller,
    query: &Query,
) -> ApiResult<(Scope<'a>, Option<SqlBuilder>)> {
    let mut scope = Scope::live(caller);
    let mut nothing = None;
    if let Some(clause) = query.filter("account").next() {
        let wanted: Vec<&str> = clause
            .values
            .iter()
            .filter_map(|v| match v {
                FilterValue::Text(s) => Some(s.as_str()),
                FilterValue::Time(_) => None,
            })
            .collect();
        match wanted.as_slice() {
            [one] if caller.platform_admin => scope.account_id = Some((*one).to_owned()),
            [one] if *one == caller.account_id => {}
            _ if caller.platform_admin => {
                return Err(ApiError::invalid_parameter(
                    "filter[account]",
                    "choose one account at a time",
                ));
            }
            // Another tenant's rows are never listed: the answer is simply empty.
            _ => nothing = Some(empty_restriction()),
        }
    }
    if let Some(clause) = query.filter("discarded").next() {
        if !(caller.platform_admin || caller.is_account_admin()) {
            return Err(ApiError::forbidden(
                "Only account admins may list deleted resources.",
            ));
        }
        let only = clause
            .values
            .iter()
            .all(|v| matches!(v, FilterValue::Text(s) if s == "only"));
        scope.discarded = if only {
            Discarded::Only
        } else {
            Discarded::All
        };
    }
    Ok((scope, nothing))
}

fn empty_restriction() -> SqlBuilder {
    // The backend does not matter for constant text.
    let mut q = SqlBuilder::new(crate::db::BackendKind::Sqlite);
    q.sql(" AND 1 = 0");
    q
}

/// The scope of a related collection: a platform admin sees an owner's related
/// resources in every account unless it chose one with `filter[account]`.
fn related_scope<'a>(
    caller: &'a Caller,
    query: &Query,
) -> ApiResult<(Scope<'a>, Option<SqlBuilder>)> {
    let (mut scope, nothing) = collection_scope(caller, query)?;
    if caller.platform_admin && query.filter("account").next().is_none() {
        scope.account_id = None;
    }
    Ok((scope, nothing))
}

/// A JSON:API response with a body.
pub fn respond(status: actix_web::http::StatusCode, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, JSONAPI_MEDIA_TYPE))
        .body(body)
}

/// The request URL with its `page[…]` parameters replaced.
fn page_link(req: &HttpRequest, base: &str, pairs: &[(&str, String)]) -> String {
    let kept: Vec<String> = req
        .query_string()
        .split('&')
        .filter(|part| !part.is_empty())
        .filter(|part| {
            let name = part.split('=').next().unwrap_or("");
            let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            !decoded.starts_with("page[")
        })
        .map(str::to_owned)
        .collect();
    let mut all = kept;
    for (name, value) in pairs {
        let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
        all.push(format!("{name}={encoded}"));
    }
    let path = path_below_prefix(req);
    if all.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{}", all.join("&"))
    }
}

fn self_link(req: &HttpRequest, base: &str) -> String {
    let path = path_below_prefix(req);
    match req.query_string() {
        "" => format!("{base}{path}"),
        q => format!("{base}{path}?{q}"),
    }
}

/// Top-level links and meta of a page: `first`/`prev`/`next`/`last` and `meta.total`
/// for offset pages, `prev`/`next` from the first and last cursor for cursor pages.
fn page_links(
    req: &HttpRequest,
    base: &str,
    query: &Query,
    page: &PageResult<Node>,
    cursors: &[Option<String>],
) -> (
    Vec<(&'static str, Option<String>)>,
    Option<serde_json::Value>,
) {
    let mut links = vec![("self", Some(self_link(req, base)))];
    match &query.page {
        Page::Offset { number, size } => {
            let total = page.total.unwrap_or(0);
            let last = ((total + i64::from(*size) - 1) / i64::from(*size)).max(1);
            let at = |n: i64| {
                page_link(
                    req,
                    base,
                    &[
                        ("page[number]", n.to_string()),
                        ("page[size]", size.to_string()),
                    ],
                )
            };
            let number = i64::from(*number);
            links.push(("first", Some(at(1))));
            links.push(("prev", (number > 1).then(|| at((number - 1).min(last)))));
            links.push(("next", (number < last).then(|| at(number + 1))));
            links.push(("last", Some(at(last))));
            (links, Some(serde_json::json!({ "total": total })))
        }
        Page::Cursor { size, .. } => {
            let cursor_link =
                |exists: bool, cursor: Option<&Option<String>>, param: &str| match (exists, cursor)
                {
                    (true, Some(Some(c))) => Some(page_link(
                        req,
                        base,
                        &[(param, c.clone()), ("page[size]", size.to_string())],
                    )),
                    _ => None,
                };
            links.push((
                "prev",
                cursor_link(page.has_prev, cursors.first(), "page[before]"),
            ));
            links.push((
                "next",
                cursor_link(page.has_next, cursors.last(), "page[after]"),
            ));
            (links, None)
        }
    }
}

/// A page of primary nodes with its includes, as a response.
fn page_response(
    req: &HttpRequest,
    query: &Query,
    graph: Graph,
    primary: Vec<usize>,
    page: PageResult<Node>,
) -> HttpResponse {
    let base = base_url(req);
    let cursors: Vec<Option<String>> = primary
        .iter()
        .map(|&i| graph.nodes[i].cursor.clone())
        .collect();
    let (links, meta) = page_links(req, &base, query, &page, &cursors);
    let options = DocumentOptions {
        base: &base,
        fields: &query.fields,
        include_given: query.include_given,
        links,
        meta,
    };
    respond(
        actix_web::http::StatusCode::OK,
        document::write_document(&graph, &Primary::Many(primary), &options),
    )
}

/// `GET /{type}`.
pub async fn collection(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    collection_of(type_ref(&req)?, req, state, ctx, caller).await
}

/// A collection of `resource`, for routes whose type is fixed.
pub async fn collection_of(
    resource: &'static dyn DynResource,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    resource.authorize_read(&caller)?;
    let query = parse_query(&req, &ctx, resource, true)?;
    let kind = kind_of(&req, &caller, &ctx);
    let (graph, primary, page, query) = state
        .db
        .run_learned(kind, &ctx.db, move |conn| -> ApiResult<_> {
            let (scope, restriction) = collection_scope(&caller, &query)?;
            let mut page = resource.page(conn, &scope, &query, restriction.as_ref())?;
            let (graph, primary) =
                into_graph(conn, &scope, std::mem::take(&mut page.rows), &query)?;
            Ok((graph, primary, page, query))
        })
        .await?;
    Ok(page_response(&req, &query, graph, primary, page))
}

/// Puts primary nodes into a graph and loads the includes below them.
/// Includes are seen through `scope` (its account), always without soft-deleted rows.
pub fn into_graph(
    conn: &mut crate::db::DbConnection,
    scope: &Scope<'_>,
    nodes: Vec<Node>,
    query: &Query,
) -> ApiResult<(Graph, Vec<usize>)> {
    let mut graph = Graph::default();
    let primary: Vec<usize> = nodes.into_iter().map(|n| graph.insert(n)).collect();
    engine::include(conn, scope, lookup, &mut graph, &primary, &query.include)?;
    Ok((graph, primary))
}

/// A single resource (already loaded) with its includes, as a response.
pub fn single_response(
    req: &HttpRequest,
    query: &Query,
    graph: &Graph,
    index: usize,
    status: actix_web::http::StatusCode,
    meta: Option<serde_json::Value>,
) -> HttpResponse {
    let base = base_url(req);
    let node = &graph.nodes[index];
    let self_url = document::resource_url(&base, node.object.schema(), node.object.id());
    // A read's document comes from the URL that was requested (`/me` included); a
    // write's from the resource it wrote.
    let document_self = if matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) {
        self_link(req, &base)
    } else {
        self_url.clone()
    };
    let options = DocumentOptions {
        base: &base,
        fields: &query.fields,
        include_given: query.include_given,
        links: vec![("self", Some(document_self))],
        meta,
    };
    let body = document::write_document(graph, &Primary::One(index), &options);
    let mut response = respond(status, body);
    if status == actix_web::http::StatusCode::CREATED
        && let Ok(value) = header::HeaderValue::from_str(&self_url)
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `GET /{type}/{id}`.
pub async fn single(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    single_of(type_ref(&req)?, req, state, ctx, caller, path.into_inner()).await
}

/// One resource of `resource` by id, for routes whose type is fixed.
pub async fn single_of(
    resource: &'static dyn DynResource,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    id: String,
) -> ApiResult<HttpResponse> {
    resource.authorize_read(&caller)?;
    let query = parse_query(&req, &ctx, resource, false)?;
    let (graph, query) = state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            let node = resource.find_node(conn, &single_scope(&caller), &id)?;
            let (graph, _) = into_graph(conn, &single_scope(&caller), vec![node], &query)?;
            Ok((graph, query))
        })
        .await?;
    Ok(single_response(
        &req,
        &query,
        &graph,
        0,
        actix_web::http::StatusCode::OK,
        None,
    ))
}

/// The owner's relationship `name` and its link; 404 when the type has none such.
fn relationship_of(
    resource: &'static dyn DynResource,
    name: &str,
) -> ApiResult<(&'static crate::jsonapi::schema::Relationship, Link)> {
    let relationship = resource
        .schema()
        .relationship(name)
        .ok_or_else(ApiError::not_found)?;
    let link = resource.link(name).ok_or_else(ApiError::not_found)?;
    Ok((relationship, link))
}

/// The engine at the far end of a relationship whose type is declared (not polymorphic).
fn declared_target(
    relationship: &crate::jsonapi::schema::Relationship,
) -> ApiResult<&'static dyn DynResource> {
    lookup(relationship.target).ok_or_else(ApiError::not_found)
}

/// The query of an endpoint below a polymorphic relationship (`include` refused).
fn parse_below_polymorphic(
    req: &HttpRequest,
    ctx: &Ctx,
    owner: &'static dyn DynResource,
    relationship: &crate::jsonapi::schema::Relationship,
) -> ApiResult<Query> {
    Query::parse_below_polymorphic(
        req.query_string(),
        owner.schema(),
        relationship,
        &REGISTRY,
        ParseOptions {
            collection: false,
            cursor_profile_requested: ctx.cursor_profile,
        },
    )
}

/// A to-one related resource (`data: null` when there is none the caller may see).
fn to_one_response(
    req: &HttpRequest,
    query: &Query,
    graph: &Graph,
    primary: Option<usize>,
) -> HttpResponse {
    let base = base_url(req);
    let options = DocumentOptions {
        base: &base,
        fields: &query.fields,
        include_given: query.include_given,
        links: vec![("self", Some(self_link(req, &base)))],
        meta: None,
    };
    let data = primary.map_or(Primary::Null, Primary::One);
    respond(
        actix_web::http::StatusCode::OK,
        document::write_document(graph, &data, &options),
    )
}

/// What makes requests for pages alike in cost, for `Db::run_learned`: the route and
/// relationship, the caller's account, the kind of pagination, and the query's parameter
/// names with the values of `include`, `sort` and `page[size]` — not the values clients
/// vary from request to request (ids, filter values, page numbers, cursors).
fn kind_of(req: &HttpRequest, caller: &Caller, ctx: &Ctx) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = foldhash::fast::FixedState::default().build_hasher();
    req.match_pattern().hash(&mut h);
    req.match_info().get("relationship").hash(&mut h);
    caller.account_id.hash(&mut h);
    ctx.cursor_profile.hash(&mut h);
    for pair in req.query_string().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
        name.hash(&mut h);
        if matches!(name.as_ref(), "include" | "sort" | "page[size]") {
            value.hash(&mut h);
        }
    }
    h.finish()
}

/// `GET /{type}/{id}/{relationship}`: the related resources, with the whole query
/// language on to-many relationships.
pub async fn related(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let resource = type_ref(&req)?;
    resource.authorize_read(&caller)?;
    let (id, name) = path.into_inner();
    let (relationship, link) = relationship_of(resource, &name)?;
    if relationship.is_polymorphic() {
        return related_polymorphic(req, state, ctx, caller, resource, relationship, link, id)
            .await;
    }
    let target = declared_target(relationship)?;
    let query = parse_query(&req, &ctx, target, relationship.is_to_many())?;
    let to_many = relationship.is_to_many();
    let kind = kind_of(&req, &caller, &ctx);
    let result = state
        .db
        .run_learned(kind, &ctx.db, move |conn| -> ApiResult<_> {
            let owner = resource.find_node(conn, &live_single_scope(&caller), &id)?;
            let restriction = target.restriction(conn.backend(), link, &owner, relationship.name);
            if to_many {
                let (scope, nothing) = related_scope(&caller, &query)?;
                let mut restriction = restriction;
                if let Some(nothing) = nothing {
                    restriction.append(&nothing);
                }
                let mut page = target.page(conn, &scope, &query, Some(&restriction))?;
                let (graph, primary) =
                    into_graph(conn, &scope, std::mem::take(&mut page.rows), &query)?;
                Ok((graph, Some(primary), Some(page), query))
            } else {
                let scope = live_single_scope(&caller);
                let mut one = target.page(conn, &scope, &query, Some(&restriction))?;
                let (graph, primary) =
                    into_graph(conn, &scope, std::mem::take(&mut one.rows), &query)?;
                Ok((graph, Some(primary), None, query))
            }
        })
        .await?;
    let (graph, primary, page, query) = result;
    let primary = primary.unwrap_or_default();
    match page {
        Some(page) => Ok(page_response(&req, &query, graph, primary, page)),
        None => Ok(to_one_response(
            &req,
            &query,
            &graph,
            primary.first().copied(),
        )),
    }
}

/// `GET /{type}/{id}/{relationship}` of a polymorphic to-one relationship (an audit
/// event's `target`): the row names the target's type, and that type's engine finds it
/// through its own scope, as any to-one related resource — `data: null` when the caller
/// may not see it (or may not read that type at all).
#[allow(clippy::too_many_arguments)]
async fn related_polymorphic(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    resource: &'static dyn DynResource,
    relationship: &'static crate::jsonapi::schema::Relationship,
    link: Link,
    id: String,
) -> ApiResult<HttpResponse> {
    if !matches!(link, Link::ToOne { .. }) {
        return Err(ApiError::internal(format!(
            "polymorphic relationship `{}` needs a to-one link",
            relationship.name
        )));
    }
    let query = parse_below_polymorphic(&req, &ctx, resource, relationship)?;
    let (graph, primary, query) = state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            let owner = resource.find_node(conn, &live_single_scope(&caller), &id)?;
            let scope = live_single_scope(&caller);
            let target = owner
                .object
                .to_one(relationship.name)
                .and_then(|target_id| {
                    let target = lookup(owner.object.to_one_type(relationship))?;
                    target
                        .authorize_read(&caller)
                        .is_ok()
                        .then_some((target, target_id))
                });
            let nodes = match target {
                Some((target, target_id)) => match target.find_node(conn, &scope, target_id) {
                    Ok(node) => vec![node],
                    Err(e) if e.code() == ErrorCode::NotFound.code() => Vec::new(),
                    Err(e) => return Err(e),
                },
                None => Vec::new(),
            };
            let (graph, primary) = into_graph(conn, &scope, nodes, &query)?;
            Ok((graph, primary, query))
        })
        .await?;
    Ok(to_one_response(
        &req,
        &query,
        &graph,
        primary.first().copied(),
    ))
}

/// `GET /{type}/{id}/relationships/{relationship}`: resource identifiers.
pub async fn relationship(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let resource = type_ref(&req)?;
    resource.authorize_read(&caller)?;
    let (id, name) = path.into_inner();
    let (relationship, link) = relationship_of(resource, &name)?;
    if relationship.is_polymorphic() {
        return relationship_polymorphic(req, state, ctx, caller, resource, relationship, id).await;
    }
    let target = declared_target(relationship)?;
    let query = parse_query(&req, &ctx, target, relationship.is_to_many())?;
    let to_many = relationship.is_to_many();
    let kind = kind_of(&req, &caller, &ctx);
    let (ids, page, query) = state
        .db
        .run_learned(kind, &ctx.db, move |conn| -> ApiResult<_> {
            let owner = resource.find_node(conn, &live_single_scope(&caller), &id)?;
            let restriction = target.restriction(conn.backend(), link, &owner, relationship.name);
            let (scope, nothing) = related_scope(&caller, &query)?;
            let mut restriction = restriction;
            if let Some(nothing) = nothing {
                restriction.append(&nothing);
            }
            let page = target.page(conn, &scope, &query, Some(&restriction))?;
            let ids: Vec<String> = page.rows.iter().map(|n| n.object.id().to_owned()).collect();
            Ok((ids, page, query))
        })
        .await?;
    let base = base_url(&req);
    let mut links = relationship_links(&req, &base, resource, &name);
    let mut meta = None;
    if to_many {
        let cursors: Vec<Option<String>> = page.rows.iter().map(|n| n.cursor.clone()).collect();
        let (page_links, page_meta) = page_links(&req, &base, &query, &page, &cursors);
        links.extend(page_links.into_iter().filter(|(name, _)| *name != "self"));
        meta = page_meta;
    }
    let body = document::write_linkage_document(
        relationship.target,
        Some(&ids),
        to_many,
        &links,
        meta.as_ref(),
    );
    Ok(respond(actix_web::http::StatusCode::OK, body))
}

/// `links.self` and `links.related` of a relationship document.
fn relationship_links(
    req: &HttpRequest,
    base: &str,
    resource: &'static dyn DynResource,
    name: &str,
) -> Vec<(&'static str, Option<String>)> {
    let owner_url = format!(
        "{base}/{}/{}",
        resource.schema().path,
        req.match_info().query("id")
    );
    vec![
        ("self", Some(format!("{owner_url}/relationships/{name}"))),
        ("related", Some(format!("{owner_url}/{name}"))),
    ]
}

/// `GET /{type}/{id}/relationships/{relationship}` of a polymorphic to-one relationship:
/// the linkage the owner's row holds, typed as the row says — the same `data` as the
/// owner's own `relationships` member, shown whether or not the caller may see the
/// target (as with `include`, which leaves such a target out but keeps its linkage).
async fn relationship_polymorphic(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    resource: &'static dyn DynResource,
    relationship: &'static crate::jsonapi::schema::Relationship,
    id: String,
) -> ApiResult<HttpResponse> {
    parse_below_polymorphic(&req, &ctx, resource, relationship)?;
    let linkage = state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            let owner = resource.find_node(conn, &live_single_scope(&caller), &id)?;
            Ok(owner.object.to_one(relationship.name).map(|target_id| {
                (
                    owner.object.to_one_type(relationship).to_owned(),
                    target_id.to_owned(),
                )
            }))
        })
        .await?;
    let base = base_url(&req);
    let links = relationship_links(&req, &base, resource, relationship.name);
    let (type_name, ids) = match linkage {
        Some((type_name, target_id)) => (type_name, vec![target_id]),
        None => (String::new(), Vec::new()),
    };
    let body = document::write_linkage_document(&type_name, Some(&ids), false, &links, None);
    Ok(respond(actix_web::http::StatusCode::OK, body))
}

/// Loads one resource (as the caller sees it) with the query's includes: what a write
/// answers with after its transaction.
pub fn load_one(
    conn: &mut crate::db::DbConnection,
    caller: &Caller,
    resource: &'static dyn DynResource,
    id: &str,
    query: &Query,
) -> ApiResult<Graph> {
    let node = resource.find_node(conn, &single_scope(caller), id)?;
    Ok(into_graph(conn, &single_scope(caller), vec![node], query)?.0)
}
