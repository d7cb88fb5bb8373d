//! The writes of users: what `write.rs` asks of the type (create, update, delete and the
//! `teams` relationship, in [`Writable for UserResource`](UserResource)), and what
//! happens to a user over its life: `POST /users/{id}/actions/{action}` (invite,
//! revoke_invitation, deactivate, reactivate, block, unblock, restore) and
//! `POST /users/{id}/password`. Which caller may do what, from which status, is decided
//! by `policy::user::decide`; this module carries the decision out, in one transaction
//! with its audit event. (`user.rs` declares the type for reads and holds the rules
//! other types share: uniqueness of emails and identifiers, invitations.)

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::Value;

use super::account_membership::ensure_other_owner;
use super::engine::ensure_changed;
use super::session::end_all_sessions;
use super::team_membership::{
    Side, change_members, change_relationship_members, visible_members_named,
};
use super::user::{
    UserResource, UserRow, accounts_of, check_unique, find_for_change, issue_invitation,
    revoke_invitations, unique_error,
};
use super::write::{NewId, Prepared, SetChange, Writable, Writes};
use super::write::{Written, change_and_show, change_only};
use crate::audit::{self, Changes};
use crate::auth::{Caller, password};
use crate::db::DbConnection;
use crate::db::schema::{account_memberships, users};
use crate::domain::{
    AccountRole, Avatar, Email, Identifier, Name, Password, Preferences, Timezone, UserStatus,
};
use crate::jsonapi::error::{ApiError, ApiResult};
use crate::jsonapi::http::{Ctx, JsonApiBody};
use crate::jsonapi::input::{Patch, Presence, Problems, ResourceInput, attribute_pointer};
use crate::jsonapi::schema::{Attribute, ResourceSchema};
use crate::policy::{
    self,
    user::{Action, decide},
};
use crate::state::AppState;

/// Where a user's body lists its teams.
const TEAMS_POINTER: &str = Side::User.body_pointer();

/// The attribute values of a create or update, parsed into domain types. `None` fields
/// are absent (unchanged); `Some(None)` is an explicit null.
#[derive(Default)]
struct UserChanges {
    name: Option<Name>,
    email: Option<Option<Email>>,
    identifier: Option<Option<Identifier>>,
    avatar: Option<Option<Avatar>>,
    timezone: Option<Timezone>,
    preferences: Option<Preferences>,
    password: Option<Password>,
}

fn parse_changes(input: &ResourceInput, creating: bool) -> ApiResult<UserChanges> {
    let mut problems = Problems::default();
    let mut changes = UserChanges {
        name: input
            .parse_string(
                &mut problems,
                "name",
                Presence::required_if(creating),
                Name::parse,
            )
            .flatten(),
        email: input.parse_string(&mut problems, "email", Presence::Nullable, Email::parse),
        identifier: input.parse_string(
            &mut problems,
            "identifier",
            Presence::Nullable,
            Identifier::parse,
        ),
        avatar: input.parse_string(&mut problems, "avatar", Presence::Nullable, Avatar::parse),
        timezone: input
            .parse_string(
                &mut problems,
                "timezone",
                Presence::Optional,
                Timezone::parse,
            )
            .flatten(),
        ..UserChanges::default()
    };
    match input.raw("preferences") {
        Patch::Absent => {}
        Patch::Null => problems.push(ApiError::validation(
            attribute_pointer("preferences"),
            "must be an object",
        )),
        Patch::Value(value) => match Preferences::parse(value) {
            Ok(p) => changes.preferences = Some(p),
            Err(e) => problems.push(ApiError::validation(
                attribute_pointer("preferences"),
                e.to_string(),
            )),
        },
    }
    if creating {
        changes.password = input
            .parse_string(
                &mut problems,
                "password",
                Presence::Nullable,
                Password::parse,
            )
            .flatten();
    } else if !input.raw("password").is_absent() {
        problems.push(ApiError::validation(
            attribute_pointer("password"),
            "is changed with POST /users/{id}/password",
        ));
    }
    problems.finish()?;
    Ok(changes)
}

fn opt_str<T: AsRef<str>>(v: Option<&T>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.as_ref().to_owned()))
}

