//! The route table: which URL and method reach which handler. Reads of every type go
//! through the shared handlers in `resources/read.rs`; writes to the type's own file.

use actix_web::{HttpResponse, web};

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

    let mut api = web::scope("/api/v1")
        .service(
            web::resource("/sessions")
                .route(web::post().to(session::create))
                .route(web::get().to(session::list)),
        )
        .service(
            web::resource("/sessions/{id}")
                .route(web::get().to(session::show))
                .route(web::delete().to(session::delete)),
        )
        .service(web::resource("/me").route(web::get().to(user::me)))
        .service(
            web::resource("/invitations/accept")
                .route(web::post().to(onboarding::accept_invitation)),
        )
        .service(web::resource("/registrations").route(web::post().to(onboarding::register)))
        .service(
            web::resource("/users/{id}/actions/{action}")
                .route(web::post().to(user_lifecycle::action)),
        )
        .service(
            web::resource("/users/{id}/password")
                .route(web::post().to(user_lifecycle::change_password)),
        );

    // Relationship routes first: `/users/{id}/relationships/teams` must not be read as
    // the related collection `relationships`.
    for &resource in resources::ALL
        .iter()
        .chain([&session::ENGINE as &dyn DynResource].iter())
    {
        let mut routes = typed(resource, "/relationships/{relationship}")
            .route(web::get().to(read::relationship));
        if matches!(resource.schema().path, "users" | "teams") {
            routes = routes
                .route(web::post().to(team_membership::change_relationship))
                .route(web::patch().to(team_membership::change_relationship))
                .route(web::delete().to(team_membership::change_relationship));
        }
        api = api.service(routes);
    }
    api = api.service(
        typed(&session::ENGINE, "/{id}/{relationship}").route(web::get().to(read::related)),
    );
    for &resource in resources::ALL {
        let path = resource.schema().path;
        let collection = typed(resource, "").route(web::get().to(read::collection));
        let single = typed(resource, "/{id}").route(web::get().to(read::single));
        let (collection, single) = match path {
            "users" => (
                collection.route(web::post().to(user::create)),
                single
                    .route(web::patch().to(user::update))
                    .route(web::delete().to(user::delete)),
            ),
            "accounts" => (
                collection.route(web::post().to(account::create)),
                single
                    .route(web::patch().to(account::update))
                    .route(web::delete().to(account::delete)),
            ),
            "teams" => (
                collection.route(web::post().to(team::create)),
                single
                    .route(web::patch().to(team::update))
                    .route(web::delete().to(team::delete)),
            ),
            "account_memberships" => (
                collection.route(web::post().to(account_membership::create)),
                single
                    .route(web::patch().to(account_membership::update))
                    .route(web::delete().to(account_membership::delete)),
            ),
            "team_memberships" => (
                collection.route(web::post().to(team_membership::create)),
                single
                    .route(web::patch().to(team_membership::update))
                    .route(web::delete().to(team_membership::delete)),
            ),
            "devices" => (
                collection.route(web::post().to(device::create)),
                single
                    .route(web::patch().to(device::update))
                    .route(web::delete().to(device::delete)),
            ),
            _ => (collection, single),
        };
        api = api
            .service(collection)
            .service(single)
            .service(typed(resource, "/{id}/{relationship}").route(web::get().to(read::related)));
    }
    cfg.service(api);
}

/// A route of one resource type: `/{path}{suffix}` with the type as app data.
fn typed(resource: &'static dyn DynResource, suffix: &str) -> actix_web::Resource {
    let pattern = if suffix == "/relationships/{relationship}" {
        format!(
            "/{}/{{id}}/relationships/{{relationship}}",
            resource.schema().path
        )
    } else {
        format!("/{}{suffix}", resource.schema().path)
    };
    web::resource(pattern).app_data(TypeRef(resource))
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
