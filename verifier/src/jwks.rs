//! The issuer's public keys: fetched from `jwks_uri`, kept for the `max-age` the response
//! allows, and fetched again early when a token names a key not held. A key that leaves the
//! JWKS (retired for good, or revoked) is never trusted again by this cache, even if a
//! replica that has not caught up yet still publishes it; and the JWKS is fetched again
//! soon after such a removal, since a revocation usually comes with other changes.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use josekit::jwk::JwkSet;
use josekit::jws::{JwsVerifier, RS256};

use crate::{DiscoveryError, Options, VerifyError};

/// The longest a JWKS is kept, whatever its `max-age` says.
const MAX_AGE_CAP: Duration = Duration::from_secs(24 * 3600);

/// A verifier per `kid`.
type Verifiers = HashMap<String, Arc<dyn JwsVerifier>>;

/// A JWKS as fetched: its verifiers, and how long they may be kept.
struct Fetched {
    verifiers: Verifiers,
    max_age: Duration,
}

pub(crate) struct KeyCache {
    http: reqwest::Client,
    jwks_uri: String,
    options: Options,
    held: RwLock<Held>,
    /// One fetch at a time; the others wait for its result instead of fetching too.
    fetching: tokio::sync::Mutex<()>,
}

struct Held {
    verifiers: Verifiers,
    fresh_until: Instant,
    last_attempt: Instant,
    /// Key ids that were held and then left a fetched JWKS: an issuer never brings a key
    /// id back, so seeing one again means a stale copy of the set.
    withdrawn: HashSet<String>,
}

impl Held {
    fn lookup(&self, kid: &str) -> Option<Arc<dyn JwsVerifier>> {
        self.verifiers.get(kid).cloned()
    }
}

impl KeyCache {
    pub(crate) fn new(http: reqwest::Client, jwks_uri: String, options: Options) -> Self {
        let now = Instant::now();
        let held = Held { verifiers: HashMap::new(), fresh_until: now, last_attempt: now, withdrawn: HashSet::new() };
        Self { http, jwks_uri, options, held: RwLock::new(held), fetching: tokio::sync::Mutex::new(()) }
    }

    /// The first fetch, which must succeed.
    pub(crate) async fn load(&self) -> Result<(), DiscoveryError> {
        let fetched =
            self.fetch().await.map_err(|reason| DiscoveryError::Fetch { url: self.jwks_uri.clone(), reason })?;
        if fetched.verifiers.is_empty() {
            return Err(DiscoveryError::NoKeys { url: self.jwks_uri.clone() });
        }
        self.store(Some(fetched));
        Ok(())
    }

    /// The RS256 verifier of `kid`, refreshing the JWKS first when it has gone stale, or
    /// when `kid` is unknown and the last fetch is long enough ago.
    pub(crate) async fn verifier_for(&self, kid: &str) -> Result<Arc<dyn JwsVerifier>, VerifyError> {
        let now = Instant::now();
        if self.read(|held| now >= held.fresh_until) {
            self.refresh_if(|held| Instant::now() >= held.fresh_until).await;
        }
        if let Some(verifier) = self.read(|held| held.lookup(kid)) {
            return Ok(verifier);
        }
        let interval = self.options.unknown_kid_refetch_interval;
        let may_refetch = |held: &Held| held.lookup(kid).is_none() && held.last_attempt.elapsed() >= interval;
        if self.read(may_refetch) {
            self.refresh_if(may_refetch).await;
        }
        self.read(|held| held.lookup(kid)).ok_or(VerifyError::UnknownKey)
    }

    /// Fetches when `needed` still holds once this task's turn comes: whoever fetched
    /// meanwhile may have made it unnecessary. A failed fetch keeps the keys held (a
    /// verifier that loses its issuer for a moment keeps verifying) and is retried no
    /// sooner than the unknown-kid interval.
    async fn refresh_if(&self, needed: impl Fn(&Held) -> bool) {
        let _turn = self.fetching.lock().await;
        if !self.read(&needed) {
            return;
        }
        let fetched = self.fetch().await.ok();
        self.store(fetched);
    }

