//! What happens to a user over its life: `POST /users/{id}/actions/{action}` (invite,
//! revoke_invitation, deactivate, reactivate, block, unblock, restore) and
//! `POST /users/{id}/password`. Which caller may do what, from which status, is decided
//! by `policy::user::decide`; this module carries the decision out, in one transaction
//! with its audit event.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::Value;

use super::account_membership::ensure_other_owner;
use super::engine::ensure_changed;
use super::session::end_all_sessions;
use super::user::{UserRow, find_for_change, issue_invitation, revoke_invitations};
use super::write::{Written, change_and_show, change_only};
use crate::audit::{self, Changes};
use crate::auth::{Caller, password};
use crate::db::DbConnection;
use crate::db::schema::users;
use crate::domain::{AccountRole, Password, UserStatus};
use crate::jsonapi::error::{ApiError, ApiResult};
use crate::jsonapi::http::{Ctx, JsonApiBody};
use crate::jsonapi::input::{Patch, Problems, ResourceInput, attribute_pointer};
use crate::jsonapi::schema::{Attribute, ResourceSchema};
use crate::policy::user::{Action, decide};
use crate::state::AppState;

/// The statuses to go back to, most recent first: `unblock` and `restore` each return
/// to the status before theirs, even when nested (invited → blocked → deleted →
/// restore → blocked → unblock → invited). Stored comma-separated in `previous_status`.
pub struct StatusStack(Vec<UserStatus>);

impl StatusStack {
    pub fn of(user: &UserRow) -> Self {
        StatusStack(
            user.previous_status
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter_map(|s| UserStatus::parse(s).ok())
                .collect(),
        )
    }

    /// Pushes `status` (the one being left) in front.
    pub fn push(mut self, status: UserStatus) -> Self {
        self.0.insert(0, status);
        self
    }

    /// The status to return to, and what remains.
    pub fn pop(mut self, fallback: UserStatus) -> (UserStatus, Self) {
        let back = if self.0.is_empty() {
            fallback
        } else {
            self.0.remove(0)
        };
        (back, self)
    }

    pub fn stored(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
    }
}

/// Writes the status transition (and what it remembers) of a user.
pub fn set_status(
    conn: &mut DbConnection,
    user_id: &str,
    status: UserStatus,
    remembered: &StatusStack,
    now: chrono::NaiveDateTime,
) -> ApiResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::status.eq(status.as_str()),
            users::previous_status.eq(remembered.stored()),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// 409 `last_owner` if the user is the only active owner of its home account: checked
/// before deactivating, blocking or deleting it, whoever does it. Only the home account
/// counts: no other account may stand in the way of managing one's own users (SPEC §4).
/// Owners of other accounts are homed in them — but for an account the user created
/// itself (`POST /accounts`), which its deletion leaves to its other admins and to the
/// platform admins.
pub fn ensure_no_sole_ownership(
    conn: &mut DbConnection,
    user_id: &str,
    home_account_id: &str,
) -> ApiResult<()> {
    use crate::db::schema::account_memberships;
    let owns_home: i64 = account_memberships::table
        .filter(account_memberships::user_id.eq(user_id))
        .filter(account_memberships::account_id.eq(home_account_id))
        .filter(account_memberships::role.eq(AccountRole::Owner.as_str()))
        .count()
        .get_result(conn)?;
    if owns_home > 0 {
        ensure_other_owner(conn, home_account_id, user_id)?;
    }
    Ok(())
}

