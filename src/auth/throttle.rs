//! Sign-in throttling: five failed sign-ins for one (account, email) within 15 minutes
//! lock that pair out for the rest of the window, and of any number of simultaneous
//! attempts at most five are checked against the password. This module owns the
//! `sign_in_attempts` table: one row per attempt, in the database, so every instance
//! sharing it sees the same count.
//!
//! An attempt is *reserved* before its password is checked — counted and inserted in one
//! write transaction, serialized per pair — so a burst cannot pass the check before any
//! failure lands. The row then is the failure: a wrong password leaves it in place, and
//! only a sign-in that proved the password [`release`]s it. A process that dies between
//! reserve and release leaves the row behind, so the attempt counts as a failure until it
//! leaves the window: the throttle fails closed.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::sign_in_attempts;
use crate::db::{BackendKind, DbConnection, SqlBuilder, write_transaction};
use crate::jsonapi::error::{ApiError, ErrorCode};

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_MINUTES: i64 = 15;

/// The first key of the PostgreSQL advisory locks taken here ("SIGN"). Two-key advisory
/// locks do not share a key space with one-key (`bigint`) ones, so this class keeps them
/// apart from any other advisory lock on the database.
const PG_LOCK_CLASS: i32 = 0x5349_474E;

/// An attempt counted against its pair: its `sign_in_attempts` row, committed.
#[derive(Debug)]
pub struct Reservation {
    id: String,
}

/// Reserves one attempt for (`account_key`, `email`), or refuses with 429 (and
/// `Retry-After`) when the window already holds five — failures and attempts still being
/// checked alike — without touching the password. Commits before returning, so that other
/// requests, on any instance, count it while its password is hashed; inside a caller's
/// transaction it could not, so that is refused.
pub fn reserve(
    conn: &mut DbConnection,
    account_key: &str,
    email: &str,
    now: NaiveDateTime,
) -> Result<Reservation, ApiError> {
    use diesel::connection::TransactionManager;
    type Manager = <DbConnection as Connection>::TransactionManager;
    let depth = Manager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(ApiError::internal)?;
    if depth.is_some() {
        return Err(ApiError::internal(
            "throttle::reserve inside a transaction: the reservation would not be visible",
        ));
    }
    let since = now - Duration::minutes(WINDOW_MINUTES);
    let id = uuid::Uuid::now_v7().to_string();
    write_transaction(conn, |conn| {
        // SQLite: the transaction began with BEGIN IMMEDIATE and holds the database's
        // write lock, so no other writer can count between our count and our insert.
        // PostgreSQL: under READ COMMITTED two transactions could both count four and
        // both insert; a transaction-scoped advisory lock on the pair makes them queue.
        // It must be its own statement: the count below then takes its snapshot after
        // the lock is held and sees the row the previous holder committed.
        if let DbConnection::Postgresql(_) = conn {
            let mut lock = SqlBuilder::new(BackendKind::Postgres);
            lock.sql(&format!(
                "SELECT pg_advisory_xact_lock({PG_LOCK_CLASS}, CAST("
            ))
            .bind(i64::from(pair_lock_key(account_key, email)))
            .sql(" AS integer))");
            diesel::RunQueryDsl::execute(lock, conn)?;
        }
        // Count and insert in one statement (one round trip for a normal sign-in); the
        // count stops at five rows, so a pair under attack costs the same as any other.
        let mut insert = SqlBuilder::new(conn.backend());
        insert
            .sql("INSERT INTO sign_in_attempts (id, account_id, email, attempted_at) SELECT ")
            .bind(id.as_str())
            .sql(", ")
            .bind(account_key)
            .sql(", ")
            .bind(email)
            .sql(", ")
            .bind(now)
            .sql(" WHERE (SELECT count(*) FROM (SELECT 1 FROM sign_in_attempts WHERE account_id = ")
            .bind(account_key)
            .sql(" AND email = ")
            .bind(email)
            .sql(" AND attempted_at > ")
            .bind(since)
            .sql(&format!(
                " LIMIT {MAX_FAILURES}) AS recent) < {MAX_FAILURES}"
            ));
        if diesel::RunQueryDsl::execute(insert, conn)? == 1 {
            return Ok(Reservation { id: id.clone() });
        }
        Err(locked_out(conn, account_key, email, now)?)
    })
}

/// Takes back a reservation whose sign-in proved the password, in the caller's
/// transaction (the one that opens the session): a success is not a failure. It clears
/// nothing else — earlier failures stay in the window.
pub fn release(conn: &mut DbConnection, reservation: Reservation) -> Result<(), ApiError> {
    diesel::delete(sign_in_attempts::table.find(&reservation.id)).execute(conn)?;
    Ok(())
}

/// Marks a reservation as the failure it is, in the caller's transaction: one write,
/// the counterpart of a wrong password's audit event for an attempt that has no user to
/// audit (see `session::create`). The row itself already counts.
pub fn settle_failure(conn: &mut DbConnection, reservation: &Reservation) -> Result<(), ApiError> {
    diesel::update(sign_in_attempts::table.find(&reservation.id))
        .set(sign_in_attempts::attempted_at.eq(sign_in_attempts::attempted_at))
        .execute(conn)?;
    Ok(())
}

/// The 429 for a pair whose window is full: locked until the oldest of the last five
/// attempts leaves it.
fn locked_out(
    conn: &mut DbConnection,
    account_key: &str,
    email: &str,
    now: NaiveDateTime,
) -> Result<ApiError, ApiError> {
    let since = now - Duration::minutes(WINDOW_MINUTES);
    let recent: Vec<NaiveDateTime> = sign_in_attempts::table
        .filter(sign_in_attempts::account_id.eq(account_key))
        .filter(sign_in_attempts::email.eq(email))
        .filter(sign_in_attempts::attempted_at.gt(since))
        .order(sign_in_attempts::attempted_at.desc())
        .select(sign_in_attempts::attempted_at)
        .limit(MAX_FAILURES)
        .load(conn)?;
    let oldest = recent.last().copied().unwrap_or(now);
    let retry_after = (oldest + Duration::minutes(WINDOW_MINUTES) - now)
        .num_seconds()
        .max(1);
    Ok(ApiError::new(
        ErrorCode::TooManyRequests,
        format!("Too many failed sign-ins; try again in {retry_after} seconds."),
    )
    .with_header("Retry-After", retry_after.to_string()))
}

/// The advisory lock key of a pair: 32 bits of a SHA-256, the same in every process and
/// every build (unlike `std`'s hasher, which promises neither). Two pairs that collide
/// only queue behind each other for a moment.
fn pair_lock_key(account_key: &str, email: &str) -> i32 {
    let mut hasher = Sha256::new();
    // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    hasher.update((account_key.len() as u64).to_be_bytes());
    hasher.update(account_key.as_bytes());
    hasher.update(email.as_bytes());
    let digest = hasher.finalize();
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}
