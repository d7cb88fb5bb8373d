//! SPEC §2 (401s) and §4 "session": signing in and out, tokens, throttling.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::helpers::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[track_caller]
fn assert_unauthorized(resp: &Resp) {
    resp.assert_error(401, "unauthorized");
    assert_eq!(
        resp.header("www-authenticate").map(str::to_ascii_lowercase),
        Some("bearer".to_owned()),
        "{:?}",
        resp.headers
    );
}

#[tokio::test]
async fn no_token_is_401_with_www_authenticate() {
    let app = spawn_app().await;
    app.owner().await;
    for path in ["/users", "/me", "/sessions", "/accounts", "/teams"] {
        let resp = app.get_with(path, None, &[]).await;
        assert_unauthorized(&resp);
    }
    let resp = app
        .get_with("/users", None, &[("authorization", "Basic b3duZXI6cHc=")])
        .await;
    assert_unauthorized(&resp);
}

#[tokio::test]
async fn garbage_tampered_and_unsigned_tokens_are_401() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    // The real token works, so what follows fails for the token alone.
    app.get("/me", &owner.token).await.assert_status(200);

    let parts: Vec<&str> = owner.token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT");
    let (header, payload, signature) = (parts[0], parts[1], parts[2]);

    // Another signature: the last character changed.
    let mut tampered_signature = signature.to_owned();
    let last = tampered_signature.pop().unwrap();
    tampered_signature.push(if last == 'A' { 'B' } else { 'A' });

    // Another payload (a later expiry) under the original signature.
    let mut claims: Value = serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap();
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 86_400);
    let forged_payload = B64.encode(claims.to_string());

    let none_header = B64.encode(r#"{"alg":"none","typ":"JWT"}"#);

    // The right claims, signed with another key.
    let other_key = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-xx"),
    )
    .unwrap();

    for token in [
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        format!("{header}.{payload}.{tampered_signature}"),
        format!("{header}.{forged_payload}.{signature}"),
        format!("{none_header}.{payload}."),
        format!("{none_header}.{payload}"),
        other_key,
    ] {
        let resp = app.get("/me", &token).await;
        assert_unauthorized(&resp);
    }
}

#[tokio::test]
async fn wrong_password_unknown_email_and_unknown_account_give_one_answer() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let wrong_password = app
        .try_sign_in("acme", &owner.email, "not-the-password")
        .await;
    let unknown_email = app
        .try_sign_in("acme", "nobody@acme.test", OWNER_PASSWORD)
        .await;
    let unknown_account = app
        .try_sign_in("no-such-account", &owner.email, OWNER_PASSWORD)
        .await;
    let unknown_account_id = app
        .try_sign_in(
            "00000000-0000-7000-8000-000000000000",
            &owner.email,
            OWNER_PASSWORD,
        )
        .await;
    wrong_password.assert_error(401, "invalid_credentials");
    for other in [&unknown_email, &unknown_account, &unknown_account_id] {
        other.assert_error(401, "invalid_credentials");
        assert_eq!(other.body, wrong_password.body, "bodies differ");
        assert_eq!(
            other.header("www-authenticate"),
            wrong_password.header("www-authenticate")
        );
    }
}

#[tokio::test]
async fn sign_in_by_slug_or_account_id_issues_a_working_token() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let me = app.get("/me", &owner.token).await;
    me.assert_status(200);
    assert_eq!(me.body["data"]["id"], owner.user_id);
    assert_eq!(me.body["data"]["type"], "user");

    let by_id = app
        .sign_in(&owner.account_id, &owner.email, OWNER_PASSWORD)
        .await;
    let me = app.get("/me", &by_id).await;
    me.assert_status(200);
    assert_eq!(me.body["data"]["id"], owner.user_id);
}

