//! The `account_membership` resource: a user's role in an account. A user's home
//! account always holds one; another account holds one for a guest, who joined by
//! accepting an invitation (`account_invitation.rs`) or was added by a platform admin.
//! A guest is never an owner, so an account's owners are always homed in it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::account_memberships;
use crate::domain::AccountRole;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{
    Attribute, Filter, FilterKind, Relationship, ResourceSchema, ValueType,
};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "account_membership",
    path: "account_memberships",
    attributes: &[
        Attribute::read_write("role").of(ValueType::OneOf(AccountRole::ALL)),
        Attribute::read_only("created_at").time(),
        Attribute::read_only("updated_at").time(),
    ],
    relationships: &[
        Relationship::to_one("user", "user").required(),
        Relationship::to_one("account", "account"),
    ],
    filters: &[
        Filter::new("role", FilterKind::OneOf(AccountRole::ALL)),
        Filter::new("user", FilterKind::Id),
        Filter::new("account", FilterKind::Id),
    ],
    sorts: &["created_at", "role"],
    actions: policy::account_membership::ACTIONS,
};

#[derive(Debug, Clone)]
pub struct AccountMembershipRow {
    pub id: String,
    pub account_id: String,
    pub user_id: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The membership in the user's home account (cannot be removed).
    pub is_home: bool,
    /// Another active owner of the account exists (an owner may then step down).
    pub other_owner: bool,
}

crate::read_by_position!(AccountMembershipRow { id, account_id, user_id, role, created_at, updated_at, is_home, other_owner });

impl ResourceView for AccountMembershipRow {
    fn schema(&self) -> &'static ResourceSchema {
        &SCHEMA
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn write_attributes(&self, w: &mut AttributeWriter<'_>) {
        w.value("role", &self.role)
            .time("created_at", &self.created_at)
            .time("updated_at", &self.updated_at);
    }
    fn to_one(&self, relationship: &str) -> Option<&str> {
        match relationship {
            "user" => Some(&self.user_id),
            "account" => Some(&self.account_id),
            _ => None,
        }
    }
}

pub struct AccountMembershipResource;

impl Resource for AccountMembershipResource {
    type Row = AccountMembershipRow;
    const SCHEMA: &'static ResourceSchema = &SCHEMA;
    const TABLE: &'static str = "account_memberships";
    const COLUMNS: &'static str = "account_memberships.id, account_memberships.account_id, \
         account_memberships.user_id, account_memberships.role, account_memberships.created_at, \
         account_memberships.updated_at";
    const SOFT_DELETE: bool = false;
    const SORTS: &'static [SortSpec<AccountMembershipRow>] = &[
        SortSpec {
            name: "created_at",
            expr: "account_memberships.created_at",
            kind: SortKind::Time,
            nullable: false,
            value: |r| Some(CursorValue::Time(r.created_at)),
        },
        SortSpec {
            name: "role",
            expr: "account_memberships.role",
            kind: SortKind::Text,
            nullable: false,
            value: |r| Some(CursorValue::Text(r.role.clone())),
        },
    ];
    const FILTERS: &'static [(&'static str, FilterSql)] = &[
        ("role", FilterSql::Column("account_memberships.role")),
        ("user", FilterSql::Column("account_memberships.user_id")),
        ("account", FilterSql::Special),
    ];
    const LINKS: &'static [(&'static str, Link)] = &[
        ("user", Link::ToOne { column: "user_id" }),
        (
            "account",
            Link::ToOne {
                column: "account_id",
            },
        ),
    ];

    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        policy::account_membership::scope(q, scope);
    }

    /// Facts the permissions depend on, so that `meta.permissions` says `false` where the
    /// server would answer 409 (`last_owner`, home membership).
    /// `CROSS JOIN` makes SQLite keep the written order — the account's few owners
    /// first, then their users — whatever it guesses about the tables' sizes.
    fn caller_columns(q: &mut SqlBuilder, _scope: &Scope<'_>) {
        q.sql(
            ", (SELECT hu.account_id FROM users hu WHERE hu.id = account_memberships.user_id) \
             = account_memberships.account_id AS is_home, \
             EXISTS (SELECT 1 FROM account_memberships o CROSS JOIN users ou \
             WHERE ou.id = o.user_id \
             AND o.account_id = account_memberships.account_id AND o.role = 'owner' \
             AND o.user_id <> account_memberships.user_id AND ou.discarded_at IS NULL \
             AND ou.status = 'active') AS other_owner",
        );
    }

    fn actions(row: &AccountMembershipRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        let role = AccountRole::parse(&row.role).unwrap_or(AccountRole::Member);
        let facts = policy::account_membership::Facts {
            account_id: &row.account_id,
            user_id: &row.user_id,
            role,
            is_home: row.is_home,
            last_owner: role == AccountRole::Owner && !row.other_owner,
        };
        policy::account_membership::actions(caller, &facts)
    }
}

