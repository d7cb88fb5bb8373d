//! SPEC §4 "user": create, read, update, soft delete.

use serde_json::{Value, json};

use crate::helpers::*;

fn pointers(resp: &Resp) -> Vec<String> {
    let mut pointers: Vec<String> = resp.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {}", resp.text))
        .iter()
        .map(|e| {
            assert_eq!(e["code"], "validation_failed", "{e}");
            e["source"]["pointer"]
                .as_str()
                .unwrap_or_else(|| panic!("no pointer: {e}"))
                .to_owned()
        })
        .collect();
    pointers.sort();
    pointers
}

#[tokio::test]
async fn creating_a_user_with_a_password_makes_it_active() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let password = "s3cret-enough-pw";
    let resp = app
        .try_create_user(
            &owner.token,
            json!({"name": "Ada Lovelace", "email": "ada@acme.test", "password": password,
                   "timezone": "Europe/London", "preferences": {"theme": "dark"}}),
            Value::Null,
        )
        .await;
    resp.assert_status(201);
    let data = &resp.body["data"];
    let id = data["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(data["type"], "user");
    assert_eq!(data["attributes"]["status"], "active");
    assert_eq!(data["attributes"]["name"], "Ada Lovelace");
    assert_eq!(data["attributes"]["email"], "ada@acme.test");
    assert_eq!(data["attributes"]["timezone"], "Europe/London");
    assert_eq!(data["attributes"]["preferences"], json!({"theme": "dark"}));
    assert_eq!(data["attributes"]["discarded_at"], Value::Null);
    assert_eq!(data["attributes"]["last_sign_in_at"], Value::Null);
    let created_at = time(&data["attributes"]["created_at"]);
    assert_eq!(time(&data["attributes"]["updated_at"]), created_at);
    assert!(data["attributes"].get("password").is_none());
    assert_eq!(
        data["relationships"]["account"]["data"],
        json!({"type": "account", "id": owner.account_id})
    );
    let self_link = data["links"]["self"].as_str().unwrap().to_owned();
    assert_eq!(self_link, format!("{}/users/{id}", app.api_base()));
    assert_eq!(resp.header("location"), Some(self_link.as_str()));
    assert_eq!(resp.body["links"]["self"], self_link);

    // The password is in no response.
    let token = app.sign_in("acme", "ada@acme.test", password).await;
    for resp in [
        resp,
        app.get(&self_link, &owner.token).await,
        app.get("/users", &owner.token).await,
        app.get("/me", &token).await,
    ] {
        assert!(!resp.text.contains(password), "{}", resp.text);
        assert!(!resp.text.contains("password_hash"), "{}", resp.text);
        assert!(!resp.text.contains("$argon2"), "{}", resp.text);
    }
}

#[tokio::test]
async fn creating_a_user_without_a_password_makes_it_created_with_defaults() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .try_create_user(&owner.token, json!({"name": "Grace"}), Value::Null)
        .await;
    resp.assert_status(201);
    let attributes = &resp.body["data"]["attributes"];
    assert_eq!(attributes["status"], "created");
    assert_eq!(attributes["timezone"], "UTC");
    assert_eq!(attributes["preferences"], json!({}));
    assert_eq!(attributes["email"], Value::Null);
    assert!(resp.body.get("meta").is_none() || resp.body["meta"].get("invitation").is_none());
    // `created` can be invited.
    assert_eq!(
        resp.body["data"]["meta"]["permissions"]["actions"]["invite"],
        true
    );
}

#[tokio::test]
async fn creating_with_meta_invite_invites_and_shows_the_token_once() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .try_create_user(
            &owner.token,
            json!({"name": "Ivy", "email": "ivy@acme.test"}),
            json!({"invite": true}),
        )
        .await;
    resp.assert_status(201);
    assert_eq!(resp.body["data"]["attributes"]["status"], "invited");
    let invitation = &resp.body["meta"]["invitation"];
    let token = invitation["token"].as_str().expect("meta.invitation.token");
    assert!(token.len() >= 20, "{token}");
    let expires = time(&invitation["expires_at"]);
    let created = time(&resp.body["data"]["attributes"]["created_at"]);
    assert_eq!((expires - created).num_days(), 7);
    assert_eq!((expires - created).num_seconds(), 7 * 86_400);

    let id = resp.body["data"]["id"].as_str().unwrap();
    let shown = app.get(&format!("/users/{id}"), &owner.token).await;
    assert!(!shown.text.contains(token));
    assert!(
        shown
            .body
            .get("meta")
            .is_none_or(|m| m.get("invitation").is_none())
    );
}