#[tokio::test]
async fn a_created_session_is_a_201_with_location_equal_to_its_self_link() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    resp.assert_status(201);
    let data = &resp.body["data"];
    assert_eq!(data["type"], "session");
    let id = data["id"].as_str().unwrap();
    let self_link = data["links"]["self"].as_str().unwrap();
    assert_eq!(self_link, format!("{}/sessions/{id}", app.api_base()));
    assert_eq!(resp.header("location"), Some(self_link));
    assert!(
        data["attributes"]["token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let created = time(&data["attributes"]["created_at"]);
    let expires = time(&data["attributes"]["expires_at"]);
    assert_eq!((expires - created).num_seconds(), 3600);
    assert_eq!(
        data["relationships"]["user"]["data"],
        json!({"type": "user", "id": owner.user_id})
    );
    assert_eq!(
        data["relationships"]["account"]["data"],
        json!({"type": "account", "id": owner.account_id})
    );
    // The password is never echoed.
    assert!(!resp.text.contains(OWNER_PASSWORD));

    // The Location can be read with the new token; the token is shown only once.
    let token = data["attributes"]["token"].as_str().unwrap();
    let shown = app.get(self_link, token).await;
    shown.assert_status(200);
    assert_eq!(shown.body["data"]["id"], id);
    assert!(shown.body["data"]["attributes"].get("token").is_none());

    // Signing in updates last_sign_in_at.
    let me = app.get("/me", token).await;
    assert_eq!(
        time(&me.body["data"]["attributes"]["last_sign_in_at"]),
        created
    );
}

#[tokio::test]
async fn signing_out_revokes_the_token_at_once() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let other = app.sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    let resp = app.delete("/sessions/current", &owner.token).await;
    resp.assert_status(204);
    assert!(resp.text.is_empty(), "{}", resp.text);
    assert_unauthorized(&app.get("/me", &owner.token).await);
    assert_unauthorized(&app.delete("/sessions/current", &owner.token).await);
    // Only that session ended.
    app.get("/me", &other).await.assert_status(200);
}

#[tokio::test]
async fn a_session_can_be_deleted_by_id_and_only_the_callers_own() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, member_token) = app
        .member(
            &owner.token,
            "acme",
            "Mia Member",
            "mia@acme.test",
            "member",
        )
        .await;
    let second = app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    let second_id = second.body["data"]["id"].as_str().unwrap().to_owned();
    let second_token = second.body["data"]["attributes"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another user's session is not found.
    app.delete(&format!("/sessions/{second_id}"), &member_token)
        .await
        .assert_error(404, "not_found");
    app.get(&format!("/sessions/{second_id}"), &member_token)
        .await
        .assert_error(404, "not_found");
    app.get("/me", &second_token).await.assert_status(200);

    app.delete(&format!("/sessions/{second_id}"), &owner.token)
        .await
        .assert_status(204);
    assert_unauthorized(&app.get("/me", &second_token).await);
    app.get("/me", &owner.token).await.assert_status(200);
}

#[tokio::test]
async fn sessions_lists_the_callers_own_live_sessions() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let (_, member_token) = app
        .member(
            &owner.token,
            "acme",
            "Mia Member",
            "mia@acme.test",
            "member",
        )
        .await;
    let current = app.get("/sessions/current", &owner.token).await;
    current.assert_status(200);
    let first_id = current.body["data"]["id"].as_str().unwrap().to_owned();
    let second = app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    let second_id = second.body["data"]["id"].as_str().unwrap().to_owned();
    let third = app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    let third_token = third.body["data"]["attributes"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete("/sessions/current", &third_token)
        .await
        .assert_status(204);

    let list = app.get("/sessions", &owner.token).await;
    list.assert_status(200);
    let mut ids = list.ids();
    ids.sort();
    let mut expected = vec![first_id, second_id];
    expected.sort();
    assert_eq!(ids, expected, "{}", list.text);
    for session in list.body["data"].as_array().unwrap() {
        assert_eq!(session["type"], "session");
        assert!(session["attributes"].get("token").is_none());
        assert_eq!(
            session["relationships"]["user"]["data"]["id"],
            owner.user_id
        );
    }

    let members = app.get("/sessions", &member_token).await;
    assert_eq!(members.ids().len(), 1, "{}", members.text);
}

#[tokio::test]
async fn a_token_expires_after_the_configured_ttl() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    // Some slack for the time the test itself takes.
    app.clock.advance(3590);
    app.get("/me", &owner.token).await.assert_status(200);
    app.clock.advance(11);
    assert_unauthorized(&app.get("/me", &owner.token).await);
    // An expired session is no longer listed to a fresh one either.
    let fresh = app.sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    let list = app.get("/sessions", &fresh).await;
    assert_eq!(list.ids().len(), 1, "{}", list.text);
}

