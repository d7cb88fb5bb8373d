//! SPEC §2 and §5: content negotiation, document shape, error documents, query
//! parameter rules, Server-Timing, health endpoints, CORS.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

fn user_document(email: &str) -> Value {
    json!({"data": {"type": "user", "attributes": {"name": "Nina", "email": email}}})
}

fn body_of(value: &Value) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(value).expect("json"))
}

#[tokio::test]
async fn a_body_with_a_content_type_other_than_jsonapi_is_415() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("application/json", &[("content-type", "application/json")]),
        (
            "charset parameter",
            &[("content-type", "application/vnd.api+json; charset=utf-8")],
        ),
        ("text/plain", &[("content-type", "text/plain")]),
        ("missing", &[]),
    ];
    for (i, (case, headers)) in cases.iter().enumerate() {
        let resp = app
            .request(
                Method::POST,
                "/users",
                Some(&owner.token),
                headers,
                body_of(&user_document(&format!("u{i}@acme.test"))),
            )
            .await;
        resp.assert_error(415, "unsupported_media_type");
        assert_eq!(
            resp.error()["source"],
            json!({"header": "Content-Type"}),
            "{case}: {}",
            resp.text
        );
    }
    // Nothing was created by any of them.
    let list = app.get("/users", &owner.token).await;
    assert_eq!(list.ids(), vec![owner.user_id.clone()]);

    // Sign-in needs no token, and still needs the media type.
    let resp = app
        .request(
            Method::POST,
            "/sessions",
            None,
            &[("content-type", "application/json")],
            body_of(&json!({"data": {"type": "session", "attributes": {
                "account": "acme", "email": owner.email, "password": OWNER_PASSWORD}}})),
        )
        .await;
    resp.assert_error(415, "unsupported_media_type");
    assert_eq!(resp.error()["source"]["header"], "Content-Type");
}

#[tokio::test]
async fn ext_and_profile_parameters_are_allowed_in_content_type_and_unknown_profiles_ignored() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .request(
            Method::POST,
            "/users",
            Some(&owner.token),
            &[(
                "content-type",
                "application/vnd.api+json; profile=\"https://example.com/profiles/unknown\"",
            )],
            body_of(&user_document("profiled@acme.test")),
        )
        .await;
    resp.assert_status(201);

    let resp = app
        .get_with(
            "/users",
            Some(&owner.token),
            &[(
                "accept",
                "application/vnd.api+json; profile=\"https://example.com/profiles/unknown\"",
            )],
        )
        .await;
    resp.assert_status(200);
    assert_eq!(resp.header("content-type"), Some(JSONAPI));
    // An unknown profile is not the cursor profile: offset pagination as usual.
    assert_eq!(resp.body["meta"]["total"], 2, "{}", resp.text);
}

#[tokio::test]
async fn accept_whose_jsonapi_entries_all_carry_other_parameters_is_406() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for accept in [
        "application/vnd.api+json; charset=utf-8",
        "application/vnd.api+json; charset=utf-8, application/vnd.api+json; version=2",
    ] {
        let resp = app
            .get_with("/users", Some(&owner.token), &[("accept", accept)])
            .await;
        resp.assert_error(406, "not_acceptable");
        assert_eq!(
            resp.error()["source"],
            json!({"header": "Accept"}),
            "{accept}"
        );
        assert!(resp.header("server-timing").is_some());
    }
    // One usable entry is enough.
    let resp = app
        .get_with(
            "/users",
            Some(&owner.token),
            &[(
                "accept",
                "application/vnd.api+json; charset=utf-8, application/vnd.api+json",
            )],
        )
        .await;
    resp.assert_status(200);
}

