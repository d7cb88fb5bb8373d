//! Fixtures shared by the write-side tests of teams, account memberships, team memberships,
//! relationships and devices (`teams.rs`, `account_memberships.rs`,
//! `team_memberships.rs`, `relationships.rs`, `devices.rs`): the `org()` account they
//! start from, documents to send (`team_doc`, `role_doc`, `team_membership_doc`,
//! `identifiers`, `device_doc`), requests (`create_team`, `send`), readers (`linkage`,
//! `team_memberships`, `set`), assertions (`the_event`, `assert_location`), and the race
//! harness (`RACE_ROUNDS`, `statuses`).

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

pub fn set<S: AsRef<str>>(items: &[S]) -> BTreeSet<String> {
    items.iter().map(|s| s.as_ref().to_owned()).collect()
}

pub fn team_doc(name: &str, description: Option<&str>) -> Value {
    json!({"data": {"type": "team", "attributes": {"name": name, "description": description}}})
}

/// `POST /teams` as sent.
pub async fn try_create_team(app: &TestApp, token: &str, name: &str) -> Resp {
    app.post(
        "/teams",
        Some(token),
        &team_doc(name, Some(&format!("The {name} team"))),
    )
    .await
}

/// Creates a team and returns its id.
pub async fn create_team(app: &TestApp, token: &str, name: &str) -> String {
    let resp = try_create_team(app, token, name).await;
    resp.assert_status(201);
    resp.body["data"]["id"].as_str().expect("id").to_owned()
}

/// A to-many relationship document.
pub fn identifiers<S: AsRef<str>>(type_name: &str, ids: &[S]) -> Value {
    json!({"data": ids
        .iter()
        .map(|id| json!({"type": type_name, "id": id.as_ref()}))
        .collect::<Vec<_>>()})
}

/// A request with a JSON:API body, any method (DELETE with a body included).
pub async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: &Value) -> Resp {
    app.request(
        method,
        path,
        Some(token),
        &[("content-type", JSONAPI)],
        Some(serde_json::to_vec(body).expect("json")),
    )
    .await
}

/// The ids of a relationship endpoint's linkage, checking its shape.
pub async fn linkage(app: &TestApp, path: &str, token: &str) -> BTreeSet<String> {
    let resp = app.get(path, token).await;
    resp.assert_status(200);
    let data = resp.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("linkage of {path} is not an array: {}", resp.text));
    let got: Vec<String> = ids(&resp.body["data"]);
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        got.len(),
        "duplicates in {path}: {}",
        resp.text
    );
    for identifier in data {
        assert_eq!(
            identifier.as_object().map(|o| o.len()),
            Some(2),
            "{identifier}"
        );
    }
    unique
}

/// Exactly one audit event of `action` on `target` by `actor`; returns its `changes`.
#[track_caller]
pub fn the_event(events: &[Value], actor: &str) -> Value {
    assert_eq!(events.len(), 1, "expected one event: {events:?}");
    let event = &events[0];
    assert_eq!(
        event["relationships"]["actor"]["data"]["id"], actor,
        "{event}"
    );
    event["attributes"]["changes"].clone()
}

/// `Location` equals `links.self` of the created resource.
#[track_caller]
pub fn assert_location(resp: &Resp) {
    let self_link = resp.body["data"]["links"]["self"]
        .as_str()
        .unwrap_or_else(|| panic!("no links.self: {}", resp.text));
    assert_eq!(resp.header("location"), Some(self_link), "{}", resp.text);
}

pub fn role_doc(type_name: &str, id: &str, role: &str) -> Value {
    json!({"data": {"type": type_name, "id": id, "attributes": {"role": role}}})
}

pub fn team_membership_doc(user_id: &str, team_id: &str, role: &str) -> Value {
    json!({"data": {"type": "team_membership", "attributes": {"role": role}, "relationships": {
        "user": {"data": {"type": "user", "id": user_id}},
        "team": {"data": {"type": "team", "id": team_id}}
    }}})
}

/// The team memberships (id, role) of `user` in `team`, as the owner sees them.
pub async fn team_memberships(
    app: &TestApp,
    token: &str,
    team: &str,
    user: &str,
) -> Vec<(String, String)> {
    let resp = app
        .get(
            &format!("/team_memberships?filter[team]={team}&filter[user]={user}"),
            token,
        )
        .await;
    resp.assert_status(200);
    resp.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| {
            (
                m["id"].as_str().expect("id").to_owned(),
                m["attributes"]["role"].as_str().expect("role").to_owned(),
            )
        })
        .collect()
}

/// acme with an owner, an admin, two plain members (ada, bob), a member who maintains
/// Platform (max), and a user of another account (gus of globex); teams Platform (max
/// maintainer, bob member) and Design (bob member).
pub struct Org {
    pub owner: Owner,
    pub admin: String,
    pub ada: (String, String),
    pub bob: (String, String),
    pub max: (String, String),
    pub cy: String,
    pub globex: Tenant,
    pub gus: String,
    pub platform: String,
    pub design: String,
}

pub async fn org(app: &TestApp) -> Org {
    let owner = app.owner().await;
    let (_, admin) = app
        .member(
            &owner.token,
            "acme",
            "Adam Admin",
            "adam@acme.test",
            "admin",
        )
        .await;
    let ada = app
        .member(&owner.token, "acme", "Ada", "ada@acme.test", "member")
        .await;
    let bob = app
        .member(&owner.token, "acme", "Bob", "bob@acme.test", "member")
        .await;
    let max = app
        .member(&owner.token, "acme", "Max", "max@acme.test", "member")
        .await;
    let cy = app
        .create_user(
            &owner.token,
            json!({"name": "Cy", "email": "cy@acme.test"}),
            Value::Null,
        )
        .await;
    let globex = app.tenant("globex", false).await;
    let gus = app
        .create_user(
            &globex.token,
            json!({"name": "Gus", "email": "gus@globex.test", "password": "gus-password-1"}),
            Value::Null,
        )
        .await;
    let platform = create_team(app, &owner.token, "Platform").await;
    let design = create_team(app, &owner.token, "Design").await;
    app.add_to_team(&platform, &max.0, "maintainer");
    app.add_to_team(&platform, &bob.0, "member");
    app.add_to_team(&design, &bob.0, "member");
    Org {
        owner,
        admin,
        ada,
        bob,
        max,
        cy,
        globex,
        gus,
        platform,
        design,
    }
}

/// How many times each race test runs its race.
pub const RACE_ROUNDS: usize = 10;

/// Statuses of two concurrent responses, sorted.
pub fn statuses(a: &Resp, b: &Resp) -> [u16; 2] {
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    statuses
}

pub fn device_doc(device_type: &str, sub_type: Option<&str>, token: &str) -> Value {
    json!({"data": {"type": "device", "attributes": {
        "device_type": device_type, "sub_type": sub_type, "token": token
    }}})
}
