//! SPEC §4 team — the write side: who may create, rename and delete teams (owners, admins,
//! a team's maintainers; nobody of another account), names unique per account
//! case-insensitively (under concurrent requests too), filters and sorts, what a deleted
//! team leaves behind, the permissions the server advertises, and what every write leaves
//! in the audit log.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::org::{
    RACE_ROUNDS, assert_location, create_team, identifiers, linkage, org, send, set, statuses,
    team_doc, team_membership_doc, the_event, try_create_team,
};

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
    // …by id only: what hangs below a deleted team is gone for admins too (SPEC §3: a
    // soft-deleted row is left out of every linkage).
    for below in [
        "team_memberships",
        "users",
        "account",
        "relationships/team_memberships",
        "relationships/users",
        "relationships/account",
    ] {
        app.get(&format!("/teams/{id}/{below}"), &owner.token)
            .await
            .assert_error(404, "not_found");
    }
    // A deleted team can be neither changed nor deleted again: the admin sees it, so
    // its status refuses (409), as for a deleted user.
    app.delete(&format!("/teams/{id}"), &owner.token)
        .await
        .assert_error(409, "invalid_transition");
    app.patch(
        &format!("/teams/{id}"),
        &owner.token,
        &json!({"data": {"type": "team", "id": id, "attributes": {"name": "Zombie"}}}),
    )
    .await
    .assert_error(409, "invalid_transition");
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

/// SPEC §2: 404 is for what the caller cannot see, `invalid_transition` for what the
/// resource's status does not allow, and `meta.permissions` says so. Admins still see a
/// deleted team (as they see a deleted user): every change to it is then 409 and its
/// permissions are all false; to anyone else it does not exist.
#[tokio::test]
async fn a_deleted_team_admins_still_see_refuses_every_change_with_409() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (ada, ada_token) = app
        .member(&owner.token, "acme", "Ada", "ada@acme.test", "member")
        .await;
    let team = create_team(&app, &owner.token, "Gone").await;
    app.delete(&format!("/teams/{team}"), &owner.token)
        .await
        .assert_status(204);
    let shown = app.get(&format!("/teams/{team}"), &owner.token).await;
    shown.assert_status(200);
    assert_eq!(
        shown.body["data"]["meta"]["permissions"]["actions"],
        json!({"edit": false, "delete": false, "manage_members": false})
    );
    for resp in [
        app.patch(
            &format!("/teams/{team}"),
            &owner.token,
            &json!({"data": {"type": "team", "id": team, "attributes": {"description": "x"}}}),
        )
        .await,
        app.delete(&format!("/teams/{team}"), &owner.token).await,
        app.post(
            &format!("/teams/{team}/relationships/users"),
            Some(&owner.token),
            &identifiers("user", &[&ada]),
        )
        .await,
    ] {
        resp.assert_error(409, "invalid_transition");
    }
    // A plain member cannot see it at all.
    app.get(&format!("/teams/{team}"), &ada_token)
        .await
        .assert_error(404, "not_found");
}