    fn store(&self, fetched: Option<Fetched>) {
        let now = Instant::now();
        let mut held = self.held.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        held.last_attempt = now;
        match fetched {
            Some(mut fetched) => {
                let gone: Vec<String> =
                    held.verifiers.keys().filter(|kid| !fetched.verifiers.contains_key(*kid)).cloned().collect();
                let max_age = if gone.is_empty() {
                    fetched.max_age
                } else {
                    fetched.max_age.min(self.options.unknown_kid_refetch_interval)
                };
                held.withdrawn.extend(gone);
                fetched.verifiers.retain(|kid, _| !held.withdrawn.contains(kid));
                held.verifiers = fetched.verifiers;
                held.fresh_until = now + max_age;
            }
            None => held.fresh_until = now + self.options.unknown_kid_refetch_interval,
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Held) -> T) -> T {
        f(&self.held.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    async fn fetch(&self) -> Result<Fetched, String> {
        let response = self.http.get(&self.jwks_uri).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .and_then(max_age)
            .unwrap_or(self.options.default_max_age)
            .min(MAX_AGE_CAP);
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        Ok(Fetched { verifiers: rs256_verifiers(&body)?, max_age })
    }
}

/// A verifier per `kid` for the RSA signing keys of a JWKS; other keys are skipped.
fn rs256_verifiers(body: &[u8]) -> Result<Verifiers, String> {
    let set = JwkSet::from_bytes(body).map_err(|e| e.to_string())?;
    let mut verifiers = Verifiers::new();
    for jwk in set.keys() {
        let usable = jwk.key_type() == "RSA"
            && jwk.algorithm().is_none_or(|alg| alg == "RS256")
            && jwk.key_use().is_none_or(|key_use| key_use == "sig");
        let (true, Some(kid)) = (usable, jwk.key_id().filter(|kid| !kid.is_empty())) else { continue };
        if let Ok(verifier) = RS256.verifier_from_jwk(jwk) {
            verifiers.insert(kid.to_owned(), Arc::new(verifier));
        }
    }
    Ok(verifiers)
}

/// `max-age` of a `Cache-Control` value (RFC 9111 §5.2.2.1); `no-store` and `no-cache`
/// mean none.
fn max_age(value: &str) -> Option<Duration> {
    let mut found = None;
    for directive in value.split(',').map(str::trim) {
        let (name, argument) = directive.split_once('=').unwrap_or((directive, ""));
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            found = argument.trim_matches('"').parse().ok().map(Duration::from_secs);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("public, max-age=300, must-revalidate"), Some(Duration::from_secs(300)));
        assert_eq!(max_age("Max-Age=\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }

    #[test]
    fn only_rsa_signing_keys_with_a_kid_become_verifiers() {
        let key = RS256.generate_key_pair(2048).unwrap();
        let mut public = key.to_jwk_public_key();
        public.set_key_id("rsa");
        let mut no_kid = key.to_jwk_public_key();
        no_kid.set_key_id("");
        let mut encryption = key.to_jwk_public_key();
        encryption.set_key_id("enc");
        encryption.set_key_use("enc");
        let mut other_alg = key.to_jwk_public_key();
        other_alg.set_key_id("ps");
        other_alg.set_algorithm("PS256");
        let body = serde_json::json!({ "keys": [
            serde_json::Value::from(public.as_ref().clone()),
            serde_json::Value::from(no_kid.as_ref().clone()),
            serde_json::Value::from(encryption.as_ref().clone()),
            serde_json::Value::from(other_alg.as_ref().clone()),
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        ]});
        let verifiers = rs256_verifiers(body.to_string().as_bytes()).unwrap();
        let mut kids: Vec<&String> = verifiers.keys().collect();
        kids.sort();
        assert_eq!(kids, ["rsa"]);
        assert!(rs256_verifiers(b"not json").is_err());
    }
}
