//! `ROSTER_STATEMENT_TIMEOUT` (SPEC §1): SQL that runs too long is cancelled, and the
//! request is answered 503 `timeout` (the mapping lives at the HTTP edge).
//!
//! PostgreSQL enforces it itself: every pooled connection runs
//! `SET statement_timeout`, so each statement is cancelled by the server.
//!
//! SQLite has no such setting; it runs in this process, so a deadline is kept per thread.
//! [`Db::run_here`](super::Db::run_here) sets it before a request's database work and
//! clears it after. SQLite calls a progress handler every few thousand virtual-machine
//! instructions of any statement, and the handler interrupts the statement once the
//! deadline has passed (`SQLITE_INTERRUPT`; inside a write transaction SQLite rolls the
//! transaction back). A pooled connection is only ever used by the thread that checked
//! it out, so the thread's deadline is the deadline of the request using it. The handler
//! is installed on every connection SQLite opens, through an auto-extension, because
//! diesel 2.3 does not hand out the raw connection handle.

use std::cell::Cell;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Once;
use std::time::{Duration, Instant};

use libsqlite3_sys as ffi;

/// How many SQLite VM instructions run between two looks at the clock: a few
/// microseconds of work, so a look costs well under 1% and a statement overruns its
/// deadline by microseconds.
const INSTRUCTIONS_BETWEEN_CHECKS: c_int = 4000;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Sets this thread's deadline for the database work that follows; the guard clears it.
pub fn deadline_in(timeout: Option<Duration>) -> DeadlineGuard {
    let previous = DEADLINE.with(|d| d.replace(timeout.map(|t| Instant::now() + t)));
    DeadlineGuard { previous }
}

/// Restores the deadline that was in force before (none, except for nested work).
pub struct DeadlineGuard {
    previous: Option<Instant>,
}

impl Drop for DeadlineGuard {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.previous));
    }
}

/// Installs the progress handler on every SQLite connection opened from now on. Called
/// before the first connection is opened; later calls do nothing.
pub fn install_sqlite_handler() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: `on_open` has the signature SQLite expects of an extension entry point,
        // and registering one is safe at any time (SQLite serializes the list itself).
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
        if rc != ffi::SQLITE_OK {
            log::error!("cannot install the SQLite statement timeout (error {rc})");
        }
    });
}

/// Runs when SQLite opens a connection: attaches the progress handler to it.
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection being opened, valid for the call; the handler
    // takes no user data.
    unsafe {
        ffi::sqlite3_progress_handler(
            db,
            INSTRUCTIONS_BETWEEN_CHECKS,
            Some(past_deadline),
            std::ptr::null_mut(),
        );
    }
    ffi::SQLITE_OK
}

/// The progress handler: non-zero interrupts the running statement. It must not unwind
/// into C, and nothing here can panic.
unsafe extern "C" fn past_deadline(_: *mut c_void) -> c_int {
    let overdue = DEADLINE
        .try_with(|d| d.get().is_some_and(|deadline| Instant::now() >= deadline))
        .unwrap_or(false);
    c_int::from(overdue)
}

/// Whether a database error is the statement timeout of either backend.
pub fn is_timeout(e: &diesel::result::Error) -> bool {
    match e {
        diesel::result::Error::DatabaseError(_, info) => {
            let message = info.message();
            // SQLite's texts for SQLITE_INTERRUPT and for SQLITE_BUSY once the busy
            // timeout (set to the statement timeout) has passed; PostgreSQL's for SQLSTATE
            // 57014 when `statement_timeout` fired (an operator's cancel says "user
            // request" and stays a 500).
            message == "interrupted"
                || message == "database is locked"
                || message.contains("statement timeout")
        }
        _ => false,
    }
}
