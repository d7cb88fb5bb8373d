//! The `audit_event` resource: read-only, for account admins and owners. Events are
//! written by `crate::audit` in the transaction of each change.

use chrono::NaiveDateTime;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{
    Attribute, Filter, FilterKind, Relationship, ResourceSchema, ValueType,
};
use crate::policy;

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "audit_event",
    path: "audit_events",
    attributes: &[
        Attribute::read_only("action").text(1, 100),
        Attribute::read_only("changes").of(ValueType::Object),
        Attribute::read_only("occurred_at").time(),
    ],
    relationships: &[
        Relationship::to_one("actor", "user"),
        Relationship::polymorphic("target"),
    ],
    filters: &[
        Filter::new("action", FilterKind::Exact),
        Filter::new("actor", FilterKind::Id),
        Filter::new("target_type", FilterKind::Exact),
        Filter::new("target", FilterKind::Id),
        Filter::new("occurred_at", FilterKind::Date),
        Filter::new("account", FilterKind::Id),
    ],
    sorts: &["occurred_at"],
    actions: &[],
};

#[derive(Debug, Clone)]
pub struct AuditEventRow {
    pub id: String,
    pub account_id: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub changes: String,
    pub occurred_at: NaiveDateTime,
}

crate::read_by_position!(AuditEventRow { id, account_id, actor_id, action, target_type, target_id, changes, occurred_at });

impl ResourceView for AuditEventRow {
    fn schema(&self) -> &'static ResourceSchema {
        &SCHEMA
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn write_attributes(&self, w: &mut AttributeWriter<'_>) {
        w.value("action", &self.action)
            .raw_json("changes", &self.changes)
            .time("occurred_at", &self.occurred_at);
    }
    fn to_one(&self, relationship: &str) -> Option<&str> {
        match relationship {
            "actor" => self.actor_id.as_deref(),
            "target" => Some(&self.target_id),
            _ => None,
        }
    }
    fn to_one_type(&self, relationship: &Relationship) -> &str {
        if relationship.is_polymorphic() {
            &self.target_type
        } else {
            relationship.target
        }
    }
}

pub struct AuditEventResource;

impl Resource for AuditEventResource {
    type Row = AuditEventRow;
    const SCHEMA: &'static ResourceSchema = &SCHEMA;
    const TABLE: &'static str = "audit_events";
    const COLUMNS: &'static str = "audit_events.id, audit_events.account_id, audit_events.actor_id, \
         audit_events.action, audit_events.target_type, audit_events.target_id, \
         audit_events.changes, audit_events.occurred_at";
    const SOFT_DELETE: bool = false;
    const SORTS: &'static [SortSpec<AuditEventRow>] = &[SortSpec {
        name: "occurred_at",
        expr: "audit_events.occurred_at",
        kind: SortKind::Time,
        nullable: false,
        value: |r| Some(CursorValue::Time(r.occurred_at)),
    }];
    const FILTERS: &'static [(&'static str, FilterSql)] = &[
        ("action", FilterSql::Column("audit_events.action")),
        ("actor", FilterSql::Column("audit_events.actor_id")),
        ("target_type", FilterSql::Column("audit_events.target_type")),
        ("target", FilterSql::Column("audit_events.target_id")),
        ("occurred_at", FilterSql::Column("audit_events.occurred_at")),
        ("account", FilterSql::Special),
    ];
    /// `target` is a to-one link of whichever type the row's `target_type` names: the
    /// engine groups the targets by type and loads each group with that type's engine.
    const LINKS: &'static [(&'static str, Link)] = &[
        ("actor", Link::ToOne { column: "actor_id" }),
        (
            "target",
            Link::ToOne {
                column: "target_id",
            },
        ),
    ];

    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        policy::audit_event::scope(q, scope);
    }

    fn may_read(caller: &Caller) -> bool {
        policy::audit_event::read(caller)
    }

    fn actions(_row: &AuditEventRow, _caller: &Caller) -> Vec<(&'static str, bool)> {
        Vec::new()
    }
}
