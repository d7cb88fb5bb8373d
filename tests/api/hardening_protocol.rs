//! Issue 8, items 4–6 (protocol part): links come from `ROSTER_PUBLIC_URL`, never from
//! the request's `Host`/`Forwarded`/`X-Forwarded-*`; one spelling per id; `HEAD` wherever
//! `GET`; CORS preflights list only the methods the path serves.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// Every string under a `links` member anywhere in `body`, with where it was found.
fn links_in(body: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, at: &str, inside_links: bool, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    walk(
                        v,
                        &format!("{at}/{key}"),
                        inside_links || key == "links",
                        out,
                    );
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), inside_links, out);
                }
            }
            Value::String(s) if inside_links => out.push((at.to_owned(), s.clone())),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(body, "", false, &mut out);
    out
}

/// The links of `resp` (and its `Location`) that do not start with `base/`.
fn links_not_under(resp: &Resp, base: &str) -> Vec<String> {
    let prefix = format!("{base}/");
    let mut wrong: Vec<String> = links_in(&resp.body)
        .into_iter()
        .filter(|(_, link)| !link.starts_with(&prefix))
        .map(|(at, link)| format!("{at} = {link}"))
        .collect();
    if let Some(location) = resp.header("location")
        && !location.starts_with(&prefix)
    {
        wrong.push(format!("Location = {location}"));
    }
    wrong
}

fn user_document(name: &str) -> Value {
    json!({"data": {"type": "user", "attributes": {"name": name}}})
}

fn user_document_with_id(id: &str, name: &str) -> Value {
    json!({"data": {"type": "user", "id": id, "attributes": {"name": name}}})
}

const HOSTILE_HEADERS: &[&[(&str, &str)]] = &[
    &[("host", "evil.example")],
    &[
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "javascript"),
    ],
    &[("forwarded", "proto=javascript;host=evil.example")],
    &[
        ("forwarded", "for=1.2.3.4;proto=https;host=evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-prefix", "/evil"),
    ],
];

#[tokio::test]
async fn forwarded_headers_cannot_change_links_or_location() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    app.create_user(&owner.token, json!({"name": "Second"}), Value::Null)
        .await;
    let base = app.api_base();
    let mut wrong = Vec::new();
    for (n, headers) in HOSTILE_HEADERS.iter().enumerate() {
        let reads = [
            "/users?page[size]=1&include=account".to_owned(),
            format!("/users/{}", owner.user_id),
            format!("/users/{}/relationships/account_memberships", owner.user_id),
            format!("/users/{}/account_memberships?page[size]=1", owner.user_id),
            "/me".to_owned(),
        ];
        for path in reads {
            let resp = app.get_with(&path, Some(&owner.token), headers).await;
            resp.assert_status(200);
            for link in links_not_under(&resp, &base) {
                wrong.push(format!("GET {path} with {headers:?}: {link}"));
            }
        }
        let mut request_headers = vec![("content-type", JSONAPI)];
        request_headers.extend_from_slice(headers);
        let created = app
            .request(
                Method::POST,
                "/users",
                Some(&owner.token),
                &request_headers,
                Some(serde_json::to_vec(&user_document(&format!("Hostile {n}"))).expect("json")),
            )
            .await;
        created.assert_status(201);
        assert!(created.header("location").is_some(), "{}", created.text);
        for link in links_not_under(&created, &base) {
            wrong.push(format!("POST /users with {headers:?}: {link}"));
        }
    }
    assert!(wrong.is_empty(), "links built from the request: {wrong:#?}");
}

