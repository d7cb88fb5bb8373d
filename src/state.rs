//! What every handler can reach: the database, the configuration, the token keys, the
//! clock and the base of every link. Built by `app.rs`; received by handlers as
//! `web::Data<AppState>`. It sits below the resources and the route table, so neither
//! needs the module that assembles the server.

use std::sync::Arc;

use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;

pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub tokens: TokenKeys,
    pub clock: Clock,
    /// `ROSTER_PUBLIC_URL` + `/api/v1`: what every link and `Location` starts with.
    pub links_base: String,
}
