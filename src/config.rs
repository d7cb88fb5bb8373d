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
    /// `None`: `http://` + the address the server listens on, known only once it is bound
    /// (`ROSTER_BIND` may ask for port 0).
    pub public_url: Option<PublicUrl>,
    /// How long a request's SQL may run before it is cancelled (503 `timeout`).
    pub statement_timeout: Duration,
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
    pub public_url: Option<String>,
    pub statement_timeout: Option<String>,
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
            public_url: var("ROSTER_PUBLIC_URL"),
            statement_timeout: var("ROSTER_STATEMENT_TIMEOUT"),
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

        let public_url = match raw.public_url {
            None => None,
            Some(text) => Some(PublicUrl::parse(&text).map_err(|p| bad("ROSTER_PUBLIC_URL", p))?),
        };

        let statement_timeout = match raw.statement_timeout {
            None => DEFAULT_STATEMENT_TIMEOUT,
            Some(text) => parse_duration(&text)
                .filter(|d| (Duration::from_millis(1)..=Duration::from_secs(3600)).contains(d))
                .ok_or_else(|| {
                    bad(
                        "ROSTER_STATEMENT_TIMEOUT",
                        format!(
                            "`{text}` is not a duration like 10s, 500ms or 2m between 1ms and 1h"
                        ),
                    )
                })?,
        };

        Ok(Config {
            database_url,
            bind,
            jwt_secret,
            token_ttl,
            open_registration,
            cors_origins,
            workers,
            public_url,
            statement_timeout,
        })
    }
}

pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// `500ms`, `10s`, `2m`; a bare number is seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    match unit.trim() {
        "ms" => Some(Duration::from_millis(number)),
        "" | "s" => Some(Duration::from_secs(number)),
        "m" | "min" => number.checked_mul(60).map(Duration::from_secs),
        _ => None,
    }
}

/// What every link and `Location` starts with: a scheme (`http` or `https`), a host and
/// an optional path prefix (for a service mounted under `/roster` by a proxy), without a
/// trailing `/`. It is configured rather than read from `Host` or `X-Forwarded-*`, which
/// any client can set: links must not point wherever a request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    const EXAMPLE: &str = "a URL like https://roster.example.com or https://example.com/roster";

    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        use actix_web::http::Uri;

        let text = text.trim();
        let example = Self::EXAMPLE;
        if text.is_empty() {
            return Err(format!("is empty; give {example}"));
        }
        // Checked on the text: the URI parser would drop a fragment without a word.
        if text.contains('#') {
            return Err(format!("`{text}` has a fragment (`#…`); give {example}"));
        }
        if text.contains('?') {
            return Err(format!("`{text}` has a query (`?…`); give {example}"));
        }
        let uri: Uri = text
            .parse()
            .map_err(|_| format!("`{text}` is not {example}"))?;
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => "http",
            Some(s) if s.eq_ignore_ascii_case("https") => "https",
            Some(other) => {
                return Err(format!(
                    "`{text}` has the scheme `{other}`; only http and https are allowed"
                ));
            }
            None => return Err(format!("`{text}` has no scheme; give {example}")),
        };
        let Some(authority) = uri.authority() else {
            return Err(format!("`{text}` has no host; give {example}"));
        };
        if authority.as_str().contains('@') {
            return Err(format!(
                "`{text}` has a user name or password; links must not carry credentials"
            ));
        }
        if authority.host().is_empty() {
            return Err(format!("`{text}` has no host; give {example}"));
        }
        if authority.as_str() != authority.host() && authority.port_u16().is_none() {
            return Err(format!(
                "`{text}` has a port that is not a number up to 65535"
            ));
        }
        let prefix = uri.path().trim_end_matches('/');
        Ok(PublicUrl(format!(
            "{scheme}://{}{prefix}",
            authority.as_str()
        )))
    }

    /// The default: `http://` + the address the server listens on.
    pub fn of_address(address: SocketAddr) -> PublicUrl {
        PublicUrl(format!("http://{address}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
        assert_eq!(config.statement_timeout, Duration::from_secs(10));
    }

    #[test]
    fn statement_timeouts_take_a_unit() {
        let parse = |text: &str| {
            Config::parse(RawConfig {
                statement_timeout: Some(text.into()),
                ..Default::default()
            })
            .map(|c| c.statement_timeout)
        };
        assert_eq!(parse("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse(" 250ms ").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse("30").unwrap(), Duration::from_secs(30));
        for bad in [
            "",
            "0",
            "0ms",
            "-1s",
            "1h",
            "2hours",
            "1.5s",
            "s",
            "99999999999999999999",
        ] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(error.contains("ROSTER_STATEMENT_TIMEOUT"), "{bad}: {error}");
        }
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
                    public_url: Some("ftp://example.com".into()),
                    ..Default::default()
                },
                "ROSTER_PUBLIC_URL",
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
    fn public_url_takes_http_or_https_a_host_and_a_path_prefix() {
        let ok = [
            ("https://roster.example.com", "https://roster.example.com"),
            ("https://roster.example.com/", "https://roster.example.com"),
            ("https://example.com/roster", "https://example.com/roster"),
            ("https://example.com/roster/", "https://example.com/roster"),
            ("HTTP://example.com:8080/a/b", "http://example.com:8080/a/b"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://[::1]:3000/", "http://[::1]:3000"),
            (" https://example.com ", "https://example.com"),
        ];
        for (text, expected) in ok {
            assert_eq!(
                PublicUrl::parse(text).map(|u| u.as_str().to_owned()),
                Ok(expected.to_owned()),
                "{text}"
            );
        }
        let bad = [
            "",
            "   ",
            "example.com",
            "/roster",
            "ftp://example.com",
            "javascript://example.com",
            "https://",
            "https:///roster",
            "https://example.com/roster?x=1",
            "https://example.com/?",
            "https://example.com/#top",
            "https://example.com#",
            "https://user:secret@example.com",
            "https://user@example.com",
            "https://exa mple.com",
            "https://example.com:99999",
            "https://example.com:port",
        ];
        for text in bad {
            assert!(PublicUrl::parse(text).is_err(), "{text:?} was accepted");
            let raw = RawConfig {
                public_url: Some(text.into()),
                ..Default::default()
            };
            let err = Config::parse(raw).expect_err(text);
            assert_eq!(err.variable, "ROSTER_PUBLIC_URL");
        }
    }

    #[test]
    fn public_url_defaults_to_the_bound_address() {
        assert_eq!(
            Config::parse(RawConfig::default()).unwrap().public_url,
            None
        );
        let address: SocketAddr = "127.0.0.1:41234".parse().unwrap();
        assert_eq!(
            PublicUrl::of_address(address).as_str(),
            "http://127.0.0.1:41234"
        );
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
