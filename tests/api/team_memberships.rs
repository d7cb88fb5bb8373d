//! SPEC §4 team_membership — the write side through `/team_memberships`: created,
//! re-roled and removed, who may by their team role, and one membership when the same one
//! is created twice at the same moment.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use crate::org::{
    RACE_ROUNDS, assert_location, create_team, identifiers, linkage, org, role_doc, send, statuses,
    team_membership_doc, team_memberships, the_event,
};

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
