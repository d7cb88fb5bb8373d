//! The server's notion of "now": system time, truncated to microseconds (PostgreSQL's
//! precision, so both backends store and return the same instants), plus an offset that
//! tests move forward to expire tokens and invitations without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DurationRound, NaiveDateTime, TimeDelta, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> NaiveDateTime {
        let now = Utc::now() + TimeDelta::seconds(self.offset_seconds.load(Ordering::Relaxed));
        now.duration_trunc(TimeDelta::microseconds(1))
            .unwrap_or(now)
            .naive_utc()
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}
