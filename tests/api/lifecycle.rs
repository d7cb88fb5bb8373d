//! SPEC §4 "user" (lifecycle actions, soft delete and restore), "session" (invitations,
//! registrations), "password", "audit_event" and "account": every transition and its
//! audit event, invitations end to end, passwords, sessions that end with their user,
//! open registration, the audit log's rules, accounts, and secrets that never leak.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::*;
use crate::matrix::{MEMBER_PASSWORD, TARGET_PASSWORD, World, password_document};

// ---------------------------------------------------------------------------------
// Helpers

/// Every audit event of a collection query, all pages.
async fn all_events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut events = Vec::new();
    for number in 1.. {
        let sep = if query.is_empty() { "" } else { "&" };
        let resp = app
            .get(
                &format!("/audit_events?{query}{sep}page[size]=100&page[number]={number}"),
                token,
            )
            .await;
        resp.assert_status(200);
        let page = resp.body["data"].as_array().expect("data").clone();
        let done = page.len() < 100;
        events.extend(page);
        if done {
            break;
        }
    }
    events
}

/// Every audit event the platform admin can find, in `acme` and in its own account
/// (actions of a platform admin may be recorded in either), by id.
async fn events_everywhere(w: &World, query: &str) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    let mut events = Vec::new();
    let sep = if query.is_empty() { "" } else { "&" };
    for scope in [
        format!("filter[account]={}{sep}{query}", w.acme_id),
        query.to_owned(),
    ] {
        for event in all_events(&w.app, &w.root.token, &scope).await {
            if seen.insert(event["id"].as_str().expect("id").to_owned()) {
                events.push(event);
            }
        }
    }
    events
}

/// The events with this action about this user.
async fn events_about(w: &World, target: &str, action: &str) -> Vec<Value> {
    events_everywhere(
        w,
        &format!("filter[target]={target}&filter[action]={action}"),
    )
    .await
}

fn event_ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

fn actor_of(event: &Value) -> &Value {
    &event["relationships"]["actor"]["data"]["id"]
}

fn target_of(event: &Value) -> (Value, Value) {
    let data = &event["relationships"]["target"]["data"];
    (data["type"].clone(), data["id"].clone())
}

async fn accept(app: &TestApp, token: &str, password: &str, name: Option<&str>) -> Resp {
    let mut attributes = json!({"token": token, "password": password});
    if let Some(name) = name {
        attributes["name"] = json!(name);
    }
    app.post(
        "/invitations/accept",
        None,
        &json!({"data": {"type": "invitation_acceptance", "attributes": attributes}}),
    )
    .await
}

