//! The route table: which URL and method reach which handler. Reads of every type go
//! through the shared handlers in `resources/read.rs`; writes of every writable type through the
//! shared handlers in `resources/write.rs`.

use actix_web::dev::ResourceDef;
use actix_web::{FromRequest, Handler, HttpResponse, Responder, web};

use crate::jsonapi::error::{ApiError, ErrorCode};
use crate::jsonapi::http::Ctx;
use crate::jsonapi::openapi::{EndpointDoc, Output, Shape};
use crate::resources::read::{self, TypeRef};
use crate::resources::write::{self, WriteRef};
use crate::resources::{
    self, account_invitation, account_membership, onboarding, operations, session, user,
    user_lifecycle,
};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    for endpoint in probe_endpoints() {
        cfg.service(endpoint.build());
    }
    let mut api = web::scope(API_PREFIX);
    for endpoint in api_endpoints() {
        api = api.service(endpoint.build());
    }
    cfg.service(api);
}

pub use crate::resources::API_PREFIX;

/// The operations endpoints outside `/api/v1`.
fn probe_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new("/healthz", Shape::Probe).get(healthz),
        Endpoint::new("/readyz", Shape::Probe).get(readyz),
    ]
}

/// The endpoints under `/api/v1`, in the order they are matched. The route table and
/// the OpenAPI description are both made from this list, so they cannot disagree.
fn api_endpoints() -> Vec<Endpoint> {
    let mut endpoints = Vec::new();
    // Routes are matched in order, each by a regex: the busiest (collections, single
    // resources) go first.
    // Before `/account_invitations/{id}`, which would otherwise take `accept` for an id.
    endpoints.push(
        Endpoint::new(
            "/account_invitations/accept",
            Shape::Custom {
                input: Some(&account_invitation::ACCEPTANCE_SCHEMA),
                output: Output::Resource(201, &account_membership::SCHEMA),
            },
        )
        .post(account_invitation::accept),
    );
    for registered in resources::TYPES {
        let resource = registered.read;
        let schema = resource.schema();
        let mut collection =
            Endpoint::typed(registered, "", Shape::Collection(schema)).get(read::collection);
        let mut single =
            Endpoint::typed(registered, "/{id}", Shape::Single(schema)).get(read::single);
        if let Some(writes) = registered.write.map(|w| w.writes()) {
            if writes.create {
                collection = collection.post(write::create);
            }
            if writes.update {
                single = single.patch(write::update);
            }
            if writes.delete {
                single = single.delete(write::delete);
            }
        }
        endpoints.push(collection);
        endpoints.push(single);
    }
    // Then the endpoints that are not one type's collection or resource; before the
    // related routes, which would read `/users/{id}/password` as a relationship.
    let sessions = &session::SCHEMA;
    let users = &user::SCHEMA;
    // Signing in is creating a session.
    endpoints.push(
        Endpoint::new("/sessions", Shape::Collection(sessions))
            .post(session::create)
            .get(session::list),
    );
    endpoints.push(
        Endpoint::new("/sessions/{id}", Shape::Single(sessions))
            .get(session::show)
            .delete(session::delete),
    );
    endpoints.push(
        Endpoint::new(
            "/me",
            Shape::Custom {
                input: None,
                output: Output::Resource(200, users),
            },
        )
        .get(user::me),
    );
    endpoints.push(
        Endpoint::new(
            "/invitations/accept",
            Shape::Custom {
                input: Some(&onboarding::ACCEPTANCE_SCHEMA),
                output: Output::Resource(201, sessions),
            },
        )
        .post(onboarding::accept_invitation),
    );
    endpoints.push(
        Endpoint::new(
            "/registrations",
            Shape::Custom {
                input: Some(&onboarding::REGISTRATION_SCHEMA),
                output: Output::Resource(201, sessions),
            },
        )
        .post(onboarding::register),
    );
    endpoints.push(
        Endpoint::new(
            "/users/{id}/actions/{action}",
            Shape::Custom {
                input: None,
                output: Output::Resource(200, users),
            },
        )
        .path_values("action", user_lifecycle::ACTION_NAMES)
        .post(user_lifecycle::action),
    );
    endpoints.push(
        Endpoint::new(
            "/users/{id}/password",
            Shape::Custom {
                input: Some(&user_lifecycle::PASSWORD_SCHEMA),
                output: Output::NoContent,
            },
        )
        .post(user_lifecycle::change_password),
    );
    endpoints.push(Endpoint::new("/openapi.json", Shape::Probe).get(openapi));
    endpoints.push(Endpoint::new("/operations", Shape::Operations).post(operations::handle));

    // Relationship routes before related ones, so that `/users/{id}/relationships/teams`
    // is not read as a related collection.
    let sessions_type = resources::Type {
        read: &session::ENGINE,
        write: None,
    };
    let with_sessions = || resources::TYPES.iter().chain([&sessions_type]);
    for registered in with_sessions() {
        let mut routes = Endpoint::typed(
            registered,
            "/{id}/relationships/{relationship}",
            Shape::Relationship(registered.read.schema()),
        )
        .get(read::relationship);
        if registered
            .write
            .is_some_and(|w| !w.writes().relationships.is_empty())
        {
            routes = routes
                .post(write::change_relationship)
                .patch(write::change_relationship)
                .delete(write::change_relationship);
        }
        endpoints.push(routes);
    }
    for registered in with_sessions() {
        endpoints.push(
            Endpoint::typed(
                registered,
                "/{id}/{relationship}",
                Shape::Related(registered.read.schema()),
            )
            .get(read::related),
        );
    }
    endpoints
}

