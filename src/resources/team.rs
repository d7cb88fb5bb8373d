//! The `team` resource: a group of users inside one account.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::teams;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{Attribute, Filter, FilterKind, Relationship, ResourceSchema};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "team",
    path: "teams",
    attributes: &[
        Attribute::read_write("name").line(1, 200).required(),
        Attribute::read_write("description")
            .paragraphs(0, 2000)
            .nullable(),
        Attribute::read_only("created_at").time(),
        Attribute::read_only("updated_at").time(),
        Attribute::read_only("discarded_at").time().nullable(),
    ],
    relationships: &[
        Relationship::to_one("account", "account"),
        Relationship::to_many("team_memberships", "team_membership"),
        Relationship::to_many("users", "user"),
    ],
    filters: &[
        Filter::new("name", FilterKind::Text),
        Filter::new("user", FilterKind::Id),
        Filter::new("discarded", FilterKind::OneOf(&["only", "all"])),
        Filter::new("account", FilterKind::Id),
    ],
    sorts: &["name", "created_at"],
    actions: policy::team::ACTIONS,
};

#[derive(Debug, Clone)]
pub struct TeamRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub discarded_at: Option<NaiveDateTime>,
    /// The caller maintains this team (see `caller_columns`).
    pub caller_maintains: bool,
}

crate::read_by_position!(TeamRow { id, account_id, name, description, created_at, updated_at, discarded_at, caller_maintains });

impl TeamRow {
    /// What the policy needs to know about this team, for the caller it was loaded for.
    pub fn facts(&self) -> policy::team::Facts {
        policy::team::Facts {
            maintainer: self.caller_maintains,
            deleted: self.discarded_at.is_some(),
        }
    }
}

impl ResourceView for TeamRow {
    fn schema(&self) -> &'static ResourceSchema {
        &SCHEMA
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn write_attributes(&self, w: &mut AttributeWriter<'_>) {
        w.value("name", &self.name)
            .value("description", &self.description)
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

pub struct TeamResource;

impl Resource for TeamResource {
    type Row = TeamRow;
    const SCHEMA: &'static ResourceSchema = &SCHEMA;
    const TABLE: &'static str = "teams";
    const COLUMNS: &'static str = "teams.id, teams.account_id, teams.name, teams.description, \
         teams.created_at, teams.updated_at, teams.discarded_at";
    const SOFT_DELETE: bool = true;
    const SORTS: &'static [SortSpec<TeamRow>] = &[
        SortSpec {
            name: "name",
            expr: "teams.name",
            kind: SortKind::Text,
            nullable: false,
            value: |r| Some(CursorValue::Text(r.name.clone())),
        },
        SortSpec {
            name: "created_at",
            expr: "teams.created_at",
            kind: SortKind::Time,
            nullable: false,
            value: |r| Some(CursorValue::Time(r.created_at)),
        },
    ];
    const FILTERS: &'static [(&'static str, FilterSql)] = &[
        ("name", FilterSql::Contains(&["teams.name"])),
        (
            "user",
            FilterSql::Through {
                table: "team_memberships",
                owner_column: "team_id",
                target_column: "user_id",
                visible: policy::user::visible_ids,
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
        ("team_memberships", Link::Reverse { column: "team_id" }),
        (
            "users",
            Link::Through {
                table: "team_memberships",
                owner_column: "team_id",
                target_column: "user_id",
            },
        ),
    ];

    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        policy::team::scope(q, scope);
    }

    fn caller_columns(q: &mut SqlBuilder, scope: &Scope<'_>) {
        q.sql(
            ", EXISTS (SELECT 1 FROM team_memberships c WHERE c.team_id = teams.id \
             AND c.role = 'maintainer' AND c.user_id = ",
        )
        .bind(scope.caller.user_id.clone())
        .sql(") AS caller_maintains");
    }

    fn actions(row: &TeamRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        policy::team::actions(caller, row.facts())
    }
}

// ---------------------------------------------------------------------------------
// Writes

use serde_json::Value;

use super::team_membership::{
    Side, change_members, change_relationship_members, visible_members_named,
};
use super::write::{NewId, Prepared, SetChange, Writable, Writes, Written};
use crate::audit::{self, Changes};
use crate::db::DbConnection;
use crate::domain::{Description, TeamName};
use crate::jsonapi::error::{ApiError, ApiResult};
use crate::jsonapi::input::{Presence, Problems, ResourceInput, attribute_pointer};

fn name_taken() -> ApiError {
    ApiError::taken(
        attribute_pointer("name"),
        "A team with this name already exists in this account.",
    )
}

/// 409 `taken` when another live team of the account has this name (case-insensitive).
fn check_name_free(
    conn: &mut DbConnection,
    account_id: &str,
    name: &TeamName,
    except_id: &str,
) -> ApiResult<()> {
    let taken: i64 = teams::table
        .filter(teams::account_id.eq(account_id))
        .filter(teams::discarded_at.is_null())
        .filter(teams::id.ne(except_id))
        .filter(crate::db::casefold(teams::name.nullable()).eq(name.as_str().to_lowercase()))
        .count()
        .get_result(conn)?;
    if taken > 0 { Err(name_taken()) } else { Ok(()) }
}

