//! The `device` resource: a user's push-notification endpoints. A user manages its own;
//! the admins of its home account can read them (never another account's admins).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::devices;
use crate::domain::DeviceType;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{
    Attribute, Filter, FilterKind, Relationship, ResourceSchema, ValueType,
};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "device",
    path: "devices",
    attributes: &[
        Attribute::read_write("device_type")
            .of(ValueType::OneOf(&["ios", "android", "web"]))
            .required(),
        Attribute::read_write("sub_type")
            .of(ValueType::OneOf(&["iphone", "ipad", "ipod"]))
            .nullable(),
        Attribute::read_write("token")
            .of(ValueType::Pattern {
                // Not blank, and no NUL (which PostgreSQL cannot store).
                pattern: r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
                min: 1,
                max: 4096,
            })
            .required(),
        Attribute::read_write("enabled").of(ValueType::Bool),
        Attribute::read_only("created_at").time(),
        Attribute::read_only("updated_at").time(),
    ],
    relationships: &[Relationship::to_one("user", "user")],
    filters: &[
        Filter::new("device_type", FilterKind::OneOf(DeviceType::ALL)),
        Filter::new("user", FilterKind::Id),
    ],
    sorts: &["created_at"],
    actions: policy::device::ACTIONS,
};

#[derive(Debug, Clone)]
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

crate::read_by_position!(DeviceRow { id, user_id, device_type, sub_type, token, enabled, created_at, updated_at });

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
        policy::device::scope(q, scope);
    }

    fn actions(row: &DeviceRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        policy::device::actions(caller, &row.user_id)
    }
}

// ---------------------------------------------------------------------------------
// Writes: a user manages its own devices.

use serde_json::Value;

use super::engine::ensure_changed;
use super::write::{NewId, Prepared, Writable, Writes, Written};
use crate::audit::{self, Changes};
use crate::db::DbConnection;
use crate::domain::DeviceSubType;
use crate::jsonapi::error::{ApiError, ApiResult, ErrorSource};
use crate::jsonapi::input::{Patch, Presence, Problems, ResourceInput, attribute_pointer};

/// The longest push token accepted (APNs and FCM tokens are far shorter).
const MAX_TOKEN_CHARS: usize = 4096;

#[derive(Default)]
struct DeviceChanges {
    device_type: Option<DeviceType>,
    sub_type: Option<Option<DeviceSubType>>,
    token: Option<String>,
    enabled: Option<bool>,
}

fn parse_device(input: &ResourceInput, creating: bool) -> ApiResult<DeviceChanges> {
    let mut problems = Problems::default();
    let mut changes = DeviceChanges {
        device_type: input
            .parse_string(
                &mut problems,
                "device_type",
                Presence::required_if(creating),
                DeviceType::parse,
            )
            .flatten(),
        sub_type: input.parse_string(
            &mut problems,
            "sub_type",
            Presence::Nullable,
            DeviceSubType::parse,
        ),
        token: input
            .parse_string(
                &mut problems,
                "token",
                Presence::required_if(creating),
                |v| {
                    if !v.trim().is_empty() && v.chars().count() <= MAX_TOKEN_CHARS {
                        Ok(v.to_owned())
                    } else {
                        Err(format!("must be 1–{MAX_TOKEN_CHARS} characters"))
                    }
                },
            )
            .flatten(),
        enabled: None,
    };
    match problems.check(input.boolean("enabled")) {
        Some(Patch::Value(b)) => changes.enabled = Some(b),
        Some(Patch::Null) => problems.push(ApiError::validation(
            attribute_pointer("enabled"),
            "must be true or false",
        )),
        _ => {}
    }
    problems.finish()?;
    Ok(changes)
}

/// A concurrent registration of the same token that slipped past `token_taken`.
fn token_unique(e: diesel::result::Error) -> ApiError {
    crate::jsonapi::error::map_unique(
        e,
        &[(
            "token",
            "/data/attributes/token",
            "This device token is already registered.",
        )],
    )
}

fn token_taken(
    conn: &mut DbConnection,
    user_id: &str,
    token: &str,
    except_id: &str,
) -> ApiResult<()> {
    let taken: i64 = devices::table
        .filter(devices::user_id.eq(user_id))
        .filter(devices::token.eq(token))
        .filter(devices::id.ne(except_id))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        Err(ApiError::taken(
            attribute_pointer("token"),
            "This device token is already registered.",
        ))
    } else {
        Ok(())
    }
}

