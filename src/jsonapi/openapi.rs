//! The OpenAPI 3.1 description (`GET /api/v1/openapi.json`), generated from the same
//! declarations the server runs on: the route table says which URL answers which
//! methods and in what [`Shape`], and each [`ResourceSchema`] says its attributes (with
//! their [`ValueType`]s), relationships, filters and sorts. Nothing here knows a
//! particular resource.

use serde_json::{Map, Value, json};

use super::media::JSONAPI_MEDIA_TYPE;
use super::query::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use super::schema::{Access, Attribute, FilterKind, Registry, ResourceSchema, ValueType};

/// What an endpoint is, which decides its parameters, bodies and responses.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// `/{path}`: GET lists (the whole query language), POST creates.
    Collection(&'static ResourceSchema),
    /// `/{path}/{id}`: GET (include, fields), PATCH, DELETE.
    Single(&'static ResourceSchema),
    /// `/{path}/{id}/{relationship}`: GET the related resource(s).
    Related(&'static ResourceSchema),
    /// `/{path}/{id}/relationships/{relationship}`: linkage; writes change to-many ones.
    Relationship(&'static ResourceSchema),
    /// Any other endpoint: the document it takes (if any) and what it answers.
    Custom {
        input: Option<&'static ResourceSchema>,
        output: Output,
    },
    /// Operations endpoints outside the JSON:API (`/healthz`): plain JSON.
    Probe,
    /// `POST /operations`: a batch of Atomic Operations, in the extension's media type.
    Operations,
}

/// What a [`Shape::Custom`] endpoint answers.
#[derive(Debug, Clone, Copy)]
pub enum Output {
    /// One resource, with this status.
    Resource(u16, &'static ResourceSchema),
    /// A collection of this type.
    Collection(&'static ResourceSchema),
    /// 204, no body.
    NoContent,
}

/// One URL pattern of the route table (`/api/v1/users/{id}`), its methods and shape.
#[derive(Debug, Clone)]
pub struct EndpointDoc {
    pub path: String,
    pub methods: Vec<&'static str>,
    pub shape: Shape,
    /// The values a path parameter may take, when it is not an id (`{action}`).
    pub path_values: Vec<(&'static str, &'static [&'static str])>,
}

const ERROR_STATUSES: &[(u16, &str)] = &[
    (400, "The query or the document is malformed."),
    (401, "No valid bearer token."),
    (403, "The caller may not do this."),
    (404, "No such resource, or not visible to the caller."),
    (406, "`Accept` names only unsupported JSON:API media types."),
    (
        409,
        "A conflict: taken, wrong type or id, last owner, invalid transition.",
    ),
    (413, "The body is larger than 1 MiB."),
    (415, "`Content-Type` is not the JSON:API media type."),
    (
        422,
        "An attribute value is invalid; `source.pointer` names it.",
    ),
    (429, "Too many failed sign-ins; see `Retry-After`."),
];

/// The whole description.
pub fn document(endpoints: &[EndpointDoc], registry: &Registry) -> Value {
    let mut paths = Map::new();
    for endpoint in endpoints {
        let mut item = Map::new();
        for method in &endpoint.methods {
            item.insert(
                method.to_ascii_lowercase(),
                operation(endpoint, method, registry),
            );
        }
        paths.insert(endpoint.path.clone(), Value::Object(item));
    }
    let mut schemas = Map::new();
    for schema in registry.schemas {
        add_type_schemas(&mut schemas, schema);
    }
    for endpoint in endpoints {
        if let Shape::Custom {
            input: Some(schema),
            ..
        } = endpoint.shape
        {
            add_type_schemas(&mut schemas, schema);
        }
    }
    schemas.insert("identifier".into(), identifier_schema());
    schemas.insert("error_document".into(), error_document_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "roster",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Users, accounts, teams and memberships over JSON:API 1.1. \
                Every collection takes `include`, `fields[TYPE]`, `sort`, `filter[NAME]` \
                and offset (`page[number]`, `page[size]`) or cursor (`page[after]`, \
                `page[before]`) pagination.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    })
}

fn operation(endpoint: &EndpointDoc, method: &str, registry: &Registry) -> Value {
    if method == "HEAD" {
        return head_operation(operation(endpoint, "GET", registry));
    }
    let mut parameters = path_parameters(endpoint);
    let mut op = Map::new();
    let (summary, request, responses): (String, Option<Value>, Vec<(u16, Value)>) = match (
        endpoint.shape,
        method,
    ) {
        (Shape::Collection(s), "GET") => {
            parameters.extend(collection_parameters(s, registry));
            (
                format!("List {} resources", s.type_name),
                None,
                vec![(200, collection_response(s))],
            )
        }
        (Shape::Collection(s), "POST") => (
            format!("Create a {}", s.type_name),
            Some(request_body(&create_schema_ref(s))),
            vec![(201, resource_response(s))],
        ),
        (Shape::Single(s), "GET") => {
            parameters.extend(single_parameters(Some(s), registry));
            (
                format!("Get a {}", s.type_name),
                None,
                vec![(200, resource_response(s))],
            )
        }
        (Shape::Single(s), "PATCH") => (
            format!("Update a {}", s.type_name),
            Some(request_body(&update_schema_ref(s))),
            vec![(200, resource_response(s))],
        ),
        (Shape::Single(s), "DELETE") => (
            format!("Delete a {}", s.type_name),
            None,
            vec![(204, no_content())],
        ),
        (Shape::Related(s), _) => {
            parameters.extend(collection_parameters_any(registry));
            (
                format!("The resources related to a {}", s.type_name),
                None,
                vec![(200, json_api_response(json!({"type": "object"})))],
            )
        }
        (Shape::Relationship(s), "GET") => (
            format!("The linkage of a relationship of a {}", s.type_name),
            None,
            vec![(200, json_api_response(linkage_document_schema()))],
        ),
        (Shape::Relationship(s), _) => (
            format!(
                "Change the members of a to-many relationship of a {}",
                s.type_name
            ),
            Some(request_body(&json!({
                "type": "object",
                "required": ["data"],
                "properties": {"data": {"type": "array",
                    "items": {"$ref": "#/components/schemas/identifier"}}},
            }))),
            vec![(204, no_content())],
        ),
        (Shape::Custom { input, output }, _) => {
            let request = input.map(|s| request_body(&create_schema_ref(s)));
            let response = match output {
                Output::Resource(status, s) => (status, resource_response(s)),
                Output::Collection(s) => (200, collection_response(s)),
                Output::NoContent => (204, no_content()),
            };
            let summary = format!("{method} {}", endpoint.path);
            (summary, request, vec![response])
        }
        (Shape::Operations, _) => (
            "Run add, update and remove operations in one transaction (Atomic Operations)".into(),
            Some(json!({
                "required": true,
                "content": {atomic_media_type(): {"schema": operations_request_schema()}},
            })),
            vec![(
                200,
                json!({
                    "description": "Every operation succeeded; one result per operation, in order.",
                    "content": {atomic_media_type(): {"schema": operations_response_schema()}},
                }),
            )],
        ),
        (Shape::Probe, _) => (
            format!("{method} {}", endpoint.path),
            None,
            vec![(
                200,
                json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}),
            )],
        ),
        (shape, method) => (format!("{method} {shape:?}"), None, Vec::new()),
    };
    op.insert("summary".into(), Value::String(summary));
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(request) = request {
        op.insert("requestBody".into(), request);
    }
    let mut all = Map::new();
    for (status, response) in responses {
        all.insert(status.to_string(), response);
    }
    if !matches!(endpoint.shape, Shape::Probe) {
        // The operations endpoint answers everything, errors included, in its extension.
        let error_media_type = if matches!(endpoint.shape, Shape::Operations) {
            atomic_media_type()
        } else {
            JSONAPI_MEDIA_TYPE.to_owned()
        };
        for (status, description) in ERROR_STATUSES {
            all.insert(
                status.to_string(),
                json!({
                    "description": description,
                    "content": {error_media_type.clone(): {"schema": {"$ref": "#/components/schemas/error_document"}}},
                }),
            );
        }
        op.insert("security".into(), json!([{"bearer": []}, {}]));
    }
    op.insert("responses".into(), Value::Object(all));
    Value::Object(op)
}

fn atomic_media_type() -> String {
    format!(
        "{JSONAPI_MEDIA_TYPE}; ext=\"{}\"",
        super::media::ATOMIC_EXTENSION
    )
}

/// An Atomic Operations request: `add`, `update` or `remove`, by `ref`, `href` or `data`.
fn operations_request_schema() -> Value {
    let identifier = json!({
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string"},
            "id": {"type": "string", "format": "uuid"},
            "lid": {"type": "string", "minLength": 1},
            "relationship": {"type": "string"},
        },
        "additionalProperties": false,
    });
    json!({
        "type": "object",
        "required": ["atomic:operations"],
        "properties": {
            "atomic:operations": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": {
                    "type": "object",
                    "required": ["op"],
                    "properties": {
                        "op": {"enum": ["add", "update", "remove"]},
                        "ref": identifier,
                        "href": {"type": "string"},
                        "data": {},
                        "meta": {"type": "object"},
                    },
                    "additionalProperties": false,
                },
            },
        },
    })
}

fn operations_response_schema() -> Value {
    json!({
        "type": "object",
        "required": ["atomic:results"],
        "properties": {
            "jsonapi": {"type": "object"},
            "atomic:results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"data": {"type": "object"}, "meta": {"type": "object"}},
                },
            },
        },
    })
}

