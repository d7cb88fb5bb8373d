//! The `account_invitation` resource: how an account asks a user homed elsewhere to join
//! it as a guest. Guests join only by consent — the invited user accepts, signed in as
//! itself — so no account can reach into another's users by id (SPEC §4).
//!
//! The token is shown once, in the create response's `meta.invitation`, and only its
//! SHA-256 is stored. An invitation is single use, lives seven days and is revoked by
//! deleting it. The create answer never depends on whether a user with the email exists
//! anywhere: only acceptance ties an invitation to a user.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{CursorValue, FilterSql, Link, Resource, Scope, SortKind, SortSpec};
use crate::auth::Caller;
use crate::db::SqlBuilder;
use crate::db::schema::account_invitations;
use crate::domain::AccountRole;
use crate::jsonapi::document::{AttributeWriter, ResourceView};
use crate::jsonapi::schema::{
    Attribute, Filter, FilterKind, Relationship, ResourceSchema, ValueType,
};
use crate::policy;

/// The roles an invitation may carry: a guest is never an owner.
pub const GUEST_ROLES: &[&str] = &["member", "admin"];

pub static SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "account_invitation",
    path: "account_invitations",
    attributes: &[
        Attribute::read_write("email")
            .of(ValueType::Email)
            .required(),
        Attribute::read_write("role").of(ValueType::OneOf(GUEST_ROLES)),
        Attribute::read_only("expires_at").time(),
        Attribute::read_only("accepted_at").time().nullable(),
        Attribute::read_only("created_at").time(),
    ],
    relationships: &[
        Relationship::to_one("account", "account"),
        Relationship::to_one("inviter", "user"),
        Relationship::to_one("user", "user"),
    ],
    // Only the platform admin's choice of account (`filter[account]`, SPEC §4).
    filters: &[Filter::new("account", FilterKind::Id)],
    sorts: &["created_at", "expires_at"],
    actions: policy::account_invitation::ACTIONS,
};

#[derive(Debug, Clone)]
pub struct AccountInvitationRow {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub role: String,
    pub inviter_id: Option<String>,
    pub user_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
}

crate::read_by_position!(AccountInvitationRow { id, account_id, email, role, inviter_id, user_id, created_at, expires_at, accepted_at });

impl ResourceView for AccountInvitationRow {
    fn schema(&self) -> &'static ResourceSchema {
        &SCHEMA
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn write_attributes(&self, w: &mut AttributeWriter<'_>) {
        w.value("email", &self.email)
            .value("role", &self.role)
            .time("expires_at", &self.expires_at)
            .opt_time("accepted_at", self.accepted_at.as_ref())
            .time("created_at", &self.created_at);
    }
    fn to_one(&self, relationship: &str) -> Option<&str> {
        match relationship {
            "account" => Some(&self.account_id),
            "inviter" => self.inviter_id.as_deref(),
            "user" => self.user_id.as_deref(),
            _ => None,
        }
    }
}

pub struct AccountInvitationResource;

impl Resource for AccountInvitationResource {
    type Row = AccountInvitationRow;
    const SCHEMA: &'static ResourceSchema = &SCHEMA;
    const TABLE: &'static str = "account_invitations";
    const COLUMNS: &'static str = "account_invitations.id, account_invitations.account_id, \
         account_invitations.email, account_invitations.role, account_invitations.inviter_id, \
         account_invitations.user_id, account_invitations.created_at, \
         account_invitations.expires_at, account_invitations.accepted_at";
    const SOFT_DELETE: bool = false;
    const SORTS: &'static [SortSpec<AccountInvitationRow>] = &[
        SortSpec {
            name: "created_at",
            expr: "account_invitations.created_at",
            kind: SortKind::Time,
            nullable: false,
            value: |r| Some(CursorValue::Time(r.created_at)),
        },
        SortSpec {
            name: "expires_at",
            expr: "account_invitations.expires_at",
            kind: SortKind::Time,
            nullable: false,
            value: |r| Some(CursorValue::Time(r.expires_at)),
        },
    ];
    const FILTERS: &'static [(&'static str, FilterSql)] = &[("account", FilterSql::Special)];
    const LINKS: &'static [(&'static str, Link)] = &[
        (
            "account",
            Link::ToOne {
                column: "account_id",
            },
        ),
        (
            "inviter",
            Link::ToOne {
                column: "inviter_id",
            },
        ),
        ("user", Link::ToOne { column: "user_id" }),
    ];

    fn scope(q: &mut SqlBuilder, scope: &Scope<'_>) {
        policy::account_invitation::scope(q, scope);
    }

    fn may_read(caller: &Caller) -> bool {
        policy::account_invitation::read(caller)
    }

    fn actions(_row: &AccountInvitationRow, caller: &Caller) -> Vec<(&'static str, bool)> {
        policy::account_invitation::actions(caller)
    }
}

