//! `POST /api/v1/operations`: the Atomic Operations extension (SPEC §6). A batch of
//! `add`, `update` and `remove` operations — on resources and on to-many relationships,
//! addressed by `ref` or `href`, with `lid`s for resources created earlier in the same
//! batch — runs in **one** transaction through the very writes a single request uses
//! (`write::DynWrites`), so each operation is authorized and checked exactly as if it
//! were sent alone, and any error rolls the whole batch back and points into it
//! (`/atomic:operations/3/data/attributes/email`).
//!
//! The batch is read and its `lid`s resolved before the database is touched; passwords
//! are hashed before the transaction too, several at once, so that no write lock waits
//! for Argon2.

use std::collections::HashMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Map, Value, json};

use super::write::{DynWrites, Prepared, SetChange, hash_passwords, relationship_members};
use crate::auth::Caller;
use crate::db::{DbConnection, write_transaction};
use crate::jsonapi::document::{self, DocumentOptions, Primary};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorCode};
use crate::jsonapi::http::{Ctx, JsonApiBody};
use crate::jsonapi::input::{Intent, ResourceInput, canonical_id, parse_resource_document};
use crate::jsonapi::media::{ATOMIC_EXTENSION, JSONAPI_MEDIA_TYPE};
use crate::jsonapi::query::Query;
use crate::state::AppState;

/// The most operations one request may carry (SPEC §6): more → 413.
pub const MAX_OPERATIONS: usize = 1000;

/// One operation, read and resolved: what to do, to which type.
struct Planned {
    writes: &'static dyn DynWrites,
    action: Action,
    /// The `lid` an `add` gave its resource, echoed in the result.
    lid: Option<String>,
}

enum Action {
    Create(ResourceInput),
    Update {
        id: String,
        input: ResourceInput,
    },
    Delete {
        id: String,
    },
    Relationship {
        id: String,
        name: String,
        members: Vec<String>,
        change: SetChange,
    },
}

/// What an operation's `ref` or `href` names.
struct Target {
    writes: &'static dyn DynWrites,
    id: Option<String>,
    relationship: Option<String>,
}

/// `POST /api/v1/operations`.
pub async fn handle(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Result<Caller, ApiError>,
    body: Result<JsonApiBody, ApiError>,
) -> HttpResponse {
    let response = match async { run(&req, &state, &ctx, caller?, body?.0).await }.await {
        Ok(response) => response,
        Err(error) => error.error_response(),
    };
    with_extension(response)
}

/// Every answer of the endpoint, errors included, names the extension it speaks.
fn with_extension(mut response: HttpResponse) -> HttpResponse {
    let media_type = format!("{JSONAPI_MEDIA_TYPE}; ext=\"{ATOMIC_EXTENSION}\"");
    if let Ok(value) = HeaderValue::from_str(&media_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

async fn run(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ctx: &Ctx,
    caller: Caller,
    body: Value,
) -> ApiResult<HttpResponse> {
    if let Some(parameter) = req.query_string().split('&').find(|p| !p.is_empty()) {
        let name = parameter.split('=').next().unwrap_or(parameter);
        return Err(ApiError::invalid_parameter(
            name,
            "POST /operations takes no query parameters.",
        ));
    }
    let operations = read_operations(body)?;
    let plan = plan(operations)?;
    let passwords = plan
        .iter()
        .map(|p| match &p.action {
            Action::Create(input) => p.writes.password_to_hash(&caller, input),
            _ => None,
        })
        .collect();
    let prepared = hash_passwords(passwords).await?;
    let base = super::read::base_url(req);
    let results = state
        .db
        .run_heavy(&ctx.db, move |conn| -> ApiResult<_> {
            write_transaction(conn, |conn| {
                plan.into_iter()
                    .zip(prepared)
                    .enumerate()
                    .map(|(index, (planned, prepared))| {
                        perform(conn, &caller, planned, prepared, &base)
                            .map_err(|e| e.at_operation(index))
                    })
                    .collect::<ApiResult<Vec<Value>>>()
            })
        })
        .await?;
    let document = json!({
        "jsonapi": {"version": "1.1", "ext": [ATOMIC_EXTENSION]},
        "atomic:results": results,
    });
    Ok(HttpResponse::Ok().body(document.to_string()))
}

/// The `atomic:operations` array of a request document.
fn read_operations(body: Value) -> ApiResult<Vec<Value>> {
    let Value::Object(mut document) = body else {
        return Err(ApiError::invalid_document(
            "",
            "The document must be a JSON object.",
        ));
    };
    if let Some(member) = document.keys().find(|k| *k == "data" || *k == "errors") {
        return Err(ApiError::invalid_document(
            format!("/{member}"),
            "An operations document has `atomic:operations`, not `data` or `errors`.",
        ));
    }
    let Some(Value::Array(operations)) = document.remove("atomic:operations") else {
        return Err(ApiError::invalid_document(
            "",
            "The document must have an `atomic:operations` array.",
        ));
    };
    if operations.is_empty() {
        return Err(ApiError::invalid_document(
            "/atomic:operations",
            "`atomic:operations` must hold at least one operation.",
        ));
    }
    if operations.len() > MAX_OPERATIONS {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "A request carries at most {MAX_OPERATIONS} operations; this one has {}.",
                operations.len()
            ),
        )
        .with_source(crate::jsonapi::error::ErrorSource::Pointer(
            "/atomic:operations".into(),
        )));
    }
    Ok(operations)
}