#[tokio::test]
async fn a_configured_public_url_with_a_path_prefix_starts_every_link_and_location() {
    // A trailing slash is tolerated.
    let app =
        spawn_app_with(|raw| raw.public_url = Some("https://example.com/roster/".into())).await;
    let owner = app.owner().await;
    let team = app.insert_team(&owner.account_id, "Core");
    app.add_to_team(&team, &owner.user_id, "maintainer");
    app.create_user(&owner.token, json!({"name": "Second"}), Value::Null)
        .await;
    let base = "https://example.com/roster/api/v1";

    // Pagination keeps the request's path and query, under the configured prefix.
    let page = app.get("/users?page[size]=1&sort=name", &owner.token).await;
    page.assert_status(200);
    let links = &page.body["links"];
    assert_eq!(
        links["self"],
        format!("{base}/users?page[size]=1&sort=name")
    );
    assert_eq!(
        links["first"],
        format!("{base}/users?sort=name&page[number]=1&page[size]=1")
    );
    assert_eq!(
        links["next"],
        format!("{base}/users?sort=name&page[number]=2&page[size]=1")
    );
    assert_eq!(
        links["last"],
        format!("{base}/users?sort=name&page[number]=2&page[size]=1")
    );
    let cursor = app.get_cursor("/users?page[size]=1", &owner.token).await;
    cursor.assert_status(200);
    let next = cursor.body["links"]["next"].as_str().unwrap_or_default();
    assert!(
        next.starts_with(&format!("{base}/users?page[after]=")),
        "{next}"
    );

    // Resource and relationship links.
    let user = app
        .get(
            &format!("/users/{}?include=teams", owner.user_id),
            &owner.token,
        )
        .await;
    user.assert_status(200);
    let data = &user.body["data"];
    assert_eq!(
        data["links"]["self"],
        format!("{base}/users/{}", owner.user_id)
    );
    assert_eq!(
        data["relationships"]["teams"]["links"],
        json!({
            "self": format!("{base}/users/{}/relationships/teams", owner.user_id),
            "related": format!("{base}/users/{}/teams", owner.user_id),
        })
    );
    assert_eq!(
        user.body["included"][0]["links"]["self"],
        format!("{base}/teams/{team}")
    );
    let linkage = app
        .get(
            &format!("/users/{}/relationships/teams", owner.user_id),
            &owner.token,
        )
        .await;
    linkage.assert_status(200);
    assert_eq!(
        linkage.body["links"]["self"],
        format!("{base}/users/{}/relationships/teams", owner.user_id)
    );
    assert_eq!(
        linkage.body["links"]["related"],
        format!("{base}/users/{}/teams", owner.user_id)
    );

    // `Location` of a create, sessions included, equals the new resource's self link.
    let created = app
        .try_create_user(&owner.token, json!({"name": "Third"}), Value::Null)
        .await;
    created.assert_status(201);
    let id = created.body["data"]["id"].as_str().expect("id");
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/users/{id}").as_str())
    );
    let session = app
        .try_sign_in("acme", "owner@acme.test", OWNER_PASSWORD)
        .await;
    session.assert_status(201);
    let session_self = session.body["data"]["links"]["self"]
        .as_str()
        .unwrap_or_default();
    assert!(
        session_self.starts_with(&format!("{base}/sessions/")),
        "{session_self}"
    );
    assert_eq!(session.header("location"), Some(session_self));

    // Everything else under `links`, too.
    for resp in [&page, &cursor, &user, &linkage, &created, &session] {
        assert!(links_not_under(resp, base).is_empty(), "{}", resp.text);
    }
}

/// Runs `roster serve` with `args` and `ROSTER_PUBLIC_URL` (when given); its exit code
/// and standard error, or `None` if it was still running after ten seconds (it started).
fn serve_with_public_url(args: &[&str], public_url: Option<&str>) -> Option<(i32, String)> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command
        .arg("serve")
        .args(args)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/roster.db", dir.path().display()),
        )
        .env("ROSTER_BIND", "127.0.0.1:0")
        .env("ROSTER_JWT_SECRET", JWT_SECRET)
        .env("ROSTER_WORKERS", "1")
        .env("RUST_LOG", "error")
        .env_remove("ROSTER_PUBLIC_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(value) = public_url {
        command.env("ROSTER_PUBLIC_URL", value);
    }
    let mut child = command.spawn().expect("roster serve starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                let _ = pipe.read_to_string(&mut stderr);
            }
            return Some((status.code().unwrap_or(-1), stderr));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_bad_public_url_stops_the_program_at_start_naming_the_variable() {
    let bad = [
        "ftp://example.com",
        "javascript://example.com",
        "example.com",
        "https://",
        "https://example.com/roster?x=1",
        "https://example.com/#top",
        "https://user:secret@example.com",
        "https://user@example.com",
        "https://exa mple.com",
        "",
    ];
    let mut wrong = Vec::new();
    for value in bad {
        match serve_with_public_url(&[], Some(value)) {
            Some((code, stderr)) if code != 0 && stderr.contains("ROSTER_PUBLIC_URL") => {}
            Some((code, stderr)) => wrong.push(format!("{value:?}: exit {code}, {stderr}")),
            None => wrong.push(format!("{value:?}: the server started")),
        }
    }
    // The `--public-url` flag is the same setting.
    match serve_with_public_url(&["--public-url", "gopher://example.com"], None) {
        Some((code, stderr)) if code != 0 && stderr.contains("ROSTER_PUBLIC_URL") => {}
        Some((code, stderr)) => wrong.push(format!("--public-url: exit {code}, {stderr}")),
        None => wrong.push("--public-url: the server started".into()),
    }
    assert!(wrong.is_empty(), "not rejected at start: {wrong:#?}");
}

