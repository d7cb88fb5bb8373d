//! Whole-document snapshots of the wire format (insta). Ids are numbered by first
//! appearance, timestamps in the contract's format, tokens and cursors are redacted, and
//! links are rebased on `http://roster.test`: the same `.snap` must hold on SQLite and
//! PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

macro_rules! assert_document {
    ($name:expr, $app:expr, $resp:expr) => {
        insta::assert_json_snapshot!($name, normalize(&$resp.body, $app.port), {
            ".data.attributes.token" => "[token]",
        })
    };
}

async fn acme_with_team(app: &TestApp) -> (Owner, String) {
    let owner = app.owner().await;
    let ada = app
        .create_user(
            &owner.token,
            json!({"name": "Ada Lovelace", "email": "ada@acme.test", "identifier": "emp-1",
                   "avatar": "ada.png", "timezone": "Europe/London",
                   "preferences": {"theme": "dark", "digest": {"daily": true}}}),
            Value::Null,
        )
        .await;
    let team = app.insert_team(&owner.account_id, "Platform");
    app.add_to_team(&team, &ada, "maintainer");
    app.add_to_team(&team, &owner.user_id, "member");
    (owner, ada)
}

#[tokio::test]
async fn snapshot_of_a_user() {
    let app = spawn_app().await;
    let (owner, ada) = acme_with_team(&app).await;
    let resp = app.get(&format!("/users/{ada}"), &owner.token).await;
    resp.assert_status(200);
    assert_document!("user", app, resp);
}

#[tokio::test]
async fn snapshot_of_a_users_page_with_account_and_teams() {
    let app = spawn_app().await;
    let (owner, _) = acme_with_team(&app).await;
    app.create_user(
        &owner.token,
        json!({"name": "Grace Hopper", "email": "grace@acme.test"}),
        json!({"invite": true}),
    )
    .await;
    let resp = app
        .get("/users?include=account,teams&page[size]=2", &owner.token)
        .await;
    resp.assert_status(200);
    assert_document!("users_page_with_account_and_teams", app, resp);
}

#[tokio::test]
async fn snapshot_of_a_cursor_page() {
    let app = spawn_app().await;
    let (owner, _) = acme_with_team(&app).await;
    app.create_user(&owner.token, json!({"name": "Grace Hopper"}), Value::Null)
        .await;
    let first = app
        .get_cursor(
            "/users?sort=name&page[size]=2&fields[user]=name",
            &owner.token,
        )
        .await;
    let next = first.body["links"]["next"].as_str().unwrap();
    let resp = app.get(next, &owner.token).await;
    resp.assert_status(200);
    assert_document!("users_cursor_page", app, resp);
}

#[tokio::test]
async fn snapshot_of_a_created_session() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    resp.assert_status(201);
    assert_document!("session_created", app, resp);
}

#[tokio::test]
async fn snapshot_of_a_created_invited_user() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .try_create_user(
            &owner.token,
            json!({"name": "Ivy Invited", "email": "ivy@acme.test"}),
            json!({"invite": true, "role": "admin"}),
        )
        .await;
    resp.assert_status(201);
    assert_document!("user_created_invited", app, resp);
}

#[tokio::test]
async fn snapshots_of_error_documents() {
    let app = spawn_app().await;
    let owner = app.owner().await;

    let unsupported = app
        .request(
            Method::POST,
            "/users",
            Some(&owner.token),
            &[("content-type", "application/json")],
            Some(br#"{"data":{"type":"user","attributes":{"name":"X"}}}"#.to_vec()),
        )
        .await;
    unsupported.assert_status(415);
    assert_document!("error_415", app, unsupported);

    let include = app
        .get("/users?include=teams.users.teams.users", &owner.token)
        .await;
    include.assert_status(400);
    assert_document!("error_400_include", app, include);

    let invalid = app
        .try_create_user(
            &owner.token,
            json!({"name": "", "email": "not-an-email", "avatar": "../x",
                   "timezone": "Mars/Base", "preferences": "dark"}),
            Value::Null,
        )
        .await;
    invalid.assert_status(422);
    assert_document!("error_422", app, invalid);

    let missing = app
        .get("/users/0190b2c4-0000-7000-8000-000000000000", &owner.token)
        .await;
    missing.assert_status(404);
    assert_document!("error_404", app, missing);

    let unauthorized = app.get_with("/users", None, &[]).await;
    unauthorized.assert_status(401);
    assert_document!("error_401", app, unauthorized);

    let credentials = app
        .try_sign_in("acme", &owner.email, "wrong-password")
        .await;
    credentials.assert_status(401);
    assert_document!("error_401_invalid_credentials", app, credentials);

    let too_big = app.get("/users?page[size]=101", &owner.token).await;
    too_big.assert_status(400);
    assert_document!("error_400_page_size", app, too_big);
}

#[tokio::test]
async fn snapshots_of_an_account_invitation_and_its_acceptance() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let globex = app.tenant("globex", false).await;
    let created = app
        .post(
            "/account_invitations",
            Some(&owner.token),
            &json!({"data": {"type": "account_invitation",
                    "attributes": {"email": "owner@globex.test", "role": "admin"}}}),
        )
        .await;
    created.assert_status(201);
    assert_document!("account_invitation_created", app, created);
    let token = created.body["meta"]["invitation"]["token"]
        .as_str()
        .expect("token");
    let accepted = app
        .post(
            "/account_invitations/accept?include=account",
            Some(&globex.token),
            &json!({"data": {"type": "account_invitation_acceptance",
                    "attributes": {"token": token}}}),
        )
        .await;
    accepted.assert_status(201);
    assert_document!("account_invitation_accepted", app, accepted);
}

