//! Static descriptions of resource types: what a type exposes to the protocol layer.
//!
//! A resource module in `resources/` declares one [`ResourceSchema`]; the query parser
//! validates `include`, `fields`, `sort`, `filter` against it, and the document writer
//! uses it for relationship links. Nothing here knows any particular resource.

/// Who may write an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Shown, never written by clients (e.g. `created_at`). A PATCH may repeat the
    /// current value; a different value is a 422.
    ReadOnly,
    /// Shown and writable.
    ReadWrite,
    /// Written, never shown (a password).
    WriteOnly,
}

/// The JSON value an attribute holds: what the OpenAPI description promises. (The
/// server's own checks are the domain types in `domain/`; these mirror their rules.)
#[derive(Debug, Clone, Copy)]
pub enum ValueType {
    /// Any JSON value.
    Any,
    /// A string of `min..=max` characters.
    Text {
        min: u32,
        max: u32,
    },
    /// One line of text: `min..=max` characters, no control characters, not blank.
    Line {
        min: u32,
        max: u32,
    },
    /// Free text of `min..=max` characters: line breaks and tabs, no other control
    /// characters.
    Paragraphs {
        min: u32,
        max: u32,
    },
    /// A string of `min..=max` characters matching an ECMA-262 `pattern`.
    Pattern {
        pattern: &'static str,
        min: u32,
        max: u32,
    },
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// One of the strings this function lists (a list too long to write out).
    OneOfListed(fn() -> Vec<&'static str>),
    Email,
    /// An RFC 3339 timestamp.
    Time,
    Bool,
    /// A JSON object.
    Object,
}

#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    pub name: &'static str,
    pub access: Access,
    pub value: ValueType,
    /// `null` is a value it may hold (or be sent).
    pub nullable: bool,
    /// A create must send it.
    pub required: bool,
}

impl Attribute {
    const fn new(name: &'static str, access: Access) -> Self {
        Attribute {
            name,
            access,
            value: ValueType::Any,
            nullable: false,
            required: false,
        }
    }
    pub const fn read_only(name: &'static str) -> Self {
        Attribute::new(name, Access::ReadOnly)
    }
    pub const fn read_write(name: &'static str) -> Self {
        Attribute::new(name, Access::ReadWrite)
    }
    pub const fn write_only(name: &'static str) -> Self {
        Attribute::new(name, Access::WriteOnly)
    }
    pub const fn of(mut self, value: ValueType) -> Self {
        self.value = value;
        self
    }
    pub const fn text(self, min: u32, max: u32) -> Self {
        self.of(ValueType::Text { min, max })
    }
    pub const fn line(self, min: u32, max: u32) -> Self {
        self.of(ValueType::Line { min, max })
    }
    pub const fn paragraphs(self, min: u32, max: u32) -> Self {
        self.of(ValueType::Paragraphs { min, max })
    }
    pub const fn time(self) -> Self {
        self.of(ValueType::Time)
    }
    pub const fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    ToOne,
    ToMany,
}

/// The `target` of a polymorphic relationship.
pub const ANY_TYPE: &str = "*";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relationship {
    pub name: &'static str,
    /// The resource type at the other end (e.g. `"team"`).
    pub target: &'static str,
    pub cardinality: Cardinality,
    /// A create must send it (with a resource identifier, not null).
    pub required: bool,
}

impl Relationship {
    pub const fn to_one(name: &'static str, target: &'static str) -> Self {
        Relationship {
            name,
            target,
            cardinality: Cardinality::ToOne,
            required: false,
        }
    }
    pub const fn to_many(name: &'static str, target: &'static str) -> Self {
        Relationship {
            name,
            target,
            cardinality: Cardinality::ToMany,
            required: false,
        }
    }
    /// A create must name it.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// A to-one relationship whose target may be of any type (an audit event's
    /// `target`): the row says the type ([`ResourceView::to_one_type`]). It may be
    /// included — each target with its own type's rules — but an include path ends
    /// there, since what lies below depends on each target's type.
    ///
    /// [`ResourceView::to_one_type`]: super::document::ResourceView::to_one_type
    pub const fn polymorphic(name: &'static str) -> Self {
        Relationship {
            name,
            target: ANY_TYPE,
            cardinality: Cardinality::ToOne,
            required: false,
        }
    }
    pub fn is_polymorphic(&self) -> bool {
        self.target == ANY_TYPE
    }
    pub fn is_to_many(&self) -> bool {
        self.cardinality == Cardinality::ToMany
    }
}

/// How the values of a `filter[NAME]` parameter are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// Exact match on any of the comma-separated values.
    Exact,
    /// One of a fixed set of values (comma = OR); anything else is a 400.
    OneOf(&'static [&'static str]),
    /// Case-insensitive substring; the whole value is one needle (commas included).
    Text,
    /// A resource id (comma = OR); values must be UUIDs.
    Id,
    /// An RFC 3339 timestamp, with the operators `eq` (no operator), `gt`, `gte`, `lt`, `lte`.
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    pub name: &'static str,
    pub kind: FilterKind,
}

impl Filter {
    pub const fn new(name: &'static str, kind: FilterKind) -> Self {
        Filter { name, kind }
    }
}

/// Everything the protocol layer knows about one resource type.
#[derive(Debug)]
pub struct ResourceSchema {
    /// The JSON:API type, singular snake_case (`"user"`).
    pub type_name: &'static str,
    /// The collection path under `/api/v1` (`"users"`).
    pub path: &'static str,
    pub attributes: &'static [Attribute],
    pub relationships: &'static [Relationship],
    pub filters: &'static [Filter],
    /// Names accepted by `sort` (each may be prefixed by `-`).
    pub sorts: &'static [&'static str],
    /// Names of `meta.permissions.actions` members.
    pub actions: &'static [&'static str],
}

impl ResourceSchema {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    pub fn relationship(&self, name: &str) -> Option<&Relationship> {
        self.relationships.iter().find(|r| r.name == name)
    }
    pub fn filter(&self, name: &str) -> Option<&Filter> {
        self.filters.iter().find(|f| f.name == name)
    }
    pub fn is_sortable(&self, name: &str) -> bool {
        self.sorts.contains(&name)
    }
    /// A field for sparse fieldsets: a shown attribute or a relationship.
    pub fn has_field(&self, name: &str) -> bool {
        self.attribute(name)
            .is_some_and(|a| a.access != Access::WriteOnly)
            || self.relationship(name).is_some()
    }
}

/// All resource types the server knows, so that nested include paths and `fields[TYPE]`
/// can be checked against the type at each step.
#[derive(Debug, Clone, Copy)]
pub struct Registry {
    pub schemas: &'static [&'static ResourceSchema],
}

impl Registry {
    pub fn get(&self, type_name: &str) -> Option<&'static ResourceSchema> {
        self.schemas
            .iter()
            .copied()
            .find(|s| s.type_name == type_name)
    }
}