#[tokio::test]
async fn another_spelling_of_an_existing_id_is_409_conflict() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let id = "0190a5f2-3b4c-7d8e-9f01-23456789abcd";
    let created = app
        .post(
            "/users",
            Some(&owner.token),
            &user_document_with_id(id, "First"),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["data"]["id"], id);
    let spellings = [
        format!("{{{id}}}"),
        format!("urn:uuid:{id}"),
        id.to_ascii_uppercase(),
        id.replace('-', ""),
        format!("{{{}}}", id.to_ascii_uppercase()),
    ];
    let mut wrong = Vec::new();
    for (n, spelling) in spellings.iter().enumerate() {
        let resp = app
            .post(
                "/users",
                Some(&owner.token),
                &user_document_with_id(spelling, &format!("Copy {n}")),
            )
            .await;
        if resp.status != 409 || resp.error_code() != "conflict" {
            wrong.push(format!("{spelling} → {} {}", resp.status, resp.text));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let users = app.get("/users", &owner.token).await;
    assert_eq!(users.ids().len(), 2, "{}", users.text);
}

#[tokio::test]
async fn a_fresh_id_in_any_spelling_is_stored_and_answered_lower_case_hyphenated() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let cases = [
        (
            "0190A5F2-3B4C-7D8E-9F01-23456789ABCD",
            "0190a5f2-3b4c-7d8e-9f01-23456789abcd",
        ),
        (
            "{0190a5f2-3b4c-7d8e-9f01-23456789abce}",
            "0190a5f2-3b4c-7d8e-9f01-23456789abce",
        ),
        (
            "urn:uuid:0190a5f2-3b4c-7d8e-9f01-23456789abcf",
            "0190a5f2-3b4c-7d8e-9f01-23456789abcf",
        ),
        (
            "0190A5F23B4C7D8E9F0123456789ABD0",
            "0190a5f2-3b4c-7d8e-9f01-23456789abd0",
        ),
    ];
    for (n, (sent, canonical)) in cases.iter().enumerate() {
        let resp = app
            .post(
                "/users",
                Some(&owner.token),
                &user_document_with_id(sent, &format!("Fresh {n}")),
            )
            .await;
        resp.assert_status(201);
        assert_eq!(resp.body["data"]["id"], *canonical, "{sent}");
        assert_eq!(
            resp.header("location"),
            Some(format!("{}/users/{canonical}", app.api_base()).as_str()),
            "{sent}"
        );
        app.get(&format!("/users/{canonical}"), &owner.token)
            .await
            .assert_status(200);
    }
    // Stored so, too: the collection lists exactly the canonical forms.
    let mut listed = app.get("/users?page[size]=100", &owner.token).await.ids();
    listed.retain(|id| *id != owner.user_id);
    listed.sort();
    let mut expected: Vec<String> = cases.iter().map(|(_, c)| (*c).to_owned()).collect();
    expected.sort();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn a_patch_may_name_its_resource_by_any_spelling_of_its_id() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let id = app
        .create_user(&owner.token, json!({"name": "Nina"}), Value::Null)
        .await;
    for (n, spelling) in [
        format!("{{{id}}}"),
        format!("urn:uuid:{id}"),
        id.to_ascii_uppercase(),
        id.replace('-', ""),
    ]
    .iter()
    .enumerate()
    {
        let resp = app
            .patch(
                &format!("/users/{id}"),
                &owner.token,
                &user_document_with_id(spelling, &format!("Nina {n}")),
            )
            .await;
        resp.assert_status(200);
        assert_eq!(resp.body["data"]["id"], id, "{spelling}");
    }
    // Another id is still a conflict.
    let other = uuid::Uuid::now_v7().to_string();
    app.patch(
        &format!("/users/{id}"),
        &owner.token,
        &user_document_with_id(&other, "Nobody"),
    )
    .await
    .assert_error(409, "conflict");
}

