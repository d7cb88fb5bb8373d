//! The `user` resource: its declaration for the engine (attributes, relationships,
//! filters, sorts, scope) and its writes (create, update, soft delete).
//!
//! The users of an account are the users with a membership in it: a user's home account
//! always holds one, and another account may add the user as a guest.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::users;
use crate::domain::UserStatus;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{
    Attribute, Filter, FilterKind, Relationship, ResourceSchema, ValueType,
};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "user",
    path: "users",
    attributes: &[
        Attribute::read_write("name").line(1, 200).required(),
        Attribute::read_write("email")
            .of(ValueType::Email)
            .nullable(),
        Attribute::read_write("identifier").line(1, 255).nullable(),
        Attribute::read_only("status").of(ValueType::OneOf(UserStatus::ALL)),
        Attribute::read_write("avatar")
            .of(ValueType::Pattern {
                pattern: Avatar::PATTERN,
                min: 1,
                max: 255,
            })
            .nullable(),
        Attribute::read_write("timezone").of(ValueType::OneOfListed(Timezone::names)),
        Attribute::read_write("preferences").of(ValueType::Object),
        Attribute::write_only("password").text(10, 256),
        Attribute::read_only("last_sign_in_at").time().nullable(),
        Attribute::read_only("created_at").time(),
        Attribute::read_only("updated_at").time(),
        Attribute::read_only("discarded_at").time().nullable(),
    ],
    relationships: &[
        Relationship::to_one("account", "account"),
        Relationship::to_many("account_memberships", "account_membership"),
        Relationship::to_many("teams", "team"),
        Relationship::to_many("team_memberships", "team_membership"),
        Relationship::to_many("devices", "device"),
    ],
    filters: &[
        Filter::new("status", FilterKind::OneOf(UserStatus::ALL)),
        Filter::new("email", FilterKind::Exact),
        Filter::new("identifier", FilterKind::Exact),
        Filter::new("name", FilterKind::Text),
        Filter::new("q", FilterKind::Text),
        Filter::new("created_at", FilterKind::Date),
        Filter::new("team", FilterKind::Id),
        Filter::new("discarded", FilterKind::OneOf(&["only", "all"])),
        Filter::new("account", FilterKind::Id),
    ],
    sorts: &[
        "name",
        "email",
        "status",
        "created_at",
        "updated_at",
        "last_sign_in_at",
        "alive",
    ],
    actions: policy::user::ACTIONS,
};

/// A user as the API shows it. The password hash is deliberately not a field: it is
/// never loaded with a user, so it cannot reach a response by accident.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub email: Option<String>,
    pub identifier: Option<String>,
    pub status: String,
    pub previous_status: Option<String>,
    pub avatar: Option<String>,
    pub timezone: String,
    pub preferences: String,
    pub last_sign_in_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub discarded_at: Option<NaiveDateTime>,
}

crate::read_by_position!(UserRow { id, account_id, name, email, identifier, status, previous_status, avatar, timezone, preferences, last_sign_in_at, created_at, updated_at, discarded_at });

pub const COLUMNS: &str = "users.id, users.account_id, users.name, users.email, users.identifier, \
     users.status, users.previous_status, users.avatar, users.timezone, users.preferences, \
     users.last_sign_in_at, users.created_at, users.updated_at, users.discarded_at";

impl UserRow {
    pub fn status(&self) -> UserStatus {
        UserStatus::parse(&self.status).unwrap_or(UserStatus::Created)
    }

    /// What the policy needs to know about this user, for `caller`. Whether it owns the
    /// caller's account comes with the caller (read once with the session), so that no
    /// query needs a per-row role lookup.
    pub fn facts<'a>(&'a self, caller: &Caller) -> policy::UserFacts<'a> {
        policy::UserFacts {
            id: &self.id,
            status: self.status(),
            owner: caller.account_owner_ids.contains(&self.id),
            home_account_id: &self.account_id,
        }
    }
}

