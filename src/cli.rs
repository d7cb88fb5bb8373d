//! The commands of the `roster` binary besides serving: `migrate`, `bootstrap`, `seed`,
//! and the `--demo` data of `serve`. They use the server's database layer directly, on
//! one connection.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::auth::password;
use crate::clock::Clock;
use crate::db::schema::{accounts, users};
use crate::db::{self, DbConnection, SqlBuilder, write_transaction};
use crate::domain::{AccountRole, Email, Name, Password, Slug};
use crate::jsonapi::error::ApiError;

/// Opens the database named by `DATABASE_URL` and runs pending migrations.
pub fn open(url: &str) -> Result<DbConnection, String> {
    let mut conn = db::establish(url)?;
    for applied in db::run_migrations(&mut conn)? {
        log::info!("applied migration {applied}");
    }
    Ok(conn)
}

fn api(e: ApiError) -> String {
    e.to_string()
}

/// One row of each table `insert_rows` knows, as bound values in column order.
struct Rows {
    table: &'static str,
    columns: &'static [&'static str],
    values: Vec<Vec<db::sql::Value>>,
}

impl Rows {
    fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Rows {
            table,
            columns,
            values: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<db::sql::Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.values.push(row);
    }

    /// Multi-row INSERTs, in chunks that stay under SQLite's bound-variable limit.
    fn insert(self, conn: &mut DbConnection) -> Result<(), String> {
        let per_statement = (30_000 / self.columns.len()).max(1);
        for chunk in self.values.chunks(per_statement) {
            let mut q = SqlBuilder::new(conn.backend());
            q.sql(&format!(
                "INSERT INTO {} ({}) VALUES ",
                self.table,
                self.columns.join(", ")
            ));
            for (i, row) in chunk.iter().enumerate() {
                q.sql(if i > 0 { ", (" } else { "(" });
                for (j, value) in row.iter().enumerate() {
                    if j > 0 {
                        q.sql(", ");
                    }
                    q.bind(value.clone());
                }
                q.sql(")");
            }
            q.execute(conn)
                .map_err(|e| format!("inserting into {}: {e}", self.table))?;
        }
        Ok(())
    }
}

const ACCOUNT_COLUMNS: &[&str] = &["id", "name", "slug", "created_at", "updated_at"];
const USER_COLUMNS: &[&str] = &[
    "id",
    "account_id",
    "name",
    "email",
    "email_key",
    "status",
    "timezone",
    "preferences",
    "password_hash",
    "platform_admin",
    "created_at",
    "updated_at",
];
const MEMBERSHIP_COLUMNS: &[&str] = &[
    "id",
    "account_id",
    "user_id",
    "role",
    "created_at",
    "updated_at",
];
const TEAM_COLUMNS: &[&str] = &[
    "id",
    "account_id",
    "name",
    "description",
    "created_at",
    "updated_at",
];
const TEAM_MEMBERSHIP_COLUMNS: &[&str] = &[
    "id",
    "team_id",
    "user_id",
    "role",
    "created_at",
    "updated_at",
];

use db::sql::Value as V;

fn text(s: impl Into<String>) -> V {
    V::Text(s.into())
}

/// A deterministic UUIDv7 for seed data: the timestamp and "random" bits come from the
/// kind and index, so the same command gives the same ids.
fn seed_id(kind: u8, index: u64) -> String {
    let millis = 1_767_225_600_000 + index; // 2026-01-01T00:00:00Z + index ms
    let mut bytes = [0u8; 10];
    bytes[0] = kind;
    bytes[2..10].copy_from_slice(&index.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
        .into_uuid()
        .to_string()
}

fn seed_time(index: u64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_767_225_600 + index as i64, 0)
        .unwrap_or_default()
        .naive_utc()
}

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Barbara",
    "Edsger",
    "Frances",
    "Donald",
    "Margaret",
    "Ken",
    "Radia",
    "Dennis",
    "Hedy",
    "John",
    "Katherine",
    "Linus",
    "Sophie",
    "Tim",
    "Annie",
    "Niklaus",
    "Joan",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Liskov",
    "Dijkstra",
    "Allen",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Perlman",
    "Ritchie",
    "Lamarr",
    "Backus",
    "Johnson",
    "Torvalds",
    "Wilson",
    "Berners-Lee",
    "Easley",
    "Wirth",
    "Clarke",
];
const TEAM_WORDS: &[&str] = &[
    "Platform", "Design", "Support", "Growth", "Security", "Data", "Mobile", "Web", "Billing",
    "Identity", "Search", "Infra", "Research", "Docs", "Sales",
];

