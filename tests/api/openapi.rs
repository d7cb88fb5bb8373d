//! SPEC §5: `GET /api/v1/openapi.json` describes every endpoint — exactly the ones the
//! server answers, with the methods it answers, and the attributes it shows.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

const METHODS: [&str; 4] = ["GET", "POST", "PATCH", "DELETE"];

async fn description(app: &TestApp) -> Value {
    let resp = app.get("/api/v1/openapi.json", "").await;
    resp.assert_status(200);
    assert!(
        resp.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        resp.header("content-type")
    );
    resp.body
}

#[tokio::test]
async fn it_is_openapi_3_1_with_every_resource_type() {
    let app = spawn_app().await;
    let doc = description(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for type_name in [
        "user",
        "account",
        "team",
        "account_membership",
        "team_membership",
        "device",
        "session",
        "audit_event",
    ] {
        for suffix in ["", "_create", "_update"] {
            let name = format!("{type_name}{suffix}");
            assert!(schemas.contains_key(&name), "no schema {name}");
        }
    }
    // Write-only attributes are sent, never shown.
    let user = &schemas["user"]["properties"]["attributes"]["properties"];
    assert!(user.get("password").is_none());
    assert!(
        schemas["user_create"]["properties"]["data"]["properties"]["attributes"]["properties"]
            .get("password")
            .is_some()
    );
    // Every operation says what it answers when it succeeds.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path} has no 2xx response"
            );
        }
    }
    // Every $ref points at a schema that exists.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').expect("end of $ref")];
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
}

/// A concrete URL for a path template: `{id}` an id of the right type where one is
/// at hand, `{relationship}` and `{action}` the first value the description allows.
fn concrete(path: &str, operation: &Value, ids: &[(&str, String)]) -> String {
    let mut url = path.to_owned();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        if parameter["in"] != "path" {
            continue;
        }
        let name = parameter["name"].as_str().expect("name");
        let value = match parameter["schema"]["enum"].as_array() {
            Some(values) => values[0].as_str().expect("enum value").to_owned(),
            None => ids
                .iter()
                .find(|(prefix, _)| path.starts_with(prefix))
                .map_or_else(|| "current".to_owned(), |(_, id)| id.clone()),
        };
        url = url.replace(&format!("{{{name}}}"), &value);
    }
    url
}

#[tokio::test]
async fn it_lists_exactly_the_routes_and_methods_the_server_answers() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let team = app.insert_team(&owner.account_id, "Core");
    let ids = [
        ("/api/v1/users", owner.user_id.clone()),
        ("/api/v1/accounts", owner.account_id.clone()),
        ("/api/v1/teams", team),
    ];
    let doc = description(&app).await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 30, "{} paths", paths.len());
    for (path, item) in paths {
        let item = item.as_object().expect("path item");
        let any_operation = item.values().next().expect("an operation");
        let url = concrete(path, any_operation, &ids);
        for method in METHODS {
            let described = item.contains_key(&method.to_ascii_lowercase());
            let resp = app
                .request(
                    Method::from_bytes(method.as_bytes()).expect("method"),
                    &url,
                    Some(&owner.token),
                    &[("Content-Type", JSONAPI)],
                    (method != "GET" && method != "DELETE").then(|| b"{}".to_vec()),
                )
                .await;
            let not_found_route = resp.status == 404 && resp.error_code() == "not_found";
            if described {
                assert_ne!(
                    resp.status, 405,
                    "{method} {url} is described but not allowed"
                );
                assert!(resp.status != 500, "{method} {url}: {}", resp.text);
            } else if !not_found_route {
                assert_eq!(
                    resp.status, 405,
                    "{method} {url} is not described but answered: {}",
                    resp.text
                );
            }
        }
    }
}

#[tokio::test]
async fn the_attributes_described_are_the_attributes_shown() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.insert_team(&owner.account_id, "Core");
    app.invite_to_account(&owner.token, "guest@elsewhere.test", "member")
        .await;
    let doc = description(&app).await;
    let schemas = &doc["components"]["schemas"];
    for (collection, type_name) in [
        ("/users", "user"),
        ("/accounts", "account"),
        ("/teams", "team"),
        ("/account_memberships", "account_membership"),
        ("/account_invitations", "account_invitation"),
        ("/sessions", "session"),
        ("/audit_events", "audit_event"),
    ] {
        let resp = app.get(collection, &owner.token).await;
        resp.assert_status(200);
        let shown: BTreeSet<String> = resp.body["data"][0]["attributes"]
            .as_object()
            .unwrap_or_else(|| panic!("{collection} has a resource"))
            .keys()
            .cloned()
            .collect();
        let described: BTreeSet<String> =
            schemas[type_name]["properties"]["attributes"]["properties"]
                .as_object()
                .expect("attributes")
                .keys()
                .cloned()
                .collect();
        // A session's token is in the one response that signs in, not in lists.
        let only_sometimes: BTreeSet<String> = match type_name {
            "session" => ["token".to_owned()].into(),
            _ => BTreeSet::new(),
        };
        let expected: BTreeSet<String> = described.difference(&only_sometimes).cloned().collect();
        assert_eq!(shown, expected, "{type_name}");
    }
}
