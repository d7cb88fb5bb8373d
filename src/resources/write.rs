//! Writes, declared once. A writable type implements [`Writable`] — only what is truly
//! its own: who may create or change it, its values, its uniqueness rules, its inserts.
//! Everything every write shares lives here, once, for the HTTP handlers and for Atomic
//! Operations (`operations.rs`) alike: the document parse, the client id (its default and
//! its 409), the lookup of the resource to change (404), the relationships a body may
//! not set (403), read-only attributes (422), the `updated_at` stamp, the audit diff of
//! an update (computed from the attributes before and after), the transaction and the
//! response.
//!
//! Error pointers are written as a single request would have them (`/data/…`); a batch
//! rebases them onto its operation (`/atomic:operations/N/data/…`, see
//! [`ApiError::at_operation`](crate::jsonapi::error::ApiError::at_operation)).

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::engine::{self, DynResource, Engine, Resource, single_scope};
use super::read::{load_one, parse_query, single_response};
use crate::audit::{self, Changes};
use crate::auth::Caller;
use crate::db::{DbConnection, write_transaction};
use crate::domain::Password;
use crate::jsonapi::document::{ResourceView, attributes_of};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorSource};
use crate::jsonapi::http::{Ctx, JsonApiBody};
use crate::jsonapi::input::{
    Intent, Linkage, ResourceInput, parse_identifiers, parse_resource_document,
};
use crate::jsonapi::schema::Access;
use crate::state::AppState;

/// Which writes a type takes: the route table attaches the generic handlers for these,
/// and a batch refuses the others.
#[derive(Debug, Clone, Copy)]
pub struct Writes {
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    /// To-many relationships changed through `/{type}/{id}/relationships/{name}`.
    pub relationships: &'static [&'static str],
}

impl Writes {
    pub const ALL: Writes = Writes {
        create: true,
        update: true,
        delete: true,
        relationships: &[],
    };
}

/// How a relationship write changes a to-many set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetChange {
    /// POST / `add`: add those not there.
    Add,
    /// DELETE / `remove`: remove those there.
    Remove,
    /// PATCH / `update`: make the set exactly this.
    Replace,
}

/// What is done before the transaction, so that no write lock is held meanwhile: the
/// hash of a password sent on create.
#[derive(Debug, Default)]
pub struct Prepared {
    pub password_hash: Option<String>,
}

/// The id of a resource being created: the client's (already canonical) or a new UUID
/// v7. A create gets it only through [`NewId::claim`], after its own authorization, so
/// the "exists → 409" check can neither be forgotten nor answer a caller who may not
/// create (which would tell it that some other tenant's id exists).
pub struct NewId {
    id: String,
    /// The client chose it; a new UUID v7 is unique without looking.
    requested: bool,
    table: &'static str,
    type_name: &'static str,
}

impl NewId {
    fn new(requested: Option<String>, table: &'static str, type_name: &'static str) -> Self {
        NewId {
            requested: requested.is_some(),
            id: requested.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            table,
            type_name,
        }
    }

    /// The id, once no row of the type (deleted ones included) has it: 409 at `/data/id`.
    pub fn claim(self, conn: &mut DbConnection) -> ApiResult<String> {
        if self.requested && engine::id_taken(conn, self.table, &self.id)? {
            return Err(ApiError::conflict(
                "/data/id",
                format!("A {} with this id already exists.", self.type_name),
            ));
        }
        Ok(self.id)
    }

    /// The id before it is claimed (for a pointer or a log line, never for an insert).
    pub fn peek(&self) -> &str {
        &self.id
    }
}

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

