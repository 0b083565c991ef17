//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6): client authentication, then one
//! module per grant.

mod authorization_code;
mod client_auth;
mod client_credentials;
mod issue;
mod refresh_token;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde::Serialize;

pub use client_auth::{ClientAuthentication, authenticate_client};
pub use refresh_token::usable_family_user;

use super::Context;
use super::error::{ErrorCode, FlowError, oauth};
use super::session::RequestMeta;
use crate::model::GrantType;

/// Form parameters of a token request; each may appear once (RFC 6749 §3.2).
#[derive(Debug, Clone, Default)]
pub struct TokenParams(HashMap<String, String>);

impl TokenParams {
    /// Collects the form; a repeated parameter is `invalid_request`.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, FlowError> {
        let mut map = HashMap::new();
        for (name, value) in pairs {
            match map.entry(name) {
                Entry::Vacant(vacant) => {
                    vacant.insert(value);
                }
                // RFC 8707 §2.2: one access token is for one API.
                Entry::Occupied(repeated) if repeated.key() == "resource" => {
                    return oauth(
                        ErrorCode::InvalidTarget,
                        "Name one resource per token request.",
                        "several resources",
                    );
                }
                Entry::Occupied(_) => {
                    return oauth(
                        ErrorCode::InvalidRequest,
                        "A parameter was sent more than once.",
                        "repeated parameter",
                    );
                }
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn require(&self, name: &'static str, description: &'static str) -> Result<&str, FlowError> {
        match self.get(name) {
            Some(value) => Ok(value),
            None => oauth(ErrorCode::InvalidRequest, description, format!("missing {name}")),
        }
    }
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Authenticates the client, then runs the grant it asked for. The address's limit counts
/// every request; the client's counts only requests that authenticated as it, so nobody
/// can use up a client's allowance by merely naming it.
pub async fn exchange(
    ctx: &Context<'_>,
    auth: ClientAuthentication,
    params: TokenParams,
    meta: &RequestMeta,
) -> Result<TokenResponse, FlowError> {
    let now = ctx.clock.now();
    ctx.limits.token_per_ip.acquire(meta.rate_limit_key(), now)?;
    let client = authenticate_client(ctx, &auth).await?;
    ctx.limits.token_per_client.acquire(client.id.as_str(), now)?;
    let grant = match params.get("grant_type") {
        None => return oauth(ErrorCode::InvalidRequest, "grant_type is required.", "missing grant_type"),
        Some(name) => match GrantType::parse(name) {
            Ok(grant) => grant,
            Err(_) => {
                return oauth(ErrorCode::UnsupportedGrantType, "The grant type is not supported.", name.to_owned());
            }
        },
    };
    if !client.allows(grant) {
        return oauth(
            ErrorCode::UnauthorizedClient,
            "The client may not use this grant type.",
            format!("client {} lacks {grant}", client.id),
        );
    }
    let issued = match grant {
        GrantType::AuthorizationCode => authorization_code::exchange(ctx, &client, &params, meta).await?,
        GrantType::RefreshToken => refresh_token::refresh(ctx, &client, &params, meta).await?,
        GrantType::ClientCredentials => client_credentials::issue(ctx, &client, &params).await?,
    };
    ctx.metrics.token_issued(grant.as_str());
    Ok(issued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::authorize::{AuthorizeParams, authorize};
    use crate::flows::error::OAuthError;
    use crate::flows::interaction::{Browser, Step};
    use crate::flows::session::start_session;
    use crate::flows::testkit::{FlowTest, REDIRECT_URI, browser, meta};
    use crate::model::Authentication;
    use crate::security::secret::SecretString;

    /// RFC 7636 Appendix B: this verifier and its S256 challenge.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    /// Keys, the first-party client `app` and a browser signed in as `alice`.
    async fn signed_in() -> (FlowTest, SecretString, Browser) {
        let t = FlowTest::with_keys().await;
        let secret = t.client("app", true, false).await;
        let alice = t.user("alice").await;
        let started = start_session(&t.ctx(), alice, Authentication::password(1_800_000_000), &meta()).await.unwrap();
        let browser = Browser { session: Some(started.session), ..browser("alice") };
        (t, secret, browser)
    }

    async fn code(t: &FlowTest, browser: &Browser) -> String {
        let pairs = [
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        let params = AuthorizeParams::from_pairs(pairs.map(|(k, v)| (k.to_owned(), v.to_owned())));
        match authorize(&t.ctx(), &params, browser, &meta()).await.unwrap() {
            Step::Redirect(url) => url.query_pairs().find(|(k, _)| k == "code").expect("a code").1.into_owned(),
            other => panic!("a signed-in browser gets a code: {other:?}"),
        }
    }

    async fn token(t: &FlowTest, secret: &SecretString, form: &[(&str, &str)]) -> Result<TokenResponse, FlowError> {
        let auth = ClientAuthentication::Basic { client_id: "app".into(), secret: secret.clone() };
        let params = TokenParams::from_pairs(form.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap();
        exchange(&t.ctx(), auth, params, &meta()).await
    }

    async fn redeem(t: &FlowTest, secret: &SecretString, code: &str) -> Result<TokenResponse, FlowError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ];
        token(t, secret, &form).await
    }

    async fn refresh(t: &FlowTest, secret: &SecretString, refresh_token: &str) -> Result<TokenResponse, FlowError> {
        token(t, secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }

    /// The same services with `refresh.reuse_grace_seconds` set.
    fn with_grace(t: &mut FlowTest, seconds: i64) {
        let mut config = (*t.services.config).clone();
        config.refresh.reuse_grace_seconds = seconds;
        t.services.config = std::sync::Arc::new(config);
    }

    fn invalid_grant(result: Result<TokenResponse, FlowError>) -> bool {
        matches!(result, Err(FlowError::OAuth(OAuthError { code: ErrorCode::InvalidGrant, .. })))
    }

    #[tokio::test]
    async fn a_replayed_code_is_refused_and_revokes_the_refresh_token_it_gave() {
        let (t, secret, browser) = signed_in().await;
        let code = code(&t, &browser).await;

        let first = redeem(&t, &secret, &code).await.unwrap();
        let replay = redeem(&t, &secret, &code).await;

        assert!(invalid_grant(replay));
        assert!(invalid_grant(refresh(&t, &secret, first.refresh_token.as_deref().unwrap()).await));
    }

    #[tokio::test]
    async fn two_concurrent_redemptions_of_one_code_give_tokens_at_most_once() {
        let (t, secret, browser) = signed_in().await;
        let code = code(&t, &browser).await;

        let (a, b) = tokio::join!(redeem(&t, &secret, &code), redeem(&t, &secret, &code));

        assert_eq!([&a, &b].iter().filter(|r| r.is_ok()).count(), 1, "{a:?} {b:?}");
    }

    #[tokio::test]
    async fn a_code_expires_after_its_lifetime() {
        let (t, secret, browser) = signed_in().await;
        let code = code(&t, &browser).await;
        t.clock.advance(61);

        assert!(invalid_grant(redeem(&t, &secret, &code).await));
    }

    #[tokio::test]
    async fn a_code_verifier_that_does_not_match_is_refused_and_burns_the_code() {
        let (t, secret, browser) = signed_in().await;
        let code = code(&t, &browser).await;
        let wrong = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", "another-verifier-of-enough-length-0123456789abcdef"),
        ];

        assert!(invalid_grant(token(&t, &secret, &wrong).await));
        assert!(invalid_grant(redeem(&t, &secret, &code).await), "whoever holds a stolen code gets one guess");
    }

    #[tokio::test]
    async fn a_refresh_token_rotates_and_its_reuse_after_the_grace_window_revokes_the_family() {
        let (mut t, secret, browser) = signed_in().await;
        with_grace(&mut t, 10);
        let first = redeem(&t, &secret, &code(&t, &browser).await).await.unwrap();
        let r1 = first.refresh_token.unwrap();

        let r2 = refresh(&t, &secret, &r1).await.unwrap().refresh_token.unwrap();
        t.clock.advance(t.config.refresh.reuse_grace_seconds + 1);
        let reuse = refresh(&t, &secret, &r1).await;

        assert_ne!(r1, r2);
        assert!(invalid_grant(reuse));
        assert!(invalid_grant(refresh(&t, &secret, &r2).await), "the whole family ends with the reuse");
    }

    #[tokio::test]
    async fn a_retry_within_the_grace_window_gets_the_same_successor_and_the_family_lives() {
        let (mut t, secret, browser) = signed_in().await;
        with_grace(&mut t, 10);
        let r1 = redeem(&t, &secret, &code(&t, &browser).await).await.unwrap().refresh_token.unwrap();

        let r2 = refresh(&t, &secret, &r1).await.unwrap().refresh_token.unwrap();
        t.clock.advance(10);
        let retried = refresh(&t, &secret, &r1).await.unwrap().refresh_token.unwrap();

        assert_eq!(retried, r2, "a lost response retried gets the same successor");
        assert!(refresh(&t, &secret, &r2).await.is_ok());
    }

    #[tokio::test]
    async fn concurrent_refreshes_of_one_token_within_the_grace_window_agree_on_one_successor() {
        let (mut t, secret, browser) = signed_in().await;
        with_grace(&mut t, 10);
        let r1 = redeem(&t, &secret, &code(&t, &browser).await).await.unwrap().refresh_token.unwrap();

        let (a, b, c) = tokio::join!(refresh(&t, &secret, &r1), refresh(&t, &secret, &r1), refresh(&t, &secret, &r1));

        let successors: std::collections::HashSet<String> =
            [a, b, c].into_iter().map(|r| r.unwrap().refresh_token.unwrap()).collect();
        assert_eq!(successors.len(), 1, "one rotation, the others get its successor");
    }

    #[tokio::test]
    async fn with_no_grace_window_a_concurrent_second_refresh_is_a_reuse() {
        let (mut t, secret, browser) = signed_in().await;
        with_grace(&mut t, 0);
        let r1 = redeem(&t, &secret, &code(&t, &browser).await).await.unwrap().refresh_token.unwrap();

        let (a, b) = tokio::join!(refresh(&t, &secret, &r1), refresh(&t, &secret, &r1));

        assert_eq!([&a, &b].iter().filter(|r| r.is_ok()).count(), 1, "{a:?} {b:?}");
        let survivor = [a, b].into_iter().find_map(|r| r.ok()).unwrap().refresh_token.unwrap();
        assert!(invalid_grant(refresh(&t, &secret, &survivor).await), "the reuse ended the family");
    }

    mod resources {
        use super::*;
        use crate::flows::Actor;
        use crate::flows::admin::{ApiInput, add_api, set_client_resources};
        use crate::flows::resource::{requested_resources, token_target};
        use crate::model::{ApiIdentifier, Client, ClientId};

        const ORDERS: &str = "https://orders.example.com";
        const BILLING: &str = "https://billing.example.com";
        const HR: &str = "https://hr.example.com";

        /// Three APIs; the client `app` may request orders and billing, billing by default.
        async fn with_apis() -> (FlowTest, Client) {
            let t = FlowTest::new().await;
            for identifier in [ORDERS, BILLING, HR] {
                let input = ApiInput { identifier: identifier.into(), ..ApiInput::default() };
                add_api(&t.ctx(), input, false, Actor::Cli).await.unwrap();
            }
            t.client("app", true, false).await;
            let allowed = [ORDERS.to_owned(), BILLING.to_owned()];
            set_client_resources(&t.ctx(), "app", &allowed, Some(BILLING), Actor::Cli).await.unwrap();
            let client = t.store.find_client(&ClientId::parse("app").unwrap()).await.unwrap().unwrap();
            (t, client)
        }

        #[tokio::test]
        async fn a_request_names_apis_the_client_may_use_once_each_or_gets_its_default() {
            let (_t, client) = with_apis().await;
            let ids = |named: &[&str]| {
                requested_resources(&client, named).map(|r| r.iter().map(|r| r.to_string()).collect::<Vec<_>>())
            };
            let refused = |named: &[&str]| ids(named).expect_err("refused").code;

            assert_eq!(ids(&[]).unwrap(), [BILLING]);
            assert_eq!(ids(&[ORDERS, BILLING, ORDERS]).unwrap(), [ORDERS, BILLING]);
            assert_eq!(refused(&[HR]), ErrorCode::InvalidTarget);
            assert_eq!(refused(&["orders"]), ErrorCode::InvalidTarget);
            assert_eq!(refused(&["https://orders.example.com/"]), ErrorCode::InvalidTarget, "exactly as registered");
        }

        #[tokio::test]
        async fn a_token_is_for_the_api_named_when_the_grant_covers_it_else_for_the_first_granted() {
            let (t, _) = with_apis().await;
            let granted = [ApiIdentifier::parse(ORDERS).unwrap(), ApiIdentifier::parse(BILLING).unwrap()];
            let target = |named: Option<&str>, granted: &[ApiIdentifier]| {
                let (ctx, named, granted) = (t.ctx(), named.map(str::to_owned), granted.to_vec());
                async move {
                    let api = token_target(&ctx, named.as_deref(), &granted).await;
                    api.map(|api| api.map(|a| a.identifier.to_string()))
                }
            };
            let invalid_target = |result: Result<Option<String>, FlowError>| matches!(result, Err(FlowError::OAuth(e)) if e.code == ErrorCode::InvalidTarget);

            assert_eq!(target(None, &granted).await.unwrap().as_deref(), Some(ORDERS));
            assert_eq!(target(Some(BILLING), &granted).await.unwrap().as_deref(), Some(BILLING));
            assert_eq!(target(None, &[]).await.unwrap(), None, "no API granted: a token for the client");
            assert!(invalid_target(target(Some(HR), &granted).await), "not granted");
            t.store.delete_api(&granted[0], 0).await.unwrap();
            assert!(invalid_target(target(None, &granted).await), "removed since the grant");
        }
    }
}
