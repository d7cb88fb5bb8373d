//! SPEC §4 team, account_membership, team_membership and device — the write side: who may
//! create, change and remove them, the uniqueness and last-owner rules (under concurrent
//! requests too), the to-many relationship endpoints of JSON:API "Updating Relationships",
//! and what every write leaves in the audit log.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

// ---------------------------------------------------------------------------------
// Helpers of this file

fn set<S: AsRef<str>>(items: &[S]) -> BTreeSet<String> {
    items.iter().map(|s| s.as_ref().to_owned()).collect()
}

fn team_doc(name: &str, description: Option<&str>) -> Value {
    json!({"data": {"type": "team", "attributes": {"name": name, "description": description}}})
}

/// `POST /teams` as sent.
async fn try_create_team(app: &TestApp, token: &str, name: &str) -> Resp {
    app.post(
        "/teams",
        Some(token),
        &team_doc(name, Some(&format!("The {name} team"))),
    )
    .await
}

/// Creates a team and returns its id.
async fn create_team(app: &TestApp, token: &str, name: &str) -> String {
    let resp = try_create_team(app, token, name).await;
    resp.assert_status(201);
    resp.body["data"]["id"].as_str().expect("id").to_owned()
}

/// A to-many relationship document.
fn identifiers<S: AsRef<str>>(type_name: &str, ids: &[S]) -> Value {
    json!({"data": ids
        .iter()
        .map(|id| json!({"type": type_name, "id": id.as_ref()}))
        .collect::<Vec<_>>()})
}

/// A request with a JSON:API body, any method (DELETE with a body included).
async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: &Value) -> Resp {
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
async fn linkage(app: &TestApp, path: &str, token: &str) -> BTreeSet<String> {
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
fn the_event(events: &[Value], actor: &str) -> Value {
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
fn assert_location(resp: &Resp) {
    let self_link = resp.body["data"]["links"]["self"]
        .as_str()
        .unwrap_or_else(|| panic!("no links.self: {}", resp.text));
    assert_eq!(resp.header("location"), Some(self_link), "{}", resp.text);
}

/// The caller's account's membership of `user_id`.
async fn membership_of(app: &TestApp, token: &str, user_id: &str) -> Value {
    let resp = app
        .get(
            &format!("/account_memberships?filter[user]={user_id}"),
            token,
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.ids().len(), 1, "{}", resp.text);
    resp.body["data"][0].clone()
}

async fn membership_id(app: &TestApp, token: &str, user_id: &str) -> String {
    membership_of(app, token, user_id).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn role_doc(type_name: &str, id: &str, role: &str) -> Value {
    json!({"data": {"type": type_name, "id": id, "attributes": {"role": role}}})
}

fn account_membership_doc(user_id: &str, role: Option<&str>) -> Value {
    let mut doc = json!({"data": {"type": "account_membership", "relationships": {
        "user": {"data": {"type": "user", "id": user_id}}
    }}});
    if let Some(role) = role {
        doc["data"]["attributes"] = json!({ "role": role });
    }
    doc
}

fn team_membership_doc(user_id: &str, team_id: &str, role: &str) -> Value {
    json!({"data": {"type": "team_membership", "attributes": {"role": role}, "relationships": {
        "user": {"data": {"type": "user", "id": user_id}},
        "team": {"data": {"type": "team", "id": team_id}}
    }}})
}

/// The team memberships (id, role) of `user` in `team`, as the owner sees them.
async fn team_memberships(
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

/// The number of owners the account of `token` has.
async fn owner_count(app: &TestApp, token: &str) -> usize {
    let resp = app
        .get("/account_memberships?filter[role]=owner", token)
        .await;
    resp.assert_status(200);
    resp.ids().len()
}

/// acme with an owner, an admin, two plain members (ada, bob), a member who maintains
/// Platform (max), and a user of another account (gus of globex); teams Platform (max
/// maintainer, bob member) and Design (bob member).
struct Org {
    owner: Owner,
    admin: String,
    ada: (String, String),
    bob: (String, String),
    max: (String, String),
    cy: String,
    globex: Tenant,
    gus: String,
    platform: String,
    design: String,
}

async fn org(app: &TestApp) -> Org {
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

// ---------------------------------------------------------------------------------
// 1. Teams

#[tokio::test]
async fn teams_are_created_updated_and_deleted_with_audit_events() {
    let app = spawn_app().await;
    let owner = app.owner().await;

    let created = app
        .post(
            "/teams",
            Some(&owner.token),
            &team_doc("Platform", Some("Runs the platform")),
        )
        .await;
    created.assert_status(201);
    assert_location(&created);
    let data = &created.body["data"];
    let id = data["id"].as_str().unwrap().to_owned();
    assert_eq!(data["type"], "team");
    assert_eq!(
        data["links"]["self"],
        format!("{}/teams/{id}", app.api_base())
    );
    assert_eq!(data["attributes"]["name"], "Platform");
    assert_eq!(data["attributes"]["description"], "Runs the platform");
    assert_eq!(data["attributes"]["discarded_at"], Value::Null);
    time(&data["attributes"]["created_at"]);
    assert_eq!(
        data["relationships"]["account"]["data"],
        json!({"type": "account", "id": owner.account_id})
    );
    assert_eq!(
        data["meta"]["permissions"]["actions"],
        json!({"edit": true, "delete": true, "manage_members": true})
    );
    let changes = the_event(
        &audit_events(&app, &owner.token, "team.created", &id).await,
        &owner.user_id,
    );
    assert_eq!(changes["name"], json!([null, "Platform"]));
    assert_eq!(changes["description"], json!([null, "Runs the platform"]));
    // The same as what a GET shows.
    let shown = app.get(&format!("/teams/{id}"), &owner.token).await;
    shown.assert_status(200);
    assert_eq!(shown.body["data"]["attributes"], data["attributes"]);

    // A client-chosen id; an id that exists is a conflict.
    let chosen = uuid::Uuid::new_v4().to_string();
    let resp = app
        .post(
            "/teams",
            Some(&owner.token),
            &json!({"data": {"type": "team", "id": chosen, "attributes": {"name": "Chosen"}}}),
        )
        .await;
    resp.assert_status(201);
    assert_eq!(resp.body["data"]["id"], chosen);
    assert_eq!(resp.body["data"]["attributes"]["description"], Value::Null);
    app.post(
        "/teams",
        Some(&owner.token),
        &json!({"data": {"type": "team", "id": chosen, "attributes": {"name": "Other"}}}),
    )
    .await
    .assert_error(409, "conflict");

    // Validation: a name is required.
    let resp = app
        .post(
            "/teams",
            Some(&owner.token),
            &json!({"data": {"type": "team", "attributes": {"description": "x"}}}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/name");

    // Update.
    app.clock.advance(5);
    let updated = app
        .patch(
            &format!("/teams/{id}"),
            &owner.token,
            &json!({"data": {"type": "team", "id": id, "attributes": {
                "name": "Core Platform", "description": null
            }}}),
        )
        .await;
    updated.assert_status(200);
    let attributes = &updated.body["data"]["attributes"];
    assert_eq!(attributes["name"], "Core Platform");
    assert_eq!(attributes["description"], Value::Null);
    assert!(time(&attributes["updated_at"]) > time(&attributes["created_at"]));
    let changes = the_event(
        &audit_events(&app, &owner.token, "team.updated", &id).await,
        &owner.user_id,
    );
    assert_eq!(changes["name"], json!(["Platform", "Core Platform"]));
    assert_eq!(changes["description"], json!(["Runs the platform", null]));

    // Delete: 204 without a body, gone from the list, kept for admins by id.
    let deleted = app.delete(&format!("/teams/{id}"), &owner.token).await;
    deleted.assert_status(204);
    assert!(deleted.text.is_empty(), "{}", deleted.text);
    the_event(
        &audit_events(&app, &owner.token, "team.deleted", &id).await,
        &owner.user_id,
    );
    let list = app.get("/teams", &owner.token).await;
    assert!(!list.ids().contains(&id), "{}", list.text);
    let kept = app.get(&format!("/teams/{id}"), &owner.token).await;
    kept.assert_status(200);
    time(&kept.body["data"]["attributes"]["discarded_at"]);
    // A deleted team can be neither changed nor deleted again.
    app.delete(&format!("/teams/{id}"), &owner.token)
        .await
        .assert_error(404, "not_found");
    app.patch(
        &format!("/teams/{id}"),
        &owner.token,
        &json!({"data": {"type": "team", "id": id, "attributes": {"name": "Zombie"}}}),
    )
    .await
    .assert_error(404, "not_found");
    let (_, member) = app
        .member(&owner.token, "acme", "Mia", "mia@acme.test", "member")
        .await;
    app.get(&format!("/teams/{id}"), &member)
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn team_names_are_unique_per_account_case_insensitively() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let globex = app.tenant("globex", false).await;
    let platform = create_team(&app, &owner.token, "Platform").await;
    let design = create_team(&app, &owner.token, "Design").await;

    for name in ["Platform", "platform", "PLATFORM"] {
        let resp = try_create_team(&app, &owner.token, name).await;
        resp.assert_error(409, "taken");
        assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/name");
    }
    let resp = app
        .patch(
            &format!("/teams/{design}"),
            &owner.token,
            &json!({"data": {"type": "team", "id": design, "attributes": {"name": "pLaTfOrM"}}}),
        )
        .await;
    resp.assert_error(409, "taken");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/name");
    // Its own name, in another case, is not taken by itself.
    app.patch(
        &format!("/teams/{platform}"),
        &owner.token,
        &json!({"data": {"type": "team", "id": platform, "attributes": {"name": "PLATFORM"}}}),
    )
    .await
    .assert_status(200);

    // Another account may use it.
    create_team(&app, &globex.token, "Platform").await;

    // A deleted team's name is free again.
    app.delete(&format!("/teams/{platform}"), &owner.token)
        .await
        .assert_status(204);
    let again = create_team(&app, &owner.token, "platform").await;
    assert_ne!(again, platform);
    let names: Vec<Value> = app.get("/teams?sort=name", &owner.token).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["attributes"]["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Design"), json!("platform")]);
}

/// "case-insensitive" is not only ASCII: `Équipe` and `équipe` are the same name.
#[tokio::test]
async fn team_name_uniqueness_folds_non_ascii_letters() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    create_team(&app, &owner.token, "Équipe Öst").await;
    let resp = try_create_team(&app, &owner.token, "équipe öst").await;
    resp.assert_error(409, "taken");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/name");
}

#[tokio::test]
async fn maintainers_manage_their_team_plain_members_may_not_other_accounts_see_nothing() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let (max, bob) = (&o.max.1, &o.bob.1);
    let edit = |id: &str, name: &str| json!({"data": {"type": "team", "id": id, "attributes": {"name": name}}});

    // The maintainer edits its team and manages its members.
    let resp = app
        .patch(
            &format!("/teams/{}", o.platform),
            max,
            &edit(&o.platform, "Platform 2"),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["data"]["attributes"]["name"], "Platform 2");
    the_event(
        &audit_events(&app, &o.owner.token, "team.updated", &o.platform).await,
        &o.max.0,
    );
    send(
        &app,
        Method::POST,
        &format!("/teams/{}/relationships/users", o.platform),
        max,
        &identifiers("user", &[&o.ada.0]),
    )
    .await
    .assert_status(204);
    let created = app
        .post(
            "/team_memberships",
            Some(max),
            &team_membership_doc(&o.cy, &o.platform, "member"),
        )
        .await;
    created.assert_status(201);
    assert_eq!(
        linkage(
            &app,
            &format!("/teams/{}/relationships/users", o.platform),
            max
        )
        .await,
        set(&[&o.max.0, &o.bob.0, &o.ada.0, &o.cy])
    );
    // …but may not delete it, nor touch another team, nor create teams.
    app.delete(&format!("/teams/{}", o.platform), max)
        .await
        .assert_error(403, "forbidden");
    app.patch(
        &format!("/teams/{}", o.design),
        max,
        &edit(&o.design, "Mine now"),
    )
    .await
    .assert_error(403, "forbidden");
    send(
        &app,
        Method::POST,
        &format!("/teams/{}/relationships/users", o.design),
        max,
        &identifiers("user", &[&o.ada.0]),
    )
    .await
    .assert_error(403, "forbidden");
    try_create_team(&app, max, "Max's")
        .await
        .assert_error(403, "forbidden");

    // A plain member of the team may do none of it.
    app.patch(
        &format!("/teams/{}", o.platform),
        bob,
        &edit(&o.platform, "Bob's"),
    )
    .await
    .assert_error(403, "forbidden");
    app.delete(&format!("/teams/{}", o.platform), bob)
        .await
        .assert_error(403, "forbidden");
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        send(
            &app,
            method.clone(),
            &format!("/teams/{}/relationships/users", o.platform),
            bob,
            &identifiers("user", &[&o.bob.0]),
        )
        .await
        .assert_error(403, "forbidden");
    }
    app.post(
        "/team_memberships",
        Some(bob),
        &team_membership_doc(&o.bob.0, &o.design, "maintainer"),
    )
    .await
    .assert_error(403, "forbidden");
    try_create_team(&app, bob, "Bob's")
        .await
        .assert_error(403, "forbidden");

    // Another account's owner: the team does not exist.
    let g = &o.globex.token;
    app.get(&format!("/teams/{}", o.platform), g)
        .await
        .assert_error(404, "not_found");
    app.patch(
        &format!("/teams/{}", o.platform),
        g,
        &edit(&o.platform, "Globex"),
    )
    .await
    .assert_error(404, "not_found");
    app.delete(&format!("/teams/{}", o.platform), g)
        .await
        .assert_error(404, "not_found");
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        send(
            &app,
            method.clone(),
            &format!("/teams/{}/relationships/users", o.platform),
            g,
            &identifiers("user", &[&o.gus]),
        )
        .await
        .assert_error(404, "not_found");
    }
    app.get(&format!("/teams/{}/relationships/users", o.platform), g)
        .await
        .assert_error(404, "not_found");
    // Nothing changed.
    let platform = app
        .get(&format!("/teams/{}", o.platform), &o.owner.token)
        .await;
    assert_eq!(platform.body["data"]["attributes"]["name"], "Platform 2");
    assert_eq!(
        linkage(
            &app,
            &format!("/teams/{}/relationships/users", o.platform),
            &o.owner.token
        )
        .await,
        set(&[&o.max.0, &o.bob.0, &o.ada.0, &o.cy])
    );
}

#[tokio::test]
async fn teams_filter_and_sort() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    // Created in the order Platform, Design (by `org`), then these.
    app.clock.advance(10);
    let charlie = create_team(&app, token, "Charlie").await;
    app.clock.advance(10);
    let alpha = create_team(&app, token, "Alpha").await;
    app.add_to_team(&alpha, &o.ada.0, "member");

    let by = |query: String| {
        let app = &app;
        async move {
            let resp = app.get(&format!("/teams?{query}"), token).await;
            resp.assert_status(200);
            resp.ids()
        }
    };
    assert_eq!(
        by("sort=name".into()).await,
        vec![
            alpha.clone(),
            charlie.clone(),
            o.design.clone(),
            o.platform.clone()
        ]
    );
    assert_eq!(
        by("sort=-name".into()).await,
        vec![
            o.platform.clone(),
            o.design.clone(),
            charlie.clone(),
            alpha.clone()
        ]
    );
    let oldest_first = by("sort=created_at".into()).await;
    assert_eq!(&oldest_first[2..], &[charlie.clone(), alpha.clone()]);
    assert_eq!(
        set(&oldest_first[..2]),
        set(&[&o.platform, &o.design]),
        "the two teams of `org`"
    );
    let newest_first = by("sort=-created_at".into()).await;
    assert_eq!(&newest_first[..2], &[alpha.clone(), charlie.clone()]);

    assert_eq!(
        by("filter[name]=ha&sort=name".into()).await,
        vec![alpha.clone(), charlie.clone()]
    );
    assert_eq!(by("filter[name]=sign".into()).await, vec![o.design.clone()]);
    assert_eq!(
        set(&by(format!("filter[user]={}", o.bob.0)).await),
        set(&[&o.platform, &o.design])
    );
    assert_eq!(
        by(format!("filter[user]={}", o.ada.0)).await,
        vec![alpha.clone()]
    );
    assert_eq!(
        by(format!("filter[user]={},{}&sort=name", o.ada.0, o.max.0)).await,
        vec![alpha.clone(), o.platform.clone()]
    );

    app.delete(&format!("/teams/{charlie}"), token)
        .await
        .assert_status(204);
    assert_eq!(
        by("filter[discarded]=only".into()).await,
        vec![charlie.clone()]
    );
    assert_eq!(by("filter[discarded]=all&sort=name".into()).await.len(), 4);
    assert_eq!(by("sort=name".into()).await.len(), 3);
    // Only admins list deleted teams.
    app.get("/teams?filter[discarded]=only", &o.ada.1)
        .await
        .assert_error(403, "forbidden");

    let resp = app.get("/teams?sort=description", token).await;
    resp.assert_error(400, "invalid_parameter");
    assert_eq!(resp.error()["source"]["parameter"], "sort");
    app.get("/teams?filter[nope]=x", token)
        .await
        .assert_error(400, "invalid_parameter");
}

#[tokio::test]
async fn a_deleted_team_is_gone_from_lists_includes_and_linkage() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    let bob = &o.bob.0;

    app.delete(&format!("/teams/{}", o.design), token)
        .await
        .assert_status(204);

    for caller in [token, &o.bob.1] {
        let teams = app.get("/teams", caller).await;
        assert_eq!(teams.ids(), vec![o.platform.clone()]);
        let users = app.get("/users?include=teams&page[size]=100", caller).await;
        users.assert_status(200);
        let included: Vec<String> = included_of(&users.body, "team").into_keys().collect();
        assert_eq!(included, vec![o.platform.clone()], "{}", users.text);
        for user in users.body["data"].as_array().unwrap() {
            let linked = ids(&user["relationships"]["teams"]["data"]);
            assert!(!linked.contains(&o.design), "{user}");
        }
        let one = app
            .get(
                &format!("/users/{bob}?include=teams,team_memberships"),
                caller,
            )
            .await;
        assert_eq!(
            ids(&one.body["data"]["relationships"]["teams"]["data"]),
            vec![o.platform.clone()]
        );
        assert_eq!(included_of(&one.body, "team_membership").len(), 1);
        assert_eq!(
            linkage(&app, &format!("/users/{bob}/relationships/teams"), caller).await,
            set(&[&o.platform])
        );
        let related = app.get(&format!("/users/{bob}/teams"), caller).await;
        assert_eq!(related.ids(), vec![o.platform.clone()]);
        let filtered = app.get(&format!("/teams?filter[user]={bob}"), caller).await;
        assert_eq!(filtered.ids(), vec![o.platform.clone()]);
        let memberships = app
            .get(&format!("/team_memberships?filter[user]={bob}"), caller)
            .await;
        assert_eq!(memberships.ids().len(), 1, "{}", memberships.text);
        let account = app
            .get(
                &format!("/accounts/{}?include=teams", o.owner.account_id),
                caller,
            )
            .await;
        let linked = ids(&account.body["data"]["relationships"]["teams"]["data"]);
        assert_eq!(linked, vec![o.platform.clone()], "{}", account.text);
    }
    // For a member, the deleted team no longer exists at all.
    for path in [
        format!("/teams/{}", o.design),
        format!("/teams/{}/users", o.design),
        format!("/teams/{}/relationships/users", o.design),
    ] {
        app.get(&path, &o.bob.1)
            .await
            .assert_error(404, "not_found");
    }
}

