//! SPEC §2 (`meta.permissions.actions`, 401/403/404/409) and §4 "user", "account",
//! "audit_event", "password": the actor matrix. For every actor — an account's owner,
//! admin and plain member, a team maintainer, a member and an owner of another account, a
//! platform admin, a user deactivated after signing in, and no token at all — and every
//! user, account and audit endpoint, the exact status the server must answer, each case
//! on a fresh target user in the right starting status. Then, for every actor and every
//! target status, that `meta.permissions.actions` agrees with what the server does.
//!
//! Each actor gets its own server (one test per actor, run in parallel); targets are
//! made fresh for every attempt. The fixtures here (`World`) are shared with
//! `lifecycle.rs`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

// ---------------------------------------------------------------------------------
// Fixtures

/// The password of every target user made active by `World::target`.
pub const TARGET_PASSWORD: &str = "target-password-1";
/// The password `helpers::TestApp::member` gives its users.
pub const MEMBER_PASSWORD: &str = "member-password-1";

/// A signed-in user, with what it takes to sign it in again.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub token: String,
    pub email: String,
    pub password: String,
    pub slug: String,
}

impl Person {
    fn of_tenant(t: &Tenant, slug: &str) -> Person {
        Person {
            id: t.user_id.clone(),
            token: t.token.clone(),
            email: t.email.clone(),
            password: OWNER_PASSWORD.into(),
            slug: slug.into(),
        }
    }
}

/// Who makes a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The owner of `acme` (the target users' account).
    Owner,
    /// An admin of `acme`.
    Admin,
    /// A plain member of `acme`.
    Member,
    /// A member of `acme` who maintains a team every target belongs to.
    Maintainer,
    /// A plain member of `globex`.
    OtherMember,
    /// The owner of `globex`: an admin, but of another account.
    OtherOwner,
    /// The owner of `root`, bootstrapped with `--platform-admin`.
    PlatformAdmin,
    /// An admin of `acme` deactivated after it signed in (its token predates that).
    Deactivated,
    /// No `Authorization` header.
    Anonymous,
    /// A globex user that accepted acme's invitation as a member, signed in to acme: in
    /// acme it has a member's powers, no more.
    Guest,
}

pub const ACTORS: [Actor; 10] = [
    Actor::Owner,
    Actor::Admin,
    Actor::Member,
    Actor::Maintainer,
    Actor::OtherMember,
    Actor::OtherOwner,
    Actor::PlatformAdmin,
    Actor::Deactivated,
    Actor::Anonymous,
    Actor::Guest,
];

impl Actor {
    fn index(self) -> usize {
        ACTORS.iter().position(|a| *a == self).expect("an actor")
    }
}

/// Three accounts and a signed-in user for every actor:
/// `acme` (owner, admin, member, maintainer, deactivated admin, team `Acme Team`),
/// `globex` (owner, member, and a user that joined acme as a guest) and `root` (a
/// platform admin).
pub struct World {
    pub app: TestApp,
    pub acme_id: String,
    pub owner: Person,
    pub admin: Person,
    pub member: Person,
    pub maintainer: Person,
    pub other_member: Person,
    pub other_owner: Person,
    pub root: Person,
    pub deactivated: Person,
    /// signed in to acme
    pub guest: Person,
    /// The team `maintainer` maintains; every target is a member of it.
    pub team: String,
    seq: AtomicUsize,
    /// Targets known to be as `target` made them, by (status, role), for reuse.
    pool: RefCell<HashMap<(&'static str, &'static str), Vec<String>>>,
}

async fn person(app: &TestApp, by: &Person, name: &str, email: &str, role: &str) -> Person {
    let (id, token) = app.member(&by.token, &by.slug, name, email, role).await;
    Person {
        id,
        token,
        email: email.into(),
        password: MEMBER_PASSWORD.into(),
        slug: by.slug.clone(),
    }
}

impl World {
    pub async fn new() -> World {
        World::on(spawn_app().await).await
    }

