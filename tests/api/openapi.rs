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

/// The schema of the query parameter `name` of `GET path`.
fn query_schema<'a>(doc: &'a Value, path: &str, name: &str) -> Option<&'a Value> {
    doc["paths"][path]["get"]["parameters"]
        .as_array()?
        .iter()
        .find(|p| p["in"] == "query" && p["name"] == name)
        .map(|p| &p["schema"])
}

fn pattern(schema: &Value) -> regex::Regex {
    regex::Regex::new(schema["pattern"].as_str().expect("a pattern")).expect("a valid pattern")
}

/// The alternatives of a list pattern `^(?:(?:a|b\.c)(?:,(?:…))*)?$`.
fn alternatives(schema: &Value) -> Vec<String> {
    let text = schema["pattern"].as_str().expect("a pattern");
    let inner = text
        .strip_prefix("^(?:(?:")
        .and_then(|rest| rest.split(")(?:,").next())
        .expect("a list pattern");
    inner.split('|').map(|a| a.replace("\\.", ".")).collect()
}

/// Schemathesis-strength exactness (README, "Property-based testing"): every include
/// path the description allows is one the server takes, for the type reached at each
/// step, and none that it refuses.
#[tokio::test]
async fn every_include_path_described_is_one_the_server_takes() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let team = app.insert_team(&owner.account_id, "Core");
    let doc = description(&app).await;
    for (path, url) in [
        ("/api/v1/users", "/users".to_owned()),
        ("/api/v1/teams/{id}", format!("/teams/{team}")),
        (
            "/api/v1/users/{id}/teams",
            format!("/users/{}/teams", owner.user_id),
        ),
        ("/api/v1/audit_events", "/audit_events".to_owned()),
    ] {
        let include = query_schema(&doc, path, "include").expect("include");
        let paths = alternatives(include);
        assert!(paths.len() > 5, "{path}: {paths:?}");
        for p in &paths {
            assert!(p.split('.').count() <= 3, "{p}");
            let resp = app.get(&format!("{url}?include={p}"), &owner.token).await;
            assert_eq!(resp.status, 200, "{path} include={p}: {}", resp.text);
        }
        assert!(pattern(include).is_match(""), "include= is allowed");
        assert!(pattern(include).is_match(&paths.join(",")));
    }
    let users = pattern(query_schema(&doc, "/api/v1/users", "include").expect("include"));
    for refused in [
        "teams.devices",
        "account.account",
        "teams,",
        "a.b.c.d",
        "teams..users",
    ] {
        assert!(!users.is_match(refused), "{refused}");
        let resp = app
            .get(&format!("/users?include={refused}"), &owner.token)
            .await;
        assert_eq!(resp.status, 400, "include={refused}: {}", resp.text);
    }
    // A polymorphic relationship ends its path.
    let events = pattern(query_schema(&doc, "/api/v1/audit_events", "include").expect("include"));
    assert!(events.is_match("target,actor.teams.users"));
    assert!(!events.is_match("target.account"));
}

#[tokio::test]
async fn sort_fields_are_described_once_each_and_cursors_not_at_all() {
    let app = spawn_app().await;
    let doc = description(&app).await;
    let sort = pattern(query_schema(&doc, "/api/v1/users", "sort").expect("sort"));
    // Every example (schemathesis' examples phase sends them) fits its own schema.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for operation in item.as_object().expect("path item").values() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let (Some(example), Some(p)) = (
                    parameter["example"].as_str(),
                    parameter["schema"]["pattern"].as_str(),
                ) else {
                    continue;
                };
                let p = regex::Regex::new(p).expect("a valid pattern");
                assert!(
                    p.is_match(example),
                    "{path} {}: {example}",
                    parameter["name"]
                );
            }
        }
    }
    for ok in ["name", "-name,email", "name,-alive"] {
        assert!(sort.is_match(ok), "{ok}");
    }
    // The server refuses a key given twice (400), so the description does too.
    for refused in ["", "name,name", "name,-name", "name,", "-"] {
        assert!(!sort.is_match(refused), "{refused:?}");
    }
    // `page[after]`/`page[before]` hold only cursors from a previous page's links, and
    // exclude `page[number]` and each other: no generated value would be valid.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for operation in item.as_object().expect("path item").values() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().expect("name");
                assert!(
                    !name.starts_with("page[after") && !name.starts_with("page[before"),
                    "{path}: {name}"
                );
            }
        }
    }
}

