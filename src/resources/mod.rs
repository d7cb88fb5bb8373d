//! Resource types, one file each, declared once: the type list below is the only place
//! a type is registered. From it come the route table, the OpenAPI description, the
//! schema registry and batches of operations. Reads go through the shared engine
//! (`engine.rs`, `read.rs`), writes through `write.rs` and `operations.rs`; a type's file
//! holds only what is its own.

pub mod engine;
pub mod onboarding;
pub mod operations;
pub mod read;
pub mod session;
pub mod user_lifecycle;
pub mod write;

use engine::{DynResource, Engine};
use write::DynWrites;

/// Every URL under this prefix is a JSON:API endpoint (the route table mounts them there;
/// links are written with it).
pub const API_PREFIX: &str = "/api/v1";

use std::sync::LazyLock;

use crate::jsonapi::schema::{Registry, ResourceSchema};

/// One resource type: how it is read and, when clients write it, how it is written.
#[derive(Clone, Copy)]
pub struct Type {
    pub read: &'static dyn DynResource,
    pub write: Option<&'static dyn DynWrites>,
}

impl Type {
    const fn writable<R: write::Writable>(engine: &'static Engine<R>) -> Type
    where
        R::Row: Send,
    {
        Type {
            read: engine,
            write: Some(engine),
        }
    }

    const fn read_only<R: engine::Resource>(engine: &'static Engine<R>) -> Type
    where
        R::Row: Send,
    {
        Type {
            read: engine,
            write: None,
        }
    }
}

/// Declares the resource types: for each, its module, its engine (a `static`) and
/// whether clients write it. The order is the route table's: the busiest first, since
/// routes are matched in order.
macro_rules! resource_types {
    ($($module:ident :: $resource:ident as $engine:ident, $kind:ident;)*) => {
        $(pub mod $module;)*
        $(pub static $engine: Engine<$module::$resource> = Engine::new();)*
        /// Every type served through the generic engines, in route order.
        pub static TYPES: &[Type] = &[$(Type::$kind(&$engine)),*];
    };
}

resource_types! {
    user::UserResource as USERS, writable;
    account::AccountResource as ACCOUNTS, writable;
    team::TeamResource as TEAMS, writable;
    account_membership::AccountMembershipResource as ACCOUNT_MEMBERSHIPS, writable;
    account_invitation::AccountInvitationResource as ACCOUNT_INVITATIONS, writable;
    team_membership::TeamMembershipResource as TEAM_MEMBERSHIPS, writable;
    device::DeviceResource as DEVICES, writable;
    audit_event::AuditEventResource as AUDIT_EVENTS, read_only;
}

/// The read engines of every type in [`TYPES`].
pub fn all() -> impl Iterator<Item = &'static dyn DynResource> {
    TYPES.iter().map(|t| t.read)
}

/// The writes of a type, by type name (`None`: no such type, or clients do not write it).
pub fn writes_of(type_name: &str) -> Option<&'static dyn DynWrites> {
    TYPES
        .iter()
        .find(|t| t.read.schema().type_name == type_name)
        .and_then(|t| t.write)
}

/// Every schema, for validating include paths and sparse fieldsets across types: those
/// of [`TYPES`], then sessions'.
pub static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let schemas: Vec<&'static ResourceSchema> = all()
        .map(|resource| resource.schema())
        .chain([&session::SCHEMA])
        .collect();
    // Made once per process, and needed for as long as it runs.
    Registry {
        schemas: Box::leak(schemas.into_boxed_slice()),
    }
});

/// The engine of a type, by type name.
pub fn lookup(type_name: &str) -> Option<&'static dyn DynResource> {
    if type_name == session::SCHEMA.type_name {
        return Some(&session::ENGINE);
    }
    all().find(|r| r.schema().type_name == type_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sort the schema allows but the engine lacks was silently dropped, a filter
    /// without SQL was a 500 and a relationship without a link could not be included:
    /// every promise of a schema must have its SQL.
    #[test]
    fn every_declared_sort_filter_and_relationship_has_its_sql() {
        for resource in all().chain([&session::ENGINE as &dyn DynResource]) {
            let schema = resource.schema();
            let (sorts, filters, links) = resource.declared_sql();
            for sort in schema.sorts {
                assert!(
                    sorts.contains(sort),
                    "{}: sort `{sort}` has no SQL",
                    schema.type_name
                );
            }
            for filter in schema.filters {
                assert!(
                    filters.contains(&filter.name),
                    "{}: filter `{}` has no SQL",
                    schema.type_name,
                    filter.name
                );
            }
            for relationship in schema.relationships {
                assert!(
                    links.contains(&relationship.name),
                    "{}: relationship `{}` has no link",
                    schema.type_name,
                    relationship.name
                );
            }
        }
    }

    /// Rows are read by position (`crate::db::row`): a type's select list must name its
    /// row's fields in their order.
    #[test]
    fn every_select_list_names_its_rows_fields_in_order() {
        for resource in all().chain([&session::ENGINE as &dyn DynResource]) {
            let (columns, fields) = resource.select_list_and_fields();
            assert!(
                columns.len() <= fields.len() && columns[..] == fields[..columns.len()],
                "{}: selects {columns:?} into fields {fields:?}",
                resource.schema().type_name
            );
        }
    }
}