/// `meta.permissions.actions` of a team, for the owner, an admin, a maintainer and a plain
/// member, is exactly what the server then accepts from each.
#[tokio::test]
async fn team_permissions_agree_with_what_the_server_allows() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let callers: [(&str, &str, [bool; 3]); 4] = [
        ("owner", &o.owner.token, [true, true, true]),
        ("admin", &o.admin, [true, true, true]),
        ("maintainer", &o.max.1, [true, false, true]),
        ("member", &o.bob.1, [false, false, false]),
    ];
    for (who, token, [edit, delete, manage]) in callers {
        let team = create_team(&app, &o.owner.token, &format!("Team of the {who}")).await;
        app.add_to_team(&team, &o.max.0, "maintainer");
        app.add_to_team(&team, &o.bob.0, "member");
        let shown = app.get(&format!("/teams/{team}"), token).await;
        shown.assert_status(200);
        let actions = &shown.body["data"]["meta"]["permissions"]["actions"];
        assert_eq!(
            *actions,
            json!({"edit": edit, "delete": delete, "manage_members": manage}),
            "{who}"
        );
        // The same in a list.
        let listed = app.get("/teams?page[size]=100", token).await;
        let in_list = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == team.as_str())
            .unwrap()["meta"]["permissions"]["actions"]
            .clone();
        assert_eq!(in_list, *actions, "{who}");

        let resp = app
            .patch(
                &format!("/teams/{team}"),
                token,
                &json!({"data": {"type": "team", "id": team, "attributes": {"description": who}}}),
            )
            .await;
        assert_eq!(
            resp.status.as_u16(),
            if edit { 200 } else { 403 },
            "{who} edit: {}",
            resp.text
        );
        let resp = send(
            &app,
            Method::POST,
            &format!("/teams/{team}/relationships/users"),
            token,
            &identifiers("user", &[&o.ada.0]),
        )
        .await;
        assert_eq!(
            resp.status.as_u16(),
            if manage { 204 } else { 403 },
            "{who} manage: {}",
            resp.text
        );
        let resp = app.delete(&format!("/teams/{team}"), token).await;
        assert_eq!(
            resp.status.as_u16(),
            if delete { 204 } else { 403 },
            "{who} delete: {}",
            resp.text
        );
    }
}

// ---------------------------------------------------------------------------------
// 2. Account memberships