    pub async fn on(app: TestApp) -> World {
        let acme = app.tenant("acme", false).await;
        let globex = app.tenant("globex", false).await;
        let root = app.tenant("root", true).await;
        let owner = Person::of_tenant(&acme, "acme");
        let other_owner = Person::of_tenant(&globex, "globex");
        let admin = person(&app, &owner, "Adam Admin", "adam@acme.test", "admin").await;
        let member = person(&app, &owner, "Mia Member", "mia@acme.test", "member").await;
        let maintainer = person(&app, &owner, "Max Maintainer", "max@acme.test", "member").await;
        let deactivated = person(&app, &owner, "Dee Gone", "dee@acme.test", "admin").await;
        let other_member = person(
            &app,
            &other_owner,
            "Gus Globex",
            "gus@globex.test",
            "member",
        )
        .await;
        let guest = {
            let home = person(
                &app,
                &other_owner,
                "Gwen Guest",
                "gwen@globex.test",
                "member",
            )
            .await;
            app.join_as_guest(&owner.token, &home.token, &home.email, "member")
                .await;
            Person {
                token: app.sign_in("acme", &home.email, &home.password).await,
                slug: "acme".into(),
                ..home
            }
        };
        let team = app.insert_team(&acme.account_id, "Acme Team");
        app.add_to_team(&team, &maintainer.id, "maintainer");
        let world = World {
            acme_id: acme.account_id.clone(),
            root: Person::of_tenant(&root, "root"),
            app,
            owner,
            admin,
            member,
            maintainer,
            other_member,
            other_owner,
            deactivated,
            guest,
            team,
            seq: AtomicUsize::new(0),
            pool: RefCell::default(),
        };
        world
            .act(
                Some(&world.owner.token),
                &world.deactivated.id,
                "deactivate",
            )
            .await
            .assert_status(200);
        world
    }

    pub fn person(&self, actor: Actor) -> Option<&Person> {
        match actor {
            Actor::Owner => Some(&self.owner),
            Actor::Admin => Some(&self.admin),
            Actor::Member => Some(&self.member),
            Actor::Maintainer => Some(&self.maintainer),
            Actor::OtherMember => Some(&self.other_member),
            Actor::OtherOwner => Some(&self.other_owner),
            Actor::PlatformAdmin => Some(&self.root),
            Actor::Deactivated => Some(&self.deactivated),
            Actor::Anonymous => None,
            Actor::Guest => Some(&self.guest),
        }
    }

    pub fn token(&self, actor: Actor) -> Option<&str> {
        self.person(actor).map(|p| p.token.as_str())
    }

    /// A number for unique names and emails.
    pub fn next(&self) -> usize {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh user of `acme` with `role` (its membership there) in `status`, reached
    /// through the API: `created` (no password), `invited` (`meta.invite`), `active`
    /// (created with `TARGET_PASSWORD`), `deactivated`, `blocked` (by the platform admin)
    /// and `deleted` (each from `active`). It is a member of the maintainer's team.
    ///
    /// Role `guest`: an active user of `globex` that joined acme as a member by consent
    /// (acme's owner invites it, and it accepts, signed in to globex).
    pub async fn target(&self, status: &str, role: &str) -> String {
        if role == "guest" {
            assert_eq!(status, "active", "guests are active");
            return self.guest().await;
        }
        let n = self.next();
        let email = format!("target-{n}@acme.test");
        let name = format!("Target {n}");
        let (attributes, meta) = match status {
            "created" => (json!({"name": name, "email": email}), json!({"role": role})),
            "invited" => (
                json!({"name": name, "email": email}),
                json!({"role": role, "invite": true}),
            ),
            _ => (
                json!({"name": name, "email": email, "password": TARGET_PASSWORD}),
                json!({"role": role}),
            ),
        };
        let id = self
            .app
            .create_user(&self.owner.token, attributes, meta)
            .await;
        match status {
            "created" | "invited" | "active" => {}
            "deactivated" => {
                self.act(Some(&self.owner.token), &id, "deactivate")
                    .await
                    .assert_status(200);
            }
            "blocked" => {
                self.act(Some(&self.root.token), &id, "block")
                    .await
                    .assert_status(200);
            }
            "deleted" => {
                self.app
                    .delete(&format!("/users/{id}"), &self.owner.token)
                    .await
                    .assert_status(204);
            }
            other => panic!("no such target status: {other}"),
        }
        self.app.add_to_team(&self.team, &id, "member");
        assert_eq!(self.status_of(&id).await, status, "target {id}");
        id
    }

    async fn guest(&self) -> String {
        let n = self.next();
        let email = format!("guest-{n}@globex.test");
        let id = self
            .app
            .create_user(
                &self.other_owner.token,
                json!({"name": format!("Guest {n}"), "email": email,
                       "password": TARGET_PASSWORD}),
                Value::Null,
            )
            .await;
        let home = self.app.sign_in("globex", &email, TARGET_PASSWORD).await;
        self.app
            .join_as_guest(&self.owner.token, &home, &email, "member")
            .await;
        self.app.add_to_team(&self.team, &id, "member");
        id
    }

    /// A target from the pool (one a refusal left untouched), or a fresh one.
    pub async fn reusable_target(&self, status: &'static str, role: &'static str) -> String {
        let pooled = self
            .pool
            .borrow_mut()
            .get_mut(&(status, role))
            .and_then(Vec::pop);
        match pooled {
            Some(id) => id,
            None => self.target(status, role).await,
        }
    }

    /// Gives back a target that is still as `target` made it.
    pub fn reuse(&self, status: &'static str, role: &'static str, id: String) {
        self.pool
            .borrow_mut()
            .entry((status, role))
            .or_default()
            .push(id);
    }

    /// The user's `status`, as acme's owner sees it (deleted users included).
    pub async fn status_of(&self, id: &str) -> String {
        status_seen_by(&self.app, &self.owner.token, id).await
    }

    /// The `status` of a target with `role`: as acme's owner sees it, except a guest's,
    /// as its home account's owner (globex's) sees it — a deleted guest is no longer
    /// acme's to see, for deleting a user ends its guest memberships.
    pub async fn target_status(&self, id: &str, role: &str) -> String {
        if role == "guest" {
            status_seen_by(&self.app, &self.other_owner.token, id).await
        } else {
            self.status_of(id).await
        }
    }

    /// Any request, with or without a token and a JSON:API body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        call(&self.app, method, path, token, body).await
    }

