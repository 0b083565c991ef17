//! Verifies access tokens issued by wristband, for Rust services. Give it the issuer and
//! the identifier of the API the service is (registered with `wristband api add`; RFC
//! 8707): wristband puts it in the `aud` of every token issued for that API, so a token an
//! application got for another API is refused here. It checks each token the way
//! wristband itself does (DESIGN.md, Tokens: verification everywhere):
//!
//! - the keys come from the JWKS that the issuer's discovery document names, never from a
//!   token's header (`jku`, `x5u`, `jwk` and `x5c` are ignored);
//! - the JWKS is cached for its `Cache-Control: max-age`; a token naming a key the cache
//!   does not hold makes it fetch the JWKS again, at most once per
//!   [`Options::unknown_kid_refetch_interval`];
//! - RS256 only, whatever the token says; `typ` must be `at+jwt` (RFC 9068 §2.1), so an ID
//!   token is not an access token; `crit` is refused;
//! - `iss`, `aud`, `exp`, `nbf` and `iat`, with [`Options::leeway`] for clock skew.
//!
//! It also describes the service to clients that know only its URL: the OAuth Protected
//! Resource Metadata of RFC 9728 ([`Verifier::resource_metadata`], served at
//! [`Verifier::resource_metadata_url`]), which the actix-web extractor names in the
//! `WWW-Authenticate` header of every refusal.
//!
//! ```no_run
//! # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use wristband_verifier::Verifier;
//!
//! let verifier = Verifier::discover("https://id.example.com", "https://orders.example.com").await?;
//! let access = verifier.verify(token).await?;
//! if access.has_scope("orders:read") {
//!     println!("{} may read orders", access.subject);
//! }
//! # Ok(()) }
//! ```
//!
//! A token stays valid until it expires: revocation is something only introspection
//! (`/introspect`) can tell, at the cost of a request per check.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo))]

#[cfg(feature = "actix")]
mod actix;
mod claims;
mod header;
mod jwks;

use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "actix")]
pub use actix::{AuthError, Authenticated, Refusal};
pub use claims::AccessToken;

use jwks::KeyCache;

/// How strict and how chatty the verifier is.
#[derive(Debug, Clone)]
pub struct Options {
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// A token with an unknown `kid` fetches the JWKS again at most this often, so that
    /// made-up key ids cannot turn into a flood of requests to the issuer.
    pub unknown_kid_refetch_interval: Duration,
    /// How long a JWKS without `Cache-Control: max-age` is kept.
    pub default_max_age: Duration,
    /// Timeout of each request to the issuer.
    pub http_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(60),
            unknown_kid_refetch_interval: Duration::from_secs(5),
            default_max_age: Duration::from_secs(300),
            http_timeout: Duration::from_secs(5),
        }
    }
}

/// Why a verifier could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("cannot fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("the discovery document names the issuer {found}, not {expected}")]
    IssuerMismatch { expected: String, found: String },
    #[error("the JWKS at {url} holds no RS256 signing key")]
    NoKeys { url: String },
}

/// Why a token was refused. The messages are for logs; tell clients only that the token is
/// invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a JWS in compact form: {0}")]
    Malformed(&'static str),
    #[error("algorithm {0:?} is not RS256")]
    Algorithm(Option<String>),
    #[error("type {0:?} is not at+jwt")]
    Type(Option<String>),
    #[error("no published key has this kid")]
    UnknownKey,
    #[error("the signature does not verify")]
    Signature,
    #[error("the claims are malformed: {0}")]
    Claims(String),
    #[error("issued by another issuer")]
    Issuer,
    #[error("meant for another audience")]
    Audience,
    #[error("expired")]
    Expired,
    #[error("not valid yet")]
    NotYetValid,
    #[error("issued in the future")]
    IssuedInFuture,
}

/// Verifies access tokens of one issuer for one audience. Cheap to clone: clones share
/// the key cache.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audience: String,
    leeway_seconds: i64,
    keys: KeyCache,
}

#[derive(serde::Deserialize)]
struct ProviderMetadata {
    issuer: String,
    jwks_uri: String,
}

