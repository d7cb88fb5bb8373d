//! SPEC §6, Atomic Operations: `POST /api/v1/operations` runs `add`, `update` and
//! `remove` on resources and relationships in one transaction — all or nothing — each
//! authorized as if sent alone, with `lid`s (and, as Orbit.js sends them, client ids)
//! naming resources created earlier in the batch, and errors pointing into the batch.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::org::{identifiers, linkage, set};

const ATOMIC: &str = "application/vnd.api+json; ext=\"https://jsonapi.org/ext/atomic\"";

async fn operations(app: &TestApp, token: &str, operations: Value) -> Resp {
    app.request(
        Method::POST,
        "/operations",
        Some(token),
        &[("content-type", ATOMIC), ("accept", ATOMIC)],
        Some(serde_json::to_vec(&json!({ "atomic:operations": operations })).expect("json")),
    )
    .await
}

#[track_caller]
fn assert_batch_error(resp: &Resp, status: u16, code: &str, pointer: &str) {
    assert_eq!(resp.status.as_u16(), status, "{}", resp.text);
    assert_eq!(resp.header("content-type"), Some(ATOMIC), "{}", resp.text);
    assert_eq!(resp.error_code(), code, "{}", resp.text);
    assert_eq!(resp.error()["source"]["pointer"], pointer, "{}", resp.text);
}

async fn total(app: &TestApp, path: &str, token: &str) -> u64 {
    let resp = app.get(path, token).await;
    resp.assert_status(200);
    resp.body["meta"]["total"].as_u64().expect("total")
}

#[tokio::test]
async fn a_batch_creates_resources_and_links_them_by_lid_in_one_transaction() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = operations(
        &app,
        &owner.token,
        json!([
            {"op": "add", "data": {"type": "user", "lid": "ada",
                "attributes": {"name": "Ada", "email": "ada@acme.test", "password": "correct horse battery"}}},
            {"op": "add", "data": {"type": "team", "lid": "core", "attributes": {"name": "Core"},
                "relationships": {"users": {"data": [{"type": "user", "lid": "ada"}]}}}},
            {"op": "add", "href": "/api/v1/users", "data": {"type": "user", "lid": "bob",
                "attributes": {"name": "Bob"}}, "meta": {"invite": true}},
            {"op": "add", "ref": {"type": "team", "lid": "core", "relationship": "users"},
                "data": [{"type": "user", "lid": "bob"}]},
            {"op": "update", "data": {"type": "team", "lid": "core",
                "attributes": {"description": "The core team"}}},
        ]),
    )
    .await;
    resp.assert_status(200);
    assert_eq!(resp.header("content-type"), Some(ATOMIC));
    assert_eq!(
        resp.body["jsonapi"]["ext"],
        json!(["https://jsonapi.org/ext/atomic"])
    );
    let results = resp.body["atomic:results"].as_array().expect("results");
    assert_eq!(results.len(), 5, "{}", resp.text);
    let ada = results[0]["data"]["id"].as_str().expect("ada").to_owned();
    assert_eq!(results[0]["data"]["lid"], "ada");
    assert_eq!(results[0]["data"]["attributes"]["status"], "active");
    assert!(results[0]["data"]["attributes"].get("password").is_none());
    let core = results[1]["data"]["id"].as_str().expect("core").to_owned();
    let bob = results[2]["data"]["id"].as_str().expect("bob").to_owned();
    assert_eq!(results[2]["data"]["attributes"]["status"], "invited");
    assert!(
        results[2]["meta"]["invitation"]["token"].is_string(),
        "the one-time invitation is the result's meta: {}",
        resp.text
    );
    assert_eq!(results[3], json!({}));
    assert_eq!(
        results[4]["data"]["attributes"]["description"],
        "The core team"
    );
    assert_eq!(
        results[1]["data"]["links"]["self"],
        format!("{}/teams/{core}", app.api_base())
    );
    assert_eq!(
        linkage(
            &app,
            &format!("/teams/{core}/relationships/users"),
            &owner.token
        )
        .await,
        set(&[&ada, &bob])
    );
    // The new user signs in with the password hashed before the transaction.
    app.sign_in("acme", "ada@acme.test", "correct horse battery")
        .await;
    // Each change was recorded as a single request would have been.
    for (action, target) in [
        ("user.created", &ada),
        ("team.created", &core),
        ("user.invited", &bob),
        ("team.updated", &core),
    ] {
        assert_eq!(
            audit_events(&app, &owner.token, action, target).await.len(),
            1,
            "{action}"
        );
    }
}

