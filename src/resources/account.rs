//! The `account` resource: a tenant. A caller sees the accounts it is a member of; a
//! platform admin sees every account.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::accounts;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{
    Attribute, Filter, FilterKind, Relationship, ResourceSchema, ValueType,
};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "account",
    path: "accounts",
    attributes: &[
        Attribute::read_write("name").line(1, 200).required(),
        Attribute::read_write("slug")
            .of(ValueType::Pattern {
                pattern: "^[a-z0-9-]{3,63}$",
                min: 3,
                max: 63,
            })
            .required(),
        Attribute::read_only("created_at").time(),
        Attribute::read_only("updated_at").time(),
        Attribute::read_only("discarded_at").time().nullable(),
    ],
    relationships: &[
        Relationship::to_many("users", "user"),
        Relationship::to_many("account_memberships", "account_membership"),
        Relationship::to_many("teams", "team"),
    ],
    filters: &[
        Filter::new("slug", FilterKind::Exact),
        Filter::new("name", FilterKind::Text),
        Filter::new("discarded", FilterKind::OneOf(&["only", "all"])),
    ],
    sorts: &["name", "created_at"],
    actions: policy::account::ACTIONS,
};

#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    #[diesel(deserialize_as = crate::db::time::Time)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::time::Time)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::time::OptionalTime)]
    pub discarded_at: Option<NaiveDateTime>,
}

impl ResourceView for AccountRow {
    fn schema(&self) -> &'static ResourceSchema {
        &SCHEMA
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn write_attributes(&self, w: &mut AttributeWriter<'_>) {
        w.value("name", &self.name)
            .value("slug", &self.slug)
            .time("created_at", &self.created_at)
            .time("updated_at", &self.updated_at)
            .opt_time("discarded_at", self.discarded_at.as_ref());
    }
    fn to_one(&self, _relationship: &str) -> Option<&str> {
        None
    }
}

pub struct AccountResource;

impl Resource for AccountResource {
    type Row = AccountRow;
    const SCHEMA: &'static ResourceSchema = &SCHEMA;
    const TABLE: &'static str = "accounts";
    const COLUMNS: &'static str = "accounts.id, accounts.name, accounts.slug, accounts.created_at, \
         accounts.updated_at, accounts.discarded_at";
    const SOFT_DELETE: bool = true;
    const SORTS: &'static [SortSpec<AccountRow>] = &[
        SortSpec {
            name: "name",
            expr: "accounts.name",
            kind: SortKind::Text,
            nullable: false,
            value: |r| Some(CursorValue::Text(r.name.clone())),
        },
        SortSpec {
            name: "created_at",
            expr: "accounts.created_at",
            kind: SortKind::Time,
            nullable: false,
            value: |r| Some(CursorValue::Time(r.created_at)),
        },
    ];
    const FILTERS: &'static [(&'static str, FilterSql)] = &[
        ("slug", FilterSql::Column("accounts.slug")),
        ("name", FilterSql::Contains(&["accounts.name"])),
        ("discarded", FilterSql::Special),
    ];
    const LINKS: &'static [(&'static str, Link)] = &[
        (
            "users",
            Link::Through {
                table: "account_memberships",
                owner_column: "account_id",
                target_column: "user_id",
            },
        ),
        (
            "account_memberships",
            Link::Reverse {
                column: "account_id",
            },
        ),
        (
            "teams",
            Link::Reverse {
                column: "account_id",
            },
        ),
    ];

    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        policy::account::scope(q, scope);
    }

    fn actions(row: &AccountRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        policy::account::actions(caller, &row.id)
    }
}

// ---------------------------------------------------------------------------------
// Writes

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::write::{
    Written, change_and_show, change_only, refuse_unsettable, refuse_unsettable_on_create,
};
use crate::audit::{self, Changes};
use crate::db::DbConnection;
use crate::db::schema::account_memberships;
use crate::domain::{AccountRole, Name, Slug};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorSource};
use crate::jsonapi::http::{Ctx, JsonApiBody};
use crate::jsonapi::input::{
    Intent, Patch, Presence, Problems, ResourceInput, attribute_pointer, parse_resource_document,
};
use crate::state::AppState;

fn slug_taken() -> ApiError {
    ApiError::taken(attribute_pointer("slug"), "This slug is already taken.")
}

fn check_slug_free(conn: &mut DbConnection, slug: &Slug, except_id: &str) -> ApiResult<()> {
    let taken: i64 = accounts::table
        .filter(accounts::slug.eq(slug.as_str()))
        .filter(accounts::discarded_at.is_null())
        .filter(accounts::id.ne(except_id))
        .count()
        .get_result(conn)?;
    if taken > 0 { Err(slug_taken()) } else { Ok(()) }
}

fn map_unique(e: diesel::result::Error) -> ApiError {
    crate::jsonapi::error::map_unique(
        e,
        &[(
            "slug",
            "/data/attributes/slug",
            "This slug is already taken.",
        )],
    )
}

/// Name and slug from a request; `required` on create.
fn parse_account(input: &ResourceInput, required: bool) -> ApiResult<(Option<Name>, Option<Slug>)> {
    let mut problems = Problems::default();
    let presence = Presence::required_if(required);
    let name = input
        .parse_string(&mut problems, "name", presence, Name::parse)
        .flatten();
    let slug = input
        .parse_string(&mut problems, "slug", presence, Slug::parse)
        .flatten();
    problems.finish()?;
    Ok((name, slug))
}

