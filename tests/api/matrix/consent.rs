//! The actor matrix for the rules that keep accounts apart (SPEC §4 "Roles",
//! `account_membership`, `account_invitation`, `device`): who may invite, revoke and
//! accept invitations, add users by id, change and remove memberships, leave, and read
//! a guest's devices — for every actor of the user matrix plus a **guest** (a globex user
//! that accepted acme's invitation as a member, signed in to acme). Then, for every
//! actor, that `meta.permissions.actions` of memberships and invitations agrees with what
//! the server does.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ACTORS, Actor, Person, World, call, is_success, report};
use crate::helpers::*;

const GUEST_PASSWORD: &str = "guest-password-1";

/// The user matrix's world (its guest among the actors) and `initech`, a third account
/// whose invitations every actor may accept without changing what it can see in acme.
struct Consent {
    w: World,
    initech: Tenant,
}

impl Consent {
    async fn new() -> Consent {
        let w = World::new().await;
        let initech = w.app.tenant("initech", false).await;
        Consent { w, initech }
    }

    fn person(&self, who: Actor) -> Option<&Person> {
        self.w.person(who)
    }

    fn token(&self, who: Actor) -> Option<&str> {
        self.w.token(who)
    }

    /// A fresh guest of acme (a globex user with a device that accepted acme's
    /// invitation): (user id, its acme membership, its device).
    async fn fresh_guest(&self) -> (String, String, String) {
        let n = self.w.next();
        let email = format!("guest-{n}@globex.test");
        let (id, home) = fresh_globex_user(&self.w, &email).await;
        let device = self
            .w
            .app
            .post(
                "/devices",
                Some(&home),
                &json!({"data": {"type": "device",
                        "attributes": {"device_type": "web", "token": format!("push-{n}")}}}),
            )
            .await;
        device.assert_status(201);
        let membership = self
            .w
            .app
            .join_as_guest(&self.w.owner.token, &home, &email, "member")
            .await;
        (
            id,
            membership,
            device.body["data"]["id"].as_str().expect("id").into(),
        )
    }

    /// An open invitation of acme for a stranger's email.
    async fn acme_invitation(&self) -> (String, String) {
        let n = self.w.next();
        self.w
            .app
            .invite_to_account(
                &self.w.owner.token,
                &format!("stranger-{n}@x.test"),
                "member",
            )
            .await
    }

    /// The acme membership of a fresh acme member.
    async fn home_membership(&self) -> String {
        let id = self.w.target("active", "member").await;
        membership_of(&self.w, &id).await
    }

    async fn permission(&self, token: Option<&str>, path: &str, action: &str) -> Option<bool> {
        let shown = self.w.app.get(path, token?).await;
        (shown.status == 200).then(|| {
            shown.body["data"]["meta"]["permissions"]["actions"][action]
                .as_bool()
                .unwrap_or_else(|| panic!("no permission `{action}`: {}", shown.text))
        })
    }
}

/// A globex user with a password, signed in at home: (id, token).
async fn fresh_globex_user(w: &World, email: &str) -> (String, String) {
    let id = w
        .app
        .create_user(
            &w.other_owner.token,
            json!({"name": email, "email": email, "password": GUEST_PASSWORD}),
            Value::Null,
        )
        .await;
    let token = w.app.sign_in("globex", email, GUEST_PASSWORD).await;
    (id, token)
}

/// The id of a user's membership in acme, as acme's owner sees it.
async fn membership_of(w: &World, user: &str) -> String {
    let resp = w
        .app
        .get(
            &format!("/account_memberships?filter[user]={user}"),
            &w.owner.token,
        )
        .await;
    resp.assert_status(200);
    resp.ids().first().expect("a membership").clone()
}

fn role_patch(id: &str, role: &str) -> Value {
    json!({"data": {"type": "account_membership", "id": id, "attributes": {"role": role}}})
}

fn invitation(email: &str, role: &str) -> Value {
    json!({"data": {"type": "account_invitation", "attributes": {"email": email, "role": role}}})
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    ListInvitations,
    ShowInvitation,
    /// In the caller's own account.
    Invite {
        role: &'static str,
    },
    /// Into acme, named by the `account` relationship.
    InviteIntoAcme,
    RevokeInvitation,
    /// An invitation of initech to the actor's own email.
    AcceptOwnInvitation,
    /// An invitation of acme to someone else's email.
    AcceptAnothersInvitation,
    /// `POST /account_memberships`: a globex user into acme.
    AddOtherAccountsUser,
    /// `POST /account_memberships`: an acme user into acme.
    AddAcmeUser,
    /// A guest's acme membership → `owner`.
    MakeGuestOwner,
    /// A guest's acme membership → `admin`.
    ChangeGuestRole,
    RemoveGuest,
    /// An acme member's home membership.
    RemoveHomeMembership,
    /// `GET /devices/{id}` of a guest's device.
    ShowGuestDevice,
    /// The actor removes its own membership of its session's account: a guest leaves;
    /// anyone else's is its home. Last: it ends the guest's acme session.
    Leave,
}