    /// `POST /users/{id}/actions/{action}` (no body).
    pub async fn act(&self, token: Option<&str>, id: &str, action: &str) -> Resp {
        self.call(
            Method::POST,
            &format!("/users/{id}/actions/{action}"),
            token,
            None,
        )
        .await
    }

    /// Tries a user action the way a client does it: `edit` is a PATCH, `delete` a
    /// DELETE, `change_password` a `POST /users/{id}/password` (with `current` as
    /// `current_password` when given), every other one `POST …/actions/{action}`.
    pub async fn attempt(
        &self,
        token: Option<&str>,
        action: &str,
        id: &str,
        current: Option<&str>,
    ) -> Resp {
        match action {
            "edit" => {
                self.call(
                    Method::PATCH,
                    &format!("/users/{id}"),
                    token,
                    Some(&json!({"data": {"type": "user", "id": id,
                                "attributes": {"timezone": "Europe/Oslo"}}})),
                )
                .await
            }
            "delete" => {
                self.call(Method::DELETE, &format!("/users/{id}"), token, None)
                    .await
            }
            "change_password" => {
                self.call(
                    Method::POST,
                    &format!("/users/{id}/password"),
                    token,
                    Some(&password_document(
                        "a-new-password-123",
                        "a-new-password-123",
                        current,
                    )),
                )
                .await
            }
            _ => self.act(token, id, action).await,
        }
    }
}