// ---------------------------------------------------------------------------------
// Writes

use serde_json::Value;

use super::engine::ensure_changed;
use super::write::{NewId, Prepared, Writable, Writes, Written};
use crate::audit::{self, Changes};
use crate::db::schema::users;
use crate::db::{DbConnection, lock_row};
use crate::domain::{Email, Identifier};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorCode, ErrorSource};
use crate::jsonapi::input::{Patch, ResourceInput, attribute_pointer};

fn parse_role(input: &ResourceInput) -> ApiResult<Option<AccountRole>> {
    match input.string("role")? {
        Patch::Absent => Ok(None),
        Patch::Null => Err(ApiError::validation(
            attribute_pointer("role"),
            "must not be null",
        )),
        Patch::Value(r) => AccountRole::parse(r)
            .map(Some)
            .map_err(|e| ApiError::validation(attribute_pointer("role"), e.to_string())),
    }
}

/// 422 at `/data/attributes/role` for an owner who is not homed in the account.
fn ensure_role_fits(role: AccountRole, is_home: bool) -> ApiResult<()> {
    if role == AccountRole::Owner && !is_home {
        return Err(ApiError::validation(
            attribute_pointer("role"),
            "A guest cannot be an owner: an account's owners are homed in it.",
        ));
    }
    Ok(())
}

/// Active owners of an account, with the account row locked so that two requests cannot
/// both remove "one of two" owners. Every owner counts, whatever its home (guests are
/// never owners, but an owner is an owner however it came to be one).
fn live_owners(conn: &mut DbConnection, account_id: &str) -> ApiResult<Vec<String>> {
    lock_row(conn, "accounts", account_id)?;
    Ok(account_memberships::table
        .inner_join(users::table.on(users::id.eq(account_memberships::user_id)))
        .filter(account_memberships::account_id.eq(account_id))
        .filter(account_memberships::role.eq(AccountRole::Owner.as_str()))
        .filter(users::discarded_at.is_null())
        .filter(users::status.eq(crate::domain::UserStatus::Active.as_str()))
        .select(account_memberships::user_id)
        .load(conn)?)
}

fn last_owner() -> ApiError {
    ApiError::new(
        ErrorCode::LastOwner,
        "The account would be left without an owner.",
    )
}

/// 409 `last_owner` unless an active user besides `user_id` owns the account: checked
/// before demoting, removing, deactivating, blocking or deleting an owner.
pub fn ensure_other_owner(
    conn: &mut DbConnection,
    account_id: &str,
    user_id: &str,
) -> ApiResult<()> {
    if live_owners(conn, account_id)?
        .iter()
        .any(|owner| owner != user_id)
    {
        Ok(())
    } else {
        Err(last_owner())
    }
}

fn audit_target(id: &str) -> (&'static str, &str) {
    ("account_membership", id)
}

