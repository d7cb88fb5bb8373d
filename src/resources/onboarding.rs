//! Getting in without a token: accepting an invitation (`POST /invitations/accept`) and
//! open registration (`POST /registrations`, only with `ROSTER_OPEN_REGISTRATION=true`).
//! Both end in a new session, created in the same transaction as the change.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::json;

use super::session::{created_response, open_session};
use crate::audit::{self, Changes};
use crate::auth::{digest, password};
use crate::db::schema::{account_memberships, accounts, invitations, users};
use crate::db::write_transaction;
use crate::domain::{AccountRole, Email, Name, Password, Slug, UserStatus};
use crate::jsonapi::error::{ApiError, ApiResult};
use crate::jsonapi::http::{Ctx, JsonApiBody};
use crate::jsonapi::input::{
    Intent, Presence, Problems, ResourceInput, attribute_pointer, parse_resource_document,
};
use crate::jsonapi::schema::{Attribute, ResourceSchema, ValueType};
use crate::state::AppState;

pub static ACCEPTANCE_SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "invitation_acceptance",
    path: "invitations/accept",
    attributes: &[
        Attribute::write_only("token").text(1, 200).required(),
        Attribute::write_only("password").text(10, 256).required(),
        Attribute::write_only("name").line(1, 200).nullable(),
    ],
    relationships: &[],
    filters: &[],
    sorts: &[],
    actions: &[],
};

pub static REGISTRATION_SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "registration",
    path: "registrations",
    attributes: &[
        Attribute::write_only("account_name")
            .line(1, 200)
            .required(),
        Attribute::write_only("slug")
            .of(ValueType::Pattern {
                pattern: "^[a-z0-9-]{3,63}$",
                min: 3,
                max: 63,
            })
            .required(),
        Attribute::write_only("name").line(1, 200).required(),
        Attribute::write_only("email")
            .of(ValueType::Email)
            .required(),
        Attribute::write_only("password").text(10, 256).required(),
    ],
    relationships: &[],
    filters: &[],
    sorts: &[],
    actions: &[],
};

/// A required string attribute parsed into a domain type, recording a 422 otherwise.
fn required<T>(
    problems: &mut Problems,
    input: &ResourceInput,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, crate::domain::DomainError>,
) -> Option<T> {
    input
        .parse_string(problems, name, Presence::Required, parse)
        .flatten()
}

/// `POST /invitations/accept`: sets the invited user's password, makes it active and
/// signs it in. A bad, used, revoked or expired token is 404.
pub async fn accept_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    let input = parse_resource_document(body.0, &ACCEPTANCE_SCHEMA, Intent::Create)?;
    let mut problems = Problems::default();
    let token = required(&mut problems, &input, "token", |t| Ok(t.to_owned()));
    let secret = required(&mut problems, &input, "password", Password::parse);
    // An optional new name; null leaves the invited name as it is.
    let name = input
        .parse_string(&mut problems, "name", Presence::Nullable, Name::parse)
        .flatten();
    problems.finish()?;
    let (Some(token), Some(secret)) = (token, secret) else {
        return Err(ApiError::internal("fields checked above"));
    };
    let hash = password::hash_off_worker(secret).await?;
    let now = state.clock.now();
    let token_hash = digest(&token);
    let app = state.clone();
    let view = state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            write_transaction(conn, |conn| {
                let (invitation_id, user_id, account_id): (String, String, String) =
                    invitations::table
                        .inner_join(users::table.on(users::id.eq(invitations::user_id)))
                        .filter(invitations::token_hash.eq(&token_hash))
                        .filter(invitations::accepted_at.is_null())
                        .filter(invitations::revoked_at.is_null())
                        .filter(invitations::expires_at.gt(now))
                        .filter(users::status.eq(UserStatus::Invited.as_str()))
                        .filter(users::discarded_at.is_null())
                        .select((
                            invitations::id,
                            invitations::user_id,
                            invitations::account_id,
                        ))
                        .first(conn)
                        .optional()?
                        .ok_or_else(ApiError::not_found)?;
                diesel::update(invitations::table.find(&invitation_id))
                    .set(invitations::accepted_at.eq(now))
                    .execute(conn)?;
                let mut changes = Changes::default();
                changes.set(
                    "status",
                    UserStatus::Invited.as_str(),
                    UserStatus::Active.as_str(),
                );
                if let Some(name) = &name {
                    let old: String = users::table
                        .find(&user_id)
                        .select(users::name)
                        .first(conn)?;
                    changes.set("name", old, name.as_str());
                    diesel::update(users::table.find(&user_id))
                        .set(users::name.eq(name.as_str()))
                        .execute(conn)?;
                }
                diesel::update(users::table.find(&user_id))
                    .set((
                        users::status.eq(UserStatus::Active.as_str()),
                        users::password_hash.eq(&hash),
                        users::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                audit::record(
                    conn,
                    audit::Event {
                        account_id: &account_id,
                        actor_id: Some(&user_id),
                        action: "user.invitation_accepted",
                        target_type: "user",
                        target_id: &user_id,
                        changes: changes.into_map(),
                        at: now,
                    },
                )?;
                open_session(conn, &app, &user_id, &account_id, now)
            })
        })
        .await?;
    Ok(created_response(&req, view))
}