/// `HEAD` answers what `GET` would, headers only: the `GET` operation without bodies.
fn head_operation(mut get: Value) -> Value {
    if let Some(summary) = get.get("summary").and_then(Value::as_str) {
        get["summary"] = Value::String(format!("{summary} (headers only)"));
    }
    if let Some(responses) = get.get_mut("responses").and_then(Value::as_object_mut) {
        for response in responses.values_mut() {
            if let Some(response) = response.as_object_mut() {
                response.remove("content");
            }
        }
    }
    get
}

fn path_parameters(endpoint: &EndpointDoc) -> Vec<Value> {
    let relationships: Vec<&str> = match endpoint.shape {
        Shape::Related(s) | Shape::Relationship(s) => {
            s.relationships.iter().map(|r| r.name).collect()
        }
        _ => Vec::new(),
    };
    endpoint
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema =
                if let Some((_, values)) = endpoint.path_values.iter().find(|(n, _)| *n == name) {
                    json!({"type": "string", "enum": values})
                } else if name == "relationship" {
                    json!({"type": "string", "enum": relationships})
                } else {
                    json!({"type": "string"})
                };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema,
           "description": description})
}

/// `include`: comma-separated paths of up to three relationship names, the first one
/// of `schema` (of any type when the type is not known, as on related endpoints). A
/// polymorphic relationship ends a path, as the query parser requires.
fn single_parameters(schema: Option<&ResourceSchema>, registry: &Registry) -> Vec<Value> {
    let names = |s: &ResourceSchema, polymorphic: bool| -> Vec<&'static str> {
        s.relationships
            .iter()
            .filter(|r| r.is_polymorphic() == polymorphic)
            .map(|r| r.name)
            .collect()
    };
    let distinct = |mut names: Vec<&'static str>| {
        names.sort_unstable();
        names.dedup();
        names
    };
    let any = distinct(
        registry
            .schemas
            .iter()
            .flat_map(|s| names(s, false))
            .collect(),
    );
    // Polymorphic relationships that a path can end in after its first step: those of
    // the types some relationship leads to.
    let reached = |s: &ResourceSchema| {
        registry
            .schemas
            .iter()
            .any(|o| o.relationships.iter().any(|r| r.target == s.type_name))
    };
    let any_end = distinct(
        registry
            .schemas
            .iter()
            .filter(|s| reached(s))
            .flat_map(|s| names(s, true))
            .collect(),
    );
    let (first, first_end) = match schema {
        Some(s) => (names(s, false), names(s, true)),
        None => (any.clone(), any_end.clone()),
    };
    let mut shapes = Vec::new();
    if !first.is_empty() {
        let (first, any) = (first.join("|"), any.join("|"));
        shapes.push(format!("(?:{first})(?:\\.(?:{any})){{0,2}}"));
        if !any_end.is_empty() {
            let end = any_end.join("|");
            shapes.push(format!("(?:{first})(?:\\.(?:{any}))?\\.(?:{end})"));
        }
    }
    if !first_end.is_empty() {
        shapes.push(format!("(?:{})", first_end.join("|")));
    }
    if shapes.is_empty() {
        return Vec::new();
    }
    let path = format!("(?:{})", shapes.join("|"));
    vec![query(
        "include",
        json!({"type": "string", "pattern": format!("^{path}(?:,{path})*$")}),
        "Comma-separated relationship paths, up to three levels (`teams.users`); a \
         relationship that may point at several types ends its path.",
    )]
}