/// A URL names a resource by its one spelling: any other is a 404 — never a lookup that
/// finds the row and a change that then silently misses it.
#[tokio::test]
async fn a_url_with_another_spelling_of_an_id_is_404_and_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let id = app
        .create_user(&owner.token, json!({"name": "Nina"}), Value::Null)
        .await;
    for spelling in [id.to_ascii_uppercase(), id.replace('-', "")] {
        app.get(&format!("/users/{spelling}"), &owner.token)
            .await
            .assert_error(404, "not_found");
        app.patch(
            &format!("/users/{spelling}"),
            &owner.token,
            &user_document_with_id(&spelling, "Renamed"),
        )
        .await
        .assert_error(404, "not_found");
        app.delete(&format!("/users/{spelling}"), &owner.token)
            .await
            .assert_error(404, "not_found");
    }
    let shown = app.get(&format!("/users/{id}"), &owner.token).await;
    assert_eq!(shown.body["data"]["attributes"]["name"], "Nina");
    assert_eq!(shown.body["data"]["attributes"]["status"], "created");
}

#[tokio::test]
async fn an_id_that_is_not_a_uuid_is_422_validation_failed_at_data_id() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for (path, type_name, attributes) in [
        ("/users", "user", json!({"name": "Nina"})),
        ("/teams", "team", json!({"name": "Core"})),
        (
            "/accounts",
            "account",
            json!({"name": "Other", "slug": "other"}),
        ),
    ] {
        for id in [
            "not-a-uuid",
            "12345",
            "0190a5f2-3b4c-7d8e-9f01-23456789abcg",
        ] {
            let resp = app
                .post(
                    path,
                    Some(&owner.token),
                    &json!({"data": {"type": type_name, "id": id, "attributes": attributes}}),
                )
                .await;
            resp.assert_error(422, "validation_failed");
            assert_eq!(
                resp.error()["source"]["pointer"],
                "/data/id",
                "{path} {id}: {}",
                resp.text
            );
        }
    }
}

#[tokio::test]
async fn a_linkage_id_in_another_spelling_names_the_same_resource() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let core = app.insert_team(&owner.account_id, "Core");
    let ops = app.insert_team(&owner.account_id, "Ops");
    let nina = app
        .create_user(&owner.token, json!({"name": "Nina"}), Value::Null)
        .await;

    // To-many, in a relationship document.
    let resp = app
        .post(
            &format!("/users/{nina}/relationships/teams"),
            Some(&owner.token),
            &json!({"data": [{"type": "team", "id": format!("{{{}}}", core.to_ascii_uppercase())}]}),
        )
        .await;
    resp.assert_status(204);
    let linkage = app
        .get(&format!("/users/{nina}/relationships/teams"), &owner.token)
        .await;
    assert_eq!(linkage.ids(), vec![core.clone()], "{}", linkage.text);

    // To-one, in a resource document.
    let resp = app
        .post(
            "/team_memberships",
            Some(&owner.token),
            &json!({"data": {"type": "team_membership", "relationships": {
                "user": {"data": {"type": "user", "id": format!("urn:uuid:{nina}")}},
                "team": {"data": {"type": "team", "id": ops.replace('-', "")}},
            }}}),
        )
        .await;
    resp.assert_status(201);
    let relationships = &resp.body["data"]["relationships"];
    assert_eq!(relationships["user"]["data"]["id"], nina, "{}", resp.text);
    assert_eq!(relationships["team"]["data"]["id"], ops, "{}", resp.text);
}

/// The headers of a response that must agree between `GET` and `HEAD`.
fn comparable_headers(resp: &Resp) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "server-timing"))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or("(not text)").to_owned(),
            )
        })
        .collect();
    headers.sort();
    headers
}

