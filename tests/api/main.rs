//! Black-box tests of the HTTP API: a real server per test on `127.0.0.1:0`, talked to
//! over HTTP, with a fresh database per test — SQLite by default, PostgreSQL when
//! `ROSTER_TEST_DATABASE_URL` is set (see `helpers/`).

mod account_memberships;
mod audit_include;
mod auth;
mod body_relationships;
mod consent;
mod devices;
mod hardening_protocol;
mod helpers;
mod lifecycle;
mod matrix;
mod openapi;
mod operations;
mod org;
mod process;
mod protocol;
mod queries;
mod query;
mod readable;
mod relationships;
mod snapshots;
mod team_memberships;
mod teams;
mod tenancy;
mod throttle;
mod timeouts;
mod users;
