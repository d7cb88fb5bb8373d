//! The OpenAPI 3.1 description (`GET /api/v1/openapi.json`), generated from the same
//! declarations the server runs on: the route table says which URL answers which
//! methods and in what [`Shape`], and each [`ResourceSchema`] says its attributes (with
//! their [`ValueType`]s), relationships, filters and sorts. Nothing here knows a
//! particular resource, except the options of a user create's `meta` (which no
//! declaration holds yet: see [`create_meta`]).
//!
//! It is exact enough for a property-based tester (schemathesis, README "Property-based
//! testing") to find no failure: whatever it allows the server takes, and the reverse.
//! Include paths are listed per type reached, each related and relationship endpoint is
//! its own path, identifiers name their type and a UUID, and `links` chain every create
//! to the operations that take the new id.

use serde_json::{Map, Value, json};

use super::media::JSONAPI_MEDIA_TYPE;
use super::query::{DEFAULT_PAGE_SIZE, MAX_INCLUDE_DEPTH, MAX_PAGE_SIZE};
use super::schema::{
    ANY_TYPE, Access, Attribute, FilterKind, Registry, Relationship, ResourceSchema, ValueType,
};

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
    (
        503,
        "The request's SQL ran past the statement timeout; see `Retry-After`.",
    ),
];

/// The prefix of every JSON:API path (`/api/v1`), as the route table writes it.
const API_PREFIX: &str = "/api/v1";

/// One operation of the description: where it is, and what creates what (for links).
struct Built {
    path: String,
    method: String,
    operation: Value,
    /// The type a `201` of this operation creates.
    creates: Option<&'static ResourceSchema>,
    /// The type a `200` of this operation lists.
    lists: Option<&'static ResourceSchema>,
}

