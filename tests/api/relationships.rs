//! The to-many relationship endpoints of JSON:API "Updating Relationships" — a team's
//! `users` and a user's `teams`: POST adds and DELETE removes idempotently (under
//! concurrent requests too), PATCH replaces the whole set (only what the caller's account
//! sees), changes are all or nothing, documents are checked; the related endpoints with
//! include, fields, sort, filter and pages; platform admins across accounts.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::org::{
    RACE_ROUNDS, create_team, identifiers, linkage, org, send, set, statuses, team_membership_doc,
    team_memberships, the_event,
};

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