/// Carries out `action` on `user` (already authorized); returns the response's
/// top-level meta, if any. Events are recorded in the user's home account, where its
/// admins look, whoever acted.
fn perform(
    conn: &mut DbConnection,
    caller: &Caller,
    action: Action,
    user: &UserRow,
) -> ApiResult<Option<Value>> {
    let now = caller.now;
    let before = user.status();
    let remembered = StatusStack::of(user);
    let mut meta = None;
    let (after, event) = match action {
        Action::Invite => {
            set_status(conn, &user.id, UserStatus::Invited, &remembered, now)?;
            meta = Some(issue_invitation(
                conn,
                &user.id,
                &user.account_id,
                &caller.user_id,
                now,
            )?);
            (UserStatus::Invited, "user.invited")
        }
        Action::RevokeInvitation => {
            revoke_invitations(conn, &user.id, now)?;
            set_status(conn, &user.id, UserStatus::Created, &remembered, now)?;
            (UserStatus::Created, "user.invitation_revoked")
        }
        Action::Deactivate => {
            ensure_no_sole_ownership(conn, &user.id, &user.account_id)?;
            set_status(conn, &user.id, UserStatus::Deactivated, &remembered, now)?;
            end_all_sessions(conn, &user.id, now)?;
            (UserStatus::Deactivated, "user.deactivated")
        }
        Action::Reactivate => {
            set_status(conn, &user.id, UserStatus::Active, &remembered, now)?;
            (UserStatus::Active, "user.reactivated")
        }
        Action::Block => {
            ensure_no_sole_ownership(conn, &user.id, &user.account_id)?;
            set_status(
                conn,
                &user.id,
                UserStatus::Blocked,
                &remembered.push(before),
                now,
            )?;
            end_all_sessions(conn, &user.id, now)?;
            (UserStatus::Blocked, "user.blocked")
        }
        Action::Unblock => {
            let (back, rest) = remembered.pop(UserStatus::Active);
            set_status(conn, &user.id, back, &rest, now)?;
            (back, "user.unblocked")
        }
        Action::Restore => {
            // The email (or identifier) may have been given to another user meanwhile.
            let accounts = super::user::accounts_of(conn, &user.id)?;
            super::user::check_unique(
                conn,
                &accounts,
                &user.id,
                user.email
                    .as_deref()
                    .and_then(|e| crate::domain::Email::parse(e).ok())
                    .as_ref(),
                user.identifier
                    .as_deref()
                    .and_then(|i| crate::domain::Identifier::parse(i).ok())
                    .as_ref(),
            )?;
            let (back, rest) = remembered.pop(UserStatus::Created);
            set_status(conn, &user.id, back, &rest, now)?;
            diesel::update(users::table.find(&user.id))
                .set(users::discarded_at.eq(None::<chrono::NaiveDateTime>))
                .execute(conn)?;
            (back, "user.restored")
        }
        Action::Edit | Action::Delete | Action::ChangePassword => {
            return Err(ApiError::not_found());
        }
    };
    let mut changes = Changes::default();
    changes.set("status", before.as_str(), after.as_str());
    audit::record_by(
        conn,
        caller,
        &user.account_id,
        event,
        ("user", &user.id),
        changes,
    )?;
    Ok(meta)
}

/// The `{action}`s of `POST /users/{id}/actions/{action}`: every policy action but the
/// three that have their own endpoints (PATCH, DELETE, `/password`).
pub const ACTION_NAMES: &[&str] = &[
    "invite",
    "revoke_invitation",
    "deactivate",
    "reactivate",
    "block",
    "unblock",
    "restore",
];

fn is_lifecycle_action(action: Action) -> bool {
    !matches!(
        action,
        Action::Edit | Action::Delete | Action::ChangePassword
    )
}

/// `POST /users/{id}/actions/{action}` → 200 with the user.
pub async fn action(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, name) = path.into_inner();
    let action = Action::parse(&name)
        .filter(|a| is_lifecycle_action(*a))
        .ok_or_else(ApiError::not_found)?;
    change_and_show(
        &req,
        &state,
        &ctx,
        caller,
        &super::USERS,
        StatusCode::OK,
        move |conn, caller| {
            let user = find_for_change(conn, caller, &id)?;
            decide(caller, action, &user.facts(caller)).enforce(action.name())?;
            let meta = perform(conn, caller, action, &user)?;
            Ok(Written { id, meta })
        },
    )
    .await
}

/// The request document of `POST /users/{id}/password`.
pub static PASSWORD_SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "password",
    path: "password",
    attributes: &[
        Attribute::write_only("password").text(10, 256).required(),
        Attribute::write_only("password_confirmation")
            .text(10, 256)
            .required(),
        Attribute::write_only("current_password").text(1, 256),
    ],
    relationships: &[],
    filters: &[],
    sorts: &[],
    actions: &[],
};