// ---------------------------------------------------------------------------------
// Writes

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::account_membership::insert_membership;
use super::engine::ensure_changed;
use super::engine::{Discarded, DynResource};
use super::read::{into_graph, parse_query, single_response};
use super::write::{NewId, Prepared, Writable, Writes, Written};
use crate::audit::{self, Changes};
use crate::auth::{digest, random_secret};
use crate::db::schema::{account_memberships, users};
use crate::db::{DbConnection, lock_row, write_transaction};
use crate::domain::{Email, Identifier};
use crate::jsonapi::error::{ApiError, ApiResult, ErrorSource};
use crate::jsonapi::http::{Ctx, JsonApiBody};
use crate::jsonapi::input::{
    Intent, Presence, Problems, ResourceInput, attribute_pointer, parse_resource_document,
};
use crate::state::AppState;

/// How long an account invitation can be accepted.
pub const INVITATION_DAYS: i64 = 7;

/// The document `POST /account_invitations/accept` takes.
pub static ACCEPTANCE_SCHEMA: ResourceSchema = ResourceSchema {
    type_name: "account_invitation_acceptance",
    path: "account_invitations/accept",
    attributes: &[Attribute::write_only("token").text(1, 200).required()],
    relationships: &[],
    filters: &[],
    sorts: &[],
    actions: &[],
};

