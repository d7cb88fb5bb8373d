//! Request documents: the checks every create and update shares (`data` present, `type`
//! and `id` agreeing with the URL, attributes and relationships the type declares), and
//! typed access to members with the JSON Pointer each error must carry.
//!
//! Every id a client writes (`data.id` on create, relationship linkage) leaves here in
//! one spelling, the canonical lower-case hyphenated UUID, so that no resource file has
//! to think about `{…}`, `urn:uuid:…`, upper-case or unhyphenated forms of the same id.

use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult, ErrorCode, ErrorSource};
use super::schema::{Access, ResourceSchema};

/// Whether the document creates a resource or updates the one named in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent<'a> {
    Create,
    Update { id: &'a str },
}

/// The parts of a single-resource request document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceInput {
    /// A client-generated id on create; the URL's id on update.
    pub id: Option<String>,
    pub attributes: Map<String, Value>,
    pub relationships: Map<String, Value>,
    /// The document's top-level `meta`: options of this request.
    pub meta: Map<String, Value>,
}

/// The canonical spelling (lower-case, hyphenated) of a UUID in any spelling
/// `uuid` accepts; `None` for text that is not a UUID. Ids are stored and compared in
/// this form only, so that another spelling of an existing id is that id (SPEC §2).
pub fn canonical_id(text: &str) -> Option<String> {
    uuid::Uuid::parse_str(text)
        .ok()
        .map(|id| id.hyphenated().to_string())
}

pub fn attribute_pointer(name: &str) -> String {
    format!("/data/attributes/{name}")
}