impl Writable for DeviceResource {
    const WRITES: Writes = Writes::ALL;
    const SET_ON_CREATE: &'static [&'static str] = &["user"];
    // The push token is the device's secret: its change is recorded, its value never.
    const MASKED: &'static [&'static str] = &["token"];

    /// `POST /devices`: registers a device of the caller.
    fn create(
        conn: &mut DbConnection,
        caller: &Caller,
        input: &ResourceInput,
        id: NewId,
        _prepared: Prepared,
    ) -> ApiResult<Written> {
        if let Patch::Value(owner) = input.to_one_id("user", "user")?
            && owner != caller.user_id
        {
            let pointer = "/data/relationships/user";
            super::engine::find_linked_node(&super::USERS, conn, caller, &owner, pointer)?;
            return Err(
                ApiError::forbidden("A user registers only its own devices.")
                    .with_source(ErrorSource::Pointer(pointer.into())),
            );
        }
        // The values are judged after the linkage and the permission (SPEC §2's order).
        let changes = parse_device(input, true)?;
        let (Some(device_type), Some(token)) = (changes.device_type, changes.token) else {
            return Err(ApiError::internal("fields checked above"));
        };
        let sub_type = changes.sub_type.flatten();
        let enabled = changes.enabled.unwrap_or(true);
        let id = id.claim(conn)?;
        token_taken(conn, &caller.user_id, &token, &id)?;
        diesel::insert_into(devices::table)
            .values((
                devices::id.eq(&id),
                devices::user_id.eq(&caller.user_id),
                devices::device_type.eq(device_type.as_str()),
                devices::sub_type.eq(sub_type.map(DeviceSubType::as_str)),
                devices::token.eq(&token),
                devices::enabled.eq(enabled),
                devices::created_at.eq(caller.now),
                devices::updated_at.eq(caller.now),
            ))
            .execute(conn)
            .map_err(token_unique)?;
        let mut changes = Changes::default();
        changes.set("device_type", Value::Null, device_type.as_str());
        changes.set("sub_type", Value::Null, sub_type.map(|s| s.as_str()));
        changes.set("enabled", Value::Null, enabled);
        audit::record_by(
            conn,
            caller,
            &caller.account_id,
            "device.created",
            ("device", &id),
            changes,
        )?;
        Ok(Written::id(id))
    }

    /// `PATCH /devices/{id}`: the owner only.
    fn authorize_update(
        _: &mut DbConnection,
        caller: &Caller,
        current: &DeviceRow,
        _: &ResourceInput,
    ) -> ApiResult<()> {
        policy::device::decide(caller, policy::device::Action::Edit, &current.user_id)
            .enforce("edit")
    }

    fn update(
        conn: &mut DbConnection,
        _: &Caller,
        current: &DeviceRow,
        input: &ResourceInput,
    ) -> ApiResult<()> {
        let changes = parse_device(input, false)?;
        if let Some(token) = &changes.token {
            token_taken(conn, &current.user_id, token, &current.id)?;
        }
        let device_type = changes
            .device_type
            .map_or(current.device_type.clone(), |d| d.as_str().to_owned());
        let sub_type = match changes.sub_type {
            Some(s) => s.map(|s| s.as_str().to_owned()),
            None => current.sub_type.clone(),
        };
        let token = changes.token.unwrap_or_else(|| current.token.clone());
        let enabled = changes.enabled.unwrap_or(current.enabled);
        diesel::update(devices::table.find(&current.id))
            .set((
                devices::device_type.eq(&device_type),
                devices::sub_type.eq(&sub_type),
                devices::token.eq(&token),
                devices::enabled.eq(enabled),
            ))
            .execute(conn)
            .map_err(token_unique)?;
        Ok(())
    }

    /// `DELETE /devices/{id}`: the owner only.
    fn delete(conn: &mut DbConnection, caller: &Caller, current: &DeviceRow) -> ApiResult<()> {
        policy::device::decide(caller, policy::device::Action::Delete, &current.user_id)
            .enforce("delete")?;
        ensure_changed(diesel::delete(devices::table.find(&current.id)).execute(conn)?)?;
        audit::record_by(
            conn,
            caller,
            &caller.account_id,
            "device.deleted",
            ("device", &current.id),
            Changes::default(),
        )
    }
}
