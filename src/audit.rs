//! Audit events: every write through the API records one, in the same transaction as
//! the change, so the log and the data can never disagree. `changes` maps an attribute
//! to `[old, new]`; callers never pass passwords, hashes or tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value};

use crate::db::DbConnection;
use crate::db::schema::audit_events;
use crate::jsonapi::error::ApiResult;

/// One event to record.
pub struct Event<'a> {
    pub account_id: &'a str,
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub changes: Map<String, Value>,
    pub at: NaiveDateTime,
}

/// Records what `caller` did to `target` (type, id) in `account_id`, now.
pub fn record_by(
    conn: &mut DbConnection,
    caller: &crate::auth::Caller,
    account_id: &str,
    action: &str,
    target: (&str, &str),
    changes: Changes,
) -> ApiResult<()> {
    record(
        conn,
        Event {
            account_id,
            actor_id: Some(&caller.user_id),
            action,
            target_type: target.0,
            target_id: target.1,
            changes: changes.into_map(),
            at: caller.now,
        },
    )
}

pub fn record(conn: &mut DbConnection, event: Event<'_>) -> ApiResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(uuid::Uuid::now_v7().to_string()),
            audit_events::account_id.eq(event.account_id),
            audit_events::actor_id.eq(event.actor_id),
            audit_events::action.eq(event.action),
            audit_events::target_type.eq(event.target_type),
            audit_events::target_id.eq(event.target_id),
            audit_events::changes.eq(Value::Object(event.changes).to_string()),
            audit_events::occurred_at.eq(event.at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Collects `attribute → [old, new]` for the attributes that changed.
#[derive(Default)]
pub struct Changes(Map<String, Value>);

impl Changes {
    pub fn set(&mut self, name: &str, old: impl Into<Value>, new: impl Into<Value>) {
        let (old, new) = (old.into(), new.into());
        if old != new {
            self.0.insert(name.to_owned(), Value::Array(vec![old, new]));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}