impl ResourceView for UserRow {
    fn schema(&self) -> &'static ResourceSchema {
        &SCHEMA
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn write_attributes(&self, w: &mut AttributeWriter<'_>) {
        w.value("name", &self.name)
            .value("email", &self.email)
            .value("identifier", &self.identifier)
            .value("status", &self.status)
            .value("avatar", &self.avatar)
            .value("timezone", &self.timezone)
            .raw_json("preferences", &self.preferences)
            .opt_time("last_sign_in_at", self.last_sign_in_at.as_ref())
            .time("created_at", &self.created_at)
            .time("updated_at", &self.updated_at)
            .opt_time("discarded_at", self.discarded_at.as_ref());
    }
    fn to_one(&self, relationship: &str) -> Option<&str> {
        match relationship {
            "account" => Some(&self.account_id),
            _ => None,
        }
    }
}

pub struct UserResource;

impl Resource for UserResource {
    type Row = UserRow;
    const SCHEMA: &'static ResourceSchema = &SCHEMA;
    const TABLE: &'static str = "users";
    const COLUMNS: &'static str = COLUMNS;
    const SOFT_DELETE: bool = true;
    const SORTS: &'static [SortSpec<UserRow>] = &[
        SortSpec {
            name: "name",
            expr: "users.name",
            kind: SortKind::Text,
            nullable: false,
            value: |r| Some(CursorValue::Text(r.name.clone())),
        },
        SortSpec {
            name: "email",
            expr: "users.email",
            kind: SortKind::Text,
            nullable: true,
            value: |r| r.email.clone().map(CursorValue::Text),
        },
        SortSpec {
            name: "status",
            expr: "users.status",
            kind: SortKind::Text,
            nullable: false,
            value: |r| Some(CursorValue::Text(r.status.clone())),
        },
        SortSpec {
            name: "created_at",
            expr: "users.created_at",
            kind: SortKind::Time,
            nullable: false,
            value: |r| Some(CursorValue::Time(r.created_at)),
        },
        SortSpec {
            name: "updated_at",
            expr: "users.updated_at",
            kind: SortKind::Time,
            nullable: false,
            value: |r| Some(CursorValue::Time(r.updated_at)),
        },
        SortSpec {
            name: "last_sign_in_at",
            expr: "users.last_sign_in_at",
            kind: SortKind::Time,
            nullable: true,
            value: |r| r.last_sign_in_at.map(CursorValue::Time),
        },
        // `alive`: active, created and invited users before deactivated, blocked, deleted.
        // The index `users_account_alive_live` (migration 4) repeats this expression.
        SortSpec {
            name: "alive",
            expr: "(CASE WHEN users.status IN ('active', 'created', 'invited') THEN 0 ELSE 1 END)",
            kind: SortKind::Int,
            nullable: false,
            value: |r| Some(CursorValue::Int(if r.status().is_alive() { 0 } else { 1 })),
        },
    ];
    const FILTERS: &'static [(&'static str, FilterSql)] = &[
        ("status", FilterSql::Column("users.status")),
        ("email", FilterSql::Folded("users.email_key")),
        ("identifier", FilterSql::Column("users.identifier")),
        ("name", FilterSql::Contains(&["users.name"])),
        ("q", FilterSql::Contains(&["users.name", "users.email"])),
        ("created_at", FilterSql::Column("users.created_at")),
        (
            "team",
            FilterSql::Through {
                table: "team_memberships",
                owner_column: "user_id",
                target_column: "team_id",
                visible: policy::team::visible_ids,
            },
        ),
        ("discarded", FilterSql::Special),
        ("account", FilterSql::Special),
    ];
    const LINKS: &'static [(&'static str, Link)] = &[
        (
            "account",
            Link::ToOne {
                column: "account_id",
            },
        ),
        ("account_memberships", Link::Reverse { column: "user_id" }),
        (
            "teams",
            Link::Through {
                table: "team_memberships",
                owner_column: "user_id",
                target_column: "team_id",
            },
        ),
        ("team_memberships", Link::Reverse { column: "user_id" }),
        ("devices", Link::Reverse { column: "user_id" }),
    ];

    /// The policy's tenant rule (`policy::user::scope`).
    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        policy::user::scope(q, scope);
    }

    fn actions(row: &UserRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        policy::user::actions(caller, &row.facts(caller))
    }
}

