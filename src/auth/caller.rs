//! The [`Caller`] extractor: a bearer token is only as good as its session row. Every
//! request re-checks, in one query, that the session is live, the user active and not
//! deleted, the account not deleted, and reads the caller's role in that account — so a
//! revoked session, a deactivated user or a deleted account stops working at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};

use crate::db::{BackendKind, SqlBuilder};
use crate::domain::AccountRole;
use crate::jsonapi::error::ApiError;
use crate::jsonapi::http::request_context;
use crate::state::AppState;

/// The signed-in user making the request, in the account its session is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub account_id: String,
    pub session_id: String,
    pub role: AccountRole,
    pub platform_admin: bool,
    /// The account has guests (members whose home is another account): lists of its
    /// users then look beyond `users.account_id`.
    pub account_has_guests: bool,
    /// The owners of the session's account: the policy asks "is this user an owner?"
    /// for every user it shows, and this answers it without a query per row.
    pub account_owner_ids: Vec<String>,
    /// When the request was authenticated, by the server's clock: "now" for every rule
    /// of this request (session expiry, invitation expiry).
    pub now: chrono::NaiveDateTime,
}

impl Caller {
    /// Owner or admin of the session's account.
    pub fn is_account_admin(&self) -> bool {
        self.role.is_admin()
    }
}

/// The check of a session, one statement on every request: the session is live, its
/// user active, its account not deleted; it reads the caller's role there and the
/// account's owners (comma-separated, for the policy). Written out, not with diesel's
/// DSL: the owners' aggregate differs per backend, and a DSL `sql()` fragment would make
/// diesel re-prepare this, the hottest statement, on every request (profiled: a quarter
/// of the CPU of `GET /users/{id}`).
macro_rules! session_check {
    ($owners:literal) => {
        concat!(
            "SELECT m.role AS role, u.platform_admin AS platform_admin, a.guests AS guests, ",
            "(SELECT ",
            $owners,
            " FROM account_memberships o WHERE o.account_id = s.account_id AND o.role = 'owner') AS owners",
            " FROM sessions s JOIN users u ON u.id = s.user_id",
            " JOIN accounts a ON a.id = s.account_id",
            " JOIN account_memberships m ON m.user_id = s.user_id AND m.account_id = s.account_id"
        )
    };
}
const SESSION_CHECK_SQLITE: &str = session_check!("group_concat(o.user_id, ',')");
const SESSION_CHECK_POSTGRES: &str = session_check!("string_agg(o.user_id, ',')");

#[derive(QueryableByName)]
struct SessionCheck {
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Bool)]
    platform_admin: bool,
    #[diesel(sql_type = Integer)]
    guests: i32,
    #[diesel(sql_type = Nullable<Text>)]
    owners: Option<String>,
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    // `from_utf8` rather than `HeaderValue::to_str`, which checks byte by byte: a token
    // with any other character fails verification anyway.
    let value = std::str::from_utf8(req.headers().get(header::AUTHORIZATION)?.as_bytes()).ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

async fn authenticate(req: HttpRequest) -> Result<Option<Caller>, ApiError> {
    let Some(token) = bearer_token(&req) else {
        return Ok(None);
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("AppState missing"))?
        .clone();
    let rejected = || ApiError::unauthorized("The token is invalid, expired or revoked.");
    let claims = state.tokens.verify(&token).ok_or_else(rejected)?;
    let now = state.clock.now();
    let ctx = request_context(&req);
    let found = state
        .db
        .run(
            &ctx.db,
            move |conn| -> crate::jsonapi::error::ApiResult<_> {
                let mut q = SqlBuilder::new(conn.backend());
                q.sql(match conn.backend() {
                BackendKind::Sqlite => SESSION_CHECK_SQLITE,
                BackendKind::Postgres => SESSION_CHECK_POSTGRES,
            })
            .sql(" WHERE s.id = ")
            .bind(claims.sid.clone())
            .sql(" AND s.user_id = ")
            .bind(claims.sub.clone())
            .sql(" AND s.account_id = ")
            .bind(claims.acc.clone())
            .sql(" AND s.revoked_at IS NULL AND s.expires_at > ")
            .bind(now)
            .sql(" AND u.status = 'active' AND u.discarded_at IS NULL AND a.discarded_at IS NULL");
                let mut rows: Vec<SessionCheck> = q.load(conn)?;
                Ok(rows.pop().map(|row| (claims, row)))
            },
        )
        .await?;
    let (claims, row) = found.ok_or_else(rejected)?;
    let (role, platform_admin, account_has_guests) = (row.role, row.platform_admin, row.guests > 0);
    let account_owner_ids = row
        .owners
        .unwrap_or_default()
        .split(',')
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    let role = AccountRole::parse(&role).map_err(ApiError::internal)?;
    Ok(Some(Caller {
        user_id: claims.sub,
        account_id: claims.acc,
        session_id: claims.sid,
        role,
        platform_admin,
        account_has_guests,
        account_owner_ids,
        now,
    }))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(req)
                .await?
                .ok_or_else(|| ApiError::unauthorized("This endpoint needs a bearer token."))
        })
    }
}

/// A caller that may be absent (endpoints open to everyone); a token that is present
/// must still be valid.
#[derive(Debug, Clone)]
pub struct OptionalCaller(pub Option<Caller>);

impl FromRequest for OptionalCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<OptionalCaller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req).await.map(OptionalCaller) })
    }
}