impl Writable for AccountInvitationResource {
    const WRITES: Writes = Writes {
        create: true,
        update: false,
        delete: true,
        relationships: &[],
    };
    const SET_ON_CREATE: &'static [&'static str] = &["account"];

    /// Who invited and who accepted are facts the server records, not inputs.
    fn given_on_create(caller: &Caller) -> Vec<(&'static str, Option<String>)> {
        vec![("inviter", Some(caller.user_id.clone())), ("user", None)]
    }

    /// `POST /account_invitations` (account admins): the one-time token is in the
    /// response's top-level `meta.invitation`.
    fn create(
        conn: &mut DbConnection,
        caller: &Caller,
        input: &ResourceInput,
        id: NewId,
        _prepared: Prepared,
    ) -> ApiResult<Written> {
        let account_pointer = "/data/relationships/account";
        let account_id = super::account::target_account(
            caller,
            input.to_one_id("account", "account")?,
            account_pointer,
        )?;
        super::account::ensure_live(conn, &account_id, account_pointer)?;
        policy::authorize(
            policy::account_invitation::create(caller),
            "invite users to",
        )?;
        let mut problems = Problems::default();
        let email = input
            .parse_string(&mut problems, "email", Presence::Required, Email::parse)
            .flatten();
        let role = input
            .parse_string(&mut problems, "role", Presence::Optional, parse_guest_role)
            .flatten()
            .unwrap_or(AccountRole::Member);
        problems.finish()?;
        let email = email.ok_or_else(|| ApiError::internal("email checked above"))?;
        let now = caller.now;
        let id = id.claim(conn)?;
        // Serializes invitations of one account, so that two concurrent requests
        // cannot both pass the "no open invitation" check below.
        lock_row(conn, "accounts", &account_id)?;
        ensure_not_member(conn, &account_id, &email)?;
        let open: i64 = account_invitations::table
            .filter(account_invitations::account_id.eq(&account_id))
            .filter(account_invitations::email_key.eq(email.normalized()))
            .filter(account_invitations::accepted_at.is_null())
            .filter(account_invitations::expires_at.gt(now))
            .count()
            .get_result(conn)?;
        if open > 0 {
            return Err(ApiError::taken(
                attribute_pointer("email"),
                "This email already has an open invitation to this account; delete it to send a new one.",
            ));
        }
        let token = random_secret();
        let expires_at = now + chrono::Duration::days(INVITATION_DAYS);
        diesel::insert_into(account_invitations::table)
            .values((
                account_invitations::id.eq(&id),
                account_invitations::account_id.eq(&account_id),
                account_invitations::email.eq(email.as_str()),
                account_invitations::email_key.eq(email.normalized()),
                account_invitations::role.eq(role.as_str()),
                account_invitations::token_hash.eq(digest(&token)),
                account_invitations::inviter_id.eq(&caller.user_id),
                account_invitations::created_at.eq(now),
                account_invitations::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        let mut changes = Changes::default();
        changes.set("email", Value::Null, email.as_str());
        changes.set("role", Value::Null, role.as_str());
        audit::record_by(
            conn,
            caller,
            &account_id,
            "account_invitation.created",
            ("account_invitation", &id),
            changes,
        )?;
        Ok(Written {
            id,
            meta: Some(json!({
                "invitation": {
                    "token": token,
                    "expires_at": crate::jsonapi::document::format_time(&expires_at),
                }
            })),
        })
    }

    /// `DELETE /account_invitations/{id}` (account admins): revokes it — its token
    /// stops working at once.
    fn delete(
        conn: &mut DbConnection,
        caller: &Caller,
        current: &AccountInvitationRow,
    ) -> ApiResult<()> {
        policy::account_invitation::decide(caller, policy::account_invitation::Action::Delete)
            .enforce("delete")?;
        ensure_changed(
            diesel::delete(account_invitations::table.find(&current.id)).execute(conn)?,
        )?;
        let mut changes = Changes::default();
        changes.set("email", current.email.as_str(), Value::Null);
        changes.set("role", current.role.as_str(), Value::Null);
        audit::record_by(
            conn,
            caller,
            &current.account_id,
            "account_invitation.deleted",
            ("account_invitation", &current.id),
            changes,
        )
    }
}

/// A guest's role: `member` or `admin`, never `owner` (an account's owners are homed
/// in it).
pub fn parse_guest_role(text: &str) -> Result<AccountRole, String> {
    match AccountRole::parse(text) {
        Ok(AccountRole::Owner) => Err(
            "a guest cannot be an owner: an account's owners are homed in it (member or admin)"
                .into(),
        ),
        Ok(role) => Ok(role),
        Err(_) => Err("must be one of: member, admin".into()),
    }
}

/// 409 `taken` when a live user of the account (home or guest) already has this email:
/// something the account's admins can see anyway, so saying so reveals nothing.
fn ensure_not_member(conn: &mut DbConnection, account_id: &str, email: &Email) -> ApiResult<()> {
    let members: i64 = users::table
        .filter(users::email_key.eq(email.normalized()))
        .filter(users::discarded_at.is_null())
        .filter(diesel::dsl::exists(
            account_memberships::table
                .filter(account_memberships::user_id.eq(users::id))
                .filter(account_memberships::account_id.eq(account_id)),
        ))
        .count()
        .get_result(conn)?;
    if members > 0 {
        return Err(ApiError::taken(
            attribute_pointer("email"),
            "A user of this account already has this email.",
        ));
    }
    Ok(())
}

/// `POST /account_invitations/accept` (signed in): the caller joins the inviting account
/// as a guest with the invitation's role → 201 with the new `account_membership`. The
/// caller's email must be the invitation's; an unknown, used, revoked or expired token,
/// or another user's, is 404 — one answer, so a token reveals nothing about its owner.
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: Ctx,
    caller: Caller,
    body: JsonApiBody,
) -> ApiResult<HttpResponse> {
    let input = parse_resource_document(body.0, &ACCEPTANCE_SCHEMA, Intent::Create)?;
    let mut problems = Problems::default();
    let token = input
        .parse_string(&mut problems, "token", Presence::Required, |t| {
            Ok::<_, String>(t.to_owned())
        })
        .flatten();
    problems.finish()?;
    let token_hash = digest(&token.ok_or_else(|| ApiError::internal("token checked above"))?);
    let query = parse_query(&req, &ctx, &super::ACCOUNT_MEMBERSHIPS, false)?;
    let (graph, query) = state
        .db
        .run(&ctx.db, move |conn| -> ApiResult<_> {
            let (membership_id, account_id) =
                write_transaction(conn, |conn| join_by_invitation(conn, &caller, &token_hash))?;
            // Shown as the account it joined sees it: the caller is now one of its users.
            let scope = Scope {
                caller: &caller,
                account_id: Some(account_id),
                discarded: Discarded::Exclude,
            };
            let node = super::ACCOUNT_MEMBERSHIPS.find_node(conn, &scope, &membership_id)?;
            let (graph, _) = into_graph(conn, &scope, vec![node], &query)?;
            Ok((graph, query))
        })
        .await?;
    Ok(single_response(
        &req,
        &query,
        &graph,
        0,
        StatusCode::CREATED,
        None,
    ))
}