#[tokio::test]
async fn head_answers_what_get_answers_with_no_body() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let cases: Vec<(String, Option<&str>)> = vec![
        ("/users".into(), Some(&owner.token)),
        (
            "/users?page[size]=1&include=account".into(),
            Some(&owner.token),
        ),
        (format!("/users/{}", owner.user_id), Some(&owner.token)),
        (
            format!("/users/{}/relationships/teams", owner.user_id),
            Some(&owner.token),
        ),
        ("/me".into(), Some(&owner.token)),
        ("/healthz".into(), None),
        ("/readyz".into(), None),
        ("/api/v1/openapi.json".into(), None),
        // Errors, too.
        ("/users".into(), None),
        (
            format!("/users/{}", uuid::Uuid::now_v7()),
            Some(&owner.token),
        ),
    ];
    let mut wrong = Vec::new();
    for (path, token) in cases {
        let get = app.request(Method::GET, &path, token, &[], None).await;
        let head = app.request(Method::HEAD, &path, token, &[], None).await;
        if head.status != get.status {
            wrong.push(format!(
                "HEAD {path}: {} (GET: {})",
                head.status, get.status
            ));
            continue;
        }
        if !head.text.is_empty() {
            wrong.push(format!("HEAD {path}: a body {}", head.text));
        }
        if head.header("server-timing").is_none() {
            wrong.push(format!("HEAD {path}: no Server-Timing"));
        }
        if comparable_headers(&head) != comparable_headers(&get) {
            wrong.push(format!(
                "HEAD {path}: headers {:?} (GET: {:?})",
                comparable_headers(&head),
                comparable_headers(&get)
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn allow_and_the_openapi_description_list_head_wherever_get_is() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for path in ["/users", &format!("/users/{}", owner.user_id), "/healthz"] {
        let resp = app
            .request(Method::PUT, path, Some(&owner.token), &[], None)
            .await;
        resp.assert_status(405);
        let allow: Vec<&str> = resp
            .header("allow")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .collect();
        assert!(
            allow.contains(&"GET") && allow.contains(&"HEAD"),
            "{path}: Allow {allow:?}"
        );
    }
    let doc = app.get("/api/v1/openapi.json", "").await;
    let mut wrong = Vec::new();
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        let has_get = item.get("get").is_some();
        let has_head = item.get("head").is_some();
        if has_get != has_head {
            wrong.push(format!("{path}: get {has_get}, head {has_head}"));
        }
        if let Some(head) = item.get("head") {
            let bodies = head["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, response)| response.get("content").is_some())
                .count();
            if bodies > 0 {
                wrong.push(format!("{path}: head responses describe a body"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

async fn preflight(app: &TestApp, path: &str, method: &str) -> Resp {
    app.request(
        Method::OPTIONS,
        path,
        None,
        &[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", method),
            (
                "access-control-request-headers",
                "content-type, authorization",
            ),
        ],
        None,
    )
    .await
}

fn allowed_methods(resp: &Resp) -> Vec<String> {
    let mut methods: Vec<String> = resp
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    methods.sort();
    methods
}

#[tokio::test]
async fn a_preflight_lists_exactly_the_methods_its_path_serves() {
    let app = spawn_app_with(|raw| raw.cors_origins = Some("https://app.example.com".into())).await;
    let id = uuid::Uuid::now_v7().to_string();
    let cases: Vec<(String, &str, &[&str])> = vec![
        ("/users".into(), "POST", &["GET", "HEAD", "POST"]),
        (
            format!("/users/{id}"),
            "PATCH",
            &["DELETE", "GET", "HEAD", "PATCH"],
        ),
        (format!("/users/{id}/password"), "POST", &["POST"]),
        (
            format!("/users/{id}/relationships/teams"),
            "DELETE",
            &["DELETE", "GET", "HEAD", "PATCH", "POST"],
        ),
        (format!("/users/{id}/teams"), "GET", &["GET", "HEAD"]),
        ("/me".into(), "GET", &["GET", "HEAD"]),
        (
            "/sessions/current".into(),
            "DELETE",
            &["DELETE", "GET", "HEAD"],
        ),
        ("/healthz".into(), "GET", &["GET", "HEAD"]),
    ];
    let mut wrong = Vec::new();
    for (path, method, expected) in &cases {
        let resp = preflight(&app, path, method).await;
        if !resp.status.is_success() {
            wrong.push(format!("{method} {path}: refused {}", resp.status));
            continue;
        }
        if resp.header("access-control-allow-origin") != Some("https://app.example.com") {
            wrong.push(format!("{method} {path}: origin not echoed"));
        }
        if allowed_methods(&resp) != *expected {
            wrong.push(format!(
                "{method} {path}: lists {:?}, serves {expected:?}",
                allowed_methods(&resp)
            ));
        }
    }
    // A method the path does not serve, or a path that does not exist, is refused.
    for (path, method) in [
        ("/users".to_owned(), "PUT"),
        ("/users".to_owned(), "DELETE"),
        (format!("/users/{id}"), "POST"),
        ("/healthz".to_owned(), "POST"),
        ("/users".to_owned(), "TRACE"),
        ("/nowhere".to_owned(), "GET"),
    ] {
        let resp = preflight(&app, &path, method).await;
        if resp.status.is_success() || resp.header("access-control-allow-origin").is_some() {
            wrong.push(format!(
                "{method} {path}: not refused ({}, allows {:?})",
                resp.status,
                allowed_methods(&resp)
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
