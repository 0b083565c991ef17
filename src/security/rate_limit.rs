//! In-memory rate limits: a token bucket per key (an IP address, a client id) that holds
//! `burst` requests and refills at `burst / period`. Per instance by design; the account
//! lockout, which must hold across instances, lives in the database.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::UnixTime;
use crate::config::RateLimitSettings;

/// Keys tracked before full buckets are forgotten; past this after forgetting, a new key
/// is let through untracked rather than evicting someone who is being limited.
const MAX_KEYS: usize = 100_000;

/// `burst` requests per `period_seconds`, refilled evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub burst: u32,
    pub period_seconds: i64,
}

impl RateLimit {
    fn refill_per_second(self) -> f64 {
        f64::from(self.burst) / self.period_seconds as f64
    }
}

/// Refused: try again after this many seconds (the `Retry-After` value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_seconds: i64,
}

impl Throttled {
    /// Refused until `until`.
    pub fn until(until: UnixTime, now: UnixTime) -> Self {
        Self { retry_after_seconds: (until - now).max(1) }
    }

    /// The wait in whole minutes, rounded up, as people read it: "1 minute", "15 minutes".
    pub fn wait_in_minutes(self) -> String {
        match (self.retry_after_seconds.max(1) + 59) / 60 {
            1 => "1 minute".to_owned(),
            minutes => format!("{minutes} minutes"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: UnixTime,
}

/// The limits an instance applies (`[rate_limits]`).
#[derive(Debug)]
pub struct RateLimits {
    /// Failed sign-ins per client IP address.
    pub login_failures_per_ip: Limiter,
    pub authorize_per_ip: Limiter,
    pub token_per_client: Limiter,
    pub token_per_ip: Limiter,
    pub introspect_per_client: Limiter,
    /// "Forgot your password?" requests per client IP address.
    pub password_reset_per_ip: Limiter,
    /// Sign-ups per client IP address.
    pub registration_per_ip: Limiter,
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            login_failures_per_ip: Limiter::new(settings.login_failures_per_ip),
            authorize_per_ip: Limiter::new(settings.authorize_per_ip),
            token_per_client: Limiter::new(settings.token_per_client),
            token_per_ip: Limiter::new(settings.token_per_ip),
            introspect_per_client: Limiter::new(settings.introspect_per_client),
            password_reset_per_ip: Limiter::new(settings.password_reset_per_ip),
            registration_per_ip: Limiter::new(settings.registration_per_ip),
        }
    }
}

/// One limit applied per key. `None` as the limit turns it off.
#[derive(Debug)]
pub struct Limiter {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self { limit, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from `key`'s bucket, or says how long until one is there.
    pub fn acquire(&self, key: &str, now: UnixTime) -> Result<(), Throttled> {
        self.update(key, now)
    }

    /// Gives back a request taken by `acquire` that turned out not to count (a right
    /// password, where only failures are limited). Never above the burst.
    pub fn refund(&self, key: &str) {
        let Some(limit) = self.limit else { return };
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(bucket) = buckets.get_mut(key) {
            bucket.tokens = (bucket.tokens + 1.0).min(f64::from(limit.burst));
        }
    }

    fn update(&self, key: &str, now: UnixTime) -> Result<(), Throttled> {
        let Some(limit) = self.limit else { return Ok(()) };
        self.with_bucket(key, now, limit, |bucket| {
            if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
                Ok(())
            } else {
                let wait = (1.0 - bucket.tokens) / limit.refill_per_second();
                Err(Throttled { retry_after_seconds: (wait.ceil() as i64).max(1) })
            }
        })
        .unwrap_or(Ok(()))
    }

    /// Runs `f` on `key`'s bucket, refilled up to `now`; `None` when the key could not be
    /// tracked.
    fn with_bucket<T>(
        &self,
        key: &str,
        now: UnixTime,
        limit: RateLimit,
        f: impl FnOnce(&mut Bucket) -> T,
    ) -> Option<T> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let full = f64::from(limit.burst);
        if !buckets.contains_key(key) && buckets.len() >= MAX_KEYS {
            buckets.retain(|_, bucket| refilled(*bucket, now, limit) < full);
            if buckets.len() >= MAX_KEYS {
                tracing::warn!(keys = buckets.len(), "rate limiter full; a new key goes untracked");
                return None;
            }
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: full, updated: now });
        *bucket = Bucket { tokens: refilled(*bucket, now, limit), updated: now.max(bucket.updated) };
        Some(f(bucket))
    }
}

fn refilled(bucket: Bucket, now: UnixTime, limit: RateLimit) -> f64 {
    let elapsed = (now - bucket.updated).max(0) as f64;
    (bucket.tokens + elapsed * limit.refill_per_second()).min(f64::from(limit.burst))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(burst: u32, period_seconds: i64) -> Option<RateLimit> {
        Some(RateLimit { burst, period_seconds })
    }

    #[test]
    fn a_burst_then_an_even_refill() {
        let limiter = Limiter::new(limit(3, 30));
        for _ in 0..3 {
            assert_eq!(limiter.acquire("ip", 100), Ok(()));
        }
        assert_eq!(limiter.acquire("ip", 100), Err(Throttled { retry_after_seconds: 10 }));
        assert_eq!(limiter.acquire("other", 100), Ok(()), "keys are independent");
        assert_eq!(limiter.acquire("ip", 110), Ok(()));
        assert!(limiter.acquire("ip", 110).is_err());
    }

    #[test]
    fn a_refund_gives_back_one_request_and_never_more_than_the_burst() {
        let limiter = Limiter::new(limit(2, 60));
        assert_eq!(limiter.acquire("ip", 0), Ok(()));
        assert_eq!(limiter.acquire("ip", 0), Ok(()));
        assert!(limiter.acquire("ip", 0).is_err());
        limiter.refund("ip");
        assert_eq!(limiter.acquire("ip", 0), Ok(()));
        for _ in 0..5 {
            limiter.refund("ip");
        }
        assert_eq!(limiter.acquire("ip", 0), Ok(()));
        assert_eq!(limiter.acquire("ip", 0), Ok(()));
        assert!(limiter.acquire("ip", 0).is_err(), "refunds stop at the burst");
    }

    #[test]
    fn waits_read_in_whole_minutes_rounded_up() {
        assert_eq!(Throttled::until(1_900, 1_000).wait_in_minutes(), "15 minutes");
        assert_eq!(Throttled::until(1_001, 1_000).wait_in_minutes(), "1 minute");
        assert_eq!(Throttled::until(1_000, 1_000), Throttled { retry_after_seconds: 1 });
    }

    #[test]
    fn off_lets_everything_through() {
        let limiter = Limiter::new(None);
        for _ in 0..1000 {
            assert_eq!(limiter.acquire("ip", 0), Ok(()));
        }
    }
}