// ---------------------------------------------------------------------------------
// Writes

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::engine;
use super::engine::single_scope;
use super::read::{self};
use crate::auth::random_secret;
use crate::db::DbConnection;
use crate::db::schema::{account_memberships, invitations};
use crate::domain::{Avatar, Email, Identifier, Timezone};
use crate::jsonapi::error::{ApiError, ApiResult};
use crate::jsonapi::http::Ctx;
use crate::jsonapi::input::attribute_pointer;
use crate::state::AppState;

/// How long an invitation token stays valid.
pub const INVITATION_DAYS: i64 = 7;

/// The accounts a user belongs to (home and guest): where its email and identifier must
/// be unique.
pub fn accounts_of(conn: &mut DbConnection, user_id: &str) -> ApiResult<Vec<String>> {
    Ok(account_memberships::table
        .filter(account_memberships::user_id.eq(user_id))
        .select(account_memberships::account_id)
        .load(conn)?)
}

/// 409 `taken` when another live user of any of `accounts` — a home user or a guest —
/// has this email (ignoring case) or identifier.
pub fn check_unique(
    conn: &mut DbConnection,
    accounts: &[String],
    except_id: &str,
    email: Option<&Email>,
    identifier: Option<&Identifier>,
) -> ApiResult<()> {
    // Matches by email or identifier first (indexed), then membership per match: as a
    // join, SQLite would walk every membership of a large account.
    let others = || {
        users::table
            .filter(diesel::dsl::exists(
                account_memberships::table
                    .filter(account_memberships::user_id.eq(users::id))
                    .filter(account_memberships::account_id.eq_any(accounts.to_vec())),
            ))
            .filter(users::discarded_at.is_null())
            .filter(users::id.ne(except_id.to_owned()))
            .into_boxed()
    };
    if let Some(email) = email {
        let taken: i64 = others()
            .filter(users::email_key.eq(email.normalized()))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(ApiError::taken(
                attribute_pointer("email"),
                "This email is already taken in this account.",
            ));
        }
    }
    if let Some(identifier) = identifier {
        let taken: i64 = others()
            .filter(users::identifier.eq(identifier.as_str().to_owned()))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(ApiError::taken(
                attribute_pointer("identifier"),
                "This identifier is already taken in this account.",
            ));
        }
    }
    Ok(())
}

/// Maps a unique violation that slipped past the checks (a concurrent write) to 409.
pub fn unique_error(e: diesel::result::Error) -> ApiError {
    crate::jsonapi::error::map_unique(
        e,
        &[
            (
                "identifier",
                "/data/attributes/identifier",
                "This identifier is already taken in this account.",
            ),
            (
                "email",
                "/data/attributes/email",
                "This email is already taken in this account.",
            ),
        ],
    )
}

/// Kills every open invitation of `user_id` (a re-invite, a revoke, activation).
pub fn revoke_invitations(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> ApiResult<()> {
    diesel::update(
        invitations::table
            .filter(invitations::user_id.eq(user_id))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Issues an invitation for `user_id`, revoking any earlier one; returns
/// `meta.invitation` (the token is shown only here and stored hashed).
pub fn issue_invitation(
    conn: &mut DbConnection,
    user_id: &str,
    account_id: &str,
    invited_by: &str,
    now: NaiveDateTime,
) -> ApiResult<Value> {
    revoke_invitations(conn, user_id, now)?;
    let token = random_secret();
    let expires_at = now + chrono::Duration::days(INVITATION_DAYS);
    diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(uuid::Uuid::now_v7().to_string()),
            invitations::user_id.eq(user_id),
            invitations::account_id.eq(account_id),
            invitations::token_hash.eq(crate::auth::digest(&token)),
            invitations::invited_by_id.eq(invited_by),
            invitations::created_at.eq(now),
            invitations::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(serde_json::json!({
        "invitation": {
            "token": token,
            "expires_at": crate::jsonapi::document::format_time(&expires_at),
        }
    }))
}

/// The user with this id as the caller sees it, for a change: admins see deleted users
/// too, and the policy then answers 409 `invalid_transition` rather than 404.
pub fn find_for_change(conn: &mut DbConnection, caller: &Caller, id: &str) -> ApiResult<UserRow> {
    engine::find::<UserResource>(conn, &single_scope(caller), id)
}

/// `GET /me`: the caller as a user resource.
pub async fn me(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let id = caller.user_id.clone();
    read::single_of(&super::USERS, req, state, ctx, caller, id).await
}
