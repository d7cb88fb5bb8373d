//! The `account` resource: a tenant. A caller sees the accounts it is a member of; a
//! platform admin sees every account.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::accounts;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{Attribute, Filter, FilterKind, Relationship, ResourceSchema};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "account",
    path: "accounts",
    attributes: &[
        Attribute::read_write("name"),
        Attribute::read_write("slug"),
        Attribute::read_only("created_at"),
        Attribute::read_only("updated_at"),
        Attribute::read_only("discarded_at"),
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
    actions: &["edit", "delete"],
};

#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
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
        if !scope.caller.platform_admin {
            q.sql(" AND accounts.id IN (SELECT a.account_id FROM account_memberships a WHERE a.user_id = ")
                .bind(scope.caller.user_id.clone())
                .sql(")");
        }
    }

    fn actions(row: &AccountRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        policy::account::actions(caller, &row.id)
    }
}
