//! SPEC §4 "session", the throttle under concurrency: of any number of simultaneous
//! sign-ins for one (account, email), at most five are checked against the password in
//! a window and the rest are 429 without a check — on one server, on several sharing a
//! database, and on several `roster serve` processes on one PostgreSQL database.

use std::collections::BTreeMap;

use serde_json::json;
use tokio::task::JoinSet;

use crate::helpers::*;
use crate::process::ServerProcess;
use roster::cli;
use roster::clock::Clock;

const WRONG_PASSWORD: &str = "wrong-password!";

/// One answer to a sign-in: its status and whether it carried `Retry-After`.
#[derive(Debug, Clone, Copy)]
struct Answer {
    status: u16,
    retry_after: bool,
}

async fn sign_in_at(
    client: reqwest::Client,
    base: String,
    email: String,
    password: String,
) -> Answer {
    let response = client
        .post(format!("{base}/api/v1/sessions"))
        .header("Content-Type", JSONAPI)
        .body(
            json!({"data": {"type": "session", "attributes": {
                "account": "acme", "email": email, "password": password}}})
            .to_string(),
        )
        .send()
        .await
        .expect("sign-in sent");
    let answer = Answer {
        status: response.status().as_u16(),
        retry_after: response.headers().contains_key("retry-after"),
    };
    // Read the body, so the connection is done with before the test moves on.
    let _ = response.bytes().await;
    answer
}

/// What a burst got: the wrong passwords' answers by status, and the right one's.
struct Burst {
    wrong: BTreeMap<u16, usize>,
    right: Answer,
}

impl Burst {
    fn wrong(&self, status: u16) -> usize {
        self.wrong.get(&status).copied().unwrap_or(0)
    }
}

/// The sign-in burst of issue 8: `wrong` sign-ins for acme's owner with wrong passwords,
/// all at once, spread round-robin over `servers` (base URLs), then the right password.
/// As in the report the right one comes last: it is sent as soon as the first answer
/// arrives, while the others are still in flight (each wrong one costs an Argon2 check,
/// tens of milliseconds) — late enough that it cannot be among the first to arrive,
/// early enough that it overlaps the rest.
async fn burst(servers: &[&str], email: &str, wrong: usize) -> Burst {
    // One client per server: each request gets a connection of its own at once, so the
    // server sees them together.
    let client = reqwest::Client::new();
    let mut in_flight = JoinSet::new();
    for i in 0..wrong {
        in_flight.spawn(sign_in_at(
            client.clone(),
            servers[i % servers.len()].to_owned(),
            email.to_owned(),
            WRONG_PASSWORD.to_owned(),
        ));
    }
    let mut answers = Vec::with_capacity(wrong);
    let first = in_flight
        .join_next()
        .await
        .expect("a sign-in in flight")
        .expect("the sign-in task");
    answers.push(first);
    let right = tokio::spawn(sign_in_at(
        client.clone(),
        servers[wrong % servers.len()].to_owned(),
        email.to_owned(),
        OWNER_PASSWORD.to_owned(),
    ));
    while let Some(answer) = in_flight.join_next().await {
        answers.push(answer.expect("the sign-in task"));
    }
    let right = right.await.expect("the sign-in task");
    let mut by_status = BTreeMap::new();
    for answer in &answers {
        *by_status.entry(answer.status).or_insert(0) += 1;
        if answer.status == 429 {
            assert!(answer.retry_after, "a 429 without Retry-After");
        }
    }
    Burst {
        wrong: by_status,
        right,
    }
}

/// The burst's outcome as the rule says: exactly five wrong passwords checked (401), the
/// other wrong ones and the right one refused unchecked (429, with `Retry-After`).
#[track_caller]
fn assert_five_checked(burst: &Burst, wrong: usize) {
    let summary = format!("wrong: {:?}, right: {:?}", burst.wrong, burst.right);
    assert_eq!(burst.wrong(401), 5, "401s; {summary}");
    assert_eq!(burst.wrong(429), wrong - 5, "429s; {summary}");
    assert_eq!(burst.right.status, 429, "the right password; {summary}");
    assert!(burst.right.retry_after, "Retry-After; {summary}");
}

/// After the burst, the right password alone is still refused for the window.
#[track_caller]
fn assert_locked_out(resp: &Resp) {
    resp.assert_error(429, "too_many_requests");
    let retry_after: i64 = resp
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn of_simultaneous_sign_ins_on_one_server_at_most_five_are_checked() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let burst = burst(&[&app.address], &owner.email, 39).await;
    assert_five_checked(&burst, 39);
    assert_locked_out(&app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await);
}

