//! The actor matrix for the other resource types (SPEC §2, §4 `team`, `team_membership`,
//! `device`, `session`): for every actor of the user matrix, who may list, read, create,
//! edit and delete teams and manage their members (`/teams/{id}/relationships/users`);
//! create, change and remove team memberships — in a team the maintainer actor maintains
//! and in one it does not; register, read, change and delete devices — its own, an acme
//! member's and a guest's; and list, read and end sessions. Every cell acts on fresh
//! targets, reads the actor's `meta.permissions.actions` first where it can, and checks
//! what the server then did. Then, for every actor, that `meta.permissions.actions` of
//! teams, team memberships, devices and its session agrees with what the server does.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ACTORS, Actor, Person, World, call, is_success, report};
use crate::helpers::*;
use crate::org::{device_doc, identifiers, role_doc, team_membership_doc, team_memberships};

/// The password of the users whose sessions are the "other user's session" targets.
const OTHER_PASSWORD: &str = "other-password-1";

/// The user matrix's world, for the other resource types.
struct Types {
    w: World,
}

/// `meta.permissions.actions` keys of each type, by collection path.
fn action_names(collection: &str) -> &'static [&'static str] {
    match collection {
        "teams" => &["delete", "edit", "manage_members"],
        "team_memberships" | "devices" => &["delete", "edit"],
        "sessions" => &["delete"],
        other => panic!("no such collection: {other}"),
    }
}

/// Does the actor's session belong to acme (and so see acme's teams)?
fn in_acme(who: Actor) -> bool {
    matches!(
        who,
        Actor::Owner | Actor::Admin | Actor::Member | Actor::Maintainer | Actor::Guest
    )
}

impl Types {
    async fn new() -> Types {
        Types {
            w: World::new().await,
        }
    }

    /// The actor (acme's owner for `Anonymous`, whose requests carry no token anyway).
    fn me(&self, who: Actor) -> &Person {
        self.w.person(who).unwrap_or(&self.w.owner)
    }

    /// A fresh team of acme; `maintained`: the maintainer actor maintains it.
    fn team(&self, maintained: bool) -> String {
        let team = self
            .w
            .app
            .insert_team(&self.w.acme_id, &format!("Team {}", self.w.next()));
        if maintained {
            self.w
                .app
                .add_to_team(&team, &self.w.maintainer.id, "maintainer");
        }
        team
    }

    /// A fresh user of acme (no password), in no team of its own.
    async fn acme_user(&self) -> String {
        self.w.target("created", "member").await
    }

    /// A fresh acme user's membership of a fresh team: (team, user, membership).
    async fn team_membership(&self, maintained: bool) -> (String, String, String) {
        let team = self.team(maintained);
        let user = self.acme_user().await;
        let membership = self.w.app.add_to_team(&team, &user, "member");
        (team, user, membership)
    }

    /// A fresh device of `user`.
    fn device(&self, user: &str) -> String {
        self.w
            .app
            .insert_device(user, &format!("push-{}", self.w.next()))
    }

    /// A device of a fresh acme member.
    async fn member_device(&self) -> String {
        let user = self.acme_user().await;
        self.device(&user)
    }

    /// A device of a fresh guest of acme (a globex user that accepted acme's invitation).
    async fn guest_device(&self) -> String {
        let guest = self.w.guest().await;
        self.device(&guest)
    }

    /// A fresh acme user signed in to acme: (its session, its token).
    async fn other_session(&self) -> (String, String) {
        let n = self.w.next();
        let email = format!("other-{n}@acme.test");
        self.w
            .app
            .create_user(
                &self.w.owner.token,
                json!({"name": format!("Other {n}"), "email": email, "password": OTHER_PASSWORD}),
                Value::Null,
            )
            .await;
        let signed_in = self.w.app.try_sign_in("acme", &email, OTHER_PASSWORD).await;
        signed_in.assert_status(201);
        let data = &signed_in.body["data"];
        (
            data["id"].as_str().expect("id").to_owned(),
            data["attributes"]["token"]
                .as_str()
                .expect("token")
                .to_owned(),
        )
    }

