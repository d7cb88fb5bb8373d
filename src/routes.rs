//! The route table: which URL and method reach which handler. Reads of every type go
//! through the shared handlers in `resources/read.rs`; writes to the type's own file.

use actix_web::{FromRequest, Handler, HttpResponse, Responder, web};

use crate::app::AppState;
use crate::jsonapi::error::{ApiError, ErrorCode};
use crate::jsonapi::http::Ctx;
use crate::resources::engine::DynResource;
use crate::resources::read::{self, TypeRef};
use crate::resources::{
    self, account, account_membership, device, onboarding, session, team, team_membership, user,
    user_lifecycle,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));

    // Routes are matched in order, each by a regex: the busiest (collections, single
    // resources) go first.
    let mut api = web::scope("/api/v1");
    for &resource in resources::ALL {
        let collection = Endpoint::typed(resource, "").get(read::collection);
        let single = Endpoint::typed(resource, "/{id}").get(read::single);
        let (collection, single) = match resource.schema().path {
            "users" => (
                collection.post(user::create),
                single.patch(user::update).delete(user::delete),
            ),
            "accounts" => (
                collection.post(account::create),
                single.patch(account::update).delete(account::delete),
            ),
            "teams" => (
                collection.post(team::create),
                single.patch(team::update).delete(team::delete),
            ),
            "account_memberships" => (
                collection.post(account_membership::create),
                single
                    .patch(account_membership::update)
                    .delete(account_membership::delete),
            ),
            "team_memberships" => (
                collection.post(team_membership::create),
                single
                    .patch(team_membership::update)
                    .delete(team_membership::delete),
            ),
            "devices" => (
                collection.post(device::create),
                single.patch(device::update).delete(device::delete),
            ),
            _ => (collection, single),
        };
        api = api.service(collection.build()).service(single.build());
    }
    // Then the endpoints that are not one type's collection or resource; before the
    // related routes, which would read `/users/{id}/password` as a relationship.
    api = api
        .service(
            Endpoint::new("/sessions")
                .post(session::create)
                .get(session::list)
                .build(),
        )
        .service(
            Endpoint::new("/sessions/{id}")
                .get(session::show)
                .delete(session::delete)
                .build(),
        )
        .service(Endpoint::new("/me").get(user::me).build())
        .service(
            Endpoint::new("/invitations/accept")
                .post(onboarding::accept_invitation)
                .build(),
        )
        .service(
            Endpoint::new("/registrations")
                .post(onboarding::register)
                .build(),
        )
        .service(
            Endpoint::new("/users/{id}/actions/{action}")
                .post(user_lifecycle::action)
                .build(),
        )
        .service(
            Endpoint::new("/users/{id}/password")
                .post(user_lifecycle::change_password)
                .build(),
        );

    // Relationship routes before related ones, so that `/users/{id}/relationships/teams`
    // is not read as a related collection.
    for &resource in resources::ALL
        .iter()
        .chain([&session::ENGINE as &dyn DynResource].iter())
    {
        let mut routes =
            Endpoint::typed(resource, "/{id}/relationships/{relationship}").get(read::relationship);
        if matches!(resource.schema().path, "users" | "teams") {
            routes = routes
                .post(team_membership::change_relationship)
                .patch(team_membership::change_relationship)
                .delete(team_membership::change_relationship);
        }
        api = api.service(routes.build());
    }
    api = api.service(
        Endpoint::typed(&session::ENGINE, "/{id}/{relationship}")
            .get(read::related)
            .build(),
    );
    for &resource in resources::ALL {
        api = api.service(
            Endpoint::typed(resource, "/{id}/{relationship}")
                .get(read::related)
                .build(),
        );
    }
    cfg.service(api);
}

/// One URL pattern and the methods it answers. Any other method gets a JSON:API 405
/// with an `Allow` header listing these.
struct Endpoint {
    resource: actix_web::Resource,
    allowed: Vec<&'static str>,
}

impl Endpoint {
    fn new(pattern: &str) -> Self {
        Endpoint {
            resource: web::resource(pattern),
            allowed: Vec::new(),
        }
    }

    /// `/{path}{suffix}` of a resource type, with the type as app data for the shared
    /// handlers in `resources/read.rs`.
    fn typed(resource: &'static dyn DynResource, suffix: &str) -> Self {
        let mut endpoint = Endpoint::new(&format!("/{}{suffix}", resource.schema().path));
        endpoint.resource = endpoint.resource.app_data(TypeRef(resource));
        endpoint
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

    fn get<F: Handler<Args>, Args: FromRequest + 'static>(self, handler: F) -> Self
    where
        F::Output: Responder + 'static,
    {
        self.method("GET", web::get(), handler)
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
        .run(&ctx.db, |conn| Ok(crate::db::ping(conn)))
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