#[tokio::test]
async fn any_failure_rolls_the_whole_batch_back_and_points_at_the_operation() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let users_before = total(&app, "/users", &owner.token).await;
    let resp = operations(
        &app,
        &owner.token,
        json!([
            {"op": "add", "data": {"type": "user", "attributes": {"name": "One", "email": "one@acme.test"}}},
            {"op": "add", "data": {"type": "team", "attributes": {"name": "Kept?"}}},
            {"op": "add", "data": {"type": "user", "attributes": {"name": "Two", "email": "not an email"}}},
        ]),
    )
    .await;
    assert_batch_error(
        &resp,
        422,
        "validation_failed",
        "/atomic:operations/2/data/attributes/email",
    );
    assert_eq!(total(&app, "/users", &owner.token).await, users_before);
    assert_eq!(total(&app, "/teams", &owner.token).await, 0);
    assert_eq!(
        total(
            &app,
            "/audit_events?filter[action]=user.created",
            &owner.token
        )
        .await,
        0,
        "no audit event of a rolled-back batch"
    );

    // A uniqueness rule broken inside the batch itself: the second is 409 at its email.
    let resp = operations(
        &app,
        &owner.token,
        json!([
            {"op": "add", "data": {"type": "user", "attributes": {"name": "A", "email": "same@acme.test"}}},
            {"op": "add", "data": {"type": "user", "attributes": {"name": "B", "email": "SAME@acme.test"}}},
        ]),
    )
    .await;
    assert_batch_error(
        &resp,
        409,
        "taken",
        "/atomic:operations/1/data/attributes/email",
    );
    assert_eq!(total(&app, "/users", &owner.token).await, users_before);

    // Options of an operation are its `meta`, and point there.
    let resp = operations(
        &app,
        &owner.token,
        json!([{"op": "add", "data": {"type": "user", "attributes": {"name": "C"}},
                "meta": {"role": "emperor"}}]),
    )
    .await;
    assert_batch_error(
        &resp,
        422,
        "validation_failed",
        "/atomic:operations/0/meta/role",
    );
}

#[tokio::test]
async fn every_operation_is_authorized_as_if_sent_alone() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let globex = app.tenant("globex", false).await;
    let (member_id, member) = app
        .member(&owner.token, "acme", "Mia", "mia@acme.test", "member")
        .await;
    let theirs = app.insert_team(&globex.account_id, "Theirs");
    let core_id = app.insert_team(&owner.account_id, "Core");

    // A member may change itself, not create users: the second operation is 403 and
    // the first is undone with it.
    let resp = operations(
        &app,
        &member,
        json!([
            {"op": "update", "data": {"type": "user", "id": member_id, "attributes": {"name": "Mia M."}}},
            {"op": "add", "data": {"type": "user", "attributes": {"name": "Sneaky"}}},
        ]),
    )
    .await;
    assert_batch_error(&resp, 403, "forbidden", "/atomic:operations/1");
    let me = app.get(&format!("/users/{member_id}"), &member).await;
    assert_ne!(me.body["data"]["attributes"]["name"], "Mia M.");

    // Another tenant's team is not there at all: 404, by ref, by href and as a linkage.
    for operation in [
        json!({"op": "remove", "ref": {"type": "team", "id": theirs}}),
        json!({"op": "remove", "href": format!("/api/v1/teams/{theirs}")}),
        json!({"op": "update", "data": {"type": "team", "id": theirs, "attributes": {"name": "Mine"}}}),
        json!({"op": "add", "ref": {"type": "team", "id": theirs, "relationship": "users"},
               "data": [{"type": "user", "id": owner.user_id}]}),
    ] {
        let resp = operations(&app, &owner.token, json!([operation])).await;
        assert_eq!(resp.status.as_u16(), 404, "{}", resp.text);
        assert_eq!(resp.error_code(), "not_found");
    }
    let resp = operations(
        &app,
        &owner.token,
        json!([{"op": "add", "data": {"type": "user", "attributes": {"name": "Ned"},
                "relationships": {"teams": identifiers("team", &[&core_id, &theirs])}}}]),
    )
    .await;
    assert_batch_error(
        &resp,
        404,
        "not_found",
        "/atomic:operations/0/data/relationships/teams/data/1",
    );

    // Audit events are never written by clients; invitations are not updated.
    let resp = operations(
        &app,
        &owner.token,
        json!([{"op": "add", "data": {"type": "audit_event", "attributes": {}}}]),
    )
    .await;
    assert_batch_error(&resp, 403, "forbidden", "/atomic:operations/0");
}

