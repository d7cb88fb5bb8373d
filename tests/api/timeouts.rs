//! SPEC §1 `ROSTER_STATEMENT_TIMEOUT`, §2 `timeout`: a request whose SQL runs too long
//! is cancelled and answered 503 `timeout` with `Retry-After`; nothing it began is kept,
//! and the server goes on serving with the same connections.

use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::helpers::*;

fn is_postgres(app: &TestApp) -> bool {
    app.db_url.starts_with("postgres")
}

fn assert_timeout(resp: &Resp) {
    resp.assert_error(503, "timeout");
    assert_eq!(resp.header("retry-after"), Some("5"), "{}", resp.text);
}

/// A write that waits for a lock held elsewhere (another instance, an operator's
/// transaction) gives up at the timeout instead of hanging, and keeps nothing.
#[tokio::test]
async fn a_write_waiting_past_the_timeout_is_cancelled_with_503_timeout() {
    let app = spawn_app_with(|raw| raw.statement_timeout = Some("300ms".into())).await;
    let owner = app.owner().await;
    let team = app.insert_team(&owner.account_id, "Platform");
    let rename =
        |name: &str| json!({"data": {"type": "team", "id": team, "attributes": {"name": name}}});

    // Hold the lock the write needs: SQLite's write lock, PostgreSQL's row lock.
    let mut holder = app.db();
    if is_postgres(&app) {
        holder
            .batch_execute(&format!(
                "BEGIN; SELECT 1 FROM teams WHERE id = '{team}' FOR UPDATE;"
            ))
            .expect("lock the team");
    } else {
        holder
            .batch_execute("BEGIN IMMEDIATE;")
            .expect("take the write lock");
    }
    let started = std::time::Instant::now();
    let waited = app
        .patch(&format!("/teams/{team}"), &owner.token, &rename("Waited"))
        .await;
    assert_timeout(&waited);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= std::time::Duration::from_millis(250),
        "answered after {elapsed:?}, before the timeout"
    );
    holder.batch_execute("ROLLBACK;").expect("release the lock");

    // Nothing of the cancelled write was kept, and the same pool serves the retry.
    let shown = app.get(&format!("/teams/{team}"), &owner.token).await;
    shown.assert_status(200);
    assert_eq!(shown.body["data"]["attributes"]["name"], "Platform");
    for attempt in ["Retried", "Retried again"] {
        let retried = app
            .patch(&format!("/teams/{team}"), &owner.token, &rename(attempt))
            .await;
        retried.assert_status(200);
        assert_eq!(retried.body["data"]["attributes"]["name"], attempt);
    }
}

/// A read whose SQL runs past the timeout is cancelled mid-statement: a substring search
/// over 20,000 users (a scan on both backends) against a 1 ms limit.
#[tokio::test]
async fn a_read_running_past_the_timeout_is_cancelled_with_503_timeout() {
    let app = spawn_app_with(|raw| raw.statement_timeout = Some("1ms".into())).await;
    app.seed(1, 20_000, 0, 0);
    // The token is made outside the server: signing in runs SQL under the 1 ms limit.
    let patient = app.another_instance();
    let token = patient
        .sign_in("seed-0", "user-0@seed-0.test", "password-0")
        .await;
    let searched = app
        .get(
            "/users?filter[q]=nobody-matches-this&page[size]=100",
            &token,
        )
        .await;
    assert_timeout(&searched);
    let error: &Value = searched.error();
    assert!(
        error["detail"]
            .as_str()
            .is_some_and(|d| d.contains("ROSTER_STATEMENT_TIMEOUT")),
        "{error}"
    );
}

/// SPEC §5: one slow request never stalls the others. With a single HTTP worker, a
/// search that scans 20,000 users is still running when a request for one user, sent
/// after it, has been answered.
#[tokio::test]
async fn a_slow_list_does_not_stall_a_quick_request_on_the_same_worker() {
    let app = spawn_app_with(|raw| raw.workers = Some("1".into())).await;
    app.seed(1, 20_000, 0, 0);
    let token = app
        .sign_in("seed-0", "user-0@seed-0.test", "password-0")
        .await;
    let one = app.get("/users?page[size]=1", &token).await.ids()[0].clone();

    let slow_path = "/users?filter[q]=nobody-matches-this&sort=-name&page[size]=100";
    let alone = std::time::Instant::now();
    app.get(slow_path, &token).await.assert_status(200);
    let slow_alone = alone.elapsed();

    let slow = async {
        let resp = app.get(slow_path, &token).await;
        (resp.status, std::time::Instant::now())
    };
    let quick = async {
        // Sent once the slow request is surely being worked on.
        tokio::time::sleep(slow_alone / 4).await;
        let sent = std::time::Instant::now();
        let resp = app.get(&format!("/users/{one}"), &token).await;
        (resp.status, sent, std::time::Instant::now())
    };
    let ((slow_status, slow_done), (quick_status, quick_sent, quick_done)) =
        tokio::join!(slow, quick);
    assert_eq!((slow_status.as_u16(), quick_status.as_u16()), (200, 200));
    assert!(
        quick_done < slow_done,
        "the quick request waited for the slow one ({:?} for it; the slow one alone takes {slow_alone:?})",
        quick_done - quick_sent
    );
}