#[tokio::test]
async fn responses_carry_the_jsonapi_media_type_and_version() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let created = app
        .try_create_user(
            &owner.token,
            json!({"name": "Vera", "email": "vera@acme.test"}),
            Value::Null,
        )
        .await;
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let responses = vec![
        created,
        app.get("/users", &owner.token).await,
        app.get(&format!("/users/{id}"), &owner.token).await,
        app.get(&format!("/users/{id}/relationships/teams"), &owner.token)
            .await,
        app.get(&format!("/users/{id}/account"), &owner.token).await,
        app.get("/me", &owner.token).await,
        app.get("/sessions", &owner.token).await,
        app.get_with("/users", None, &[]).await,
        app.get("/users/00000000-0000-0000-0000-000000000000", &owner.token)
            .await,
        app.try_sign_in("acme", "nobody@acme.test", "wrong-password-1")
            .await,
    ];
    for resp in responses {
        assert_eq!(
            resp.header("content-type"),
            Some(JSONAPI),
            "status {}: {}",
            resp.status,
            resp.text
        );
        assert_eq!(
            resp.body["jsonapi"],
            json!({"version": "1.1"}),
            "{}",
            resp.text
        );
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400_invalid_json() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .request(
            Method::POST,
            "/users",
            Some(&owner.token),
            &[("content-type", JSONAPI)],
            Some(b"{\"data\": {\"type\": \"user\",".to_vec()),
        )
        .await;
    resp.assert_error(400, "invalid_json");
}

#[tokio::test]
async fn json_that_is_not_a_request_document_is_400_invalid_document() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for document in [
        json!({}),
        json!({"meta": {"role": "admin"}}),
        json!({"data": []}),
        json!({"data": [{"type": "user", "attributes": {"name": "A"}}]}),
        json!([]),
        json!({"data": "user"}),
    ] {
        let resp = app.post("/users", Some(&owner.token), &document).await;
        resp.assert_error(400, "invalid_document");
    }
    let resp = app.post("/sessions", None, &json!({"data": []})).await;
    resp.assert_error(400, "invalid_document");
}

#[tokio::test]
async fn a_wrong_type_is_409_conflict() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .post(
            "/users",
            Some(&owner.token),
            &json!({"data": {"type": "team", "attributes": {"name": "Ops"}}}),
        )
        .await;
    resp.assert_error(409, "conflict");
    assert_eq!(resp.error()["source"]["pointer"], "/data/type");

    let resp = app
        .patch(
            &format!("/users/{}", owner.user_id),
            &owner.token,
            &json!({"data": {"type": "account", "id": owner.user_id, "attributes": {"name": "X"}}}),
        )
        .await;
    resp.assert_error(409, "conflict");

    let resp = app
        .post(
            "/sessions",
            None,
            &json!({"data": {"type": "user", "attributes": {
                "account": "acme", "email": owner.email, "password": OWNER_PASSWORD}}}),
        )
        .await;
    resp.assert_error(409, "conflict");
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let filler = "x".repeat(1024 * 1024);
    let document = json!({"data": {"type": "user", "attributes": {
        "name": "Big", "preferences": {"filler": filler}}}});
    let resp = app.post("/users", Some(&owner.token), &document).await;
    resp.assert_error(413, "payload_too_large");
    assert!(resp.header("server-timing").is_some());
}

#[tokio::test]
async fn unknown_lower_case_query_parameters_are_400_and_others_are_ignored() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for path in ["/users?foo=1", "/me?foo=1", "/accounts?foo=1"] {
        let resp = app.get(path, &owner.token).await;
        resp.assert_error(400, "invalid_parameter");
        assert_eq!(
            resp.error()["source"],
            json!({"parameter": "foo"}),
            "{path}"
        );
    }
    for path in ["/users?fooBar=1", "/users?foo_bar=1", "/me?fooBar=1"] {
        let resp = app.get(path, &owner.token).await;
        resp.assert_status(200);
    }
}

#[tokio::test]
async fn unknown_urls_are_jsonapi_404s() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for path in [
        "/api/v1/nothing-here",
        "/api/v2/users",
        "/nowhere",
        "/api/v1/users/00000000-0000-7000-8000-000000000000",
        "/api/v1/users/not-a-uuid",
        "/api/v1/users/00000000-0000-7000-8000-000000000000/teams",
    ] {
        let resp = app.get(path, &owner.token).await;
        resp.assert_error(404, "not_found");
        assert!(resp.header("server-timing").is_some(), "{path}");
    }
}