#[tokio::test]
async fn a_client_generated_id_is_accepted_once() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let id = uuid::Uuid::new_v4().to_string();
    let document = json!({"data": {"type": "user", "id": id, "attributes": {"name": "Lid"}}});
    let resp = app.post("/users", Some(&owner.token), &document).await;
    resp.assert_status(201);
    assert_eq!(resp.body["data"]["id"], id);
    assert_eq!(
        resp.header("location"),
        Some(format!("{}/users/{id}", app.api_base()).as_str())
    );
    app.get(&format!("/users/{id}"), &owner.token)
        .await
        .assert_status(200);

    let again = json!({"data": {"type": "user", "id": id, "attributes": {"name": "Other"}}});
    let resp = app.post("/users", Some(&owner.token), &again).await;
    resp.assert_error(409, "conflict");
    let list = app.get("/users", &owner.token).await;
    assert_eq!(list.body["meta"]["total"], 2);
}

#[tokio::test]
async fn a_duplicate_email_is_409_taken_whatever_its_case() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.create_user(
        &owner.token,
        json!({"name": "Dup", "email": "dup@acme.test"}),
        Value::Null,
    )
    .await;
    for email in ["dup@acme.test", "DUP@Acme.Test", "OWNER@acme.test"] {
        let resp = app
            .try_create_user(
                &owner.token,
                json!({"name": "Dup 2", "email": email}),
                Value::Null,
            )
            .await;
        resp.assert_error(409, "taken");
        assert_eq!(
            resp.error()["source"]["pointer"],
            "/data/attributes/email",
            "{email}"
        );
    }
    // PATCHing another user onto a taken email is refused the same way.
    let other = app
        .create_user(
            &owner.token,
            json!({"name": "Other", "email": "other@acme.test"}),
            Value::Null,
        )
        .await;
    let resp = app
        .patch(
            &format!("/users/{other}"),
            &owner.token,
            &json!({"data": {"type": "user", "id": other, "attributes": {"email": "Dup@ACME.test"}}}),
        )
        .await;
    resp.assert_error(409, "taken");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/email");
}

#[tokio::test]
async fn emails_are_the_same_whatever_their_case_in_full_unicode() {
    // An internationalised domain has capitals beyond ASCII; SQLite's own lower() would
    // not fold them. Sign-in, uniqueness and filter[email] all compare the folded form.
    let app = spawn_app().await;
    let owner = app.owner().await;
    let password = "s3cret-enough-pw";
    let id = app
        .create_user(
            &owner.token,
            json!({"name": "Ann", "email": "Ann@BÜCHER.example", "password": password}),
            Value::Null,
        )
        .await;

    app.try_sign_in("acme", "ann@bücher.EXAMPLE", password)
        .await
        .assert_status(201);

    let resp = app
        .try_create_user(
            &owner.token,
            json!({"name": "Ann 2", "email": "ANN@bücher.example"}),
            Value::Null,
        )
        .await;
    resp.assert_error(409, "taken");
    assert_eq!(resp.error()["source"]["pointer"], "/data/attributes/email");

    let found = app
        .get("/users?filter[email]=aNN@Bücher.Example", &owner.token)
        .await;
    found.assert_status(200);
    assert_eq!(ids(&found.body["data"]), vec![id.clone()]);
    // Shown as typed.
    assert_eq!(
        found.body["data"][0]["attributes"]["email"],
        "Ann@BÜCHER.example"
    );

    // A changed email is compared in its new form.
    app.patch(
        &format!("/users/{id}"),
        &owner.token,
        &json!({"data": {"type": "user", "id": id, "attributes": {"email": "Ann@ÄPFEL.example"}}}),
    )
    .await
    .assert_status(200);
    app.try_sign_in("acme", "ann@äpfel.example", password)
        .await
        .assert_status(201);
    app.try_sign_in("acme", "ann@bücher.example", password)
        .await
        .assert_error(401, "invalid_credentials");
}

#[tokio::test]
async fn a_duplicate_identifier_is_409_taken() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.create_user(
        &owner.token,
        json!({"name": "A", "identifier": "emp-1"}),
        Value::Null,
    )
    .await;
    let resp = app
        .try_create_user(
            &owner.token,
            json!({"name": "B", "identifier": "emp-1"}),
            Value::Null,
        )
        .await;
    resp.assert_error(409, "taken");
    assert_eq!(
        resp.error()["source"]["pointer"],
        "/data/attributes/identifier"
    );
}