fn page_parameters() -> Vec<Value> {
    vec![
        query(
            "page[size]",
            json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}),
            "Resources per page.",
        ),
        query(
            "page[number]",
            json!({"type": "integer", "minimum": 1}),
            "Offset pagination: the page, from 1.",
        ),
        query(
            "page[after]",
            text_parameter(),
            "Cursor pagination: the page after this cursor.",
        ),
        query(
            "page[before]",
            text_parameter(),
            "Cursor pagination: the page before this cursor.",
        ),
    ]
}

/// Parameters of a related collection, whose type depends on the relationship.
fn collection_parameters_any(registry: &Registry) -> Vec<Value> {
    let mut parameters = single_parameters(None, registry);
    parameters.push(query(
        "sort",
        json!({"type": "string"}),
        "Sort fields of the related type, `-` for descending.",
    ));
    parameters.extend(page_parameters());
    parameters
}

/// A pattern for a comma-separated list of `names` (each optionally prefixed by `-`).
fn list_of(names: &[&str], signed: bool) -> String {
    let one = format!("{}(?:{})", if signed { "-?" } else { "" }, names.join("|"));
    format!("^{one}(?:,{one})*$")
}

/// A UUID, as ids are written (any case).
const UUID: &str = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}";

/// A non-empty string parameter.
fn text_parameter() -> Value {
    json!({"type": "string", "minLength": 1})
}