/// `POST /users/{id}/password` → 204; ends all of the user's sessions.
pub async fn change_password(
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    path: web::Path<String>,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let input: ResourceInput = crate::jsonapi::input::parse_resource_document(
        body.0,
        &PASSWORD_SCHEMA,
        crate::jsonapi::input::Intent::Create,
    )?;
    let text = |name: &str| -> ApiResult<Option<String>> {
        match input.string(name)? {
            Patch::Value(v) => Ok(Some(v.to_owned())),
            _ => Ok(None),
        }
    };
    let mut problems = Problems::default();
    let new_password = match text("password")? {
        None => {
            problems.push(ApiError::validation(
                attribute_pointer("password"),
                "is required",
            ));
            None
        }
        Some(p) => match Password::parse(&p) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(ApiError::validation(
                    attribute_pointer("password"),
                    e.to_string(),
                ));
                None
            }
        },
    };
    let confirmation = text("password_confirmation")?;
    if let Some(p) = &new_password
        && confirmation.as_deref() != Some(p.expose())
    {
        problems.push(ApiError::validation(
            attribute_pointer("password_confirmation"),
            "does not match the password",
        ));
    }
    problems.finish()?;
    let Some(new_password) = new_password else {
        return Err(ApiError::internal("password checked above"));
    };
    let current_password = text("current_password")?;
    let own = id.eq_ignore_ascii_case(&caller.user_id);

    // Authorize and read the stored hash first; hashing happens off the HTTP worker.
    let check_caller = caller.clone();
    let check_id = id.clone();
    let stored_hash = state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            let user = find_for_change(conn, &check_caller, &check_id)?;
            decide(
                &check_caller,
                Action::ChangePassword,
                &user.facts(&check_caller),
            )
            .enforce("change the password of")?;
            let hash: Option<String> = users::table
                .find(&user.id)
                .select(users::password_hash)
                .first(conn)?;
            Ok(hash)
        })
        .await?;
    let hash = web::block(move || -> ApiResult<String> {
        if own {
            let Some(current) = current_password else {
                return Err(ApiError::validation(
                    attribute_pointer("current_password"),
                    "is required",
                ));
            };
            let matches = stored_hash
                .as_deref()
                .is_some_and(|h| password::verify(&current, h));
            if !matches {
                return Err(ApiError::validation(
                    attribute_pointer("current_password"),
                    "is wrong",
                ));
            }
        }
        password::hash(new_password.expose()).map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)??;

    change_only(&state, &ctx, caller, move |conn, caller| {
        // Decided again: the user may have changed while the hash was computed.
        let user = find_for_change(conn, caller, &id)?;
        decide(caller, Action::ChangePassword, &user.facts(caller))
            .enforce("change the password of")?;
        diesel::update(users::table.find(&user.id))
            .set((
                users::password_hash.eq(&hash),
                users::updated_at.eq(caller.now),
            ))
            .execute(conn)?;
        end_all_sessions(conn, &user.id, caller.now)?;
        audit::record_by(
            conn,
            caller,
            &user.account_id,
            "user.password_changed",
            ("user", &user.id),
            Changes::default(),
        )
    })
    .await
}

/// `DELETE /users/{id}`: a soft delete that ends the user's sessions and its guest
/// memberships; its home account keeps it, to restore it.
pub fn delete_user(conn: &mut DbConnection, caller: &Caller, current: &UserRow) -> ApiResult<()> {
    let id = &current.id;
    decide(caller, Action::Delete, &current.facts(caller)).enforce("delete")?;
    ensure_no_sole_ownership(conn, id, &current.account_id)?;
    let changed = diesel::update(users::table.find(id).filter(users::discarded_at.is_null()))
        .set((
            users::status.eq(UserStatus::Deleted.as_str()),
            users::previous_status.eq(StatusStack::of(current).push(current.status()).stored()),
            users::discarded_at.eq(caller.now),
            users::updated_at.eq(caller.now),
        ))
        .execute(conn)?;
    ensure_changed(changed)?;
    end_all_sessions(conn, id, caller.now)?;
    // Its other accounts lose it now; its home account keeps it, to restore it.
    super::account_membership::end_guest_memberships(conn, caller, id, &current.account_id)?;
    let mut changes = Changes::default();
    changes.set(
        "status",
        current.status.as_str(),
        UserStatus::Deleted.as_str(),
    );
    audit::record_by(
        conn,
        caller,
        &current.account_id,
        "user.deleted",
        ("user", id),
        changes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_names_are_the_lifecycle_actions() {
        let lifecycle: Vec<&str> = Action::ALL
            .iter()
            .copied()
            .filter(|a| is_lifecycle_action(*a))
            .map(Action::name)
            .collect();
        assert_eq!(lifecycle, ACTION_NAMES);
    }
}
