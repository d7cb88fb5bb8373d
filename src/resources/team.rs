//! The `team` resource: a group of users inside one account.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

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
        Attribute::read_write("name"),
        Attribute::read_write("description"),
        Attribute::read_only("created_at"),
        Attribute::read_only("updated_at"),
        Attribute::read_only("discarded_at"),
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
    actions: &["edit", "delete", "manage_members"],
};

#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = teams)]
pub struct TeamRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub discarded_at: Option<NaiveDateTime>,
    /// The caller maintains this team (see `caller_columns`).
    #[diesel(sql_type = Bool)]
    pub caller_maintains: bool,
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
        if let Some(account_id) = &scope.account_id {
            q.sql(" AND teams.account_id = ").bind(account_id.clone());
        }
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
        policy::team::actions(caller, row.caller_maintains)
    }
}