/// Reads every operation in order, resolving `lid`s as it goes: a `lid` names the
/// resource an earlier `add` created (its id is chosen here, or is the client's own).
fn plan(operations: Vec<Value>) -> ApiResult<Vec<Planned>> {
    let mut lids: HashMap<(String, String), String> = HashMap::new();
    operations
        .into_iter()
        .enumerate()
        .map(|(index, operation)| plan_one(operation, &mut lids).map_err(|e| e.at_operation(index)))
        .collect()
}

fn invalid(pointer: &str, detail: impl Into<String>) -> ApiError {
    ApiError::invalid_document(pointer, detail)
}

fn plan_one(operation: Value, lids: &mut HashMap<(String, String), String>) -> ApiResult<Planned> {
    let Value::Object(mut operation) = operation else {
        return Err(invalid("", "An operation must be an object."));
    };
    let op = match operation.remove("op") {
        Some(Value::String(op)) if matches!(op.as_str(), "add" | "update" | "remove") => op,
        Some(_) => return Err(invalid("/op", "`op` must be `add`, `update` or `remove`.")),
        None => return Err(invalid("", "An operation must have an `op`.")),
    };
    let meta = match operation.remove("meta") {
        None => None,
        Some(Value::Object(meta)) => Some(meta),
        Some(_) => return Err(invalid("/meta", "`meta` must be an object.")),
    };
    let reference = operation.remove("ref");
    let href = operation.remove("href");
    let data = operation.remove("data");
    if let Some(member) = operation.keys().next() {
        return Err(invalid(
            &format!("/{member}"),
            format!("`{member}` is not a member of an operation."),
        ));
    }
    let target = match (reference, href) {
        (Some(_), Some(_)) => {
            return Err(invalid("", "An operation has `ref` or `href`, not both."));
        }
        (Some(reference), None) => Some(read_ref(reference, lids)?),
        (None, Some(href)) => Some(read_href(href)?),
        (None, None) => None,
    };

    // Operations on a relationship.
    if let Some(Target {
        writes,
        id: Some(id),
        relationship: Some(name),
    }) = target
    {
        let Some(data) = data else {
            return Err(invalid("", "A relationship operation must have `data`."));
        };
        let data = replace_lids_in_linkage(data, lids, "/data")?;
        let members = relationship_members(writes, &name, json!({ "data": data }))?;
        let change = match op.as_str() {
            "add" => SetChange::Add,
            "remove" => SetChange::Remove,
            _ => SetChange::Replace,
        };
        return Ok(Planned {
            writes,
            action: Action::Relationship {
                id,
                name,
                members,
                change,
            },
            lid: None,
        });
    }
    if target.as_ref().is_some_and(|t| t.relationship.is_some()) {
        return Err(invalid("/href", "A relationship is named on a resource."));
    }

    match op.as_str() {
        "remove" => {
            let Some(Target {
                writes,
                id: Some(id),
                ..
            }) = target
            else {
                return Err(invalid(
                    "",
                    "A `remove` names its resource by `ref` or `href`.",
                ));
            };
            if data.is_some() {
                return Err(invalid("/data", "A `remove` of a resource has no `data`."));
            }
            ensure_operation(writes, writes.writes().delete, "deleted")?;
            Ok(Planned {
                writes,
                action: Action::Delete { id },
                lid: None,
            })
        }
        "add" => {
            if target.as_ref().is_some_and(|t| t.id.is_some()) {
                return Err(invalid(
                    "",
                    "An `add` of a resource targets its collection, not a resource.",
                ));
            }
            let Some(Value::Object(mut data)) = data else {
                return Err(invalid(
                    "/data",
                    "An `add` needs a resource object as `data`.",
                ));
            };
            let writes = match target {
                Some(target) => target.writes,
                None => writes_named(data.get("type"), "/data/type")?,
            };
            ensure_operation(writes, writes.writes().create, "created")?;
            let type_name = writes.resource().schema().type_name;
            let lid = match data.remove("lid") {
                None => None,
                Some(Value::String(lid)) if !lid.is_empty() => Some(lid),
                Some(_) => return Err(invalid("/data/lid", "`lid` must be a non-empty string.")),
            };
            if let Some(lid) = &lid {
                // The resource's id is known now — the client's own, or a new one — so
                // later operations can name it by this `lid`.
                let id = match data.get("id") {
                    None => uuid::Uuid::now_v7().to_string(),
                    Some(Value::String(id)) => match canonical_id(id) {
                        Some(id) => id,
                        // Left for the document check to refuse at `/data/id`.
                        None => id.clone(),
                    },
                    Some(_) => return Err(invalid("/data/id", "`id` must be a string.")),
                };
                let key = (type_name.to_owned(), lid.clone());
                if lids.contains_key(&key) {
                    return Err(invalid(
                        "/data/lid",
                        format!("The `lid` {lid} is already given to a resource of this batch."),
                    ));
                }
                data.insert("id".into(), Value::String(id.clone()));
                lids.insert(key, id);
            }
            let data = replace_lids_in_relationships(data, lids)?;
            let input = parse_resource_document(
                document_of(data, meta),
                writes.resource().schema(),
                Intent::Create,
            )?;
            Ok(Planned {
                writes,
                action: Action::Create(input),
                lid,
            })
        }
        _ => {
            let Some(Value::Object(mut data)) = data else {
                return Err(invalid(
                    "/data",
                    "An `update` needs a resource object as `data`.",
                ));
            };
            // The resource is named by `ref`/`href`, or by `data` itself.
            let lid = match data.remove("lid") {
                None => None,
                Some(Value::String(lid)) => Some(lid),
                Some(_) => return Err(invalid("/data/lid", "`lid` must be a string.")),
            };
            let writes = match &target {
                Some(target) => target.writes,
                None => writes_named(data.get("type"), "/data/type")?,
            };
            ensure_operation(writes, writes.writes().update, "updated")?;
            let type_name = writes.resource().schema().type_name;
            if let Some(lid) = &lid {
                let id = lids
                    .get(&(type_name.to_owned(), lid.clone()))
                    .ok_or_else(|| unknown_lid("/data/lid", lid))?;
                if data
                    .get("id")
                    .is_some_and(|given| given.as_str() != Some(id))
                {
                    return Err(ApiError::conflict(
                        "/data/id",
                        "`id` and `lid` name different resources.",
                    ));
                }
                data.insert("id".into(), Value::String(id.clone()));
            }
            let id = match (target.and_then(|t| t.id), data.get("id")) {
                (Some(id), _) => id,
                (None, Some(Value::String(id))) => canonical_id(id).unwrap_or_else(|| id.clone()),
                (None, _) => {
                    return Err(invalid(
                        "/data/id",
                        "An `update` names its resource by `ref`, `href` or `data.id`.",
                    ));
                }
            };
            let data = replace_lids_in_relationships(data, lids)?;
            let input = parse_resource_document(
                document_of(data, meta),
                writes.resource().schema(),
                Intent::Update { id: &id },
            )?;
            Ok(Planned {
                writes,
                action: Action::Update { id, input },
                lid: None,
            })
        }
    }
}

