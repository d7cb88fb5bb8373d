//! The harness: a real server on `127.0.0.1:0` with a fresh database per test (a SQLite
//! file in a temporary directory, or a new PostgreSQL database when
//! `ROSTER_TEST_DATABASE_URL` is set), an HTTP client speaking JSON:API, and fixtures
//! that seed what the API cannot create yet.
//!
//! Test files `use crate::helpers::*;` and get all of it from here:
//!
//! - `database`: `TestDatabase`, `TestApp` and starting and stopping servers;
//! - `client`: requests, `Resp`, the JSON:API constants and document readers;
//! - `fixtures`: accounts, users, guests, teams, devices and the audit log;
//! - `normalize`: snapshot normalisation and the contract timestamp format.

mod client;
mod database;
mod fixtures;
mod normalize;

pub use client::*;
pub use database::*;
pub use fixtures::*;
pub use normalize::*;