impl Writable for UserResource {
    const WRITES: Writes = Writes {
        relationships: &["teams"],
        ..Writes::ALL
    };
    const SET_ON_CREATE: &'static [&'static str] = &["teams"];
    const SET_ON_UPDATE: &'static [&'static str] = &["teams"];

    fn given_on_create(caller: &Caller) -> Vec<(&'static str, Option<String>)> {
        vec![("account", Some(caller.account_id.clone()))]
    }

    /// Only a caller who may create users gets its password hashed (before the
    /// transaction, so that no write lock waits for Argon2).
    fn password_to_hash(caller: &Caller, input: &ResourceInput) -> Option<Password> {
        if !policy::user::create(caller) {
            return None;
        }
        match input.attributes.get("password") {
            Some(Value::String(text)) => Password::parse(text).ok(),
            _ => None,
        }
    }

    /// `POST /users`: in the caller's account, with `meta.role` (member by default)
    /// and `meta.invite`.
    fn create(
        conn: &mut DbConnection,
        caller: &Caller,
        input: &ResourceInput,
        id: NewId,
        prepared: Prepared,
    ) -> ApiResult<Written> {
        let teams = visible_members_named(conn, caller, Side::User, input)?;
        policy::authorize(policy::user::create(caller), "create users in")?;
        let changes = parse_changes(input, true)?;
        let role = match input.meta.get("role") {
            None | Some(Value::Null) => AccountRole::Member,
            Some(Value::String(r)) => AccountRole::parse(r)
                .map_err(|e| ApiError::validation("/meta/role", e.to_string()))?,
            Some(_) => return Err(ApiError::validation("/meta/role", "must be a string")),
        };
        if role == AccountRole::Owner
            && !(caller.platform_admin || caller.role == AccountRole::Owner)
        {
            return Err(ApiError::forbidden("Only owners may grant the owner role."));
        }
        let invite = match input.meta.get("invite") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(ApiError::validation(
                    "/meta/invite",
                    "must be true or false",
                ));
            }
        };
        if invite && changes.password.is_some() {
            return Err(ApiError::validation(
                "/meta/invite",
                "a user created with a password is already active",
            ));
        }
        let password_hash = match (&changes.password, prepared.password_hash) {
            (None, _) => None,
            (Some(_), Some(hash)) => Some(hash),
            (Some(_), None) => return Err(ApiError::internal("a password left unhashed")),
        };
        let id = id.claim(conn)?;
        let now = caller.now;
        let email = changes.email.clone().flatten();
        let identifier = changes.identifier.clone().flatten();
        check_unique(
            conn,
            std::slice::from_ref(&caller.account_id),
            &id,
            email.as_ref(),
            identifier.as_ref(),
        )?;
        let status = if password_hash.is_some() {
            UserStatus::Active
        } else {
            UserStatus::Created
        };
        let name = changes.name.map(Name::into_inner).unwrap_or_default();
        let timezone = changes.timezone.unwrap_or_default();
        let preferences = changes.preferences.unwrap_or_default();
        let avatar = changes.avatar.flatten();
        diesel::insert_into(users::table)
            .values((
                users::id.eq(&id),
                users::account_id.eq(&caller.account_id),
                users::name.eq(&name),
                users::email.eq(email.as_ref().map(Email::as_str)),
                users::email_key.eq(email.as_ref().map(Email::normalized)),
                users::identifier.eq(identifier.as_ref().map(Identifier::as_str)),
                users::status.eq(status.as_str()),
                users::avatar.eq(avatar.as_ref().map(Avatar::as_str)),
                users::timezone.eq(timezone.as_str()),
                users::preferences.eq(preferences.as_str()),
                users::password_hash.eq(password_hash.as_deref()),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .map_err(unique_error)?;
        diesel::insert_into(account_memberships::table)
            .values((
                account_memberships::id.eq(uuid::Uuid::now_v7().to_string()),
                account_memberships::account_id.eq(&caller.account_id),
                account_memberships::user_id.eq(&id),
                account_memberships::role.eq(role.as_str()),
                account_memberships::created_at.eq(now),
                account_memberships::updated_at.eq(now),
            ))
            .execute(conn)?;
        let mut created = Changes::default();
        created.set("name", Value::Null, name.as_str());
        created.set("email", Value::Null, opt_str(email.as_ref()));
        created.set("identifier", Value::Null, opt_str(identifier.as_ref()));
        created.set("status", Value::Null, status.as_str());
        created.set("avatar", Value::Null, opt_str(avatar.as_ref()));
        created.set("timezone", Value::Null, timezone.as_str());
        created.set("preferences", Value::Null, preferences.to_value());
        audit::record_by(
            conn,
            caller,
            &caller.account_id,
            "user.created",
            ("user", &id),
            created,
        )?;
        if let Some(teams) = &teams {
            change_members(
                conn,
                caller,
                Side::User,
                &id,
                teams,
                SetChange::Add,
                TEAMS_POINTER,
            )?;
        }
        if !invite {
            return Ok(Written::id(id));
        }
        diesel::update(users::table.find(&id))
            .set(users::status.eq(UserStatus::Invited.as_str()))
            .execute(conn)?;
        let meta = issue_invitation(conn, &id, &caller.account_id, &caller.user_id, now)?;
        let mut invited = Changes::default();
        invited.set(
            "status",
            UserStatus::Created.as_str(),
            UserStatus::Invited.as_str(),
        );
        audit::record_by(
            conn,
            caller,
            &caller.account_id,
            "user.invited",
            ("user", &id),
            invited,
        )?;
        Ok(Written {
            id,
            meta: Some(meta),
        })
    }

    /// `PATCH /users/{id}`: absent attributes stay as they are.
    fn authorize_update(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &UserRow,
        input: &ResourceInput,
    ) -> ApiResult<()> {
        visible_members_named(conn, caller, Side::User, input)?;
        policy::user::decide(caller, policy::user::Action::Edit, &current.facts(caller))
            .enforce("edit")
    }

    fn update(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &UserRow,
        input: &ResourceInput,
    ) -> ApiResult<()> {
        let changes = parse_changes(input, false)?;
        if let Some(teams) = &input.to_many_ids("teams") {
            change_members(
                conn,
                caller,
                Side::User,
                &current.id,
                teams,
                SetChange::Replace,
                TEAMS_POINTER,
            )?;
        }
        let email = changes
            .email
            .clone()
            .unwrap_or_else(|| current.email.as_deref().and_then(|e| Email::parse(e).ok()));
        let identifier = changes.identifier.clone().unwrap_or_else(|| {
            current
                .identifier
                .as_deref()
                .and_then(|i| Identifier::parse(i).ok())
        });
        let accounts = accounts_of(conn, &current.id)?;
        check_unique(
            conn,
            &accounts,
            &current.id,
            changes.email.as_ref().and(email.as_ref()),
            changes.identifier.as_ref().and(identifier.as_ref()),
        )?;
        let name = changes.name.map_or(current.name.clone(), Name::into_inner);
        let avatar = match &changes.avatar {
            Some(a) => a.as_ref().map(|a| a.as_str().to_owned()),
            None => current.avatar.clone(),
        };
        let timezone = changes
            .timezone
            .map_or(current.timezone.clone(), |t| t.as_str().to_owned());
        let preferences = changes
            .preferences
            .map_or(current.preferences.clone(), Preferences::into_inner);
        diesel::update(users::table.find(&current.id))
            .set((
                users::name.eq(&name),
                users::email.eq(email.as_ref().map(Email::as_str)),
                users::email_key.eq(email.as_ref().map(Email::normalized)),
                users::identifier.eq(identifier.as_ref().map(Identifier::as_str)),
                users::avatar.eq(avatar.as_deref()),
                users::timezone.eq(&timezone),
                users::preferences.eq(&preferences),
            ))
            .execute(conn)
            .map_err(unique_error)?;
        Ok(())
    }

    fn audit_account(_: &mut DbConnection, _: &Caller, user: &UserRow) -> ApiResult<String> {
        Ok(user.account_id.clone())
    }

    /// `DELETE /users/{id}`: see [`super::user_lifecycle::delete_user`].
    fn delete(conn: &mut DbConnection, caller: &Caller, current: &UserRow) -> ApiResult<()> {
        super::user_lifecycle::delete_user(conn, caller, current)
    }

    /// `/users/{id}/relationships/teams`: each team authorized as if sent alone.
    fn change_relationship(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &UserRow,
        _name: &str,
        members: &[String],
        change: SetChange,
        pointer: &str,
    ) -> ApiResult<()> {
        change_relationship_members(
            conn,
            caller,
            Side::User,
            (&current.id, current.discarded_at.is_none()),
            members,
            change,
            pointer,
        )
    }
}

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
