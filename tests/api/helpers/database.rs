//! The server and its database, one of each per test: `TestDatabase` (a SQLite file in a
//! temporary directory, or — when `ROSTER_TEST_DATABASE_URL` is set — a new database on
//! that PostgreSQL server), and `TestApp` itself: starting a server on `127.0.0.1:0`
//! (`spawn_app`, `spawn_app_with`, `another_instance`), stopping it and dropping its
//! database with it, and a connection to that database (`db`).

use actix_web::dev::ServerHandle;
use diesel::connection::SimpleConnection;
use reqwest::Client;
use tempfile::TempDir;

use roster::app::Application;
use roster::cli;
use roster::clock::Clock;
use roster::config::{Config, RawConfig};
use roster::db::DbConnection;

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

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-!!";

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

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
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

    /// A connection to the test database (migrations already ran).
    pub fn db(&self) -> DbConnection {
        cli::open(&self.db_url).expect("test database")
    }
}