/// The whole description.
pub fn document(endpoints: &[EndpointDoc], registry: &Registry) -> Value {
    let mut built: Vec<Built> = Vec::new();
    for endpoint in endpoints {
        for (path, relationship) in expand(endpoint) {
            for method in &endpoint.methods {
                let operation = operation(endpoint, &path, relationship, method, registry);
                let creates = match (endpoint.shape, *method) {
                    (Shape::Collection(s), "POST") => Some(s),
                    (
                        Shape::Custom {
                            output: Output::Resource(201, s),
                            ..
                        },
                        _,
                    ) => Some(s),
                    _ => None,
                };
                let lists = match (endpoint.shape, *method) {
                    (Shape::Collection(s), "GET") => Some(s),
                    _ => None,
                };
                built.push(Built {
                    path: path.clone(),
                    method: method.to_ascii_lowercase(),
                    operation,
                    creates,
                    lists,
                });
            }
        }
    }
    add_links(&mut built, registry);
    let mut paths = Map::new();
    for b in built {
        let item = paths
            .entry(b.path)
            .or_insert_with(|| Value::Object(Map::new()));
        item[b.method.as_str()] = b.operation;
    }
    let mut schemas = Map::new();
    for schema in registry.schemas {
        add_type_schemas(&mut schemas, schema, registry);
    }
    for endpoint in endpoints {
        if let Shape::Custom {
            input: Some(schema),
            ..
        } = endpoint.shape
        {
            add_type_schemas(&mut schemas, schema, registry);
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
                and offset (`page[number]`, `page[size]`) pagination. Cursor pagination \
                (`page[after]` or `page[before]`, never both and never with \
                `page[number]`) takes only the opaque cursors of a previous page's \
                `links.prev` and `links.next`, so they are not described as parameters.",
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

/// The concrete paths of an endpoint: one per relationship for the related and
/// relationship endpoints (whose parameters, bodies and answers depend on it), else
/// the pattern itself.
fn expand(endpoint: &EndpointDoc) -> Vec<(String, Option<&'static Relationship>)> {
    match endpoint.shape {
        Shape::Related(s) | Shape::Relationship(s) => s
            .relationships
            .iter()
            .map(|r| (endpoint.path.replace("{relationship}", r.name), Some(r)))
            .collect(),
        _ => vec![(endpoint.path.clone(), None)],
    }
}

/// A unique `operationId`: the method and the path's words.
fn operation_id(method: &str, path: &str) -> String {
    let words: Vec<&str> = path
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .collect();
    format!("{}_{}", method.to_ascii_lowercase(), words.join("_"))
}

/// OpenAPI `links` from every create (`201`) to the operations that take the new id
/// (`/{path}/{id}…`), so that a stateful client can chain them.
fn add_links(built: &mut [Built], registry: &Registry) {
    let id_paths: Vec<(String, String, String)> = built
        .iter()
        .filter(|b| b.path.contains("/{id}"))
        .map(|b| {
            let id = b.operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (b.path.clone(), b.method.clone(), id)
        })
        .collect();
    for b in built.iter_mut() {
        // A list links its first resource to the reads that take its id (reads only:
        // the first user or session of a list may be the caller's own).
        if let Some(listed) = b.lists {
            let prefix = format!("{API_PREFIX}/{}/{{id}}", listed.path);
            let links: Map<String, Value> = id_paths
                .iter()
                .filter(|(path, method, _)| {
                    method == "get"
                        && path
                            .strip_prefix(&prefix)
                            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                })
                .map(|(_, _, target)| {
                    let link = json!({
                        "operationId": target,
                        "parameters": {"path.id": "$response.body#/data/0/id"},
                    });
                    (target.clone(), link)
                })
                .collect();
            if let Some(ok) = b.operation["responses"]["200"].as_object_mut()
                && !links.is_empty()
            {
                ok.insert("links".into(), Value::Object(links));
            }
        }
        let Some(created) = b.creates else { continue };
        let prefix = format!("{API_PREFIX}/{}/{{id}}", created.path);
        let mut links = Map::new();
        for (path, method, target) in &id_paths {
            let rest = match path.strip_prefix(&prefix) {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
                _ => continue,
            };
            // A relationship write's body names other resources, which a generator
            // cannot know: its 404 would be about them, not about what was created.
            if method != "get" && rest.starts_with("/relationships/") {
                continue;
            }
            let mut link = json!({
                "operationId": target,
                "parameters": {"path.id": "$response.body#/data/id"},
            });
            if method == "patch" && rest.is_empty() {
                link["requestBody"] = json!({"data": {"id": "$response.body#/data/id"}});
            }
            links.insert(target.clone(), link);
        }
        // Memberships name the new user or team in their body.
        for schema in registry.schemas {
            for r in schema.relationships.iter().filter(|r| r.required) {
                if r.target != created.type_name {
                    continue;
                }
                let target = operation_id("post", &format!("{API_PREFIX}/{}", schema.path));
                links.insert(
                    format!("{target}_{}", r.name),
                    json!({
                        "operationId": target,
                        "requestBody": {"data": {"relationships": {r.name: {"data":
                            {"type": created.type_name, "id": "$response.body#/data/id"}}}}},
                    }),
                );
            }
        }
        if let Some(created) = b.operation["responses"]["201"].as_object_mut()
            && !links.is_empty()
        {
            created.insert("links".into(), Value::Object(links));
        }
    }
}

fn operation(
    endpoint: &EndpointDoc,
    path: &str,
    relationship: Option<&'static Relationship>,
    method: &str,
    registry: &Registry,
) -> Value {
    if method == "HEAD" {
        let mut head = head_operation(operation(endpoint, path, relationship, "GET", registry));
        head["operationId"] = Value::String(operation_id("head", path));
        return head;
    }
    let mut parameters = path_parameters(endpoint, path, method);
    let mut op = Map::new();
    let target = relationship.and_then(|r| registry.get(r.target));
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
            vec![(201, created_response(s))],
        ),
        (Shape::Single(s), "GET") => {
            parameters.extend(single_parameters(s, registry));
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
            let r = relationship.expect("related endpoints are expanded");
            let response = match (target, r.is_to_many()) {
                (Some(t), true) => {
                    parameters.extend(collection_parameters(t, registry));
                    collection_response(t)
                }
                (Some(t), false) => {
                    parameters.extend(single_parameters(t, registry));
                    optional_resource_response(t)
                }
                (None, _) => json_api_response(json!({
                    "type": "object",
                    "required": ["data"],
                    "properties": {"data": {"type": ["object", "null"]}},
                })),
            };
            (
                format!("The `{}` of a {}", r.name, s.type_name),
                None,
                vec![(200, response)],
            )
        }
        (Shape::Relationship(s), "GET") => {
            let r = relationship.expect("relationship endpoints are expanded");
            if let Some(t) = target {
                if r.is_to_many() {
                    parameters.extend(collection_parameters(t, registry));
                } else {
                    parameters.extend(single_parameters(t, registry));
                }
            }
            (
                format!("The linkage of the `{}` of a {}", r.name, s.type_name),
                None,
                vec![(200, json_api_response(linkage_document_schema(r, registry)))],
            )
        }
        (Shape::Relationship(s), _) => {
            let r = relationship.expect("relationship endpoints are expanded");
            (
                format!(
                    "Change the members of the `{}` of a {} (403 where it is not changed this way)",
                    r.name, s.type_name
                ),
                Some(request_body(&json!({
                    "type": "object",
                    "required": ["data"],
                    "properties": {"data": linkage(r, registry)},
                }))),
                vec![(204, no_content())],
            )
        }
        (Shape::Custom { input, output }, _) => {
            let request = input.map(|s| request_body(&create_schema_ref(s)));
            let response = match output {
                Output::Resource(201, s) => (201, created_response(s)),
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
    op.insert(
        "operationId".into(),
        Value::String(operation_id(method, path)),
    );
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
    let errors: &[(u16, &str)] = if matches!(endpoint.shape, Shape::Probe) {
        // `/readyz` when the database does not answer.
        &[(503, "The database does not answer.")]
    } else {
        op.insert("security".into(), json!([{"bearer": []}, {}]));
        ERROR_STATUSES
    };
    // The operations endpoint answers everything, errors included, in its extension.
    let error_media_type = if matches!(endpoint.shape, Shape::Operations) {
        atomic_media_type()
    } else {
        JSONAPI_MEDIA_TYPE.to_owned()
    };
    for (status, description) in errors {
        all.insert(
            status.to_string(),
            json!({
                "description": description,
                "content": {error_media_type.clone(): {"schema": {"$ref": "#/components/schemas/error_document"}}},
            }),
        );
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
/// An Atomic Operations request: `add` or `update` of a resource (`data` a resource
/// object), `remove` of a resource (by `ref` or `href`), or `add`, `update` or `remove`
/// of members of a to-many relationship (`ref` with `relationship`, `data` an array of
/// identifiers). What JSON Schema cannot say — a `lid` must be given by an earlier
/// operation, a `ref` must name a live resource — is the server's to answer (400, 404).
/// At most 1,000 operations: more is a 413, described with the other errors.
fn operations_request_schema() -> Value {
    let uuid = json!({"type": "string", "format": "uuid"});
    let lid = json!({"type": "string", "minLength": 1});
    let type_name = json!({"type": "string", "pattern": "^[a-z_]+$"});
    // `id` or `lid`, never both.
    let one_of_id_lid = json!([{"required": ["id"]}, {"required": ["lid"]}]);
    let resource_ref = json!({
        "type": "object",
        "required": ["type"],
        "properties": {"type": type_name, "id": uuid, "lid": lid},
        "additionalProperties": false,
        "oneOf": one_of_id_lid,
    });
    let collection_ref = json!({
        "type": "object",
        "required": ["type"],
        "properties": {"type": type_name},
        "additionalProperties": false,
    });
    let relationship_ref = json!({
        "type": "object",
        "required": ["type", "relationship"],
        "properties": {"type": type_name, "id": uuid, "lid": lid,
            "relationship": {"type": "string", "pattern": "^[a-z_]+$"}},
        "additionalProperties": false,
        "oneOf": one_of_id_lid,
    });
    let identifier = json!({
        "type": "object",
        "required": ["type"],
        "properties": {"type": type_name, "id": uuid, "lid": lid},
        "additionalProperties": false,
        "oneOf": one_of_id_lid,
    });
    let resource_object = json!({
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": type_name,
            "id": uuid,
            "lid": lid,
            "attributes": {"type": "object"},
            "relationships": {"type": "object"},
        },
        "additionalProperties": false,
    });
    let operation = |op: Value, target: Value, data: Option<Value>| {
        let mut properties = Map::new();
        properties.insert("op".into(), op);
        let mut required = vec![json!("op")];
        if let Value::Object(target) = target {
            for (name, schema) in target {
                properties.insert(name, schema);
            }
        }
        if let Some(data) = data {
            properties.insert("data".into(), data);
            required.push(json!("data"));
        }
        properties.insert("meta".into(), json!({"type": "object"}));
        json!({"type": "object", "required": required, "properties": properties,
               "additionalProperties": false})
    };
    let by_ref_or_href = |reference: &Value| json!({"ref": reference, "href": {"type": "string"}});
    json!({
        "type": "object",
        "required": ["atomic:operations"],
        "properties": {
            "atomic:operations": {
                "type": "array",
                "minItems": 1,
                "items": {"anyOf": [
                    operation(json!({"const": "add"}), by_ref_or_href(&collection_ref), Some(resource_object.clone())),
                    operation(json!({"const": "update"}), by_ref_or_href(&resource_ref), Some(resource_object)),
                    {
                        "allOf": [operation(json!({"const": "remove"}), by_ref_or_href(&resource_ref), None)],
                        "oneOf": [{"required": ["ref"]}, {"required": ["href"]}],
                    },
                    operation(
                        json!({"enum": ["add", "update", "remove"]}),
                        json!({"ref": relationship_ref}),
                        Some(json!({"type": "array", "items": identifier})),
                    ),
                ]},
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
                response.remove("links");
            }
        }
    }
    get
}

/// A UUID as the server writes ids (and reads them: any case).
fn uuid_schema() -> Value {
    json!({"type": "string", "format": "uuid"})
}

fn path_parameters(endpoint: &EndpointDoc, path: &str, method: &str) -> Vec<Value> {
    let sessions = format!("{API_PREFIX}/sessions/");
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema =
                if let Some((_, values)) = endpoint.path_values.iter().find(|(n, _)| *n == name) {
                    json!({"type": "string", "enum": values})
                } else if name == "id" && method != "DELETE" && path.starts_with(&sessions) {
                    // `current` is the caller's own session. (Deleting it is signing out;
                    // the description leaves that to clients that mean it, so that a
                    // generated request never ends the session it runs on.)
                    json!({"anyOf": [uuid_schema(), {"type": "string", "enum": ["current"]}]})
                } else if name == "id" {
                    uuid_schema()
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

/// `parameter` with an example value (for readers, and for schemathesis' examples phase).
fn example(mut parameter: Value, value: impl Into<Value>) -> Value {
    parameter["example"] = value.into();
    parameter
}

/// Every include path the server takes on `schema`: relationship names, each of the
/// type the previous one reaches, up to [`MAX_INCLUDE_DEPTH`] deep; a polymorphic
/// relationship ends its path.
pub fn include_paths(schema: &ResourceSchema, registry: &Registry) -> Vec<String> {
    fn walk(
        schema: &ResourceSchema,
        registry: &Registry,
        prefix: &str,
        depth: usize,
        out: &mut Vec<String>,
    ) {
        for r in schema.relationships {
            let path = format!("{prefix}{}", r.name);
            out.push(path.clone());
            if depth + 1 < MAX_INCLUDE_DEPTH
                && let Some(next) = registry.get(r.target)
            {
                walk(next, registry, &format!("{path}."), depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, registry, "", 0, &mut out);
    out
}

/// `include` and `fields[TYPE]` of resources of `schema`.
fn single_parameters(schema: &ResourceSchema, registry: &Registry) -> Vec<Value> {
    let mut parameters = Vec::new();
    let paths = include_paths(schema, registry);
    if !paths.is_empty() {
        let sample = paths
            .iter()
            .max_by_key(|p| p.len())
            .cloned()
            .unwrap_or_default();
        parameters.push(example(
            query(
                "include",
                json!({"type": "string", "pattern": list_or_empty(&paths)}),
                "Comma-separated relationship paths, up to three levels (`teams.users`), each \
             through relationships of the type reached; a relationship that may point at \
             several types ends its path. Empty: no includes, but an `included` member.",
            ),
            sample,
        ));
    }
    let fields: Vec<&str> = schema
        .attributes
        .iter()
        .filter(|a| a.access != Access::WriteOnly)
        .map(|a| a.name)
        .chain(schema.relationships.iter().map(|r| r.name))
        .collect();
    let sample = fields.iter().take(2).copied().collect::<Vec<_>>().join(",");
    parameters.push(example(
        query(
            &format!("fields[{}]", schema.type_name),
            json!({"type": "string", "pattern": list_or_empty(&fields)}),
            "Comma-separated attributes and relationships to show (empty: none).",
        ),
        sample,
    ));
    parameters
}

fn page_parameters() -> Vec<Value> {
    vec![
        example(
            query(
                "page[size]",
                json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}),
                "Resources per page.",
            ),
            10,
        ),
        example(
            query(
                "page[number]",
                json!({"type": "integer", "minimum": 1, "maximum": u32::MAX}),
                "Offset pagination: the page, from 1.",
            ),
            2,
        ),
    ]
}

/// A pattern for a comma-separated list of `names` (repeats allowed), or nothing.
fn list_or_empty<S: AsRef<str>>(names: &[S]) -> String {
    let names: Vec<String> = names
        .iter()
        .map(|n| n.as_ref().replace('.', "\\."))
        .collect();
    let one = format!("(?:{})", names.join("|"));
    format!("^(?:{one}(?:,{one})*)?$")
}

/// A pattern for a non-empty comma-separated list of `names` (repeats allowed).
fn list_of(names: &[&str]) -> String {
    let one = format!("(?:{})", names.join("|"));
    format!("^{one}(?:,{one})*$")
}

/// A pattern for a `sort` value: sort fields, each at most once and each optionally
/// prefixed by `-`. (The server takes them in any order; the pattern lists them in
/// the declared order, which is enough to describe every set of keys without repeats.)
fn sort_pattern(names: &[&str]) -> String {
    fn from(names: &[&str]) -> String {
        let alternatives: Vec<String> = (0..names.len())
            .map(|i| {
                let rest = &names[i + 1..];
                if rest.is_empty() {
                    format!("-?{}", names[i])
                } else {
                    format!("-?{}(?:,{})?", names[i], from(rest))
                }
            })
            .collect();
        format!("(?:{})", alternatives.join("|"))
    }
    format!("^{}$", from(names))
}

/// A UUID, as ids are written (any case).
const UUID: &str = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}";

fn collection_parameters(schema: &ResourceSchema, registry: &Registry) -> Vec<Value> {
    let mut parameters = single_parameters(schema, registry);
    if !schema.sorts.is_empty() {
        let sample = match schema.sorts {
            [one] => format!("-{one}"),
            [first, second, ..] => format!("-{first},{second}"),
            [] => String::new(),
        };
        parameters.push(example(query(
            "sort",
            json!({"type": "string", "pattern": sort_pattern(schema.sorts)}),
            &format!(
                "Comma-separated, each field once, `-` for descending: {}. Ties are broken by id.",
                schema.sorts.join(", ")
            ),
        ), sample));
    }
    for filter in schema.filters {
        let name = format!("filter[{}]", filter.name);
        match filter.kind {
            FilterKind::OneOf(values) => parameters.push(query(
                &name,
                json!({"type": "string", "pattern": list_of(values)}),
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
                json!({"type": "string", "pattern": explicit_white_space(
                    r"^[^,\u0000]*[^,\s\u0000][^,\u0000]*(?:,[^,\u0000]*[^,\s\u0000][^,\u0000]*)*$"
                )}),
                "Case-insensitive substrings (comma = or), each not blank.",
            )),
            FilterKind::Exact => parameters.push(query(
                &name,
                json!({"type": "string", "pattern": r"^[^,\u0000]+(?:,[^,\u0000]+)*$"}),
                "Exact values (comma = or).",
            )),
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

fn document_schema(data: Value) -> Value {
    json!({
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": data,
            "included": {"type": "array", "items": {"type": "object"}},
            "links": {"type": "object"},
            "meta": {"type": "object"},
            "jsonapi": {"type": "object"},
        },
    })
}

fn type_ref(schema: &ResourceSchema) -> Value {
    json!({"$ref": format!("#/components/schemas/{}", schema.type_name)})
}

fn resource_response(schema: &ResourceSchema) -> Value {
    json_api_response(document_schema(type_ref(schema)))
}

/// A created resource, with its `Location`.
fn created_response(schema: &ResourceSchema) -> Value {
    let mut response = resource_response(schema);
    response["description"] = Value::String("Created.".into());
    response["headers"] = json!({"Location": {
        "description": "The new resource's `links.self`.",
        "required": true,
        "schema": {"type": "string"},
    }});
    response
}

/// A to-one related resource: `null` when there is none.
fn optional_resource_response(schema: &ResourceSchema) -> Value {
    json_api_response(document_schema(
        json!({"oneOf": [type_ref(schema), {"type": "null"}]}),
    ))
}

fn collection_response(schema: &ResourceSchema) -> Value {
    json_api_response(document_schema(
        json!({"type": "array", "items": type_ref(schema)}),
    ))
}

fn create_schema_ref(schema: &ResourceSchema) -> Value {
    json!({"$ref": format!("#/components/schemas/{}_create", schema.type_name)})
}

fn update_schema_ref(schema: &ResourceSchema) -> Value {
    json!({"$ref": format!("#/components/schemas/{}_update", schema.type_name)})
}

/// What the server trims (Rust's `char::is_whitespace`, Unicode `White_Space`), spelled
/// out for a character class: regex engines disagree on what `\s` means (schemathesis
/// generates U+0085 as a non-space), so patterns never use it.
const WHITE_SPACE: &str =
    r"\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// `pattern` with every `\s` (inside a character class) spelled out as [`WHITE_SPACE`].
fn explicit_white_space(pattern: &str) -> String {
    pattern.replace(r"\s", WHITE_SPACE)
}

/// No control character (Unicode `Cc`), and at least one that is not white space.
const ONE_LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// No control character (Unicode `Cc`) but tabs and line breaks.
const PARAGRAPHS: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// The JSON Schema of one attribute value.
fn value_schema(attribute: &Attribute) -> Value {
    let mut schema = match attribute.value {
        ValueType::Any => json!({}),
        ValueType::Text { min, max } => {
            json!({"type": "string", "minLength": min, "maxLength": max})
        }
        ValueType::Line { min, max } => {
            json!({"type": "string", "pattern": explicit_white_space(ONE_LINE), "minLength": min, "maxLength": max})
        }
        ValueType::Paragraphs { min, max } => {
            json!({"type": "string", "pattern": PARAGRAPHS, "minLength": min, "maxLength": max})
        }
        ValueType::OneOfListed(list) => json!({"type": "string", "enum": list()}),
        ValueType::Pattern { pattern, min, max } => {
            json!({"type": "string", "pattern": explicit_white_space(pattern), "minLength": min, "maxLength": max})
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

/// A resource identifier of `target` (of any registered type when polymorphic), as
/// a client sends it.
fn identifier_of(target: &str, registry: &Registry) -> Value {
    let type_schema = if target == ANY_TYPE {
        let types: Vec<&str> = registry.schemas.iter().map(|s| s.type_name).collect();
        json!({"type": "string", "enum": types})
    } else {
        json!({"const": target})
    };
    json!({
        "type": "object",
        "required": ["type", "id"],
        "properties": {"type": type_schema, "id": uuid_schema()},
    })
}

/// The `data` of a relationship as a client sends it: an array of identifiers for a
/// to-many relationship, an identifier or `null` for a to-one.
fn linkage(r: &Relationship, registry: &Registry) -> Value {
    let identifier = identifier_of(r.target, registry);
    if r.is_to_many() {
        json!({"type": "array", "items": identifier})
    } else {
        json!({"oneOf": [identifier, {"type": "null"}]})
    }
}

/// The options a request document's top-level `meta` carries on create (SPEC §4: a
/// user's `meta.role` and `meta.invite`); any other type takes none that matter.
fn create_meta(schema: &ResourceSchema) -> Value {
    match schema.type_name {
        "user" => json!({
            "type": "object",
            "properties": {
                "role": {"type": ["string", "null"], "enum": ["owner", "admin", "member", null]},
                "invite": {"type": ["boolean", "null"]},
            },
        }),
        _ => json!({"type": "object"}),
    }
}

/// What a create document of `schema` must not be, beyond its members' own rules: a
/// user created with a password is active, so it cannot also be invited.
fn create_exclusion(schema: &ResourceSchema) -> Option<Value> {
    match schema.type_name {
        "user" => Some(json!({
            "required": ["data", "meta"],
            "properties": {
                "data": {"required": ["attributes"],
                         "properties": {"attributes": {"required": ["password"]}}},
                "meta": {"required": ["invite"], "properties": {"invite": {"const": true}}},
            },
        })),
        _ => None,
    }
}

/// `TYPE` (as shown), `TYPE_create` and `TYPE_update` (as sent).
fn add_type_schemas(
    schemas: &mut Map<String, Value>,
    schema: &ResourceSchema,
    registry: &Registry,
) {
    let type_name = schema.type_name;
    if schemas.contains_key(type_name) {
        return;
    }
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
    // A write-only attribute (a password) is set on create only; an update refuses it
    // (a password changes through its own endpoint).
    let updated: Map<String, Value> = writable
        .iter()
        .filter(|a| a.access == Access::ReadWrite)
        .map(|a| (a.name.to_owned(), value_schema(a)))
        .collect();
    let required: Vec<&str> = writable
        .iter()
        .filter(|a| a.required)
        .map(|a| a.name)
        .collect();
    let shown_linkage = |to_many: bool| {
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
                "properties": {"data": shown_linkage(r.is_to_many()), "links": {"type": "object"}}});
            (r.name.to_owned(), shown)
        })
        .collect();
    // As sent: linkage only, and only the type's relationships; on create, the
    // required ones must be there, naming a resource.
    let sent_relationships = |creating: bool| {
        let properties: Map<String, Value> = schema
            .relationships
            .iter()
            .map(|r| {
                let data = if creating && r.required {
                    identifier_of(r.target, registry)
                } else {
                    linkage(r, registry)
                };
                let sent = json!({"type": "object", "required": ["data"],
                    "properties": {"data": data}});
                (r.name.to_owned(), sent)
            })
            .collect();
        let required: Vec<&str> = schema
            .relationships
            .iter()
            .filter(|r| creating && r.required)
            .map(|r| r.name)
            .collect();
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": required,
            "properties": properties,
        })
    };
    let create_relationships = sent_relationships(true);
    let mut create_data_required = vec!["type", "attributes"];
    if create_relationships["required"]
        .as_array()
        .is_some_and(|r| !r.is_empty())
    {
        create_data_required.push("relationships");
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
                    "required": create_data_required,
                    "properties": {
                        "type": {"const": type_name},
                        "id": uuid_schema(),
                        "attributes": {
                            "type": "object",
                            "required": required,
                            "properties": sent,
                            "additionalProperties": false,
                        },
                        "relationships": create_relationships,
                    },
                },
                "meta": create_meta(schema),
            },
        }),
    );
    if let Some(exclusion) = create_exclusion(schema) {
        schemas[&format!("{type_name}_create")]["not"] = exclusion;
    }
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
                        "id": uuid_schema(),
                        "attributes": {"type": "object", "properties": updated, "additionalProperties": false},
                        "relationships": sent_relationships(false),
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

/// What `GET …/relationships/{name}` answers: identifiers of the relationship's type.
fn linkage_document_schema(r: &Relationship, registry: &Registry) -> Value {
    let identifier = match registry.get(r.target) {
        Some(t) => json!({
            "type": "object",
            "required": ["type", "id"],
            "properties": {"type": {"const": t.type_name}, "id": {"type": "string"}},
        }),
        None => json!({"$ref": "#/components/schemas/identifier"}),
    };
    let data = if r.is_to_many() {
        json!({"type": "array", "items": identifier})
    } else {
        json!({"oneOf": [identifier, {"type": "null"}]})
    };
    json!({
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": data,
            "links": {"type": "object"},
            "meta": {"type": "object"},
            "jsonapi": {"type": "object"},
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