#[tokio::test]
async fn invalid_attributes_give_one_422_error_each_with_its_pointer() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .try_create_user(
            &owner.token,
            json!({
                "name": "",
                "email": "not-an-email",
                "avatar": "../x",
                "timezone": "Mars/Base",
                "preferences": "dark",
            }),
            Value::Null,
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert_eq!(
        pointers(&resp),
        [
            "/data/attributes/avatar",
            "/data/attributes/email",
            "/data/attributes/name",
            "/data/attributes/preferences",
            "/data/attributes/timezone",
        ]
    );
    // Nothing was created.
    assert_eq!(
        app.get("/users", &owner.token).await.body["meta"]["total"],
        1
    );
}

#[tokio::test]
async fn each_attribute_rule_is_enforced() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let big = "x".repeat(16 * 1024);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"name": "Ok", "avatar": "dir/avatar.png"}), "avatar"),
        (json!({"name": "Ok", "avatar": "dir\\avatar.png"}), "avatar"),
        (json!({"name": "Ok", "avatar": "a\u{7}.png"}), "avatar"),
        (
            json!({"name": "Ok", "avatar": format!("{}.png", "a".repeat(252))}),
            "avatar",
        ),
        (json!({"name": "Ok", "preferences": [1, 2]}), "preferences"),
        (
            json!({"name": "Ok", "preferences": {"big": big}}),
            "preferences",
        ),
        (json!({"name": "Ok", "password": "short"}), "password"),
        (json!({"name": "Ok", "email": "a@"}), "email"),
        (json!({"name": "Ok", "timezone": "utc+2"}), "timezone"),
        (json!({"name": 42}), "name"),
        (json!({}), "name"),
        (json!({"name": "Ok", "nickname": "N"}), "nickname"),
    ];
    for (attributes, attribute) in cases {
        let resp = app
            .try_create_user(&owner.token, attributes.clone(), Value::Null)
            .await;
        resp.assert_error(422, "validation_failed");
        assert_eq!(
            pointers(&resp),
            [format!("/data/attributes/{attribute}")],
            "{attributes}"
        );
    }
    // The limits themselves are fine: 200 characters, a 255-character file name, 16 KiB
    // of compact JSON, a 10-character password.
    let preferences = json!({"k": "x".repeat(16 * 1024 - 8)});
    assert_eq!(preferences.to_string().len(), 16 * 1024);
    let ok = app
        .try_create_user(
            &owner.token,
            json!({"name": "\u{e9}".repeat(200), "avatar": format!("{}.png", "a".repeat(251)),
                   "timezone": "America/Argentina/Buenos_Aires", "password": "0123456789",
                   "email": "limits@acme.test", "preferences": preferences}),
            Value::Null,
        )
        .await;
    ok.assert_status(201);
    assert_eq!(ok.body["data"]["attributes"]["preferences"], preferences);
    let resp = app
        .try_create_user(
            &owner.token,
            json!({"name": "\u{e9}".repeat(201), "password": "012345678",
                   "preferences": {"k": "x".repeat(16 * 1024 - 7)}}),
            Value::Null,
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert_eq!(
        pointers(&resp),
        [
            "/data/attributes/name",
            "/data/attributes/password",
            "/data/attributes/preferences",
        ]
    );
    app.sign_in("acme", "limits@acme.test", "0123456789").await;
}

#[tokio::test]
async fn a_member_may_not_create_users() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, member) = app
        .member(
            &owner.token,
            "acme",
            "Mia Member",
            "mia@acme.test",
            "member",
        )
        .await;
    let resp = app
        .try_create_user(&member, json!({"name": "Nope"}), Value::Null)
        .await;
    resp.assert_error(403, "forbidden");
    let (_, admin) = app
        .member(
            &owner.token,
            "acme",
            "Adam Admin",
            "adam@acme.test",
            "admin",
        )
        .await;
    app.try_create_user(&admin, json!({"name": "Yes"}), Value::Null)
        .await
        .assert_status(201);
}