/// The single-request document an operation's `data` and `meta` amount to, so that
/// the very same parser reads both.
fn document_of(data: Map<String, Value>, meta: Option<Map<String, Value>>) -> Value {
    let mut document = Map::new();
    document.insert("data".into(), Value::Object(data));
    if let Some(meta) = meta {
        document.insert("meta".into(), Value::Object(meta));
    }
    Value::Object(document)
}

fn unknown_lid(pointer: &str, lid: &str) -> ApiError {
    invalid(
        pointer,
        format!("No earlier operation of this batch created a resource with `lid` {lid}."),
    )
}

/// 403 for an operation the type does not take through the API (an update of an
/// invitation, say: the same request alone would be a 405).
fn ensure_operation(writes: &'static dyn DynWrites, allowed: bool, what: &str) -> ApiResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "`{}` resources are not {what} through the API.",
            writes.resource().schema().type_name
        )))
    }
}

/// The writes of the type named by `type` at `pointer`.
fn writes_named(type_name: Option<&Value>, pointer: &str) -> ApiResult<&'static dyn DynWrites> {
    let Some(Value::String(type_name)) = type_name else {
        return Err(invalid(pointer, "`type` must be a string."));
    };
    writes_of_type(type_name, pointer)
}

fn writes_of_type(type_name: &str, pointer: &str) -> ApiResult<&'static dyn DynWrites> {
    if let Some(writes) = super::writes_of(type_name) {
        return Ok(writes);
    }
    if super::lookup(type_name).is_some() {
        return Err(ApiError::forbidden(format!(
            "`{type_name}` resources are not written through operations."
        )));
    }
    Err(invalid(
        pointer,
        format!("`{type_name}` is not a resource type of this server."),
    ))
}

