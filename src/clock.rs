//! Time as the protocol sees it: unix seconds from an injectable clock, so that expiry
//! rules (codes, sessions, refresh families, key states) are tested by moving a
//! `FixedClock`, never by sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the unix epoch, the unit of every `exp`, `iat` and `*_at` column.
pub type UnixTime = i64;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> UnixTime;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<AtomicI64>);

impl FixedClock {
    pub fn new(now: UnixTime) -> Self {
        Self(Arc::new(AtomicI64::new(now)))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        self.0.load(Ordering::SeqCst)
    }
}

/// Formats a unix time as RFC 3339 for people (CLI output, pages).
pub fn format_rfc3339(at: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_clones_share_time() {
        let clock = FixedClock::new(1_000);
        let other = clock.clone();
        clock.advance(60);
        assert_eq!(other.now(), 1_060);
    }

    #[test]
    fn rfc3339_formatting_is_utc() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
