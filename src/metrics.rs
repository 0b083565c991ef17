//! Prometheus metrics, in the OpenMetrics text format on `metrics_bind`: what operators
//! watch an identity provider for. Counters count since the process started; each instance
//! reports its own, and Prometheus adds them up.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::store::PoolUsage;

/// How a sign-in with a password ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// A session started (after the second factor, when one was needed).
    Success,
    /// Unknown username or wrong password.
    Failure,
    /// Refused unexamined: the address or the username is locked out.
    Throttled,
}

/// How a typed second-factor code was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaOutcome {
    Accepted,
    Wrong,
    Locked,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantType {
    grant_type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MailOutcome {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

/// The outbox as of a scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxUsage {
    pub queued: u64,
    pub failed: u64,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    tokens_issued: Family<GrantType, Counter>,
    logins: Family<Outcome, Counter>,
    mfa: Family<Outcome, Counter>,
    refresh_reuse: Counter,
    key_rotations: Counter,
    mail: Family<MailOutcome, Counter>,
    requests: Family<Route, Histogram>,
    db_connections: Family<StateLabel, Gauge>,
    outbox: Family<StateLabel, Gauge>,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to ~4 s: a JWKS answer at the bottom, a slow login at the top.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("wristband");
        let tokens_issued = Family::default();
        registry.register("tokens_issued", "Token responses issued, by grant type", tokens_issued.clone());
        let logins = Family::default();
        registry.register("logins", "Password sign-ins, by outcome (success, failure, throttled)", logins.clone());
        let mfa = Family::default();
        registry.register(
            "mfa_verifications",
            "Second-factor codes, by outcome (accepted, wrong, locked)",
            mfa.clone(),
        );
        let refresh_reuse = Counter::default();
        registry.register(
            "refresh_token_reuse_detected",
            "Used refresh tokens presented again; each revoked its family",
            refresh_reuse.clone(),
        );
        let key_rotations = Counter::default();
        registry.register("key_rotations", "Signing-key rotations made by this instance", key_rotations.clone());
        let mail = Family::default();
        registry.register(
            "mail_deliveries",
            "Outbox delivery attempts by this instance, by message kind and outcome (sent, retried, failed)",
            mail.clone(),
        );
        let requests = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route pattern, method and status",
            requests.clone(),
        );
        let db_connections = Family::default();
        registry.register(
            "db_connections",
            "Database pool connections: open, idle, and the pool's maximum",
            db_connections.clone(),
        );
        let outbox = Family::default();
        registry.register(
            "mail_outbox",
            "Outbox messages of all instances: queued (waiting or retried) and failed (given up on)",
            outbox.clone(),
        );
        Self {
            registry,
            tokens_issued,
            logins,
            mfa,
            refresh_reuse,
            key_rotations,
            mail,
            requests,
            db_connections,
            outbox,
        }
    }
}

impl Metrics {
    pub fn token_issued(&self, grant_type: &'static str) {
        self.tokens_issued.get_or_create(&GrantType { grant_type }).inc();
    }

    pub fn login(&self, outcome: LoginOutcome) {
        let outcome = match outcome {
            LoginOutcome::Success => "success",
            LoginOutcome::Failure => "failure",
            LoginOutcome::Throttled => "throttled",
        };
        self.logins.get_or_create(&Outcome { outcome }).inc();
    }

    pub fn mfa(&self, outcome: MfaOutcome) {
        let outcome = match outcome {
            MfaOutcome::Accepted => "accepted",
            MfaOutcome::Wrong => "wrong",
            MfaOutcome::Locked => "locked",
        };
        self.mfa.get_or_create(&Outcome { outcome }).inc();
    }

    pub fn refresh_reuse_detected(&self) {
        self.refresh_reuse.inc();
    }

    pub fn key_rotated(&self) {
        self.key_rotations.inc();
    }

    pub fn mail(&self, kind: &'static str, outcome: &'static str) {
        self.mail.get_or_create(&MailOutcome { kind, outcome }).inc();
    }

    /// `route` is the matched pattern (`/admin/users/{id}`), never the path itself, so the
    /// label set stays small whatever clients request.
    pub fn request(&self, route: String, method: &'static str, status: u16, took: Duration) {
        let labels = Route { route, method, status };
        self.requests.get_or_create(&labels).observe(took.as_secs_f64());
    }

    /// The exposition, with the pool's usage and the outbox as of now (the outbox's last
    /// figures when the database did not answer).
    pub fn render(&self, pool: PoolUsage, outbox: Option<OutboxUsage>) -> String {
        for (state, value) in [("open", pool.open), ("idle", pool.idle), ("max", pool.max)] {
            self.db_connections.get_or_create(&StateLabel { state }).set(i64::from(value));
        }
        if let Some(outbox) = outbox {
            for (state, value) in [("queued", outbox.queued), ("failed", outbox.failed)] {
                let value = i64::try_from(value).unwrap_or(i64::MAX);
                self.outbox.get_or_create(&StateLabel { state }).set(value);
            }
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_appear_in_the_exposition() {
        let metrics = Metrics::default();
        metrics.token_issued("refresh_token");
        metrics.token_issued("refresh_token");
        metrics.login(LoginOutcome::Failure);
        metrics.request("/token".to_owned(), "POST", 200, Duration::from_millis(3));
        let text = metrics.render(PoolUsage { open: 3, idle: 2, max: 8 }, Some(OutboxUsage { queued: 4, failed: 1 }));
        assert!(text.contains(r#"wristband_tokens_issued_total{grant_type="refresh_token"} 2"#), "{text}");
        assert!(text.contains(r#"wristband_logins_total{outcome="failure"} 1"#), "{text}");
        assert!(
            text.contains(
                r#"wristband_http_request_duration_seconds_count{route="/token",method="POST",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"wristband_db_connections{state="idle"} 2"#), "{text}");
        assert!(text.contains(r#"wristband_mail_outbox{state="queued"} 4"#), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