fn person_name(index: u64) -> String {
    let first = FIRST_NAMES[(index % FIRST_NAMES.len() as u64) as usize];
    let last = LAST_NAMES[((index / FIRST_NAMES.len() as u64) % LAST_NAMES.len() as u64) as usize];
    format!("{first} {last} {index}")
}

/// Sizes for `roster seed`.
#[derive(Debug, Clone, Copy)]
pub struct SeedSize {
    pub accounts: u64,
    pub users: u64,
    pub teams: u64,
    pub teams_per_user: u64,
}

/// What `seed` made, for the closing message (and the benchmark script).
#[derive(Debug, serde::Serialize)]
pub struct SeedSummary {
    pub first_account_slug: String,
    pub first_owner_email: String,
    pub first_owner_password: String,
}

/// `roster seed`: deterministic accounts (`seed-<n>`), users spread round-robin over them
/// (the first user of each account is its owner), teams likewise, and
/// `teams_per_user` team memberships per user within the user's account. Every user's
/// password is `password-<index>`.
pub fn seed(conn: &mut DbConnection, size: SeedSize) -> Result<SeedSummary, String> {
    if size.accounts == 0 {
        return Err("--accounts must be at least 1".into());
    }
    let taken: i64 = accounts::table
        .filter(accounts::slug.eq("seed-0"))
        .count()
        .get_result(conn)
        .map_err(|e| e.to_string())?;
    if taken > 0 {
        return Err("this database is already seeded (account `seed-0` exists)".into());
    }
    let total = size.accounts + size.users + size.teams + size.users * size.teams_per_user;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let teams_of_account = |a: u64| -> u64 {
        // Teams are spread round-robin too: team t belongs to account t % accounts.
        size.teams / size.accounts + u64::from(a < size.teams % size.accounts)
    };
    let team_index = |a: u64, k: u64| -> u64 { k * size.accounts + a };

    bar.set_message("accounts");
    let mut account_rows = Rows::new("accounts", ACCOUNT_COLUMNS);
    for a in 0..size.accounts {
        let at = seed_time(a);
        account_rows.push(vec![
            text(seed_id(1, a)),
            text(format!("Seed Account {a}")),
            text(format!("seed-{a}")),
            V::Time(at),
            V::Time(at),
        ]);
    }
    write_transaction(conn, |conn| {
        account_rows.insert(conn).map_err(ApiError::internal)
    })
    .map_err(api)?;
    bar.inc(size.accounts);

    bar.set_message("teams");
    let mut team_rows = Rows::new("teams", TEAM_COLUMNS);
    for t in 0..size.teams {
        let at = seed_time(t);
        let word = TEAM_WORDS[(t % TEAM_WORDS.len() as u64) as usize];
        team_rows.push(vec![
            text(seed_id(2, t)),
            text(seed_id(1, t % size.accounts)),
            text(format!("{word} {t}")),
            text(format!("The {word} team")),
            V::Time(at),
            V::Time(at),
        ]);
    }
    write_transaction(conn, |conn| {
        team_rows.insert(conn).map_err(ApiError::internal)
    })
    .map_err(api)?;
    bar.inc(size.teams);

    // Users in batches, each batch one transaction.
    const BATCH: u64 = 5_000;
    let mut start = 0;
    while start < size.users {
        let end = (start + BATCH).min(size.users);
        bar.set_message("users");
        let hashes: Vec<String> = (start..end)
            .map(|i| password::hash_for_seed_data(&format!("password-{i}")))
            .collect::<Result<_, _>>()?;
        let mut users_rows = Rows::new("users", USER_COLUMNS);
        let mut membership_rows = Rows::new("account_memberships", MEMBERSHIP_COLUMNS);
        let mut team_membership_rows = Rows::new("team_memberships", TEAM_MEMBERSHIP_COLUMNS);
        for (i, hash) in (start..end).zip(hashes) {
            let a = i % size.accounts;
            let account_id = seed_id(1, a);
            let user_id = seed_id(3, i);
            let at = seed_time(i);
            let status = if i % 50 == 49 {
                "deactivated"
            } else {
                "active"
            };
            users_rows.push(vec![
                text(&user_id),
                text(&account_id),
                text(person_name(i)),
                text(format!("user-{i}@seed-{a}.test")),
                text(format!("user-{i}@seed-{a}.test")),
                text(status),
                text("UTC"),
                text("{}"),
                text(hash),
                V::Bool(false),
                V::Time(at),
                V::Time(at),
            ]);
            let role = if i < size.accounts {
                AccountRole::Owner
            } else if i % 25 < 2 {
                AccountRole::Admin
            } else {
                AccountRole::Member
            };
            membership_rows.push(vec![
                text(seed_id(4, i)),
                text(&account_id),
                text(&user_id),
                text(role.as_str()),
                V::Time(at),
                V::Time(at),
            ]);
            let available = teams_of_account(a);
            for k in 0..size.teams_per_user.min(available) {
                let slot = (i / size.accounts + k) % available;
                let team_id = seed_id(2, team_index(a, slot));
                team_membership_rows.push(vec![
                    text(seed_id(5, i * 64 + k)),
                    text(team_id),
                    text(&user_id),
                    text(if k == 0 && i % 10 == 0 {
                        "maintainer"
                    } else {
                        "member"
                    }),
                    V::Time(at),
                    V::Time(at),
                ]);
            }
        }
        let memberships = team_membership_rows.values.len() as u64;
        write_transaction(conn, |conn| {
            users_rows.insert(conn).map_err(ApiError::internal)?;
            membership_rows.insert(conn).map_err(ApiError::internal)?;
            team_membership_rows
                .insert(conn)
                .map_err(ApiError::internal)
        })
        .map_err(api)?;
        bar.inc((end - start) + memberships);
        start = end;
    }
    // PostgreSQL plans from table statistics and answers counts from the index alone
    // only for pages its visibility map marks as all-visible; autovacuum sees to both
    // some time after a bulk load. Do it now, so that a seeded database behaves like
    // one that has been running. SQLite plans without statistics on purpose (see
    // db::establish).
    if conn.backend() == crate::db::BackendKind::Postgres {
        bar.set_message("vacuum analyze");
        diesel::connection::SimpleConnection::batch_execute(conn, "VACUUM ANALYZE")
            .map_err(|e| format!("VACUUM ANALYZE after seeding: {e}"))?;
    }
    bar.finish_with_message("done");
    Ok(SeedSummary {
        first_account_slug: "seed-0".into(),
        first_owner_email: "user-0@seed-0.test".into(),
        first_owner_password: "password-0".into(),
    })
}