/// An id as a `ref` or `href` names it: a UUID in any spelling an existing resource's
/// id has (404 otherwise, as for a URL).
fn target_id(id: &str) -> ApiResult<String> {
    canonical_id(id)
        .filter(|canonical| canonical == id)
        .ok_or_else(ApiError::not_found)
}

fn read_ref(reference: Value, lids: &HashMap<(String, String), String>) -> ApiResult<Target> {
    let Value::Object(mut reference) = reference else {
        return Err(invalid("/ref", "`ref` must be an object."));
    };
    let writes = writes_named(reference.get("type"), "/ref/type")?;
    reference.remove("type");
    let type_name = writes.resource().schema().type_name;
    let id = match (reference.remove("id"), reference.remove("lid")) {
        (Some(_), Some(_)) => return Err(invalid("/ref", "`ref` has `id` or `lid`, not both.")),
        (Some(Value::String(id)), None) => {
            Some(target_id(&id).map_err(|e| e.with_source(pointer_source("/ref/id")))?)
        }
        (None, Some(Value::String(lid))) => Some(
            lids.get(&(type_name.to_owned(), lid.clone()))
                .cloned()
                .ok_or_else(|| unknown_lid("/ref/lid", &lid))?,
        ),
        (None, None) => None,
        (Some(_), None) => return Err(invalid("/ref/id", "`id` must be a string.")),
        (None, Some(_)) => return Err(invalid("/ref/lid", "`lid` must be a string.")),
    };
    let relationship = match reference.remove("relationship") {
        None => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => {
            return Err(invalid(
                "/ref/relationship",
                "`relationship` must be a string.",
            ));
        }
    };
    if let Some(member) = reference.keys().next() {
        return Err(invalid(
            &format!("/ref/{member}"),
            format!("`{member}` is not a member of `ref`."),
        ));
    }
    if relationship.is_some() && id.is_none() {
        return Err(invalid(
            "/ref",
            "A relationship is named on a resource (`id` or `lid`).",
        ));
    }
    Ok(Target {
        writes,
        id,
        relationship,
    })
}

fn pointer_source(pointer: &str) -> crate::jsonapi::error::ErrorSource {
    crate::jsonapi::error::ErrorSource::Pointer(pointer.to_owned())
}