#[tokio::test]
async fn patch_changes_only_the_attributes_sent() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let created = app
        .try_create_user(
            &owner.token,
            json!({"name": "Paul", "email": "paul@acme.test", "identifier": "emp-7",
                   "timezone": "Europe/Paris", "avatar": "paul.png",
                   "preferences": {"lang": "fr"}}),
            Value::Null,
        )
        .await;
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let before = created.body["data"]["attributes"].clone();
    app.clock.advance(5);

    let resp = app
        .patch(
            &format!("/users/{id}"),
            &owner.token,
            &json!({"data": {"type": "user", "id": id, "attributes": {"name": "Paul Renamed"}}}),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.header("content-type"), Some(JSONAPI));
    let after = &resp.body["data"]["attributes"];
    assert_eq!(after["name"], "Paul Renamed");
    for unchanged in [
        "email",
        "identifier",
        "timezone",
        "avatar",
        "preferences",
        "status",
        "created_at",
    ] {
        assert_eq!(after[unchanged], before[unchanged], "{unchanged}");
    }
    assert!(time(&after["updated_at"]) > time(&before["updated_at"]));

    // The change is stored.
    let shown = app.get(&format!("/users/{id}"), &owner.token).await;
    assert_eq!(shown.body["data"]["attributes"], *after);

    // null clears an optional attribute.
    let resp = app
        .patch(
            &format!("/users/{id}"),
            &owner.token,
            &json!({"data": {"type": "user", "id": id, "attributes": {"avatar": null}}}),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["data"]["attributes"]["avatar"], Value::Null);
    assert_eq!(resp.body["data"]["attributes"]["email"], "paul@acme.test");

    // Invalid values are refused with their pointer and change nothing.
    let resp = app
        .patch(
            &format!("/users/{id}"),
            &owner.token,
            &json!({"data": {"type": "user", "id": id,
                    "attributes": {"name": "Fine", "timezone": "Mars/Base"}}}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert_eq!(pointers(&resp), ["/data/attributes/timezone"]);
    let shown = app.get(&format!("/users/{id}"), &owner.token).await;
    assert_eq!(shown.body["data"]["attributes"]["name"], "Paul Renamed");
}

#[tokio::test]
async fn patch_with_an_id_other_than_the_urls_is_409() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let id = app
        .create_user(&owner.token, json!({"name": "A"}), Value::Null)
        .await;
    let resp = app
        .patch(
            &format!("/users/{id}"),
            &owner.token,
            &json!({"data": {"type": "user", "id": owner.user_id, "attributes": {"name": "B"}}}),
        )
        .await;
    resp.assert_error(409, "conflict");
}

#[tokio::test]
async fn patch_may_repeat_unchanged_read_only_attributes_but_not_change_them() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let created = app
        .try_create_user(
            &owner.token,
            json!({"name": "Ember", "email": "ember@acme.test"}),
            Value::Null,
        )
        .await;
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let mut whole = created.body["data"]["attributes"].clone();
    whole["name"] = json!("Ember Data");

    // The whole record sent back, as Ember Data does.
    let resp = app
        .patch(
            &format!("/users/{id}"),
            &owner.token,
            &json!({"data": {"type": "user", "id": id, "attributes": whole}}),
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.body["data"]["attributes"]["name"], "Ember Data");

    for (attribute, value) in [
        ("created_at", json!("2020-01-01T00:00:00.000000Z")),
        ("status", json!("active")),
        ("discarded_at", json!("2020-01-01T00:00:00.000000Z")),
    ] {
        let resp = app
            .patch(
                &format!("/users/{id}"),
                &owner.token,
                &json!({"data": {"type": "user", "id": id,
                        "attributes": {"name": "Changed", attribute: value}}}),
            )
            .await;
        resp.assert_error(422, "validation_failed");
        assert_eq!(pointers(&resp), [format!("/data/attributes/{attribute}")]);
    }
    let shown = app.get(&format!("/users/{id}"), &owner.token).await;
    assert_eq!(shown.body["data"]["attributes"]["name"], "Ember Data");
    assert_eq!(shown.body["data"]["attributes"]["status"], "created");
}

#[tokio::test]
async fn members_edit_themselves_but_not_others() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (member_id, member) = app
        .member(
            &owner.token,
            "acme",
            "Mia Member",
            "mia@acme.test",
            "member",
        )
        .await;
    let me = app.get("/me", &member).await;
    assert_eq!(
        me.body["data"]["meta"]["permissions"]["actions"]["edit"],
        true
    );
    app.patch(
        &format!("/users/{member_id}"),
        &member,
        &json!({"data": {"type": "user", "id": member_id, "attributes": {"timezone": "Asia/Tokyo"}}}),
    )
    .await
    .assert_status(200);

    let shown = app.get(&format!("/users/{}", owner.user_id), &member).await;
    shown.assert_status(200);
    assert_eq!(
        shown.body["data"]["meta"]["permissions"]["actions"]["edit"],
        false
    );
    app.patch(
        &format!("/users/{}", owner.user_id),
        &member,
        &json!({"data": {"type": "user", "id": owner.user_id, "attributes": {"name": "Hacked"}}}),
    )
    .await
    .assert_error(403, "forbidden");
    app.delete(&format!("/users/{}", owner.user_id), &member)
        .await
        .assert_error(403, "forbidden");
}

