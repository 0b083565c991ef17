//! Talking to an upstream over HTTP: its discovery document (OIDC Discovery 1.0), its
//! keys, the code exchange and the user document. Discovery documents and key sets are
//! cached per process: discovery for an hour (and refreshed on a schedule), keys until a
//! token names one they lack, which refetches them (at most every ten seconds, so a
//! stream of forged `kid`s cannot make wristband hammer the upstream).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use josekit::jwk::JwkSet;
use serde::Deserialize;
use tokio::sync::OnceCell;
use url::Url;

use crate::clock::UnixTime;
use crate::model::{Upstream, UpstreamProtocol};
use crate::security::secret::SecretString;
use crate::store::{RECORD_CACHE_TTL, Store, StoreError};

/// How long a discovery document is used before it is fetched again.
pub const DISCOVERY_SECONDS: i64 = 3_600;
/// How long a key set is used, when no token names a key it lacks.
const KEYS_SECONDS: i64 = 3_600;
/// The least time between two fetches of one key set.
const KEYS_REFETCH_SECONDS: i64 = 10;
/// Each request to an upstream, connection included.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest document read from an upstream.
const MAX_BODY_BYTES: usize = 512 * 1024;

/// What went wrong talking to an upstream (for the log and the audit; the person sees a
/// sentence).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("{url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("{url} sent an invalid document: {reason}")]
    Invalid { url: String, reason: String },
}

/// The members of an OpenID Provider's metadata that wristband uses.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub userinfo_endpoint: Option<Url>,
    pub jwks_uri: Url,
    pub end_session_endpoint: Option<Url>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

/// Where and how to talk to one upstream, whichever its protocol.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub authorization: Url,
    pub token: Url,
    pub userinfo: Option<Url>,
    /// OIDC only: the keys, and the issuer its ID tokens must name.
    pub jwks_uri: Option<Url>,
    pub issuer: Option<String>,
    pub end_session: Option<Url>,
    /// Send the client secret in the form (`client_secret_post`) instead of Basic.
    pub secret_in_form: bool,
}

/// The answer of a token endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub id_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenErrorResponse {
    error: String,
    error_description: Option<String>,
}

struct Cached<T> {
    value: Arc<T>,
    fetched_at: UnixTime,
}

/// The process's view of its upstreams: an HTTP client and the documents fetched.
#[derive(Default)]
pub struct UpstreamDirectory {
    http: OnceCell<reqwest::Client>,
    discovered: Mutex<HashMap<String, Cached<ProviderMetadata>>>,
    keys: Mutex<HashMap<String, Cached<JwkSet>>>,
    /// The login page's buttons, read at most every `RECORD_CACHE_TTL`.
    buttons: Mutex<Option<(Instant, Arc<Vec<LoginButton>>)>>,
}

/// A login page's "Sign in with ..." button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginButton {
    pub name: String,
    pub display_name: String,
}

impl std::fmt::Debug for UpstreamDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamDirectory").finish_non_exhaustive()
    }
}

fn invalid(url: &Url, reason: impl std::fmt::Display) -> ProviderError {
    ProviderError::Invalid { url: url.to_string(), reason: reason.to_string() }
}

/// https, or http on a loopback host (a provider on the same machine).
pub fn check_endpoint(url: &Url) -> Result<(), String> {
    let loopback = match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!("{url} must use https:// (http:// only on a loopback host)")),
    }
}

impl UpstreamDirectory {
    /// The upstreams configured, as buttons: from a copy at most `RECORD_CACHE_TTL` old,
    /// so an upstream added by the CLI or another instance appears within seconds, and a
    /// removed one fails at its start page in the meantime.
    pub async fn buttons(&self, store: &Store) -> Result<Arc<Vec<LoginButton>>, StoreError> {
        if let Some((read_at, buttons)) = lock(&self.buttons).as_ref()
            && read_at.elapsed() < RECORD_CACHE_TTL
        {
            return Ok(Arc::clone(buttons));
        }
        let buttons: Vec<LoginButton> = store
            .list_upstreams()
            .await?
            .into_iter()
            .map(|u| LoginButton { name: u.name.to_string(), display_name: u.display_name })
            .collect();
        let buttons = Arc::new(buttons);
        *lock(&self.buttons) = Some((Instant::now(), Arc::clone(&buttons)));
        Ok(buttons)
    }