/// The user's `status`, as the holder of `token` sees it (it must see it).
async fn status_seen_by(app: &TestApp, token: &str, id: &str) -> String {
    let resp = app.get(&format!("/users/{id}"), token).await;
    resp.assert_status(200);
    resp.body["data"]["attributes"]["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

/// Any request, with or without a token and a JSON:API body.
pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Resp {
    match body {
        Some(body) => {
            app.request(
                method,
                path,
                token,
                &[("content-type", JSONAPI)],
                Some(serde_json::to_vec(body).expect("json")),
            )
            .await
        }
        None => app.request(method, path, token, &[], None).await,
    }
}

/// The request document of `POST /users/{id}/password`.
pub fn password_document(password: &str, confirmation: &str, current: Option<&str>) -> Value {
    let mut attributes = json!({"password": password, "password_confirmation": confirmation});
    if let Some(current) = current {
        attributes["current_password"] = json!(current);
    }
    json!({"data": {"type": "password", "attributes": attributes}})
}

/// The error code the contract gives with each refusal status of this file.
pub fn code_for(status: u16) -> &'static str {
    match status {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "invalid_transition",
        422 => "validation_failed",
        _ => "",
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Where a successful action leaves a target that started in `from`, as `target` makes
/// it (blocked and deleted targets were active before).
fn status_after(action: &str, from: &str) -> &'static str {
    match (action, from) {
        ("invite", _) => "invited",
        ("revoke_invitation", _) => "created",
        ("deactivate", _) => "deactivated",
        ("reactivate", _) | ("unblock", _) | ("restore", _) => "active",
        ("block", _) => "blocked",
        ("delete", _) => "deleted",
        (_, "created") => "created",
        (_, "invited") => "invited",
        (_, "deactivated") => "deactivated",
        (_, "blocked") => "blocked",
        (_, "deleted") => "deleted",
        _ => "active",
    }
}

// ---------------------------------------------------------------------------------
// The status matrix

/// One operation of the matrix. `role` is the target's role in `acme`; `from` its
/// starting status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    ListUsers,
    ListDeletedUsers,
    ShowUser,
    ShowDeletedUser,
    CreateUser,
    Edit {
        role: &'static str,
    },
    Delete {
        role: &'static str,
    },
    Action {
        action: &'static str,
        from: &'static str,
        role: &'static str,
    },
    Password {
        role: &'static str,
    },
    /// On the actor itself (the owner's id for `Anonymous`).
    SelfEdit,
    SelfDelete,
    SelfDeactivate,
    SelfBlock,
    SelfPasswordWithoutCurrent,
    ListAccounts,
    /// `acme`.
    ShowAccount,
    EditAccount,
    ListAuditEvents,
    /// An event of `acme`.
    ShowAuditEvent,
    /// `acme` — last, for it ends the account.
    DeleteAccount,
}

const fn action(action: &'static str, from: &'static str, role: &'static str) -> Op {
    Op::Action { action, from, role }
}

/// The expected status of each operation, per actor, in the order of `ACTORS`:
///
/// owner, admin, member, maintainer, other account's member, other account's owner,
/// platform admin, deactivated, no token, guest (a member of acme by consent: a
/// member's column, for it has a member's powers in acme and no more).
#[rustfmt::skip]
const MATRIX: &[(Op, [u16; 10])] = &[
    //                                                         own  adm  mem  mnt  oMe  oOw  plt  dea  ano  gst
    (Op::ListUsers,                                           [200, 200, 200, 200, 200, 200, 200, 401, 401, 200]),
    (Op::ListDeletedUsers,                                    [200, 200, 403, 403, 403, 200, 200, 401, 401, 403]),
    (Op::ShowUser,                                            [200, 200, 200, 200, 404, 404, 200, 401, 401, 200]),
    (Op::ShowDeletedUser,                                     [200, 200, 404, 404, 404, 404, 200, 401, 401, 404]),
    (Op::CreateUser,                                          [201, 201, 403, 403, 403, 201, 201, 401, 401, 403]),
    (Op::Edit { role: "member" },                             [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (Op::Edit { role: "admin" },                              [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (Op::Edit { role: "owner" },                              [200, 403, 403, 403, 404, 404, 200, 401, 401, 403]),
    // Deleted users: admins see them (to restore them), so a refusal is 409, not 404.
    (action("edit", "deleted", "member"),                     [409, 409, 404, 404, 404, 404, 409, 401, 401, 404]),
    (action("delete", "deleted", "member"),                   [409, 409, 404, 404, 404, 404, 409, 401, 401, 404]),
    (action("change_password", "deleted", "member"),          [409, 409, 404, 404, 404, 404, 409, 401, 401, 404]),
    // A guest (a globex user that joined acme by consent): only its home account and
    // platform admins manage its profile, password and status; acme sees it.
    (action("edit", "active", "guest"),                       [403, 403, 403, 403, 403, 200, 200, 401, 401, 403]),
    (action("change_password", "active", "guest"),            [403, 403, 403, 403, 403, 204, 204, 401, 401, 403]),
    (action("deactivate", "active", "guest"),                 [403, 403, 403, 403, 403, 200, 200, 401, 401, 403]),
    (action("delete", "active", "guest"),                     [403, 403, 403, 403, 403, 204, 204, 401, 401, 403]),
    (Op::Delete { role: "member" },                           [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    (Op::Delete { role: "admin" },                            [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    (Op::Delete { role: "owner" },                            [204, 403, 403, 403, 404, 404, 204, 401, 401, 403]),
    (action("invite", "created", "member"),                   [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("invite", "invited", "member"),                   [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("invite", "created", "owner"),                    [200, 403, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("revoke_invitation", "invited", "member"),        [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("deactivate", "active", "member"),                [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("deactivate", "active", "admin"),                 [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("deactivate", "active", "owner"),                 [200, 403, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("reactivate", "deactivated", "member"),           [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("block", "active", "member"),                     [403, 403, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("block", "active", "owner"),                      [403, 403, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("unblock", "blocked", "member"),                  [403, 403, 403, 403, 404, 404, 200, 401, 401, 403]),
    (action("restore", "deleted", "member"),                  [200, 200, 404, 404, 404, 404, 200, 401, 401, 404]),
    (Op::Password { role: "member" },                         [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    (Op::Password { role: "admin" },                          [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    // "Account admins may set another user's password …, except an owner's": owners too.
    (Op::Password { role: "owner" },                          [403, 403, 403, 403, 404, 404, 204, 401, 401, 403]),
    (Op::SelfEdit,                                            [200, 200, 200, 200, 200, 200, 200, 401, 401, 200]),
    (Op::SelfDelete,                                          [403, 403, 403, 403, 403, 403, 403, 401, 401, 403]),
    (Op::SelfDeactivate,                                      [403, 403, 403, 403, 403, 403, 403, 401, 401, 403]),
    (Op::SelfBlock,                                           [403, 403, 403, 403, 403, 403, 403, 401, 401, 403]),
    (Op::SelfPasswordWithoutCurrent,                          [422, 422, 422, 422, 422, 422, 422, 401, 401, 422]),
    (Op::ListAccounts,                                        [200, 200, 200, 200, 200, 200, 200, 401, 401, 200]),
    (Op::ShowAccount,                                         [200, 200, 200, 200, 404, 404, 200, 401, 401, 200]),
    (Op::EditAccount,                                         [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (Op::ListAuditEvents,                                     [200, 200, 403, 403, 403, 200, 200, 401, 401, 403]),
    (Op::ShowAuditEvent,                                      [200, 200, 403, 403, 403, 404, 200, 401, 401, 403]),
    (Op::DeleteAccount,                                       [204, 403, 403, 403, 404, 404, 204, 401, 401, 403]),
];

/// What one cell did, for the generic checks.
struct Outcome {
    resp: Resp,
    /// `meta.permissions.actions[…]` of the resource, read by the actor just before
    /// (when it could read it).
    permission: Option<bool>,
    /// The target the operation acted on, if any.
    target: Option<Target>,
}

struct Target {
    id: String,
    role: &'static str,
    /// Its status before, which a refusal must leave as it is.
    before: &'static str,
    /// Its status after a success.
    after: &'static str,
}

impl World {
    /// The actor's `meta.permissions.actions[action]` on a user, if it can read it.
    async fn user_permission(&self, token: Option<&str>, id: &str, action: &str) -> Option<bool> {
        let token = token?;
        let shown = self.app.get(&format!("/users/{id}"), token).await;
        (shown.status == 200).then(|| {
            shown.body["data"]["meta"]["permissions"]["actions"][action]
                .as_bool()
                .unwrap_or_else(|| panic!("no permission `{action}`: {}", shown.text))
        })
    }

    async fn account_permission(&self, token: Option<&str>, action: &str) -> Option<bool> {
        let token = token?;
        let shown = self
            .app
            .get(&format!("/accounts/{}", self.acme_id), token)
            .await;
        (shown.status == 200).then(|| {
            shown.body["data"]["meta"]["permissions"]["actions"][action]
                .as_bool()
                .unwrap_or_else(|| panic!("no permission `{action}`: {}", shown.text))
        })
    }

    /// An event of acme's audit log.
    async fn acme_event(&self) -> String {
        let events = self.app.get("/audit_events", &self.owner.token).await;
        events.assert_status(200);
        events.ids().first().expect("acme has events").clone()
    }

    async fn run(&self, actor: Actor, op: Op, failures: &mut Vec<String>) -> Outcome {
        let token = self.token(actor);
        let me = self.person(actor).unwrap_or(&self.owner);
        let plain = |resp| Outcome {
            resp,
            permission: None,
            target: None,
        };
        match op {
            Op::ListUsers => {
                let target = self.reusable_target("created", "member").await;
                let resp = self.call(Method::GET, "/users", token, None).await;
                if resp.status == 200 {
                    let listed = resp.ids().contains(&target);
                    let acme = matches!(
                        actor,
                        Actor::Owner
                            | Actor::Admin
                            | Actor::Member
                            | Actor::Maintainer
                            | Actor::Guest
                    );
                    if listed != acme {
                        failures.push(format!(
                            "{actor:?} GET /users: acme's user listed = {listed}"
                        ));
                    }
                }
                self.reuse("created", "member", target);
                plain(resp)
            }
            Op::ListDeletedUsers => {
                let target = self.reusable_target("deleted", "member").await;
                let resp = self
                    .call(Method::GET, "/users?filter[discarded]=only", token, None)
                    .await;
                if resp.status == 200 {
                    let listed = resp.ids().contains(&target);
                    if listed != matches!(actor, Actor::Owner | Actor::Admin) {
                        failures.push(format!(
                            "{actor:?} GET /users?filter[discarded]=only: acme's deleted user listed = {listed}"
                        ));
                    }
                }
                self.reuse("deleted", "member", target);
                plain(resp)
            }
            Op::ShowUser | Op::ShowDeletedUser => {
                let status = if op == Op::ShowUser {
                    "active"
                } else {
                    "deleted"
                };
                let id = self.reusable_target(status, "member").await;
                let resp = self
                    .call(Method::GET, &format!("/users/{id}"), token, None)
                    .await;
                if resp.status == 200 && resp.body["data"]["id"] != id.as_str() {
                    failures.push(format!("{actor:?} GET /users/{id}: {}", resp.text));
                }
                self.reuse(status, "member", id);
                plain(resp)
            }
            Op::CreateUser => {
                let n = self.next();
                let body = json!({"data": {"type": "user", "attributes": {
                    "name": format!("New {n}"), "email": format!("new-{n}@new.test")}}});
                plain(self.call(Method::POST, "/users", token, Some(&body)).await)
            }
            Op::Edit { role } => self.on_target(token, "edit", "active", role, None).await,
            Op::Delete { role } => self.on_target(token, "delete", "active", role, None).await,
            Op::Action { action, from, role } => {
                self.on_target(token, action, from, role, None).await
            }
            Op::Password { role } => {
                self.on_target(token, "change_password", "active", role, None)
                    .await
            }
            Op::SelfEdit | Op::SelfDelete | Op::SelfDeactivate | Op::SelfBlock => {
                let action = match op {
                    Op::SelfEdit => "edit",
                    Op::SelfDelete => "delete",
                    Op::SelfDeactivate => "deactivate",
                    _ => "block",
                };
                let permission = self.user_permission(token, &me.id, action).await;
                let resp = self.attempt(token, action, &me.id, None).await;
                Outcome {
                    resp,
                    permission,
                    target: None,
                }
            }
            Op::SelfPasswordWithoutCurrent => {
                let resp = self.attempt(token, "change_password", &me.id, None).await;
                if resp.status == 422 {
                    let pointer = &resp.error()["source"]["pointer"];
                    if pointer != "/data/attributes/current_password" {
                        failures.push(format!(
                            "{actor:?} own password without current_password: {}",
                            resp.text
                        ));
                    }
                }
                plain(resp)
            }
            Op::ListAccounts => {
                let resp = self.call(Method::GET, "/accounts", token, None).await;
                if resp.status == 200 {
                    let listed = resp.ids().contains(&self.acme_id);
                    let acme = !matches!(
                        actor,
                        Actor::OtherMember | Actor::OtherOwner | Actor::PlatformAdmin
                    );
                    // A platform admin may see every account; others only their own.
                    if actor != Actor::PlatformAdmin && listed != acme {
                        failures.push(format!("{actor:?} GET /accounts: acme listed = {listed}"));
                    }
                }
                plain(resp)
            }
            Op::ShowAccount => plain(
                self.call(
                    Method::GET,
                    &format!("/accounts/{}", self.acme_id),
                    token,
                    None,
                )
                .await,
            ),
            Op::EditAccount => {
                let permission = self.account_permission(token, "edit").await;
                let name = format!("Acme {}", self.next());
                let body = json!({"data": {"type": "account", "id": self.acme_id,
                                  "attributes": {"name": name}}});
                let resp = self
                    .call(
                        Method::PATCH,
                        &format!("/accounts/{}", self.acme_id),
                        token,
                        Some(&body),
                    )
                    .await;
                if resp.status == 200 && resp.body["data"]["attributes"]["name"] != name.as_str() {
                    failures.push(format!("{actor:?} PATCH /accounts: {}", resp.text));
                }
                Outcome {
                    resp,
                    permission,
                    target: None,
                }
            }
            Op::ListAuditEvents => {
                let event = self.acme_event().await;
                let resp = self.call(Method::GET, "/audit_events", token, None).await;
                if resp.status == 200 {
                    let listed = resp.ids().contains(&event);
                    if listed != matches!(actor, Actor::Owner | Actor::Admin) {
                        failures.push(format!(
                            "{actor:?} GET /audit_events: acme's event listed = {listed}"
                        ));
                    }
                }
                plain(resp)
            }
            Op::ShowAuditEvent => {
                let event = self.acme_event().await;
                plain(
                    self.call(Method::GET, &format!("/audit_events/{event}"), token, None)
                        .await,
                )
            }
            Op::DeleteAccount => {
                let permission = self.account_permission(token, "delete").await;
                let resp = self
                    .call(
                        Method::DELETE,
                        &format!("/accounts/{}", self.acme_id),
                        token,
                        None,
                    )
                    .await;
                // Deleted: acme's sessions end; refused: acme lives on.
                let acme_alive = self.app.get("/me", &self.member.token).await.status;
                let want = if resp.status == 204 { 401 } else { 200 };
                if acme_alive != want {
                    failures.push(format!(
                        "{actor:?} DELETE /accounts/acme → {}: acme's member token then gives {acme_alive}",
                        resp.status
                    ));
                }
                Outcome {
                    resp,
                    permission,
                    target: None,
                }
            }
        }
    }

    /// `action` on a fresh target in `from` with `role`, after reading the actor's
    /// permission for it.
    async fn on_target(
        &self,
        token: Option<&str>,
        action: &'static str,
        from: &'static str,
        role: &'static str,
        current: Option<&str>,
    ) -> Outcome {
        let id = self.reusable_target(from, role).await;
        let permission = self.user_permission(token, &id, action).await;
        let resp = self.attempt(token, action, &id, current).await;
        Outcome {
            resp,
            permission,
            target: Some(Target {
                id,
                role,
                before: from,
                after: status_after(action, from),
            }),
        }
    }
}

/// Runs the actor's column of `MATRIX`; returns the failures.
async fn run_column(actor: Actor) -> Vec<String> {
    let w = World::new().await;
    let mut failures = Vec::new();
    for (op, expected) in MATRIX {
        let want = expected[actor.index()];
        let Outcome {
            resp,
            permission,
            target,
        } = w.run(actor, *op, &mut failures).await;
        let got = resp.status.as_u16();
        let cell = format!("{actor:?} × {op:?}");
        if got != want {
            failures.push(format!("{cell}: want {want}, got {got}: {}", resp.text));
            continue;
        }
        if !is_success(want) && resp.error_code() != code_for(want) {
            failures.push(format!(
                "{cell}: want code {}: {}",
                code_for(want),
                resp.text
            ));
        }
        if let Some(allowed) = permission
            && allowed != is_success(got)
        {
            failures.push(format!(
                "{cell}: meta.permissions.actions says {allowed}, the server answered {got}"
            ));
        }
        if let Some(target) = target {
            let now = w.target_status(&target.id, target.role).await;
            let want_now = if is_success(got) {
                target.after
            } else {
                target.before
            };
            if now != want_now {
                failures.push(format!("{cell}: target is `{now}`, want `{want_now}`"));
            } else if !is_success(got) {
                // Refused and untouched: the next cell may use it.
                w.reuse(target.before, target.role, target.id);
            }
        }
    }
    failures
}

#[track_caller]
fn report(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------
// Permissions agree with enforcement

/// The targets of the agreement check: each status (as a member), an active admin and
/// owner, and a guest from globex.
const PERMISSION_TARGETS: &[(&str, &str)] = &[
    ("created", "member"),
    ("invited", "member"),
    ("active", "member"),
    ("deactivated", "member"),
    ("blocked", "member"),
    ("deleted", "member"),
    ("active", "admin"),
    ("active", "owner"),
    ("active", "guest"),
];

async fn run_permissions(actor: Actor) -> Vec<String> {
    let w = World::new().await;
    let token = w.token(actor);
    let mut failures = Vec::new();
    for &(status, role) in PERMISSION_TARGETS {
        for &action in ACTION_NAMES {
            // A fresh target after every success; after a refusal (checked to have
            // changed nothing) the same one serves the next action.
            let id = w.reusable_target(status, role).await;
            let shown = w
                .call(Method::GET, &format!("/users/{id}"), token, None)
                .await;
            let cell = format!("{actor:?} → {action} on a {status} {role}");
            let resp = if shown.status == 200 {
                failures.extend(check_actions_object(&cell, &shown.body));
                let allowed = shown.body["data"]["meta"]["permissions"]["actions"][action] == true;
                let resp = w.attempt(token, action, &id, None).await;
                failures.extend(check_agreement(&cell, allowed, &resp));
                resp
            } else {
                // Not visible (404) or not signed in (401): the action says the same.
                let resp = w.attempt(token, action, &id, None).await;
                if resp.status != shown.status || resp.error_code() != shown.error_code() {
                    failures.push(format!(
                        "{cell}: GET gave {}, the action {}: {}",
                        shown.status, resp.status, resp.text
                    ));
                }
                resp
            };
            if !resp.status.is_success() {
                let now = w.target_status(&id, role).await;
                if now == status {
                    w.reuse(status, role, id);
                } else {
                    failures.push(format!("{cell}: refused, yet the target became {now}"));
                }
            }
        }
    }
    // The actor itself (change_password last: it ends the actor's sessions).
    if let Some(me) = w.person(actor) {
        for &action in ACTION_NAMES {
            let shown = w
                .call(Method::GET, &format!("/users/{}", me.id), token, None)
                .await;
            let cell = format!("{actor:?} → {action} on itself");
            if shown.status != 200 {
                let resp = w.attempt(token, action, &me.id, Some(&me.password)).await;
                if resp.status != shown.status {
                    failures.push(format!(
                        "{cell}: GET gave {}, the action {}",
                        shown.status, resp.status
                    ));
                }
                continue;
            }
            let allowed = shown.body["data"]["meta"]["permissions"]["actions"][action] == true;
            let resp = w.attempt(token, action, &me.id, Some(&me.password)).await;
            failures.extend(check_agreement(&cell, allowed, &resp));
        }
    }
    failures
}

/// Every user action, in the contract's order; `change_password` last.
const ACTION_NAMES: &[&str] = &[
    "edit",
    "delete",
    "invite",
    "revoke_invitation",
    "deactivate",
    "reactivate",
    "block",
    "unblock",
    "restore",
    "change_password",
];

fn check_actions_object(cell: &str, body: &Value) -> Option<String> {
    let actions = &body["data"]["meta"]["permissions"]["actions"];
    let mut keys: Vec<&str> = actions
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    let mut want: Vec<&str> = ACTION_NAMES.to_vec();
    want.sort_unstable();
    let booleans = actions
        .as_object()
        .is_some_and(|o| o.values().all(Value::is_boolean));
    (keys != want || !booleans).then(|| format!("{cell}: meta.permissions.actions = {actions}"))
}

/// `2xx` exactly when the permission says `true`; a refusal is 403 `forbidden` (the
/// role) or 409 `invalid_transition` (the status), never anything else.
fn check_agreement(cell: &str, allowed: bool, resp: &Resp) -> Option<String> {
    let got = resp.status.as_u16();
    if allowed != is_success(got) {
        return Some(format!(
            "{cell}: meta.permissions.actions says {allowed}, the server answered {got}: {}",
            resp.text
        ));
    }
    if allowed {
        return None;
    }
    match (got, resp.error_code()) {
        (403, "forbidden") | (409, "invalid_transition") => None,
        _ => Some(format!(
            "{cell}: refused with {got} {}, want 403 forbidden or 409 invalid_transition",
            resp.error_code()
        )),
    }
}

/// One test per actor for a matrix (this one and those of `consent` and `types`):
/// `status::<actor>` reports `$status(actor)`'s failures, `permissions::<actor>`
/// `$permissions(actor)`'s — each actor on a server of its own, in parallel.
macro_rules! every_actor {
    ($what:literal, $status:ident, $permissions:ident) => {
        every_actor!(@each $what, $status, $permissions;
            owner => Actor::Owner,
            admin => Actor::Admin,
            member => Actor::Member,
            maintainer => Actor::Maintainer,
            other_accounts_member => Actor::OtherMember,
            other_accounts_owner => Actor::OtherOwner,
            platform_admin => Actor::PlatformAdmin,
            deactivated => Actor::Deactivated,
            anonymous => Actor::Anonymous,
            guest => Actor::Guest,
        );
    };
    (@each $what:literal, $status:ident, $permissions:ident; $($name:ident => $actor:expr),* $(,)?) => {
        /// The status table, one column (one server) per actor.
        mod status {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    report(concat!($what, " statuses, ", stringify!($name)), &$status($actor).await);
                }
            )*
        }
        /// `meta.permissions.actions` ⇔ enforcement, one actor (one server) each.
        mod permissions {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    report(concat!($what, " permissions, ", stringify!($name)), &$permissions($actor).await);
                }
            )*
        }
    };
}

every_actor!("user matrix", run_column, run_permissions);

/// The size of the matrix, checked so that a row cannot silently go missing.
#[test]
fn the_matrix_covers_every_actor_and_operation() {
    assert_eq!(ACTORS.len(), 10);
    assert_eq!(MATRIX.len(), 44);
    for (op, expected) in MATRIX {
        // Nobody without a live token gets anything but 401.
        assert_eq!(expected[Actor::Deactivated.index()], 401, "{op:?}");
        assert_eq!(expected[Actor::Anonymous.index()], 401, "{op:?}");
    }
}

// ---------------------------------------------------------------------------------
// Refusals of a visible deleted user

/// SPEC §2: `not_found` is for what the caller may not see, `invalid_transition` for an
/// action the resource's status does not allow. An admin sees a soft-deleted user
/// (`GET` 200, `meta.permissions.actions.edit/delete: false` — the policy says
/// `invalid_transition`), so PATCH, DELETE and a password change on it are 409
/// `invalid_transition`, never 404.
#[tokio::test]
async fn a_visible_deleted_users_edit_and_delete_are_409_invalid_transition() {
    let w = World::new().await;
    for actor in [Actor::Owner, Actor::Admin, Actor::PlatformAdmin] {
        for action in ["edit", "delete", "change_password"] {
            let id = w.target("deleted", "member").await;
            let token = w.token(actor);
            let shown = w
                .call(Method::GET, &format!("/users/{id}"), token, None)
                .await;
            shown.assert_status(200);
            assert_eq!(
                shown.body["data"]["meta"]["permissions"]["actions"][action],
                false
            );
            let resp = w.attempt(token, action, &id, None).await;
            assert_eq!(
                (resp.status.as_u16(), resp.error_code()),
                (409, "invalid_transition"),
                "{actor:?} {action} on a deleted user: {}",
                resp.text
            );
        }
    }
}

mod consent;
mod types;
