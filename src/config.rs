//! Every setting roster reads, parsed once at start. A bad value stops the program with a
//! message that names the variable; nothing falls back silently (SPEC §1).

use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn bad(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// Where the JWT key came from: only a configured key survives restarts and is shared by
/// several instances.
#[derive(Clone, PartialEq, Eq)]
pub enum JwtSecret {
    Configured(Vec<u8>),
    Generated(Vec<u8>),
}

impl JwtSecret {
    pub fn bytes(&self) -> &[u8] {
        match self {
            JwtSecret::Configured(b) | JwtSecret::Generated(b) => b,
        }
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key must never reach a log line.
        match self {
            JwtSecret::Configured(_) => f.write_str("JwtSecret::Configured(***)"),
            JwtSecret::Generated(_) => f.write_str("JwtSecret::Generated(***)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub jwt_secret: JwtSecret,
    pub token_ttl: Duration,
    pub open_registration: bool,
    pub cors_origins: Vec<String>,
    pub workers: usize,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://roster.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// The raw values, as strings, before parsing: from the environment, or from `serve`'s
/// flags of the same names (which win).
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub jwt_secret: Option<String>,
    pub token_ttl: Option<String>,
    pub open_registration: Option<String>,
    pub cors_origins: Option<String>,
    pub workers: Option<String>,
}

impl RawConfig {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok();
        RawConfig {
            database_url: var("DATABASE_URL"),
            bind: var("ROSTER_BIND"),
            jwt_secret: var("ROSTER_JWT_SECRET"),
            token_ttl: var("ROSTER_TOKEN_TTL"),
            open_registration: var("ROSTER_OPEN_REGISTRATION"),
            cors_origins: var("ROSTER_CORS_ORIGINS"),
            workers: var("ROSTER_WORKERS"),
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(RawConfig::from_env())
    }

    pub fn parse(raw: RawConfig) -> Result<Self, ConfigError> {
        let database_url = raw
            .database_url
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        crate::db::BackendKind::from_url(&database_url).map_err(|p| bad("DATABASE_URL", p))?;

        let bind_text = raw.bind.unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind = bind_text.parse::<SocketAddr>().map_err(|_| {
            bad(
                "ROSTER_BIND",
                format!("`{bind_text}` is not an address like 127.0.0.1:8080"),
            )
        })?;

        let jwt_secret = match raw.jwt_secret {
            Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES => {
                return Err(bad(
                    "ROSTER_JWT_SECRET",
                    format!(
                        "must be at least {MIN_JWT_SECRET_BYTES} bytes (it has {})",
                        secret.len()
                    ),
                ));
            }
            Some(secret) => JwtSecret::Configured(secret.into_bytes()),
            None => JwtSecret::Generated(crate::auth::random_bytes(48)),
        };

        let token_ttl = match raw.token_ttl {
            None => Duration::from_secs(3600),
            Some(text) => match text.trim().parse::<u64>() {
                Ok(secs) if (1..=31_536_000).contains(&secs) => Duration::from_secs(secs),
                _ => {
                    return Err(bad(
                        "ROSTER_TOKEN_TTL",
                        format!("`{text}` is not a number of seconds between 1 and 31536000"),
                    ));
                }
            },
        };

        let open_registration = match raw.open_registration.as_deref().map(str::trim) {
            None | Some("") | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(bad(
                    "ROSTER_OPEN_REGISTRATION",
                    format!("`{other}` is not `true` or `false`"),
                ));
            }
        };

        let mut cors_origins = Vec::new();
        for origin in raw.cors_origins.unwrap_or_default().split(',') {
            let origin = origin.trim();
            if origin.is_empty() {
                continue;
            }
            if origin == "*" || !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(bad(
                    "ROSTER_CORS_ORIGINS",
                    format!("`{origin}` is not an origin like https://app.example.com"),
                ));
            }
            cors_origins.push(origin.trim_end_matches('/').to_owned());
        }

        let workers = match raw.workers {
            None => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (1..=1024).contains(&n) => n,
                _ => {
                    return Err(bad(
                        "ROSTER_WORKERS",
                        format!("`{text}` is not a number of threads between 1 and 1024"),
                    ));
                }
            },
        };

        Ok(Config {
            database_url,
            bind,
            jwt_secret,
            token_ttl,
            open_registration,
            cors_origins,
            workers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let config = Config::parse(RawConfig::default()).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.bind.to_string(), DEFAULT_BIND);
        assert_eq!(config.token_ttl, Duration::from_secs(3600));
        assert!(!config.open_registration);
        assert!(matches!(config.jwt_secret, JwtSecret::Generated(_)));
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: Vec<(RawConfig, &str)> = vec![
            (
                RawConfig {
                    bind: Some("nope".into()),
                    ..Default::default()
                },
                "ROSTER_BIND",
            ),
            (
                RawConfig {
                    jwt_secret: Some("short".into()),
                    ..Default::default()
                },
                "ROSTER_JWT_SECRET",
            ),
            (
                RawConfig {
                    token_ttl: Some("-1".into()),
                    ..Default::default()
                },
                "ROSTER_TOKEN_TTL",
            ),
            (
                RawConfig {
                    open_registration: Some("yes please".into()),
                    ..Default::default()
                },
                "ROSTER_OPEN_REGISTRATION",
            ),
            (
                RawConfig {
                    cors_origins: Some("*".into()),
                    ..Default::default()
                },
                "ROSTER_CORS_ORIGINS",
            ),
            (
                RawConfig {
                    workers: Some("0".into()),
                    ..Default::default()
                },
                "ROSTER_WORKERS",
            ),
            (
                RawConfig {
                    database_url: Some("mysql://x".into()),
                    ..Default::default()
                },
                "DATABASE_URL",
            ),
        ];
        for (raw, variable) in cases {
            let err = Config::parse(raw).unwrap_err();
            assert_eq!(err.variable, variable);
            assert!(err.to_string().starts_with(variable));
        }
    }

    #[test]
    fn secret_is_never_printed() {
        let raw = RawConfig {
            jwt_secret: Some("a-very-secret-key-that-is-long-enough".into()),
            ..Default::default()
        };
        let config = Config::parse(raw).unwrap();
        assert!(!format!("{config:?}").contains("very-secret"));
    }
}