/// Claims the invitation for the caller and adds its membership; the membership's id
/// and account.
fn join_by_invitation(
    conn: &mut DbConnection,
    caller: &Caller,
    token_hash: &str,
) -> ApiResult<(String, String)> {
    let now = caller.now;
    let (email_key, identifier): (Option<String>, Option<String>) = users::table
        .find(&caller.user_id)
        .select((users::email_key, users::identifier))
        .first(conn)?;
    let not_found =
        || ApiError::not_found().with_source(ErrorSource::Pointer(attribute_pointer("token")));
    // Another user's invitation is indistinguishable from no invitation.
    let email_key = email_key.ok_or_else(not_found)?;
    let invitation: AccountInvitationRow = {
        let mut q = SqlBuilder::new(conn.backend());
        q.sql("SELECT ")
            .sql(AccountInvitationResource::COLUMNS)
            .sql(" FROM account_invitations JOIN accounts a ON a.id = account_invitations.account_id")
            .sql(" WHERE a.discarded_at IS NULL AND account_invitations.token_hash = ")
            .bind(token_hash.to_owned())
            .sql(" AND account_invitations.accepted_at IS NULL AND account_invitations.expires_at > ")
            .bind(now)
            .sql(" AND account_invitations.email_key = ")
            .bind(email_key.clone());
        q.load::<AccountInvitationRow>(conn)?
            .pop()
            .ok_or_else(not_found)?
    };
    // Single use: of two concurrent acceptances only the one that claims it goes on.
    let claimed = diesel::update(
        account_invitations::table
            .find(&invitation.id)
            .filter(account_invitations::accepted_at.is_null()),
    )
    .set((
        account_invitations::accepted_at.eq(now),
        account_invitations::user_id.eq(&caller.user_id),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Err(not_found());
    }
    let role = AccountRole::parse(&invitation.role).map_err(ApiError::internal)?;
    let email = Email::parse(&email_key).ok();
    let identifier = identifier
        .as_deref()
        .and_then(|i| Identifier::parse(i).ok());
    let membership_id = uuid::Uuid::now_v7().to_string();
    insert_membership(
        conn,
        caller,
        &invitation.account_id,
        &caller.user_id,
        role,
        &membership_id,
        (email.as_ref(), identifier.as_ref()),
        "/data/attributes/token",
    )?;
    let mut changes = Changes::default();
    changes.set(
        "accepted_at",
        Value::Null,
        crate::jsonapi::document::format_time(&now),
    );
    changes.set("user", Value::Null, caller.user_id.as_str());
    audit::record_by(
        conn,
        caller,
        &invitation.account_id,
        "account_invitation.accepted",
        ("account_invitation", &invitation.id),
        changes,
    )?;
    Ok((membership_id, invitation.account_id))
}