/// A type's own part of its writes. Each method runs inside the write's transaction
/// (one per request, or one per batch); the engine has already parsed the document.
/// The contract's order of checks is the type's to keep: linkages the caller cannot see
/// (404), then permission (403), then values (422), then conflicts (409).
pub trait Writable: Resource
where
    Self::Row: Send,
{
    /// The writes the type takes.
    const WRITES: Writes;
    /// The relationships a create body may set; any other may only repeat the value
    /// the server gives the new resource (SPEC §2).
    const SET_ON_CREATE: &'static [&'static str] = &[];
    /// The relationships an update body may set; any other may only repeat the value
    /// the resource has.
    const SET_ON_UPDATE: &'static [&'static str] = &[];
    /// Attributes whose change the audit log records without the values (secrets).
    const MASKED: &'static [&'static str] = &[];

    /// The to-one values the server gives a new resource (a create body may repeat them).
    fn given_on_create(_caller: &Caller) -> Vec<(&'static str, Option<String>)> {
        Vec::new()
    }

    /// The password to hash before the transaction, if the create carries a valid one
    /// and the caller may create at all (so that a refused request costs no hash).
    fn password_to_hash(_caller: &Caller, _input: &ResourceInput) -> Option<Password> {
        None
    }

    /// Creates the resource, with its audit event; its id comes from `id.claim`.
    fn create(
        _conn: &mut DbConnection,
        _caller: &Caller,
        _input: &ResourceInput,
        _id: NewId,
        _prepared: Prepared,
    ) -> ApiResult<Written> {
        Err(ApiError::internal("a create of a type that takes none"))
    }

    /// The resource a change or delete acts on, as the caller sees it (404 otherwise).
    /// Admins see deleted resources too: the policy then answers 409, not 404.
    fn find_for_change(conn: &mut DbConnection, caller: &Caller, id: &str) -> ApiResult<Self::Row> {
        engine::find::<Self>(conn, &single_scope(caller), id)
    }

    /// Before an update changes anything: linkages the body names that the caller
    /// cannot see (404), then whether it may change `current` this way (403).
    fn authorize_update(
        _conn: &mut DbConnection,
        _caller: &Caller,
        _current: &Self::Row,
        _input: &ResourceInput,
    ) -> ApiResult<()> {
        Err(ApiError::internal("an update of a type that takes none"))
    }

    /// Writes the update's values (the engine stamps `updated_at` and records the audit
    /// diff when anything changed).
    fn update(
        _conn: &mut DbConnection,
        _caller: &Caller,
        _current: &Self::Row,
        _input: &ResourceInput,
    ) -> ApiResult<()> {
        Err(ApiError::internal("an update of a type that takes none"))
    }

    /// The account whose audit log records a change to `row`.
    fn audit_account(
        _conn: &mut DbConnection,
        caller: &Caller,
        _row: &Self::Row,
    ) -> ApiResult<String> {
        Ok(caller.account_id.clone())
    }

    /// Deletes `current` (authorizing it first), with its audit event.
    fn delete(_conn: &mut DbConnection, _caller: &Caller, _current: &Self::Row) -> ApiResult<()> {
        Err(ApiError::internal("a delete of a type that takes none"))
    }

    /// Changes a to-many relationship of `current` (one of `WRITES.relationships`);
    /// `pointer` is where the member list is in the request.
    fn change_relationship(
        _conn: &mut DbConnection,
        _caller: &Caller,
        _current: &Self::Row,
        _name: &str,
        _members: &[String],
        _change: SetChange,
        _pointer: &str,
    ) -> ApiResult<()> {
        Err(ApiError::forbidden(
            "This relationship cannot be changed here.",
        ))
    }
}