#[tokio::test]
async fn a_deleted_user_is_404_to_members_and_visible_to_admins_only_by_id_and_filter() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, member) = app
        .member(
            &owner.token,
            "acme",
            "Mia Member",
            "mia@acme.test",
            "member",
        )
        .await;
    let doomed = app
        .create_user(
            &owner.token,
            json!({"name": "Doomed", "email": "doomed@acme.test"}),
            Value::Null,
        )
        .await;
    let resp = app.delete(&format!("/users/{doomed}"), &owner.token).await;
    resp.assert_status(204);
    assert!(resp.text.is_empty());

    app.get(&format!("/users/{doomed}"), &member)
        .await
        .assert_error(404, "not_found");

    let shown = app.get(&format!("/users/{doomed}"), &owner.token).await;
    shown.assert_status(200);
    let attributes = &shown.body["data"]["attributes"];
    assert_eq!(attributes["status"], "deleted");
    time(&attributes["discarded_at"]);
    let actions = &shown.body["data"]["meta"]["permissions"]["actions"];
    assert_eq!(actions["restore"], true);
    assert_eq!(actions["edit"], false);
    assert_eq!(actions["delete"], false);

    for token in [&owner.token, &member] {
        let list = app.get("/users", token).await;
        assert!(!list.ids().contains(&doomed), "{}", list.text);
        assert_eq!(list.body["meta"]["total"], 2);
    }
    let only = app.get("/users?filter[discarded]=only", &owner.token).await;
    only.assert_status(200);
    assert_eq!(only.ids(), vec![doomed.clone()]);
    let all = app.get("/users?filter[discarded]=all", &owner.token).await;
    assert_eq!(all.body["meta"]["total"], 3);

    // Deleting again, or editing, is refused; the email is free again.
    let again = app.delete(&format!("/users/{doomed}"), &owner.token).await;
    assert!(again.status.is_client_error(), "{}", again.status);
    assert_ne!(again.status.as_u16(), 204);
    app.create_user(
        &owner.token,
        json!({"name": "Reborn", "email": "doomed@acme.test"}),
        Value::Null,
    )
    .await;
}

#[tokio::test]
async fn a_deleted_users_sessions_stop_working() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (id, token) = app
        .member(
            &owner.token,
            "acme",
            "Mia Member",
            "mia@acme.test",
            "member",
        )
        .await;
    app.get("/me", &token).await.assert_status(200);
    app.delete(&format!("/users/{id}"), &owner.token)
        .await
        .assert_status(204);
    let resp = app.get("/me", &token).await;
    resp.assert_error(401, "unauthorized");
    // Signing in again: right password, deleted user.
    app.try_sign_in("acme", "mia@acme.test", "member-password-1")
        .await
        .assert_error(403, "user_inactive");
}

#[tokio::test]
async fn a_user_cannot_delete_itself() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .delete(&format!("/users/{}", owner.user_id), &owner.token)
        .await;
    resp.assert_error(403, "forbidden");
    app.get("/me", &owner.token).await.assert_status(200);
}

#[tokio::test]
async fn me_is_the_caller() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (member_id, member) = app
        .member(
            &owner.token,
            "acme",
            "Mia Member",
            "mia@acme.test",
            "member",
        )
        .await;
    let me = app.get("/me", &member).await;
    me.assert_status(200);
    assert_eq!(me.body["data"]["id"], member_id);
    assert_eq!(me.body["data"]["attributes"]["email"], "mia@acme.test");
    let me = app.get("/me?include=account", &member).await;
    assert_eq!(
        included_keys(&me.body),
        [("account".to_owned(), owner.account_id.clone())]
    );
}