fn collection_parameters(schema: &ResourceSchema, registry: &Registry) -> Vec<Value> {
    let mut parameters = single_parameters(Some(schema), registry);
    if !schema.sorts.is_empty() {
        parameters.push(query(
            "sort",
            json!({"type": "string", "pattern": list_of(schema.sorts, true)}),
            &format!(
                "Comma-separated, `-` for descending: {}. Ties are broken by id.",
                schema.sorts.join(", ")
            ),
        ));
    }
    let fields: Vec<&str> = schema
        .attributes
        .iter()
        .filter(|a| a.access != Access::WriteOnly)
        .map(|a| a.name)
        .chain(schema.relationships.iter().map(|r| r.name))
        .collect();
    parameters.push(query(
        &format!("fields[{}]", schema.type_name),
        json!({"type": "string", "pattern": list_of(&fields, false)}),
        "Comma-separated attributes and relationships to show.",
    ));
    for filter in schema.filters {
        let name = format!("filter[{}]", filter.name);
        match filter.kind {
            FilterKind::OneOf(values) => parameters.push(query(
                &name,
                json!({"type": "string", "pattern": list_of(values, false)}),
                &format!("One of {} (comma = or).", values.join(", ")),
            )),
            FilterKind::Date => {
                parameters.push(query(
                    &name,
                    json!({"type": "string", "format": "date-time"}),
                    "Equal to this RFC 3339 time.",
                ));
                for op in ["gt", "gte", "lt", "lte"] {
                    parameters.push(query(
                        &format!("{name}[{op}]"),
                        json!({"type": "string", "format": "date-time"}),
                        &format!("`{op}` this RFC 3339 time."),
                    ));
                }
            }
            FilterKind::Id => parameters.push(query(
                &name,
                json!({"type": "string", "pattern": format!("^{UUID}(?:,{UUID})*$")}),
                "Resource ids (comma = or).",
            )),
            FilterKind::Text => parameters.push(query(
                &name,
                text_parameter(),
                "Case-insensitive substring.",
            )),
            FilterKind::Exact => {
                parameters.push(query(&name, text_parameter(), "Exact values (comma = or)."))
            }
        }
    }
    parameters.extend(page_parameters());
    parameters
}