/// The writes of one type, for code that knows types only by name: the route table and
/// a batch of operations.
pub trait DynWrites: Sync {
    fn resource(&'static self) -> &'static dyn DynResource;
    fn writes(&self) -> Writes;
    /// The password to hash before the transaction (see [`Writable::password_to_hash`]).
    fn password_to_hash(&self, caller: &Caller, input: &ResourceInput) -> Option<Password>;
    fn create(
        &'static self,
        conn: &mut DbConnection,
        caller: &Caller,
        input: &ResourceInput,
        prepared: Prepared,
    ) -> ApiResult<Written>;
    fn update(
        &'static self,
        conn: &mut DbConnection,
        caller: &Caller,
        id: &str,
        input: &ResourceInput,
    ) -> ApiResult<Written>;
    fn delete(&'static self, conn: &mut DbConnection, caller: &Caller, id: &str) -> ApiResult<()>;
    fn change_relationship(
        &'static self,
        conn: &mut DbConnection,
        caller: &Caller,
        id: &str,
        name: &str,
        members: &[String],
        change: SetChange,
    ) -> ApiResult<()>;
}

impl<R: Writable> DynWrites for Engine<R>
where
    R::Row: Send,
{
    fn resource(&'static self) -> &'static dyn DynResource {
        self
    }

    fn writes(&self) -> Writes {
        R::WRITES
    }

    fn password_to_hash(&self, caller: &Caller, input: &ResourceInput) -> Option<Password> {
        R::password_to_hash(caller, input)
    }

    fn create(
        &'static self,
        conn: &mut DbConnection,
        caller: &Caller,
        input: &ResourceInput,
        prepared: Prepared,
    ) -> ApiResult<Written> {
        let given = R::given_on_create(caller);
        let given: Vec<(&str, Option<&str>)> =
            given.iter().map(|(n, v)| (*n, v.as_deref())).collect();
        refuse_unsettable_on_create(input, R::SET_ON_CREATE, &given)?;
        let id = NewId::new(input.id.clone(), R::TABLE, R::SCHEMA.type_name);
        R::create(conn, caller, input, id, prepared)
    }

    fn update(
        &'static self,
        conn: &mut DbConnection,
        caller: &Caller,
        id: &str,
        input: &ResourceInput,
    ) -> ApiResult<Written> {
        engine::authorize_type::<R>(caller)?;
        let before = R::find_for_change(conn, caller, id)?;
        R::authorize_update(conn, caller, &before, input)?;
        refuse_unsettable(conn, caller, input, R::SET_ON_UPDATE, self, &before)?;
        input.check_read_only(R::SCHEMA, &attributes_of(&before))?;
        R::update(conn, caller, &before, input)?;
        let after = engine::find::<R>(conn, &single_scope(caller), id)?;
        let changes = audit_diff(R::SCHEMA, R::MASKED, &before, &after);
        if !changes.is_empty() {
            engine::touch::<R>(conn, id, caller.now)?;
            let account = R::audit_account(conn, caller, &after)?;
            let action = format!("{}.updated", R::SCHEMA.type_name);
            audit::record_by(
                conn,
                caller,
                &account,
                &action,
                (R::SCHEMA.type_name, id),
                changes,
            )?;
        }
        Ok(Written::id(id))
    }

    fn delete(&'static self, conn: &mut DbConnection, caller: &Caller, id: &str) -> ApiResult<()> {
        engine::authorize_type::<R>(caller)?;
        let current = R::find_for_change(conn, caller, id)?;
        R::delete(conn, caller, &current)
    }

    fn change_relationship(
        &'static self,
        conn: &mut DbConnection,
        caller: &Caller,
        id: &str,
        name: &str,
        members: &[String],
        change: SetChange,
    ) -> ApiResult<()> {
        engine::authorize_type::<R>(caller)?;
        let current = R::find_for_change(conn, caller, id)?;
        if !R::WRITES.relationships.contains(&name) {
            return Err(ApiError::forbidden(
                "This relationship cannot be changed here.",
            ));
        }
        R::change_relationship(conn, caller, &current, name, members, change, "/data")
    }
}

/// `attribute → [old, new]` for every writable attribute whose shown value changed;
/// `masked` ones say that they changed, never their values.
fn audit_diff(
    schema: &crate::jsonapi::schema::ResourceSchema,
    masked: &[&str],
    before: &dyn ResourceView,
    after: &dyn ResourceView,
) -> Changes {
    let (before, after) = (attributes_of(before), attributes_of(after));
    let mut changes = Changes::default();
    for attribute in schema.attributes {
        if attribute.access != Access::ReadWrite {
            continue;
        }
        let old = before.get(attribute.name).cloned().unwrap_or(Value::Null);
        let new = after.get(attribute.name).cloned().unwrap_or(Value::Null);
        if old == new {
            continue;
        }
        if masked.contains(&attribute.name) {
            changes.set(attribute.name, "[previous]", "[new]");
        } else {
            changes.set(attribute.name, old, new);
        }
    }
    changes
}

// ---------------------------------------------------------------------------------
// The HTTP handlers every writable type shares; the route table attaches them.

/// The writable type a write route serves (app data set by the route table).
#[derive(Clone, Copy)]
pub struct WriteRef(pub &'static dyn DynWrites);

fn writes_of(req: &HttpRequest) -> ApiResult<&'static dyn DynWrites> {
    req.app_data::<WriteRef>()
        .map(|w| w.0)
        .ok_or_else(|| ApiError::internal("a write route without a writable type"))
}

/// Hashes the passwords of a batch's creates, several at once (bounded by the cores,
/// since each hash holds 19 MiB), off the HTTP workers.
pub async fn hash_passwords(passwords: Vec<Option<Password>>) -> ApiResult<Vec<Prepared>> {
    if passwords.iter().all(Option::is_none) {
        return Ok(passwords.into_iter().map(|_| Prepared::default()).collect());
    }
    web::block(move || {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let next = std::sync::atomic::AtomicUsize::new(0);
        let hashes: Vec<std::sync::Mutex<Option<Result<String, String>>>> = passwords
            .iter()
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        std::thread::scope(|s| {
            for _ in 0..threads.min(passwords.len()) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(password) = passwords.get(i) else {
                            break;
                        };
                        if let Some(password) = password {
                            let hash = crate::auth::password::hash(password.expose());
                            if let Ok(mut slot) = hashes[i].lock() {
                                *slot = Some(hash);
                            }
                        }
                    }
                });
            }
        });
        hashes
            .into_iter()
            .map(|slot| {
                let hash = slot.into_inner().ok().flatten().transpose()?;
                Ok(Prepared {
                    password_hash: hash,
                })
            })
            .collect::<Result<Vec<Prepared>, String>>()
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// `POST /{type}`.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    let writes = writes_of(&req)?;
    let resource = writes.resource();
    let input = parse_resource_document(body.0, resource.schema(), Intent::Create)?;
    let password = writes.password_to_hash(&caller, &input);
    let prepared = hash_passwords(vec![password])
        .await?
        .pop()
        .unwrap_or_default();
    change_and_show(
        &req,
        &state,
        &ctx,
        caller,
        resource,
        StatusCode::CREATED,
        move |conn, caller| writes.create(conn, caller, &input, prepared),
    )
    .await
}

/// `PATCH /{type}/{id}`: absent attributes stay as they are.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<String>,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    let writes = writes_of(&req)?;
    let resource = writes.resource();
    let id = path.into_inner();
    let input = parse_resource_document(body.0, resource.schema(), Intent::Update { id: &id })?;
    change_and_show(
        &req,
        &state,
        &ctx,
        caller,
        resource,
        StatusCode::OK,
        move |conn, caller| writes.update(conn, caller, &id, &input),
    )
    .await
}

