//! Back-Channel Logout 1.0: when a browser session ends, each client that took part in it
//! and registered a `backchannel_logout_uri` receives a signed logout token by form POST.
//! Jobs come from a durable queue (written with the session's end); failures are retried
//! with exponential backoff, and any instance may deliver.

use std::time::Duration;

use super::error::FlowError;
use crate::clock::{Clock, UnixTime};
use crate::keys::Keystore;
use crate::store::{AuditEvent, LogoutJob, Store};
use crate::tokens::{BACKCHANNEL_LOGOUT_EVENT, LogoutTokenClaims, sign_logout_token};

/// Delivery attempts before a notification is abandoned (and audited).
pub const MAX_ATTEMPTS: u32 = 8;
/// How long a claimed job is reserved for the instance that claimed it.
const LEASE_SECONDS: i64 = 60;
/// How long a logout token is valid: delivery is immediate, retries sign anew.
const LOGOUT_TOKEN_SECONDS: i64 = 120;
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The wait before attempt `n + 1` after `n` failures: 5 s, 10 s, 20 s, … at most an hour.
pub fn backoff_seconds(failures: u32) -> i64 {
    (5_i64 << failures.saturating_sub(1).min(10)).min(3_600)
}

/// What delivery needs; built once by the worker.
pub struct Deliverer<'a> {
    pub store: &'a Store,
    pub keystore: &'a Keystore,
    pub clock: &'a dyn Clock,
    pub issuer: &'a str,
    pub http: &'a reqwest::Client,
}

impl Deliverer<'_> {
    /// Delivers the jobs that are due; returns how many were delivered.
    pub async fn deliver_due(&self) -> Result<usize, FlowError> {
        let mut delivered = 0;
        for job in self.store.due_logout_jobs(self.clock.now(), 20).await? {
            if !self.store.claim_logout_job(&job, self.clock.now() + LEASE_SECONDS).await? {
                continue;
            }
            if self.deliver(&job).await? {
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    async fn deliver(&self, job: &LogoutJob) -> Result<bool, FlowError> {
        let now = self.clock.now();
        let uri = self.store.find_client(&job.client_id).await?.and_then(|c| c.backchannel_logout_uri);
        let Some(uri) = uri else {
            // The client was removed or no longer listens: nobody to tell.
            self.store.finish_logout_job(job.id).await?;
            return Ok(false);
        };
        let token = sign_logout_token(&self.keystore.current(), &self.claims(job, now))?;
        let outcome = self.http.post(uri.as_str()).form(&[("logout_token", token.as_str())]).send().await;
        let error = match outcome {
            Ok(response) if response.status().is_success() => {
                self.store.finish_logout_job(job.id).await?;
                return Ok(true);
            }
            Ok(response) => format!("HTTP {}", response.status().as_u16()),
            Err(err) => err.to_string(),
        };
        let failures = job.attempts + 1;
        if failures >= MAX_ATTEMPTS {
            self.store.finish_logout_job(job.id).await?;
            let event = AuditEvent::new("backchannel_logout_failed")
                .user(job.user_id)
                .client(job.client_id.as_str())
                .details(serde_json::json!({ "sid": job.sid, "attempts": failures, "error": error }));
            self.store.record_audit(event, now).await?;
        } else {
            tracing::info!(client = %job.client_id, %error, failures, "back-channel logout failed; will retry");
            self.store.retry_logout_job(job.id, now + backoff_seconds(failures), &error).await?;
        }
        Ok(false)
    }

    fn claims(&self, job: &LogoutJob, now: UnixTime) -> LogoutTokenClaims {
        LogoutTokenClaims {
            iss: self.issuer.to_owned(),
            aud: job.client_id.to_string(),
            iat: now,
            exp: now + LOGOUT_TOKEN_SECONDS,
            jti: uuid::Uuid::new_v4().to_string(),
            sub: job.user_id.to_string(),
            sid: job.sid.to_string(),
            events: serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: {} }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_seconds;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!([1, 2, 3, 4].map(backoff_seconds), [5, 10, 20, 40]);
        assert_eq!(backoff_seconds(30), 3_600);
    }
}