/// What `bootstrap` prints.
#[derive(Debug, serde::Serialize)]
pub struct Bootstrapped {
    pub account_id: String,
    pub user_id: String,
    pub password: String,
}

/// What `bootstrap` is asked to create.
#[derive(Debug, Clone, Copy)]
pub struct BootstrapRequest<'a> {
    pub account_name: &'a str,
    pub slug: &'a str,
    pub owner_name: &'a str,
    pub email: &'a str,
    /// Generated when `None`.
    pub password: Option<&'a str>,
    pub platform_admin: bool,
}

/// Creates an account and its first owner (`active`), in one transaction.
pub fn bootstrap(
    conn: &mut DbConnection,
    request: BootstrapRequest<'_>,
    clock: &Clock,
) -> Result<Bootstrapped, String> {
    let BootstrapRequest {
        account_name,
        slug,
        owner_name,
        email,
        password: password_text,
        platform_admin,
    } = request;
    let account_name = Name::parse(account_name).map_err(|e| format!("--account-name {e}"))?;
    let slug = Slug::parse(slug).map_err(|e| format!("--slug {e}"))?;
    let email = Email::parse(email).map_err(|e| format!("--email {e}"))?;
    let owner_name = Name::parse(owner_name).map_err(|e| format!("owner name {e}"))?;
    let generated;
    let secret = match password_text {
        Some(p) => p,
        None => {
            generated = crate::auth::random_secret();
            &generated
        }
    };
    let secret = Password::parse(secret).map_err(|e| format!("--password {e}"))?;
    let hash = password::hash(secret.expose())?;
    let now = clock.now();
    let account_id = uuid::Uuid::now_v7().to_string();
    let user_id = uuid::Uuid::now_v7().to_string();
    write_transaction(conn, |conn| {
        let taken: i64 = accounts::table
            .filter(accounts::slug.eq(slug.as_str()))
            .filter(accounts::discarded_at.is_null())
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(ApiError::taken(
                "/slug",
                format!("the slug `{}` is taken", slug.as_str()),
            ));
        }
        let mut account = Rows::new("accounts", ACCOUNT_COLUMNS);
        account.push(vec![
            text(&account_id),
            text(account_name.as_str()),
            text(slug.as_str()),
            V::Time(now),
            V::Time(now),
        ]);
        account.insert(conn).map_err(ApiError::internal)?;
        let mut user = Rows::new("users", USER_COLUMNS);
        user.push(vec![
            text(&user_id),
            text(&account_id),
            text(owner_name.as_str()),
            text(email.as_str()),
            text(email.normalized()),
            text("active"),
            text("UTC"),
            text("{}"),
            text(&hash),
            V::Bool(platform_admin),
            V::Time(now),
            V::Time(now),
        ]);
        user.insert(conn).map_err(ApiError::internal)?;
        let mut membership = Rows::new("account_memberships", MEMBERSHIP_COLUMNS);
        membership.push(vec![
            text(uuid::Uuid::now_v7().to_string()),
            text(&account_id),
            text(&user_id),
            text(AccountRole::Owner.as_str()),
            V::Time(now),
            V::Time(now),
        ]);
        membership.insert(conn).map_err(ApiError::internal)?;
        crate::audit::record(
            conn,
            crate::audit::Event {
                account_id: &account_id,
                actor_id: None,
                action: "account.created",
                target_type: "account",
                target_id: &account_id,
                changes: serde_json::Map::from_iter([
                    ("name".to_owned(), json!([null, account_name.as_str()])),
                    ("slug".to_owned(), json!([null, slug.as_str()])),
                ]),
                at: now,
            },
        )
    })
    .map_err(|e| match e.code() {
        "taken" => format!("the slug `{}` is taken", slug.as_str()),
        _ => e.to_string(),
    })?;
    Ok(Bootstrapped {
        account_id,
        user_id,
        password: secret.expose().to_owned(),
    })
}