/// Adds `user_id` to `account_id` with `role` (already authorized), with its audit
/// event: 409 `taken` at `pointer` when the user is a member already, or when its email
/// or identifier (`unique`) is taken among the account's users. Shared by a platform
/// admin's `POST /account_memberships` and the acceptance of an invitation.
#[allow(clippy::too_many_arguments)]
pub fn insert_membership(
    conn: &mut DbConnection,
    caller: &Caller,
    account_id: &str,
    user_id: &str,
    role: AccountRole,
    id: &str,
    unique: (Option<&Email>, Option<&Identifier>),
    pointer: &str,
) -> ApiResult<()> {
    let already = || ApiError::taken(pointer, "This user is already a member of the account.");
    let existing: i64 = account_memberships::table
        .filter(account_memberships::account_id.eq(account_id))
        .filter(account_memberships::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    if existing > 0 {
        return Err(already());
    }
    // A guest's email and identifier must be free among the account's users too.
    super::user::check_unique(conn, &[account_id.to_owned()], user_id, unique.0, unique.1)
        .map_err(|e| {
            let detail = e
                .errors
                .first()
                .map(|o| o.detail.clone())
                .unwrap_or_default();
            ApiError::taken(
                pointer,
                format!("{detail} (the user's email or identifier)"),
            )
        })?;
    diesel::insert_into(account_memberships::table)
        .values((
            account_memberships::id.eq(id),
            account_memberships::account_id.eq(account_id),
            account_memberships::user_id.eq(user_id),
            account_memberships::role.eq(role.as_str()),
            account_memberships::created_at.eq(caller.now),
            account_memberships::updated_at.eq(caller.now),
        ))
        .execute(conn)
        .map_err(|e| {
            // Two requests adding the same user at once: the second loses here.
            crate::jsonapi::error::map_unique(
                e,
                &[(
                    "user",
                    pointer,
                    "This user is already a member of the account.",
                )],
            )
        })?;
    let mut changes = Changes::default();
    changes.set("role", Value::Null, role.as_str());
    changes.set("user", Value::Null, user_id);
    audit::record_by(
        conn,
        caller,
        account_id,
        "account_membership.created",
        audit_target(id),
        changes,
    )
}

impl Writable for AccountMembershipResource {
    const WRITES: Writes = Writes::ALL;
    const SET_ON_CREATE: &'static [&'static str] = &["user", "account"];

    /// `POST /account_memberships` (platform admins): adds an existing user, by id, to an
    /// account. Everyone else's guests join by invitation. Checked in the contract's
    /// order: linkages the caller cannot see (404), then permission (403), then the
    /// values (422), then conflicts (409) — so the answer never tells whether a hidden
    /// user exists.
    fn create(
        conn: &mut DbConnection,
        caller: &Caller,
        input: &ResourceInput,
        id: NewId,
        _prepared: Prepared,
    ) -> ApiResult<Written> {
        let user_pointer = "/data/relationships/user";
        let account_pointer = "/data/relationships/account";
        let account_id = super::account::target_account(
            caller,
            input.to_one_id("account", "account")?,
            account_pointer,
        )?;
        let user_id = match input.to_one_id("user", "user")? {
            Patch::Value(id) => Some(id),
            Patch::Null => {
                return Err(
                    ApiError::not_found().with_source(ErrorSource::Pointer(user_pointer.into()))
                );
            }
            Patch::Absent => None,
        };
        super::account::ensure_live(conn, &account_id, account_pointer)?;
        let user = match &user_id {
            Some(user_id) => Some(super::engine::find_linked::<super::user::UserResource>(
                conn,
                caller,
                user_id,
                user_pointer,
            )?),
            None => None,
        };
        policy::authorize(
            policy::account_membership::create(caller),
            "add users by id to",
        )?;
        let Some(user) = user else {
            return Err(ApiError::validation(user_pointer, "is required"));
        };
        let role = parse_role(input)?.unwrap_or(AccountRole::Member);
        ensure_role_fits(role, user.account_id == account_id)?;
        let id = id.claim(conn)?;
        let email = user.email.as_deref().and_then(|e| Email::parse(e).ok());
        let identifier = user
            .identifier
            .as_deref()
            .and_then(|i| Identifier::parse(i).ok());
        insert_membership(
            conn,
            caller,
            &account_id,
            &user.id,
            role,
            &id,
            (email.as_ref(), identifier.as_ref()),
            user_pointer,
        )?;
        Ok(Written::id(id))
    }

    /// `PATCH /account_memberships/{id}`: changes the role — with the power over the
    /// role it has; the last owner and the home membership are 409s below.
    fn authorize_update(
        _: &mut DbConnection,
        caller: &Caller,
        current: &AccountMembershipRow,
        _: &ResourceInput,
    ) -> ApiResult<()> {
        let old = AccountRole::parse(&current.role).map_err(ApiError::internal)?;
        policy::authorize(policy::account_membership::grant(caller, old), "change")
    }

    fn update(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &AccountMembershipRow,
        input: &ResourceInput,
    ) -> ApiResult<()> {
        let old = AccountRole::parse(&current.role).map_err(ApiError::internal)?;
        let Some(new) = parse_role(input)?.filter(|r| *r != old) else {
            return Ok(());
        };
        policy::authorize(
            policy::account_membership::grant(caller, new),
            "grant this role in",
        )?;
        ensure_role_fits(new, current.is_home)?;
        if old == AccountRole::Owner {
            ensure_other_owner(conn, &current.account_id, &current.user_id)?;
        }
        diesel::update(account_memberships::table.find(&current.id))
            .set(account_memberships::role.eq(new.as_str()))
            .execute(conn)?;
        Ok(())
    }

    fn audit_account(
        _: &mut DbConnection,
        _: &Caller,
        membership: &AccountMembershipRow,
    ) -> ApiResult<String> {
        Ok(membership.account_id.clone())
    }

    /// `DELETE /account_memberships/{id}`: an admin removes a guest, or a guest leaves
    /// (never the home membership, never the last owner).
    fn delete(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &AccountMembershipRow,
    ) -> ApiResult<()> {
        let role = AccountRole::parse(&current.role).map_err(ApiError::internal)?;
        let leaving = current.user_id == caller.user_id && !current.is_home;
        if !leaving {
            policy::authorize(policy::account_membership::grant(caller, role), "remove")?;
        }
        if current.is_home {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "This is the user's home account; delete the user instead.",
            ));
        }
        if role == AccountRole::Owner {
            ensure_other_owner(conn, &current.account_id, &current.user_id)?;
        }
        remove_membership(
            conn,
            caller,
            &current.account_id,
            &current.user_id,
            &current.id,
            role,
        )
    }
}

