//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): validates a request and
//! decides, through the gate, whether the person must log in, step up, consent, or gets a
//! code at once. The pages that follow resume it through `interaction`.

mod request;

pub use request::{AuthorizeParams, trusted_redirect, validate};

use super::Context;
use super::error::{ErrorCode, FlowError, OAuthError};
use super::interaction::gate::{self, Verdict};
use super::interaction::{
    Browser, ConsentPage, Continuation, LoginPage, Step, UntrustedRequest, describe_scopes, issue_code, needs_consent,
    redirect_error, resume_pending, store_pending,
};
use super::resource::load_apis;
use super::session::RequestMeta;
use crate::model::{AuthorizationRequest, Client};

pub async fn authorize(
    ctx: &Context<'_>,
    params: &AuthorizeParams,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<Step, FlowError> {
    let client = match request::client_id(params) {
        Some(id) => ctx.store.find_client(&id).await?,
        None => None,
    };
    let redirect_uri = match request::trusted_redirect(params, client.as_ref()) {
        Ok(uri) => uri,
        Err(untrusted) => return Ok(Step::Untrusted(untrusted)),
    };
    let Some(client) = client else { return Ok(Step::Untrusted(UntrustedRequest::UnknownClient)) };
    let state = request::state(params);
    let checked = match request::validate(params, &client, redirect_uri.clone()) {
        Ok(request) => check_scope(ctx, &request).await.map(|()| request),
        Err(error) => Err(error.into()),
    };
    match checked {
        Ok(request) => decide(ctx, &client, request, browser, meta).await,
        Err(FlowError::OAuth(error)) => redirect_error(ctx, &redirect_uri, &error, state.as_deref()),
        Err(other) => Err(other),
    }
}

/// Every scope requested must be wristband's own or one the requested APIs define.
async fn check_scope(ctx: &Context<'_>, request: &AuthorizationRequest) -> Result<(), FlowError> {
    let apis = load_apis(ctx, &request.resources).await?;
    match request.scope.unknown(&apis) {
        Some(unknown) => Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "The requested scope is invalid or unsupported.",
            format!("scope {unknown} is defined by none of the requested APIs"),
        )
        .into()),
        None => Ok(()),
    }
}