#[tokio::test]
async fn five_failed_sign_ins_throttle_the_sixth_with_retry_after() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for _ in 0..5 {
        app.try_sign_in("acme", &owner.email, "wrong-password!")
            .await
            .assert_error(401, "invalid_credentials");
    }
    // Even the right password is refused for the rest of the window.
    let resp = app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    resp.assert_error(429, "too_many_requests");
    let retry_after: i64 = resp
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");

    // Another email of the same account is not throttled.
    let (_, _) = app
        .member(
            &owner.token,
            "acme",
            "Mia Member",
            "mia@acme.test",
            "member",
        )
        .await;

    // Ten minutes later, the lock holds for the rest of the window only.
    app.clock.advance(600);
    let resp = app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    resp.assert_error(429, "too_many_requests");
    let retry_after: i64 = resp.header("retry-after").unwrap().parse().unwrap();
    assert!((290..=300).contains(&retry_after), "{retry_after}");

    // After the window, signing in works again.
    app.clock.advance(301);
    app.try_sign_in("acme", &owner.email, OWNER_PASSWORD)
        .await
        .assert_status(201);
}

#[tokio::test]
async fn an_unknown_email_is_throttled_like_a_known_one() {
    let app = spawn_app().await;
    app.owner().await;
    for _ in 0..5 {
        app.try_sign_in("acme", "ghost@acme.test", "wrong-password!")
            .await
            .assert_error(401, "invalid_credentials");
    }
    app.try_sign_in("acme", "ghost@acme.test", "wrong-password!")
        .await
        .assert_error(429, "too_many_requests");
}

#[tokio::test]
async fn a_deactivated_user_with_the_right_password_is_403_and_with_a_wrong_one_401() {
    let app = spawn_app().await;
    app.seed(1, 50, 0, 0);
    // Seeded user 49 is deactivated; user 48 is active.
    app.sign_in("seed-0", "user-48@seed-0.test", "password-48")
        .await;
    app.try_sign_in("seed-0", "user-49@seed-0.test", "password-49")
        .await
        .assert_error(403, "user_inactive");
    let wrong = app
        .try_sign_in("seed-0", "user-49@seed-0.test", "password-48")
        .await;
    wrong.assert_error(401, "invalid_credentials");
    let unknown = app
        .try_sign_in("seed-0", "user-99@seed-0.test", "password-48")
        .await;
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test]
async fn a_token_stops_working_when_its_user_is_deactivated() {
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
    app.set_status(&id, "deactivated");
    assert_unauthorized(&app.get("/me", &token).await);
}

#[tokio::test]
async fn sign_in_requires_account_email_and_password() {
    let app = spawn_app().await;
    app.owner().await;
    let resp = app
        .post(
            "/sessions",
            None,
            &json!({"data": {"type": "session", "attributes": {"account": "acme"}}}),
        )
        .await;
    resp.assert_error(422, "validation_failed");
    let mut pointers: Vec<&str> = resp.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"]["pointer"].as_str().unwrap())
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        ["/data/attributes/email", "/data/attributes/password"]
    );
}

#[tokio::test]
async fn a_deleted_accounts_tokens_and_sign_ins_stop_working() {
    use diesel::prelude::*;
    use roster::db::schema::accounts;
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.get("/me", &owner.token).await.assert_status(200);
    diesel::update(accounts::table.find(&owner.account_id))
        .set(accounts::discarded_at.eq(Some(app.clock.now())))
        .execute(&mut app.db())
        .unwrap();
    assert_unauthorized(&app.get("/me", &owner.token).await);
    app.try_sign_in("acme", &owner.email, OWNER_PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
}

#[tokio::test]
async fn tokens_and_the_throttle_hold_across_instances_sharing_a_database() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let other = app.another_instance();
    // A token from one instance works on the other, and signing out on one ends it on both.
    other.get("/me", &owner.token).await.assert_status(200);
    let token = other.sign_in("acme", &owner.email, OWNER_PASSWORD).await;
    app.get("/me", &token).await.assert_status(200);
    other
        .delete("/sessions/current", &token)
        .await
        .assert_status(204);
    assert_unauthorized(&app.get("/me", &token).await);

    // Failures counted on both instances add up.
    for instance in [&app, &other, &app, &other, &app] {
        instance
            .try_sign_in("acme", &owner.email, "wrong-password!")
            .await
            .assert_error(401, "invalid_credentials");
    }
    other
        .try_sign_in("acme", &owner.email, OWNER_PASSWORD)
        .await
        .assert_error(429, "too_many_requests");
    drop(other);
}
