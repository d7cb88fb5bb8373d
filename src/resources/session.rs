//! Signing in and out: the `session` resource. `POST /sessions` checks a password and
//! issues a token; every other endpoint acts on the caller's own live sessions (`current`
//! is the caller's own). A session row is what makes a token valid: deleting it, or
//! anything that ends a user's sessions, stops the token at once.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use super::read::{self, single_response};
use crate::audit;
use crate::auth::{Caller, password, throttle, token};
use crate::db::schema::{account_memberships, accounts, sessions, users};
use crate::db::{DbConnection, SqlBuilder, write_transaction};
use crate::jsonapi::document::{AttributeWriter, Graph, Node, ResourceView};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorCode};
use crate::jsonapi::http::{Ctx, JsonApiBody};
use crate::jsonapi::input::{Intent, Presence, Problems, parse_resource_document};
use crate::jsonapi::query::Query;
use crate::jsonapi::schema::{Attribute, Relationship, ResourceSchema, ValueType};
use crate::state::AppState;

/// What signing in takes for the account, email and password: any non-empty text
/// without a NUL character (which none of them holds).
const NO_NUL: ValueType = ValueType::Pattern {
    pattern: r"^[^\u0000]+$",
    min: 1,
    max: 4096,
};

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "session",
    path: "sessions",
    attributes: &[
        Attribute::write_only("account").of(NO_NUL).required(),
        Attribute::write_only("email").of(NO_NUL).required(),
        Attribute::write_only("password").of(NO_NUL).required(),
        Attribute::read_only("token").text(1, 4096),
        Attribute::read_only("expires_at").time(),
        Attribute::read_only("created_at").time(),
    ],
    relationships: &[
        Relationship::to_one("user", "user"),
        Relationship::to_one("account", "account"),
    ],
    filters: &[],
    sorts: &["created_at"],
    actions: &["delete"],
};

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub account_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

crate::read_by_position!(SessionRow {
    id,
    user_id,
    account_id,
    created_at,
    expires_at
});

/// A session as shown; `token` only in the response that created it.
pub struct SessionView {
    pub row: SessionRow,
    pub token: Option<String>,
}

impl ResourceView for SessionRow {
    fn schema(&self) -> &'static ResourceSchema {
        &SCHEMA
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn write_attributes(&self, w: &mut AttributeWriter<'_>) {
        w.time("expires_at", &self.expires_at)
            .time("created_at", &self.created_at);
    }
    fn to_one(&self, relationship: &str) -> Option<&str> {
        match relationship {
            "user" => Some(&self.user_id),
            "account" => Some(&self.account_id),
            _ => None,
        }
    }
}

impl ResourceView for SessionView {
    fn schema(&self) -> &'static ResourceSchema {
        &SCHEMA
    }
    fn id(&self) -> &str {
        &self.row.id
    }
    fn write_attributes(&self, w: &mut AttributeWriter<'_>) {
        if let Some(token) = &self.token {
            w.value("token", token);
        }
        self.row.write_attributes(w);
    }
    fn to_one(&self, relationship: &str) -> Option<&str> {
        self.row.to_one(relationship)
    }
}

pub struct SessionResource;

impl Resource for SessionResource {
    type Row = SessionRow;
    const SCHEMA: &'static ResourceSchema = &SCHEMA;
    const TABLE: &'static str = "sessions";
    const COLUMNS: &'static str = "sessions.id, sessions.user_id, sessions.account_id, sessions.created_at, sessions.expires_at";
    const SOFT_DELETE: bool = false;
    const SORTS: &'static [SortSpec<SessionRow>] = &[SortSpec {
        name: "created_at",
        expr: "sessions.created_at",
        kind: SortKind::Time,
        nullable: false,
        value: |r| Some(CursorValue::Time(r.created_at)),
    }];
    const FILTERS: &'static [(&'static str, FilterSql)] = &[];
    const LINKS: &'static [(&'static str, Link)] = &[
        ("user", Link::ToOne { column: "user_id" }),
        (
            "account",
            Link::ToOne {
                column: "account_id",
            },
        ),
    ];

    /// The policy's tenant rule (`policy::session::scope`).
    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        crate::policy::session::scope(q, scope);
    }

    fn actions(_row: &SessionRow, _caller: &Caller) -> Vec<(&'static str, bool)> {
        session_actions()
    }
}

pub static ENGINE: super::engine::Engine<SessionResource> = super::engine::Engine::new();

/// A caller may end any session it can see: its own.
fn session_actions() -> Vec<(&'static str, bool)> {
    vec![("delete", true)]
}