/// Expected statuses in the order of `ACTORS`: owner, admin, member, maintainer,
/// other account's member, other account's owner, platform admin, deactivated, no
/// token, guest.
#[rustfmt::skip]
const MATRIX: &[(Op, [u16; 10])] = &[
    //                                       own  adm  mem  mnt  oMe  oOw  plt  dea  ano  gst
    (Op::ListInvitations,                   [200, 200, 403, 403, 403, 200, 200, 401, 401, 403]),
    (Op::ShowInvitation,                    [200, 200, 403, 403, 403, 404, 200, 401, 401, 403]),
    (Op::Invite { role: "member" },         [201, 201, 403, 403, 403, 201, 201, 401, 401, 403]),
    (Op::Invite { role: "admin" },          [201, 201, 403, 403, 403, 201, 201, 401, 401, 403]),
    // A guest is never an owner: a value problem, after the permission.
    (Op::Invite { role: "owner" },          [422, 422, 403, 403, 403, 422, 422, 401, 401, 403]),
    // acme is invisible to globex's users: 404 before the permission.
    (Op::InviteIntoAcme,                    [201, 201, 403, 403, 404, 404, 201, 401, 401, 403]),
    (Op::RevokeInvitation,                  [204, 204, 403, 403, 403, 404, 204, 401, 401, 403]),
    (Op::AcceptOwnInvitation,               [201, 201, 201, 201, 201, 201, 201, 401, 401, 201]),
    (Op::AcceptAnothersInvitation,          [404, 404, 404, 404, 404, 404, 404, 401, 401, 404]),
    // Adding by id is for platform admins; an invisible user or account is 404 first.
    (Op::AddOtherAccountsUser,              [404, 404, 404, 404, 404, 404, 201, 401, 401, 404]),
    (Op::AddAcmeUser,                       [403, 403, 403, 403, 404, 404, 409, 401, 401, 403]),
    (Op::MakeGuestOwner,                    [422, 403, 403, 403, 404, 404, 422, 401, 401, 403]),
    (Op::ChangeGuestRole,                   [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (Op::RemoveGuest,                       [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    (Op::RemoveHomeMembership,              [409, 409, 403, 403, 404, 404, 409, 401, 401, 403]),
    // Only the guest's home account (and platform admins) read its push tokens.
    (Op::ShowGuestDevice,                   [404, 404, 404, 404, 404, 200, 200, 401, 401, 404]),
    (Op::Leave,                             [409, 409, 403, 403, 403, 409, 409, 401, 401, 204]),
];

/// The code each refusal status must carry in this table.
fn code_for(op: Op, status: u16) -> &'static str {
    match (status, op) {
        (409, Op::AddAcmeUser) => "taken",
        (409, _) => "conflict",
        (status, _) => super::code_for(status),
    }
}

struct Outcome {
    resp: Resp,
    /// The actor's `meta.permissions.actions[…]` for the action, read just before.
    permission: Option<bool>,
}

impl Consent {
    async fn run(&self, who: Actor, op: Op, failures: &mut Vec<String>) -> Outcome {
        let token = self.token(who);
        let app = &self.w.app;
        let plain = |resp| Outcome {
            resp,
            permission: None,
        };
        match op {
            Op::ListInvitations => {
                let (id, _) = self.acme_invitation().await;
                let resp = call(app, Method::GET, "/account_invitations", token, None).await;
                let acme_admin = matches!(who, Actor::Owner | Actor::Admin);
                if resp.status == 200 && resp.ids().contains(&id) != acme_admin {
                    failures.push(format!("{who:?} GET /account_invitations: {}", resp.text));
                }
                plain(resp)
            }
            Op::ShowInvitation => {
                let (id, _) = self.acme_invitation().await;
                let path = format!("/account_invitations/{id}");
                plain(call(app, Method::GET, &path, token, None).await)
            }
            Op::Invite { role } => {
                let email = format!("invitee-{}@x.test", self.w.next());
                plain(
                    call(
                        app,
                        Method::POST,
                        "/account_invitations",
                        token,
                        Some(&invitation(&email, role)),
                    )
                    .await,
                )
            }
            Op::InviteIntoAcme => {
                let mut doc = invitation(&format!("invitee-{}@x.test", self.w.next()), "member");
                doc["data"]["relationships"] =
                    json!({"account": {"data": {"type": "account", "id": self.w.acme_id}}});
                let resp = call(app, Method::POST, "/account_invitations", token, Some(&doc)).await;
                if resp.status == 201
                    && resp.body["data"]["relationships"]["account"]["data"]["id"]
                        != self.w.acme_id.as_str()
                {
                    failures.push(format!("{who:?} invited into acme: {}", resp.text));
                }
                plain(resp)
            }
            Op::RevokeInvitation => {
                let (id, _) = self.acme_invitation().await;
                let path = format!("/account_invitations/{id}");
                let permission = self.permission(token, &path, "delete").await;
                let resp = call(app, Method::DELETE, &path, token, None).await;
                Outcome { resp, permission }
            }
            Op::AcceptOwnInvitation => {
                let email = self.person(who).map_or("nobody@x.test", |p| &p.email);
                let (_, invitation) = app
                    .invite_to_account(&self.initech.token, email, "member")
                    .await;
                plain(accept(app, token, &invitation).await)
            }
            Op::AcceptAnothersInvitation => {
                let (_, invitation) = self.acme_invitation().await;
                plain(accept(app, token, &invitation).await)
            }
            Op::AddOtherAccountsUser | Op::AddAcmeUser => {
                let user = if op == Op::AddAcmeUser {
                    self.w.target("active", "member").await
                } else {
                    let email = format!("addable-{}@globex.test", self.w.next());
                    fresh_globex_user(&self.w, &email).await.0
                };
                let doc = json!({"data": {"type": "account_membership",
                    "attributes": {"role": "member"},
                    "relationships": {
                        "user": {"data": {"type": "user", "id": user}},
                        "account": {"data": {"type": "account", "id": self.w.acme_id}}}}});
                plain(call(app, Method::POST, "/account_memberships", token, Some(&doc)).await)
            }
            Op::MakeGuestOwner | Op::ChangeGuestRole => {
                let (_, membership, _) = self.fresh_guest().await;
                let path = format!("/account_memberships/{membership}");
                let permission = self.permission(token, &path, "edit").await;
                let role = if op == Op::MakeGuestOwner {
                    "owner"
                } else {
                    "admin"
                };
                let doc = role_patch(&membership, role);
                let resp = call(app, Method::PATCH, &path, token, Some(&doc)).await;
                Outcome {
                    resp,
                    // Promoting a guest to owner is refused for its value (422), whatever
                    // `edit` says.
                    permission: permission.filter(|_| op == Op::ChangeGuestRole),
                }
            }
            Op::RemoveGuest | Op::RemoveHomeMembership => {
                let membership = if op == Op::RemoveGuest {
                    self.fresh_guest().await.1
                } else {
                    self.home_membership().await
                };
                let path = format!("/account_memberships/{membership}");
                let permission = self.permission(token, &path, "delete").await;
                let resp = call(app, Method::DELETE, &path, token, None).await;
                Outcome { resp, permission }
            }
            Op::ShowGuestDevice => {
                let (_, _, device) = self.fresh_guest().await;
                plain(call(app, Method::GET, &format!("/devices/{device}"), token, None).await)
            }
            Op::Leave => {
                let me = self.person(who).unwrap_or(&self.w.owner);
                let membership = match own_membership(app, token, &me.id).await {
                    Some(id) => id,
                    None => membership_of(&self.w, &self.w.owner.id).await,
                };
                let path = format!("/account_memberships/{membership}");
                let permission = self.permission(token, &path, "delete").await;
                let resp = call(app, Method::DELETE, &path, token, None).await;
                Outcome { resp, permission }
            }
        }
    }
}

/// The actor's membership in its session's account, as it sees it (`None` when it
/// cannot read it: no token, or a dead one).
async fn own_membership(app: &TestApp, token: Option<&str>, me: &str) -> Option<String> {
    let resp = app
        .get(&format!("/account_memberships?filter[user]={me}"), token?)
        .await;
    (resp.status == 200)
        .then(|| resp.ids().first().cloned())
        .flatten()
}

async fn accept(app: &TestApp, token: Option<&str>, invitation: &str) -> Resp {
    let doc = json!({"data": {"type": "account_invitation_acceptance",
                      "attributes": {"token": invitation}}});
    call(
        app,
        Method::POST,
        "/account_invitations/accept",
        token,
        Some(&doc),
    )
    .await
}

async fn run_column(who: Actor) -> Vec<String> {
    let index = ACTORS.iter().position(|a| *a == who).expect("an actor");
    let c = Consent::new().await;
    let mut failures = Vec::new();
    for (op, expected) in MATRIX {
        let want = expected[index];
        let Outcome { resp, permission } = c.run(who, *op, &mut failures).await;
        let got = resp.status.as_u16();
        let cell = format!("{who:?} × {op:?}");
        if got != want {
            failures.push(format!("{cell}: want {want}, got {got}: {}", resp.text));
            continue;
        }
        if !is_success(want) && resp.error_code() != code_for(*op, want) {
            failures.push(format!(
                "{cell}: want code {}: {}",
                code_for(*op, want),
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
    }
    failures
}

/// For every membership and invitation the actor can see — a guest's, a home member's,
/// the owner's, its own — each action's permission agrees with what the server does: a
/// `true` is a 2xx, a `false` a 403 `forbidden` or a 409 (`conflict`: a home
/// membership; `last_owner`).
async fn run_permissions(who: Actor) -> Vec<String> {
    let c = Consent::new().await;
    let token = c.token(who);
    let app = &c.w.app;
    let mut failures = Vec::new();
    let me = c.person(who).map(|p| p.id.clone());
    for target in ["guest", "home member", "owner", "itself"] {
        for action in ["edit", "delete"] {
            let membership = match target {
                "guest" => c.fresh_guest().await.1,
                "home member" => c.home_membership().await,
                "owner" => membership_of(&c.w, &c.w.owner.id).await,
                _ => match own_membership(app, token, me.as_deref().unwrap_or("")).await {
                    Some(id) => id,
                    None => continue,
                },
            };
            let path = format!("/account_memberships/{membership}");
            let cell = format!("{who:?} → {action} the {target}'s membership");
            let shown = match token {
                Some(token) => app.get(&path, token).await,
                None => continue,
            };
            if shown.status != 200 {
                continue;
            }
            let role = shown.body["data"]["attributes"]["role"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let allowed = shown.body["data"]["meta"]["permissions"]["actions"][action] == true;
            let resp = if action == "edit" {
                let new_role = if role == "member" { "admin" } else { "member" };
                let doc = role_patch(&membership, new_role);
                call(app, Method::PATCH, &path, token, Some(&doc)).await
            } else {
                call(app, Method::DELETE, &path, token, None).await
            };
            failures.extend(agreement(&cell, allowed, &resp));
            if target == "itself" && resp.status.is_success() {
                // The guest left, or the actor changed its own role: nothing more to ask.
                break;
            }
        }
    }
    let (id, _) = c.acme_invitation().await;
    let path = format!("/account_invitations/{id}");
    if let Some(token) = token {
        let shown = app.get(&path, token).await;
        if shown.status == 200 {
            let allowed = shown.body["data"]["meta"]["permissions"]["actions"]["delete"] == true;
            let resp = app.delete(&path, token).await;
            failures.extend(agreement(
                &format!("{who:?} → delete an invitation"),
                allowed,
                &resp,
            ));
        }
    }
    failures
}

fn agreement(cell: &str, allowed: bool, resp: &Resp) -> Option<String> {
    let got = resp.status.as_u16();
    if allowed != is_success(got) {
        return Some(format!(
            "{cell}: meta.permissions.actions says {allowed}, the server answered {got}: {}",
            resp.text
        ));
    }
    match (allowed, got, resp.error_code()) {
        (true, ..) | (false, 403, "forbidden") | (false, 409, "conflict" | "last_owner") => None,
        _ => Some(format!(
            "{cell}: refused with {got} {}: {}",
            resp.error_code(),
            resp.text
        )),
    }
}

every_actor!("consent matrix", run_column, run_permissions);

#[test]
fn the_consent_matrix_covers_every_actor_and_operation() {
    assert_eq!(ACTORS.len(), 10);
    assert_eq!(MATRIX.len(), 17);
    let column = |actor: Actor| ACTORS.iter().position(|a| *a == actor).expect("an actor");
    for (op, expected) in MATRIX {
        assert_eq!(expected[column(Actor::Deactivated)], 401, "{op:?}");
        assert_eq!(expected[column(Actor::Anonymous)], 401, "{op:?}");
    }
}