/// `DELETE /{type}/{id}` → 204.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let writes = writes_of(&req)?;
    let id = path.into_inner();
    change_only(&state, &ctx, caller, move |conn, caller| {
        writes.delete(conn, caller, &id)
    })
    .await
}

/// `POST|PATCH|DELETE /{type}/{id}/relationships/{name}` → 204: adds, replaces or
/// removes members of a to-many relationship, all in one transaction, each member
/// authorized as if sent alone; adding what is there or removing what is gone succeeds.
pub async fn change_relationship(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    let writes = writes_of(&req)?;
    let (id, name) = path.into_inner();
    let change = match *req.method() {
        actix_web::http::Method::POST => SetChange::Add,
        actix_web::http::Method::DELETE => SetChange::Remove,
        _ => SetChange::Replace,
    };
    let members = relationship_members(writes, &name, body.0)?;
    change_only(&state, &ctx, caller, move |conn, caller| {
        writes.change_relationship(conn, caller, &id, &name, &members, change)
    })
    .await
}

/// The member ids of a relationship document (`{"data": [...]}`) for `name` of a type:
/// 404 for a relationship the type does not have, 403 for one that is not written here.
pub fn relationship_members(
    writes: &'static dyn DynWrites,
    name: &str,
    document: Value,
) -> ApiResult<Vec<String>> {
    let schema = writes.resource().schema();
    let relationship = schema.relationship(name).ok_or_else(ApiError::not_found)?;
    if !relationship.is_to_many() || !writes.writes().relationships.contains(&name) {
        return Err(ApiError::forbidden(
            "This relationship cannot be changed here.",
        ));
    }
    parse_identifiers(document, relationship.target, true)
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
