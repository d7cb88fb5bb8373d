//! SPEC §2, relationships in request bodies: honoured in the same transaction, never
//! silently ignored. A user created with `teams` (or a team with `users`) gets those
//! memberships; a PATCH with a to-many relationship replaces the set as the relationship
//! endpoint's PATCH would, authorized member by member; a relationship a write cannot set
//! is 403 at it unless it repeats the current value; a malformed relationship object is
//! 400 `invalid_document`.

use serde_json::json;

use crate::helpers::*;
use crate::org::{identifiers, linkage, set};

#[tokio::test]
async fn a_user_created_with_teams_gets_those_memberships_in_one_transaction() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let globex = app.tenant("globex", false).await;
    let (core, web) = (
        app.insert_team(&owner.account_id, "Core"),
        app.insert_team(&owner.account_id, "Web"),
    );
    let theirs = app.insert_team(&globex.account_id, "Theirs");
    let created = app
        .post(
            "/users",
            Some(&owner.token),
            &json!({"data": {"type": "user", "attributes": {"name": "Tia"},
                    "relationships": {"teams": identifiers("team", &[&core, &web])}}}),
        )
        .await;
    created.assert_status(201);
    let id = created.body["data"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        linkage(
            &app,
            &format!("/users/{id}/relationships/teams"),
            &owner.token
        )
        .await,
        set(&[&core, &web])
    );
    let events = app
        .get(
            "/audit_events?filter[action]=team_membership.created",
            &owner.token,
        )
        .await;
    assert_eq!(events.ids().len(), 2, "{}", events.text);

    // A team the caller cannot see: 404 at it, and no user at all.
    let users_before = app.get("/users", &owner.token).await.body["meta"]["total"].clone();
    let hidden = app
        .post(
            "/users",
            Some(&owner.token),
            &json!({"data": {"type": "user", "attributes": {"name": "Uma"},
                    "relationships": {"teams": identifiers("team", &[&core, &theirs])}}}),
        )
        .await;
    assert_pointer(
        &hidden,
        404,
        "not_found",
        "/data/relationships/teams/data/1",
    );
    assert_eq!(
        app.get("/users", &owner.token).await.body["meta"]["total"],
        users_before
    );
    // Malformed: 400, whatever else the body says.
    for (relationship, pointer) in [
        (
            json!({"data": [null, null]}),
            "/data/relationships/teams/data/0",
        ),
        (
            json!({"data": {"type": "team", "id": core}}),
            "/data/relationships/teams/data",
        ),
        (
            json!([{"type": "team", "id": core}]),
            "/data/relationships/teams",
        ),
        (
            json!({"data": [{"type": "user", "id": core}]}),
            "/data/relationships/teams/data/0/type",
        ),
        (
            json!({"data": [{"type": "team"}]}),
            "/data/relationships/teams/data/0",
        ),
    ] {
        let resp = app
            .post(
                "/users",
                Some(&owner.token),
                &json!({"data": {"type": "user", "attributes": {"name": "Vic"},
                        "relationships": {"teams": relationship}}}),
            )
            .await;
        assert_pointer(&resp, 400, "invalid_document", pointer);
    }
}

#[tokio::test]
async fn a_team_created_with_users_gets_those_memberships() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (ada, _) = app
        .member(&owner.token, "acme", "Ada", "ada@acme.test", "member")
        .await;
    let created = app
        .post(
            "/teams",
            Some(&owner.token),
            &json!({"data": {"type": "team", "attributes": {"name": "Core"},
                    "relationships": {"users": identifiers("user", &[&ada, &owner.user_id])}}}),
        )
        .await;
    created.assert_status(201);
    let team = created.body["data"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        linkage(
            &app,
            &format!("/teams/{team}/relationships/users"),
            &owner.token
        )
        .await,
        set(&[&ada, &owner.user_id])
    );
}