fn json_api_content(schema: Value) -> Value {
    json!({JSONAPI_MEDIA_TYPE: {"schema": schema}})
}

fn json_api_response(schema: Value) -> Value {
    json!({"description": "OK", "content": json_api_content(schema)})
}

fn no_content() -> Value {
    json!({"description": "Done; no body."})
}

fn request_body(schema: &Value) -> Value {
    json!({"required": true, "content": json_api_content(schema.clone())})
}

fn resource_response(schema: &ResourceSchema) -> Value {
    json_api_response(json!({
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"$ref": format!("#/components/schemas/{}", schema.type_name)},
            "included": {"type": "array", "items": {"type": "object"}},
            "links": {"type": "object"},
            "meta": {"type": "object"},
        },
    }))
}

fn collection_response(schema: &ResourceSchema) -> Value {
    json_api_response(json!({
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"type": "array",
                     "items": {"$ref": format!("#/components/schemas/{}", schema.type_name)}},
            "included": {"type": "array", "items": {"type": "object"}},
            "links": {"type": "object"},
            "meta": {"type": "object"},
        },
    }))
}

fn create_schema_ref(schema: &ResourceSchema) -> Value {
    json!({"$ref": format!("#/components/schemas/{}_create", schema.type_name)})
}

fn update_schema_ref(schema: &ResourceSchema) -> Value {
    json!({"$ref": format!("#/components/schemas/{}_update", schema.type_name)})
}

