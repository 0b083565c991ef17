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
    match replace_password(ctx, session, &form.new, &form.confirm, meta).await {
        Ok(()) => {}
        Err(FlowError::Mistake(message)) => {
            let page = ChangePasswordPage { continuation: form.continuation, error: Some(message) };
            return Ok(Step::ChangePassword(page));
        }
        Err(err) => return Err(err),
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

#[cfg(test)]
mod tests {
    use futures::future::join_all;

    use super::*;
    use crate::clock::Clock;
    use crate::flows::testkit::{FlowTest, PASSWORD, browser, meta};

    fn attempt(username: &str, password: &str) -> LoginAttempt {
        LoginAttempt {
            continuation: Continuation::Page(Destination::Account),
            username: username.to_owned(),
            password: SecretString::new(password),
        }
    }

    async fn try_login(t: &FlowTest, username: &str, password: &str) -> Result<LoginStep, FlowError> {
        login(&t.ctx(), attempt(username, password), &browser("guesser"), &meta()).await
    }

    async fn audited(t: &FlowTest, event: &str) -> usize {
        t.store.recent_audit_events(1_000).await.unwrap().iter().filter(|e| e.event == event).count()
    }

    fn refused_for(result: &Result<LoginStep, FlowError>) -> Option<i64> {
        match result {
            Err(FlowError::Throttled(throttled)) => Some(throttled.retry_after_seconds),
            _ => None,
        }
    }

    #[tokio::test]
    async fn the_wrong_password_that_reaches_the_limit_locks_the_username_until_the_lock_ends() {
        let t = FlowTest::new().await;
        t.user("alice").await;

        for _ in 0..4 {
            let step = try_login(&t, "alice", "wrong").await.unwrap();
            assert!(matches!(step.outcome, Step::Login(LoginPage { error: Some(LOGIN_FAILED), .. })));
        }
        let locking = try_login(&t, "alice", "wrong").await;
        let right_while_locked = try_login(&t, "alice", PASSWORD).await;
        t.clock.advance(t.config.login.lockout_seconds);
        let after = try_login(&t, "alice", PASSWORD).await.unwrap();

        assert_eq!(refused_for(&locking), Some(t.config.login.lockout_seconds));
        assert!(refused_for(&right_while_locked).is_some(), "the right password waits too");
        assert!(after.session.is_some(), "signed in once the lock ended");
        assert_eq!((audited(&t, "login_failed").await, audited(&t, "login_locked").await), (5, 1));
    }

    #[tokio::test]
    async fn concurrent_guesses_check_no_more_wrong_passwords_than_the_limit() {
        let t = FlowTest::new().await;
        t.user("alice").await;

        let answers = join_all((0..25).map(|_| try_login(&t, "alice", "wrong"))).await;

        let limit = t.config.login.lockout_attempts as usize;
        assert_eq!(audited(&t, "login_failed").await, limit);
        assert_eq!(answers.iter().filter(|a| refused_for(a).is_some()).count(), 25 - (limit - 1));
    }

    #[tokio::test]
    async fn an_unknown_username_locks_like_a_real_one_and_says_the_same() {
        let t = FlowTest::new().await;
        t.user("alice").await;

        let unknown = try_login(&t, "nobody", "wrong").await.unwrap();
        let known = try_login(&t, "alice", "wrong").await.unwrap();
        for _ in 0..3 {
            try_login(&t, "nobody", "wrong").await.unwrap();
        }

        let (Step::Login(unknown), Step::Login(known)) = (unknown.outcome, known.outcome) else {
            panic!("login pages")
        };
        assert_eq!((unknown.error, unknown.client_name), (known.error, known.client_name), "the same answer");
        assert!(refused_for(&try_login(&t, "NOBODY", "wrong").await).is_some(), "locked, whatever the case");
    }

    #[tokio::test]
    async fn a_right_password_starts_the_count_again_and_a_disabled_account_never_signs_in() {
        let t = FlowTest::new().await;
        let alice = t.user("alice").await;
        for _ in 0..4 {
            try_login(&t, "alice", "wrong").await.unwrap();
        }
        assert!(try_login(&t, "alice", PASSWORD).await.unwrap().session.is_some());
        for _ in 0..4 {
            try_login(&t, "alice", "wrong").await.unwrap();
        }
        assert!(try_login(&t, "alice", PASSWORD).await.unwrap().session.is_some(), "four again, not eight");

        t.store.set_user_disabled(alice.id, true, t.clock.now()).await.unwrap();
        let disabled = try_login(&t, "alice", PASSWORD).await.unwrap();
        assert!(
            disabled.session.is_none() && matches!(disabled.outcome, Step::Login(LoginPage { error: Some(_), .. }))
        );
    }
}
