//! The `team_membership` resource: a user's role in a team.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::team_memberships;
use crate::domain::TeamRole;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{
    Attribute, Filter, FilterKind, Relationship, ResourceSchema, ValueType,
};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "team_membership",
    path: "team_memberships",
    attributes: &[
        Attribute::read_write("role").of(ValueType::OneOf(TeamRole::ALL)),
        Attribute::read_only("created_at").time(),
        Attribute::read_only("updated_at").time(),
    ],
    relationships: &[
        Relationship::to_one("user", "user").required(),
        Relationship::to_one("team", "team").required(),
    ],
    filters: &[
        Filter::new("role", FilterKind::OneOf(TeamRole::ALL)),
        Filter::new("user", FilterKind::Id),
        Filter::new("team", FilterKind::Id),
    ],
    sorts: &["created_at", "role"],
    actions: policy::team_membership::ACTIONS,
};

#[derive(Debug, Clone)]
pub struct TeamMembershipRow {
    pub id: String,
    pub team_id: String,
    pub user_id: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub caller_maintains: bool,
}

crate::read_by_position!(TeamMembershipRow { id, team_id, user_id, role, created_at, updated_at, caller_maintains });

impl ResourceView for TeamMembershipRow {
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
            "team" => Some(&self.team_id),
            _ => None,
        }
    }
}

pub struct TeamMembershipResource;

impl Resource for TeamMembershipResource {
    type Row = TeamMembershipRow;
    const SCHEMA: &'static ResourceSchema = &SCHEMA;
    const TABLE: &'static str = "team_memberships";
    const COLUMNS: &'static str = "team_memberships.id, team_memberships.team_id, \
         team_memberships.user_id, team_memberships.role, team_memberships.created_at, \
         team_memberships.updated_at";
    const SOFT_DELETE: bool = false;
    const SORTS: &'static [SortSpec<TeamMembershipRow>] = &[
        SortSpec {
            name: "created_at",
            expr: "team_memberships.created_at",
            kind: SortKind::Time,
            nullable: false,
            value: |r| Some(CursorValue::Time(r.created_at)),
        },
        SortSpec {
            name: "role",
            expr: "team_memberships.role",
            kind: SortKind::Text,
            nullable: false,
            value: |r| Some(CursorValue::Text(r.role.clone())),
        },
    ];
    const FILTERS: &'static [(&'static str, FilterSql)] = &[
        ("role", FilterSql::Column("team_memberships.role")),
        ("user", FilterSql::Column("team_memberships.user_id")),
        ("team", FilterSql::Column("team_memberships.team_id")),
    ];
    const LINKS: &'static [(&'static str, Link)] = &[
        ("user", Link::ToOne { column: "user_id" }),
        ("team", Link::ToOne { column: "team_id" }),
    ];

    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        policy::team_membership::scope(q, scope);
    }

    fn caller_columns(q: &mut SqlBuilder, scope: &Scope<'_>) {
        q.sql(
            ", EXISTS (SELECT 1 FROM team_memberships c WHERE c.team_id = team_memberships.team_id \
             AND c.role = 'maintainer' AND c.user_id = ",
        )
        .bind(scope.caller.user_id.clone())
        .sql(") AS caller_maintains");
    }

    fn actions(row: &TeamMembershipRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        policy::team_membership::actions(caller, row.caller_maintains)
    }
}

// ---------------------------------------------------------------------------------
// Writes: the resource itself, and the to-many relationship endpoints that add and
// remove team memberships (`/users/{id}/relationships/teams`,
// `/teams/{id}/relationships/users`). Both paths go through `add_member` and
// `remove_member`, authorized pair by pair.

use std::collections::BTreeSet;

use serde_json::Value;

use super::write::{NewId, Prepared, SetChange, Writable, Writes, Written};
use crate::audit::{self, Changes};
use crate::db::DbConnection;
use crate::db::schema::{account_memberships, teams, users};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorSource};
use crate::jsonapi::input::{Patch, ResourceInput, attribute_pointer};