    /// The actor's `meta.permissions.actions[action]` of the resource at `path`, when it
    /// can read it; a malformed actions object is a failure.
    async fn permission(
        &self,
        token: Option<&str>,
        path: &str,
        action: &str,
        failures: &mut Vec<String>,
    ) -> Option<bool> {
        let shown = self.w.app.get(path, token?).await;
        if shown.status != 200 {
            return None;
        }
        failures.extend(check_actions_object(path, &shown.body));
        Some(
            shown.body["data"]["meta"]["permissions"]["actions"][action]
                .as_bool()
                .unwrap_or_else(|| panic!("no permission `{action}`: {}", shown.text)),
        )
    }

    /// `action` on the resource at `path` (`/teams/{id}`, `/team_memberships/{id}`,
    /// `/devices/{id}`, `/sessions/{id}`), the way a client does it: `edit` a PATCH (a
    /// team's description, a team membership's role → `maintainer`, a device's `enabled`
    /// → false), `delete` a DELETE, `manage_members` a `POST …/relationships/users` of
    /// `subject`.
    async fn attempt(
        &self,
        token: Option<&str>,
        path: &str,
        action: &str,
        subject: Option<&str>,
    ) -> Resp {
        let app = &self.w.app;
        let (collection, id) = split(path);
        match action {
            "edit" => {
                let doc = match collection {
                    "teams" => json!({"data": {"type": "team", "id": id,
                        "attributes": {"description": format!("Edited {}", self.w.next())}}}),
                    "team_memberships" => role_doc("team_membership", id, "maintainer"),
                    "devices" => json!({"data": {"type": "device", "id": id,
                        "attributes": {"enabled": false}}}),
                    other => panic!("no edit of {other}"),
                };
                call(app, Method::PATCH, path, token, Some(&doc)).await
            }
            "delete" => call(app, Method::DELETE, path, token, None).await,
            "manage_members" => {
                let subject = subject.expect("a user to add");
                call(
                    app,
                    Method::POST,
                    &format!("{path}/relationships/users"),
                    token,
                    Some(&identifiers("user", &[subject])),
                )
                .await
            }
            other => panic!("no such action: {other}"),
        }
    }

    /// Is `user` in `team`, as acme's owner sees it? With which role?
    async fn team_role(&self, team: &str, user: &str) -> Option<String> {
        team_memberships(&self.w.app, &self.w.owner.token, team, user)
            .await
            .into_iter()
            .next()
            .map(|(_, role)| role)
    }

    /// The device as a platform admin sees it (every device): `None` once deleted.
    async fn device_enabled(&self, device: &str) -> Option<bool> {
        let resp = self
            .w
            .app
            .get(&format!("/devices/{device}"), &self.w.root.token)
            .await;
        (resp.status == 200).then(|| resp.body["data"]["attributes"]["enabled"] == true)
    }
}

/// `/teams/{id}` → (`teams`, id).
fn split(path: &str) -> (&str, &str) {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let collection = parts.next().expect("a collection");
    (collection, parts.next().unwrap_or(""))
}