fn invitation_token(resp: &Resp) -> String {
    resp.body["meta"]["invitation"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no meta.invitation.token: {}", resp.text))
        .to_owned()
}

fn session_token(resp: &Resp) -> String {
    resp.body["data"]["attributes"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no session token: {}", resp.text))
        .to_owned()
}

async fn change_password(
    app: &TestApp,
    token: &str,
    id: &str,
    password: &str,
    confirmation: &str,
    current: Option<&str>,
) -> Resp {
    app.post(
        &format!("/users/{id}/password"),
        Some(token),
        &password_document(password, confirmation, current),
    )
    .await
}

#[track_caller]
fn assert_unauthorized(resp: &Resp) {
    resp.assert_error(401, "unauthorized");
}

// ---------------------------------------------------------------------------------
// Transitions

/// Where each action leads from each status (targets made `blocked` and `deleted` were
/// `active` before); `None`: 409 `invalid_transition`.
fn transition(action: &str, from: &str) -> Option<&'static str> {
    match (action, from) {
        ("invite", "created" | "invited") => Some("invited"),
        ("revoke_invitation", "invited") => Some("created"),
        ("deactivate", "active") => Some("deactivated"),
        ("reactivate", "deactivated") => Some("active"),
        ("block", "created" | "invited" | "active" | "deactivated") => Some("blocked"),
        ("unblock", "blocked") => Some("active"),
        ("restore", "deleted") => Some("active"),
        _ => None,
    }
}

const STATUSES: [&str; 6] = [
    "created",
    "invited",
    "active",
    "deactivated",
    "blocked",
    "deleted",
];

const LIFECYCLE_ACTIONS: [(&str, &str); 7] = [
    ("invite", "user.invited"),
    ("revoke_invitation", "user.invitation_revoked"),
    ("deactivate", "user.deactivated"),
    ("reactivate", "user.reactivated"),
    ("block", "user.blocked"),
    ("unblock", "user.unblocked"),
    ("restore", "user.restored"),
];

#[tokio::test]
async fn every_action_from_every_status_transitions_or_is_409_with_one_audit_event() {
    let w = World::new().await;
    for (action, event) in LIFECYCLE_ACTIONS {
        // Blocking is for platform admins; the rest for the account's owner.
        let by = if matches!(action, "block" | "unblock") {
            &w.root
        } else {
            &w.owner
        };
        for from in STATUSES {
            let id = w.target(from, "member").await;
            // Making the target may have recorded this action already (`meta.invite`).
            let earlier = event_ids(&events_about(&w, &id, event).await);
            let resp = w.act(Some(&by.token), &id, action).await;
            let case = format!("{action} from {from}");
            let new_events = || async {
                events_about(&w, &id, event)
                    .await
                    .into_iter()
                    .filter(|e| !earlier.contains(e["id"].as_str().unwrap()))
                    .collect::<Vec<Value>>()
            };
            match transition(action, from) {
                Some(to) => {
                    resp.assert_status(200);
                    assert_eq!(resp.body["data"]["id"], id.as_str(), "{case}");
                    assert_eq!(resp.body["data"]["type"], "user", "{case}");
                    assert_eq!(resp.body["data"]["attributes"]["status"], to, "{case}");
                    assert_eq!(w.status_of(&id).await, to, "{case}");
                    // The response's permissions are those of the new status.
                    let fresh = w.app.get(&format!("/users/{id}"), &by.token).await;
                    assert_eq!(
                        resp.body["data"]["meta"]["permissions"],
                        fresh.body["data"]["meta"]["permissions"],
                        "{case}"
                    );
                    let events = new_events().await;
                    assert_eq!(events.len(), 1, "{case}: {events:?}");
                    let e = &events[0];
                    assert_eq!(e["attributes"]["action"], event, "{case}");
                    assert_eq!(actor_of(e), by.id.as_str(), "{case}");
                    assert_eq!(target_of(e), (json!("user"), json!(id)), "{case}");
                    let status_change = &e["attributes"]["changes"]["status"];
                    if from == to {
                        // Re-inviting: nothing changed but the token.
                        assert!(
                            status_change.is_null() || *status_change == json!([from, to]),
                            "{case}: {e}"
                        );
                    } else {
                        assert_eq!(*status_change, json!([from, to]), "{case}: {e}");
                    }
                    time(&e["attributes"]["occurred_at"]);
                }
                None => {
                    resp.assert_error(409, "invalid_transition");
                    assert_eq!(w.status_of(&id).await, from, "{case}");
                    assert!(
                        new_events().await.is_empty(),
                        "{case}: a refusal recorded an event"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn block_and_unblock_return_to_the_status_before_and_are_for_platform_admins_only() {
    let w = World::new().await;
    for from in ["created", "invited", "active", "deactivated"] {
        let id = w.target(from, "member").await;
        for by in [&w.owner, &w.admin] {
            w.act(Some(&by.token), &id, "block")
                .await
                .assert_error(403, "forbidden");
        }
        let blocked = w.act(Some(&w.root.token), &id, "block").await;
        blocked.assert_status(200);
        assert_eq!(blocked.body["data"]["attributes"]["status"], "blocked");
        for by in [&w.owner, &w.admin] {
            w.act(Some(&by.token), &id, "unblock")
                .await
                .assert_error(403, "forbidden");
        }
        assert_eq!(w.status_of(&id).await, "blocked");
        let unblocked = w.act(Some(&w.root.token), &id, "unblock").await;
        unblocked.assert_status(200);
        assert_eq!(
            unblocked.body["data"]["attributes"]["status"], from,
            "blocked from {from}"
        );
        let events = events_about(&w, &id, "user.unblocked").await;
        assert_eq!(
            events[0]["attributes"]["changes"]["status"],
            json!(["blocked", from])
        );
    }
    // A platform admin cannot block itself.
    w.act(Some(&w.root.token), &w.root.id, "block")
        .await
        .assert_error(403, "forbidden");
}

/// `block` and `unblock`: "back to the status before". Deleting and restoring a blocked
/// user in between does not change what was before the block.
#[tokio::test]
async fn unblocking_a_restored_blocked_user_gives_back_the_status_before_the_block() {
    let w = World::new().await;
    for from in ["created", "invited", "deactivated"] {
        let id = w.target(from, "member").await;
        w.act(Some(&w.root.token), &id, "block")
            .await
            .assert_status(200);
        w.app
            .delete(&format!("/users/{id}"), &w.owner.token)
            .await
            .assert_status(204);
        let restored = w.act(Some(&w.owner.token), &id, "restore").await;
        restored.assert_status(200);
        assert_eq!(restored.body["data"]["attributes"]["status"], "blocked");
        let unblocked = w.act(Some(&w.root.token), &id, "unblock").await;
        unblocked.assert_status(200);
        assert_eq!(
            unblocked.body["data"]["attributes"]["status"], from,
            "{from} → blocked → deleted → restored → unblocked: {}",
            unblocked.text
        );
    }
}

#[tokio::test]
async fn restore_brings_back_the_status_before_deletion_and_clears_discarded_at() {
    let w = World::new().await;
    for from in ["created", "invited", "active", "deactivated", "blocked"] {
        let id = w.target(from, "member").await;
        let deleted = w.app.delete(&format!("/users/{id}"), &w.owner.token).await;
        deleted.assert_status(204);
        assert!(deleted.text.is_empty());
        let shown = w.app.get(&format!("/users/{id}"), &w.owner.token).await;
        assert_eq!(shown.body["data"]["attributes"]["status"], "deleted");
        time(&shown.body["data"]["attributes"]["discarded_at"]);
        let events = events_about(&w, &id, "user.deleted").await;
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0]["attributes"]["changes"]["status"],
            json!([from, "deleted"])
        );
        assert!(
            !w.app
                .get("/users", &w.owner.token)
                .await
                .ids()
                .contains(&id)
        );

        let restored = w.act(Some(&w.owner.token), &id, "restore").await;
        restored.assert_status(200);
        let attributes = &restored.body["data"]["attributes"];
        assert_eq!(attributes["status"], from, "deleted from {from}");
        assert_eq!(attributes["discarded_at"], Value::Null, "{from}");
        assert!(
            w.app
                .get("/users?page[size]=100", &w.owner.token)
                .await
                .ids()
                .contains(&id),
            "restored {from} user is listed again"
        );
        // Members see it again.
        w.app
            .get(&format!("/users/{id}"), &w.member.token)
            .await
            .assert_status(200);
        let events = events_about(&w, &id, "user.restored").await;
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0]["attributes"]["changes"]["status"],
            json!(["deleted", from])
        );
    }
}

#[tokio::test]
async fn restore_is_409_taken_when_the_email_was_given_to_another_user_meanwhile() {
    let w = World::new().await;
    let id = w
        .app
        .create_user(
            &w.owner.token,
            json!({"name": "First", "email": "reused@acme.test", "password": TARGET_PASSWORD}),
            Value::Null,
        )
        .await;
    w.app
        .delete(&format!("/users/{id}"), &w.owner.token)
        .await
        .assert_status(204);
    let other = w
        .app
        .create_user(
            &w.owner.token,
            json!({"name": "Second", "email": "Reused@ACME.test"}),
            Value::Null,
        )
        .await;
    let resp = w.act(Some(&w.owner.token), &id, "restore").await;
    assert_pointer(&resp, 409, "taken", "/data/attributes/email");
    assert_eq!(w.status_of(&id).await, "deleted");
    assert!(events_about(&w, &id, "user.restored").await.is_empty());

    // The same for an identifier.
    let tagged = w
        .app
        .create_user(
            &w.owner.token,
            json!({"name": "Tagged", "identifier": "emp-42"}),
            Value::Null,
        )
        .await;
    w.app
        .delete(&format!("/users/{tagged}"), &w.owner.token)
        .await
        .assert_status(204);
    w.app
        .create_user(
            &w.owner.token,
            json!({"name": "Tagged again", "identifier": "emp-42"}),
            Value::Null,
        )
        .await;
    let resp = w.act(Some(&w.owner.token), &tagged, "restore").await;
    assert_pointer(&resp, 409, "taken", "/data/attributes/identifier");
    assert_eq!(w.status_of(&tagged).await, "deleted");

    // Once the email is free again, the restore goes through.
    w.app
        .delete(&format!("/users/{other}"), &w.owner.token)
        .await
        .assert_status(204);
    let resp = w.act(Some(&w.owner.token), &id, "restore").await;
    resp.assert_status(200);
    assert_eq!(resp.body["data"]["attributes"]["status"], "active");
    w.app
        .sign_in("acme", "reused@acme.test", TARGET_PASSWORD)
        .await;
}

// ---------------------------------------------------------------------------------
// Invitations

#[tokio::test]
async fn an_accepted_invitation_makes_the_user_active_and_signs_it_in_once() {
    let w = World::new().await;
    let id = w.target("created", "member").await;
    let invited = w.act(Some(&w.admin.token), &id, "invite").await;
    invited.assert_status(200);
    assert_eq!(invited.body["data"]["attributes"]["status"], "invited");
    let token = invitation_token(&invited);
    assert!(token.len() >= 20, "{token}");
    // Exactly seven days after the invitation.
    let expires = time(&invited.body["meta"]["invitation"]["expires_at"]);
    let invited_at = time(&invited.body["data"]["attributes"]["updated_at"]);
    assert_eq!(expires - invited_at, chrono::Duration::days(7));
    // Shown once: not on a later read.
    let shown = w.app.get(&format!("/users/{id}"), &w.owner.token).await;
    assert!(!shown.text.contains(&token));

    let password = "accepted-password-1";
    let accepted = accept(&w.app, &token, password, Some("Ann Accepted")).await;
    accepted.assert_status(201);
    assert_eq!(accepted.body["data"]["type"], "session");
    assert_eq!(
        accepted.body["data"]["relationships"]["user"]["data"]["id"],
        id.as_str()
    );
    assert_eq!(
        accepted.body["data"]["relationships"]["account"]["data"]["id"],
        w.acme_id.as_str()
    );
    assert_eq!(
        accepted.header("location"),
        accepted.body["data"]["links"]["self"].as_str()
    );
    let session = session_token(&accepted);
    let me = w.app.get("/me", &session).await;
    me.assert_status(200);
    assert_eq!(me.body["data"]["id"], id.as_str());
    assert_eq!(me.body["data"]["attributes"]["status"], "active");
    assert_eq!(me.body["data"]["attributes"]["name"], "Ann Accepted");
    let email = me.body["data"]["attributes"]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    w.app.sign_in("acme", &email, password).await;

    let events = events_about(&w, &id, "user.invitation_accepted").await;
    assert_eq!(events.len(), 1);
    assert_eq!(actor_of(&events[0]), id.as_str());
    assert_eq!(
        events[0]["attributes"]["changes"]["status"],
        json!(["invited", "active"])
    );

    // Used: 404, and the password stays the one set.
    accept(&w.app, &token, "another-password-1", None)
        .await
        .assert_error(404, "not_found");
    w.app.sign_in("acme", &email, password).await;
}

#[tokio::test]
async fn re_inviting_and_revoking_kill_the_earlier_token() {
    let w = World::new().await;
    let id = w.target("created", "member").await;
    let first = invitation_token(&w.act(Some(&w.owner.token), &id, "invite").await);
    let second_resp = w.act(Some(&w.owner.token), &id, "invite").await;
    second_resp.assert_status(200);
    assert_eq!(second_resp.body["data"]["attributes"]["status"], "invited");
    let second = invitation_token(&second_resp);
    assert_ne!(first, second);
    accept(&w.app, &first, "some-password-1", None)
        .await
        .assert_error(404, "not_found");

    let revoked = w.act(Some(&w.owner.token), &id, "revoke_invitation").await;
    revoked.assert_status(200);
    assert_eq!(revoked.body["data"]["attributes"]["status"], "created");
    assert!(
        revoked
            .body
            .get("meta")
            .is_none_or(|m| m.get("invitation").is_none()),
        "{}",
        revoked.text
    );
    accept(&w.app, &second, "some-password-1", None)
        .await
        .assert_error(404, "not_found");
    assert_eq!(w.status_of(&id).await, "created");

    // A new invitation works.
    let third = invitation_token(&w.act(Some(&w.owner.token), &id, "invite").await);
    accept(&w.app, &third, "some-password-1", None)
        .await
        .assert_status(201);
    assert_eq!(w.status_of(&id).await, "active");
}

#[tokio::test]
async fn an_invitation_expires_seven_days_after_it_was_issued() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut tokens = Vec::new();
    for name in ["Early", "Late"] {
        let resp = app
            .try_create_user(
                &owner.token,
                json!({"name": name, "email": format!("{}@acme.test", name.to_lowercase())}),
                json!({"invite": true}),
            )
            .await;
        resp.assert_status(201);
        let expires = time(&resp.body["meta"]["invitation"]["expires_at"]);
        let created = time(&resp.body["data"]["attributes"]["created_at"]);
        assert_eq!(expires - created, chrono::Duration::days(7));
        tokens.push(invitation_token(&resp));
    }
    app.clock.advance(7 * 86_400 - 1);
    accept(&app, &tokens[0], "early-password-1", None)
        .await
        .assert_status(201);
    app.clock.advance(2);
    accept(&app, &tokens[1], "late-password-12", None)
        .await
        .assert_error(404, "not_found");
    app.try_sign_in("acme", "late@acme.test", "late-password-12")
        .await
        .assert_error(401, "invalid_credentials");
}

#[tokio::test]
async fn accepting_needs_a_live_token_of_an_invited_user_and_a_valid_password() {
    let w = World::new().await;
    // Validation first, pointing at the attribute.
    let id = w.target("created", "member").await;
    let token = invitation_token(&w.act(Some(&w.owner.token), &id, "invite").await);
    assert_pointer(
        &accept(&w.app, &token, "too-short", None).await,
        422,
        "validation_failed",
        "/data/attributes/password",
    );
    let missing = w
        .app
        .post(
            "/invitations/accept",
            None,
            &json!({"data": {"type": "invitation_acceptance",
                    "attributes": {"password": "long-enough-pw"}}}),
        )
        .await;
    assert_pointer(&missing, 422, "validation_failed", "/data/attributes/token");
    accept(
        &w.app,
        "not-a-token-at-all-xxxxxxxx",
        "long-enough-pw",
        None,
    )
    .await
    .assert_error(404, "not_found");
    assert_eq!(w.status_of(&id).await, "invited");

    // A blocked or deleted invited user's token does not work.
    w.act(Some(&w.root.token), &id, "block")
        .await
        .assert_status(200);
    accept(&w.app, &token, "long-enough-pw", None)
        .await
        .assert_error(404, "not_found");
    let other = w
        .app
        .try_create_user(
            &w.owner.token,
            json!({"name": "Gone", "email": "gone@acme.test"}),
            json!({"invite": true}),
        )
        .await;
    let (other_id, other_token) = (
        other.body["data"]["id"].as_str().unwrap().to_owned(),
        invitation_token(&other),
    );
    w.app
        .delete(&format!("/users/{other_id}"), &w.owner.token)
        .await
        .assert_status(204);
    accept(&w.app, &other_token, "long-enough-pw", None)
        .await
        .assert_error(404, "not_found");
    assert_eq!(w.status_of(&other_id).await, "deleted");
}

/// An invitation from a platform admin (acting on another account's user) must sign the
/// user in to its own account.
#[tokio::test]
async fn a_platform_admins_invitation_signs_the_user_in_to_its_own_account() {
    let w = World::new().await;
    let id = w.target("created", "member").await;
    let invited = w.act(Some(&w.root.token), &id, "invite").await;
    invited.assert_status(200);
    let accepted = accept(&w.app, &invitation_token(&invited), "accepted-pw-123", None).await;
    accepted.assert_status(201);
    let account = accepted.body["data"]["relationships"]["account"]["data"]["id"].clone();
    let me = w.app.get("/me", &session_token(&accepted)).await;
    assert_eq!(
        (account, me.status.as_u16()),
        (json!(w.acme_id), 200),
        "the session's account, and GET /me with its token: {}",
        me.text
    );
}

// ---------------------------------------------------------------------------------
// Passwords

#[tokio::test]
async fn changing_ones_own_password_needs_the_current_one_and_ends_every_session() {
    let w = World::new().await;
    let me = &w.member;
    let second = w.app.sign_in("acme", &me.email, MEMBER_PASSWORD).await;
    let new = "a-brand-new-password";

    let missing = change_password(&w.app, &me.token, &me.id, new, new, None).await;
    assert_pointer(
        &missing,
        422,
        "validation_failed",
        "/data/attributes/current_password",
    );
    let wrong = change_password(&w.app, &me.token, &me.id, new, new, Some("not-my-password")).await;
    assert_pointer(
        &wrong,
        422,
        "validation_failed",
        "/data/attributes/current_password",
    );
    let mismatch = change_password(
        &w.app,
        &me.token,
        &me.id,
        new,
        "a-brand-new-passworD",
        Some(MEMBER_PASSWORD),
    )
    .await;
    assert_pointer(
        &mismatch,
        422,
        "validation_failed",
        "/data/attributes/password_confirmation",
    );
    let short = change_password(
        &w.app,
        &me.token,
        &me.id,
        "short-pw1",
        "short-pw1",
        Some(MEMBER_PASSWORD),
    )
    .await;
    assert_pointer(
        &short,
        422,
        "validation_failed",
        "/data/attributes/password",
    );
    // Nothing changed so far.
    w.app.get("/me", &me.token).await.assert_status(200);
    w.app.get("/me", &second).await.assert_status(200);
    assert!(
        events_about(&w, &me.id, "user.password_changed")
            .await
            .is_empty()
    );

    let done = change_password(&w.app, &me.token, &me.id, new, new, Some(MEMBER_PASSWORD)).await;
    done.assert_status(204);
    assert!(done.text.is_empty(), "{}", done.text);
    assert_unauthorized(&w.app.get("/me", &me.token).await);
    assert_unauthorized(&w.app.get("/me", &second).await);
    w.app
        .try_sign_in("acme", &me.email, MEMBER_PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    let token = w.app.sign_in("acme", &me.email, new).await;
    w.app.get("/me", &token).await.assert_status(200);

    let events = events_about(&w, &me.id, "user.password_changed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(actor_of(&events[0]), me.id.as_str());
    assert_eq!(events[0]["attributes"]["changes"], json!({}));
}

#[tokio::test]
async fn admins_set_members_and_admins_passwords_without_the_current_one_but_not_owners() {
    let w = World::new().await;
    let new = "set-by-an-admin-1";
    // The admin sets a member's password: the member's sessions end.
    let member_second = w
        .app
        .sign_in("acme", &w.member.email, MEMBER_PASSWORD)
        .await;
    change_password(&w.app, &w.admin.token, &w.member.id, new, new, None)
        .await
        .assert_status(204);
    assert_unauthorized(&w.app.get("/me", &w.member.token).await);
    assert_unauthorized(&w.app.get("/me", &member_second).await);
    w.app.get("/me", &w.admin.token).await.assert_status(200);
    w.app.sign_in("acme", &w.member.email, new).await;
    let events = events_about(&w, &w.member.id, "user.password_changed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(actor_of(&events[0]), w.admin.id.as_str());

    // Another admin's.
    let other_admin = w.target("active", "admin").await;
    change_password(&w.app, &w.admin.token, &other_admin, new, new, None)
        .await
        .assert_status(204);

    // Not an owner's: neither an admin nor another owner may.
    let second_owner = w.target("active", "owner").await;
    for (by, owner) in [
        (&w.admin.token, &w.owner.id),
        (&w.admin.token, &second_owner),
        (&w.owner.token, &second_owner),
    ] {
        change_password(&w.app, by, owner, new, new, None)
            .await
            .assert_error(403, "forbidden");
    }
    w.app.get("/me", &w.owner.token).await.assert_status(200);
    // A member sets nobody else's.
    let (_, member) = w
        .app
        .member(&w.owner.token, "acme", "Other", "other@acme.test", "member")
        .await;
    change_password(&w.app, &member, &other_admin, new, new, None)
        .await
        .assert_error(403, "forbidden");
    // A platform admin may set an owner's.
    change_password(&w.app, &w.root.token, &second_owner, new, new, None)
        .await
        .assert_status(204);
}

// ---------------------------------------------------------------------------------
// Sessions end with their user

#[tokio::test]
async fn deactivating_blocking_or_deleting_a_user_ends_all_its_sessions_at_once() {
    let w = World::new().await;
    for (action, undo) in [
        ("deactivate", "reactivate"),
        ("block", "unblock"),
        ("delete", "restore"),
    ] {
        let id = w.target("active", "member").await;
        let shown = w.app.get(&format!("/users/{id}"), &w.owner.token).await;
        let email = shown.body["data"]["attributes"]["email"]
            .as_str()
            .expect("email")
            .to_owned();
        let tokens = [
            w.app.sign_in("acme", &email, TARGET_PASSWORD).await,
            w.app.sign_in("acme", &email, TARGET_PASSWORD).await,
        ];
        for token in &tokens {
            w.app.get("/me", token).await.assert_status(200);
        }
        let by = if action == "block" { &w.root } else { &w.owner };
        let done = w.attempt(Some(&by.token), action, &id, None).await;
        assert!(done.status.is_success(), "{action}: {}", done.text);
        for token in &tokens {
            assert_unauthorized(&w.app.get("/me", token).await);
            assert_unauthorized(&w.app.get("/users", token).await);
        }
        w.app
            .try_sign_in("acme", &email, TARGET_PASSWORD)
            .await
            .assert_error(403, "user_inactive");

        // Undoing it does not bring the old sessions back; signing in works again.
        w.act(Some(&by.token), &id, undo).await.assert_status(200);
        for token in &tokens {
            assert_unauthorized(&w.app.get("/me", token).await);
        }
        let fresh = w.app.sign_in("acme", &email, TARGET_PASSWORD).await;
        w.app.get("/me", &fresh).await.assert_status(200);
    }
}

// ---------------------------------------------------------------------------------
// Last owner

/// SPEC §2 `last_owner`: "the change would leave an account without an owner" — for the
/// account the user is homed in, whoever acts (a platform admin, whose session is in
/// another account, too). SPEC §4: "no other account can ever stand in the way of
/// managing one's own users", so an account the user created elsewhere (and alone owns)
/// does not stop its home account's admins from deactivating or deleting it.
#[tokio::test]
async fn the_last_owner_of_its_home_account_cannot_be_deactivated_blocked_or_deleted() {
    let mut failures = Vec::new();
    for action in ["deactivate", "block", "delete"] {
        let w = World::new().await;
        let resp = w
            .attempt(Some(&w.root.token), action, &w.owner.id, None)
            .await;
        // Read by the platform admin: the owner's own token may be gone.
        let shown = w
            .app
            .get(&format!("/users/{}", w.owner.id), &w.root.token)
            .await;
        let now = shown.body["data"]["attributes"]["status"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        if (resp.status.as_u16(), resp.error_code(), now.as_str()) != (409, "last_owner", "active")
        {
            failures.push(format!(
                "{action} of acme's only owner by a platform admin: {} {}, owner now `{now}`",
                resp.status,
                resp.error_code()
            ));
        }
    }
    // A member of acme who owns another account alone (it created it) is still
    // deactivated or deleted by acme's admin.
    for action in ["deactivate", "delete"] {
        let w = World::new().await;
        w.app
            .post(
                "/accounts",
                Some(&w.member.token),
                &json!({"data": {"type": "account",
                        "attributes": {"name": "Side", "slug": "side"}}}),
            )
            .await
            .assert_status(201);
        w.app
            .sign_in("side", &w.member.email, MEMBER_PASSWORD)
            .await;
        let resp = w
            .attempt(Some(&w.admin.token), action, &w.member.id, None)
            .await;
        if !resp.status.is_success() {
            failures.push(format!(
                "{action} by acme's admin of acme's member who alone owns `side`: {} {}, member now `{}`",
                resp.status,
                resp.error_code(),
                w.status_of(&w.member.id).await
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// SPEC §2 (tenants are isolated) and §4 "password" ("… except an owner's"): a user of
/// another account that joined as a guest (by accepting the account's invitation; adding
/// it by id is for platform admins only) gives the account no power over that user's
/// credentials or lifecycle — otherwise an account takes over another account's owner:
/// it resets the password and signs in there as its owner.
#[tokio::test]
async fn adding_a_user_as_a_guest_gives_no_power_over_its_credentials_or_lifecycle() {
    let mut failures = Vec::new();
    for (victim, action) in [
        ("globex's owner", "change_password"),
        ("globex's owner", "edit"),
        ("globex's owner", "deactivate"),
        ("globex's owner", "delete"),
        ("globex's member", "change_password"),
    ] {
        let w = World::new().await;
        let guest = if victim == "globex's owner" {
            &w.other_owner
        } else {
            &w.other_member
        };
        // acme's owner cannot add it by id: it cannot see it (404 at the linkage).
        let by_id = w
            .app
            .post(
                "/account_memberships",
                Some(&w.owner.token),
                &json!({"data": {"type": "account_membership", "attributes": {"role": "member"},
                        "relationships": {"user": {"data": {"type": "user", "id": guest.id}}}}}),
            )
            .await;
        by_id.assert_error(404, "not_found");
        assert_eq!(
            by_id.error()["source"]["pointer"],
            "/data/relationships/user"
        );
        // It joins by consent, signed in to globex.
        w.app
            .join_as_guest(&w.owner.token, &guest.token, &guest.email, "member")
            .await;
        let resp = w
            .attempt(Some(&w.owner.token), action, &guest.id, None)
            .await;
        if resp.status != 403 {
            let signed_in = w
                .app
                .try_sign_in(&guest.slug, &guest.email, "a-new-password-123")
                .await
                .status;
            failures.push(format!(
                "acme's owner → {action} of {victim} (a guest member of acme): {}; \
                 signing in to {} with the password acme chose: {signed_in}",
                resp.status, guest.slug
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn an_owner_may_be_deactivated_or_deleted_while_another_owner_remains() {
    let w = World::new().await;
    let second = w.target("active", "owner").await;
    w.act(Some(&w.owner.token), &second, "deactivate")
        .await
        .assert_status(200);
    w.act(Some(&w.owner.token), &second, "reactivate")
        .await
        .assert_status(200);
    w.app
        .delete(&format!("/users/{second}"), &w.owner.token)
        .await
        .assert_status(204);
}

// ---------------------------------------------------------------------------------
// Registrations

fn registration(slug: &str, email: &str, password: &str) -> Value {
    json!({"data": {"type": "registration", "attributes": {
        "account_name": format!("Account {slug}"), "slug": slug,
        "name": "Rita Registrant", "email": email, "password": password}}})
}

#[tokio::test]
async fn registration_is_404_unless_enabled() {
    let app = spawn_app().await;
    let resp = app
        .post(
            "/registrations",
            None,
            &registration("newco", "rita@newco.test", "registrant-pw-1"),
        )
        .await;
    resp.assert_error(404, "not_found");
    app.try_sign_in("newco", "rita@newco.test", "registrant-pw-1")
        .await
        .assert_error(401, "invalid_credentials");
}

#[tokio::test]
async fn registration_creates_an_account_its_owner_and_a_session() {
    let app = spawn_app_with(|raw| raw.open_registration = Some("true".into())).await;
    app.owner().await;
    let password = "registrant-pw-1";
    let resp = app
        .post(
            "/registrations",
            None,
            &registration("newco", "rita@newco.test", password),
        )
        .await;
    resp.assert_status(201);
    assert_eq!(resp.body["data"]["type"], "session");
    assert_eq!(
        resp.header("location"),
        resp.body["data"]["links"]["self"].as_str()
    );
    assert!(!resp.text.contains(password));
    let token = session_token(&resp);
    let account_id = resp.body["data"]["relationships"]["account"]["data"]["id"]
        .as_str()
        .expect("account")
        .to_owned();
    let user_id = resp.body["data"]["relationships"]["user"]["data"]["id"]
        .as_str()
        .expect("user")
        .to_owned();

    // The owner of a new account, who can list its users.
    let users = app.get("/users", &token).await;
    users.assert_status(200);
    assert_eq!(users.ids(), vec![user_id.clone()]);
    assert_eq!(users.body["data"][0]["attributes"]["status"], "active");
    let memberships = app.get("/account_memberships", &token).await;
    assert_eq!(memberships.body["data"][0]["attributes"]["role"], "owner");
    let account = app.get(&format!("/accounts/{account_id}"), &token).await;
    account.assert_status(200);
    assert_eq!(account.body["data"]["attributes"]["slug"], "newco");
    assert_eq!(
        account.body["data"]["meta"]["permissions"]["actions"],
        json!({"edit": true, "delete": true})
    );
    app.sign_in("newco", "rita@newco.test", password).await;
    let actions: BTreeSet<String> = all_events(&app, &token, "")
        .await
        .iter()
        .map(|e| e["attributes"]["action"].as_str().unwrap().to_owned())
        .collect();
    for action in ["account.created", "user.created", "session.created"] {
        assert!(actions.contains(action), "{action} in {actions:?}");
    }

    // A taken slug (registered, or bootstrapped) is 409 at the slug.
    for slug in ["newco", "acme"] {
        let again = app
            .post(
                "/registrations",
                None,
                &registration(slug, "someone@else.test", password),
            )
            .await;
        assert_pointer(&again, 409, "taken", "/data/attributes/slug");
    }
    // Invalid attributes are 422 each at its pointer.
    let bad = app
        .post(
            "/registrations",
            None,
            &registration("X", "not-an-email", "short"),
        )
        .await;
    bad.assert_error(422, "validation_failed");
    let pointers: BTreeSet<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"]["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        BTreeSet::from([
            "/data/attributes/slug",
            "/data/attributes/email",
            "/data/attributes/password"
        ])
    );
}

// ---------------------------------------------------------------------------------
// Audit events

/// One write, then exactly one new event (anywhere the platform admin can look) with
/// this action, actor and target.
async fn expect_one_event(
    w: &World,
    before: &mut BTreeSet<String>,
    action: &str,
    actor: &str,
    target: (&str, &str),
) -> Value {
    let events = events_everywhere(w, "").await;
    let new: Vec<&Value> = events
        .iter()
        .filter(|e| !before.contains(e["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        new.len(),
        1,
        "{action}: want exactly one new event, got {new:#?}"
    );
    let event = new[0].clone();
    assert_eq!(event["attributes"]["action"], action, "{event}");
    assert_eq!(actor_of(&event), actor, "{action}: {event}");
    assert_eq!(
        target_of(&event),
        (json!(target.0), json!(target.1)),
        "{action}: {event}"
    );
    *before = event_ids(&events);
    event
}

#[tokio::test]
async fn every_write_records_exactly_one_event_with_its_action_actor_and_target() {
    let w = World::new().await;
    let owner = &w.owner.token;
    let o = w.owner.id.as_str();
    let mut before = event_ids(&events_everywhere(&w, "").await);

    let created = w
        .app
        .try_create_user(
            owner,
            json!({"name": "Eve", "email": "eve@acme.test", "password": "eve-password-1"}),
            Value::Null,
        )
        .await;
    created.assert_status(201);
    let eve = created.body["data"]["id"].as_str().unwrap().to_owned();
    let e = expect_one_event(&w, &mut before, "user.created", o, ("user", &eve)).await;
    assert_eq!(
        e["attributes"]["changes"]["name"],
        json!([null, "Eve"]),
        "{e}"
    );
    assert_eq!(
        e["attributes"]["changes"]["status"],
        json!([null, "active"]),
        "{e}"
    );

    w.app
        .patch(
            &format!("/users/{eve}"),
            owner,
            &json!({"data": {"type": "user", "id": eve, "attributes": {"name": "Eve Two"}}}),
        )
        .await
        .assert_status(200);
    let e = expect_one_event(&w, &mut before, "user.updated", o, ("user", &eve)).await;
    assert_eq!(
        e["attributes"]["changes"],
        json!({"name": ["Eve", "Eve Two"]})
    );

    change_password(
        &w.app,
        owner,
        &eve,
        "eve-password-2",
        "eve-password-2",
        None,
    )
    .await
    .assert_status(204);
    expect_one_event(&w, &mut before, "user.password_changed", o, ("user", &eve)).await;

    for (action, event) in [
        ("deactivate", "user.deactivated"),
        ("reactivate", "user.reactivated"),
    ] {
        w.act(Some(owner), &eve, action).await.assert_status(200);
        expect_one_event(&w, &mut before, event, o, ("user", &eve)).await;
    }
    for (action, event) in [("block", "user.blocked"), ("unblock", "user.unblocked")] {
        w.act(Some(&w.root.token), &eve, action)
            .await
            .assert_status(200);
        expect_one_event(&w, &mut before, event, &w.root.id, ("user", &eve)).await;
    }
    w.app
        .delete(&format!("/users/{eve}"), owner)
        .await
        .assert_status(204);
    expect_one_event(&w, &mut before, "user.deleted", o, ("user", &eve)).await;
    w.act(Some(owner), &eve, "restore").await.assert_status(200);
    expect_one_event(&w, &mut before, "user.restored", o, ("user", &eve)).await;

    let ivy = w
        .app
        .create_user(owner, json!({"name": "Ivy"}), Value::Null)
        .await;
    expect_one_event(&w, &mut before, "user.created", o, ("user", &ivy)).await;
    w.act(Some(&w.admin.token), &ivy, "invite")
        .await
        .assert_status(200);
    expect_one_event(&w, &mut before, "user.invited", &w.admin.id, ("user", &ivy)).await;
    w.act(Some(owner), &ivy, "revoke_invitation")
        .await
        .assert_status(200);
    expect_one_event(
        &w,
        &mut before,
        "user.invitation_revoked",
        o,
        ("user", &ivy),
    )
    .await;
    // Accepting is two writes: the acceptance and the session it opens.
    let token = invitation_token(&w.act(Some(owner), &ivy, "invite").await);
    expect_one_event(&w, &mut before, "user.invited", o, ("user", &ivy)).await;
    accept(&w.app, &token, "ivy-password-1", None)
        .await
        .assert_status(201);
    let events = events_everywhere(&w, "").await;
    let new: BTreeSet<String> = events
        .iter()
        .filter(|e| !before.contains(e["id"].as_str().unwrap()))
        .map(|e| e["attributes"]["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        new,
        BTreeSet::from([
            "user.invitation_accepted".to_owned(),
            "session.created".to_owned()
        ])
    );
    before = event_ids(&events);

    // Signing in and out, and a wrong password.
    let resp = w
        .app
        .try_sign_in("acme", "eve@acme.test", "eve-password-2")
        .await;
    resp.assert_status(201);
    let session_id = resp.body["data"]["id"].as_str().unwrap().to_owned();
    expect_one_event(
        &w,
        &mut before,
        "session.created",
        &eve,
        ("session", &session_id),
    )
    .await;
    w.app
        .delete("/sessions/current", &session_token(&resp))
        .await
        .assert_status(204);
    expect_one_event(
        &w,
        &mut before,
        "session.deleted",
        &eve,
        ("session", &session_id),
    )
    .await;
    w.app
        .try_sign_in("acme", "eve@acme.test", "not-eves-password")
        .await
        .assert_error(401, "invalid_credentials");
    let events = events_everywhere(&w, "").await;
    let new: Vec<&Value> = events
        .iter()
        .filter(|e| !before.contains(e["id"].as_str().unwrap()))
        .collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_eq!(new[0]["attributes"]["action"], "session.failed");
    before = event_ids(&events);

    // The account.
    w.app
        .patch(
            &format!("/accounts/{}", w.acme_id),
            owner,
            &json!({"data": {"type": "account", "id": w.acme_id,
                    "attributes": {"name": "Acme Renamed"}}}),
        )
        .await
        .assert_status(200);
    let e = expect_one_event(
        &w,
        &mut before,
        "account.updated",
        o,
        ("account", &w.acme_id),
    )
    .await;
    assert_eq!(
        e["attributes"]["changes"],
        json!({"name": ["Account acme", "Acme Renamed"]})
    );

    // Refusals and reads record nothing.
    w.act(Some(&w.member.token), &eve, "deactivate")
        .await
        .assert_error(403, "forbidden");
    w.act(Some(owner), &eve, "reactivate")
        .await
        .assert_error(409, "invalid_transition");
    w.app.get("/users", owner).await.assert_status(200);
    assert_eq!(event_ids(&events_everywhere(&w, "").await), before);
}

/// SPEC §4 audit_event: `GET /audit_events` lists what belongs to the account — and
/// what a platform admin did to the account's users belongs to it.
#[tokio::test]
async fn a_platform_admins_action_on_a_user_is_in_that_users_account_log() {
    let w = World::new().await;
    let id = w.target("active", "member").await;
    let root = Some(w.root.token.as_str());
    let mut failures = Vec::new();
    for (action, event) in [
        ("edit", "user.updated"),
        ("change_password", "user.password_changed"),
        ("block", "user.blocked"),
        ("unblock", "user.unblocked"),
        ("deactivate", "user.deactivated"),
    ] {
        w.attempt(root, action, &id, None).await;
        let in_acme = all_events(
            &w.app,
            &w.owner.token,
            &format!("filter[target]={id}&filter[action]={event}"),
        )
        .await;
        if in_acme.len() != 1 || actor_of(&in_acme[0]) != w.root.id.as_str() {
            failures.push(format!("{event}: acme's log has {in_acme:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn audit_events_are_for_the_accounts_admins_only() {
    let w = World::new().await;
    let acme_events = all_events(&w.app, &w.owner.token, "").await;
    assert!(!acme_events.is_empty());
    let an_event = acme_events[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        event_ids(&all_events(&w.app, &w.admin.token, "").await),
        event_ids(&acme_events)
    );
    w.app
        .get(&format!("/audit_events/{an_event}"), &w.admin.token)
        .await
        .assert_status(200);
    for member in [&w.member.token, &w.maintainer.token, &w.other_member.token] {
        w.app
            .get("/audit_events", member)
            .await
            .assert_error(403, "forbidden");
        w.app
            .get(&format!("/audit_events/{an_event}"), member)
            .await
            .assert_error(403, "forbidden");
    }
    // Another account's owner: its own events only; acme's are 404 and never listed.
    let globex = all_events(&w.app, &w.other_owner.token, "").await;
    assert!(!globex.is_empty());
    assert!(event_ids(&globex).is_disjoint(&event_ids(&acme_events)));
    w.app
        .get(&format!("/audit_events/{an_event}"), &w.other_owner.token)
        .await
        .assert_error(404, "not_found");
    let chosen = all_events(
        &w.app,
        &w.other_owner.token,
        &format!("filter[account]={}", w.acme_id),
    )
    .await;
    assert!(chosen.is_empty(), "{chosen:?}");
    // A platform admin chooses the account.
    let chosen = all_events(
        &w.app,
        &w.root.token,
        &format!("filter[account]={}", w.acme_id),
    )
    .await;
    assert_eq!(event_ids(&chosen), event_ids(&acme_events));
}

#[tokio::test]
async fn audit_filters_and_sort_select_and_order_events() {
    let w = World::new().await;
    let owner = &w.owner.token;
    let t0 = w.app.clock.now();
    w.app.clock.advance(60);
    let t1 = w.app.clock.now();
    let eve = w
        .app
        .create_user(owner, json!({"name": "Eve"}), Value::Null)
        .await;
    w.app.clock.advance(60);
    w.act(Some(&w.admin.token), &eve, "invite")
        .await
        .assert_status(200);
    w.app.clock.advance(60);
    let t2 = w.app.clock.now();
    w.act(Some(owner), &eve, "revoke_invitation")
        .await
        .assert_status(200);
    w.app
        .patch(
            &format!("/accounts/{}", w.acme_id),
            owner,
            &json!({"data": {"type": "account", "id": w.acme_id, "attributes": {"name": "New"}}}),
        )
        .await
        .assert_status(200);

    let all = all_events(&w.app, owner, "").await;
    let check = |events: &[Value], what: &str, keep: &dyn Fn(&Value) -> bool| {
        let want: BTreeSet<String> = event_ids(
            &all.iter()
                .filter(|e| keep(e))
                .cloned()
                .collect::<Vec<Value>>(),
        );
        assert!(!want.is_empty(), "{what}: the test needs matches");
        assert_eq!(event_ids(events), want, "{what}");
    };

    let by_action = all_events(&w.app, owner, "filter[action]=user.invited").await;
    check(&by_action, "action", &|e| {
        e["attributes"]["action"] == "user.invited"
    });
    assert_eq!(by_action.len(), 1);
    let either = all_events(
        &w.app,
        owner,
        "filter[action]=user.invited,user.invitation_revoked",
    )
    .await;
    assert_eq!(either.len(), 2);
    let by_actor = all_events(&w.app, owner, &format!("filter[actor]={}", w.admin.id)).await;
    check(&by_actor, "actor", &|e| actor_of(e) == w.admin.id.as_str());
    let by_type = all_events(&w.app, owner, "filter[target_type]=account").await;
    check(&by_type, "target_type", &|e| target_of(e).0 == "account");
    let by_target = all_events(&w.app, owner, &format!("filter[target]={eve}")).await;
    check(&by_target, "target", &|e| target_of(e).1 == eve.as_str());
    assert_eq!(by_target.len(), 3);

    let at = |t: chrono::NaiveDateTime| t.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let since = all_events(
        &w.app,
        owner,
        &format!("filter[occurred_at][gte]={}", at(t1)),
    )
    .await;
    check(&since, "occurred_at gte", &|e| {
        time(&e["attributes"]["occurred_at"]).naive_utc() >= t1
    });
    let before_t1 = all_events(
        &w.app,
        owner,
        &format!("filter[occurred_at][lt]={}", at(t1)),
    )
    .await;
    check(&before_t1, "occurred_at lt", &|e| {
        time(&e["attributes"]["occurred_at"]).naive_utc() < t1
    });
    assert_eq!(since.len() + before_t1.len(), all.len());
    let window = all_events(
        &w.app,
        owner,
        &format!(
            "filter[occurred_at][gt]={}&filter[occurred_at][lte]={}",
            at(t0),
            at(t2)
        ),
    )
    .await;
    assert_eq!(
        window
            .iter()
            .map(|e| e["attributes"]["action"].as_str().unwrap())
            .collect::<Vec<_>>()
            .len(),
        2,
        "created and invited: {window:?}"
    );

    for (sort, ascending) in [("occurred_at", true), ("-occurred_at", false)] {
        let sorted = all_events(&w.app, owner, &format!("sort={sort}")).await;
        assert_eq!(sorted.len(), all.len());
        let times: Vec<_> = sorted
            .iter()
            .map(|e| time(&e["attributes"]["occurred_at"]))
            .collect();
        for pair in times.windows(2) {
            assert!(
                if ascending {
                    pair[0] <= pair[1]
                } else {
                    pair[0] >= pair[1]
                },
                "{sort}: {times:?}"
            );
        }
    }
    w.app
        .get("/audit_events?sort=action", owner)
        .await
        .assert_error(400, "invalid_parameter");
    w.app
        .get("/audit_events?filter[nope]=1", owner)
        .await
        .assert_error(400, "invalid_parameter");
}

// ---------------------------------------------------------------------------------
// Secrets

/// A full scenario — create with a password, invite, re-invite, accept, set and change
/// passwords, sign in (and fail to), read users, sessions and the audit log — and no
/// response holds a plaintext password or a hash, nor an invitation token except the one
/// response that issues it.
#[tokio::test]
async fn no_response_holds_a_password_a_hash_or_another_responses_invitation_token() {
    let w = World::new().await;
    let owner = &w.owner.token;
    let passwords = [
        "created-with-pw-1",
        "accepted-with-pw-2",
        "set-by-admin-pw-3",
        "changed-by-self-4",
        "a-wrong-password-5",
        "too-short",
    ];
    let mut seen: Vec<(String, Resp)> = Vec::new();
    let mut issued: Vec<(usize, String)> = Vec::new();

    let resp = w
        .app
        .try_create_user(
            owner,
            json!({"name": "Paula", "email": "paula@acme.test", "password": passwords[0]}),
            Value::Null,
        )
        .await;
    let paula = resp.body["data"]["id"].as_str().unwrap().to_owned();
    seen.push(("create with password".into(), resp));
    let resp = w
        .app
        .try_create_user(
            owner,
            json!({"name": "Ian", "email": "ian@acme.test", "password": passwords[5]}),
            Value::Null,
        )
        .await;
    resp.assert_status(422);
    seen.push(("create with a short password".into(), resp));

    let resp = w
        .app
        .try_create_user(
            owner,
            json!({"name": "Ian", "email": "ian@acme.test"}),
            json!({"invite": true}),
        )
        .await;
    let ian = resp.body["data"]["id"].as_str().unwrap().to_owned();
    issued.push((seen.len(), invitation_token(&resp)));
    seen.push(("create with meta.invite".into(), resp));
    let resp = w.act(Some(owner), &ian, "invite").await;
    issued.push((seen.len(), invitation_token(&resp)));
    seen.push(("re-invite".into(), resp));
    let resp = accept(&w.app, &issued[1].1, passwords[1], None).await;
    resp.assert_status(201);
    seen.push(("accept".into(), resp));
    let resp = accept(&w.app, &issued[0].1, passwords[1], None).await;
    seen.push(("accept with a dead token".into(), resp));

    let resp = change_password(
        &w.app,
        &w.admin.token,
        &paula,
        passwords[2],
        passwords[2],
        None,
    )
    .await;
    resp.assert_status(204);
    seen.push(("admin sets a password".into(), resp));
    let resp = w
        .app
        .try_sign_in("acme", "paula@acme.test", passwords[2])
        .await;
    let paula_token = session_token(&resp);
    seen.push(("sign in".into(), resp));
    let resp = change_password(
        &w.app,
        &paula_token,
        &paula,
        passwords[3],
        passwords[3],
        Some(passwords[4]),
    )
    .await;
    resp.assert_status(422);
    seen.push(("own change, wrong current".into(), resp));
    let resp = change_password(
        &w.app,
        &paula_token,
        &paula,
        passwords[3],
        passwords[1],
        Some(passwords[2]),
    )
    .await;
    resp.assert_status(422);
    seen.push(("own change, mismatch".into(), resp));
    let resp = change_password(
        &w.app,
        &paula_token,
        &paula,
        passwords[3],
        passwords[3],
        Some(passwords[2]),
    )
    .await;
    resp.assert_status(204);
    seen.push(("own change".into(), resp));
    let resp = w
        .app
        .try_sign_in("acme", "paula@acme.test", passwords[4])
        .await;
    seen.push(("failed sign-in".into(), resp));
    let resp = w
        .app
        .try_sign_in("acme", "paula@acme.test", passwords[3])
        .await;
    let paula_token = session_token(&resp);
    seen.push(("sign in again".into(), resp));

    for (what, token, path) in [
        ("me", &paula_token, "/me".to_owned()),
        ("sessions", &paula_token, "/sessions".to_owned()),
        ("users", owner, "/users?page[size]=100".to_owned()),
        ("paula", owner, format!("/users/{paula}")),
        (
            "ian",
            owner,
            format!("/users/{ian}?include=account_memberships"),
        ),
        (
            "audit log",
            owner,
            "/audit_events?page[size]=100&include=actor".to_owned(),
        ),
    ] {
        let resp = w.app.get(&path, token).await;
        resp.assert_status(200);
        seen.push((what.into(), resp));
    }
    let resp = w
        .app
        .get("/audit_events?page[size]=100", &w.root.token)
        .await;
    seen.push(("the platform admin's audit log".into(), resp));

    for (index, (what, resp)) in seen.iter().enumerate() {
        for password in passwords {
            assert!(
                !resp.text.contains(password),
                "{what} holds a password: {}",
                resp.text
            );
        }
        for secret in ["$argon2", "password_hash", "token_hash"] {
            assert!(
                !resp.text.contains(secret),
                "{what} holds {secret}: {}",
                resp.text
            );
        }
        for (issuer, token) in &issued {
            assert_eq!(
                resp.text.contains(token.as_str()),
                index == *issuer,
                "invitation token in {what}: {}",
                resp.text
            );
        }
    }
    // And the log's `changes` name no secret attribute at all.
    for event in events_everywhere(&w, "").await {
        let changes = event["attributes"]["changes"]
            .as_object()
            .unwrap_or_else(|| panic!("changes is an object: {event}"));
        for key in changes.keys() {
            assert!(
                !key.contains("password") && !key.contains("token") && !key.contains("hash"),
                "{event}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// Accounts

#[tokio::test]
async fn a_created_account_is_owned_by_its_creator_and_ends_with_its_sessions_when_deleted() {
    let w = World::new().await;
    let resp = w
        .app
        .post(
            "/accounts",
            Some(&w.owner.token),
            &json!({"data": {"type": "account",
                    "attributes": {"name": "Second", "slug": "second"}}}),
        )
        .await;
    resp.assert_status(201);
    let second = resp.body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        resp.header("location"),
        resp.body["data"]["links"]["self"].as_str()
    );
    assert_eq!(resp.body["data"]["attributes"]["slug"], "second");
    // A taken slug.
    let taken = w
        .app
        .post(
            "/accounts",
            Some(&w.owner.token),
            &json!({"data": {"type": "account", "attributes": {"name": "Dup", "slug": "globex"}}}),
        )
        .await;
    assert_pointer(&taken, 409, "taken", "/data/attributes/slug");

    // The creator owns it: it signs in there with its own credentials.
    let there = w
        .app
        .sign_in("second", &w.owner.email, OWNER_PASSWORD)
        .await;
    let memberships = w.app.get("/account_memberships", &there).await;
    memberships.assert_status(200);
    assert_eq!(memberships.ids().len(), 1, "{}", memberships.text);
    let membership = &memberships.body["data"][0];
    assert_eq!(membership["attributes"]["role"], "owner");
    assert_eq!(
        membership["relationships"]["user"]["data"]["id"],
        w.owner.id.as_str()
    );
    assert_eq!(
        membership["relationships"]["account"]["data"]["id"],
        second.as_str()
    );
    let log = all_events(&w.app, &there, "filter[action]=account.created").await;
    assert_eq!(log.len(), 1);
    assert_eq!(actor_of(&log[0]), w.owner.id.as_str());

    // acme: a member may not edit it, an admin may.
    let rename = |name: &str| json!({"data": {"type": "account", "id": w.acme_id, "attributes": {"name": name}}});
    w.app
        .patch(
            &format!("/accounts/{}", w.acme_id),
            &w.member.token,
            &rename("Mine"),
        )
        .await
        .assert_error(403, "forbidden");
    w.app
        .patch(
            &format!("/accounts/{}", w.acme_id),
            &w.admin.token,
            &rename("Acme Inc"),
        )
        .await
        .assert_status(200);

    // second: its admin may not delete it; its owner may.
    w.app
        .create_user(
            &there,
            json!({"name": "Sam", "email": "sam@second.test", "password": TARGET_PASSWORD}),
            json!({"role": "admin"}),
        )
        .await;
    let admin_there = w
        .app
        .sign_in("second", "sam@second.test", TARGET_PASSWORD)
        .await;
    w.app
        .delete(&format!("/accounts/{second}"), &admin_there)
        .await
        .assert_error(403, "forbidden");
    w.app
        .delete(&format!("/accounts/{}", w.acme_id), &w.admin.token)
        .await
        .assert_error(403, "forbidden");
    let deleted = w.app.delete(&format!("/accounts/{second}"), &there).await;
    deleted.assert_status(204);
    assert!(deleted.text.is_empty());
    // Its sessions end; the creator's home session does not.
    assert_unauthorized(&w.app.get("/me", &there).await);
    assert_unauthorized(&w.app.get("/users", &admin_there).await);
    w.app.get("/me", &w.owner.token).await.assert_status(200);
    w.app
        .try_sign_in("second", "sam@second.test", TARGET_PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    let listed = w.app.get("/accounts", &w.owner.token).await;
    assert!(!listed.ids().contains(&second), "{}", listed.text);
    // Nothing of it for another account's owner.
    w.app
        .get(&format!("/accounts/{second}"), &w.other_owner.token)
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn actions_and_password_of_an_unknown_user_or_action_are_404() {
    let w = World::new().await;
    let nobody = uuid::Uuid::now_v7().to_string();
    for action in ["invite", "deactivate", "restore"] {
        w.act(Some(&w.owner.token), &nobody, action)
            .await
            .assert_error(404, "not_found");
    }
    let id = w.target("active", "member").await;
    for action in ["edit", "delete", "change_password", "explode"] {
        w.act(Some(&w.owner.token), &id, action)
            .await
            .assert_error(404, "not_found");
    }
    change_password(
        &w.app,
        &w.owner.token,
        &nobody,
        "long-enough-1",
        "long-enough-1",
        None,
    )
    .await
    .assert_error(404, "not_found");
    assert_eq!(w.status_of(&id).await, "active");
}