/// The demo data of `serve --demo`, made only when the database has no account yet.
/// Returns the owner's password when it seeded.
pub fn seed_demo(conn: &mut DbConnection, clock: &Clock) -> Result<Option<String>, String> {
    let any: i64 = accounts::table
        .count()
        .get_result(conn)
        .map_err(|e| e.to_string())?;
    if any > 0 {
        return Ok(None);
    }
    let made = bootstrap(
        conn,
        BootstrapRequest {
            account_name: "Demo",
            slug: "demo",
            owner_name: "Demo Owner",
            email: "owner@demo.test",
            password: None,
            platform_admin: false,
        },
        clock,
    )?;
    let now = clock.now();
    let people = [
        ("Ada Lovelace", "ada@demo.test", "admin", "active"),
        ("Grace Hopper", "grace@demo.test", "member", "active"),
        ("Alan Turing", "alan@demo.test", "member", "active"),
        ("Barbara Liskov", "barbara@demo.test", "member", "created"),
        (
            "Edsger Dijkstra",
            "edsger@demo.test",
            "member",
            "deactivated",
        ),
    ];
    let teams = [
        ("Engineering", "Builds the product"),
        ("Design", "Shapes the product"),
        ("Support", "Helps our users"),
    ];
    write_transaction(conn, |conn| {
        let mut user_rows = Rows::new("users", USER_COLUMNS);
        let mut membership_rows = Rows::new("account_memberships", MEMBERSHIP_COLUMNS);
        let mut team_rows = Rows::new("teams", TEAM_COLUMNS);
        let mut team_membership_rows = Rows::new("team_memberships", TEAM_MEMBERSHIP_COLUMNS);
        let mut user_ids = vec![made.user_id.clone()];
        for (i, (name, email, role, status)) in people.iter().enumerate() {
            let id = uuid::Uuid::now_v7().to_string();
            let at = now + Duration::milliseconds(i as i64 + 1);
            user_rows.push(vec![
                text(&id),
                text(&made.account_id),
                text(*name),
                text(*email),
                text(email.to_lowercase()),
                text(*status),
                text("UTC"),
                text("{}"),
                text(
                    password::hash_for_seed_data(&crate::auth::random_secret())
                        .map_err(ApiError::internal)?,
                ),
                V::Bool(false),
                V::Time(at),
                V::Time(at),
            ]);
            membership_rows.push(vec![
                text(uuid::Uuid::now_v7().to_string()),
                text(&made.account_id),
                text(&id),
                text(*role),
                V::Time(at),
                V::Time(at),
            ]);
            user_ids.push(id);
        }
        for (t, (name, description)) in teams.iter().enumerate() {
            let team_id = uuid::Uuid::now_v7().to_string();
            let at = now + Duration::milliseconds(10 + t as i64);
            team_rows.push(vec![
                text(&team_id),
                text(&made.account_id),
                text(*name),
                text(*description),
                V::Time(at),
                V::Time(at),
            ]);
            for (u, user_id) in user_ids.iter().enumerate() {
                if (u + t) % 2 == 0 {
                    team_membership_rows.push(vec![
                        text(uuid::Uuid::now_v7().to_string()),
                        text(&team_id),
                        text(user_id),
                        text(if u == 0 { "maintainer" } else { "member" }),
                        V::Time(at),
                        V::Time(at),
                    ]);
                }
            }
        }
        for rows in [user_rows, membership_rows, team_rows, team_membership_rows] {
            rows.insert(conn).map_err(ApiError::internal)?;
        }
        Ok(())
    })
    .map_err(api)?;
    let _ = users::table;
    Ok(Some(made.password))
}