/// A live team of the caller's account (any account for platform admins), with whether
/// the caller maintains it; `None` when the caller cannot see it.
fn visible_team(
    conn: &mut DbConnection,
    caller: &Caller,
    team_id: &str,
) -> ApiResult<Option<(String, bool)>> {
    let mut query = teams::table
        .filter(teams::id.eq(team_id))
        .filter(teams::discarded_at.is_null())
        .select(teams::account_id)
        .into_boxed();
    if !caller.platform_admin {
        query = query.filter(teams::account_id.eq(&caller.account_id));
    }
    let Some(account_id) = query.first::<String>(conn).optional()? else {
        return Ok(None);
    };
    let maintains: i64 = team_memberships::table
        .filter(team_memberships::team_id.eq(team_id))
        .filter(team_memberships::user_id.eq(&caller.user_id))
        .filter(team_memberships::role.eq(TeamRole::Maintainer.as_str()))
        .count()
        .get_result(conn)?;
    Ok(Some((account_id, maintains > 0)))
}

/// The policy's facts of a team found by `visible_team` (always live).
fn live_team(maintainer: bool) -> policy::team::Facts {
    policy::team::Facts {
        maintainer,
        deleted: false,
    }
}

/// Is the user a live member of the account?
fn in_account(conn: &mut DbConnection, account_id: &str, user_id: &str) -> ApiResult<bool> {
    let found: i64 = account_memberships::table
        .inner_join(users::table.on(users::id.eq(account_memberships::user_id)))
        .filter(account_memberships::account_id.eq(account_id))
        .filter(account_memberships::user_id.eq(user_id))
        .filter(users::discarded_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

fn audit_target(id: &str) -> (&'static str, &str) {
    ("team_membership", id)
}

/// The team a body's linkage names, if the caller can see it: 404 at `pointer`
/// otherwise. Its account and whether the caller maintains it.
fn linked_team(
    conn: &mut DbConnection,
    caller: &Caller,
    team_id: &str,
    pointer: &str,
) -> ApiResult<(String, bool)> {
    visible_team(conn, caller, team_id)?
        .ok_or_else(|| ApiError::not_found().with_source(ErrorSource::Pointer(pointer.to_owned())))
}

/// Checks, in the contract's order, that the caller can see the team and the user (404
/// at the linkage), may manage the team's members (403), and that the user belongs to
/// the team's account (422; only a platform admin can see a user outside it). Returns
/// the team's account. `pointers` say where to point errors at (team, user).
fn authorize_pair(
    conn: &mut DbConnection,
    caller: &Caller,
    team_id: &str,
    user_id: &str,
    pointers: (&str, &str),
) -> ApiResult<String> {
    let (account_id, maintains) = linked_team(conn, caller, team_id, pointers.0)?;
    super::engine::find_linked_node(&super::USERS, conn, caller, user_id, pointers.1)?;
    policy::team::decide(
        caller,
        policy::team::Action::ManageMembers,
        live_team(maintains),
    )
    .enforce("manage the members of")?;
    if !in_account(conn, &account_id, user_id)? {
        return Err(ApiError::validation(
            pointers.1,
            "The user must be a member of the team's account.",
        ));
    }
    Ok(account_id)
}

/// Adds the membership if it is not there; returns its id when created.
fn add_member(
    conn: &mut DbConnection,
    caller: &Caller,
    account_id: &str,
    team_id: &str,
    user_id: &str,
    role: TeamRole,
    id: Option<String>,
) -> ApiResult<Option<String>> {
    let id = id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    // "Add if not there" in one statement: a concurrent add of the same member then
    // finds the row and does nothing, instead of failing on the unique index.
    let mut insert = crate::db::SqlBuilder::new(conn.backend());
    insert
        .sql("INSERT INTO team_memberships (id, team_id, user_id, role, created_at, updated_at) VALUES (")
        .bind(id.clone())
        .sql(", ")
        .bind(team_id)
        .sql(", ")
        .bind(user_id)
        .sql(", ")
        .bind(role.as_str())
        .sql(", ")
        .bind(caller.now)
        .sql(", ")
        .bind(caller.now)
        .sql(") ON CONFLICT (team_id, user_id) DO NOTHING");
    let inserted = insert
        .execute(conn)
        .map_err(|e| crate::jsonapi::error::map_unique(e, &[]))?;
    if inserted == 0 {
        return Ok(None);
    }
    let mut changes = Changes::default();
    changes.set("role", Value::Null, role.as_str());
    changes.set("team", Value::Null, team_id);
    changes.set("user", Value::Null, user_id);
    audit::record_by(
        conn,
        caller,
        account_id,
        "team_membership.created",
        audit_target(&id),
        changes,
    )?;
    Ok(Some(id))
}

/// Removes the membership if it is there; whether it removed it.
fn remove_member(
    conn: &mut DbConnection,
    caller: &Caller,
    account_id: &str,
    team_id: &str,
    user_id: &str,
) -> ApiResult<bool> {
    let found: Option<(String, String)> = team_memberships::table
        .filter(team_memberships::team_id.eq(team_id))
        .filter(team_memberships::user_id.eq(user_id))
        .select((team_memberships::id, team_memberships::role))
        .first(conn)
        .optional()?;
    let Some((id, role)) = found else {
        return Ok(false);
    };
    // Counted, so that of two concurrent removals only the one that removed records it.
    let removed = diesel::delete(team_memberships::table.find(&id)).execute(conn)?;
    if removed == 0 {
        return Ok(false);
    }
    let mut changes = Changes::default();
    changes.set("role", role, Value::Null);
    audit::record_by(
        conn,
        caller,
        account_id,
        "team_membership.deleted",
        audit_target(&id),
        changes,
    )?;
    Ok(true)
}

fn parse_role(input: &ResourceInput) -> ApiResult<Option<TeamRole>> {
    match input.string("role")? {
        Patch::Absent => Ok(None),
        Patch::Null => Err(ApiError::validation(
            attribute_pointer("role"),
            "must not be null",
        )),
        Patch::Value(r) => TeamRole::parse(r)
            .map(Some)
            .map_err(|e| ApiError::validation(attribute_pointer("role"), e.to_string())),
    }
}

/// The account of a team (for audit events).
fn team_account(conn: &mut DbConnection, team_id: &str) -> ApiResult<String> {
    Ok(teams::table
        .find(team_id)
        .select(teams::account_id)
        .first(conn)?)
}

impl Writable for TeamMembershipResource {
    const WRITES: Writes = Writes::ALL;
    const SET_ON_CREATE: &'static [&'static str] = &["user", "team"];

    /// `POST /team_memberships`: one per (user, team) → 409 `taken` for a second.
    fn create(
        conn: &mut DbConnection,
        caller: &Caller,
        input: &ResourceInput,
        id: NewId,
        _prepared: Prepared,
    ) -> ApiResult<Written> {
        let Patch::Value(user_id) = input.to_one_id("user", "user")? else {
            return Err(ApiError::validation(
                "/data/relationships/user",
                "is required",
            ));
        };
        let Patch::Value(team_id) = input.to_one_id("team", "team")? else {
            return Err(ApiError::validation(
                "/data/relationships/team",
                "is required",
            ));
        };
        let account_id = authorize_pair(
            conn,
            caller,
            &team_id,
            &user_id,
            ("/data/relationships/team", "/data/relationships/user"),
        )?;
        // Judged after the linkages and the permission (SPEC §2's order).
        let role = parse_role(input)?.unwrap_or(TeamRole::Member);
        let id = id.claim(conn)?;
        match add_member(
            conn,
            caller,
            &account_id,
            &team_id,
            &user_id,
            role,
            Some(id.clone()),
        )? {
            Some(_) => Ok(Written::id(id)),
            None => Err(ApiError::taken(
                "/data/relationships/user",
                "This user is already a member of the team.",
            )),
        }
    }

    /// `PATCH /team_memberships/{id}`: changes the role.
    fn authorize_update(
        _: &mut DbConnection,
        caller: &Caller,
        current: &TeamMembershipRow,
        _: &ResourceInput,
    ) -> ApiResult<()> {
        policy::team_membership::decide(
            caller,
            policy::team_membership::Action::Edit,
            current.caller_maintains,
        )
        .enforce("change")
    }

    fn update(
        conn: &mut DbConnection,
        _: &Caller,
        current: &TeamMembershipRow,
        input: &ResourceInput,
    ) -> ApiResult<()> {
        if let Some(role) = parse_role(input)? {
            diesel::update(team_memberships::table.find(&current.id))
                .set(team_memberships::role.eq(role.as_str()))
                .execute(conn)?;
        }
        Ok(())
    }

    fn audit_account(
        conn: &mut DbConnection,
        _: &Caller,
        membership: &TeamMembershipRow,
    ) -> ApiResult<String> {
        team_account(conn, &membership.team_id)
    }

    /// `DELETE /team_memberships/{id}`.
    fn delete(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &TeamMembershipRow,
    ) -> ApiResult<()> {
        policy::team_membership::decide(
            caller,
            policy::team_membership::Action::Delete,
            current.caller_maintains,
        )
        .enforce("remove")?;
        let account_id = team_account(conn, &current.team_id)?;
        if remove_member(
            conn,
            caller,
            &account_id,
            &current.team_id,
            &current.user_id,
        )? {
            Ok(())
        } else {
            // Removed meanwhile by another request.
            Err(ApiError::not_found())
        }
    }
}

/// Which side of team membership the URL's (or the body's) resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `/users/{id}/relationships/teams`: the owner is a user, members are teams.
    User,
    /// `/teams/{id}/relationships/users`: the owner is a team, members are users.
    Team,
}

