//! The `device` resource: a user's push-notification endpoints. A user manages its own;
//! account admins can read those of the account's users.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::devices;
use crate::domain::DeviceType;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{Attribute, Filter, FilterKind, Relationship, ResourceSchema};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "device",
    path: "devices",
    attributes: &[
        Attribute::read_write("device_type"),
        Attribute::read_write("sub_type"),
        Attribute::read_write("token"),
        Attribute::read_write("enabled"),
        Attribute::read_only("created_at"),
        Attribute::read_only("updated_at"),
    ],
    relationships: &[Relationship::to_one("user", "user")],
    filters: &[
        Filter::new("device_type", FilterKind::OneOf(DeviceType::ALL)),
        Filter::new("user", FilterKind::Id),
    ],
    sorts: &["created_at"],
    actions: &["edit", "delete"],
};

#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = devices)]
pub struct DeviceRow {
    pub id: String,
    pub user_id: String,
    pub device_type: String,
    pub sub_type: Option<String>,
    pub token: String,
    pub enabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ResourceView for DeviceRow {
    fn schema(&self) -> &'static ResourceSchema {
        &SCHEMA
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn write_attributes(&self, w: &mut AttributeWriter<'_>) {
        w.value("device_type", &self.device_type)
            .value("sub_type", &self.sub_type)
            .value("token", &self.token)
            .value("enabled", &self.enabled)
            .time("created_at", &self.created_at)
            .time("updated_at", &self.updated_at);
    }
    fn to_one(&self, relationship: &str) -> Option<&str> {
        match relationship {
            "user" => Some(&self.user_id),
            _ => None,
        }
    }
}

pub struct DeviceResource;

impl Resource for DeviceResource {
    type Row = DeviceRow;
    const SCHEMA: &'static ResourceSchema = &SCHEMA;
    const TABLE: &'static str = "devices";
    const COLUMNS: &'static str = "devices.id, devices.user_id, devices.device_type, devices.sub_type, \
         devices.token, devices.enabled, devices.created_at, devices.updated_at";
    const SOFT_DELETE: bool = false;
    const SORTS: &'static [SortSpec<DeviceRow>] = &[SortSpec {
        name: "created_at",
        expr: "devices.created_at",
        kind: SortKind::Time,
        nullable: false,
        value: |r| Some(CursorValue::Time(r.created_at)),
    }];
    const FILTERS: &'static [(&'static str, FilterSql)] = &[
        ("device_type", FilterSql::Column("devices.device_type")),
        ("user", FilterSql::Column("devices.user_id")),
    ];
    const LINKS: &'static [(&'static str, Link)] = &[("user", Link::ToOne { column: "user_id" })];

    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        let caller = scope.caller;
        if caller.platform_admin {
            return;
        }
        if caller.role.is_admin() {
            // Admins read the devices of their account's live users.
            q.sql(
                " AND devices.user_id IN (SELECT dm.user_id FROM account_memberships dm \
                 JOIN users du ON du.id = dm.user_id AND du.discarded_at IS NULL WHERE dm.account_id = ",
            )
            .bind(caller.account_id.clone())
            .sql(")");
        } else {
            q.sql(" AND devices.user_id = ")
                .bind(caller.user_id.clone());
        }
    }

    fn actions(row: &DeviceRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        policy::device::actions(caller, &row.user_id)
    }
}