#[tokio::test]
async fn a_guest_is_added_changed_and_removed() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    let gus = &o.gus;

    // acme's owner cannot add globex's user by id: it cannot see it (404 at the linkage,
    // before the 403 that `POST /account_memberships` is for platform admins only).
    let resp = app
        .post(
            "/account_memberships",
            Some(token),
            &account_membership_doc(gus, None),
        )
        .await;
    resp.assert_error(404, "not_found");
    assert_eq!(
        resp.error()["source"]["pointer"],
        "/data/relationships/user"
    );
    // Gus joins by consent: acme invites him, and he accepts signed in to his home.
    let home = app
        .sign_in("globex", "gus@globex.test", "gus-password-1")
        .await;
    let (_, invitation) = app
        .invite_to_account(token, "gus@globex.test", "member")
        .await;
    let created = app.try_accept_account_invitation(&home, &invitation).await;
    created.assert_status(201);
    assert_location(&created);
    let data = &created.body["data"];
    let id = data["id"].as_str().unwrap().to_owned();
    assert_eq!(data["type"], "account_membership");
    assert_eq!(data["attributes"]["role"], "member");
    assert_eq!(
        data["relationships"]["user"]["data"],
        json!({"type": "user", "id": gus})
    );
    assert_eq!(
        data["relationships"]["account"]["data"],
        json!({"type": "account", "id": o.owner.account_id})
    );
    // The event is in acme's log; the guest, who accepted, is its actor.
    let changes = the_event(
        &audit_events(&app, token, "account_membership.created", &id).await,
        gus,
    );
    assert_eq!(changes["role"], json!([null, "member"]));

    // The guest is a user of acme now, and signs in to it with its home credentials.
    let users = app.get("/users?page[size]=100", token).await;
    assert!(users.ids().contains(gus), "{}", users.text);
    let session = app
        .try_sign_in("acme", "gus@globex.test", "gus-password-1")
        .await;
    session.assert_status(201);
    assert_eq!(
        session.body["data"]["relationships"]["account"]["data"]["id"],
        o.owner.account_id
    );
    let guest = session.body["data"]["attributes"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let accounts = app.get("/accounts", &guest).await;
    assert!(
        accounts.ids().contains(&o.owner.account_id),
        "{}",
        accounts.text
    );
    let me = app.get("/me", &guest).await;
    assert_eq!(me.body["data"]["id"], gus.as_str());
    let seen = app.get("/users?page[size]=100", &guest).await;
    assert!(seen.ids().contains(&o.owner.user_id));
    // A member: no audit log.
    app.get("/audit_events", &guest)
        .await
        .assert_error(403, "forbidden");
    // It may join acme's teams.
    app.post(
        "/team_memberships",
        Some(token),
        &team_membership_doc(gus, &o.platform, "member"),
    )
    .await
    .assert_status(201);

    // Now that acme sees gus, adding him by id is still not the owner's to do (403);
    // nor is adding a user whose home is acme.
    for user in [gus, &o.ada.0] {
        app.post(
            "/account_memberships",
            Some(token),
            &account_membership_doc(user, Some("admin")),
        )
        .await
        .assert_error(403, "forbidden");
    }
    // One membership per (user, account): a platform admin, who may add by id, is told
    // `taken` for the guest and for a user whose home is acme.
    let root = app.tenant("root", true).await;
    for user in [gus, &o.ada.0] {
        let mut doc = account_membership_doc(user, Some("admin"));
        doc["data"]["relationships"]["account"] =
            json!({"data": {"type": "account", "id": o.owner.account_id}});
        let resp = app
            .post("/account_memberships", Some(&root.token), &doc)
            .await;
        resp.assert_error(409, "taken");
        assert_eq!(
            resp.error()["source"]["pointer"],
            "/data/relationships/user"
        );
    }
    // No such user.
    app.post(
        "/account_memberships",
        Some(token),
        &account_membership_doc(&uuid::Uuid::new_v4().to_string(), None),
    )
    .await
    .assert_error(404, "not_found");
    // A bad role: the owner cannot see globex's owner, so the linkage answers first; the
    // platform admin, who can, is told about the role.
    let resp = app
        .post(
            "/account_memberships",
            Some(token),
            &account_membership_doc(&o.globex.user_id, Some("boss")),
        )
        .await;
    resp.assert_error(404, "not_found");
    assert_eq!(
        resp.error()["source"]["pointer"],
        "/data/relationships/user"
    );
    let mut doc = account_membership_doc(&o.globex.user_id, Some("boss"));
    doc["data"]["relationships"]["account"] =
        json!({"data": {"type": "account", "id": o.owner.account_id}});
    let resp = app
        .post("/account_memberships", Some(&root.token), &doc)
        .await;
    resp.assert_error(422, "validation_failed");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/role");

    // Change the role.
    let changed = app
        .patch(
            &format!("/account_memberships/{id}"),
            token,
            &role_doc("account_membership", &id, "admin"),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(changed.body["data"]["attributes"]["role"], "admin");
    let changes = the_event(
        &audit_events(&app, token, "account_membership.updated", &id).await,
        &o.owner.user_id,
    );
    assert_eq!(changes["role"], json!(["member", "admin"]));
    // An admin now, with the same session: it reads the audit log.
    app.get("/audit_events", &guest).await.assert_status(200);

    // Remove: the guest and its acme team memberships are gone; its home is untouched.
    let removed = app
        .delete(&format!("/account_memberships/{id}"), token)
        .await;
    removed.assert_status(204);
    assert!(removed.text.is_empty());
    let changes = the_event(
        &audit_events(&app, token, "account_membership.deleted", &id).await,
        &o.owner.user_id,
    );
    assert_eq!(changes["role"], json!(["admin", null]));
    app.get(&format!("/account_memberships/{id}"), token)
        .await
        .assert_error(404, "not_found");
    let users = app.get("/users?page[size]=100", token).await;
    assert!(!users.ids().contains(gus));
    app.get(&format!("/users/{gus}"), token)
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        linkage(
            &app,
            &format!("/teams/{}/relationships/users", o.platform),
            token
        )
        .await,
        set(&[&o.max.0, &o.bob.0])
    );
    // Its acme session stops working at once, and it can no longer sign in to acme.
    let resp = app.get("/me", &guest).await;
    resp.assert_error(401, "unauthorized");
    app.try_sign_in("acme", "gus@globex.test", "gus-password-1")
        .await
        .assert_error(401, "invalid_credentials");
    let home = app
        .sign_in("globex", "gus@globex.test", "gus-password-1")
        .await;
    // It can join again, by accepting a new invitation.
    app.join_as_guest(token, &home, "gus@globex.test", "member")
        .await;

    // The home membership cannot be removed.
    let ada_membership = membership_id(&app, token, &o.ada.0).await;
    app.delete(&format!("/account_memberships/{ada_membership}"), token)
        .await
        .assert_error(409, "conflict");
    assert_eq!(
        membership_of(&app, token, &o.ada.0).await["attributes"]["role"],
        "member"
    );
}

#[tokio::test]
async fn only_owners_grant_change_or_remove_owner() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let (owner, admin) = (&o.owner.token, &o.admin);

    // An admin adds members and admins, never owners — and, like the owner, only by
    // invitation: by id, globex's user is one it cannot see (404 at the linkage).
    let resp = app
        .post(
            "/account_memberships",
            Some(admin),
            &account_membership_doc(&o.gus, Some("owner")),
        )
        .await;
    resp.assert_error(404, "not_found");
    assert_eq!(
        resp.error()["source"]["pointer"],
        "/data/relationships/user"
    );
    let home = app
        .sign_in("globex", "gus@globex.test", "gus-password-1")
        .await;
    let gus = app
        .join_as_guest(admin, &home, "gus@globex.test", "admin")
        .await;
    app.patch(
        &format!("/account_memberships/{gus}"),
        admin,
        &role_doc("account_membership", &gus, "owner"),
    )
    .await
    .assert_error(403, "forbidden");
    let owners = membership_id(&app, owner, &o.owner.user_id).await;
    app.patch(
        &format!("/account_memberships/{owners}"),
        admin,
        &role_doc("account_membership", &owners, "member"),
    )
    .await
    .assert_error(403, "forbidden");
    // Members change nothing.
    let ada = membership_id(&app, owner, &o.ada.0).await;
    app.patch(
        &format!("/account_memberships/{ada}"),
        &o.ada.1,
        &role_doc("account_membership", &ada, "admin"),
    )
    .await
    .assert_error(403, "forbidden");
    app.post(
        "/account_memberships",
        Some(&o.ada.1),
        &account_membership_doc(&o.bob.0, None),
    )
    .await
    .assert_error(403, "forbidden");
    // What the admin sees agrees.
    let owner_seen_by_admin = membership_of(&app, admin, &o.owner.user_id).await;
    assert_eq!(
        owner_seen_by_admin["meta"]["permissions"]["actions"],
        json!({"edit": false, "delete": false})
    );
    let gus_seen_by_admin = app.get(&format!("/account_memberships/{gus}"), admin).await;
    assert_eq!(
        gus_seen_by_admin.body["data"]["meta"]["permissions"]["actions"],
        json!({"edit": true, "delete": true})
    );

    // The owner may — but only to users homed in acme: a guest is never an owner.
    let resp = app
        .patch(
            &format!("/account_memberships/{gus}"),
            owner,
            &role_doc("account_membership", &gus, "owner"),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/role");
    assert_eq!(
        membership_of(&app, owner, &o.gus).await["attributes"]["role"],
        "admin"
    );
    let promoted = app
        .patch(
            &format!("/account_memberships/{ada}"),
            owner,
            &role_doc("account_membership", &ada, "owner"),
        )
        .await;
    promoted.assert_status(200);
    assert_eq!(promoted.body["data"]["attributes"]["role"], "owner");
    // Now the admin may neither demote nor remove it.
    app.patch(
        &format!("/account_memberships/{ada}"),
        admin,
        &role_doc("account_membership", &ada, "member"),
    )
    .await
    .assert_error(403, "forbidden");
    app.delete(&format!("/account_memberships/{ada}"), admin)
        .await
        .assert_error(403, "forbidden");
    // The owner grants owner on create too — of a user homed in acme; adding a user of
    // another account by id is not the owner's to do (404: it cannot see it).
    app.post(
        "/account_memberships",
        Some(owner),
        &account_membership_doc(&o.globex.user_id, Some("owner")),
    )
    .await
    .assert_error(404, "not_found");
    app.create_user(
        owner,
        json!({"name": "Second Owner", "email": "second@acme.test"}),
        json!({"role": "owner"}),
    )
    .await;
    assert_eq!(owner_count(&app, owner).await, 3);
}

#[tokio::test]
async fn the_last_owner_can_be_neither_demoted_nor_removed() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let owner = &o.owner.token;
    let mine = membership_id(&app, owner, &o.owner.user_id).await;
    for role in ["admin", "member"] {
        app.patch(
            &format!("/account_memberships/{mine}"),
            owner,
            &role_doc("account_membership", &mine, role),
        )
        .await
        .assert_error(409, "last_owner");
    }
    // Setting the same role again is no change.
    app.patch(
        &format!("/account_memberships/{mine}"),
        owner,
        &role_doc("account_membership", &mine, "owner"),
    )
    .await
    .assert_status(200);

    // A second owner (homed in acme: a guest is never an owner), then the first one steps
    // down: Ada is the last owner.
    let ada_membership = membership_id(&app, owner, &o.ada.0).await;
    app.patch(
        &format!("/account_memberships/{ada_membership}"),
        owner,
        &role_doc("account_membership", &ada_membership, "owner"),
    )
    .await
    .assert_status(200);
    app.patch(
        &format!("/account_memberships/{mine}"),
        owner,
        &role_doc("account_membership", &mine, "member"),
    )
    .await
    .assert_status(200);
    let ada = &o.ada.1;
    app.patch(
        &format!("/account_memberships/{ada_membership}"),
        ada,
        &role_doc("account_membership", &ada_membership, "admin"),
    )
    .await
    .assert_error(409, "last_owner");
    // An owner's membership is its home one, which goes only with the user; removing the
    // last owner that way is refused too, even to a platform admin.
    app.delete(&format!("/account_memberships/{ada_membership}"), ada)
        .await
        .assert_error(409, "conflict");
    let root = app.tenant("root", true).await;
    app.delete(&format!("/users/{}", o.ada.0), &root.token)
        .await
        .assert_error(409, "last_owner");
    assert_eq!(owner_count(&app, ada).await, 1);
    assert_eq!(
        app.get(&format!("/account_memberships/{ada_membership}"), ada)
            .await
            .body["data"]["attributes"]["role"],
        "owner"
    );
    // No audit events for the refused changes.
    assert!(
        audit_events(&app, ada, "account_membership.deleted", &ada_membership)
            .await
            .is_empty()
    );
    assert!(
        audit_events(&app, ada, "user.deleted", &o.ada.0)
            .await
            .is_empty()
    );
    assert_eq!(
        audit_events(&app, ada, "account_membership.updated", &ada_membership)
            .await
            .len(),
        1,
        "only the promotion"
    );
}

