//! SPEC §5 on the process itself, with the real `roster` binary: SIGTERM finishes the
//! requests in flight and exits 0; a write answered 2xx survives `kill -9`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;
use roster::cli;
use roster::clock::Clock;
use roster::db::schema::users;

/// `roster serve` in its own process, on a free port of 127.0.0.1 (also used by
/// `throttle.rs`, for several processes on one database).
pub(crate) struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub(crate) address: String,
    port: u16,
}

impl ServerProcess {
    pub(crate) async fn start(database_url: &str) -> ServerProcess {
        // A port that was free a moment ago: the server gets it through ROSTER_BIND.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_roster"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
            .env("ROSTER_JWT_SECRET", JWT_SECRET)
            .env("ROSTER_WORKERS", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("roster serve starts");
        let server = ServerProcess {
            child,
            address: format!("http://127.0.0.1:{port}"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = reqwest::get(format!("{}/healthz", server.address))
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "roster serve did not answer /healthz"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name}");
    }

    /// Waits for the process to end; its exit status.
    async fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Bootstraps `acme` and signs its owner in; the bearer token.
async fn owner_token(database: &TestDatabase, server: &ServerProcess) -> String {
    bootstrap_acme(
        &mut cli::open(&database.url).expect("database"),
        &Clock::default(),
    );
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/sessions", server.address))
        .header("Content-Type", JSONAPI)
        .body(
            json!({"data": {"type": "session", "attributes": {
                "account": "acme", "email": "owner@acme.test", "password": OWNER_PASSWORD}}})
            .to_string(),
        )
        .send()
        .await
        .expect("sign-in");
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.expect("JSON");
    body["data"]["attributes"]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn user_ids(database: &TestDatabase) -> Vec<String> {
    users::table
        .select(users::id)
        .load(&mut cli::open(&database.url).expect("database"))
        .expect("users")
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let database = TestDatabase::new();
    let mut server = ServerProcess::start(&database.url).await;
    let token = owner_token(&database, &server).await;

    // A connection the server has certainly accepted: one request answered on it.
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut answered = Vec::new();
    while !String::from_utf8_lossy(&answered).contains(r#"{"status":"ok"}"#) {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the connection closed before /healthz was answered");
        answered.extend_from_slice(&chunk[..n]);
    }
    // Then, on it, a request the server is in the middle of: headers and half the body.
    let body =
        json!({"data": {"type": "user", "attributes": {"name": "Late Arrival"}}}).to_string();
    let (first_half, second_half) = body.as_bytes().split_at(body.len() / 2);
    let head = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {JSONAPI}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(first_half).await.expect("write");
    stream.flush().await.expect("flush");
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.signal("TERM");

    // It stops accepting new connections…
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", server.port)).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // …while the request in flight, still two seconds from complete (actix looks at
    // its shutdown deadline once a second), completes normally.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stream.write_all(second_half).await.expect("write the rest");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read the response");
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "the request in flight was not answered: {response}"
    );

    let status = server.wait(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    assert_eq!(
        user_ids(&database).len(),
        2,
        "the owner and the late arrival"
    );
}

#[tokio::test]
async fn writes_answered_2xx_survive_kill_9() {
    let database = TestDatabase::new();
    let mut server = ServerProcess::start(&database.url).await;
    let token = owner_token(&database, &server).await;

    let client = reqwest::Client::new();
    let mut created = Vec::new();
    for i in 0..25 {
        let response = client
            .post(format!("{}/api/v1/users", server.address))
            .bearer_auth(&token)
            .header("Content-Type", JSONAPI)
            .body(
                json!({"data": {"type": "user", "attributes": {"name": format!("User {i}")}}})
                    .to_string(),
            )
            .send()
            .await
            .expect("create");
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.expect("JSON");
        created.push(body["data"]["id"].as_str().expect("id").to_owned());
    }
    // At once after the last answer: no orderly shutdown, no checkpoint.
    server.signal("KILL");
    let status = server.wait(Duration::from_secs(10)).await;
    assert_eq!(status.code(), None, "killed by a signal");

    let stored = user_ids(&database);
    for id in &created {
        assert!(
            stored.contains(id),
            "user {id} was answered 201 and is gone"
        );
    }
    // And the database is whole: a new server serves it.
    let server = ServerProcess::start(&database.url).await;
    let response = client
        .get(format!("{}/api/v1/users?page[size]=100", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["meta"]["total"], 26);
}