/// An `href`: a URL of this API, absolute or relative — `/api/v1/users`,
/// `/api/v1/users/{id}` or `/api/v1/users/{id}/relationships/teams`.
fn read_href(href: Value) -> ApiResult<Target> {
    let Value::String(href) = href else {
        return Err(invalid("/href", "`href` must be a string."));
    };
    let not_ours = || invalid("/href", format!("`{href}` is not a URL of this API."));
    let path = match href.find(super::API_PREFIX) {
        Some(start) => &href[start + super::API_PREFIX.len()..],
        None => return Err(not_ours()),
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let type_of_path = |path: &str| {
        super::TYPES
            .iter()
            .find(|t| t.read.schema().path == path)
            .map(|t| t.read.schema().type_name)
    };
    let writes = match segments.first().and_then(|p| type_of_path(p)) {
        Some(type_name) => writes_of_type(type_name, "/href")?,
        None => return Err(not_ours()),
    };
    let id = |text: &str| target_id(text).map_err(|e| e.with_source(pointer_source("/href")));
    match segments.as_slice() {
        [_] => Ok(Target {
            writes,
            id: None,
            relationship: None,
        }),
        [_, resource_id] => Ok(Target {
            writes,
            id: Some(id(resource_id)?),
            relationship: None,
        }),
        [_, resource_id, "relationships", name] => Ok(Target {
            writes,
            id: Some(id(resource_id)?),
            relationship: Some((*name).to_owned()),
        }),
        _ => Err(not_ours()),
    }
}

/// Resource identifiers with a `lid` (`{"type": "user", "lid": "a"}`) become the id the
/// `add` that declared it chose, wherever an operation's relationships name them.
fn replace_lids_in_relationships(
    mut data: Map<String, Value>,
    lids: &HashMap<(String, String), String>,
) -> ApiResult<Map<String, Value>> {
    if let Some(Value::Object(relationships)) = data.get_mut("relationships") {
        for (name, relationship) in relationships.iter_mut() {
            if let Some(linkage) = relationship.get_mut("data") {
                let pointer = format!("/data/relationships/{name}/data");
                *linkage = replace_lids_in_linkage(linkage.take(), lids, &pointer)?;
            }
        }
    }
    Ok(data)
}

fn replace_lids_in_linkage(
    linkage: Value,
    lids: &HashMap<(String, String), String>,
    pointer: &str,
) -> ApiResult<Value> {
    let resolve = |identifier: Value, pointer: String| -> ApiResult<Value> {
        let Value::Object(mut identifier) = identifier else {
            return Ok(identifier);
        };
        if let Some(lid) = identifier.get("lid").cloned() {
            let (Some(type_name), Some(lid)) =
                (identifier.get("type").and_then(Value::as_str), lid.as_str())
            else {
                return Err(invalid(
                    &format!("{pointer}/lid"),
                    "`lid` must be a string.",
                ));
            };
            let id = lids
                .get(&(type_name.to_owned(), lid.to_owned()))
                .ok_or_else(|| unknown_lid(&format!("{pointer}/lid"), lid))?;
            if identifier
                .get("id")
                .is_some_and(|given| given.as_str() != Some(id))
            {
                return Err(ApiError::conflict(
                    format!("{pointer}/id"),
                    "`id` and `lid` name different resources.",
                ));
            }
            identifier.remove("lid");
            identifier.insert("id".into(), Value::String(id.clone()));
        }
        Ok(Value::Object(identifier))
    };
    match linkage {
        Value::Array(items) => Ok(Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| resolve(item, format!("{pointer}/{i}")))
                .collect::<ApiResult<_>>()?,
        )),
        other => resolve(other, pointer.to_owned()),
    }
}

/// Performs one operation inside the batch's transaction; its result object.
fn perform(
    conn: &mut DbConnection,
    caller: &Caller,
    planned: Planned,
    prepared: Prepared,
    base: &str,
) -> ApiResult<Value> {
    let writes = planned.writes;
    let written = match planned.action {
        Action::Create(input) => writes.create(conn, caller, &input, prepared)?,
        Action::Update { id, input } => writes.update(conn, caller, &id, &input)?,
        Action::Delete { id } => {
            writes.delete(conn, caller, &id)?;
            return Ok(json!({}));
        }
        Action::Relationship {
            id,
            name,
            members,
            change,
        } => {
            writes.change_relationship(conn, caller, &id, &name, &members, change)?;
            return Ok(json!({}));
        }
    };
    // The resource as a single request would have answered with it, now.
    let graph = super::read::load_one(
        conn,
        caller,
        writes.resource(),
        &written.id,
        &Query::default(),
    )?;
    let options = DocumentOptions {
        base,
        fields: &Default::default(),
        include_given: false,
        links: Vec::new(),
        meta: None,
    };
    let document: Value = serde_json::from_slice(&document::write_document(
        &graph,
        &Primary::One(0),
        &options,
    ))
    .map_err(ApiError::internal)?;
    let mut data = document.get("data").cloned().unwrap_or(Value::Null);
    if let (Some(lid), Value::Object(object)) = (planned.lid, &mut data) {
        object.insert("lid".into(), Value::String(lid));
    }
    let mut result = Map::new();
    result.insert("data".into(), data);
    if let Some(meta) = written.meta {
        result.insert("meta".into(), meta);
    }
    Ok(Value::Object(result))
}