#[tokio::test]
async fn of_simultaneous_sign_ins_on_two_instances_at_most_five_are_checked() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    let other = app.another_instance();
    let burst = burst(&[&app.address, &other.address], &owner.email, 39).await;
    assert_five_checked(&burst, 39);
    assert_locked_out(
        &other
            .try_sign_in("acme", &owner.email, OWNER_PASSWORD)
            .await,
    );
    assert_locked_out(&app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await);
    drop(other);
}

#[tokio::test]
async fn of_simultaneous_sign_ins_on_two_processes_sharing_postgresql_at_most_five_are_checked() {
    match std::env::var("ROSTER_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {}
        _ => {
            eprintln!("skipped: needs ROSTER_TEST_DATABASE_URL (PostgreSQL)");
            return;
        }
    }
    let database = TestDatabase::new();
    // One after the other: the first runs the migrations, the second finds none to run.
    let first = ServerProcess::start(&database.url).await;
    let second = ServerProcess::start(&database.url).await;
    bootstrap_acme(
        &mut cli::open(&database.url).expect("database"),
        &Clock::default(),
    );
    let email = "owner@acme.test";
    let servers = [first.address.as_str(), second.address.as_str()];
    let burst = burst(&servers, email, 39).await;
    assert_five_checked(&burst, 39);
    for server in &servers {
        let after = sign_in_at(
            reqwest::Client::new(),
            (*server).to_owned(),
            email.to_owned(),
            OWNER_PASSWORD.to_owned(),
        )
        .await;
        assert_eq!(after.status, 429, "the right password afterwards");
        assert!(after.retry_after, "Retry-After");
    }
}

/// Only failures count, and a success clears none: after four failures, sign-ins with
/// the right password keep working (each is checked, then its reservation released), and
/// exactly one more failure is checked — of ten at once — before the pair is locked out.
#[tokio::test]
async fn a_successful_sign_in_is_not_a_failure_and_does_not_clear_failures() {
    let app = spawn_app().await;
    let owner = app.owner().await;
    for _ in 0..4 {
        app.try_sign_in("acme", &owner.email, WRONG_PASSWORD)
            .await
            .assert_error(401, "invalid_credentials");
    }
    for _ in 0..3 {
        app.try_sign_in("acme", &owner.email, OWNER_PASSWORD)
            .await
            .assert_status(201);
    }
    let burst = burst(&[&app.address], &owner.email, 10).await;
    let summary = format!("wrong: {:?}, right: {:?}", burst.wrong, burst.right);
    assert_eq!(
        burst.wrong(401),
        1,
        "the fifth failure is checked; {summary}"
    );
    assert_eq!(burst.wrong(429), 9, "{summary}");
    assert_eq!(burst.right.status, 429, "{summary}");
    assert_locked_out(&app.try_sign_in("acme", &owner.email, OWNER_PASSWORD).await);
}

/// SPEC §4: an unknown email costs the same as a wrong password — the same Argon2 work
/// and, after it, the same database work (a write of its own), so neither the time nor
/// the statement count tells which emails exist.
#[tokio::test]
async fn an_unknown_email_costs_the_same_database_work_as_a_wrong_password() {
    let app = spawn_app().await;
    app.owner().await;
    let wrong = app
        .try_sign_in("acme", "owner@acme.test", WRONG_PASSWORD)
        .await;
    wrong.assert_error(401, "invalid_credentials");
    let unknown = app
        .try_sign_in("acme", "nobody@acme.test", WRONG_PASSWORD)
        .await;
    unknown.assert_error(401, "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(queries(&wrong), queries(&unknown));
}

/// Bad input is a 422, never a 500: PostgreSQL cannot compare text holding a NUL.
#[tokio::test]
async fn a_nul_in_a_sign_in_is_a_validation_error() {
    let app = spawn_app().await;
    app.owner().await;
    for (account, email, pointer) in [
        ("acme", "owner\u{0}@acme.test", "/data/attributes/email"),
        ("ac\u{0}me", "owner@acme.test", "/data/attributes/account"),
    ] {
        let resp = app.try_sign_in(account, email, OWNER_PASSWORD).await;
        resp.assert_error(422, "validation_failed");
        assert_eq!(resp.error()["source"]["pointer"], pointer, "{}", resp.text);
    }
}