/// Reads a request document for `schema`.
pub fn parse_resource_document(
    body: Value,
    schema: &ResourceSchema,
    intent: Intent<'_>,
) -> ApiResult<ResourceInput> {
    let Value::Object(mut document) = body else {
        return Err(ApiError::invalid_document(
            "",
            "The document must be a JSON object.",
        ));
    };
    let meta = match document.remove("meta") {
        None => Map::new(),
        Some(Value::Object(meta)) => meta,
        Some(_) => {
            return Err(ApiError::invalid_document(
                "/meta",
                "`meta` must be an object.",
            ));
        }
    };
    let Some(data) = document.remove("data") else {
        return Err(ApiError::invalid_document(
            "",
            "The document must have a `data` member.",
        ));
    };
    let Value::Object(mut data) = data else {
        return Err(ApiError::invalid_document(
            "/data",
            "`data` must be a resource object.",
        ));
    };

    match data.remove("type") {
        Some(Value::String(t)) if t == schema.type_name => {}
        Some(Value::String(t)) => {
            return Err(ApiError::conflict(
                "/data/type",
                format!(
                    "This endpoint takes `{}` resources, not `{t}`.",
                    schema.type_name
                ),
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid_document(
                "/data/type",
                "`type` must be a string.",
            ));
        }
        None => {
            return Err(ApiError::invalid_document(
                "/data/type",
                "`data` must have a `type`.",
            ));
        }
    }

    let id = match (data.remove("id"), intent) {
        (None, Intent::Create) => None,
        (Some(Value::String(id)), Intent::Create) => match canonical_id(&id) {
            Some(canonical) => Some(canonical),
            None => {
                return Err(ApiError::validation(
                    "/data/id",
                    format!("`{id}` is not a UUID (e.g. 0190a5f2-3b4c-7d8e-9f01-23456789abcd)."),
                ));
            }
        },
        (Some(Value::String(id)), Intent::Update { id: url_id }) => {
            let same = id.eq_ignore_ascii_case(url_id)
                || canonical_id(&id).is_some_and(|c| Some(c) == canonical_id(url_id));
            if !same {
                return Err(ApiError::conflict(
                    "/data/id",
                    format!("`id` {id} does not match the URL's {url_id}."),
                ));
            }
            Some(url_id.to_owned())
        }
        (None, Intent::Update { .. }) => {
            return Err(ApiError::invalid_document(
                "/data/id",
                "`data` must have an `id`.",
            ));
        }
        (Some(_), _) => {
            return Err(ApiError::invalid_document(
                "/data/id",
                "`id` must be a string.",
            ));
        }
    };

    let attributes = match data.remove("attributes") {
        None => Map::new(),
        Some(Value::Object(a)) => a,
        Some(_) => {
            return Err(ApiError::invalid_document(
                "/data/attributes",
                "`attributes` must be an object.",
            ));
        }
    };
    let relationships = match data.remove("relationships") {
        None => Map::new(),
        Some(Value::Object(r)) => r,
        Some(_) => {
            return Err(ApiError::invalid_document(
                "/data/relationships",
                "`relationships` must be an object.",
            ));
        }
    };

    let mut problems = Problems::default();
    for name in attributes.keys() {
        match schema.attribute(name) {
            None => problems.push(ApiError::validation(
                attribute_pointer(name),
                format!("`{}` has no attribute `{name}`.", schema.type_name),
            )),
            Some(a) if a.access == Access::ReadOnly && intent == Intent::Create => {
                // Clients that serialize whole records send read-only attributes as null.
                if !attributes[name].is_null() {
                    problems.push(ApiError::validation(
                        attribute_pointer(name),
                        format!("`{name}` is read-only."),
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for name in relationships.keys() {
        if schema.relationship(name).is_none() {
            problems.push(ApiError::validation(
                format!("/data/relationships/{name}"),
                format!("`{}` has no relationship `{name}`.", schema.type_name),
            ));
        }
    }
    problems.finish()?;
    let mut relationships = relationships;
    for (name, object) in relationships.iter_mut() {
        if let Some(relationship) = schema.relationship(name) {
            canonicalize_linkage(object, relationship, name)?;
        }
    }
    Ok(ResourceInput {
        id,
        attributes,
        relationships,
        meta,
    })
}

/// Checks a relationship object of a request body (SPEC §2: "a malformed relationship
/// object — no `data`, wrong shape or type — is 400 `invalid_document`") and rewrites
/// its linkage ids in their canonical spelling. A linkage id that is not a UUID names
/// nothing; it is kept as sent, so that the lookup reports it like any missing target.
fn canonicalize_linkage(
    object: &mut Value,
    relationship: &super::schema::Relationship,
    name: &str,
) -> ApiResult<()> {
    let pointer = format!("/data/relationships/{name}");
    let Some(data) = object.as_object_mut().and_then(|o| o.get_mut("data")) else {
        return Err(ApiError::invalid_document(
            pointer,
            "a relationship object needs `data`",
        ));
    };
    let identifier = |item: &mut Value, at: String| -> ApiResult<()> {
        let wanted = relationship.target;
        let (Some(t), Some(id)) = (
            item.get("type").and_then(Value::as_str),
            item.get("id").and_then(Value::as_str),
        ) else {
            return Err(ApiError::invalid_document(
                at,
                "a resource identifier needs `type` and `id` strings",
            ));
        };
        if !relationship.is_polymorphic() && t != wanted {
            return Err(ApiError::invalid_document(
                format!("{at}/type"),
                format!("`{name}` takes `{wanted}` resources, not `{t}`"),
            ));
        }
        if let Some(canonical) = canonical_id(id) {
            item["id"] = Value::String(canonical);
        }
        Ok(())
    };
    match (data, relationship.is_to_many()) {
        (Value::Array(items), true) => {
            for (i, item) in items.iter_mut().enumerate() {
                identifier(item, format!("{pointer}/data/{i}"))?;
            }
            Ok(())
        }
        (Value::Null, false) => Ok(()),
        (item @ Value::Object(_), false) => identifier(item, format!("{pointer}/data")),
        (_, true) => Err(ApiError::invalid_document(
            format!("{pointer}/data"),
            format!("`{name}` is to-many: `data` must be an array of resource identifiers"),
        )),
        (_, false) => Err(ApiError::invalid_document(
            format!("{pointer}/data"),
            format!("`{name}` is to-one: `data` must be a resource identifier or null"),
        )),
    }
}

/// A relationship of a request body, as its linkage (already checked for shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkage {
    One(Option<String>),
    Many(Vec<String>),
}

impl ResourceInput {
    /// Every relationship the body sends, by name, with its linkage ids.
    pub fn linkages(&self) -> Vec<(&str, Linkage)> {
        self.relationships
            .iter()
            .map(|(name, object)| {
                let linkage = match &object["data"] {
                    Value::Array(items) => Linkage::Many(
                        items
                            .iter()
                            .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
                            .collect(),
                    ),
                    Value::Null => Linkage::One(None),
                    one => Linkage::One(Some(one["id"].as_str().unwrap_or_default().to_owned())),
                };
                (name.as_str(), linkage)
            })
            .collect()
    }

    /// A to-many relationship's ids (`None` when the body does not send it).
    pub fn to_many_ids(&self, name: &str) -> Option<Vec<String>> {
        self.linkages()
            .into_iter()
            .find_map(|(n, linkage)| match linkage {
                Linkage::Many(ids) if n == name => Some(ids),
                _ => None,
            })
    }
}

/// A member that may be absent (leave unchanged), null, or a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch<T> {
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }
}

/// Whether an attribute must be given, and whether it may be null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Absent or null is a 422 (`is required`).
    Required,
    /// Absent leaves the value unchanged; null is a 422 (`must not be null`).
    Optional,
    /// Absent leaves the value unchanged; null clears it.
    Nullable,
}

impl Presence {
    /// `Required` on create, `Optional` on update.
    pub fn required_if(creating: bool) -> Self {
        if creating {
            Presence::Required
        } else {
            Presence::Optional
        }
    }
}

impl ResourceInput {
    /// A string attribute parsed with `parse` (a domain type's parser, usually): `None`
    /// when absent or invalid, `Some(None)` when null and `Nullable`. Every problem is
    /// recorded in `problems` as a 422 pointing at the attribute, so a client sees them
    /// all at once.
    pub fn parse_string<T, E: std::fmt::Display>(
        &self,
        problems: &mut Problems,
        name: &str,
        presence: Presence,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        let problem = |detail: String| ApiError::validation(attribute_pointer(name), detail);
        match (problems.check(self.string(name))?, presence) {
            (Patch::Value(text), _) => match parse(text) {
                Ok(value) => Some(Some(value)),
                Err(e) => {
                    problems.push(problem(e.to_string()));
                    None
                }
            },
            (Patch::Null, Presence::Nullable) => Some(None),
            (Patch::Absent, Presence::Optional | Presence::Nullable) => None,
            (Patch::Null, Presence::Optional) => {
                problems.push(problem("must not be null".into()));
                None
            }
            (_, Presence::Required) => {
                problems.push(problem("is required".into()));
                None
            }
        }
    }

    /// A string attribute, or a 422 pointing at it if it is another JSON type.
    pub fn string(&self, name: &str) -> ApiResult<Patch<&str>> {
        match self.attributes.get(name) {
            None => Ok(Patch::Absent),
            Some(Value::Null) => Ok(Patch::Null),
            // No attribute holds a NUL, and PostgreSQL cannot store text that does.
            Some(Value::String(s)) if s.contains('\0') => Err(ApiError::validation(
                attribute_pointer(name),
                "must not contain a NUL character",
            )),
            Some(Value::String(s)) => Ok(Patch::Value(s)),
            Some(_) => Err(ApiError::validation(
                attribute_pointer(name),
                "must be a string",
            )),
        }
    }

    pub fn boolean(&self, name: &str) -> ApiResult<Patch<bool>> {
        match self.attributes.get(name) {
            None => Ok(Patch::Absent),
            Some(Value::Null) => Ok(Patch::Null),
            Some(Value::Bool(b)) => Ok(Patch::Value(*b)),
            Some(_) => Err(ApiError::validation(
                attribute_pointer(name),
                "must be true or false",
            )),
        }
    }

    pub fn raw(&self, name: &str) -> Patch<&Value> {
        match self.attributes.get(name) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(v) => Patch::Value(v),
        }
    }

    /// Read-only attributes repeated by the client must equal the current values
    /// (`current` is the resource's attributes as the server shows them).
    pub fn check_read_only(
        &self,
        schema: &ResourceSchema,
        current: &Map<String, Value>,
    ) -> ApiResult<()> {
        let mut problems = Problems::default();
        for (name, value) in &self.attributes {
            let read_only = schema
                .attribute(name)
                .is_some_and(|a| a.access == Access::ReadOnly);
            if read_only && current.get(name).unwrap_or(&Value::Null) != value {
                problems.push(ApiError::validation(
                    attribute_pointer(name),
                    format!("`{name}` is read-only; it can only be sent unchanged."),
                ));
            }
        }
        problems.finish()
    }

    /// A to-one relationship's id from `relationships`, e.g. for a membership's `user`
    /// (its shape and type were checked by `parse_resource_document`).
    pub fn to_one_id(&self, name: &str, target_type: &str) -> ApiResult<Patch<String>> {
        let Some(object) = self.relationships.get(name) else {
            return Ok(Patch::Absent);
        };
        match &object["data"] {
            Value::Null => Ok(Patch::Null),
            identifier => match (identifier["type"].as_str(), identifier["id"].as_str()) {
                (Some(t), Some(id)) if t == target_type => Ok(Patch::Value(id.to_owned())),
                _ => Err(ApiError::invalid_document(
                    format!("/data/relationships/{name}/data"),
                    format!("`{name}` takes a `{target_type}` resource identifier or null"),
                )),
            },
        }
    }
}

/// Resource identifiers of a relationship request document (`{"data": [...]}`).
pub fn parse_identifiers(body: Value, target_type: &str, to_many: bool) -> ApiResult<Vec<String>> {
    let Value::Object(mut document) = body else {
        return Err(ApiError::invalid_document(
            "",
            "The document must be a JSON object.",
        ));
    };
    let Some(data) = document.remove("data") else {
        return Err(ApiError::invalid_document(
            "",
            "The document must have a `data` member.",
        ));
    };
    let items = match (data, to_many) {
        (Value::Array(items), true) => items,
        (Value::Null, false) => return Ok(Vec::new()),
        (item @ Value::Object(_), false) => vec![item],
        (_, true) => {
            return Err(ApiError::invalid_document(
                "/data",
                "`data` must be an array.",
            ));
        }
        (_, false) => {
            return Err(ApiError::invalid_document(
                "/data",
                "`data` must be an identifier or null.",
            ));
        }
    };
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let pointer = if to_many {
            format!("/data/{i}")
        } else {
            "/data".to_owned()
        };
        let t = item.get("type").and_then(Value::as_str);
        let id = item.get("id").and_then(Value::as_str);
        match (t, id) {
            (Some(t), Some(id)) if t == target_type => {
                let Some(canonical) = canonical_id(id) else {
                    return Err(ApiError::new(
                        ErrorCode::NotFound,
                        format!("no `{target_type}` {id}"),
                    )
                    .with_source(ErrorSource::Pointer(format!("{pointer}/id"))));
                };
                ids.push(canonical);
            }
            (Some(t), Some(_)) => {
                return Err(ApiError::conflict(
                    format!("{pointer}/type"),
                    format!("expected `{target_type}`, got `{t}`"),
                ));
            }
            _ => {
                return Err(ApiError::invalid_document(
                    pointer,
                    "a resource identifier needs `type` and `id` strings",
                ));
            }
        }
    }
    Ok(ids)
}

/// Collects 422s so that a client sees every invalid attribute at once.
#[derive(Debug, Default)]
pub struct Problems(Option<ApiError>);

impl Problems {
    pub fn push(&mut self, error: ApiError) {
        self.0 = Some(match self.0.take() {
            None => error,
            Some(existing) if existing.status == error.status => existing.merge(error),
            Some(existing) => existing,
        });
    }

    /// Keeps the value of `result`, recording its error.
    pub fn check<T>(&mut self, result: ApiResult<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(e);
                None
            }
        }
    }

    pub fn finish(self) -> ApiResult<()> {
        match self.0 {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_uuid_has_one_canonical_form() {
        let canonical = "0190a5f2-3b4c-7d8e-9f01-23456789abcd";
        for spelling in [
            canonical,
            "0190A5F2-3B4C-7D8E-9F01-23456789ABCD",
            "{0190a5f2-3b4c-7d8e-9f01-23456789abcd}",
            "urn:uuid:0190a5f2-3b4c-7d8e-9f01-23456789abcd",
            "0190a5f23b4c7d8e9f0123456789abcd",
        ] {
            assert_eq!(
                canonical_id(spelling).as_deref(),
                Some(canonical),
                "{spelling}"
            );
        }
        for not_uuid in [
            "",
            "current",
            "0190a5f2-3b4c-7d8e-9f01-23456789abcg",
            "12345",
        ] {
            assert_eq!(canonical_id(not_uuid), None, "{not_uuid}");
        }
    }
}
