//! The login page's form: username and password, for a pending authorization request or
//! a wristband page. An unknown user, a wrong password and a disabled account get the same
//! answer after the same work (a password check against a dummy hash), and count the same
//! towards the username's lockout and the address's limit. A user with a second factor,
//! or whom the request demands one of, goes on to the second step.

use super::Context;
use super::error::FlowError;
use super::interaction::gate;
use super::interaction::{
    self, Browser, ChangePasswordPage, Continuation, LoginPage, LoginStep, Step, continue_login, start_challenge,
};
use super::password::{Checked, check_under_lockout, login_throttle_key, replace_password};
use super::session::{RequestMeta, end_session, start_session};
use crate::metrics::LoginOutcome;
use crate::model::{Authentication, Destination, RevocationReason, Username};
use crate::security::secret::SecretString;
use crate::store::AuditEvent;

pub const LOGIN_FAILED: &str = "Incorrect username or password.";

#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub continuation: Continuation,
    pub username: String,
    pub password: SecretString,
}

/// The temporary-password form as posted.
#[derive(Debug, Clone)]
pub struct NewPassword {
    pub continuation: Continuation,
    pub new: SecretString,
    pub confirm: SecretString,
}

/// Replaces the signed-in person's temporary password, then goes on where the login was
/// going. Without a session, nothing happens.
pub async fn replace_temporary_password(
    ctx: &Context<'_>,
    form: NewPassword,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<Step, FlowError> {
    // Only a session that must replace its password may post here: this form is no way
    // around the steps another page of the login asks for.
    let Some(session) = browser.session.as_ref().filter(|s| s.user.password_change_required) else {
        return Ok(Step::Expired);
    };
    if let Err(message) = replace_password(ctx, session, &form.new, &form.confirm, meta).await? {
        let page = ChangePasswordPage { continuation: form.continuation, error: Some(message) };
        return Ok(Step::ChangePassword(page));
    }
    let mut session = session.clone();
    session.user.password_change_required = false;
    continue_login(ctx, &form.continuation, browser, &session).await
}

/// The login page for a wristband page.
pub fn login_page(destination: Destination) -> LoginPage {
    LoginPage {
        continuation: Continuation::Page(destination),
        client_name: destination_title(destination).to_owned(),
        username: None,
        error: None,
    }
}

fn destination_title(destination: Destination) -> &'static str {
    match destination {
        Destination::Account => "your account",
        Destination::Admin => "wristband administration",
    }
}

pub async fn login(
    ctx: &Context<'_>,
    attempt: LoginAttempt,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<LoginStep, FlowError> {
    let (client_name, client_id, client_requires_two) = match &attempt.continuation {
        Continuation::Authorization { request_id } => {
            let Some((pending, client)) = interaction::find_pending(ctx, request_id, &browser.csrf_cookie).await?
            else {
                return Ok(Step::Expired.into());
            };
            let requires_two = gate::requires_two_factors(&client, &pending.request);
            (client.name, Some(client.id.to_string()), requires_two)
        }
        Continuation::Page(destination) => (destination_title(*destination).to_owned(), None, false),
    };
    let now = ctx.clock.now();
    let ip = meta.rate_limit_key();
    // The address's budget is taken before the hash and given back after a right password.
    ctx.limits.login_failures_per_ip.acquire(ip, now).inspect_err(|_| ctx.metrics.login(LoginOutcome::Throttled))?;
    let user = match Username::parse(&attempt.username) {
        Ok(username) => ctx.store.find_user_by_username(&username).await?,
        Err(_) => None,
    };
    let throttle_key = login_throttle_key(&attempt.username);
    let stored = user.as_ref().map(|u| u.password_hash.as_str());
    let checked =
        match check_under_lockout(ctx, &throttle_key, &attempt.password, stored, user.as_ref().map(|u| u.id), meta)
            .await
        {
            Ok(checked) => checked,
            Err(refused) => {
                // Not checked: the address's budget is not spent on it.
                ctx.limits.login_failures_per_ip.refund(ip);
                ctx.metrics.login(LoginOutcome::Throttled);
                return Err(refused);
            }
        };
    let user = match (user, checked) {
        (Some(user), Checked::Matched) if !user.disabled => user,
        (other, checked) => {
            ctx.metrics.login(LoginOutcome::Failure);
            let user_id = other.map(|u| u.id);
            let mut event = AuditEvent::new("login_failed").ip(meta.ip.clone());
            if let Some(client_id) = &client_id {
                event = event.client(client_id.as_str());
            }
            if let Some(user_id) = user_id {
                event = event.user(user_id);
            }
            ctx.store.record_audit(event, now).await?;
            if let Checked::WrongAndLocked(throttled) = checked {
                return Err(throttled.into());
            }
            return Ok(Step::Login(LoginPage {
                continuation: attempt.continuation,
                client_name,
                username: Some(attempt.username.chars().take(64).collect()),
                error: Some(LOGIN_FAILED),
            })
            .into());
        }
    };
    ctx.limits.login_failures_per_ip.refund(ip);
    let requires_two = match attempt.continuation {
        Continuation::Authorization { .. } => client_requires_two,
        Continuation::Page(destination) => destination.requires_two_factors() && user.is_admin,
    };
    if user.has_totp() || requires_two {
        return Ok(start_challenge(ctx, &user, browser, None, &attempt.continuation).await?.into());
    }
    if let Some(previous) = &browser.session {
        end_session(ctx, previous.session.sid, previous.user.id, RevocationReason::ReplacedByLogin).await?;
    }
    let session = start_session(ctx, user, Authentication::password(now), meta).await?;
    ctx.metrics.login(LoginOutcome::Success);
    let mut event = AuditEvent::new("login_succeeded")
        .user(session.session.user.id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "amr": session.session.session.authentication.amr }));
    if let Some(client_id) = client_id {
        event = event.client(client_id);
    }
    ctx.store.record_audit(event, now).await?;
    let outcome = continue_login(ctx, &attempt.continuation, browser, &session.session).await?;
    Ok(LoginStep { outcome, session: Some(Box::new(session)) })
}
