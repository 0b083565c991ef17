//! RP-Initiated Logout 1.0. With a valid `id_token_hint` for the current session the
//! session ends at once; otherwise the person confirms first, so that a link on another
//! site cannot log them out (logout CSRF). `post_logout_redirect_uri` must be registered
//! for the client, exactly.

use std::collections::HashMap;

use url::Url;

use super::Context;
use super::error::FlowError;
use super::session::{SessionUser, end_session};
use crate::model::{Client, ClientId, RevocationReason};
use crate::tokens::verify_id_token_hint;

/// The request parameters (query or form).
#[derive(Debug, Clone, Default)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

impl LogoutParams {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let map: HashMap<String, String> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let take = |name: &str| map.get(name).cloned();
        Self {
            id_token_hint: take("id_token_hint"),
            client_id: take("client_id"),
            post_logout_redirect_uri: take("post_logout_redirect_uri"),
            state: take("state"),
        }
    }
}

/// The confirmation page: what will happen, with the checked parameters to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmLogout {
    pub client_name: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    Confirm(ConfirmLogout),
    /// The session ended (or there was none); go back to the client, or show a page.
    LoggedOut {
        redirect: Option<Url>,
    },
    /// The request cannot be honoured; the page says why.
    Invalid(&'static str),
}

const UNREGISTERED: &str = "The application asked to send you to an address it has not registered, so you were not \
    signed out. Close this page, or sign out from the application again.";
const CLIENT_MISMATCH: &str =
    "The sign-out request named two different applications. Close this page, or sign out from the application again.";

/// `/end_session`: end the session at once when the hint proves the request comes from the
/// session's own client; otherwise ask.
pub async fn end_session_request(
    ctx: &Context<'_>,
    params: LogoutParams,
    session: Option<&SessionUser>,
) -> Result<LogoutOutcome, FlowError> {
    let hint = params.id_token_hint.as_deref().and_then(|hint| {
        verify_id_token_hint(&ctx.keystore.current(), hint, &ctx.config.issuer, ctx.clock.now())
            .inspect_err(|reason| tracing::info!(%reason, "id_token_hint ignored"))
            .ok()
    });
    let client_id = match (hint.as_ref().map(|h| h.aud.clone()), params.client_id.clone()) {
        (Some(from_hint), Some(given)) if from_hint != given => return Ok(LogoutOutcome::Invalid(CLIENT_MISMATCH)),
        (from_hint, given) => from_hint.or(given),
    };
    let client = find_client(ctx, client_id.as_deref()).await?;
    let redirect = match redirect_target(client.as_ref(), &params) {
        Ok(redirect) => redirect,
        Err(message) => return Ok(LogoutOutcome::Invalid(message)),
    };
    let Some(session) = session else { return Ok(LogoutOutcome::LoggedOut { redirect }) };
    let hint_matches = hint.as_ref().is_some_and(|h| {
        h.sub == session.user.id.to_string() && h.sid.as_deref() == Some(session.session.sid.to_string().as_str())
    });
    if hint_matches {
        end_session(ctx, session.session.sid, session.user.id, RevocationReason::Logout).await?;
        return Ok(LogoutOutcome::LoggedOut { redirect });
    }
    Ok(LogoutOutcome::Confirm(ConfirmLogout {
        client_name: client.as_ref().map(|c| c.name.clone()),
        client_id: client.map(|c| c.id.to_string()),
        post_logout_redirect_uri: params.post_logout_redirect_uri,
        state: params.state,
    }))
}

/// The person confirmed: end the session, then go where the (re-checked) request said.
pub async fn confirm_end_session(
    ctx: &Context<'_>,
    params: LogoutParams,
    session: Option<&SessionUser>,
) -> Result<LogoutOutcome, FlowError> {
    let client = find_client(ctx, params.client_id.as_deref()).await?;
    let redirect = match redirect_target(client.as_ref(), &params) {
        Ok(redirect) => redirect,
        Err(message) => return Ok(LogoutOutcome::Invalid(message)),
    };
    if let Some(session) = session {
        end_session(ctx, session.session.sid, session.user.id, RevocationReason::Logout).await?;
    }
    Ok(LogoutOutcome::LoggedOut { redirect })
}

async fn find_client(ctx: &Context<'_>, client_id: Option<&str>) -> Result<Option<Client>, FlowError> {
    match client_id.and_then(|id| ClientId::parse(id).ok()) {
        Some(id) => Ok(ctx.store.find_client(&id).await?),
        None => Ok(None),
    }
}

fn redirect_target(client: Option<&Client>, params: &LogoutParams) -> Result<Option<Url>, &'static str> {
    let Some(uri) = params.post_logout_redirect_uri.as_deref() else { return Ok(None) };
    let registered = client.is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r.as_str() == uri));
    if !registered {
        return Err(UNREGISTERED);
    }
    let mut url = Url::parse(uri).map_err(|_| UNREGISTERED)?;
    if let Some(state) = &params.state {
        url.query_pairs_mut().append_pair("state", state);
    }
    Ok(Some(url))
}