/// A unique violation that slipped past `check_name_free` (a concurrent write).
fn map_unique(e: diesel::result::Error) -> ApiError {
    crate::jsonapi::error::map_unique(
        e,
        &[(
            "name",
            "/data/attributes/name",
            "A team with this name already exists in this account.",
        )],
    )
}

/// Name and description of a request (`None`: absent; description may be null).
fn parse_team(
    input: &ResourceInput,
    creating: bool,
) -> ApiResult<(Option<TeamName>, Option<Option<Description>>)> {
    let mut problems = Problems::default();
    let name = input
        .parse_string(
            &mut problems,
            "name",
            Presence::required_if(creating),
            TeamName::parse,
        )
        .flatten();
    let description = input.parse_string(
        &mut problems,
        "description",
        Presence::Nullable,
        Description::parse,
    );
    problems.finish()?;
    Ok((name, description))
}

/// Where a team's body lists its users.
const USERS_POINTER: &str = Side::Team.body_pointer();

impl Writable for TeamResource {
    const WRITES: Writes = Writes {
        relationships: &["users"],
        ..Writes::ALL
    };
    const SET_ON_CREATE: &'static [&'static str] = &["users"];
    const SET_ON_UPDATE: &'static [&'static str] = &["users"];

    fn given_on_create(caller: &Caller) -> Vec<(&'static str, Option<String>)> {
        vec![("account", Some(caller.account_id.clone()))]
    }

    /// `POST /teams`: account admins, in their account.
    fn create(
        conn: &mut DbConnection,
        caller: &Caller,
        input: &ResourceInput,
        id: NewId,
        _prepared: Prepared,
    ) -> ApiResult<Written> {
        let users = visible_members_named(conn, caller, Side::Team, input)?;
        policy::authorize(policy::team::create(caller), "create teams in")?;
        let (Some(name), description) = parse_team(input, true)? else {
            return Err(ApiError::internal("name checked above"));
        };
        let description = description.flatten();
        let id = id.claim(conn)?;
        check_name_free(conn, &caller.account_id, &name, &id)?;
        diesel::insert_into(teams::table)
            .values((
                teams::id.eq(&id),
                teams::account_id.eq(&caller.account_id),
                teams::name.eq(name.as_str()),
                teams::description.eq(description.as_ref().map(Description::as_str)),
                teams::created_at.eq(caller.now),
                teams::updated_at.eq(caller.now),
            ))
            .execute(conn)
            .map_err(map_unique)?;
        let mut changes = Changes::default();
        changes.set("name", Value::Null, name.as_str());
        changes.set(
            "description",
            Value::Null,
            description.as_ref().map(|d| d.as_str().to_owned()),
        );
        audit::record_by(
            conn,
            caller,
            &caller.account_id,
            "team.created",
            ("team", &id),
            changes,
        )?;
        if let Some(users) = &users {
            change_members(
                conn,
                caller,
                Side::Team,
                &id,
                users,
                SetChange::Add,
                USERS_POINTER,
            )?;
        }
        Ok(Written::id(id))
    }

    /// `PATCH /teams/{id}`: account admins and the team's maintainers.
    fn authorize_update(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &TeamRow,
        input: &ResourceInput,
    ) -> ApiResult<()> {
        visible_members_named(conn, caller, Side::Team, input)?;
        policy::team::decide(caller, policy::team::Action::Edit, current.facts()).enforce("edit")
    }

    fn update(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &TeamRow,
        input: &ResourceInput,
    ) -> ApiResult<()> {
        let (name, description) = parse_team(input, false)?;
        if let Some(users) = &input.to_many_ids("users") {
            change_members(
                conn,
                caller,
                Side::Team,
                &current.id,
                users,
                SetChange::Replace,
                USERS_POINTER,
            )?;
        }
        if let Some(name) = &name {
            check_name_free(conn, &current.account_id, name, &current.id)?;
        }
        let name = name.map_or(current.name.clone(), TeamName::into_inner);
        let description = match description {
            Some(d) => d.map(Description::into_inner),
            None => current.description.clone(),
        };
        diesel::update(teams::table.find(&current.id))
            .set((teams::name.eq(&name), teams::description.eq(&description)))
            .execute(conn)
            .map_err(map_unique)?;
        Ok(())
    }

    fn audit_account(_: &mut DbConnection, _: &Caller, team: &TeamRow) -> ApiResult<String> {
        Ok(team.account_id.clone())
    }

    /// `DELETE /teams/{id}`: account admins; a soft delete (its memberships disappear
    /// with it).
    fn delete(conn: &mut DbConnection, caller: &Caller, current: &TeamRow) -> ApiResult<()> {
        policy::team::decide(caller, policy::team::Action::Delete, current.facts())
            .enforce("delete")?;
        super::engine::soft_delete::<TeamResource>(conn, &current.id, caller.now)?;
        audit::record_by(
            conn,
            caller,
            &current.account_id,
            "team.deleted",
            ("team", &current.id),
            Changes::default(),
        )
    }

    /// `/teams/{id}/relationships/users`: each member authorized as if sent alone.
    fn change_relationship(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &TeamRow,
        _name: &str,
        members: &[String],
        change: SetChange,
        pointer: &str,
    ) -> ApiResult<()> {
        change_relationship_members(
            conn,
            caller,
            Side::Team,
            (&current.id, current.discarded_at.is_none()),
            members,
            change,
            pointer,
        )
    }
}