impl Verifier {
    /// Reads the issuer's discovery document and its JWKS, with the default [`Options`].
    /// `api` is the service's API identifier, the `aud` its tokens carry.
    pub async fn discover(issuer: &str, api: &str) -> Result<Self, DiscoveryError> {
        Self::discover_with(issuer, api, Options::default()).await
    }

    pub async fn discover_with(issuer: &str, api: &str, options: Options) -> Result<Self, DiscoveryError> {
        let issuer = issuer.trim_end_matches('/');
        let http = reqwest::Client::builder()
            .timeout(options.http_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DiscoveryError::Fetch { url: issuer.to_owned(), reason: e.to_string() })?;
        let url = format!("{issuer}/.well-known/openid-configuration");
        let fetch_error = |reason: String| DiscoveryError::Fetch { url: url.clone(), reason };
        let response = http.get(&url).send().await.map_err(|e| fetch_error(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fetch_error(format!("HTTP {}", response.status())));
        }
        let body = response.bytes().await.map_err(|e| fetch_error(e.to_string()))?;
        let metadata: ProviderMetadata = serde_json::from_slice(&body).map_err(|e| fetch_error(e.to_string()))?;
        // OIDC Discovery §4.3: the document must name the issuer it was fetched for.
        if metadata.issuer != issuer {
            return Err(DiscoveryError::IssuerMismatch { expected: issuer.to_owned(), found: metadata.issuer });
        }
        let keys = KeyCache::new(http, metadata.jwks_uri, options.clone());
        keys.load().await?;
        let leeway_seconds = i64::try_from(options.leeway.as_secs()).unwrap_or(i64::MAX);
        Ok(Self {
            inner: Arc::new(Inner { issuer: issuer.to_owned(), audience: api.to_owned(), leeway_seconds, keys }),
        })
    }

    /// The token's claims when it is a valid access token for this audience.
    pub async fn verify(&self, token: &str) -> Result<AccessToken, VerifyError> {
        let kid = header::checked_kid(token)?;
        let key = self.inner.keys.verifier_for(&kid).await?;
        let (payload, _) =
            josekit::jws::deserialize_compact(token, key.as_ref()).map_err(|_| VerifyError::Signature)?;
        let token = AccessToken::from_payload(&payload)?;
        token.check(&self.inner.issuer, &self.inner.audience, claims::now(), self.inner.leeway_seconds)?;
        Ok(token)
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The API identifier tokens must carry as `aud`.
    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    /// The service's OAuth Protected Resource Metadata (RFC 9728 §2): which authorization
    /// server issues its tokens, and the scopes it understands.
    pub fn resource_metadata(&self, scopes_supported: &[&str]) -> serde_json::Value {
        serde_json::json!({
            "resource": self.inner.audience,
            "authorization_servers": [self.inner.issuer],
            "scopes_supported": scopes_supported,
            "bearer_methods_supported": ["header"],
        })
    }

    /// Where the metadata is served (RFC 9728 §3.1): `/.well-known/oauth-protected-resource`
    /// between the host and any path of the API identifier.
    pub fn resource_metadata_url(&self) -> String {
        resource_metadata_url(&self.inner.audience)
    }
}

fn resource_metadata_url(identifier: &str) -> String {
    const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
    let (scheme, rest) = identifier.split_once("://").unwrap_or(("https", identifier));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    match rest.split_once('/') {
        Some((authority, path)) if !path.is_empty() => format!("{scheme}://{authority}{WELL_KNOWN}/{path}"),
        Some((authority, _)) => format!("{scheme}://{authority}{WELL_KNOWN}"),
        None => format!("{scheme}://{rest}{WELL_KNOWN}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_metadata_url_puts_the_well_known_part_before_the_path() {
        let url = super::resource_metadata_url;
        assert_eq!(
            url("https://orders.example.com"),
            "https://orders.example.com/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            url("https://orders.example.com/"),
            "https://orders.example.com/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            url("http://127.0.0.1:9100/api/v1"),
            "http://127.0.0.1:9100/.well-known/oauth-protected-resource/api/v1"
        );
    }
}
