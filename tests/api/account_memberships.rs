//! SPEC §4 account_membership — the write side: guests added, re-roled and removed, only
//! owners granting, changing or removing `owner`, the last-owner rule (under concurrent
//! demotions and deletions too), permissions that know the home membership and the last
//! owner, and one resource deleted twice at the same moment (a team, a team membership, a
//! guest's account membership, a device) deleted once.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::org::{
    RACE_ROUNDS, assert_location, create_team, device_doc, linkage, org, role_doc, set, statuses,
    team_membership_doc, the_event,
};

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

fn account_membership_doc(user_id: &str, role: Option<&str>) -> Value {
    let mut doc = json!({"data": {"type": "account_membership", "relationships": {
        "user": {"data": {"type": "user", "id": user_id}}
    }}});
    if let Some(role) = role {
        doc["data"]["attributes"] = json!({ "role": role });
    }
    doc
}

/// The number of owners the account of `token` has.
async fn owner_count(app: &TestApp, token: &str) -> usize {
    let resp = app
        .get("/account_memberships?filter[role]=owner", token)
        .await;
    resp.assert_status(200);
    resp.ids().len()
}

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
            // The loser finds it gone (404) or, for a team an admin still sees once
            // soft-deleted, refuses to delete it again (409 `invalid_transition`).
            if !matches!(got, ([204, 404], 1) | ([204, 409], 1)) {
                failures.push(format!(
                    "round {round} {kind}: statuses {:?}, {events} events",
                    got.0
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
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
