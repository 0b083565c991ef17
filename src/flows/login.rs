//! The login page's form: username and password for a pending authorization request.
//! An unknown user, a wrong password and a disabled account get the same answer after
//! the same work (a password check against a dummy hash).

use super::Context;
use super::authorize::{self, AuthorizeOutcome, Browser, LoginPage};
use super::error::FlowError;
use super::session::{RequestMeta, StartedSession, end_session, start_session};
use crate::model::{Authentication, RevocationReason, Username};
use crate::security::secret::SecretString;
use crate::store::AuditEvent;

pub const LOGIN_FAILED: &str = "Incorrect username or password.";

#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub request_id: String,
    pub username: String,
    pub password: SecretString,
}

#[derive(Debug)]
pub enum LoginOutcome {
    /// Show the login page again with the generic error.
    Failed(LoginPage),
    /// A new session; continue with `next`.
    LoggedIn { session: Box<StartedSession>, next: AuthorizeOutcome },
    /// The pending request expired, finished, or belongs to another browser.
    Expired,
}

pub async fn login(
    ctx: &Context<'_>,
    attempt: LoginAttempt,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<LoginOutcome, FlowError> {
    let Some(pending) = authorize::find_pending(ctx, &attempt.request_id, &browser.csrf_cookie).await? else {
        return Ok(LoginOutcome::Expired);
    };
    let user = match Username::parse(&attempt.username) {
        Ok(username) => ctx.store.find_user_by_username(&username).await?,
        Err(_) => None,
    };
    let verified = ctx.hasher.verify(&attempt.password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let now = ctx.clock.now();
    let client_id = pending.request.client_id.to_string();
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        other => {
            let mut event = AuditEvent::new("login_failed").client(client_id.as_str()).ip(meta.ip.clone());
            if let Some(user) = &other {
                event = event.user(user.id);
            }
            ctx.store.record_audit(event, now).await?;
            let client_name =
                ctx.store.find_client(&pending.request.client_id).await?.map(|c| c.name).unwrap_or(client_id);
            return Ok(LoginOutcome::Failed(LoginPage {
                request_id: attempt.request_id,
                client_name,
                username: Some(attempt.username.chars().take(64).collect()),
                error: Some(LOGIN_FAILED),
            }));
        }
    };
    if let Some(previous) = &browser.session {
        end_session(ctx, previous.session.sid, previous.user.id, RevocationReason::ReplacedByLogin).await?;
    }
    let session = start_session(ctx, user, Authentication::password(now), meta).await?;
    let event = AuditEvent::new("login_succeeded").user(session.session.user.id).client(client_id).ip(meta.ip.clone());
    ctx.store.record_audit(event, now).await?;
    let next = authorize::resume_after_login(ctx, &attempt.request_id, pending, &session.session).await?;
    Ok(LoginOutcome::LoggedIn { session: Box::new(session), next })
}
