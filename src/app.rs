//! Builds the HTTP server from a [`Config`] — the one place both `main` and the tests
//! use, so tests exercise exactly the wiring that production runs — with its CORS
//! policy (listed origins; preflights allow what the route table serves at the path).

use std::net::TcpListener;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Condition, Next, from_fn};
use actix_web::{App, HttpServer, web};

use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::{Config, PublicUrl};
use crate::db::Db;
use crate::routes;
use crate::state::AppState;

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    port: u16,
}

impl Application {
    /// Connects to the database (running pending migrations), binds the listener and
    /// builds the server. Bind to port 0 to get a free port (tests).
    pub fn build(config: Config, clock: Clock) -> Result<Application, String> {
        let (db, applied) = Db::connect(
            &config.database_url,
            config.workers,
            Some(config.statement_timeout),
        )?;
        for migration in applied {
            log::info!("applied migration {migration}");
        }
        let listener = TcpListener::bind(config.bind)
            .map_err(|e| format!("ROSTER_BIND: cannot listen on {}: {e}", config.bind))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let port = address.port();
        let workers = config.workers;
        // Each worker has its own blocking pool (PostgreSQL work, password hashing). Sized
        // so that all of them together hold no more threads than the database pool has
        // connections: a thread then never sits waiting for a connection while holding
        // a place another request could use, and queued work waits in order, not in a
        // scramble for the pool (p99 at 32 connections on PostgreSQL).
        let blocking_threads = db.pool_size().div_ceil(workers).max(2);
        // The default needs the port the listener got, not the `0` it may have asked for.
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| PublicUrl::of_address(address));
        let state = web::Data::new(AppState {
            db,
            links_base: format!("{}{}", public_url.as_str(), routes::API_PREFIX),
            tokens: TokenKeys::new(config.jwt_secret.bytes()),
            config: Arc::new(config),
            clock,
        });
        let server = HttpServer::new(move || {
            let cors = cors(&state.config.cors_origins);
            App::new()
                .app_data(state.clone())
                // Our body extractor enforces the limit with a JSON:API error.
                .app_data(web::PayloadConfig::new(
                    crate::jsonapi::http::MAX_BODY_BYTES * 2,
                ))
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
                .wrap(from_fn(crate::jsonapi::http::jsonapi_middleware))
                // Without listed origins there is nothing to allow: no CORS headers, and
                // a preflight is answered like any OPTIONS request (405 with `Allow`).
                // The layer otherwise costs every request a few percent.
                .wrap(Condition::new(!state.config.cors_origins.is_empty(), cors))
                // Only preflights for a listed origin need it; without origins CORS
                // refuses them all, and nothing else should pay for the layer.
                .wrap(Condition::new(
                    !state.config.cors_origins.is_empty(),
                    from_fn(preflight_methods),
                ))
        })
        .workers(workers)
        .worker_max_blocking_threads(blocking_threads)
        .listen(listener)
        .map_err(|e| format!("cannot start the HTTP server: {e}"))?
        .shutdown_timeout(30)
        .run();
        Ok(Application { server, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT: stops accepting, finishes requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn into_server(self) -> Server {
        self.server
    }
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        // Narrowed per path by `preflight_methods`.
        .allow_any_method()
        .allow_any_header()
        .expose_headers([
            "Location",
            "Server-Timing",
            "Retry-After",
            "WWW-Authenticate",
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// CORS preflights allow only the methods the path serves (SPEC §2). actix-cors has one
/// method list for every path, so this refuses, before it, a preflight for a method the
/// route table does not have at that path, and puts the path's own list in the answer.
/// Not a boxed body: every response passes through here, and a box per response showed
/// in the single-resource benchmark.
async fn preflight_methods<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let requested = match req.headers().get(header::ACCESS_CONTROL_REQUEST_METHOD) {
        Some(method) if req.method() == Method::OPTIONS => method.as_bytes().to_vec(),
        _ => return Ok(next.call(req).await?.map_into_left_body()),
    };
    let served = routes::methods_at(req.match_info().as_str());
    if !served.iter().any(|m| m.as_bytes() == requested.as_slice()) {
        // The refusal actix-cors gives for a method it does not allow; it depends on the
        // requested method, so a cache must not serve it for another.
        let mut refusal = req.error_response(actix_cors::CorsError::MethodNotAllowed);
        refusal.headers_mut().insert(
            header::VARY,
            HeaderValue::from_static("Access-Control-Request-Method"),
        );
        return Ok(refusal.map_into_right_body());
    }
    let mut response = next.call(req).await?.map_into_left_body();
    // Only a preflight actix-cors accepted (the origin is listed) carries the header.
    if response
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_METHODS)
        && let Ok(value) = HeaderValue::from_str(&served.join(", "))
    {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
    }
    Ok(response)
}