/// No control character (Unicode `Cc`), and at least one that is not white space.
const ONE_LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// The JSON Schema of one attribute value.
fn value_schema(attribute: &Attribute) -> Value {
    let mut schema = match attribute.value {
        ValueType::Any => json!({}),
        ValueType::Text { min, max } => {
            json!({"type": "string", "minLength": min, "maxLength": max})
        }
        ValueType::Line { min, max } => {
            json!({"type": "string", "pattern": ONE_LINE, "minLength": min, "maxLength": max})
        }
        ValueType::OneOfListed(list) => json!({"type": "string", "enum": list()}),
        ValueType::Pattern { pattern, min, max } => {
            json!({"type": "string", "pattern": pattern, "minLength": min, "maxLength": max})
        }
        ValueType::OneOf(values) => json!({"type": "string", "enum": values}),
        ValueType::Email => json!({"type": "string", "format": "email", "maxLength": 254}),
        ValueType::Time => json!({"type": "string", "format": "date-time"}),
        ValueType::Bool => json!({"type": "boolean"}),
        ValueType::Object => json!({"type": "object"}),
    };
    if attribute.nullable
        && let Some(object) = schema.as_object_mut()
        && let Some(Value::String(t)) = object.get("type").cloned()
    {
        object.insert("type".into(), json!([t, "null"]));
        if let Some(Value::Array(values)) = object.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    schema
}

/// `TYPE` (as shown), `TYPE_create` and `TYPE_update` (as sent).
fn add_type_schemas(schemas: &mut Map<String, Value>, schema: &ResourceSchema) {
    let shown: Map<String, Value> = schema
        .attributes
        .iter()
        .filter(|a| a.access != Access::WriteOnly)
        .map(|a| (a.name.to_owned(), value_schema(a)))
        .collect();
    let writable: Vec<&Attribute> = schema
        .attributes
        .iter()
        .filter(|a| a.access != Access::ReadOnly)
        .collect();
    let sent: Map<String, Value> = writable
        .iter()
        .map(|a| (a.name.to_owned(), value_schema(a)))
        .collect();
    let required: Vec<&str> = writable
        .iter()
        .filter(|a| a.required)
        .map(|a| a.name)
        .collect();
    let linkage = |to_many: bool| {
        if to_many {
            json!({"type": "array", "items": {"$ref": "#/components/schemas/identifier"}})
        } else {
            json!({"oneOf": [{"$ref": "#/components/schemas/identifier"}, {"type": "null"}]})
        }
    };
    let relationships: Map<String, Value> = schema
        .relationships
        .iter()
        .map(|r| {
            let shown = json!({"type": "object",
                "properties": {"data": linkage(r.is_to_many()), "links": {"type": "object"}}});
            (r.name.to_owned(), shown)
        })
        .collect();
    // As sent: linkage only, and only the type's relationships.
    let sent_relationships = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": schema
            .relationships
            .iter()
            .map(|r| {
                let sent = json!({"type": "object", "required": ["data"],
                    "properties": {"data": linkage(r.is_to_many())}});
                (r.name.to_owned(), sent)
            })
            .collect::<Map<String, Value>>(),
    });
    let type_name = schema.type_name;
    if schemas.contains_key(type_name) {
        return;
    }
    schemas.insert(
        type_name.to_owned(),
        json!({
            "type": "object",
            "required": ["type", "id"],
            "properties": {
                "type": {"const": type_name},
                "id": {"type": "string"},
                "attributes": {"type": "object", "properties": shown},
                "relationships": {"type": "object", "properties": relationships},
                "links": {"type": "object"},
                "meta": {"type": "object"},
            },
        }),
    );
    schemas.insert(
        format!("{type_name}_create"),
        json!({
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "object",
                    "required": ["type", "attributes"],
                    "properties": {
                        "type": {"const": type_name},
                        "id": {"type": "string", "format": "uuid"},
                        "attributes": {
                            "type": "object",
                            "required": required,
                            "properties": sent,
                            "additionalProperties": false,
                        },
                        "relationships": sent_relationships,
                    },
                },
                "meta": {"type": "object"},
            },
        }),
    );
    schemas.insert(
        format!("{type_name}_update"),
        json!({
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "object",
                    "required": ["type", "id"],
                    "properties": {
                        "type": {"const": type_name},
                        "id": {"type": "string"},
                        "attributes": {"type": "object", "properties": sent, "additionalProperties": false},
                        "relationships": sent_relationships,
                    },
                },
                "meta": {"type": "object"},
            },
        }),
    );
}

fn identifier_schema() -> Value {
    json!({
        "type": "object",
        "required": ["type", "id"],
        "properties": {"type": {"type": "string"}, "id": {"type": "string"}},
    })
}

fn linkage_document_schema() -> Value {
    json!({
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"oneOf": [
                {"type": "null"},
                {"$ref": "#/components/schemas/identifier"},
                {"type": "array", "items": {"$ref": "#/components/schemas/identifier"}},
            ]},
            "links": {"type": "object"},
            "meta": {"type": "object"},
        },
    })
}

fn error_document_schema() -> Value {
    json!({
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {"type": "array", "items": {
                "type": "object",
                "required": ["status", "code", "title"],
                "properties": {
                    "status": {"type": "string"},
                    "code": {"type": "string"},
                    "title": {"type": "string"},
                    "detail": {"type": "string"},
                    "source": {"type": "object", "properties": {
                        "pointer": {"type": "string"},
                        "parameter": {"type": "string"},
                        "header": {"type": "string"},
                    }},
                    "meta": {"type": "object"},
                    "links": {"type": "object"},
                },
            }},
            "jsonapi": {"type": "object"},
        },
    })
}
