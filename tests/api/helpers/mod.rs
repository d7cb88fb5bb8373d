//! The harness: a real server on `127.0.0.1:0` with a fresh database per test (a SQLite
//! file in a temporary directory, or a new PostgreSQL database when
//! `ROSTER_TEST_DATABASE_URL` is set), an HTTP client speaking JSON:API, and fixtures
//! that seed what the API cannot create yet.

use std::collections::HashMap;

use actix_web::dev::ServerHandle;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use roster::app::Application;
use roster::cli::{self, SeedSize};
use roster::clock::Clock;
use roster::config::{Config, RawConfig};
use roster::db::DbConnection;
use roster::db::schema::{account_memberships, devices, team_memberships, teams, users};

pub const JSONAPI: &str = "application/vnd.api+json";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-!!";
pub const CURSOR_PROFILE: &str = "https://jsonapi.org/profiles/ethanresnick/cursor-pagination";
pub const OWNER_PASSWORD: &str = "correct-horse-battery";

/// A running server and what a test needs to talk to it and to seed it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub port: u16,
    pub db_url: String,
    pub clock: Clock,
    pub client: Client,
    handle: ServerHandle,
    pg_cleanup: Option<(String, String)>,
    // Last: the SQLite file must outlive the server's use of it.
    _dir: Option<TempDir>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON; `Value::Null` when empty or not JSON.
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first error object.
    pub fn error(&self) -> &Value {
        &self.body["errors"][0]
    }

    pub fn error_code(&self) -> &str {
        self.error()["code"].as_str().unwrap_or("")
    }

    /// The ids of the primary data (an array).
    pub fn ids(&self) -> Vec<String> {
        ids(&self.body["data"])
    }

    /// Asserts the status, printing the body when it is not the expected one.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a JSON:API error document with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        self.assert_status(status);
        assert_eq!(
            self.header("content-type"),
            Some(JSONAPI),
            "error content type"
        );
        assert_eq!(self.body["jsonapi"]["version"], "1.1", "{}", self.text);
        let errors = self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no `errors` array: {}", self.text));
        assert!(!errors.is_empty(), "empty errors: {}", self.text);
        for error in errors {
            assert_eq!(error["status"], status.to_string(), "{}", self.text);
            assert!(error["title"].is_string(), "error title: {}", self.text);
            assert!(error["detail"].is_string(), "error detail: {}", self.text);
        }
        assert_eq!(self.error_code(), code, "error code; body: {}", self.text);
        self
    }
}

/// `n` of the `Server-Timing` header's `queries=n`.
pub fn queries(resp: &Resp) -> u64 {
    let timing = resp
        .header("server-timing")
        .unwrap_or_else(|| panic!("no Server-Timing header (status {})", resp.status));
    let start = timing
        .find("queries=")
        .unwrap_or_else(|| panic!("no queries= in Server-Timing `{timing}`"))
        + "queries=".len();
    let digits: String = timing[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("bad queries= in Server-Timing `{timing}`"))
}

