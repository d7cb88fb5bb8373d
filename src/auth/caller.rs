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

use crate::app::AppState;
use crate::db::BackendKind;
use crate::db::schema::{account_memberships, accounts, sessions, users};
use crate::domain::AccountRole;
use crate::jsonapi::error::ApiError;
use crate::jsonapi::http::request_context;
use diesel::sql_types::{Nullable, Text};

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

const OWNERS_SQLITE: &str = "(SELECT group_concat(o.user_id, ',') FROM account_memberships o \
     WHERE o.account_id = sessions.account_id AND o.role = 'owner')";
const OWNERS_POSTGRES: &str = "(SELECT string_agg(o.user_id, ',') FROM account_memberships o \
     WHERE o.account_id = sessions.account_id AND o.role = 'owner')";

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
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
        .run(&ctx.db, move |conn| {
            // The account's owners, as one comma-separated column of the same statement.
            let owners = match conn.backend() {
                BackendKind::Sqlite => OWNERS_SQLITE,
                BackendKind::Postgres => OWNERS_POSTGRES,
            };
            sessions::table
                .inner_join(users::table.on(users::id.eq(sessions::user_id)))
                .inner_join(accounts::table.on(accounts::id.eq(sessions::account_id)))
                .inner_join(
                    account_memberships::table.on(account_memberships::user_id
                        .eq(sessions::user_id)
                        .and(account_memberships::account_id.eq(sessions::account_id))),
                )
                .filter(sessions::id.eq(&claims.sid))
                .filter(sessions::user_id.eq(&claims.sub))
                .filter(sessions::account_id.eq(&claims.acc))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(now))
                .filter(users::status.eq("active"))
                .filter(users::discarded_at.is_null())
                .filter(accounts::discarded_at.is_null())
                .select((
                    account_memberships::role,
                    users::platform_admin,
                    accounts::guests,
                    diesel::dsl::sql::<Nullable<Text>>(owners),
                ))
                .first::<(String, bool, i32, Option<String>)>(conn)
                .optional()
                .map_err(ApiError::from)
                .map(|row| {
                    row.map(|(role, admin, guests, owners)| {
                        (claims, role, admin, guests > 0, owners.unwrap_or_default())
                    })
                })
        })
        .await?;
    let (claims, role, platform_admin, account_has_guests, owners) = found.ok_or_else(rejected)?;
    let account_owner_ids = owners
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