/// What `GET /api/v1/openapi.json` describes: every endpoint of the route table.
pub fn endpoint_docs() -> Vec<EndpointDoc> {
    let doc = |prefix: &str, e: Endpoint| EndpointDoc {
        path: format!("{prefix}{}", e.pattern),
        methods: e.allowed,
        shape: e.shape,
        path_values: e.path_values,
    };
    let mut docs: Vec<EndpointDoc> = probe_endpoints().into_iter().map(|e| doc("", e)).collect();
    docs.extend(api_endpoints().into_iter().map(|e| doc(API_PREFIX, e)));
    docs
}

/// The methods the route at `path` answers (empty when no route matches), for CORS
/// preflights. Matched like the router does: the same patterns, in the same order.
pub fn methods_at(path: &str) -> &'static [&'static str] {
    static TABLE: std::sync::OnceLock<Vec<(ResourceDef, Vec<&'static str>)>> =
        std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        endpoint_docs()
            .into_iter()
            .map(|doc| (ResourceDef::new(doc.path), doc.methods))
            .collect()
    });
    table
        .iter()
        .find(|(pattern, _)| pattern.is_match(path))
        .map_or(&[], |(_, methods)| methods.as_slice())
}

/// `GET /api/v1/openapi.json`, generated once.
async fn openapi() -> HttpResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(|| {
        crate::jsonapi::openapi::document(&endpoint_docs(), &resources::REGISTRY).to_string()
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.clone())
}

/// One URL pattern and the methods it answers. Any other method gets a JSON:API 405
/// with an `Allow` header listing these.
struct Endpoint {
    pattern: String,
    shape: Shape,
    path_values: Vec<(&'static str, &'static [&'static str])>,
    resource: actix_web::Resource,
    allowed: Vec<&'static str>,
}

impl Endpoint {
    fn new(pattern: &str, shape: Shape) -> Self {
        Endpoint {
            pattern: pattern.to_owned(),
            shape,
            path_values: Vec::new(),
            resource: web::resource(pattern),
            allowed: Vec::new(),
        }
    }

    /// `/{path}{suffix}` of a resource type, with the type as app data for the shared
    /// handlers in `resources/read.rs`.
    fn typed(registered: &resources::Type, suffix: &str, shape: Shape) -> Self {
        let resource = registered.read;
        let mut endpoint = Endpoint::new(&format!("/{}{suffix}", resource.schema().path), shape);
        endpoint.resource = endpoint.resource.app_data(TypeRef(resource));
        if let Some(writes) = registered.write {
            endpoint.resource = endpoint.resource.app_data(WriteRef(writes));
        }
        endpoint
    }

    /// The values the path parameter `{name}` may take (for the description; the
    /// handler answers 404 to others).
    fn path_values(mut self, name: &'static str, values: &'static [&'static str]) -> Self {
        self.path_values.push((name, values));
        self
    }

    fn method<F, Args>(mut self, name: &'static str, route: actix_web::Route, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.allowed.push(name);
        self.resource = self.resource.route(route.to(handler));
        self
    }

    /// `GET`, and `HEAD` by the same handler (SPEC §2): actix answers a `HEAD` with the
    /// response's headers, `Content-Length` included, and drops its body.
    fn get<F: Handler<Args>, Args: FromRequest + 'static>(self, handler: F) -> Self
    where
        F::Output: Responder + 'static,
    {
        self.method("GET", web::get(), handler.clone())
            .method("HEAD", web::head(), handler)
    }

    fn post<F: Handler<Args>, Args: FromRequest + 'static>(self, handler: F) -> Self
    where
        F::Output: Responder + 'static,
    {
        self.method("POST", web::post(), handler)
    }

    fn patch<F: Handler<Args>, Args: FromRequest + 'static>(self, handler: F) -> Self
    where
        F::Output: Responder + 'static,
    {
        self.method("PATCH", web::patch(), handler)
    }

    fn delete<F: Handler<Args>, Args: FromRequest + 'static>(self, handler: F) -> Self
    where
        F::Output: Responder + 'static,
    {
        self.method("DELETE", web::delete(), handler)
    }

    fn build(self) -> actix_web::Resource {
        let allow = self.allowed.join(", ");
        self.resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move {
                Err::<HttpResponse, _>(
                    ApiError::new(
                        ErrorCode::MethodNotAllowed,
                        format!("This URL answers {allow}."),
                    )
                    .with_header("Allow", allow),
                )
            }
        }))
    }
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

async fn readyz(state: web::Data<AppState>, ctx: Ctx) -> Result<HttpResponse, ApiError> {
    let ready = state
        .db
        .run(&ctx.db, |conn| -> crate::jsonapi::error::ApiResult<_> {
            Ok(crate::db::ping(conn))
        })
        .await
        .unwrap_or(false);
    if ready {
        Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"status":"ready"}"#))
    } else {
        Err(ApiError::new(
            ErrorCode::ServiceUnavailable,
            "The database does not answer.",
        ))
    }
}