/// `meta.permissions.actions.delete` of a membership the server will refuse to delete
/// (the home membership; the last owner's) must be `false` (SPEC §2: "true exactly when
/// the server would accept that action … right now"), and so must `edit` of the last
/// owner's, which the server refuses to demote.
#[tokio::test]
async fn membership_permissions_agree_with_home_and_last_owner_rules() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let owner = &o.owner.token;
    let ada = membership_of(&app, owner, &o.ada.0).await;
    let ada_id = ada["id"].as_str().unwrap().to_owned();
    let refused = app
        .delete(&format!("/account_memberships/{ada_id}"), owner)
        .await;
    refused.assert_error(409, "conflict");
    assert_eq!(
        ada["meta"]["permissions"]["actions"]["delete"], false,
        "home membership: {ada}"
    );

    // Ada becomes the second owner (owners are homed in the account), then the first one
    // steps down: Ada is the last owner.
    app.patch(
        &format!("/account_memberships/{ada_id}"),
        owner,
        &role_doc("account_membership", &ada_id, "owner"),
    )
    .await
    .assert_status(200);
    let mine = membership_id(&app, owner, &o.owner.user_id).await;
    app.patch(
        &format!("/account_memberships/{mine}"),
        owner,
        &role_doc("account_membership", &mine, "member"),
    )
    .await
    .assert_status(200);
    let shown = app
        .get(&format!("/account_memberships/{ada_id}"), &o.ada.1)
        .await;
    app.delete(&format!("/account_memberships/{ada_id}"), &o.ada.1)
        .await
        .assert_error(409, "conflict");
    app.patch(
        &format!("/account_memberships/{ada_id}"),
        &o.ada.1,
        &role_doc("account_membership", &ada_id, "admin"),
    )
    .await
    .assert_error(409, "last_owner");
    assert_eq!(
        shown.body["data"]["meta"]["permissions"]["actions"],
        json!({"edit": false, "delete": false}),
        "last owner: {}",
        shown.text
    );
}

const RACE_ROUNDS: usize = 10;

/// Two owners demote themselves at the same moment: exactly one succeeds, the other is
/// told `last_owner`, and the account always keeps an owner.
#[tokio::test]
async fn concurrent_demotions_of_the_two_owners_leave_one_owner() {
    let app = spawn_app().await;
    for round in 0..RACE_ROUNDS {
        let slug = format!("race-{round}");
        let a = app.tenant(&slug, false).await;
        let (b_id, b) = app
            .member(
                &a.token,
                &slug,
                "Second Owner",
                &format!("b@{slug}.test"),
                "owner",
            )
            .await;
        assert_eq!(owner_count(&app, &a.token).await, 2);
        let ma = membership_id(&app, &a.token, &a.user_id).await;
        let mb = membership_id(&app, &a.token, &b_id).await;
        let path_a = format!("/account_memberships/{ma}");
        let path_b = format!("/account_memberships/{mb}");
        let doc_a = role_doc("account_membership", &ma, "member");
        let doc_b = role_doc("account_membership", &mb, "member");
        let (ra, rb) = tokio::join!(
            app.patch(&path_a, &a.token, &doc_a),
            app.patch(&path_b, &b, &doc_b)
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 409],
            "round {round}: A: {} {}; B: {} {}",
            ra.status,
            ra.text,
            rb.status,
            rb.text
        );
        let loser = if ra.status.as_u16() == 409 { &ra } else { &rb };
        loser.assert_error(409, "last_owner");
        assert_eq!(owner_count(&app, &a.token).await, 1, "round {round}");
        assert_eq!(
            audit_events(
                &app,
                if ra.status.as_u16() == 409 {
                    &a.token
                } else {
                    &b
                },
                "account_membership.updated",
                &format!("{ma},{mb}")
            )
            .await
            .len(),
            1,
            "round {round}: one change, one event"
        );
    }
}

/// The two owners of an account deleted at the same moment (owners are homed in their
/// account, so deleting the user is how one is removed; a platform admin does both):
/// exactly one succeeds, the other is told `last_owner`.
#[tokio::test]
async fn concurrent_deletions_of_the_two_owners_leave_one_owner() {
    let app = spawn_app().await;
    let root = app.tenant("root", true).await;
    for round in 0..RACE_ROUNDS {
        let slug = format!("race-{round}");
        let a = app.tenant(&slug, false).await;
        let (b_id, b) = app
            .member(
                &a.token,
                &slug,
                "Second Owner",
                &format!("b@{slug}.test"),
                "owner",
            )
            .await;
        assert_eq!(owner_count(&app, &a.token).await, 2);

        let (p1, p2) = (format!("/users/{}", a.user_id), format!("/users/{b_id}"));
        let (r1, r2) = tokio::join!(app.delete(&p1, &root.token), app.delete(&p2, &root.token));
        assert_eq!(
            statuses(&r1, &r2),
            [204, 409],
            "round {round}: 1: {} {}; 2: {} {}",
            r1.status,
            r1.text,
            r2.status,
            r2.text
        );
        let (loser, survivor) = if r1.status.as_u16() == 409 {
            (&r1, &a.token)
        } else {
            (&r2, &b)
        };
        loser.assert_error(409, "last_owner");
        assert_eq!(owner_count(&app, survivor).await, 1, "round {round}");
    }
}

/// Statuses of two concurrent responses, sorted.
fn statuses(a: &Resp, b: &Resp) -> [u16; 2] {
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    statuses
}

/// The same new guest added twice at the same moment (by id, as platform admins may):
/// one 201, one 409 `taken`.
#[tokio::test]
async fn concurrent_adds_of_one_guest_are_one_membership_and_one_taken() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let root = app.tenant("root", true).await;
    for round in 0..RACE_ROUNDS {
        let guest = app
            .create_user(
                &o.globex.token,
                json!({"name": format!("Guest {round}"), "email": format!("guest-{round}@globex.test")}),
                Value::Null,
            )
            .await;
        let mut doc = account_membership_doc(&guest, None);
        doc["data"]["relationships"]["account"] =
            json!({"data": {"type": "account", "id": o.owner.account_id}});
        let (a, b) = tokio::join!(
            app.post("/account_memberships", Some(&root.token), &doc),
            app.post("/account_memberships", Some(&root.token), &doc)
        );
        assert_eq!(
            statuses(&a, &b),
            [201, 409],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        let loser = if a.status.as_u16() == 409 { &a } else { &b };
        loser.assert_error(409, "taken");
        assert_eq!(
            loser.error()["source"]["pointer"],
            "/data/relationships/user"
        );
        membership_of(&app, &o.owner.token, &guest).await;
    }
}

/// The same user added to a team twice at the same moment through `POST
/// /team_memberships`: one 201 and one 409 `taken`.
#[tokio::test]
async fn concurrent_creates_of_one_team_membership_are_one_membership_and_one_taken() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    let path = format!("/teams/{}/relationships/users", o.design);
    for round in 0..RACE_ROUNDS {
        let doc = team_membership_doc(&o.ada.0, &o.design, "member");
        let (a, b) = tokio::join!(
            app.post("/team_memberships", Some(token), &doc),
            app.post("/team_memberships", Some(&o.admin), &doc)
        );
        assert_eq!(
            statuses(&a, &b),
            [201, 409],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        let loser = if a.status.as_u16() == 409 { &a } else { &b };
        loser.assert_error(409, "taken");
        assert_eq!(
            loser.error()["source"]["pointer"],
            "/data/relationships/user"
        );
        assert_eq!(
            team_memberships(&app, token, &o.design, &o.ada.0)
                .await
                .len(),
            1
        );
        send(
            &app,
            Method::DELETE,
            &path,
            token,
            &identifiers("user", &[&o.ada.0]),
        )
        .await
        .assert_status(204);
    }
}

/// The same user added to a team twice at the same moment through the relationship
/// endpoint: both 204 (JSON:API: adding a member already present succeeds), one membership.
#[tokio::test]
async fn concurrent_relationship_adds_of_one_member_both_succeed() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    let path = format!("/teams/{}/relationships/users", o.design);
    for round in 0..RACE_ROUNDS {
        let doc = identifiers("user", &[&o.ada.0]);
        let (a, b) = tokio::join!(
            send(&app, Method::POST, &path, token, &doc),
            send(&app, Method::POST, &path, &o.admin, &doc)
        );
        assert_eq!(
            statuses(&a, &b),
            [204, 204],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        assert_eq!(
            team_memberships(&app, token, &o.design, &o.ada.0)
                .await
                .len(),
            1
        );
        send(&app, Method::DELETE, &path, token, &doc)
            .await
            .assert_status(204);
    }
}

/// The same member removed twice at the same moment through the relationship endpoint:
/// both 204, and the audit log records one removal.
#[tokio::test]
async fn concurrent_relationship_removals_of_one_member_both_succeed_once() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    let path = format!("/teams/{}/relationships/users", o.design);
    let doc = identifiers("user", &[&o.ada.0]);
    for round in 0..RACE_ROUNDS {
        send(&app, Method::POST, &path, token, &doc)
            .await
            .assert_status(204);
        let membership = team_memberships(&app, token, &o.design, &o.ada.0).await[0]
            .0
            .clone();
        let (a, b) = tokio::join!(
            send(&app, Method::DELETE, &path, token, &doc),
            send(&app, Method::DELETE, &path, &o.admin, &doc)
        );
        assert_eq!(
            statuses(&a, &b),
            [204, 204],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        assert!(
            team_memberships(&app, token, &o.design, &o.ada.0)
                .await
                .is_empty()
        );
        assert_eq!(
            audit_events(&app, token, "team_membership.deleted", &membership)
                .await
                .len(),
            1,
            "round {round}"
        );
    }
}