async fn decide(
    ctx: &Context<'_>,
    client: &Client,
    request: AuthorizationRequest,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<Step, FlowError> {
    let session = browser.session.as_ref();
    // prompt=create asks for the sign-up page, when sign-up is open (else it is ignored).
    // The person signs in afterwards, once the address is verified: the request is not kept
    // across that mail round trip, so the application starts a new one.
    if request.prompt.create && ctx.config.registration.enabled && session.is_none() {
        let register = url::Url::parse(&format!("{}/register", ctx.config.issuer))
            .map_err(|e| FlowError::Internal(Box::new(e)))?;
        return Ok(Step::Redirect(register));
    }
    let gate_request = gate::Request { client, request: &request, requested_at: None, bound_user: None };
    let refusal = match gate::judge(gate_request, session, ctx.clock.now()) {
        Verdict::Admitted(admitted) => {
            if !needs_consent(ctx, client, &request, admitted.session().user.id).await? {
                return issue_code(ctx, None, &admitted).await;
            }
            if request.prompt.none {
                OAuthError::new(ErrorCode::ConsentRequired, "The person must consent.", "prompt=none without consent")
            } else {
                let scopes = describe_scopes(ctx, &request).await?;
                let request_id = store_pending(ctx, request, browser, meta, Some(admitted.session())).await?;
                return Ok(Step::Consent(ConsentPage { request_id, client_name: client.name.clone(), scopes }));
            }
        }
        Verdict::Login | Verdict::Refused => {
            if request.prompt.none {
                OAuthError::new(ErrorCode::LoginRequired, "The person must log in.", "prompt=none without session")
            } else {
                let username = request.login_hint.clone();
                let request_id = store_pending(ctx, request, browser, meta, None).await?;
                return Ok(Step::Login(LoginPage {
                    continuation: Continuation::Authorization { request_id },
                    client_name: client.name.clone(),
                    username,
                    error: None,
                }));
            }
        }
        Verdict::StepUp => OAuthError::new(
            ErrorCode::LoginRequired,
            "The person must sign in with a stronger factor.",
            "prompt=none with a session below the required level",
        ),
        Verdict::ChangePassword => OAuthError::new(
            ErrorCode::InteractionRequired,
            "The person must replace a temporary password.",
            "prompt=none with a temporary password",
        ),
    };
    match session.filter(|_| !request.prompt.none) {
        // A second factor or a new password, for this request: the session is bound to it.
        Some(session) => {
            let request_id = store_pending(ctx, request, browser, meta, Some(session)).await?;
            resume_pending(ctx, &request_id, browser, Some(session)).await
        }
        None => redirect_error(ctx, &request.redirect_uri, &refusal, request.state.as_deref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::flows::interaction::resume_pending;
    use crate::flows::session::start_session;
    use crate::flows::testkit::{FlowTest, REDIRECT_URI, browser, meta};
    use crate::model::{ACR_TWO_FACTOR, Authentication};

    fn params(client_id: &str, extra: &[(&str, &str)]) -> AuthorizeParams {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("state", "s"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ];
        for (name, value) in extra {
            pairs.retain(|(n, _)| n != name);
            pairs.push((name, value));
        }
        AuthorizeParams::from_pairs(pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())))
    }

    /// A browser signed in as a new user `alice`, `authentication` long ago.
    async fn signed_in(t: &FlowTest, authentication: Authentication) -> Browser {
        let alice = t.user("alice").await;
        let started = start_session(&t.ctx(), alice, authentication, &meta()).await.unwrap();
        Browser { session: Some(started.session), ..browser("alice") }
    }

    fn request_id(step: &Step) -> String {
        match step {
            Step::Login(page) => page.continuation.request_id().unwrap().to_owned(),
            Step::Consent(page) => page.request_id.clone(),
            Step::SecondFactor(page) => page.request_id.clone().unwrap(),
            Step::Enroll(page) => page.request_id.clone().unwrap(),
            other => panic!("not a page of a pending request: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_one_factor_session_is_stepped_up_for_acr_values_and_resuming_gives_no_code() {
        let t = FlowTest::new().await;
        t.client("app", true, false).await;
        let browser = signed_in(&t, Authentication::password(t.clock.now())).await;
        t.clock.advance(10);

        let step = authorize(&t.ctx(), &params("app", &[("acr_values", ACR_TWO_FACTOR)]), &browser, &meta()).await;
        let step = step.unwrap();
        let resumed = resume_pending(&t.ctx(), &request_id(&step), &browser, browser.session.as_ref()).await.unwrap();

        assert!(matches!(step, Step::Enroll(_)), "{step:?}");
        assert!(matches!(resumed, Step::Enroll(_)), "the gate asks again: {resumed:?}");
    }

    #[tokio::test]
    async fn prompt_login_is_answered_only_after_a_login_made_for_it() {
        let t = FlowTest::new().await;
        t.client("app", true, false).await;
        let old = signed_in(&t, Authentication::password(t.clock.now())).await;
        t.clock.advance(60);

        let step = authorize(&t.ctx(), &params("app", &[("prompt", "login")]), &old, &meta()).await.unwrap();
        let id = request_id(&step);
        let with_old = resume_pending(&t.ctx(), &id, &old, old.session.as_ref()).await.unwrap();
        let user = old.session.clone().unwrap().user;
        let fresh = start_session(&t.ctx(), user, Authentication::password(t.clock.now()), &meta()).await.unwrap();
        let with_fresh = resume_pending(&t.ctx(), &id, &old, Some(&fresh.session)).await.unwrap();

        assert!(matches!(with_old, Step::Login(_)), "{with_old:?}");
        assert!(matches!(with_fresh, Step::Redirect(ref url) if url.as_str().contains("code=")), "{with_fresh:?}");
        let replay = resume_pending(&t.ctx(), &id, &old, Some(&fresh.session)).await.unwrap();
        assert_eq!(replay, Step::Expired, "one code per request");
    }

    #[tokio::test]
    async fn consent_is_remembered_for_the_scopes_granted_and_asked_again_for_more_or_on_prompt() {
        let t = FlowTest::new().await;
        t.client("third", false, false).await;
        let browser = signed_in(&t, Authentication::password(t.clock.now())).await;
        let user_id = browser.session.as_ref().unwrap().user.id;
        let client = t.store.find_client(&crate::model::ClientId::parse("third").unwrap()).await.unwrap().unwrap();
        let scope = crate::model::Scope::parse("openid profile").unwrap();
        t.store.grant_consent(user_id, &client.id, &scope, t.clock.now()).await.unwrap();

        let asked = |extra: &'static [(&'static str, &'static str)]| {
            let browser = browser.clone();
            let t = &t;
            async move { authorize(&t.ctx(), &params("third", extra), &browser, &meta()).await.unwrap() }
        };

        assert!(matches!(asked(&[]).await, Step::Redirect(_)), "openid alone was granted");
        assert!(matches!(asked(&[("scope", "openid profile")]).await, Step::Redirect(_)));
        assert!(matches!(asked(&[("prompt", "consent")]).await, Step::Consent(_)));
    }
}
