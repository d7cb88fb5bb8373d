//! roster: a self-hostable, JSON:API-native service for users, accounts, teams and
//! memberships. `main.rs` is only the command line; everything else is here so that the
//! tests build the very same server (`app::Application::build`).

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod jsonapi;
pub mod policy;
pub mod resources;
pub mod routes;
pub mod state;
