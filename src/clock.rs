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

/// Reads an RFC 3339 time (`2026-11-23T10:00:00Z`), or a date alone as its midnight UTC.
pub fn parse_rfc3339(text: &str) -> Option<UnixTime> {
    let text = text.trim();
    let full = if text.len() == 10 { format!("{text}T00:00:00Z") } else { text.to_owned() };
    time::OffsetDateTime::parse(&full, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
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

    #[test]
    fn rfc3339_parsing_takes_times_and_dates_and_refuses_the_rest() {
        assert_eq!(parse_rfc3339("1970-01-02T00:00:00Z"), Some(86_400));
        assert_eq!(parse_rfc3339("1970-01-02"), Some(86_400));
        assert_eq!(parse_rfc3339(&format_rfc3339(1_800_000_000)), Some(1_800_000_000));
        for bad in ["", "yesterday", "1970-13-01", "1970-01-02T00:00:00"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
