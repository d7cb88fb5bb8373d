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

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub discarded_at: Option<NaiveDateTime>,
}

crate::read_by_position!(AccountRow { id, name, slug, created_at, updated_at, discarded_at });

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

use serde_json::Value;

use super::write::{NewId, Prepared, Writable, Writes, Written};
use crate::audit::{self, Changes};
use crate::db::DbConnection;
use crate::db::schema::account_memberships;
use crate::domain::{AccountRole, Name, Slug};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorSource};
use crate::jsonapi::input::{Patch, Presence, Problems, ResourceInput, attribute_pointer};

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

impl Writable for AccountResource {
    const WRITES: Writes = Writes::ALL;

    /// `POST /accounts`: a new account whose owner is the caller (as a guest membership:
    /// the caller's home account stays where it is). Its users, memberships and teams
    /// come after it, each through its own endpoint.
    fn create(
        conn: &mut DbConnection,
        caller: &Caller,
        input: &ResourceInput,
        id: NewId,
        _prepared: Prepared,
    ) -> ApiResult<Written> {
        let (Some(name), Some(slug)) = parse_account(input, true)? else {
            return Err(ApiError::internal("fields checked above"));
        };
        let id = id.claim(conn)?;
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
    }

    /// A deleted account is gone for everyone.
    fn find_for_change(
        conn: &mut DbConnection,
        caller: &Caller,
        id: &str,
    ) -> ApiResult<AccountRow> {
        super::engine::find_live::<AccountResource>(conn, caller, id)
    }

    /// `PATCH /accounts/{id}`: account admins.
    fn authorize_update(
        _: &mut DbConnection,
        caller: &Caller,
        current: &AccountRow,
        _: &ResourceInput,
    ) -> ApiResult<()> {
        policy::account::decide(caller, policy::account::Action::Edit, &current.id).enforce("edit")
    }

    fn update(
        conn: &mut DbConnection,
        _: &Caller,
        current: &AccountRow,
        input: &ResourceInput,
    ) -> ApiResult<()> {
        let (name, slug) = parse_account(input, false)?;
        if let Some(slug) = &slug {
            check_slug_free(conn, slug, &current.id)?;
        }
        let name = name.map_or(current.name.clone(), |n| n.as_str().to_owned());
        let slug = slug.map_or(current.slug.clone(), |s| s.as_str().to_owned());
        diesel::update(accounts::table.find(&current.id))
            .set((accounts::name.eq(&name), accounts::slug.eq(&slug)))
            .execute(conn)
            .map_err(map_unique)?;
        Ok(())
    }

    fn audit_account(_: &mut DbConnection, _: &Caller, account: &AccountRow) -> ApiResult<String> {
        Ok(account.id.clone())
    }

    /// `DELETE /accounts/{id}`: owners only; a soft delete after which the account's
    /// sessions stop working (the token check requires a live account).
    fn delete(conn: &mut DbConnection, caller: &Caller, current: &AccountRow) -> ApiResult<()> {
        policy::account::decide(caller, policy::account::Action::Delete, &current.id)
            .enforce("delete")?;
        super::engine::soft_delete::<AccountResource>(conn, &current.id, caller.now)?;
        audit::record_by(
            conn,
            caller,
            &current.id,
            "account.deleted",
            ("account", &current.id),
            Changes::default(),
        )
    }
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
