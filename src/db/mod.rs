//! The database: one binary, two backends (SQLite bundled, PostgreSQL with libpq
//! bundled), chosen by the URL scheme. This module owns connecting (with the SQLite
//! pragmas), the pool, embedded migrations, the per-request statement count behind
//! `Server-Timing`, and the one `write_transaction` every write goes through.

pub mod heavy;
pub mod row;
pub mod schema;
pub mod sql;
pub mod time;
pub mod timeout;

pub use self::sql::SqlBuilder;

use std::cell::Cell;
use std::time::{Duration, Instant};

use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// What can go wrong in this module: the database or the pool. The HTTP edge maps it to
/// a JSON:API error (`jsonapi::error`), so this module knows nothing of the protocol.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("database work did not finish: {0}")]
    Blocking(String),
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to either backend. Diesel's derive gives it the `Connection` impl and
/// the `MultiBackend` that queries are written against.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    /// Which backend a `DATABASE_URL` names; the error says what is accepted.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(BackendKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(BackendKind::Postgres)
        } else {
            Err(format!(
                "`{}` is neither `sqlite://PATH`, `sqlite::memory:` nor `postgres://…`",
                redact_url(url)
            ))
        }
    }
}

/// A URL with its password replaced, safe for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The path SQLite opens for a `sqlite:` URL.
fn sqlite_path(url: &str) -> String {
    if url == "sqlite::memory:" || url == "sqlite://:memory:" {
        return ":memory:".to_owned();
    }
    url.trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .to_owned()
}