#[tokio::test]
async fn snapshot_of_audit_events_with_their_targets() {
    let app = spawn_app().await;
    // `account.created` and the owner's `session.created`, then a user and two teams,
    // one of them deleted: its events stay linked to it, it is not included.
    let owner = app.owner().await;
    app.create_user(
        &owner.token,
        json!({"name": "Ada Lovelace", "email": "ada@acme.test"}),
        Value::Null,
    )
    .await;
    for name in ["Platform", "Gone"] {
        let team = app
            .post(
                "/teams",
                Some(&owner.token),
                &json!({"data": {"type": "team", "attributes": {"name": name}}}),
            )
            .await;
        team.assert_status(201);
        if name == "Gone" {
            let id = team.body["data"]["id"].as_str().expect("id");
            app.delete(&format!("/teams/{id}"), &owner.token)
                .await
                .assert_status(204);
        }
    }
    let resp = app
        .get(
            "/audit_events?include=target&sort=occurred_at",
            &owner.token,
        )
        .await;
    resp.assert_status(200);
    assert_document!("audit_events_with_targets", app, resp);
}

/// One document per remaining type, as its own endpoint shows it: a team with its
/// members' memberships, an account, a device.
#[tokio::test]
async fn snapshots_of_a_team_an_account_and_a_device() {
    let app = spawn_app().await;
    let (owner, _) = acme_with_team(&app).await;
    let teams = app.get("/teams", &owner.token).await;
    let team = teams.ids()[0].clone();
    let resp = app
        .get(
            &format!("/teams/{team}?include=team_memberships"),
            &owner.token,
        )
        .await;
    resp.assert_status(200);
    assert_document!("team_with_memberships", app, resp);

    let resp = app
        .get(&format!("/accounts/{}", owner.account_id), &owner.token)
        .await;
    resp.assert_status(200);
    assert_document!("account", app, resp);

    let resp = app
        .post(
            "/devices",
            Some(&owner.token),
            &json!({"data": {"type": "device", "attributes": {
                "device_type": "ios", "sub_type": "ipad", "token": "push-token-1"}}}),
        )
        .await;
    resp.assert_status(201);
    assert_document!("device_created", app, resp);
}

#[tokio::test]
async fn snapshot_of_an_atomic_operations_response() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let atomic = "application/vnd.api+json; ext=\"https://jsonapi.org/ext/atomic\"";
    let batch = json!({"atomic:operations": [
        {"op": "add", "data": {"type": "user", "lid": "ada",
            "attributes": {"name": "Ada Lovelace", "email": "ada@acme.test"}}},
        {"op": "add", "data": {"type": "team", "lid": "core", "attributes": {"name": "Core"},
            "relationships": {"users": {"data": [{"type": "user", "lid": "ada"}]}}}},
        {"op": "remove", "ref": {"type": "team", "lid": "core", "relationship": "users"},
            "data": [{"type": "user", "lid": "ada"}]},
    ]});
    let resp = app
        .request(
            Method::POST,
            "/operations",
            Some(&owner.token),
            &[("content-type", atomic)],
            Some(serde_json::to_vec(&batch).expect("json")),
        )
        .await;
    resp.assert_status(200);
    assert_document!("atomic_operations", app, resp);
}