fn check_actions_object(path: &str, body: &Value) -> Option<String> {
    let actions = &body["data"]["meta"]["permissions"]["actions"];
    let mut keys: Vec<&str> = actions
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    let booleans = actions
        .as_object()
        .is_some_and(|o| o.values().all(Value::is_boolean));
    (keys != action_names(split(path).0) || !booleans)
        .then(|| format!("GET {path}: meta.permissions.actions = {actions}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Lists a fresh acme team to acme's actors only.
    ListTeams,
    ShowTeam,
    /// In the caller's own account.
    CreateTeam,
    /// A fresh acme team; `maintained`: the maintainer actor maintains it.
    EditTeam {
        maintained: bool,
    },
    DeleteTeam {
        maintained: bool,
    },
    /// `POST /teams/{id}/relationships/users`: a fresh acme user.
    AddTeamUser {
        maintained: bool,
    },
    /// `DELETE /teams/{id}/relationships/users`: a member of the team.
    RemoveTeamUser {
        maintained: bool,
    },
    /// `POST /team_memberships`: a fresh acme user into a fresh acme team.
    CreateTeamMembership {
        maintained: bool,
    },
    /// `PATCH /team_memberships/{id}`: `member` → `maintainer`.
    ChangeTeamMembershipRole {
        maintained: bool,
    },
    RemoveTeamMembership {
        maintained: bool,
    },
    /// `POST /devices` (the caller's own).
    CreateOwnDevice,
    EditOwnDevice,
    DeleteOwnDevice,
    /// A device of a fresh acme member (homed in acme).
    ShowMemberDevice,
    EditMemberDevice,
    DeleteMemberDevice,
    /// A device of a fresh globex user that joined acme as a guest.
    ShowGuestDevice,
    ListSessions,
    ShowCurrentSession,
    /// Another acme user's session, by id.
    ShowOthersSession,
    DeleteOthersSession,
    /// Sign out. Last: it ends the actor's session.
    DeleteCurrentSession,
}

const MAINTAINED: bool = true;
const UNMAINTAINED: bool = false;

/// Expected statuses in the order of `ACTORS`: owner, admin, member, maintainer,
/// other account's member, other account's owner, platform admin, deactivated, no
/// token, guest (a member's powers in acme).
#[rustfmt::skip]
const MATRIX: &[(Op, [u16; 10])] = &[
    //                                                          own  adm  mem  mnt  oMe  oOw  plt  dea  ano  gst
    (Op::ListTeams,                                            [200, 200, 200, 200, 200, 200, 200, 401, 401, 200]),
    // Another account's team does not exist for its users; a platform admin reads any.
    (Op::ShowTeam,                                             [200, 200, 200, 200, 404, 404, 200, 401, 401, 200]),
    // Admins create teams (globex's owner and the platform admin, in their own account).
    (Op::CreateTeam,                                           [201, 201, 403, 403, 403, 201, 201, 401, 401, 403]),
    // Admins, or the team's maintainers, edit a team and manage its members.
    (Op::EditTeam { maintained: MAINTAINED },                  [200, 200, 403, 200, 404, 404, 200, 401, 401, 403]),
    (Op::EditTeam { maintained: UNMAINTAINED },                [200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    // Only admins delete one, even the team's maintainer may not.
    (Op::DeleteTeam { maintained: MAINTAINED },                [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    (Op::DeleteTeam { maintained: UNMAINTAINED },              [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    (Op::AddTeamUser { maintained: MAINTAINED },               [204, 204, 403, 204, 404, 404, 204, 401, 401, 403]),
    (Op::AddTeamUser { maintained: UNMAINTAINED },             [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    (Op::RemoveTeamUser { maintained: MAINTAINED },            [204, 204, 403, 204, 404, 404, 204, 401, 401, 403]),
    (Op::RemoveTeamUser { maintained: UNMAINTAINED },          [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    (Op::CreateTeamMembership { maintained: MAINTAINED },      [201, 201, 403, 201, 404, 404, 201, 401, 401, 403]),
    (Op::CreateTeamMembership { maintained: UNMAINTAINED },    [201, 201, 403, 403, 404, 404, 201, 401, 401, 403]),
    (Op::ChangeTeamMembershipRole { maintained: MAINTAINED },  [200, 200, 403, 200, 404, 404, 200, 401, 401, 403]),
    (Op::ChangeTeamMembershipRole { maintained: UNMAINTAINED },[200, 200, 403, 403, 404, 404, 200, 401, 401, 403]),
    (Op::RemoveTeamMembership { maintained: MAINTAINED },      [204, 204, 403, 204, 404, 404, 204, 401, 401, 403]),
    (Op::RemoveTeamMembership { maintained: UNMAINTAINED },    [204, 204, 403, 403, 404, 404, 204, 401, 401, 403]),
    // A user manages its own devices…
    (Op::CreateOwnDevice,                                      [201, 201, 201, 201, 201, 201, 201, 401, 401, 201]),
    (Op::EditOwnDevice,                                        [200, 200, 200, 200, 200, 200, 200, 401, 401, 200]),
    (Op::DeleteOwnDevice,                                      [204, 204, 204, 204, 204, 204, 204, 401, 401, 204]),
    // …its home account's admins (and platform admins) only read them; to anyone else,
    // the maintainer of the member's team included, they do not exist.
    (Op::ShowMemberDevice,                                     [200, 200, 404, 404, 404, 404, 200, 401, 401, 404]),
    (Op::EditMemberDevice,                                     [403, 403, 404, 404, 404, 404, 403, 401, 401, 404]),
    (Op::DeleteMemberDevice,                                   [403, 403, 404, 404, 404, 404, 403, 401, 401, 404]),
    // A guest's devices stay private to its home account.
    (Op::ShowGuestDevice,                                      [404, 404, 404, 404, 404, 200, 200, 401, 401, 404]),
    // Sessions are the caller's own: another user's does not exist, for anyone.
    (Op::ListSessions,                                         [200, 200, 200, 200, 200, 200, 200, 401, 401, 200]),
    (Op::ShowCurrentSession,                                   [200, 200, 200, 200, 200, 200, 200, 401, 401, 200]),
    (Op::ShowOthersSession,                                    [404, 404, 404, 404, 404, 404, 404, 401, 401, 404]),
    (Op::DeleteOthersSession,                                  [404, 404, 404, 404, 404, 404, 404, 401, 401, 404]),
    (Op::DeleteCurrentSession,                                 [204, 204, 204, 204, 204, 204, 204, 401, 401, 204]),
];

struct Outcome {
    resp: Resp,
    /// The actor's `meta.permissions.actions[…]` for the action, read just before.
    permission: Option<bool>,
}

impl Types {
    async fn run(&self, who: Actor, op: Op, failures: &mut Vec<String>) -> Outcome {
        let w = &self.w;
        let app = &w.app;
        let token = w.token(who);
        let me = self.me(who);
        let cell = format!("{who:?} × {op:?}");
        let plain = |resp| Outcome {
            resp,
            permission: None,
        };
        match op {
            Op::ListTeams => {
                let team = self.team(UNMAINTAINED);
                let resp = call(app, Method::GET, "/teams?page[size]=100", token, None).await;
                if resp.status == 200 && resp.ids().contains(&team) != in_acme(who) {
                    failures.push(format!("{cell}: acme's team listed: {}", resp.text));
                }
                plain(resp)
            }
            Op::ShowTeam => {
                let team = self.team(MAINTAINED);
                let path = format!("/teams/{team}");
                let resp = call(app, Method::GET, &path, token, None).await;
                if resp.status == 200 {
                    if resp.body["data"]["id"] != team.as_str() {
                        failures.push(format!("{cell}: {}", resp.text));
                    }
                    failures.extend(check_actions_object(&path, &resp.body));
                }
                plain(resp)
            }
            Op::CreateTeam => {
                let name = format!("New team {}", w.next());
                let doc = json!({"data": {"type": "team", "attributes": {"name": name}}});
                let resp = call(app, Method::POST, "/teams", token, Some(&doc)).await;
                if resp.status == 201 {
                    let account = &resp.body["data"]["relationships"]["account"]["data"]["id"];
                    let acme = matches!(who, Actor::Owner | Actor::Admin);
                    if (*account == w.acme_id.as_str()) != acme {
                        failures.push(format!("{cell}: created in {account}: {}", resp.text));
                    }
                }
                plain(resp)
            }
            Op::EditTeam { maintained } | Op::DeleteTeam { maintained } => {
                let action = if matches!(op, Op::EditTeam { .. }) {
                    "edit"
                } else {
                    "delete"
                };
                let team = self.team(maintained);
                let path = format!("/teams/{team}");
                let before = app.get(&path, &w.owner.token).await;
                let permission = self.permission(token, &path, action, failures).await;
                let resp = self.attempt(token, &path, action, None).await;
                let after = app.get(&path, &w.owner.token).await;
                let changed = match action {
                    "edit" => {
                        after.status == 200
                            && after.body["data"]["attributes"]["description"]
                                != before.body["data"]["attributes"]["description"]
                    }
                    // Admins still read a deleted team by id (`discarded_at` set).
                    _ => {
                        after.status == 404
                            || !after.body["data"]["attributes"]["discarded_at"].is_null()
                    }
                };
                if changed != resp.status.is_success() {
                    failures.push(format!(
                        "{cell}: answered {}, yet the team is now {}",
                        resp.status, after.text
                    ));
                }
                Outcome { resp, permission }
            }
            Op::AddTeamUser { maintained } | Op::RemoveTeamUser { maintained } => {
                let adding = matches!(op, Op::AddTeamUser { .. });
                let team = self.team(maintained);
                let user = self.acme_user().await;
                if !adding {
                    app.add_to_team(&team, &user, "member");
                }
                let path = format!("/teams/{team}");
                let permission = self
                    .permission(token, &path, "manage_members", failures)
                    .await;
                let method = if adding { Method::POST } else { Method::DELETE };
                let resp = call(
                    app,
                    method,
                    &format!("{path}/relationships/users"),
                    token,
                    Some(&identifiers("user", &[&user])),
                )
                .await;
                let member = self.team_role(&team, &user).await.is_some();
                if member != (adding == resp.status.is_success()) {
                    failures.push(format!(
                        "{cell}: answered {}, yet the user is in the team = {member}",
                        resp.status
                    ));
                }
                Outcome { resp, permission }
            }
            Op::CreateTeamMembership { maintained } => {
                let team = self.team(maintained);
                let user = self.acme_user().await;
                // Creating a membership is managing the team's members.
                let permission = self
                    .permission(token, &format!("/teams/{team}"), "manage_members", failures)
                    .await;
                let doc = team_membership_doc(&user, &team, "member");
                let resp = call(app, Method::POST, "/team_memberships", token, Some(&doc)).await;
                let member = self.team_role(&team, &user).await.is_some();
                if member != resp.status.is_success() {
                    failures.push(format!(
                        "{cell}: answered {}, yet the user is in the team = {member}",
                        resp.status
                    ));
                }
                Outcome { resp, permission }
            }
            Op::ChangeTeamMembershipRole { maintained }
            | Op::RemoveTeamMembership { maintained } => {
                let action = if matches!(op, Op::ChangeTeamMembershipRole { .. }) {
                    "edit"
                } else {
                    "delete"
                };
                let (team, user, membership) = self.team_membership(maintained).await;
                let path = format!("/team_memberships/{membership}");
                let permission = self.permission(token, &path, action, failures).await;
                let resp = self.attempt(token, &path, action, None).await;
                let role = self.team_role(&team, &user).await;
                let want = match (action, resp.status.is_success()) {
                    ("edit", true) => Some("maintainer"),
                    ("delete", true) => None,
                    _ => Some("member"),
                };
                if role.as_deref() != want {
                    failures.push(format!(
                        "{cell}: answered {}, yet the role is now {role:?}",
                        resp.status
                    ));
                }
                Outcome { resp, permission }
            }
            Op::CreateOwnDevice => {
                let doc = device_doc("web", None, &format!("push-{}", w.next()));
                let resp = call(app, Method::POST, "/devices", token, Some(&doc)).await;
                if resp.status == 201
                    && resp.body["data"]["relationships"]["user"]["data"]["id"] != me.id.as_str()
                {
                    failures.push(format!("{cell}: not the caller's: {}", resp.text));
                }
                plain(resp)
            }
            Op::ShowMemberDevice | Op::ShowGuestDevice => {
                let device = if op == Op::ShowMemberDevice {
                    self.member_device().await
                } else {
                    self.guest_device().await
                };
                let resp = call(app, Method::GET, &format!("/devices/{device}"), token, None).await;
                if resp.status == 200 && resp.body["data"]["id"] != device.as_str() {
                    failures.push(format!("{cell}: {}", resp.text));
                }
                plain(resp)
            }
            Op::EditOwnDevice
            | Op::DeleteOwnDevice
            | Op::EditMemberDevice
            | Op::DeleteMemberDevice => {
                let action = if matches!(op, Op::EditOwnDevice | Op::EditMemberDevice) {
                    "edit"
                } else {
                    "delete"
                };
                let device = if matches!(op, Op::EditOwnDevice | Op::DeleteOwnDevice) {
                    self.device(&me.id)
                } else {
                    self.member_device().await
                };
                let path = format!("/devices/{device}");
                let permission = self.permission(token, &path, action, failures).await;
                let resp = self.attempt(token, &path, action, None).await;
                let now = self.device_enabled(&device).await;
                let want = match (action, resp.status.is_success()) {
                    ("edit", true) => Some(false),
                    ("delete", true) => None,
                    _ => Some(true),
                };
                if now != want {
                    failures.push(format!(
                        "{cell}: answered {}, yet the device is now {now:?} (enabled)",
                        resp.status
                    ));
                }
                Outcome { resp, permission }
            }
            Op::ListSessions => {
                let resp = call(app, Method::GET, "/sessions", token, None).await;
                if resp.status == 200 {
                    let sessions = resp.body["data"].as_array().cloned().unwrap_or_default();
                    let own = sessions
                        .iter()
                        .all(|s| s["relationships"]["user"]["data"]["id"] == me.id.as_str());
                    if sessions.is_empty() || !own {
                        failures.push(format!("{cell}: {}", resp.text));
                    }
                }
                plain(resp)
            }
            Op::ShowCurrentSession => {
                let resp = call(app, Method::GET, "/sessions/current", token, None).await;
                if resp.status == 200 {
                    if resp.body["data"]["relationships"]["user"]["data"]["id"] != me.id.as_str() {
                        failures.push(format!("{cell}: {}", resp.text));
                    }
                    failures.extend(check_actions_object("/sessions/current", &resp.body));
                }
                plain(resp)
            }
            Op::ShowOthersSession | Op::DeleteOthersSession => {
                let (session, other) = self.other_session().await;
                let method = if op == Op::ShowOthersSession {
                    Method::GET
                } else {
                    Method::DELETE
                };
                let resp = call(app, method, &format!("/sessions/{session}"), token, None).await;
                // Only a successful DELETE may end it.
                let alive = app.get("/me", &other).await.status == 200;
                let ended = op == Op::DeleteOthersSession && resp.status.is_success();
                if alive == ended {
                    failures.push(format!(
                        "{cell}: answered {}, the other user's session alive = {alive}",
                        resp.status
                    ));
                }
                plain(resp)
            }
            Op::DeleteCurrentSession => {
                let permission = self
                    .permission(token, "/sessions/current", "delete", failures)
                    .await;
                let resp = call(app, Method::DELETE, "/sessions/current", token, None).await;
                if let Some(token) = token {
                    // Signed out, the token is dead; a deactivated actor's already was.
                    let me_now = app.get("/me", token).await.status.as_u16();
                    let want = if resp.status.is_success() || who == Actor::Deactivated {
                        401
                    } else {
                        200
                    };
                    if me_now != want {
                        failures.push(format!(
                            "{cell}: answered {}, then the token gives {me_now}",
                            resp.status
                        ));
                    }
                }
                Outcome { resp, permission }
            }
        }
    }
}

async fn run_column(who: Actor) -> Vec<String> {
    let index = ACTORS.iter().position(|a| *a == who).expect("an actor");
    let t = Types::new().await;
    let mut failures = Vec::new();
    for (op, expected) in MATRIX {
        let want = expected[index];
        let Outcome { resp, permission } = t.run(who, *op, &mut failures).await;
        let got = resp.status.as_u16();
        let cell = format!("{who:?} × {op:?}");
        if got != want {
            failures.push(format!("{cell}: want {want}, got {got}: {}", resp.text));
            continue;
        }
        if !is_success(want) && resp.error_code() != super::code_for(want) {
            failures.push(format!(
                "{cell}: want code {}: {}",
                super::code_for(want),
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

/// For every team, team membership and device the actor may see — an acme team it
/// maintains (if it is the maintainer) and one it does not, a membership in each, its own
/// device, an acme member's and a guest's — and at last its own session, each action's
/// permission agrees with what the server does: `true` is a 2xx, `false` a 403
/// `forbidden`. What it cannot see is refused as the read was (404, 401).
async fn run_permissions(who: Actor) -> Vec<String> {
    let t = Types::new().await;
    let token = t.w.token(who);
    let me = t.me(who).id.clone();
    let mut failures = Vec::new();
    for maintained in [MAINTAINED, UNMAINTAINED] {
        for action in ["edit", "manage_members", "delete"] {
            let team = t.team(maintained);
            let subject = t.acme_user().await;
            let path = format!("/teams/{team}");
            failures.extend(agree(&t, who, token, &path, action, Some(&subject)).await);
        }
        for action in ["edit", "delete"] {
            let (_, _, membership) = t.team_membership(maintained).await;
            let path = format!("/team_memberships/{membership}");
            failures.extend(agree(&t, who, token, &path, action, None).await);
        }
    }
    for whose in ["own", "member's", "guest's"] {
        for action in ["edit", "delete"] {
            let device = match whose {
                "own" => t.device(&me),
                "member's" => t.member_device().await,
                _ => t.guest_device().await,
            };
            let path = format!("/devices/{device}");
            failures.extend(agree(&t, who, token, &path, action, None).await);
        }
    }
    // Last: signing out ends the actor's session.
    failures.extend(agree(&t, who, token, "/sessions/current", "delete", None).await);
    failures
}

/// Reads the resource at `path` as the actor, then tries `action` on it.
async fn agree(
    t: &Types,
    who: Actor,
    token: Option<&str>,
    path: &str,
    action: &str,
    subject: Option<&str>,
) -> Option<String> {
    let cell = format!("{who:?} → {action} {path}");
    let shown = call(&t.w.app, Method::GET, path, token, None).await;
    let resp = t.attempt(token, path, action, subject).await;
    let got = resp.status.as_u16();
    if shown.status != 200 {
        // Not visible (404) or not signed in (401): the action says the same.
        return (resp.status != shown.status || resp.error_code() != shown.error_code()).then(
            || {
                format!(
                    "{cell}: GET gave {}, the action {got}: {}",
                    shown.status, resp.text
                )
            },
        );
    }
    if let Some(problem) = check_actions_object(path, &shown.body) {
        return Some(format!("{cell}: {problem}"));
    }
    let allowed = shown.body["data"]["meta"]["permissions"]["actions"][action] == true;
    if allowed != is_success(got) {
        return Some(format!(
            "{cell}: meta.permissions.actions says {allowed}, the server answered {got}: {}",
            resp.text
        ));
    }
    (!allowed && (got, resp.error_code()) != (403, "forbidden")).then(|| {
        format!(
            "{cell}: refused with {got} {}, want 403 forbidden: {}",
            resp.error_code(),
            resp.text
        )
    })
}

every_actor!("types matrix", run_column, run_permissions);

#[test]
fn the_types_matrix_covers_every_actor_and_operation() {
    assert_eq!(ACTORS.len(), 10);
    assert_eq!(MATRIX.len(), 29);
    let column = |actor: Actor| ACTORS.iter().position(|a| *a == actor).expect("an actor");
    for (op, expected) in MATRIX {
        assert_eq!(expected[column(Actor::Deactivated)], 401, "{op:?}");
        assert_eq!(expected[column(Actor::Anonymous)], 401, "{op:?}");
    }
    // Signing out ends the actor's session: nothing may come after it.
    assert_eq!(
        MATRIX.last().map(|(op, _)| *op),
        Some(Op::DeleteCurrentSession)
    );
}