diesel::define_sql_function! {
    /// Unicode lower-casing for case-insensitive search: a Rust function registered on
    /// every SQLite connection, a SQL function over lower() on PostgreSQL (migration 2).
    fn casefold(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

thread_local! {
    /// SQL statements run on this thread so far. A request reads it before and after its
    /// database work, on the thread that did the work, so no lock is ever taken.
    static STATEMENTS: Cell<u64> = const { Cell::new(0) };
}

/// Counts every statement a connection runs (transaction control included: they are
/// round trips too). With `RUST_LOG=roster::sql=trace` it also logs each statement's
/// SQL — never its bound values, which can be password hashes or token hashes.
fn count_statements(event: InstrumentationEvent<'_>) {
    if let InstrumentationEvent::StartQuery { query, .. } = &event
        && log::log_enabled!(target: "roster::sql", log::Level::Trace)
    {
        let text = query.to_string();
        let sql = text.split(" -- binds: ").next().unwrap_or_default();
        log::trace!(target: "roster::sql", "{sql}");
    }
    if matches!(
        event,
        InstrumentationEvent::StartQuery { .. }
            | InstrumentationEvent::BeginTransaction { .. }
            | InstrumentationEvent::CommitTransaction { .. }
            | InstrumentationEvent::RollbackTransaction { .. }
    ) {
        STATEMENTS.with(|c| c.set(c.get() + 1));
    }
}

fn statements_so_far() -> u64 {
    STATEMENTS.with(Cell::get)
}

/// Opens one connection and prepares it: SQLite gets WAL, a busy timeout (concurrent
/// writers wait instead of failing), foreign keys and `synchronous=NORMAL` (durable in
/// WAL mode across a process crash). The first 16 MiB of the file are read through a
/// memory map (profiles showed pages copied in by `read()` on every request with the
/// default 2 MB per-connection cache; the map made 500 KB include pages ~25% faster).
/// The map is small because mapped pages count in the process's RSS once per
/// connection: with 64 MiB, a 2.6 GB database peaked at 133 MB after a few counts over
/// a million rows; with 16 MiB at 60 MB, and the 10,000-user benchmark as fast.
pub fn establish(url: &str) -> Result<DbConnection, String> {
    establish_with_timeout(url, None)
}

/// [`establish`], with PostgreSQL's `statement_timeout` set when `statement_timeout` is
/// given (SQLite's is kept per request by [`Db::run_here`], see [`timeout`]).
pub fn establish_with_timeout(
    url: &str,
    statement_timeout: Option<Duration>,
) -> Result<DbConnection, String> {
    let mut conn = match BackendKind::from_url(url)? {
        BackendKind::Sqlite => {
            timeout::install_sqlite_handler();
            let path = sqlite_path(url);
            let mut conn = SqliteConnection::establish(&path)
                .map_err(|e| format!("cannot open SQLite database `{path}`: {e}"))?;
            // A writer waits for the write lock as long as a statement may run; past
            // that, "database is locked" is answered as the timeout it is.
            let busy_ms = statement_timeout.map_or(5000, |t| t.as_millis().max(1));
            conn.batch_execute(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {busy_ms}; \
                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                 PRAGMA mmap_size = 16777216; PRAGMA cache_size = -4000;"
            ))
            // No ANALYZE / `PRAGMA optimize`, deliberately: without statistics SQLite
            // assumes an equality is selective, which the queries and indexes here are
            // written for. Statistics without STAT4 know averages, not skew — with them
            // "the owners of this account" looked like a third of a million-member
            // account, and a page of its memberships took 800 ms instead of 0.1.
            .map_err(|e| format!("cannot configure SQLite database `{path}`: {e}"))?;
            // SQLite's lower() and LIKE fold ASCII only; searches fold all of Unicode
            // ("Émile" finds "émile"), as PostgreSQL's lower() does.
            casefold_utils::register_impl(&mut conn, |text: Option<String>| {
                text.map(|t| t.to_lowercase())
            })
            .map_err(|e| format!("cannot configure SQLite database `{path}`: {e}"))?;
            DbConnection::Sqlite(conn)
        }
        BackendKind::Postgres => {
            let mut conn = PgConnection::establish(url).map_err(|e| {
                format!("cannot connect to PostgreSQL at `{}`: {e}", redact_url(url))
            })?;
            if let Some(limit) = statement_timeout {
                conn.batch_execute(&format!(
                    "SET statement_timeout = {}",
                    limit.as_millis().max(1)
                ))
                .map_err(|e| format!("cannot set PostgreSQL's statement_timeout: {e}"))?;
            }
            DbConnection::Postgresql(conn)
        }
    };
    conn.set_instrumentation(count_statements as fn(InstrumentationEvent<'_>));
    Ok(conn)
}

impl DbConnection {
    pub fn backend(&self) -> BackendKind {
        match self {
            DbConnection::Sqlite(_) => BackendKind::Sqlite,
            DbConnection::Postgresql(_) => BackendKind::Postgres,
        }
    }
}

/// Runs the embedded migrations that have not run yet; returns their names.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, String> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| format!("migrations failed: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// r2d2 manager for [`DbConnection`]: connects with [`establish`], so the pragmas and the
/// statement counter are on every pooled connection.
pub struct Manager {
    url: String,
    statement_timeout: Option<Duration>,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        establish_with_timeout(&self.url, self.statement_timeout).map_err(|e| {
            diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(e))
        })
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection whose transaction could not be ended (e.g. SQLite rolled it back
    /// itself when a statement was interrupted) is dropped rather than reused.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::connection::TransactionManager;
        <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// How much database work a request did; read by the `Server-Timing` middleware.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DbUsage {
    pub statements: u64,
    pub elapsed: Duration,
}

impl DbUsage {
    pub fn add(&mut self, other: DbUsage) {
        self.statements += other.statements;
        self.elapsed += other.elapsed;
    }
}

/// How long a piece of database work may take: [`Db::run_as`] runs SQLite's heavy work
/// off the HTTP worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// One row or a few, by index: authentication, one resource, a single write.
    Quick,
    /// Possibly many rows: a collection page, a batch.
    Heavy,
}

/// The pool, and how database work is run for a request.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    pub backend: BackendKind,
    /// `ROSTER_STATEMENT_TIMEOUT`; `None` for the CLI's own work.
    statement_timeout: Option<Duration>,
    /// SQLite only: the threads for work that may take long ([`Db::run_heavy`]).
    heavy: Option<std::sync::Arc<heavy::HeavyPool>>,
    /// How long recent requests of each kind took ([`Db::run_learned`]).
    learned: std::sync::Arc<heavy::Learned>,
}

impl Db {
    /// Connects once directly (so a bad URL fails at once with its real cause rather
    /// than after r2d2's retries), runs pending migrations, then builds the pool.
    pub fn connect(
        url: &str,
        workers: usize,
        statement_timeout: Option<Duration>,
    ) -> Result<(Db, Vec<String>), String> {
        let backend = BackendKind::from_url(url)?;
        let mut first = establish(url)?;
        let applied = run_migrations(&mut first)?;
        let in_memory = sqlite_path(url) == ":memory:" && backend == BackendKind::Sqlite;
        // An in-memory SQLite database lives in one connection, so the pool has one.
        // SQLite work runs on the HTTP worker thread (see `run`), so a connection per
        // worker plus a few for blocking tasks never makes a worker wait for the pool.
        let size = match backend {
            _ if in_memory => 1,
            BackendKind::Sqlite => (workers + 4) as u32,
            BackendKind::Postgres => (workers * 4).clamp(8, 64) as u32,
        };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(if in_memory { 1 } else { 2.min(size) }))
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(10))
            .build(Manager {
                url: url.to_owned(),
                statement_timeout,
            })
            .map_err(|e| format!("cannot build the connection pool: {e}"))?;
        if in_memory {
            // The migrated connection must be the one the pool keeps; with one slot,
            // re-migrating the pool's own connection is the simplest way to be sure.
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            run_migrations(&mut conn)?;
        }
        drop(first);
        Ok((
            Db {
                pool,
                backend,
                statement_timeout,
                heavy: (backend == BackendKind::Sqlite)
                    .then(|| std::sync::Arc::new(heavy::HeavyPool::new(workers))),
                learned: std::sync::Arc::default(),
            },
            applied,
        ))
    }

    /// How many connections the pool may open.
    pub fn pool_size(&self) -> usize {
        self.pool.max_size() as usize
    }

    pub fn get(&self) -> Result<PooledConnection, DbError> {
        Ok(self.pool.get()?)
    }

    /// Runs `work` with a connection and reports the statements it ran and the time it
    /// took. SQLite work is in-process and takes microseconds, so it runs right on the
    /// HTTP worker (a thread hop would cost more than the query); PostgreSQL work waits
    /// on the network, so it goes to the blocking pool and the worker keeps serving.
    pub async fn run<T, E, F>(&self, usage: &std::cell::RefCell<DbUsage>, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let (result, used) = match self.backend {
            BackendKind::Sqlite => self.run_here(work),
            BackendKind::Postgres => {
                let db = self.clone();
                actix_web::web::block(move || db.run_here(work))
                    .await
                    .map_err(|e| E::from(DbError::Blocking(e.to_string())))?
            }
        };
        usage.borrow_mut().add(used);
        result
    }

    /// [`Db::run`] for work that may take long (a collection page: its count, its
    /// includes, a deep offset; a batch): SQLite runs it on the low-priority threads of
    /// [`heavy`], so the HTTP worker keeps answering quick requests meanwhile (SPEC §5).
    /// PostgreSQL work is always off the worker.
    pub async fn run_heavy<T, E, F>(
        &self,
        usage: &std::cell::RefCell<DbUsage>,
        work: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.run_as(Weight::Heavy, usage, work).await
    }

    /// [`Db::run`] or [`Db::run_heavy`], as the last requests of the same `kind` (a hash
    /// of what makes requests alike in cost) took: see [`heavy::Learned`].
    pub async fn run_learned<T, E, F>(
        &self,
        kind: u64,
        usage: &std::cell::RefCell<DbUsage>,
        work: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let weight = if self.learned.is_slow(kind) {
            Weight::Heavy
        } else {
            Weight::Quick
        };
        // The CPU time of the thread that did the work, not the time on the clock: under
        // load a thread waits for a core, and a quick page measured by the clock looked
        // slow, went to the low-priority threads, waited longer there, and stayed.
        let timed = move |conn: &mut DbConnection| -> Result<(Result<T, E>, Duration), E> {
            let started = heavy::thread_cpu_time();
            let result = work(conn);
            Ok((result, heavy::thread_cpu_time().saturating_sub(started)))
        };
        let (result, cpu) = self.run_as(weight, usage, timed).await?;
        self.learned.record(kind, cpu);
        result
    }

    /// [`Db::run`] or [`Db::run_heavy`], as `weight` says.
    pub async fn run_as<T, E, F>(
        &self,
        weight: Weight,
        usage: &std::cell::RefCell<DbUsage>,
        work: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let heavy = match (weight, &self.heavy) {
            (Weight::Heavy, Some(heavy)) => heavy.clone(),
            _ => return self.run(usage, work).await,
        };
        let db = self.clone();
        let (result, used) = heavy.run(move || db.run_here(work)).await.ok_or_else(|| {
            E::from(DbError::Blocking(
                "the database thread stopped before answering".into(),
            ))
        })?;
        usage.borrow_mut().add(used);
        result
    }

    /// Runs `work` on this thread; for CLI commands and the blocking pool.
    pub fn run_here<T, E: From<DbError>>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> (Result<T, E>, DbUsage) {
        let start = Instant::now();
        let before = statements_so_far();
        let _deadline = timeout::deadline_in(self.statement_timeout);
        let result = match self.get() {
            Ok(mut conn) => work(&mut conn),
            Err(e) => Err(E::from(e)),
        };
        let used = DbUsage {
            statements: statements_so_far() - before,
            elapsed: start.elapsed(),
        };
        (result, used)
    }
}

