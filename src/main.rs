//! The `roster` command line: `serve`, `migrate`, `bootstrap`, `seed`. Nothing else
//! lives here; the commands call into the library.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use roster::app::Application;
use roster::clock::Clock;
use roster::config::{Config, DEFAULT_DATABASE_URL, JwtSecret, RawConfig};
use roster::{cli, db};

#[derive(Parser)]
#[command(
    name = "roster",
    version,
    about = "Users, accounts, teams and memberships over JSON:API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve HTTP.
    Serve(ServeArgs),
    /// Run pending migrations and exit.
    Migrate(DbArgs),
    /// Create an account and its first owner; prints account_id, user_id and password.
    Bootstrap(BootstrapArgs),
    /// Fill the database with deterministic fake data (password of user N: password-N).
    Seed(SeedArgs),
}

#[derive(Args)]
struct DbArgs {
    /// sqlite://PATH, sqlite::memory: or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

/// Every setting of SPEC §1, as a flag or the environment variable of the same name.
#[derive(Args)]
struct ServeArgs {
    /// Seed a demo account (slug `demo`) when the database has no accounts yet.
    #[arg(long)]
    demo: bool,
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    #[arg(long, env = "ROSTER_BIND")]
    bind: Option<String>,
    #[arg(long, env = "ROSTER_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    #[arg(long, env = "ROSTER_TOKEN_TTL")]
    token_ttl: Option<String>,
    #[arg(long, env = "ROSTER_OPEN_REGISTRATION")]
    open_registration: Option<String>,
    #[arg(long, env = "ROSTER_CORS_ORIGINS")]
    cors_origins: Option<String>,
    #[arg(long, env = "ROSTER_WORKERS")]
    workers: Option<String>,
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    public_url: Option<String>,
    #[arg(long, env = "ROSTER_STATEMENT_TIMEOUT")]
    statement_timeout: Option<String>,
}

#[derive(Args)]
struct BootstrapArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long)]
    account_name: String,
    #[arg(long)]
    slug: String,
    #[arg(long)]
    email: String,
    /// The owner's name (default: the email's local part).
    #[arg(long)]
    name: Option<String>,
    /// Generated when not given.
    #[arg(long)]
    password: Option<String>,
    /// The owner may act in every account.
    #[arg(long)]
    platform_admin: bool,
}

#[derive(Args)]
struct SeedArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long)]
    accounts: u64,
    #[arg(long)]
    users: u64,
    #[arg(long)]
    teams: u64,
    #[arg(long, default_value_t = 0)]
    teams_per_user: u64,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let result = match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Migrate(args) => cli::open(&args.database_url).map(|_| {
            println!(
                "migrations are up to date ({})",
                db::redact_url(&args.database_url)
            );
        }),
        Command::Bootstrap(args) => bootstrap(args),
        Command::Seed(args) => seed(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("roster: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let config = Config::parse(RawConfig {
        database_url: args.database_url,
        bind: args.bind,
        jwt_secret: args.jwt_secret,
        token_ttl: args.token_ttl,
        open_registration: args.open_registration,
        cors_origins: args.cors_origins,
        workers: args.workers,
        public_url: args.public_url,
        statement_timeout: args.statement_timeout,
    })
    .map_err(|e| e.to_string())?;
    if matches!(config.jwt_secret, JwtSecret::Generated(_)) {
        log::warn!(
            "ROSTER_JWT_SECRET is not set: using a random key, so tokens will not survive a restart or work across instances"
        );
    }
    let clock = Clock::default();
    let demo_password = if args.demo {
        let mut conn = cli::open(&config.database_url)?;
        cli::seed_demo(&mut conn, &clock)?
    } else {
        None
    };
    let bind = config.bind;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config, clock)?;
        log::info!("roster listening on http://{bind}");
        if let Some(password) = demo_password {
            println!("Demo account `demo` created. Owner: owner@demo.test  password: {password}");
            println!(
                "Try:\n  curl -s -X POST http://{bind}/api/v1/sessions -H 'Content-Type: application/vnd.api+json' \\\n    -d '{{\"data\":{{\"type\":\"session\",\"attributes\":{{\"account\":\"demo\",\"email\":\"owner@demo.test\",\"password\":\"{password}\"}}}}}}'"
            );
        }
        app.run_until_stopped().await.map_err(|e| format!("server error: {e}"))
    })
}

fn bootstrap(args: BootstrapArgs) -> Result<(), String> {
    let mut conn = cli::open(&args.db.database_url)?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| args.email.split('@').next().unwrap_or("Owner").to_owned());
    let made = cli::bootstrap(
        &mut conn,
        cli::BootstrapRequest {
            account_name: &args.account_name,
            slug: &args.slug,
            owner_name: &name,
            email: &args.email,
            password: args.password.as_deref(),
            platform_admin: args.platform_admin,
        },
        &Clock::default(),
    )?;
    println!(
        "{}",
        serde_json::to_string_pretty(&made).map_err(|e| e.to_string())?
    );
    Ok(())
}

fn seed(args: SeedArgs) -> Result<(), String> {
    let mut conn = cli::open(&args.db.database_url)?;
    let summary = cli::seed(
        &mut conn,
        cli::SeedSize {
            accounts: args.accounts,
            users: args.users,
            teams: args.teams,
            teams_per_user: args.teams_per_user,
        },
    )?;
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
    );
    Ok(())
}
