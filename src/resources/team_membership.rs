//! The `team_membership` resource: a user's role in a team.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::team_memberships;
use crate::domain::TeamRole;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{Attribute, Filter, FilterKind, Relationship, ResourceSchema};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "team_membership",
    path: "team_memberships",
    attributes: &[
        Attribute::read_write("role"),
        Attribute::read_only("created_at"),
        Attribute::read_only("updated_at"),
    ],
    relationships: &[
        Relationship::to_one("user", "user"),
        Relationship::to_one("team", "team"),
    ],
    filters: &[
        Filter::new("role", FilterKind::OneOf(TeamRole::ALL)),
        Filter::new("user", FilterKind::Id),
        Filter::new("team", FilterKind::Id),
    ],
    sorts: &["created_at", "role"],
    actions: &["edit", "delete"],
};

#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = team_memberships)]
pub struct TeamMembershipRow {
    pub id: String,
    pub team_id: String,
    pub user_id: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    #[diesel(sql_type = Bool)]
    pub caller_maintains: bool,
}

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
        // Visible when its team is a live team of the account and its user is not deleted.
        q.sql(" AND EXISTS (SELECT 1 FROM teams st WHERE st.id = team_memberships.team_id AND st.discarded_at IS NULL");
        if let Some(account_id) = &scope.account_id {
            q.sql(" AND st.account_id = ").bind(account_id.clone());
        }
        q.sql(") AND EXISTS (SELECT 1 FROM users su WHERE su.id = team_memberships.user_id AND su.discarded_at IS NULL)");
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