/// `POST /registrations`: a new account, its owner and a session, in one transaction.
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    if !state.config.open_registration {
        return Err(ApiError::not_found());
    }
    let input = parse_resource_document(body.0, &REGISTRATION_SCHEMA, Intent::Create)?;
    let mut problems = Problems::default();
    let account_name = required(&mut problems, &input, "account_name", Name::parse);
    let slug = required(&mut problems, &input, "slug", Slug::parse);
    let name = required(&mut problems, &input, "name", Name::parse);
    let email = required(&mut problems, &input, "email", Email::parse);
    let secret = required(&mut problems, &input, "password", Password::parse);
    problems.finish()?;
    let (Some(account_name), Some(slug), Some(name), Some(email), Some(secret)) =
        (account_name, slug, name, email, secret)
    else {
        return Err(ApiError::internal("fields checked above"));
    };
    let hash = password::hash_off_worker(secret).await?;
    let now = state.clock.now();
    let app = state.clone();
    let view = state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            write_transaction(conn, |conn| {
                let taken: i64 = accounts::table
                    .filter(accounts::slug.eq(slug.as_str()))
                    .filter(accounts::discarded_at.is_null())
                    .count()
                    .get_result(conn)?;
                if taken > 0 {
                    return Err(ApiError::taken(attribute_pointer("slug"), "This slug is already taken."));
                }
                let account_id = uuid::Uuid::now_v7().to_string();
                let user_id = uuid::Uuid::now_v7().to_string();
                diesel::insert_into(accounts::table)
                    .values((
                        accounts::id.eq(&account_id),
                        accounts::name.eq(account_name.as_str()),
                        accounts::slug.eq(slug.as_str()),
                        accounts::created_at.eq(now),
                        accounts::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .map_err(|e| {
                        crate::jsonapi::error::map_unique(
                            e,
                            &[("slug", "/data/attributes/slug", "This slug is already taken.")],
                        )
                    })?;
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(&user_id),
                        users::account_id.eq(&account_id),
                        users::name.eq(name.as_str()),
                        users::email.eq(email.as_str()),
                        users::email_key.eq(email.normalized()),
                        users::status.eq(UserStatus::Active.as_str()),
                        users::timezone.eq("UTC"),
                        users::preferences.eq("{}"),
                        users::password_hash.eq(&hash),
                        users::created_at.eq(now),
                        users::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                diesel::insert_into(account_memberships::table)
                    .values((
                        account_memberships::id.eq(uuid::Uuid::now_v7().to_string()),
                        account_memberships::account_id.eq(&account_id),
                        account_memberships::user_id.eq(&user_id),
                        account_memberships::role.eq(AccountRole::Owner.as_str()),
                        account_memberships::created_at.eq(now),
                        account_memberships::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                for (action, target_type, target_id, changes) in [
                    (
                        "account.created",
                        "account",
                        &account_id,
                        json!({"name": [null, account_name.as_str()], "slug": [null, slug.as_str()]}),
                    ),
                    (
                        "user.created",
                        "user",
                        &user_id,
                        json!({"name": [null, name.as_str()], "email": [null, email.as_str()], "status": [null, "active"]}),
                    ),
                ] {
                    audit::record(
                        conn,
                        audit::Event {
                            account_id: &account_id,
                            actor_id: Some(&user_id),
                            action,
                            target_type,
                            target_id,
                            changes: changes.as_object().cloned().unwrap_or_default(),
                            at: now,
                        },
                    )?;
                }
                open_session(conn, &app, &user_id, &account_id, now)
            })
        })
        .await?;
    Ok(created_response(&req, view))
}