#[tokio::test]
async fn client_ids_as_orbit_sends_them_resolve_like_lids() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let user = uuid::Uuid::new_v4().to_string();
    let team = uuid::Uuid::new_v4().to_string();
    let resp = operations(
        &app,
        &owner.token,
        json!([
            {"op": "add", "ref": {"type": "user"}, "data": {"type": "user", "id": user, "attributes": {"name": "Orbit"}}},
            {"op": "add", "ref": {"type": "team"}, "data": {"type": "team", "id": team, "attributes": {"name": "Orbiters"}}},
            {"op": "add", "ref": {"type": "team", "id": team, "relationship": "users"},
                "data": [{"type": "user", "id": user}]},
            {"op": "update", "ref": {"type": "user", "id": user},
                "data": {"type": "user", "id": user, "attributes": {"timezone": "Europe/Paris"}}},
            {"op": "remove", "ref": {"type": "team", "id": team, "relationship": "users"},
                "data": [{"type": "user", "id": user}]},
            {"op": "remove", "ref": {"type": "team", "id": team}},
        ]),
    )
    .await;
    resp.assert_status(200);
    let results = resp.body["atomic:results"].as_array().expect("results");
    assert_eq!(results[0]["data"]["id"], user.as_str());
    assert_eq!(results[3]["data"]["attributes"]["timezone"], "Europe/Paris");
    assert_eq!(results[4], json!({}));
    assert_eq!(results[5], json!({}));
    let deleted = app.get(&format!("/teams/{team}"), &owner.token).await;
    assert!(deleted.body["data"]["attributes"]["discarded_at"].is_string());

    // A client id that exists already: 409 at that operation's id.
    let resp = operations(
        &app,
        &owner.token,
        json!([{"op": "add", "data": {"type": "user", "id": user, "attributes": {"name": "Again"}}}]),
    )
    .await;
    assert_batch_error(&resp, 409, "conflict", "/atomic:operations/0/data/id");
}

#[tokio::test]
async fn malformed_batches_are_refused_before_anything_runs() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!([{"op": "upsert", "data": {}}]),
            400,
            "invalid_document",
            "/atomic:operations/0/op",
        ),
        (
            json!([{"data": {}}]),
            400,
            "invalid_document",
            "/atomic:operations/0",
        ),
        (
            json!(["add"]),
            400,
            "invalid_document",
            "/atomic:operations/0",
        ),
        (
            json!([{"op": "add", "ref": {"type": "user"}, "href": "/api/v1/users", "data": {"type": "user"}}]),
            400,
            "invalid_document",
            "/atomic:operations/0",
        ),
        (
            json!([{"op": "update", "data": {"type": "team", "lid": "nowhere", "attributes": {}}}]),
            400,
            "invalid_document",
            "/atomic:operations/0/data/lid",
        ),
        (
            json!([{"op": "add", "data": {"type": "team", "attributes": {"name": "T"},
                "relationships": {"users": {"data": [{"type": "user", "lid": "later"}]}}}},
                   {"op": "add", "data": {"type": "user", "lid": "later", "attributes": {"name": "L"}}}]),
            400,
            "invalid_document",
            "/atomic:operations/0/data/relationships/users/data/0/lid",
        ),
        (
            json!([{"op": "add", "data": {"type": "spaceship", "attributes": {}}}]),
            400,
            "invalid_document",
            "/atomic:operations/0/data/type",
        ),
        (
            json!([{"op": "add", "href": "/elsewhere/users", "data": {"type": "user"}}]),
            400,
            "invalid_document",
            "/atomic:operations/0/href",
        ),
        (
            json!([{"op": "add", "data": {"type": "user", "attributes": {"name": "N"},
                "relationships": {"teams": {"data": [null]}}}}]),
            400,
            "invalid_document",
            "/atomic:operations/0/data/relationships/teams/data/0",
        ),
        (
            json!([{"op": "remove", "ref": {"type": "user", "id": "not-a-uuid"}}]),
            404,
            "not_found",
            "/atomic:operations/0/ref/id",
        ),
    ];
    for (batch, status, code, pointer) in cases {
        let resp = operations(&app, &owner.token, batch.clone()).await;
        assert_eq!(resp.status.as_u16(), status, "{batch}: {}", resp.text);
        assert_eq!(resp.error_code(), code, "{batch}: {}", resp.text);
        assert_eq!(
            resp.error()["source"]["pointer"],
            pointer,
            "{batch}: {}",
            resp.text
        );
    }
    assert_eq!(total(&app, "/teams", &owner.token).await, 0);

    // Not an operations document at all.
    for body in [
        json!({"data": {"type": "user"}}),
        json!({"atomic:operations": []}),
        json!([]),
    ] {
        let resp = app
            .request(
                Method::POST,
                "/operations",
                Some(&owner.token),
                &[("content-type", ATOMIC)],
                Some(serde_json::to_vec(&body).expect("json")),
            )
            .await;
        assert_eq!(resp.status.as_u16(), 400, "{body}: {}", resp.text);
        assert_eq!(resp.error_code(), "invalid_document");
    }
}