/// One resource deleted twice at the same moment: one 204, one 404, one audit event — for
/// a team, a team membership, a guest's account membership and a device.
#[tokio::test]
async fn concurrent_deletes_of_one_resource_delete_it_once() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let (owner, admin) = (&o.owner.token, &o.admin);
    let mut failures = Vec::new();
    for round in 0..RACE_ROUNDS {
        let team = create_team(&app, owner, &format!("Doomed {round}")).await;
        let membership = app
            .post(
                "/team_memberships",
                Some(owner),
                &team_membership_doc(&o.ada.0, &team, "member"),
            )
            .await;
        let membership = membership.body["data"]["id"].as_str().unwrap().to_owned();
        // A guest by consent: acme invites a globex user, who accepts from its home.
        let email = format!("guest-{round}@globex.test");
        app.create_user(
            &o.globex.token,
            json!({"name": format!("Guest {round}"), "email": email, "password": "guest-password-1"}),
            Value::Null,
        )
        .await;
        let home = app.sign_in("globex", &email, "guest-password-1").await;
        let guest = app.join_as_guest(owner, &home, &email, "member").await;
        let device = app
            .post(
                "/devices",
                Some(&o.ada.1),
                &device_doc("web", None, &format!("web-{round}")),
            )
            .await;
        let device = device.body["data"]["id"].as_str().unwrap().to_owned();
        for (kind, path, tokens, action) in [
            (
                "team_membership",
                format!("/team_memberships/{membership}"),
                [owner, admin],
                "team_membership.deleted",
            ),
            (
                "team",
                format!("/teams/{team}"),
                [owner, admin],
                "team.deleted",
            ),
            (
                "account_membership",
                format!("/account_memberships/{guest}"),
                [owner, admin],
                "account_membership.deleted",
            ),
            (
                "device",
                format!("/devices/{device}"),
                [&o.ada.1, &o.ada.1],
                "device.deleted",
            ),
        ] {
            let (a, b) = tokio::join!(app.delete(&path, tokens[0]), app.delete(&path, tokens[1]));
            let target = path.rsplit('/').next().unwrap();
            let events = audit_events(&app, owner, action, target).await.len();
            let got = (statuses(&a, &b), events);
            if got != ([204, 404], 1) {
                failures.push(format!(
                    "round {round} {kind}: statuses {:?}, {events} events",
                    got.0
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Two teams of one name created at the same moment: one 201, one 409 `taken`.
#[tokio::test]
async fn concurrent_creates_of_one_team_name_are_one_team_and_one_taken() {
    let app = spawn_app().await;
    let o = org(&app).await;
    for round in 0..RACE_ROUNDS {
        let name = format!("Team {round}");
        let upper = name.to_uppercase();
        let (a, b) = tokio::join!(
            try_create_team(&app, &o.owner.token, &name),
            try_create_team(&app, &o.admin, &upper)
        );
        assert_eq!(
            statuses(&a, &b),
            [201, 409],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        let loser = if a.status.as_u16() == 409 { &a } else { &b };
        loser.assert_error(409, "taken");
        assert_eq!(loser.error()["source"]["pointer"], "/data/attributes/name");
    }
}

/// One device token registered twice at the same moment by its user: one 201, one 409
/// `taken` — never a 500.
#[tokio::test]
async fn concurrent_registrations_of_one_device_token_are_one_device_and_one_taken() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let ada = &o.ada.1;
    for round in 0..RACE_ROUNDS {
        let doc = device_doc("ios", Some("iphone"), &format!("apns-race-{round}"));
        let (a, b) = tokio::join!(
            app.post("/devices", Some(ada), &doc),
            app.post("/devices", Some(ada), &doc)
        );
        assert_eq!(
            statuses(&a, &b),
            [201, 409],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
        let loser = if a.status.as_u16() == 409 { &a } else { &b };
        loser.assert_error(409, "taken");
        assert_eq!(loser.error()["source"]["pointer"], "/data/attributes/token");
    }
    assert_eq!(
        app.get("/devices?page[size]=100", ada).await.ids().len(),
        RACE_ROUNDS
    );
}

/// An owner steps down while the other owner is deleted (owners are homed in their
/// account, so that is how one is removed; a platform admin does it), at the same moment:
/// exactly one succeeds.
#[tokio::test]
async fn concurrent_demotion_and_removal_of_the_two_owners_leave_one_owner() {
    let app = spawn_app().await;
    let root = app.tenant("root", true).await;
    for round in 0..RACE_ROUNDS {
        let slug = format!("race-{round}");
        let a = app.tenant(&slug, false).await;
        let (b_id, _) = app
            .member(
                &a.token,
                &slug,
                "Second Owner",
                &format!("b@{slug}.test"),
                "owner",
            )
            .await;
        assert_eq!(owner_count(&app, &a.token).await, 2);
        let am = membership_id(&app, &a.token, &a.user_id).await;
        let (demote_path, remove_path) = (
            format!("/account_memberships/{am}"),
            format!("/users/{b_id}"),
        );
        let doc = role_doc("account_membership", &am, "admin");
        let (demoted, removed) = tokio::join!(
            app.patch(&demote_path, &a.token, &doc),
            app.delete(&remove_path, &root.token)
        );
        let outcome = [demoted.status.as_u16(), removed.status.as_u16()];
        assert!(
            outcome == [200, 409] || outcome == [409, 204],
            "round {round}: demote {} {}; remove {} {}",
            demoted.status,
            demoted.text,
            removed.status,
            removed.text
        );
        let loser = if outcome[0] == 409 {
            &demoted
        } else {
            &removed
        };
        loser.assert_error(409, "last_owner");
        assert_eq!(owner_count(&app, &a.token).await, 1, "round {round}");
    }
}

// ---------------------------------------------------------------------------------
// 3. Team memberships

#[tokio::test]
async fn team_memberships_are_created_changed_and_removed() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;

    let created = app
        .post(
            "/team_memberships",
            Some(token),
            &team_membership_doc(&o.ada.0, &o.design, "maintainer"),
        )
        .await;
    created.assert_status(201);
    assert_location(&created);
    let data = &created.body["data"];
    let id = data["id"].as_str().unwrap().to_owned();
    assert_eq!(data["type"], "team_membership");
    assert_eq!(data["attributes"]["role"], "maintainer");
    assert_eq!(
        data["relationships"]["user"]["data"],
        json!({"type": "user", "id": o.ada.0})
    );
    assert_eq!(
        data["relationships"]["team"]["data"],
        json!({"type": "team", "id": o.design})
    );
    let changes = the_event(
        &audit_events(&app, token, "team_membership.created", &id).await,
        &o.owner.user_id,
    );
    assert_eq!(changes["role"], json!([null, "maintainer"]));
    // The new maintainer may now edit the team.
    app.patch(
        &format!("/teams/{}", o.design),
        &o.ada.1,
        &json!({"data": {"type": "team", "id": o.design, "attributes": {"description": "Ada's"}}}),
    )
    .await
    .assert_status(200);

    // One per (user, team), whatever the role.
    let resp = app
        .post(
            "/team_memberships",
            Some(token),
            &team_membership_doc(&o.ada.0, &o.design, "member"),
        )
        .await;
    resp.assert_error(409, "taken");
    assert_eq!(
        resp.error()["source"]["pointer"],
        "/data/relationships/user"
    );
    assert_eq!(
        team_memberships(&app, token, &o.design, &o.ada.0)
            .await
            .len(),
        1
    );

    // Role defaults to member; a bad role is refused.
    let plain = app
        .post(
            "/team_memberships",
            Some(token),
            &json!({"data": {"type": "team_membership", "relationships": {
                "user": {"data": {"type": "user", "id": o.cy}},
                "team": {"data": {"type": "team", "id": o.design}}
            }}}),
        )
        .await;
    plain.assert_status(201);
    assert_eq!(plain.body["data"]["attributes"]["role"], "member");
    let resp = app
        .post(
            "/team_memberships",
            Some(token),
            &team_membership_doc(&o.max.0, &o.design, "owner"),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/role");

    // A user of another account cannot join: acme cannot see it, so it is a 404 at the
    // linkage like a team of another account (SPEC §2: linkages before validation).
    let resp = app
        .post(
            "/team_memberships",
            Some(token),
            &team_membership_doc(&o.gus, &o.design, "member"),
        )
        .await;
    resp.assert_error(404, "not_found");
    assert_eq!(
        resp.error()["source"]["pointer"],
        "/data/relationships/user"
    );
    let globex_team = create_team(&app, &o.globex.token, "Globex").await;
    app.post(
        "/team_memberships",
        Some(token),
        &team_membership_doc(&o.ada.0, &globex_team, "member"),
    )
    .await
    .assert_error(404, "not_found");
    // Nor a deleted user: soft-deleted rows are left out of every linkage (SPEC §3), so
    // the linkage finds nothing — a 404 at it, before any validation (SPEC §2).
    app.delete(&format!("/users/{}", o.cy), token)
        .await
        .assert_status(204);
    let resp = app
        .post(
            "/team_memberships",
            Some(token),
            &team_membership_doc(&o.cy, &o.platform, "member"),
        )
        .await;
    resp.assert_error(404, "not_found");
    assert_eq!(
        resp.error()["source"]["pointer"],
        "/data/relationships/user"
    );

    // Change the role.
    let changed = app
        .patch(
            &format!("/team_memberships/{id}"),
            token,
            &role_doc("team_membership", &id, "member"),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(changed.body["data"]["attributes"]["role"], "member");
    let changes = the_event(
        &audit_events(&app, token, "team_membership.updated", &id).await,
        &o.owner.user_id,
    );
    assert_eq!(changes["role"], json!(["maintainer", "member"]));
    // No longer a maintainer: no longer edits the team.
    app.patch(
        &format!("/teams/{}", o.design),
        &o.ada.1,
        &json!({"data": {"type": "team", "id": o.design, "attributes": {"description": "x"}}}),
    )
    .await
    .assert_error(403, "forbidden");

    // Remove.
    let removed = app.delete(&format!("/team_memberships/{id}"), token).await;
    removed.assert_status(204);
    the_event(
        &audit_events(&app, token, "team_membership.deleted", &id).await,
        &o.owner.user_id,
    );
    app.get(&format!("/team_memberships/{id}"), token)
        .await
        .assert_error(404, "not_found");
    app.delete(&format!("/team_memberships/{id}"), token)
        .await
        .assert_error(404, "not_found");
    assert!(
        !linkage(
            &app,
            &format!("/teams/{}/relationships/users", o.design),
            token
        )
        .await
        .contains(&o.ada.0)
    );
}

#[tokio::test]
async fn team_membership_permissions_follow_the_team_role() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let (max, bob) = (&o.max.1, &o.bob.1);
    let bob_in_platform = team_memberships(&app, &o.owner.token, &o.platform, &o.bob.0).await[0]
        .0
        .clone();
    let bob_in_design = team_memberships(&app, &o.owner.token, &o.design, &o.bob.0).await[0]
        .0
        .clone();

    // What each sees.
    let seen = app.get("/team_memberships?page[size]=100", max).await;
    for membership in seen.body["data"].as_array().unwrap() {
        let team = &membership["relationships"]["team"]["data"]["id"];
        let mine = *team == json!(o.platform);
        assert_eq!(
            membership["meta"]["permissions"]["actions"],
            json!({"edit": mine, "delete": mine}),
            "{membership}"
        );
    }
    let seen = app.get("/team_memberships?page[size]=100", bob).await;
    for membership in seen.body["data"].as_array().unwrap() {
        assert_eq!(
            membership["meta"]["permissions"]["actions"],
            json!({"edit": false, "delete": false}),
            "{membership}"
        );
    }

    // The maintainer of Platform manages Platform's memberships only.
    let ada_in = app
        .post(
            "/team_memberships",
            Some(max),
            &team_membership_doc(&o.ada.0, &o.platform, "member"),
        )
        .await;
    ada_in.assert_status(201);
    let ada_in = ada_in.body["data"]["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/team_memberships/{bob_in_platform}"),
        max,
        &role_doc("team_membership", &bob_in_platform, "maintainer"),
    )
    .await
    .assert_status(200);
    app.delete(&format!("/team_memberships/{ada_in}"), max)
        .await
        .assert_status(204);
    app.post(
        "/team_memberships",
        Some(max),
        &team_membership_doc(&o.ada.0, &o.design, "member"),
    )
    .await
    .assert_error(403, "forbidden");
    app.patch(
        &format!("/team_memberships/{bob_in_design}"),
        max,
        &role_doc("team_membership", &bob_in_design, "maintainer"),
    )
    .await
    .assert_error(403, "forbidden");
    app.delete(&format!("/team_memberships/{bob_in_design}"), max)
        .await
        .assert_error(403, "forbidden");

    // A plain member of Design manages nothing, not even its own membership.
    app.post(
        "/team_memberships",
        Some(bob),
        &team_membership_doc(&o.ada.0, &o.design, "member"),
    )
    .await
    .assert_error(403, "forbidden");
    app.patch(
        &format!("/team_memberships/{bob_in_design}"),
        bob,
        &role_doc("team_membership", &bob_in_design, "maintainer"),
    )
    .await
    .assert_error(403, "forbidden");
    app.delete(&format!("/team_memberships/{bob_in_design}"), bob)
        .await
        .assert_error(403, "forbidden");
    // Bob, promoted in Platform above, now maintains it.
    app.post(
        "/team_memberships",
        Some(bob),
        &team_membership_doc(&o.ada.0, &o.platform, "member"),
    )
    .await
    .assert_status(201);

    // Another account: not found.
    app.get(
        &format!("/team_memberships/{bob_in_design}"),
        &o.globex.token,
    )
    .await
    .assert_error(404, "not_found");
    app.delete(
        &format!("/team_memberships/{bob_in_design}"),
        &o.globex.token,
    )
    .await
    .assert_error(404, "not_found");
    assert_eq!(
        team_memberships(&app, &o.owner.token, &o.design, &o.bob.0).await,
        vec![(bob_in_design.clone(), "member".to_owned())]
    );
}

// ---------------------------------------------------------------------------------
// 4. Relationship endpoints

#[tokio::test]
async fn relationship_post_adds_and_delete_removes_idempotently() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    let users_of = format!("/teams/{}/relationships/users", o.design);
    let ada_teams = format!("/users/{}/relationships/teams", o.ada.0);

    for _ in 0..2 {
        let resp = send(
            &app,
            Method::POST,
            &users_of,
            token,
            &identifiers("user", &[&o.ada.0]),
        )
        .await;
        resp.assert_status(204);
        assert!(resp.text.is_empty(), "{}", resp.text);
        assert_eq!(
            linkage(&app, &users_of, token).await,
            set(&[&o.bob.0, &o.ada.0])
        );
    }
    let memberships = team_memberships(&app, token, &o.design, &o.ada.0).await;
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].1, "member");
    the_event(
        &audit_events(&app, token, "team_membership.created", &memberships[0].0).await,
        &o.owner.user_id,
    );
    // Listed twice in one request: added once.
    send(
        &app,
        Method::POST,
        &users_of,
        token,
        &identifiers("user", &[&o.cy, &o.cy]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        team_memberships(&app, token, &o.design, &o.cy).await.len(),
        1
    );
    // An empty list changes nothing.
    send(
        &app,
        Method::POST,
        &users_of,
        token,
        &identifiers::<&str>("user", &[]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        linkage(&app, &users_of, token).await,
        set(&[&o.bob.0, &o.ada.0, &o.cy])
    );

    // From the user's side.
    send(
        &app,
        Method::POST,
        &ada_teams,
        token,
        &identifiers("team", &[&o.platform, &o.design]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        linkage(&app, &ada_teams, token).await,
        set(&[&o.platform, &o.design])
    );
    assert_eq!(
        app.get(&format!("/users/{}/teams", o.ada.0), token)
            .await
            .ids()
            .len(),
        2
    );

    // DELETE removes; twice is fine; a member never there is fine.
    for _ in 0..2 {
        let resp = send(
            &app,
            Method::DELETE,
            &users_of,
            token,
            &identifiers("user", &[&o.ada.0, &o.max.0]),
        )
        .await;
        resp.assert_status(204);
        assert!(resp.text.is_empty());
        assert_eq!(
            linkage(&app, &users_of, token).await,
            set(&[&o.bob.0, &o.cy])
        );
    }
    assert!(
        team_memberships(&app, token, &o.design, &o.ada.0)
            .await
            .is_empty()
    );
    assert_eq!(
        audit_events(&app, token, "team_membership.deleted", &memberships[0].0)
            .await
            .len(),
        1
    );
    send(
        &app,
        Method::DELETE,
        &ada_teams,
        token,
        &identifiers("team", &[&o.platform]),
    )
    .await
    .assert_status(204);
    assert_eq!(linkage(&app, &ada_teams, token).await, BTreeSet::new());
    // A team that has since been deleted is left out of every linkage: removing from it
    // is a 404 at its identifier, as for any team the caller cannot see (SPEC §2: a
    // linkage is checked before anything else, DELETE included), not silently skipped.
    send(
        &app,
        Method::POST,
        &ada_teams,
        token,
        &identifiers("team", &[&o.design]),
    )
    .await
    .assert_status(204);
    app.delete(&format!("/teams/{}", o.design), token)
        .await
        .assert_status(204);
    let resp = send(
        &app,
        Method::DELETE,
        &ada_teams,
        token,
        &identifiers("team", &[&o.design]),
    )
    .await;
    resp.assert_error(404, "not_found");
    assert_eq!(resp.error()["source"]["pointer"], "/data/0");
    assert_eq!(linkage(&app, &ada_teams, token).await, BTreeSet::new());
}

#[tokio::test]
async fn relationship_patch_replaces_the_whole_set() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    let users_of = format!("/teams/{}/relationships/users", o.platform);
    let max_before = team_memberships(&app, token, &o.platform, &o.max.0).await;

    let resp = send(
        &app,
        Method::PATCH,
        &users_of,
        token,
        &identifiers("user", &[&o.max.0, &o.ada.0, &o.cy]),
    )
    .await;
    resp.assert_status(204);
    assert_eq!(
        linkage(&app, &users_of, token).await,
        set(&[&o.max.0, &o.ada.0, &o.cy])
    );
    // Who stays keeps its membership (and role).
    assert_eq!(
        team_memberships(&app, token, &o.platform, &o.max.0).await,
        max_before
    );
    assert!(
        team_memberships(&app, token, &o.platform, &o.bob.0)
            .await
            .is_empty()
    );
    // Bob's other team is untouched.
    assert_eq!(
        linkage(
            &app,
            &format!("/users/{}/relationships/teams", o.bob.0),
            token
        )
        .await,
        set(&[&o.design])
    );
    // The same set again: nothing changes.
    send(
        &app,
        Method::PATCH,
        &users_of,
        token,
        &identifiers("user", &[&o.cy, &o.ada.0, &o.max.0]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        linkage(&app, &users_of, token).await,
        set(&[&o.max.0, &o.ada.0, &o.cy])
    );
    // Empty.
    send(
        &app,
        Method::PATCH,
        &users_of,
        token,
        &identifiers::<&str>("user", &[]),
    )
    .await
    .assert_status(204);
    assert_eq!(linkage(&app, &users_of, token).await, BTreeSet::new());
    assert_eq!(
        app.get(&format!("/teams/{}/users", o.platform), token)
            .await
            .body["meta"]["total"],
        0
    );

    // From the user's side.
    let bob_teams = format!("/users/{}/relationships/teams", o.bob.0);
    send(
        &app,
        Method::PATCH,
        &bob_teams,
        token,
        &identifiers("team", &[&o.platform]),
    )
    .await
    .assert_status(204);
    assert_eq!(linkage(&app, &bob_teams, token).await, set(&[&o.platform]));
    send(
        &app,
        Method::PATCH,
        &bob_teams,
        token,
        &identifiers("team", &[&o.design, &o.platform]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        linkage(&app, &bob_teams, token).await,
        set(&[&o.platform, &o.design])
    );
    send(
        &app,
        Method::PATCH,
        &bob_teams,
        token,
        &identifiers::<&str>("team", &[]),
    )
    .await
    .assert_status(204);
    assert_eq!(linkage(&app, &bob_teams, token).await, BTreeSet::new());
    assert_eq!(
        linkage(&app, &users_of, token).await,
        BTreeSet::new(),
        "the other side agrees"
    );
}

/// A guest's teams as one account sees them: replacing them there leaves the teams of its
/// home account alone.
#[tokio::test]
async fn replacing_a_guests_teams_leaves_its_other_accounts_teams_alone() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let globex_team = create_team(&app, &o.globex.token, "Globex").await;
    send(
        &app,
        Method::POST,
        &format!("/teams/{globex_team}/relationships/users"),
        &o.globex.token,
        &identifiers("user", &[&o.gus]),
    )
    .await
    .assert_status(204);
    let home = app
        .sign_in("globex", "gus@globex.test", "gus-password-1")
        .await;
    app.join_as_guest(&o.owner.token, &home, "gus@globex.test", "member")
        .await;
    let gus_teams = format!("/users/{}/relationships/teams", o.gus);
    send(
        &app,
        Method::POST,
        &gus_teams,
        &o.owner.token,
        &identifiers("team", &[&o.platform]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        linkage(&app, &gus_teams, &o.owner.token).await,
        set(&[&o.platform])
    );
    assert_eq!(
        linkage(&app, &gus_teams, &o.globex.token).await,
        set(&[&globex_team])
    );

    send(
        &app,
        Method::PATCH,
        &gus_teams,
        &o.owner.token,
        &identifiers("team", &[&o.design]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        linkage(&app, &gus_teams, &o.owner.token).await,
        set(&[&o.design])
    );
    send(
        &app,
        Method::PATCH,
        &gus_teams,
        &o.owner.token,
        &identifiers::<&str>("team", &[]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        linkage(&app, &gus_teams, &o.owner.token).await,
        BTreeSet::new()
    );
    assert_eq!(
        linkage(&app, &gus_teams, &o.globex.token).await,
        set(&[&globex_team])
    );
}

/// A relationship request that includes one member the caller may not manage fails as a
/// whole: nothing of it is applied.
#[tokio::test]
async fn relationship_changes_are_all_or_nothing() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    let globex_team = create_team(&app, &o.globex.token, "Globex").await;
    let ada_teams = format!("/users/{}/relationships/teams", o.ada.0);
    let bob_teams = format!("/users/{}/relationships/teams", o.bob.0);
    let platform_users = format!("/teams/{}/relationships/users", o.platform);
    let before_platform = linkage(&app, &platform_users, token).await;
    let events_before = app
        .get("/audit_events?filter[target_type]=team_membership", token)
        .await
        .body["meta"]["total"]
        .clone();

    // The owner, with a team of another account among them.
    for method in [Method::POST, Method::PATCH] {
        let resp = send(
            &app,
            method.clone(),
            &ada_teams,
            token,
            &identifiers("team", &[&o.platform, &globex_team, &o.design]),
        )
        .await;
        resp.assert_error(404, "not_found");
        assert_eq!(resp.error()["source"]["pointer"], "/data/1", "{method}");
        assert_eq!(
            linkage(&app, &ada_teams, token).await,
            BTreeSet::new(),
            "{method}"
        );
    }
    // … with a user of another account among them: one it cannot see, so a 404 at its
    // identifier (SPEC §2), as for the team above.
    for method in [Method::POST, Method::PATCH] {
        let resp = send(
            &app,
            method.clone(),
            &platform_users,
            token,
            &identifiers("user", &[&o.ada.0, &o.gus]),
        )
        .await;
        resp.assert_error(404, "not_found");
        assert_eq!(resp.error()["source"]["pointer"], "/data/1", "{method}");
        assert_eq!(
            linkage(&app, &platform_users, token).await,
            before_platform,
            "{method}"
        );
    }

    // The maintainer of Platform, with Design among them.
    let max = &o.max.1;
    for method in [Method::POST, Method::PATCH] {
        send(
            &app,
            method.clone(),
            &ada_teams,
            max,
            &identifiers("team", &[&o.platform, &o.design]),
        )
        .await
        .assert_error(403, "forbidden");
        assert_eq!(
            linkage(&app, &ada_teams, token).await,
            BTreeSet::new(),
            "{method}"
        );
    }
    // Replacing Bob's teams by Platform alone would take him out of Design.
    send(
        &app,
        Method::PATCH,
        &bob_teams,
        max,
        &identifiers("team", &[&o.platform]),
    )
    .await
    .assert_error(403, "forbidden");
    assert_eq!(
        linkage(&app, &bob_teams, token).await,
        set(&[&o.platform, &o.design])
    );
    send(
        &app,
        Method::DELETE,
        &bob_teams,
        max,
        &identifiers("team", &[&o.platform, &o.design]),
    )
    .await
    .assert_error(403, "forbidden");
    assert_eq!(
        linkage(&app, &bob_teams, token).await,
        set(&[&o.platform, &o.design])
    );
    // Adding Ada to Platform and Gus of globex (whom acme cannot see) along with her.
    let resp = send(
        &app,
        Method::PATCH,
        &platform_users,
        max,
        &identifiers("user", &[&o.max.0, &o.ada.0, &o.gus]),
    )
    .await;
    resp.assert_error(404, "not_found");
    assert_eq!(resp.error()["source"]["pointer"], "/data/2");
    assert_eq!(linkage(&app, &platform_users, token).await, before_platform);

    // Nothing was written, not even an audit event.
    let events_after = app
        .get("/audit_events?filter[target_type]=team_membership", token)
        .await
        .body["meta"]["total"]
        .clone();
    assert_eq!(events_before, events_after);

    // What the maintainer may do alone still works.
    send(
        &app,
        Method::POST,
        &ada_teams,
        max,
        &identifiers("team", &[&o.platform]),
    )
    .await
    .assert_status(204);
    assert_eq!(linkage(&app, &ada_teams, token).await, set(&[&o.platform]));
}

#[tokio::test]
async fn relationship_documents_are_checked() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    let path = format!("/teams/{}/relationships/users", o.platform);
    let before = linkage(&app, &path, token).await;

    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        // Wrong type.
        let resp = send(
            &app,
            method.clone(),
            &path,
            token,
            &identifiers("team", &[&o.design]),
        )
        .await;
        resp.assert_error(409, "conflict");
        assert_eq!(
            resp.error()["source"]["pointer"],
            "/data/0/type",
            "{method}"
        );
        let resp = send(
            &app,
            method.clone(),
            &path,
            token,
            &json!({"data": [
                {"type": "user", "id": o.ada.0}, {"type": "users", "id": o.cy}
            ]}),
        )
        .await;
        resp.assert_error(409, "conflict");
        // Malformed documents.
        for body in [
            json!({"data": {"type": "user", "id": o.ada.0}}),
            json!({"data": null}),
            json!({}),
            json!({"data": [{"type": "user"}]}),
            json!({"data": [{"id": o.ada.0}]}),
            json!({"data": [{"type": "user", "id": 5}]}),
            json!([{"type": "user", "id": o.ada.0}]),
        ] {
            send(&app, method.clone(), &path, token, &body)
                .await
                .assert_error(400, "invalid_document");
        }
        app.request(
            method.clone(),
            &path,
            Some(token),
            &[("content-type", JSONAPI)],
            Some(b"{\"data\": [".to_vec()),
        )
        .await
        .assert_error(400, "invalid_json");
        app.request(
            method.clone(),
            &path,
            Some(token),
            &[("content-type", "application/json")],
            Some(serde_json::to_vec(&identifiers("user", &[&o.ada.0])).unwrap()),
        )
        .await
        .assert_error(415, "unsupported_media_type");
        // No such user or team.
        let missing = uuid::Uuid::new_v4().to_string();
        send(
            &app,
            method.clone(),
            &format!("/teams/{missing}/relationships/users"),
            token,
            &identifiers("user", &[&o.ada.0]),
        )
        .await
        .assert_error(404, "not_found");
        send(
            &app,
            method.clone(),
            &format!("/users/{missing}/relationships/teams"),
            token,
            &identifiers("team", &[&o.design]),
        )
        .await
        .assert_error(404, "not_found");
    }
    assert_eq!(linkage(&app, &path, token).await, before);
    // An unknown member in a POST fails (the server says 422: not a user of the account).
    let resp = send(
        &app,
        Method::POST,
        &path,
        token,
        &identifiers("user", &[uuid::Uuid::new_v4().to_string()]),
    )
    .await;
    assert!(
        matches!(resp.status.as_u16(), 404 | 422),
        "{} {}",
        resp.status,
        resp.text
    );
    assert_eq!(linkage(&app, &path, token).await, before);

    // Relationships that cannot be changed here: 403 (JSON:API: unsupported update).
    for (path, body) in [
        (
            format!("/teams/{}/relationships/team_memberships", o.platform),
            json!({"data": []}),
        ),
        (
            format!("/users/{}/relationships/account", o.ada.0),
            json!({"data": {"type": "account", "id": o.owner.account_id}}),
        ),
    ] {
        for method in [Method::POST, Method::PATCH, Method::DELETE] {
            send(&app, method.clone(), &path, token, &body)
                .await
                .assert_error(403, "forbidden");
        }
    }
}

#[tokio::test]
async fn related_endpoints_support_include_fields_sort_filter_and_pages() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let token = &o.owner.token;
    send(
        &app,
        Method::POST,
        &format!("/teams/{}/relationships/users", o.platform),
        token,
        &identifiers("user", &[&o.ada.0, &o.cy]),
    )
    .await
    .assert_status(204);
    // Platform: Ada, Bob, Cy, Max.
    let users = format!("/teams/{}/users", o.platform);

    let sorted = app.get(&format!("{users}?sort=-name"), token).await;
    sorted.assert_status(200);
    assert_eq!(
        sorted.ids(),
        vec![
            o.max.0.clone(),
            o.cy.clone(),
            o.bob.0.clone(),
            o.ada.0.clone()
        ]
    );
    assert_eq!(sorted.body["meta"]["total"], 4);
    let filtered = app
        .get(&format!("{users}?filter[name]=a&sort=name"), token)
        .await;
    assert_eq!(filtered.ids(), vec![o.ada.0.clone(), o.max.0.clone()]);

    let included = app
        .get(
            &format!("{users}?include=teams&fields[user]=name,teams&fields[team]=name&sort=name"),
            token,
        )
        .await;
    included.assert_status(200);
    for user in included.body["data"].as_array().unwrap() {
        let attributes: Vec<&String> = user["attributes"].as_object().unwrap().keys().collect();
        assert_eq!(attributes, vec!["name"], "{user}");
        let relationships: Vec<&String> =
            user["relationships"].as_object().unwrap().keys().collect();
        assert_eq!(relationships, vec!["teams"], "{user}");
    }
    let teams = included_of(&included.body, "team");
    assert_eq!(
        set(&teams.keys().collect::<Vec<_>>()),
        set(&[&o.platform, &o.design])
    );
    for team in teams.values() {
        let attributes: Vec<&String> = team["attributes"].as_object().unwrap().keys().collect();
        assert_eq!(attributes, vec!["name"], "{team}");
    }
    let bob = &included.body["data"][1];
    assert_eq!(
        set(&ids(&bob["relationships"]["teams"]["data"])),
        set(&[&o.platform, &o.design])
    );

    // Offset pages.
    let page = app
        .get(
            &format!("{users}?sort=name&page[size]=3&page[number]=2"),
            token,
        )
        .await;
    page.assert_status(200);
    assert_eq!(page.ids(), vec![o.max.0.clone()]);
    assert_eq!(page.body["meta"]["total"], 4);
    assert!(page.body["links"]["prev"].is_string(), "{}", page.text);
    assert_eq!(page.body["links"]["next"], Value::Null);
    // Cursor pages.
    let first = app
        .get_cursor(&format!("{users}?sort=name&page[size]=3"), token)
        .await;
    first.assert_status(200);
    assert_eq!(
        first.ids(),
        vec![o.ada.0.clone(), o.bob.0.clone(), o.cy.clone()]
    );
    assert!(first.body["meta"]["total"].is_null(), "{}", first.text);
    let next = first.body["links"]["next"]
        .as_str()
        .expect("next")
        .to_owned();
    let second = app.get(&next, token).await;
    second.assert_status(200);
    assert_eq!(second.ids(), vec![o.max.0.clone()]);
    assert_eq!(second.body["links"]["next"], Value::Null);
    let prev = second.body["links"]["prev"]
        .as_str()
        .expect("prev")
        .to_owned();
    assert_eq!(
        app.get(&prev, token).await.ids(),
        vec![o.ada.0.clone(), o.bob.0.clone(), o.cy.clone()]
    );

    // The other direction.
    let bobs = format!("/users/{}/teams", o.bob.0);
    let resp = app
        .get(
            &format!("{bobs}?include=users&sort=-name&fields[team]=name,users"),
            token,
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.ids(), vec![o.platform.clone(), o.design.clone()]);
    assert_eq!(included_of(&resp.body, "user").len(), 4);
    assert_eq!(
        app.get(&format!("{bobs}?filter[name]=des"), token)
            .await
            .ids(),
        vec![o.design.clone()]
    );
    let page = app
        .get(
            &format!("{bobs}?sort=name&page[size]=1&page[number]=2"),
            token,
        )
        .await;
    assert_eq!(page.ids(), vec![o.platform.clone()]);
    assert_eq!(page.body["meta"]["total"], 2);
    let first = app
        .get_cursor(&format!("{bobs}?sort=name&page[size]=1"), token)
        .await;
    assert_eq!(first.ids(), vec![o.design.clone()]);
    let second = app
        .get(first.body["links"]["next"].as_str().expect("next"), token)
        .await;
    assert_eq!(second.ids(), vec![o.platform.clone()]);

    // A change shows at once.
    send(
        &app,
        Method::DELETE,
        &format!("/users/{}/relationships/teams", o.bob.0),
        token,
        &identifiers("team", &[&o.platform]),
    )
    .await
    .assert_status(204);
    assert_eq!(app.get(&bobs, token).await.ids(), vec![o.design.clone()]);
    assert_eq!(app.get(&users, token).await.body["meta"]["total"], 3);
}

/// A platform admin acts on any account's resources by id (SPEC §4), through the
/// relationship endpoints as through `POST /team_memberships`.
#[tokio::test]
async fn a_platform_admin_changes_another_accounts_team_members() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let root = app.tenant("root", true).await;
    let owner = &o.owner.token;
    let platform_users = format!("/teams/{}/relationships/users", o.platform);
    let bob_teams = format!("/users/{}/relationships/teams", o.bob.0);
    // The resource endpoint works for it.
    app.post(
        "/team_memberships",
        Some(&root.token),
        &team_membership_doc(&o.ada.0, &o.design, "member"),
    )
    .await
    .assert_status(201);

    send(
        &app,
        Method::POST,
        &platform_users,
        &root.token,
        &identifiers("user", &[&o.cy]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        linkage(&app, &platform_users, owner).await,
        set(&[&o.max.0, &o.bob.0, &o.cy])
    );
    send(
        &app,
        Method::DELETE,
        &platform_users,
        &root.token,
        &identifiers("user", &[&o.cy]),
    )
    .await
    .assert_status(204);
    assert_eq!(
        linkage(&app, &platform_users, owner).await,
        set(&[&o.max.0, &o.bob.0])
    );
    // Replace {Platform, Design} by {Design}, then by nothing.
    send(
        &app,
        Method::PATCH,
        &bob_teams,
        &root.token,
        &identifiers("team", &[&o.design]),
    )
    .await
    .assert_status(204);
    assert_eq!(linkage(&app, &bob_teams, owner).await, set(&[&o.design]));
    send(
        &app,
        Method::PATCH,
        &bob_teams,
        &root.token,
        &identifiers::<&str>("team", &[]),
    )
    .await
    .assert_status(204);
    assert_eq!(linkage(&app, &bob_teams, owner).await, BTreeSet::new());
}

// ---------------------------------------------------------------------------------
// 5. Devices

fn device_doc(device_type: &str, sub_type: Option<&str>, token: &str) -> Value {
    json!({"data": {"type": "device", "attributes": {
        "device_type": device_type, "sub_type": sub_type, "token": token
    }}})
}

#[tokio::test]
async fn devices_are_managed_by_their_user() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let (ada_id, ada) = (&o.ada.0, &o.ada.1);

    let created = app
        .post(
            "/devices",
            Some(ada),
            &device_doc("ios", Some("iphone"), "apns-secret-1"),
        )
        .await;
    created.assert_status(201);
    assert_location(&created);
    let data = &created.body["data"];
    let id = data["id"].as_str().unwrap().to_owned();
    assert_eq!(data["type"], "device");
    assert_eq!(data["attributes"]["device_type"], "ios");
    assert_eq!(data["attributes"]["sub_type"], "iphone");
    assert_eq!(data["attributes"]["token"], "apns-secret-1");
    assert_eq!(data["attributes"]["enabled"], true);
    assert_eq!(
        data["relationships"]["user"]["data"],
        json!({"type": "user", "id": ada_id})
    );
    assert_eq!(
        data["meta"]["permissions"]["actions"],
        json!({"edit": true, "delete": true})
    );
    let events = audit_events(&app, &o.owner.token, "device.created", &id).await;
    the_event(&events, ada_id);
    assert!(
        !serde_json::to_string(&events)
            .unwrap()
            .contains("apns-secret-1"),
        "the token is never in the audit log: {events:?}"
    );
    assert_eq!(app.get("/devices", ada).await.ids(), vec![id.clone()]);

    // Its token is unique per user; another user may have the same one.
    let resp = app
        .post(
            "/devices",
            Some(ada),
            &device_doc("android", None, "apns-secret-1"),
        )
        .await;
    resp.assert_error(409, "taken");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/token");
    app.post(
        "/devices",
        Some(&o.bob.1),
        &device_doc("ios", Some("ipad"), "apns-secret-1"),
    )
    .await
    .assert_status(201);
    let web = app
        .post("/devices", Some(ada), &device_doc("web", None, "webpush-2"))
        .await;
    web.assert_status(201);
    assert_eq!(web.body["data"]["attributes"]["sub_type"], Value::Null);
    let web = web.body["data"]["id"].as_str().unwrap().to_owned();
    let resp = app
        .patch(
            &format!("/devices/{web}"),
            ada,
            &json!({"data": {"type": "device", "id": web, "attributes": {"token": "apns-secret-1"}}}),
        )
        .await;
    resp.assert_error(409, "taken");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/token");

    // Validation.
    for (body, pointer) in [
        (
            device_doc("blackberry", None, "t"),
            "/data/attributes/device_type",
        ),
        (
            device_doc("ios", Some("watch"), "t"),
            "/data/attributes/sub_type",
        ),
        (device_doc("ios", None, ""), "/data/attributes/token"),
        (
            json!({"data": {"type": "device", "attributes": {"token": "t"}}}),
            "/data/attributes/device_type",
        ),
    ] {
        let resp = app.post("/devices", Some(ada), &body).await;
        resp.assert_error(422, "validation_failed");
        assert_eq!(resp.error()["source"]["pointer"], pointer, "{body}");
    }
    // One registers only its own devices.
    app.post(
        "/devices",
        Some(ada),
        &json!({"data": {"type": "device",
            "attributes": {"device_type": "ios", "token": "x"},
            "relationships": {"user": {"data": {"type": "user", "id": o.bob.0}}}}}),
    )
    .await
    .assert_error(403, "forbidden");

    // Update.
    let updated = app
        .patch(
            &format!("/devices/{id}"),
            ada,
            &json!({"data": {"type": "device", "id": id, "attributes": {
                "enabled": false, "sub_type": null, "token": "apns-secret-2"
            }}}),
        )
        .await;
    updated.assert_status(200);
    let attributes = &updated.body["data"]["attributes"];
    assert_eq!(attributes["enabled"], false);
    assert_eq!(attributes["sub_type"], Value::Null);
    assert_eq!(attributes["token"], "apns-secret-2");
    let events = audit_events(&app, &o.owner.token, "device.updated", &id).await;
    let changes = the_event(&events, ada_id);
    assert_eq!(changes["enabled"], json!([true, false]));
    let text = serde_json::to_string(&events).unwrap();
    assert!(
        !text.contains("apns-secret-1") && !text.contains("apns-secret-2"),
        "{text}"
    );

    // Delete.
    app.delete(&format!("/devices/{id}"), ada)
        .await
        .assert_status(204);
    the_event(
        &audit_events(&app, &o.owner.token, "device.deleted", &id).await,
        ada_id,
    );
    app.get(&format!("/devices/{id}"), ada)
        .await
        .assert_error(404, "not_found");
    // Its token is free again.
    app.post(
        "/devices",
        Some(ada),
        &device_doc("ios", Some("ipod"), "apns-secret-2"),
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn admins_read_devices_but_only_their_user_changes_them() {
    let app = spawn_app().await;
    let o = org(&app).await;
    let (ada_id, ada) = (&o.ada.0, &o.ada.1);
    let device = app
        .post(
            "/devices",
            Some(ada),
            &device_doc("android", None, "fcm-ada"),
        )
        .await;
    let device = device.body["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/devices/{device}");
    let patch = json!({"data": {"type": "device", "id": device, "attributes": {"enabled": false}}});

    for admin in [&o.owner.token, &o.admin] {
        let shown = app.get(&path, admin).await;
        shown.assert_status(200);
        assert_eq!(
            shown.body["data"]["meta"]["permissions"]["actions"],
            json!({"edit": false, "delete": false})
        );
        app.patch(&path, admin, &patch)
            .await
            .assert_error(403, "forbidden");
        app.delete(&path, admin)
            .await
            .assert_error(403, "forbidden");
        let user = app
            .get(&format!("/users/{ada_id}?include=devices"), admin)
            .await;
        user.assert_status(200);
        assert_eq!(
            ids(&user.body["data"]["relationships"]["devices"]["data"]),
            vec![device.clone()]
        );
        let included = included_of(&user.body, "device");
        assert_eq!(included.len(), 1);
        assert_eq!(included[&device]["attributes"]["device_type"], "android");
        let listed = app
            .get(&format!("/devices?filter[user]={ada_id}"), admin)
            .await;
        assert_eq!(listed.ids(), vec![device.clone()]);
    }
    // Another member, the maintainer of a team Ada is in, another account: not found.
    app.add_to_team(&o.platform, ada_id, "member");
    for other in [&o.bob.1, &o.max.1, &o.globex.token] {
        app.get(&path, other).await.assert_error(404, "not_found");
        app.patch(&path, other, &patch)
            .await
            .assert_error(404, "not_found");
        app.delete(&path, other)
            .await
            .assert_error(404, "not_found");
        assert!(app.get("/devices", other).await.ids().is_empty());
    }
    for other in [&o.bob.1, &o.max.1] {
        let user = app
            .get(&format!("/users/{ada_id}?include=devices"), other)
            .await;
        user.assert_status(200);
        assert_eq!(
            user.body["data"]["relationships"]["devices"]["data"],
            json!([]),
            "{}",
            user.text
        );
        assert_eq!(user.body["included"], json!([]));
        let related = app.get(&format!("/users/{ada_id}/devices"), other).await;
        assert!(related.ids().is_empty(), "{}", related.text);
    }
    // Unchanged, and still Ada's to change.
    let shown = app.get(&path, ada).await;
    assert_eq!(shown.body["data"]["attributes"]["enabled"], true);
    app.patch(&path, ada, &patch).await.assert_status(200);
}

// ---------------------------------------------------------------------------------
// 6. Statement counts

#[tokio::test]
async fn teams_and_a_users_teams_cost_the_same_statements_at_any_page_size() {
    let app = spawn_app().await;
    // One account, 100 users, 60 teams, every user in 12 teams.
    app.seed(1, 100, 60, 12);
    let token = app
        .sign_in("seed-0", "user-0@seed-0.test", "password-0")
        .await;
    for (include, segments) in [("", 0), ("users", 1), ("users,team_memberships", 2)] {
        let mut counts = Vec::new();
        for size in [5, 50] {
            let resp = app
                .get(
                    &format!("/teams?include={include}&page[size]={size}"),
                    &token,
                )
                .await;
            resp.assert_status(200);
            assert_eq!(resp.ids().len(), size);
            if !include.is_empty() {
                assert!(!included_of(&resp.body, "user").is_empty(), "{include}");
            }
            counts.push(queries(&resp));
        }
        assert_eq!(counts[0], counts[1], "include={include}: {counts:?}");
        assert_eq!(counts[0], 2 + segments, "include={include}");
    }

    let me = app.get("/me", &token).await;
    let me = me.body["data"]["id"].as_str().unwrap().to_owned();
    for (include, segments) in [("", 0), ("users", 1), ("users,team_memberships", 2)] {
        let mut counts = Vec::new();
        for size in [3, 12] {
            let resp = app
                .get(
                    &format!("/users/{me}/teams?include={include}&page[size]={size}"),
                    &token,
                )
                .await;
            resp.assert_status(200);
            assert_eq!(resp.ids().len(), size, "{}", resp.text);
            counts.push(queries(&resp));
        }
        assert_eq!(counts[0], counts[1], "include={include}: {counts:?}");
        // Auth, the user, the page; one per include segment.
        assert_eq!(counts[0], 3 + segments, "include={include}");
    }
}