/// `POST /accounts`: a new account whose owner is the caller (as a guest membership:
/// the caller's home account stays where it is).
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    let input = parse_resource_document(body.0, &SCHEMA, Intent::Create)?;
    // Its users, memberships and teams come after it, each through its own endpoint.
    refuse_unsettable_on_create(&input, &[], &[])?;
    let (Some(name), Some(slug)) = parse_account(&input, true)? else {
        return Err(ApiError::internal("fields checked above"));
    };
    let id = input
        .id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    change_and_show(
        &req,
        &state,
        &ctx,
        caller,
        &super::ACCOUNTS,
        StatusCode::CREATED,
        move |conn, caller| {
            let exists: i64 = accounts::table
                .filter(accounts::id.eq(&id))
                .count()
                .get_result(conn)?;
            if exists > 0 {
                return Err(ApiError::conflict(
                    "/data/id",
                    "An account with this id already exists.",
                ));
            }
            check_slug_free(conn, &slug, &id)?;
            diesel::insert_into(accounts::table)
                .values((
                    accounts::id.eq(&id),
                    accounts::name.eq(name.as_str()),
                    accounts::slug.eq(slug.as_str()),
                    accounts::created_at.eq(caller.now),
                    accounts::updated_at.eq(caller.now),
                ))
                .execute(conn)
                .map_err(map_unique)?;
            diesel::insert_into(account_memberships::table)
                .values((
                    account_memberships::id.eq(uuid::Uuid::now_v7().to_string()),
                    account_memberships::account_id.eq(&id),
                    account_memberships::user_id.eq(&caller.user_id),
                    account_memberships::role.eq(AccountRole::Owner.as_str()),
                    account_memberships::created_at.eq(caller.now),
                    account_memberships::updated_at.eq(caller.now),
                ))
                .execute(conn)?;
            let mut changes = Changes::default();
            changes.set("name", Value::Null, name.as_str());
            changes.set("slug", Value::Null, slug.as_str());
            audit::record_by(
                conn,
                caller,
                &id,
                "account.created",
                ("account", &id),
                changes,
            )?;
            Ok(Written::id(id))
        },
    )
    .await
}

/// `PATCH /accounts/{id}`: account admins.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<String>,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let input = parse_resource_document(body.0, &SCHEMA, Intent::Update { id: &id })?;
    let (name, slug) = parse_account(&input, false)?;
    change_and_show(
        &req,
        &state,
        &ctx,
        caller,
        &super::ACCOUNTS,
        StatusCode::OK,
        move |conn, caller| {
            let current = super::engine::find_live::<AccountResource>(conn, caller, &id)?;
            policy::account::decide(caller, policy::account::Action::Edit, &current.id)
                .enforce("edit")?;
            refuse_unsettable(conn, caller, &input, &[], &super::ACCOUNTS, &current)?;
            input.check_read_only(&SCHEMA, &crate::jsonapi::document::attributes_of(&current))?;
            if let Some(slug) = &slug {
                check_slug_free(conn, slug, &id)?;
            }
            let new_name = name
                .as_ref()
                .map_or(current.name.clone(), |n| n.as_str().to_owned());
            let new_slug = slug
                .as_ref()
                .map_or(current.slug.clone(), |s| s.as_str().to_owned());
            let mut changes = Changes::default();
            changes.set("name", current.name.as_str(), new_name.as_str());
            changes.set("slug", current.slug.as_str(), new_slug.as_str());
            if !changes.is_empty() {
                diesel::update(accounts::table.find(&id))
                    .set((
                        accounts::name.eq(&new_name),
                        accounts::slug.eq(&new_slug),
                        accounts::updated_at.eq(caller.now),
                    ))
                    .execute(conn)
                    .map_err(map_unique)?;
                audit::record_by(
                    conn,
                    caller,
                    &id,
                    "account.updated",
                    ("account", &id),
                    changes,
                )?;
            }
            Ok(Written::id(id))
        },
    )
    .await
}

/// `DELETE /accounts/{id}`: owners only; a soft delete after which the account's
/// sessions stop working (the token check requires a live account).
pub async fn delete(
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    change_only(&state, &ctx, caller, move |conn, caller| {
        let current = super::engine::find_live::<AccountResource>(conn, caller, &id)?;
        policy::account::decide(caller, policy::account::Action::Delete, &current.id)
            .enforce("delete")?;
        super::engine::soft_delete::<AccountResource>(conn, &id, caller.now)?;
        audit::record_by(
            conn,
            caller,
            &id,
            "account.deleted",
            ("account", &id),
            Changes::default(),
        )
    })
    .await
}

// ---------------------------------------------------------------------------------
// The account a create of another type acts in (memberships, invitations)

/// The account a create acts in: the caller's own, or — for a platform admin — the one
/// its `account` relationship names. An account the caller cannot see is a 404 at the
/// linkage, before any other check (SPEC §2).
pub fn target_account(
    caller: &Caller,
    requested: Patch<String>,
    pointer: &str,
) -> ApiResult<String> {
    match requested {
        Patch::Value(id) if id == caller.account_id || caller.platform_admin => Ok(id),
        Patch::Value(_) | Patch::Null => {
            Err(ApiError::not_found().with_source(ErrorSource::Pointer(pointer.to_owned())))
        }
        Patch::Absent => Ok(caller.account_id.clone()),
    }
}

/// 404 at `pointer` unless the account exists and is not deleted.
pub fn ensure_live(conn: &mut DbConnection, account_id: &str, pointer: &str) -> ApiResult<()> {
    let live: i64 = accounts::table
        .filter(accounts::id.eq(account_id))
        .filter(accounts::discarded_at.is_null())
        .count()
        .get_result(conn)?;
    if live == 0 {
        return Err(ApiError::not_found().with_source(ErrorSource::Pointer(pointer.to_owned())));
    }
    Ok(())
}