impl Side {
    /// The owner's relationship that holds the members.
    const fn relationship(self) -> &'static str {
        match self {
            Side::User => "teams",
            Side::Team => "users",
        }
    }

    /// Where a create or update body lists the members (what its errors point at).
    pub const fn body_pointer(self) -> &'static str {
        match self {
            Side::User => "/data/relationships/teams/data",
            Side::Team => "/data/relationships/users/data",
        }
    }
}

/// The members a create or update body names in the owner's relationship (`None` when
/// it names none), each checked visible first — SPEC §2's order: 404 before 403 and 422.
pub fn visible_members_named(
    conn: &mut DbConnection,
    caller: &Caller,
    side: Side,
    input: &ResourceInput,
) -> ApiResult<Option<Vec<String>>> {
    let members = input.to_many_ids(side.relationship());
    if let Some(members) = &members {
        check_visible(conn, caller, side, members, side.body_pointer())?;
    }
    Ok(members)
}

/// Every member a body names must be something the caller can see, before anything is
/// authorized or changed: 404 at `pointer/N` otherwise — removing a team or user the
/// caller cannot see included, so the answer never tells whether it exists.
pub fn check_visible(
    conn: &mut DbConnection,
    caller: &Caller,
    side: Side,
    wanted: &[String],
    pointer: &str,
) -> ApiResult<()> {
    for (index, other) in wanted.iter().enumerate() {
        let pointer = format!("{pointer}/{index}");
        match side {
            Side::User => {
                linked_team(conn, caller, other, &pointer)?;
            }
            Side::Team => {
                super::engine::find_linked_node(&super::USERS, conn, caller, other, &pointer)?;
            }
        }
    }
    Ok(())
}

