//! Sign-in throttling: five failed sign-ins for one (account, email) within 15 minutes
//! lock that pair out for the rest of the window. Failures are rows in
//! `sign_in_attempts`, so every instance sharing the database sees the same count.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::sign_in_attempts;
use crate::jsonapi::error::{ApiError, ErrorCode};

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_MINUTES: i64 = 15;

/// `Err(429)` with `Retry-After` when the pair is locked out.
pub fn check(
    conn: &mut DbConnection,
    account_id: &str,
    email: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let since = now - Duration::minutes(WINDOW_MINUTES);
    let failures: Vec<NaiveDateTime> = sign_in_attempts::table
        .filter(sign_in_attempts::account_id.eq(account_id))
        .filter(sign_in_attempts::email.eq(email))
        .filter(sign_in_attempts::attempted_at.gt(since))
        .order(sign_in_attempts::attempted_at.desc())
        .select(sign_in_attempts::attempted_at)
        .limit(MAX_FAILURES)
        .load(conn)?;
    if (failures.len() as i64) < MAX_FAILURES {
        return Ok(());
    }
    // Locked until the oldest of the last five failures leaves the window.
    let oldest = failures.last().copied().unwrap_or(now);
    let retry_after = (oldest + Duration::minutes(WINDOW_MINUTES) - now)
        .num_seconds()
        .max(1);
    Err(ApiError::new(
        ErrorCode::TooManyRequests,
        format!("Too many failed sign-ins; try again in {retry_after} seconds."),
    )
    .with_header("Retry-After", retry_after.to_string()))
}

/// Records one failure.
pub fn record_failure(
    conn: &mut DbConnection,
    account_id: &str,
    email: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(sign_in_attempts::table)
        .values((
            sign_in_attempts::id.eq(uuid::Uuid::now_v7().to_string()),
            sign_in_attempts::account_id.eq(account_id),
            sign_in_attempts::email.eq(email),
            sign_in_attempts::attempted_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