#[tokio::test]
async fn a_wrong_method_is_405() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for (method, path) in [
        (Method::PUT, "/users".to_owned()),
        (Method::PUT, format!("/users/{}", owner.user_id)),
        (Method::PATCH, "/sessions/current".to_owned()),
        (Method::POST, "/me".to_owned()),
    ] {
        let resp = app
            .request(method.clone(), &path, Some(&owner.token), &[], None)
            .await;
        resp.assert_status(405);
        assert_eq!(
            resp.header("content-type"),
            Some(JSONAPI),
            "{method} {path}"
        );
        assert_eq!(resp.body["errors"][0]["status"], "405", "{}", resp.text);
        assert!(resp.header("server-timing").is_some());
    }
}

#[tokio::test]
async fn server_timing_counts_the_statements_of_every_response() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let ok = app.get("/me", &owner.token).await;
    ok.assert_status(200);
    // The token check and the user.
    assert!(queries(&ok) >= 2, "{:?}", ok.header("server-timing"));
    let timing = ok.header("server-timing").unwrap();
    assert!(
        timing.starts_with("db;dur=")
            && timing.contains(";desc=\"queries=")
            && timing.contains(", app;dur="),
        "{timing}"
    );

    let unauthorized = app.get_with("/me", None, &[]).await;
    unauthorized.assert_status(401);
    assert_eq!(queries(&unauthorized), 0);

    let bad_parameter = app.get("/users?sort=nope", &owner.token).await;
    bad_parameter.assert_status(400);
    assert!(bad_parameter.header("server-timing").is_some());

    let not_found = app.get("/api/v1/nope", &owner.token).await;
    assert!(not_found.header("server-timing").is_some());
}

#[tokio::test]
async fn documents_resources_and_relationships_have_self_links() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let base = app.api_base();
    let resp = app.get("/users?sort=name", &owner.token).await;
    resp.assert_status(200);
    assert_eq!(
        resp.body["links"]["self"],
        format!("{base}/users?sort=name")
    );
    for user in resp.body["data"].as_array().unwrap() {
        let id = user["id"].as_str().unwrap();
        assert_eq!(user["links"]["self"], format!("{base}/users/{id}"));
        for (name, relationship) in user["relationships"].as_object().unwrap() {
            assert_eq!(
                relationship["links"]["self"],
                format!("{base}/users/{id}/relationships/{name}")
            );
            assert_eq!(
                relationship["links"]["related"],
                format!("{base}/users/{id}/{name}")
            );
        }
        // To-one relationships always carry data.
        assert_eq!(
            user["relationships"]["account"]["data"],
            json!({"type": "account", "id": owner.account_id})
        );
        assert!(user["meta"]["permissions"]["actions"].is_object());
    }
    let one = app
        .get(&format!("/users/{}", owner.user_id), &owner.token)
        .await;
    assert_eq!(
        one.body["links"]["self"],
        format!("{base}/users/{}", owner.user_id)
    );
    let account = app
        .get(&format!("/accounts/{}", owner.account_id), &owner.token)
        .await;
    assert_eq!(
        account.body["data"]["links"]["self"],
        format!("{base}/accounts/{}", owner.account_id)
    );
}

#[tokio::test]
async fn an_empty_include_gives_an_empty_included_member() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app.get("/users?include=", &owner.token).await;
    resp.assert_status(200);
    assert_eq!(resp.body["included"], json!([]), "{}", resp.text);
    let resp = app
        .get(&format!("/users/{}?include=", owner.user_id), &owner.token)
        .await;
    assert_eq!(resp.body["included"], json!([]), "{}", resp.text);
    // Without `include`, no `included` member.
    let resp = app.get("/users", &owner.token).await;
    assert!(resp.body.get("included").is_none(), "{}", resp.text);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.get_with("/healthz", None, &[]).await;
    health.assert_status(200);
    let ready = app.get_with("/readyz", None, &[]).await;
    ready.assert_status(200);
}

