//! The `account_membership` resource: a user's role in an account.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::account_memberships;
use crate::domain::AccountRole;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{Attribute, Filter, FilterKind, Relationship, ResourceSchema};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "account_membership",
    path: "account_memberships",
    attributes: &[
        Attribute::read_write("role"),
        Attribute::read_only("created_at"),
        Attribute::read_only("updated_at"),
    ],
    relationships: &[
        Relationship::to_one("user", "user"),
        Relationship::to_one("account", "account"),
    ],
    filters: &[
        Filter::new("role", FilterKind::OneOf(AccountRole::ALL)),
        Filter::new("user", FilterKind::Id),
        Filter::new("account", FilterKind::Id),
    ],
    sorts: &["created_at", "role"],
    actions: &["edit", "delete"],
};

#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = account_memberships)]
pub struct AccountMembershipRow {
    pub id: String,
    pub account_id: String,
    pub user_id: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

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
        if let Some(account_id) = &scope.account_id {
            q.sql(" AND account_memberships.account_id = ")
                .bind(account_id.clone());
        }
        // Memberships of deleted users are gone with them.
        q.sql(" AND EXISTS (SELECT 1 FROM users du WHERE du.id = account_memberships.user_id AND du.discarded_at IS NULL)");
    }

    fn actions(row: &AccountMembershipRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        let role = AccountRole::parse(&row.role).unwrap_or(AccountRole::Member);
        policy::account_membership::actions(caller, role)
    }
}