/// Creates a session for a user who proved who they are, in the caller's transaction:
/// the row, `last_sign_in_at`, the audit event. Returns the view with its token.
pub fn open_session(
    conn: &mut DbConnection,
    state: &AppState,
    user_id: &str,
    account_id: &str,
    now: NaiveDateTime,
) -> ApiResult<SessionView> {
    let ttl = chrono::Duration::from_std(state.config.token_ttl).map_err(ApiError::internal)?;
    let row = SessionRow {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user_id.to_owned(),
        account_id: account_id.to_owned(),
        created_at: now,
        expires_at: now + ttl,
    };
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&row.id),
            sessions::user_id.eq(&row.user_id),
            sessions::account_id.eq(&row.account_id),
            sessions::created_at.eq(row.created_at),
            sessions::expires_at.eq(row.expires_at),
        ))
        .execute(conn)?;
    diesel::update(users::table.find(user_id))
        .set(users::last_sign_in_at.eq(now))
        .execute(conn)?;
    audit::record(
        conn,
        audit::Event {
            account_id,
            actor_id: Some(user_id),
            action: "session.created",
            target_type: "session",
            target_id: &row.id,
            changes: serde_json::Map::new(),
            at: now,
        },
    )?;
    let token = state.tokens.issue(&token::Claims {
        sub: row.user_id.clone(),
        sid: row.id.clone(),
        acc: row.account_id.clone(),
        iss: token::ISSUER.to_owned(),
        aud: token::AUDIENCE.to_owned(),
        iat: now.and_utc().timestamp(),
        exp: row.expires_at.and_utc().timestamp(),
    });
    Ok(SessionView {
        row,
        token: Some(token.map_err(ApiError::internal)?),
    })
}

/// A 201 with a new session (sign-in, invitation acceptance, registration).
pub fn created_response(req: &HttpRequest, view: SessionView) -> HttpResponse {
    let mut graph = Graph::default();
    let index = graph.insert(Node::new(Box::new(view), session_actions()));
    single_response(
        req,
        &Query::default(),
        &graph,
        index,
        StatusCode::CREATED,
        None,
    )
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCredentials,
        "The account, email or password is wrong.",
    )
}

/// What sign-in found before checking the password.
struct Candidate {
    account_id: String,
    user_id: String,
    password_hash: Option<String>,
    status: String,
    discarded: bool,
}

