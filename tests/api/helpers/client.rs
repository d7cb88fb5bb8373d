//! The HTTP client side of the harness: what a test sends and reads. `TestApp`'s request
//! methods (`request`, `get`, `post`, `patch`, `delete`, sign-in, …), the URL rules,
//! `Resp` and its assertions, the JSON:API media type and cursor profile, and readers of
//! response documents (`ids`, `included_keys`, `included_of`, `queries`).

use std::collections::HashMap;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::database::TestApp;

pub const JSONAPI: &str = "application/vnd.api+json";

pub const CURSOR_PROFILE: &str = "https://jsonapi.org/profiles/ethanresnick/cursor-pagination";

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

/// Asserts an error document with this status and code whose first error points at
/// `pointer` in the request body.
#[track_caller]
pub fn assert_pointer(resp: &Resp, status: u16, code: &str, pointer: &str) {
    resp.assert_error(status, code);
    assert_eq!(
        resp.error()["source"]["pointer"],
        pointer,
        "error pointer; body: {}",
        resp.text
    );
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

impl TestApp {
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
}