/// The `id`s of an array of resource objects or identifiers.
pub fn ids(data: &Value) -> Vec<String> {
    data.as_array()
        .unwrap_or_else(|| panic!("not an array: {data}"))
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

/// `(type, id)` of every resource in `included`.
pub fn included_keys(body: &Value) -> Vec<(String, String)> {
    body["included"]
        .as_array()
        .unwrap_or_else(|| panic!("no `included` array: {body}"))
        .iter()
        .map(|r| {
            (
                r["type"].as_str().expect("type").to_owned(),
                r["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect()
}

/// Included resources of one type, by id.
pub fn included_of<'a>(body: &'a Value, type_name: &str) -> HashMap<String, &'a Value> {
    body["included"]
        .as_array()
        .unwrap_or_else(|| panic!("no `included` array: {body}"))
        .iter()
        .filter(|r| r["type"] == type_name)
        .map(|r| (r["id"].as_str().expect("id").to_owned(), r))
        .collect()
}

/// The signed-in owner of the `acme` account.
pub struct Owner {
    pub token: String,
    pub account_id: String,
    pub user_id: String,
    pub email: String,
}

/// An account made with `roster bootstrap`, signed in as its owner.
pub struct Tenant {
    pub token: String,
    pub account_id: String,
    pub user_id: String,
    pub email: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `roster bootstrap` of the owner fixture: account `acme` ("Acme") with owner
/// `owner@acme.test`, password [`OWNER_PASSWORD`].
pub fn bootstrap_acme(conn: &mut DbConnection, clock: &Clock) -> cli::Bootstrapped {
    cli::bootstrap(
        conn,
        cli::BootstrapRequest {
            account_name: "Acme",
            slug: "acme",
            owner_name: "Olivia Owner",
            email: "owner@acme.test",
            password: Some(OWNER_PASSWORD),
            platform_admin: false,
        },
        clock,
    )
    .expect("bootstrap")
}

/// A fresh, empty database for one test: a SQLite file in a temporary directory, or —
/// when `ROSTER_TEST_DATABASE_URL` is set — a new database on that PostgreSQL server,
/// dropped with the test.
pub struct TestDatabase {
    pub url: String,
    pg_cleanup: Option<(String, String)>,
    dir: Option<TempDir>,
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        match std::env::var("ROSTER_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.trim().is_empty() => {
                let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = roster::db::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("ROSTER_TEST_DATABASE_URL: {e}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
                TestDatabase {
                    url: with_database(&admin_url, &name),
                    pg_cleanup: Some((admin_url, name)),
                    dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join("roster.db");
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    pg_cleanup: None,
                    dir: Some(dir),
                }
            }
        }
    }

    /// Gives up the database's cleanup to the caller: (PostgreSQL admin URL and name to
    /// drop, SQLite temporary directory to keep alive).
    fn into_parts(mut self) -> (String, Option<(String, String)>, Option<TempDir>) {
        let url = std::mem::take(&mut self.url);
        (url, self.pg_cleanup.take(), self.dir.take())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_cleanup.take()
            && let Ok(mut admin) = roster::db::establish(&admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Starts a server whose configuration `adjust` may change (CORS origins, …).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut RawConfig)) -> TestApp {
    let (db_url, pg_cleanup, dir) = TestDatabase::new().into_parts();
    start(db_url, Clock::default(), adjust, pg_cleanup, dir)
}

/// Builds and spawns a server on `db_url`.
fn start(
    db_url: String,
    clock: Clock,
    adjust: impl FnOnce(&mut RawConfig),
    pg_cleanup: Option<(String, String)>,
    dir: Option<TempDir>,
) -> TestApp {
    let mut raw = RawConfig {
        database_url: Some(db_url.clone()),
        bind: Some("127.0.0.1:0".into()),
        jwt_secret: Some(JWT_SECRET.into()),
        workers: Some("2".into()),
        ..Default::default()
    };
    adjust(&mut raw);
    let config = Config::parse(raw).expect("test configuration");
    let application = Application::build(config, clock.clone()).expect("the application builds");
    let port = application.port();
    let server = application.into_server();
    let handle = server.handle();
    tokio::spawn(server);
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        db_url,
        clock,
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        handle,
        pg_cleanup,
        _dir: dir,
    }
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_database(url: &str, name: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let (without_query, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let base = match without_query[after_scheme..].find('/') {
        Some(slash) => &without_query[..after_scheme + slash],
        None => without_query,
    };
    format!("{base}/{name}{query}")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the server task stops its workers.
        drop(self.handle.stop(false));
        if let Some((admin_url, name)) = self.pg_cleanup.take()
            && let Ok(mut admin) = roster::db::establish(&admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

impl TestApp {
    /// A second server on the same database and clock, as when several stateless
    /// instances serve one database. Drop it before `self`.
    pub fn another_instance(&self) -> TestApp {
        start(self.db_url.clone(), self.clock.clone(), |_| {}, None, None)
    }

    /// The URL of `path`: absolute URLs as they are, `/api/…`, `/healthz` and `/readyz`
    /// on the server, anything else under `/api/v1`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else if path.starts_with("/api/") || path == "/healthz" || path == "/readyz" {
            format!("{}{path}", self.address)
        } else {
            format!("{}/api/v1{path}", self.address)
        }
    }

    /// What links start with in this server's responses.
    pub fn api_base(&self) -> String {
        format!("{}/api/v1", self.address)
    }

    /// Any request: `headers` are added as given (they win over the defaults).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Resp {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let mut header_map = HeaderMap::new();
        for (name, value) in headers {
            header_map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        request = request.headers(header_map);
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path, Some(token), &[], None)
            .await
    }

    /// A GET with extra headers (`Accept`), optionally without a token.
    pub async fn get_with(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.request(Method::GET, path, token, headers, None).await
    }

    /// A GET that asks for the cursor-pagination profile.
    pub async fn get_cursor(&self, path: &str, token: &str) -> Resp {
        let accept = format!("{JSONAPI}; profile=\"{CURSOR_PROFILE}\"");
        self.get_with(path, Some(token), &[("accept", &accept)])
            .await
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Resp {
        self.request(
            method,
            path,
            token,
            &[("content-type", JSONAPI)],
            Some(serde_json::to_vec(body).expect("json")),
        )
        .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send_json(Method::POST, path, token, body).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.send_json(Method::PATCH, path, Some(token), body).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.request(Method::DELETE, path, Some(token), &[], None)
            .await
    }

    /// `POST /sessions` as sent, whatever the outcome.
    pub async fn try_sign_in(&self, account: &str, email: &str, password: &str) -> Resp {
        self.post(
            "/sessions",
            None,
            &json!({"data": {"type": "session", "attributes": {
                "account": account, "email": email, "password": password
            }}}),
        )
        .await
    }

    /// Signs in and returns the token.
    pub async fn sign_in(&self, account: &str, email: &str, password: &str) -> String {
        let resp = self.try_sign_in(account, email, password).await;
        resp.assert_status(201);
        resp.body["data"]["attributes"]["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// `POST /users` as sent.
    pub async fn try_create_user(&self, token: &str, attributes: Value, meta: Value) -> Resp {
        let mut document = json!({"data": {"type": "user", "attributes": attributes}});
        if !meta.is_null() {
            document["meta"] = meta;
        }
        self.post("/users", Some(token), &document).await
    }

    /// Creates a user and returns its id.
    pub async fn create_user(&self, token: &str, attributes: Value, meta: Value) -> String {
        let resp = self.try_create_user(token, attributes, meta).await;
        resp.assert_status(201);
        resp.body["data"]["id"].as_str().expect("id").to_owned()
    }

    /// Creates an active user with a password and signs it in; returns (id, token).
    pub async fn member(
        &self,
        owner_token: &str,
        slug: &str,
        name: &str,
        email: &str,
        role: &str,
    ) -> (String, String) {
        let password = "member-password-1";
        let id = self
            .create_user(
                owner_token,
                json!({"name": name, "email": email, "password": password}),
                json!({"role": role}),
            )
            .await;
        let token = self.sign_in(slug, email, password).await;
        (id, token)
    }

    /// `POST /account_invitations` in the caller's account; returns (invitation id,
    /// one-time token).
    pub async fn invite_to_account(
        &self,
        token: &str,
        email: &str,
        role: &str,
    ) -> (String, String) {
        let resp = self
            .post(
                "/account_invitations",
                Some(token),
                &json!({"data": {"type": "account_invitation",
                        "attributes": {"email": email, "role": role}}}),
            )
            .await;
        resp.assert_status(201);
        (
            resp.body["data"]["id"].as_str().expect("id").to_owned(),
            resp.body["meta"]["invitation"]["token"]
                .as_str()
                .expect("meta.invitation.token")
                .to_owned(),
        )
    }

    /// `POST /account_invitations/accept` as sent.
    pub async fn try_accept_account_invitation(&self, token: &str, invitation: &str) -> Resp {
        self.post(
            "/account_invitations/accept",
            Some(token),
            &json!({"data": {"type": "account_invitation_acceptance",
                    "attributes": {"token": invitation}}}),
        )
        .await
    }

    /// A guest by consent: `inviter_token`'s account invites `email` as `role`, and the
    /// user it belongs to accepts with `guest_token` (a session of its own). Returns the
    /// new account membership's id.
    pub async fn join_as_guest(
        &self,
        inviter_token: &str,
        guest_token: &str,
        email: &str,
        role: &str,
    ) -> String {
        let (_, invitation) = self.invite_to_account(inviter_token, email, role).await;
        let resp = self
            .try_accept_account_invitation(guest_token, &invitation)
            .await;
        resp.assert_status(201);
        resp.body["data"]["id"].as_str().expect("id").to_owned()
    }

    /// A connection to the test database (migrations already ran).
    pub fn db(&self) -> DbConnection {
        cli::open(&self.db_url).expect("test database")
    }

    /// `roster bootstrap` for `slug`, then signs the owner in.
    pub async fn tenant(&self, slug: &str, platform_admin: bool) -> Tenant {
        let email = format!("owner@{slug}.test");
        let made = cli::bootstrap(
            &mut self.db(),
            cli::BootstrapRequest {
                account_name: &format!("Account {slug}"),
                slug,
                owner_name: &format!("Owner of {slug}"),
                email: &email,
                password: Some(OWNER_PASSWORD),
                platform_admin,
            },
            &self.clock,
        )
        .expect("bootstrap");
        let token = self.sign_in(slug, &email, OWNER_PASSWORD).await;
        Tenant {
            token,
            account_id: made.account_id,
            user_id: made.user_id,
            email,
        }
    }

    /// The owner fixture: account `acme` ("Acme") with owner `owner@acme.test`.
    pub async fn owner(&self) -> Owner {
        let made = bootstrap_acme(&mut self.db(), &self.clock);
        let token = self
            .sign_in("acme", "owner@acme.test", OWNER_PASSWORD)
            .await;
        Owner {
            token,
            account_id: made.account_id,
            user_id: made.user_id,
            email: "owner@acme.test".into(),
        }
    }

    /// `roster seed` into the test database.
    pub fn seed(&self, accounts: u64, users: u64, teams: u64, teams_per_user: u64) {
        cli::seed(
            &mut self.db(),
            SeedSize {
                accounts,
                users,
                teams,
                teams_per_user,
            },
        )
        .expect("seed");
    }

    /// Inserts a team (teams cannot be created over HTTP yet); returns its id.
    pub fn insert_team(&self, account_id: &str, name: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        diesel::insert_into(teams::table)
            .values((
                teams::id.eq(&id),
                teams::account_id.eq(account_id),
                teams::name.eq(name),
                teams::description.eq(Some(format!("The {name} team"))),
                teams::created_at.eq(now),
                teams::updated_at.eq(now),
            ))
            .execute(&mut self.db())
            .expect("insert team");
        id
    }

    /// Inserts a team membership; returns its id.
    pub fn add_to_team(&self, team_id: &str, user_id: &str, role: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        diesel::insert_into(team_memberships::table)
            .values((
                team_memberships::id.eq(&id),
                team_memberships::team_id.eq(team_id),
                team_memberships::user_id.eq(user_id),
                team_memberships::role.eq(role),
                team_memberships::created_at.eq(now),
                team_memberships::updated_at.eq(now),
            ))
            .execute(&mut self.db())
            .expect("insert team membership");
        id
    }

    /// Adds a user to an account as a guest (a membership outside its home account).
    pub fn add_to_account(&self, account_id: &str, user_id: &str, role: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        diesel::insert_into(account_memberships::table)
            .values((
                account_memberships::id.eq(&id),
                account_memberships::account_id.eq(account_id),
                account_memberships::user_id.eq(user_id),
                account_memberships::role.eq(role),
                account_memberships::created_at.eq(now),
                account_memberships::updated_at.eq(now),
            ))
            .execute(&mut self.db())
            .expect("insert account membership");
        id
    }

    /// Inserts a device of a user; returns its id.
    pub fn insert_device(&self, user_id: &str, token: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.clock.now();
        diesel::insert_into(devices::table)
            .values((
                devices::id.eq(&id),
                devices::user_id.eq(user_id),
                devices::device_type.eq("ios"),
                devices::sub_type.eq(Some("iphone")),
                devices::token.eq(token),
                devices::enabled.eq(true),
                devices::created_at.eq(now),
                devices::updated_at.eq(now),
            ))
            .execute(&mut self.db())
            .expect("insert device");
        id
    }

    /// Sets a user's status in the database (states the API cannot reach yet).
    pub fn set_status(&self, user_id: &str, status: &str) {
        diesel::update(users::table.find(user_id))
            .set(users::status.eq(status))
            .execute(&mut self.db())
            .expect("update status");
    }
}

/// Audit events of `action` on `target`, newest last, as `token` lists them.
pub async fn audit_events(app: &TestApp, token: &str, action: &str, target: &str) -> Vec<Value> {
    let resp = app
        .get(
            &format!(
                "/audit_events?filter[action]={action}&filter[target]={target}&sort=occurred_at"
            ),
            token,
        )
        .await;
    resp.assert_status(200);
    resp.body["data"].as_array().expect("data").clone()
}

/// Replaces what differs between runs and backends, so that whole documents can be
/// snapshotted: the server's port, UUIDs (numbered by first appearance, so linkage stays
/// visible), timestamps in the contract's format (anything else is left to show), and
/// tokens and cursors.
pub fn normalize(value: &Value, port: u16) -> Value {
    let mut ids: HashMap<String, usize> = HashMap::new();
    normalize_inner(value, None, &format!("http://127.0.0.1:{port}"), &mut ids)
}

fn normalize_inner(
    value: &Value,
    key: Option<&str>,
    origin: &str,
    ids: &mut HashMap<String, usize>,
) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalize_inner(v, Some(k), origin, ids)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| normalize_inner(v, key, origin, ids))
                .collect(),
        ),
        Value::String(s) => {
            let key = key.unwrap_or("");
            if key.ends_with("_at") && is_contract_timestamp(s) {
                return Value::String("[timestamp]".into());
            }
            if key == "token" || key == "cursor" {
                return Value::String(format!("[{key}]"));
            }
            let s = s.replace(origin, "http://roster.test");
            let s = redact_cursor_params(&s);
            Value::String(replace_uuids(&s, ids))
        }
        other => other.clone(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: RFC 3339, UTC with `Z`, to the microsecond.
pub fn is_contract_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 27
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            26 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

fn redact_cursor_params(s: &str) -> String {
    let mut out = s.to_owned();
    for param in ["page[after]=", "page[before]="] {
        if let Some(start) = out.find(param) {
            let value_start = start + param.len();
            let end = out[value_start..]
                .find('&')
                .map_or(out.len(), |i| value_start + i);
            out.replace_range(value_start..end, "[cursor]");
        }
    }
    out
}

fn replace_uuids(s: &str, ids: &mut HashMap<String, usize>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        if rest.len() >= 36 && rest.is_char_boundary(36) && is_uuid(&rest[..36]) {
            let next = ids.len() + 1;
            let n = *ids.entry(rest[..36].to_ascii_lowercase()).or_insert(next);
            out.push_str(&format!("[uuid-{n}]"));
            rest = &rest[36..];
        } else {
            let c = rest.chars().next().expect("non-empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Parses a contract timestamp.
pub fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    assert!(is_contract_timestamp(s), "not RFC 3339 UTC to the µs: {s}");
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("timestamp")
        .with_timezone(&chrono::Utc)
}