/// Runs `work` in one transaction. On SQLite the transaction starts with
/// `BEGIN IMMEDIATE`: a read-then-write transaction that started as a reader fails with
/// "database is locked" when another writer commits first, whatever the busy timeout;
/// taking the write lock up front makes concurrent writers queue instead.
pub fn write_transaction<T, E: From<diesel::result::Error>>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConnection as Connection>::TransactionManager;
    let outermost = Manager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_none();
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(work);
    };
    if !outermost {
        return conn.transaction(work);
    }
    // The derived multi-connection manager delegates its bookkeeping to the inner
    // connection's, so beginning on the inner connection and finishing through the outer
    // manager keeps diesel's view of the transaction depth right.
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    match work(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = Manager::rollback_transaction(conn) {
                log::error!("rollback failed: {rollback}");
            }
            Err(e)
        }
    }
}

/// Is the database answering? For `/readyz`.
pub fn ping(conn: &mut DbConnection) -> bool {
    conn.batch_execute("SELECT 1").is_ok()
}

/// For a unique violation from either backend, what was violated: PostgreSQL names the
/// index (`team_memberships_team_user`), SQLite the columns (`UNIQUE constraint failed:
/// team_memberships.team_id, team_memberships.user_id`) or the index of an expression.
/// Callers map it to 409 `taken` (with the attribute's pointer) or `conflict` (the id).
pub fn unique_violation(e: &diesel::result::Error) -> Option<String> {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        ) => Some(
            info.constraint_name()
                .unwrap_or_else(|| info.message())
                .to_owned(),
        ),
        _ => None,
    }
}

/// Serializes writers that must see each other's effect (e.g. "is this the last
/// owner?"): locks the row `table.id = id` until the transaction ends. On SQLite every
/// write transaction already holds the database's write lock (`BEGIN IMMEDIATE`).
pub fn lock_row(
    conn: &mut DbConnection,
    table: &'static str,
    id: &str,
) -> Result<(), diesel::result::Error> {
    if let DbConnection::Postgresql(_) = conn {
        let mut q = SqlBuilder::new(BackendKind::Postgres);
        q.sql(&format!("SELECT 1 FROM {table} WHERE id = "))
            .bind(id.to_owned())
            .sql(" FOR UPDATE");
        diesel::RunQueryDsl::execute(q, conn)?;
    }
    Ok(())
}