#[tokio::test]
async fn cors_echoes_listed_origins_and_exposes_location_and_server_timing() {
    let app = spawn_app_with(|raw| raw.cors_origins = Some("https://app.example.com".into())).await;
    let owner = app.owner().await;
    let preflight = app
        .request(
            Method::OPTIONS,
            "/users",
            None,
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type, authorization",
                ),
            ],
            None,
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );

    let resp = app
        .get_with(
            "/users",
            Some(&owner.token),
            &[("origin", "https://app.example.com")],
        )
        .await;
    resp.assert_status(200);
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let exposed = resp
        .header("access-control-expose-headers")
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(exposed.contains("location"), "{exposed}");
    assert!(exposed.contains("server-timing"), "{exposed}");

    let other = app
        .get_with(
            "/users",
            Some(&owner.token),
            &[("origin", "https://evil.example.com")],
        )
        .await;
    assert_ne!(
        other.header("access-control-allow-origin"),
        Some("https://evil.example.com")
    );
    assert_ne!(other.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn an_unsupported_extension_is_415_in_content_type_and_406_in_accept() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let atomic = "application/vnd.api+json; ext=\"https://jsonapi.org/ext/atomic\"";
    let resp = app
        .request(
            Method::POST,
            "/users",
            Some(&owner.token),
            &[("content-type", atomic)],
            body_of(&user_document("ext@acme.test")),
        )
        .await;
    resp.assert_error(415, "unsupported_media_type");
    assert_eq!(resp.error()["source"]["header"], "Content-Type");
    let resp = app
        .get_with(
            "/users",
            Some(&owner.token),
            &[(
                "accept",
                "application/vnd.api+json; ext=\"https://example.com/ext\"",
            )],
        )
        .await;
    resp.assert_error(406, "not_acceptable");
    assert_eq!(resp.error()["source"]["header"], "Accept");
}

#[tokio::test]
async fn unknown_lower_case_query_parameters_are_400_on_every_method() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let victim = app
        .create_user(&owner.token, json!({"name": "Victim"}), Value::Null)
        .await;
    let sign_in = json!({"data": {"type": "session", "attributes": {
        "account": "acme", "email": owner.email, "password": OWNER_PASSWORD}}});
    let rename = json!({"data": {"type": "user", "id": victim, "attributes": {"name": "Renamed"}}});
    let answers = [
        (
            "POST /sessions?foo=1",
            app.post("/sessions?foo=1", None, &sign_in).await,
        ),
        (
            "POST /users?foo=1",
            app.post(
                "/users?foo=1",
                Some(&owner.token),
                &user_document("q@acme.test"),
            )
            .await,
        ),
        (
            "PATCH /users/{id}?foo=1",
            app.patch(&format!("/users/{victim}?foo=1"), &owner.token, &rename)
                .await,
        ),
        (
            "DELETE /users/{id}?foo=1",
            app.delete(&format!("/users/{victim}?foo=1"), &owner.token)
                .await,
        ),
        (
            "DELETE /sessions/current?foo=1",
            app.delete("/sessions/current?foo=1", &owner.token).await,
        ),
    ];
    let wrong: Vec<String> = answers
        .iter()
        .filter(|(_, resp)| {
            resp.status.as_u16() != 400
                || resp.error_code() != "invalid_parameter"
                || resp.error()["source"]["parameter"] != "foo"
        })
        .map(|(request, resp)| format!("{request} → {}", resp.status))
        .collect();
    assert!(wrong.is_empty(), "not 400 invalid_parameter: {wrong:#?}");

    // None of them did anything.
    let shown = app.get(&format!("/users/{victim}"), &owner.token).await;
    assert_eq!(shown.body["data"]["attributes"]["name"], "Victim");
    assert_eq!(shown.body["data"]["attributes"]["status"], "created");
    let users = app.get("/users", &owner.token).await;
    assert_eq!(users.body["meta"]["total"], 2);
}

#[tokio::test]
async fn a_single_resource_documents_self_link_is_the_url_that_was_requested() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let mut wrong = Vec::new();
    for path in [
        format!("/users/{}?include=teams", owner.user_id),
        format!("/users/{}?fields[user]=name", owner.user_id),
        "/me".to_owned(),
        "/sessions/current".to_owned(),
    ] {
        let resp = app.get(&path, &owner.token).await;
        resp.assert_status(200);
        if resp.body["links"]["self"] != app.url(&path) {
            wrong.push(format!(
                "GET {path} → links.self {}",
                resp.body["links"]["self"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn a_405_names_the_allowed_methods() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let resp = app
        .request(Method::PUT, "/users", Some(&owner.token), &[], None)
        .await;
    resp.assert_status(405);
    let allow = resp
        .header("allow")
        .unwrap_or_default()
        .to_ascii_uppercase();
    assert!(
        allow.contains("GET") && allow.contains("POST"),
        "Allow: {allow:?}"
    );
}