#[tokio::test]
async fn the_extension_is_required_and_batches_are_bounded() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let batch = json!({"atomic:operations": [
        {"op": "add", "data": {"type": "team", "attributes": {"name": "T"}}}]});
    // Without the extension in `Content-Type`: 415.
    let resp = app.post("/operations", Some(&owner.token), &batch).await;
    assert_eq!(resp.status.as_u16(), 415, "{}", resp.text);
    assert_eq!(resp.error()["source"]["header"], "Content-Type");
    // Without a token: 401.
    let resp = app
        .request(
            Method::POST,
            "/operations",
            None,
            &[("content-type", ATOMIC)],
            Some(serde_json::to_vec(&batch).expect("json")),
        )
        .await;
    assert_eq!(resp.status.as_u16(), 401, "{}", resp.text);
    // Over 1,000 operations: 413, and nothing created.
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"op": "add", "data": {"type": "team", "attributes": {"name": format!("T{i}")}}}))
        .collect();
    let resp = operations(&app, &owner.token, Value::Array(many)).await;
    assert_batch_error(&resp, 413, "payload_too_large", "/atomic:operations");
    assert_eq!(total(&app, "/teams", &owner.token).await, 0);
    // GET is not how a batch is sent.
    let resp = app.get("/operations", &owner.token).await;
    assert_eq!(resp.status.as_u16(), 405, "{}", resp.text);
}

#[tokio::test]
async fn a_batch_of_users_with_memberships_is_one_transaction_of_bounded_statements() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let core = app.insert_team(&owner.account_id, "Core");
    let count = 50;
    let mut batch = Vec::new();
    for i in 0..count {
        batch.push(
            json!({"op": "add", "data": {"type": "user", "lid": format!("u{i}"),
            "attributes": {"name": format!("User {i}"), "email": format!("u{i}@acme.test"),
                           "password": "correct horse battery"}}}),
        );
        batch.push(json!({"op": "add", "data": {"type": "team_membership",
            "relationships": {"team": {"data": {"type": "team", "id": core}},
                              "user": {"data": {"type": "user", "lid": format!("u{i}")}}}}}));
    }
    let resp = operations(&app, &owner.token, Value::Array(batch)).await;
    resp.assert_status(200);
    let statements = queries(&resp);
    // Per operation a small constant: no statement grows with the size of the batch.
    assert!(
        statements <= 2 * count * 14,
        "{statements} statements for {} operations",
        2 * count
    );
    assert_eq!(
        total(
            &app,
            &format!("/users?filter[team]={core}&page[size]=1"),
            &owner.token
        )
        .await,
        count
    );
}

#[tokio::test]
async fn concurrent_batches_cannot_both_take_one_email() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let batch = |i: usize| {
        json!([
            {"op": "add", "data": {"type": "team", "attributes": {"name": format!("Team {i}")}}},
            {"op": "add", "data": {"type": "user", "attributes": {"name": format!("Racer {i}"),
                "email": "racer@acme.test"}}},
        ])
    };
    let answers =
        futures_util::future::join_all((0..8).map(|i| operations(&app, &owner.token, batch(i))))
            .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    for answer in answers.iter().filter(|r| r.status.as_u16() != 200) {
        assert_batch_error(
            answer,
            409,
            "taken",
            "/atomic:operations/1/data/attributes/email",
        );
    }
    // The losers' teams went with them.
    assert_eq!(total(&app, "/teams", &owner.token).await, 1);
    assert_eq!(
        total(&app, "/users?filter[email]=racer@acme.test", &owner.token).await,
        1
    );
}

#[tokio::test]
async fn query_parameters_are_refused_by_name() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .request(
            Method::POST,
            "/operations?include=teams",
            Some(&owner.token),
            &[("content-type", ATOMIC)],
            Some(
                serde_json::to_vec(&json!({"atomic:operations": [
                    {"op": "add", "data": {"type": "team", "attributes": {"name": "T"}}}]}))
                .expect("json"),
            ),
        )
        .await;
    assert_eq!(resp.status.as_u16(), 400, "{}", resp.text);
    assert_eq!(resp.error_code(), "invalid_parameter");
    assert_eq!(resp.error()["source"]["parameter"], "include");
    assert_eq!(total(&app, "/teams", &owner.token).await, 0);
}