/// `POST /sessions`.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    let input = parse_resource_document(body.0, &SCHEMA, Intent::Create)?;
    // The user and account a session belongs to are what signing in finds out.
    super::write::refuse_unsettable_on_create(&input, &[], &[])?;
    let mut problems = Problems::default();
    let mut required = |name: &str| -> Option<String> {
        let non_empty = |v: &str| {
            if v.is_empty() {
                Err("is required")
            } else if v.contains('\0') {
                // No account, email or password holds one; PostgreSQL cannot even
                // compare text that does.
                Err("must not contain a NUL character")
            } else {
                Ok(v.to_owned())
            }
        };
        input
            .parse_string(&mut problems, name, Presence::Required, non_empty)
            .flatten()
    };
    let (account, email, secret) = (required("account"), required("email"), required("password"));
    problems.finish()?;
    let (Some(account), Some(email), Some(secret)) = (account, email, secret) else {
        return Err(ApiError::internal("sign-in fields checked above"));
    };
    let now = state.clock.now();
    let email_key = email.trim().to_lowercase();

    let (reservation, candidate) = state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            let account_id: Option<String> = accounts::table
                .filter(accounts::discarded_at.is_null())
                .filter(
                    accounts::slug
                        .eq(&account)
                        .or(accounts::id.eq(account.to_ascii_lowercase())),
                )
                .select(accounts::id)
                .first(conn)
                .optional()?;
            // Unknown accounts are throttled under the name the client gave.
            let account_key = account_id
                .clone()
                .unwrap_or_else(|| account.to_ascii_lowercase());
            // The attempt is counted (committed) before its password is checked, so that
            // simultaneous attempts see each other; over five, 429 with no check.
            let reservation = throttle::reserve(conn, &account_key, &email_key, now)?;
            let Some(account_id) = account_id else {
                return Ok((reservation, None));
            };
            // The home user wins over a guest with the same email; a live user over a
            // deleted one.
            // By email first (indexed), then "is a member of this account" per match:
            // as a join, SQLite would walk every membership of a large account.
            let found = users::table
                .filter(users::email_key.eq(&email_key))
                .filter(diesel::dsl::exists(
                    account_memberships::table
                        .filter(account_memberships::user_id.eq(users::id))
                        .filter(account_memberships::account_id.eq(&account_id)),
                ))
                .order((
                    users::discarded_at.is_null().desc(),
                    users::account_id.eq(&account_id).desc(),
                ))
                .select((
                    users::id,
                    users::password_hash,
                    users::status,
                    users::discarded_at.is_not_null(),
                ))
                .first::<(String, Option<String>, String, bool)>(conn)
                .optional()?;
            Ok((
                reservation,
                found.map(|(user_id, password_hash, status, discarded)| Candidate {
                    account_id,
                    user_id,
                    password_hash,
                    status,
                    discarded,
                }),
            ))
        })
        .await?;

    // Argon2 takes tens of milliseconds: off the HTTP worker. An unknown email spends
    // the same time, so timing does not reveal which emails exist.
    // From here on the reservation stands as a failure unless released below: an error,
    // a dropped connection or a crash before then costs the pair one attempt (fails
    // closed), never a free one.
    let hash = candidate.as_ref().and_then(|c| c.password_hash.clone());
    let verified = web::block(move || match hash {
        Some(hash) => password::verify(&secret, &hash),
        None => {
            password::verify_against_nothing(&secret);
            false
        }
    })
    .await
    .map_err(ApiError::internal)?;

    // An unknown account or email: the reservation is the recorded failure, and there
    // is no user to audit. It is settled in a write of its own all the same, as a wrong
    // password's audit event is, so that the database work after the hash does not tell
    // an unknown email from a known one.
    let Some(candidate) = candidate else {
        state
            .db
            .run(&ctx.db, move |conn| -> ApiResult<_> {
                write_transaction(conn, |conn| throttle::settle_failure(conn, &reservation))
            })
            .await?;
        return Err(invalid_credentials());
    };
    let state_for_tx = state.clone();
    let outcome = state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            write_transaction(conn, |conn| {
                if !verified {
                    // The reservation stays: it is the failure.
                    audit::record(
                        conn,
                        audit::Event {
                            account_id: &candidate.account_id,
                            actor_id: None,
                            action: "session.failed",
                            target_type: "user",
                            target_id: &candidate.user_id,
                            changes: serde_json::Map::new(),
                            at: now,
                        },
                    )?;
                    return Ok(Err(invalid_credentials()));
                }
                // The password was right, so this attempt was no failure — whether or
                // not the user may sign in.
                throttle::release(conn, reservation)?;
                if candidate.discarded || candidate.status != "active" {
                    return Ok(Err(ApiError::new(
                        ErrorCode::UserInactive,
                        "This user is deactivated, blocked or deleted.",
                    )));
                }
                open_session(
                    conn,
                    &state_for_tx,
                    &candidate.user_id,
                    &candidate.account_id,
                    now,
                )
                .map(Ok)
            })
        })
        .await?;
    // A refusal is still committed (the audit event, the release), then returned.
    let view = outcome?;
    Ok(created_response(&req, view))
}

/// `GET /sessions`: the caller's own live sessions.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    read::collection_of(&ENGINE, req, state, ctx, caller).await
}

fn session_id(path: &str, caller: &Caller) -> String {
    if path == "current" {
        caller.session_id.clone()
    } else {
        path.to_owned()
    }
}

/// `GET /sessions/{id}` (`current`: the caller's own).
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = session_id(&path, &caller);
    read::single_of(&ENGINE, req, state, ctx, caller, id).await
}

/// `DELETE /sessions/{id}` (`current`: sign out).
pub async fn delete(
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = session_id(&path, &caller);
    state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            write_transaction(conn, |conn| {
                let revoked = diesel::update(
                    sessions::table
                        .filter(sessions::id.eq(&id))
                        .filter(sessions::user_id.eq(&caller.user_id))
                        .filter(sessions::revoked_at.is_null()),
                )
                .set(sessions::revoked_at.eq(caller.now))
                .execute(conn)?;
                if revoked == 0 {
                    return Err(ApiError::not_found());
                }
                audit::record(
                    conn,
                    audit::Event {
                        account_id: &caller.account_id,
                        actor_id: Some(&caller.user_id),
                        action: "session.deleted",
                        target_type: "session",
                        target_id: &id,
                        changes: serde_json::Map::new(),
                        at: caller.now,
                    },
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends every live session of a user (password change, deactivation, block, delete).
pub fn end_all_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> ApiResult<usize> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?)
}