#[tokio::test]
async fn the_password_cannot_be_changed_with_patch() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .patch(
            &format!("/users/{}", owner.user_id),
            &owner.token,
            &json!({"data": {"type": "user", "id": owner.user_id,
                    "attributes": {"password": "a-brand-new-password"}}}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert_eq!(pointers(&resp), ["/data/attributes/password"]);
    app.sign_in("acme", &owner.email, OWNER_PASSWORD).await;
}

/// `meta.permissions.actions` must agree with what the server does: for every caller
/// role and target, `edit` is true exactly when a PATCH succeeds and `delete` exactly
/// when a DELETE does; `invite` is false on active users.
#[tokio::test]
async fn edit_and_delete_permissions_agree_with_the_server() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (admin_id, admin) = app
        .member(
            &owner.token,
            "acme",
            "Adam Admin",
            "adam@acme.test",
            "admin",
        )
        .await;
    let (member_id, member) = app
        .member(
            &owner.token,
            "acme",
            "Mia Member",
            "mia@acme.test",
            "member",
        )
        .await;
    let callers = [
        ("owner", owner.token.clone(), owner.user_id.clone()),
        ("admin", admin, admin_id.clone()),
        ("member", member, member_id.clone()),
    ];
    for (caller, token, caller_id) in &callers {
        // Fresh targets for each caller, since deleting is tried on them.
        let mut targets = vec![
            ("the owner", owner.user_id.clone()),
            ("itself", caller_id.clone()),
        ];
        for role in ["admin", "member"] {
            let id = app
                .create_user(
                    &owner.token,
                    json!({"name": format!("{role} for {caller}")}),
                    json!({"role": role}),
                )
                .await;
            targets.push((role, id));
        }
        for (target, id) in &targets {
            let shown = app.get(&format!("/users/{id}"), token).await;
            shown.assert_status(200);
            let actions = shown.body["data"]["meta"]["permissions"]["actions"].clone();
            let status = shown.body["data"]["attributes"]["status"].clone();
            if status == "active" {
                assert_eq!(actions["invite"], false, "{caller} → {target}");
            } else {
                assert_eq!(status, "created");
            }
            let patched = app
                .patch(
                    &format!("/users/{id}"),
                    token,
                    &json!({"data": {"type": "user", "id": id,
                            "attributes": {"timezone": "Europe/Oslo"}}}),
                )
                .await;
            assert_eq!(
                actions["edit"] == true,
                patched.status.as_u16() == 200,
                "{caller} editing {target}: permission {} but {}",
                actions["edit"],
                patched.text
            );
            if patched.status.as_u16() != 200 {
                patched.assert_error(403, "forbidden");
            }
            // Never delete the owner or the caller itself for real: both stay needed.
            let deletable = !matches!(*target, "the owner" | "itself");
            if deletable || actions["delete"] == false {
                let deleted = app.delete(&format!("/users/{id}"), token).await;
                assert_eq!(
                    actions["delete"] == true,
                    deleted.status.as_u16() == 204,
                    "{caller} deleting {target}: permission {} but {}",
                    actions["delete"],
                    deleted.text
                );
            } else {
                panic!("{caller} may delete {target}");
            }
        }
    }
}

#[tokio::test]
async fn meta_role_sets_the_membership_of_a_created_user() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut ids = Vec::new();
    for role in ["admin", "member", "owner"] {
        let id = app
            .create_user(
                &owner.token,
                json!({"name": format!("A {role}")}),
                json!({"role": role}),
            )
            .await;
        let memberships = app
            .get(
                &format!("/account_memberships?filter[user]={id}"),
                &owner.token,
            )
            .await;
        memberships.assert_status(200);
        assert_eq!(memberships.ids().len(), 1, "{}", memberships.text);
        assert_eq!(memberships.body["data"][0]["attributes"]["role"], role);
        ids.push(id);
    }
    // Without meta.role: member.
    let plain = app
        .create_user(&owner.token, json!({"name": "Plain"}), Value::Null)
        .await;
    let memberships = app
        .get(
            &format!("/account_memberships?filter[user]={plain}"),
            &owner.token,
        )
        .await;
    assert_eq!(memberships.body["data"][0]["attributes"]["role"], "member");

    let resp = app
        .try_create_user(
            &owner.token,
            json!({"name": "Boss"}),
            json!({"role": "boss"}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    assert_eq!(resp.error()["source"]["pointer"], "/meta/role");

    // Only owners grant the owner role.
    let (_, admin) = app
        .member(
            &owner.token,
            "acme",
            "Adam Admin",
            "adam@acme.test",
            "admin",
        )
        .await;
    app.try_create_user(&admin, json!({"name": "Usurper"}), json!({"role": "owner"}))
        .await
        .assert_error(403, "forbidden");
    app.try_create_user(&admin, json!({"name": "Helper"}), json!({"role": "admin"}))
        .await
        .assert_status(201);
}