/// Removes a guest membership with the user's team memberships in that account, and
/// records it in that account's log.
pub fn remove_membership(
    conn: &mut DbConnection,
    caller: &Caller,
    account_id: &str,
    user_id: &str,
    id: &str,
    role: AccountRole,
) -> ApiResult<()> {
    use crate::db::schema::{team_memberships, teams};
    diesel::delete(
        team_memberships::table
            .filter(team_memberships::user_id.eq(user_id))
            .filter(
                team_memberships::team_id.eq_any(
                    teams::table
                        .filter(teams::account_id.eq(account_id))
                        .select(teams::id),
                ),
            ),
    )
    .execute(conn)?;
    ensure_changed(diesel::delete(account_memberships::table.find(id)).execute(conn)?)?;
    let mut changes = Changes::default();
    changes.set("role", role.as_str(), Value::Null);
    audit::record_by(
        conn,
        caller,
        account_id,
        "account_membership.deleted",
        audit_target(id),
        changes,
    )
}

/// Ends every guest membership of a user (it is being deleted): its home account alone
/// keeps it, to restore it.
pub fn end_guest_memberships(
    conn: &mut DbConnection,
    caller: &Caller,
    user_id: &str,
    home_account_id: &str,
) -> ApiResult<()> {
    let guest_of: Vec<(String, String, String)> = account_memberships::table
        .filter(account_memberships::user_id.eq(user_id))
        .filter(account_memberships::account_id.ne(home_account_id))
        .select((
            account_memberships::id,
            account_memberships::account_id,
            account_memberships::role,
        ))
        .load(conn)?;
    for (id, account_id, role) in guest_of {
        let role = AccountRole::parse(&role).map_err(ApiError::internal)?;
        remove_membership(conn, caller, &account_id, user_id, &id, role)?;
    }
    Ok(())
}