/// Adds, removes or replaces the team memberships of one user (`Side::User`, members are
/// teams) or one team (`Side::Team`, members are users) — the owner already found visible
/// and every member checked by [`check_visible`] (callers run it first, so that a hidden
/// member is a 404 before any pair's 403) — authorizing each pair as if it were sent
/// alone. `pointer` is where the member list
/// is in the request (`/data` for a relationship endpoint,
/// `/data/relationships/teams/data` in a resource's body). In the caller's transaction.
/// A change to the members of a team's `users` or a user's `teams` through the
/// relationship endpoint or a batch's relationship operation: refused (409) once the
/// owner is deleted (admins still see it), each member checked visible (404 at
/// `pointer`), then changed as [`change_members`] does. `owner` is the owner's id and
/// whether it is live.
pub fn change_relationship_members(
    conn: &mut DbConnection,
    caller: &Caller,
    side: Side,
    owner: (&str, bool),
    members: &[String],
    change: SetChange,
    pointer: &str,
) -> ApiResult<()> {
    let (owner_id, live) = owner;
    crate::policy::Decision::from_status(live).enforce("change the members of")?;
    check_visible(conn, caller, side, members, pointer)?;
    change_members(conn, caller, side, owner_id, members, change, pointer)
}

pub fn change_members(
    conn: &mut DbConnection,
    caller: &Caller,
    side: Side,
    owner_id: &str,
    wanted: &[String],
    change: SetChange,
    pointer: &str,
) -> ApiResult<()> {
    let owner_id = owner_id.to_owned();
    let pair = |other: &str| -> (String, String) {
        match side {
            Side::User => (other.to_owned(), owner_id.clone()),
            Side::Team => (owner_id.clone(), other.to_owned()),
        }
    };
    let current: BTreeSet<String> = match side {
        Side::User => {
            let mut teams_of_user = team_memberships::table
                .inner_join(teams::table.on(teams::id.eq(team_memberships::team_id)))
                .filter(team_memberships::user_id.eq(&owner_id))
                .filter(teams::discarded_at.is_null())
                .select(team_memberships::team_id)
                .into_boxed();
            // A platform admin acts on the user's teams in every account; anyone
            // else only on those of its own account (a guest's other teams stay).
            if !caller.platform_admin {
                teams_of_user = teams_of_user.filter(teams::account_id.eq(&caller.account_id));
            }
            teams_of_user.load::<String>(conn)?
        }
        Side::Team => team_memberships::table
            .filter(team_memberships::team_id.eq(&owner_id))
            .select(team_memberships::user_id)
            .load::<String>(conn)?,
    }
    .into_iter()
    .collect();
    let wanted_set: BTreeSet<String> = wanted.iter().cloned().collect();
    let (to_add, to_remove): (Vec<&String>, Vec<&String>) = match change {
        SetChange::Add => (wanted_set.iter().collect(), Vec::new()),
        SetChange::Remove => (Vec::new(), wanted_set.iter().collect()),
        SetChange::Replace => (
            wanted_set.difference(&current).collect(),
            current.difference(&wanted_set).collect(),
        ),
    };
    let position = |other: &String| wanted.iter().position(|w| w == other).unwrap_or(0);
    for other in to_add {
        let pointer = format!("{pointer}/{}", position(other));
        let (team_id, user_id) = pair(other);
        let account_id = authorize_pair(conn, caller, &team_id, &user_id, (&pointer, &pointer))?;
        add_member(
            conn,
            caller,
            &account_id,
            &team_id,
            &user_id,
            TeamRole::Member,
            None,
        )?;
    }
    for other in to_remove {
        let (team_id, user_id) = pair(other);
        let pointer = format!("{pointer}/{}", position(other));
        let (account_id, maintains) = linked_team(conn, caller, &team_id, &pointer)?;
        policy::team::decide(
            caller,
            policy::team::Action::ManageMembers,
            live_team(maintains),
        )
        .enforce("manage the members of")?;
        remove_member(conn, caller, &account_id, &team_id, &user_id)?;
    }
    Ok(())
}