    /// Forgets the buttons, after this process changed the upstreams.
    pub fn forget_buttons(&self) {
        *lock(&self.buttons) = None;
    }

    /// The HTTP client, built on first use on a blocking thread: loading the system's
    /// trusted certificates takes longer than a request should wait on an async worker.
    async fn http(&self) -> Result<&reqwest::Client, ProviderError> {
        self.http
            .get_or_try_init(|| async {
                let built = tokio::task::spawn_blocking(|| {
                    reqwest::Client::builder()
                        .timeout(HTTP_TIMEOUT)
                        .redirect(reqwest::redirect::Policy::none())
                        .user_agent(concat!("wristband/", env!("CARGO_PKG_VERSION")))
                        .build()
                })
                .await;
                let unreachable = |reason: String| ProviderError::Unreachable { url: "(client)".into(), reason };
                built.map_err(|e| unreachable(e.to_string()))?.map_err(|e| unreachable(e.to_string()))
            })
            .await
    }

    async fn send(&self, url: &Url, request: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), ProviderError> {
        let unreachable =
            |e: reqwest::Error| ProviderError::Unreachable { url: url.to_string(), reason: e.to_string() };
        let mut response = request.header("Accept", "application/json").send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(invalid(url, "larger than 512 KiB"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
        bearer: Option<&str>,
    ) -> Result<T, ProviderError> {
        let mut request = self.http().await?.get(url.clone());
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let (status, body) = self.send(url, request).await?;
        if status != 200 {
            let body = String::from_utf8_lossy(&body).chars().take(200).collect();
            return Err(ProviderError::Status { url: url.to_string(), status, body });
        }
        serde_json::from_slice(&body).map_err(|e| invalid(url, e))
    }

    /// The issuer's metadata, fetched and checked (OIDC Discovery §4.3: the document names
    /// exactly this issuer); from the cache when fetched within the hour.
    pub async fn discover(&self, issuer: &Url, now: UnixTime) -> Result<Arc<ProviderMetadata>, ProviderError> {
        let key = issuer.as_str().trim_end_matches('/').to_owned();
        if let Some(cached) = lock(&self.discovered).get(&key).filter(|c| now - c.fetched_at < DISCOVERY_SECONDS) {
            return Ok(Arc::clone(&cached.value));
        }
        self.fetch_metadata(issuer, now).await
    }

    /// Fetches the issuer's metadata now, whatever the cache holds.
    pub async fn fetch_metadata(&self, issuer: &Url, now: UnixTime) -> Result<Arc<ProviderMetadata>, ProviderError> {
        let key = issuer.as_str().trim_end_matches('/').to_owned();
        let url = Url::parse(&format!("{key}/.well-known/openid-configuration")).map_err(|e| invalid(issuer, e))?;
        let metadata: ProviderMetadata = self.get_json(&url, None).await?;
        if metadata.issuer.trim_end_matches('/') != key {
            return Err(invalid(&url, format!("it names the issuer {}, not {key}", metadata.issuer)));
        }
        for endpoint in [&metadata.authorization_endpoint, &metadata.token_endpoint, &metadata.jwks_uri]
            .into_iter()
            .chain(metadata.userinfo_endpoint.as_ref())
            .chain(metadata.end_session_endpoint.as_ref())
        {
            check_endpoint(endpoint).map_err(|reason| invalid(&url, reason))?;
        }
        let metadata = Arc::new(metadata);
        lock(&self.discovered).insert(key, Cached { value: Arc::clone(&metadata), fetched_at: now });
        Ok(metadata)
    }

    /// Where to talk to `upstream`: discovered for OpenID Connect, configured for OAuth 2.0.
    pub async fn endpoints(&self, upstream: &Upstream, now: UnixTime) -> Result<Endpoints, ProviderError> {
        Ok(match &upstream.protocol {
            UpstreamProtocol::Oidc { issuer } => {
                let metadata = self.discover(issuer, now).await?;
                let methods = &metadata.token_endpoint_auth_methods_supported;
                Endpoints {
                    authorization: metadata.authorization_endpoint.clone(),
                    token: metadata.token_endpoint.clone(),
                    userinfo: metadata.userinfo_endpoint.clone(),
                    jwks_uri: Some(metadata.jwks_uri.clone()),
                    issuer: Some(metadata.issuer.clone()),
                    end_session: metadata.end_session_endpoint.clone(),
                    // Basic is the default (OIDC Discovery §3); the form only when it is
                    // all the provider takes.
                    secret_in_form: !methods.is_empty()
                        && !methods.iter().any(|m| m == "client_secret_basic")
                        && methods.iter().any(|m| m == "client_secret_post"),
                }
            }
            UpstreamProtocol::OAuth2(provider) => Endpoints {
                authorization: provider.authorization_endpoint.clone(),
                token: provider.token_endpoint.clone(),
                userinfo: Some(provider.userinfo_endpoint.clone()),
                jwks_uri: None,
                issuer: None,
                end_session: None,
                // GitHub-style providers take the secret in the form.
                secret_in_form: true,
            },
        })
    }

    /// The upstream's keys: cached, or fetched when the cache is old or `token` names a
    /// key it lacks (and the last fetch was not moments ago).
    pub async fn keys_for(&self, jwks_uri: &Url, token: &str, now: UnixTime) -> Result<Arc<JwkSet>, ProviderError> {
        let cached = lock(&self.keys).get(jwks_uri.as_str()).map(|c| (Arc::clone(&c.value), c.fetched_at));
        if let Some((set, fetched_at)) = &cached {
            let fresh = now - fetched_at < KEYS_SECONDS;
            let recent = now - fetched_at < KEYS_REFETCH_SECONDS;
            if recent || (fresh && super::id_token::has_key(set, token)) {
                return Ok(Arc::clone(set));
            }
        }
        let document: serde_json::Value = self.get_json(jwks_uri, None).await?;
        let set = JwkSet::from_bytes(document.to_string()).map_err(|e| invalid(jwks_uri, e))?;
        let set = Arc::new(set);
        lock(&self.keys).insert(jwks_uri.to_string(), Cached { value: Arc::clone(&set), fetched_at: now });
        Ok(set)
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3) with the PKCE verifier.
    pub async fn exchange_code(
        &self,
        endpoints: &Endpoints,
        client_id: &str,
        client_secret: &SecretString,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<TokenResponse, ProviderError> {
        let url = &endpoints.token;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ];
        let mut request = self.http().await?.post(url.clone());
        if endpoints.secret_in_form {
            form.extend([("client_id", client_id), ("client_secret", client_secret.expose())]);
        } else {
            // RFC 6749 §2.3.1: each part form-encoded before Basic encoding.
            let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let credentials = format!("{}:{}", encode(client_id), encode(client_secret.expose()));
            request = request.header("Authorization", format!("Basic {}", STANDARD.encode(credentials)));
        }
        let (status, body) = self.send(url, request.form(&form)).await?;
        if status != 200 {
            let reason = match serde_json::from_slice::<TokenErrorResponse>(&body) {
                Ok(e) => format!("{} {}", e.error, e.error_description.unwrap_or_default()),
                Err(_) => String::from_utf8_lossy(&body).chars().take(200).collect(),
            };
            return Err(ProviderError::Status { url: url.to_string(), status, body: reason });
        }
        // GitHub answers 200 with an error member when the code is bad.
        if let Ok(e) = serde_json::from_slice::<TokenErrorResponse>(&body) {
            return Err(ProviderError::Status { url: url.to_string(), status, body: e.error });
        }
        serde_json::from_slice(&body).map_err(|e| invalid(url, e))
    }

    /// The user document (OIDC userinfo, or a GitHub-style user API) for an access token.
    pub async fn user_document(
        &self,
        url: &Url,
        access_token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ProviderError> {
        self.get_json(url, Some(access_token)).await
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_except_on_loopback() {
        for ok in ["https://idp.example/token", "http://127.0.0.1:8080/token", "http://localhost/x", "http://[::1]/x"] {
            assert!(check_endpoint(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        for bad in ["http://idp.example/token", "ftp://idp.example/x", "http://10.0.0.1/x"] {
            assert!(check_endpoint(&Url::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
