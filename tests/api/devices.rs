//! SPEC §4 device — managed by their user only: created, changed and deleted by it, read
//! (never changed) by its account's admins, invisible to everyone else; tokens unique per
//! user (under concurrent registrations too) and never in the audit log.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::org::{RACE_ROUNDS, assert_location, device_doc, org, statuses, the_event};

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

/// No attribute holds a NUL (PostgreSQL cannot store one): 422 at it, on create and on
/// update, never a 500.
#[tokio::test]
async fn a_nul_in_a_token_is_a_validation_error_at_it() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .post(
            "/devices",
            Some(&owner.token),
            &json!({"data": {"type": "device",
                    "attributes": {"device_type": "web", "token": "a\u{0}b"}}}),
        )
        .await;
    assert_pointer(&resp, 422, "validation_failed", "/data/attributes/token");
    let device = app.insert_device(&owner.user_id, "push-token-1");
    let resp = app
        .patch(
            &format!("/devices/{device}"),
            &owner.token,
            &json!({"data": {"type": "device", "id": device,
                    "attributes": {"token": "x\u{0}"}}}),
        )
        .await;
    assert_pointer(&resp, 422, "validation_failed", "/data/attributes/token");
}
