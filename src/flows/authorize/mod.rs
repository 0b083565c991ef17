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
    match request::validate(params, &client, redirect_uri.clone()) {
        Ok(request) => decide(ctx, &client, request, browser, meta).await,
        Err(error) => redirect_error(ctx, &redirect_uri, &error, request::state(params).as_deref()),
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
    let gate_request = gate::Request { client, request: &request, requested_at: None, bound_user: None };
    let refusal = match gate::judge(gate_request, session, ctx.clock.now()) {
        Verdict::Admitted(admitted) => {
            if !needs_consent(ctx, client, &request, admitted.session().user.id).await? {
                return issue_code(ctx, None, &admitted).await;
            }
            if request.prompt.none {
                OAuthError::new(ErrorCode::ConsentRequired, "The person must consent.", "prompt=none without consent")
            } else {
                let scopes = describe_scopes(&request);
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
        Verdict::SecondFactor => OAuthError::new(
            ErrorCode::LoginRequired,
            "The person must sign in with a second factor.",
            "prompt=none with a one-factor session",
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