#[tokio::test]
async fn a_patch_with_a_to_many_relationship_replaces_the_set_member_by_member() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (ada, _) = app
        .member(&owner.token, "acme", "Ada", "ada@acme.test", "member")
        .await;
    let (max, max_token) = app
        .member(&owner.token, "acme", "Max", "max@acme.test", "member")
        .await;
    let (core, web) = (
        app.insert_team(&owner.account_id, "Core"),
        app.insert_team(&owner.account_id, "Web"),
    );
    app.add_to_team(&core, &ada, "member");
    app.add_to_team(&core, &max, "maintainer");
    let patch = |teams: &[&str]| {
        json!({"data": {"type": "user", "id": ada, "attributes": {"name": "Ada L."},
                "relationships": {"teams": identifiers("team", teams)}}})
    };
    // Max maintains Core, not Web: putting Ada in Web is not his to do — nothing changes,
    // not even her name.
    app.patch(&format!("/users/{ada}"), &max_token, &patch(&[&core, &web]))
        .await
        .assert_error(403, "forbidden");
    assert_eq!(
        linkage(
            &app,
            &format!("/users/{ada}/relationships/teams"),
            &owner.token
        )
        .await,
        set(&[&core])
    );
    // The owner moves her from Core to Web, in the same request as the rename.
    let moved = app
        .patch(&format!("/users/{ada}"), &owner.token, &patch(&[&web]))
        .await;
    moved.assert_status(200);
    assert_eq!(moved.body["data"]["attributes"]["name"], "Ada L.");
    assert_eq!(
        linkage(
            &app,
            &format!("/users/{ada}/relationships/teams"),
            &owner.token
        )
        .await,
        set(&[&web])
    );
    // An empty set empties it.
    app.patch(&format!("/users/{ada}"), &owner.token, &patch(&[]))
        .await
        .assert_status(200);
    assert!(
        linkage(
            &app,
            &format!("/users/{ada}/relationships/teams"),
            &owner.token
        )
        .await
        .is_empty()
    );
    // A team's users, likewise.
    let resp = app
        .patch(
            &format!("/teams/{core}"),
            &owner.token,
            &json!({"data": {"type": "team", "id": core,
                    "relationships": {"users": identifiers("user", &[&ada])}}}),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(
        linkage(
            &app,
            &format!("/teams/{core}/relationships/users"),
            &owner.token
        )
        .await,
        set(&[&ada])
    );
}

#[tokio::test]
async fn a_relationship_a_write_cannot_set_is_403_unless_it_repeats_the_current_value() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let globex = app.tenant("globex", false).await;
    let (ada, _) = app
        .member(&owner.token, "acme", "Ada", "ada@acme.test", "member")
        .await;
    let account = |id: &str| json!({"data": {"type": "account", "id": id}});
    // A user's home account: repeating it is fine (Ember Data sends whole records).
    app.patch(
        &format!("/users/{ada}"),
        &owner.token,
        &json!({"data": {"type": "user", "id": ada,
                "relationships": {"account": account(&owner.account_id)}}}),
    )
    .await
    .assert_status(200);
    let moved = app
        .patch(
            &format!("/users/{ada}"),
            &owner.token,
            &json!({"data": {"type": "user", "id": ada,
                    "relationships": {"account": account(&globex.account_id)}}}),
        )
        .await;
    assert_pointer(&moved, 403, "forbidden", "/data/relationships/account");
    // On create: the account it will have, or 403.
    app.post(
        "/users",
        Some(&owner.token),
        &json!({"data": {"type": "user", "attributes": {"name": "Bea"},
                "relationships": {"account": account(&owner.account_id)}}}),
    )
    .await
    .assert_status(201);
    let elsewhere = app
        .post(
            "/users",
            Some(&owner.token),
            &json!({"data": {"type": "user", "attributes": {"name": "Cal"},
                    "relationships": {"account": account(&globex.account_id)}}}),
        )
        .await;
    assert_pointer(&elsewhere, 403, "forbidden", "/data/relationships/account");
    // To-many relationships that are not written this way: the current set, or 403.
    let memberships = app
        .get(
            &format!("/users/{ada}/relationships/account_memberships"),
            &owner.token,
        )
        .await;
    let current = memberships.body.clone();
    app.patch(
        &format!("/users/{ada}"),
        &owner.token,
        &json!({"data": {"type": "user", "id": ada,
                "relationships": {"account_memberships": {"data": current["data"]}}}}),
    )
    .await
    .assert_status(200);
    let emptied = app
        .patch(
            &format!("/users/{ada}"),
            &owner.token,
            &json!({"data": {"type": "user", "id": ada,
                    "relationships": {"account_memberships": {"data": []}}}}),
        )
        .await;
    assert_pointer(
        &emptied,
        403,
        "forbidden",
        "/data/relationships/account_memberships",
    );
    // A membership's user.
    let membership = memberships.ids()[0].clone();
    let reassigned = app
        .patch(
            &format!("/account_memberships/{membership}"),
            &owner.token,
            &json!({"data": {"type": "account_membership", "id": membership,
                    "relationships": {"user": {"data": {"type": "user", "id": owner.user_id}}}}}),
        )
        .await;
    assert_pointer(&reassigned, 403, "forbidden", "/data/relationships/user");
    // Signing in names no relationships.
    let resp = app
        .post(
            "/sessions",
            None,
            &json!({"data": {"type": "session",
                    "attributes": {"account": "acme", "email": "owner@acme.test", "password": OWNER_PASSWORD},
                    "relationships": {"user": {"data": {"type": "user", "id": ada}}}}}),
        )
        .await;
    assert_pointer(&resp, 403, "forbidden", "/data/relationships/user");
}