#[tokio::test]
async fn bodies_name_related_resources_by_their_type_and_a_uuid() {
    let app = spawn_app().await;
    let doc = description(&app).await;
    let schemas = &doc["components"]["schemas"];
    // Both ends of a team membership are required on create, and name a resource.
    let relationships =
        &schemas["team_membership_create"]["properties"]["data"]["properties"]["relationships"];
    assert_eq!(
        relationships["required"],
        serde_json::json!(["user", "team"])
    );
    let user = &relationships["properties"]["user"]["properties"]["data"];
    assert_eq!(user["properties"]["type"]["const"], "user");
    assert_eq!(user["properties"]["id"]["format"], "uuid");
    // A user's teams: identifiers of teams.
    let teams = &schemas["user_create"]["properties"]["data"]["properties"]["relationships"]["properties"]
        ["teams"]["properties"]["data"];
    assert_eq!(teams["items"]["properties"]["type"]["const"], "team");
    // A password is set on create only (PATCH refuses it: it has its own endpoint).
    let attributes = |name: &str| &schemas[name]["properties"]["data"]["properties"]["attributes"];
    assert!(
        attributes("user_create")["properties"]
            .get("password")
            .is_some()
    );
    assert!(
        attributes("user_update")["properties"]
            .get("password")
            .is_none()
    );
    assert_eq!(attributes("user_update")["additionalProperties"], false);
    // What the server trims is white space to the description too, whatever a regex
    // engine takes `\s` to mean.
    let name = pattern(&attributes("user_create")["properties"]["name"]);
    assert!(name.is_match("Ada Lovelace"));
    for blank in ["", " ", "\u{85}", "\u{a0}\u{3000}", "\u{2007}"] {
        assert!(!name.is_match(blank), "{blank:?}");
    }
    // Each relationship endpoint is described on its own, with its own body.
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.keys().all(|p| !p.contains("{relationship}")));
    let body = &paths["/api/v1/teams/{id}/relationships/users"]["post"]["requestBody"]["content"]
        [JSONAPI]["schema"];
    assert_eq!(
        body["properties"]["data"]["items"]["properties"]["type"]["const"],
        "user"
    );
}

/// The stateful phase chains a create to what takes the new id: every `201` links to
/// operations that exist.
#[tokio::test]
async fn creates_link_to_the_operations_on_what_they_create() {
    let app = spawn_app().await;
    let doc = description(&app).await;
    let paths = doc["paths"].as_object().expect("paths");
    let ids: BTreeSet<&str> = paths
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .map(|operation| operation["operationId"].as_str().expect("an operationId"))
        .collect();
    let mut creates = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            let Some(created) = operation["responses"].get("201") else {
                continue;
            };
            creates += 1;
            let links = created["links"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path} has no links"));
            for link in links.values() {
                let target = link["operationId"].as_str().expect("operationId");
                assert!(ids.contains(target), "{method} {path} links to {target}");
            }
        }
    }
    assert!(creates >= 8, "{creates} creates");
    // Lists link their first resource to the reads (only) that take its id.
    let listed = &paths["/api/v1/audit_events"]["get"]["responses"]["200"]["links"];
    let listed = listed.as_object().expect("links from a list");
    assert!(listed.contains_key("get_api_v1_audit_events_id_target"));
    for link in listed.values() {
        let target = link["operationId"].as_str().expect("operationId");
        assert!(
            target.starts_with("get_") && ids.contains(target),
            "{target}"
        );
    }
    let users = &paths["/api/v1/users"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        users["get_api_v1_users_id"]["parameters"]["path.id"],
        "$response.body#/data/id"
    );
    // Reads of its relationships, never writes: their bodies name other resources,
    // whose 404 a stateful client would blame on the new one.
    assert!(
        users
            .get("get_api_v1_users_id_relationships_teams")
            .is_some()
    );
    assert!(
        users
            .get("post_api_v1_users_id_relationships_teams")
            .is_none()
    );
    assert!(users.get("post_api_v1_team_memberships_user").is_some());
}
