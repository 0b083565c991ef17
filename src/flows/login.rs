//! The login page's form: username and password, for a pending authorization request or
//! a wristband page. An unknown user, a wrong password and a disabled account get the same
//! answer after the same work (a password check against a dummy hash), and count the same
//! towards the username's lockout and the address's limit. A user with a second factor,
//! or whom the request demands one of, goes on to the second step.

use super::Context;
use super::error::FlowError;
use super::interaction::gate;
use super::interaction::{
    self, Browser, ChangePasswordPage, Continuation, LoginPage, LoginStep, SecondFactors, Step, continue_login,
    start_challenge,
};
use super::password::{Checked, check_under_lockout, login_throttle_key, replace_password};
use super::session::{RequestMeta, establish_session};
use crate::metrics::LoginOutcome;
use crate::model::{AssuranceLevel, Authentication, Destination, User, Username};
use crate::security::secret::SecretString;
use crate::store::AuditEvent;

pub const LOGIN_FAILED: &str = "Incorrect username or password.";
/// Shown, after the right password, to someone who signed up and has not verified the address.
pub const VERIFY_FIRST: &str = "Confirm your email address first: follow the link we mailed to it, then sign in.";

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
        Destination::Account | Destination::Passkeys => "your account",
        Destination::Admin => "wristband administration",
    }
}

/// Who a login page signs in to, and the weakest login that reaches it.
#[derive(Debug, Clone)]
pub struct LoginTarget {
    pub client_name: String,
    pub client_id: Option<String>,
    required: AssuranceLevel,
    page: bool,
}

impl LoginTarget {
    /// The level `user` must reach: a wristband page asks more only of administrators
    /// (for `/admin`), who alone may open it.
    pub fn required_for(&self, user: &User) -> AssuranceLevel {
        if self.page && !user.is_admin { AssuranceLevel::OneFactor } else { self.required }
    }

    /// The login page again, with `error` above the form.
    pub fn page(&self, continuation: Continuation, username: Option<String>, error: &'static str) -> Step {
        Step::Login(LoginPage { continuation, client_name: self.client_name.clone(), username, error: Some(error) })
    }
}

/// The target of a login form; `None` when its pending request expired, finished, or
/// belongs to another browser.
pub async fn login_target(
    ctx: &Context<'_>,
    continuation: &Continuation,
    browser: &Browser,
) -> Result<Option<LoginTarget>, FlowError> {
    Ok(match continuation {
        Continuation::Authorization { request_id } => interaction::find_pending(ctx, request_id, &browser.csrf_cookie)
            .await?
            .map(|(pending, client)| LoginTarget {
                required: gate::required_level(&client, &pending.request),
                client_name: client.name,
                client_id: Some(client.id.to_string()),
                page: false,
            }),
        Continuation::Page(destination) => Some(LoginTarget {
            client_name: destination_title(*destination).to_owned(),
            client_id: None,
            required: destination.required_level(ctx.config.admin.require_phishing_resistant),
            page: true,
        }),
    })
}

pub async fn login(
    ctx: &Context<'_>,
    attempt: LoginAttempt,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<LoginStep, FlowError> {
    let Some(target) = login_target(ctx, &attempt.continuation, browser).await? else {
        return Ok(Step::Expired.into());
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
            if let Some(client_id) = &target.client_id {
                event = event.client(client_id.as_str());
            }
            if let Some(user_id) = user_id {
                event = event.user(user_id);
            }
            ctx.store.record_audit(event, now).await?;
            if let Checked::WrongAndLocked(throttled) = checked {
                return Err(throttled.into());
            }
            let username = Some(attempt.username.chars().take(64).collect());
            return Ok(target.page(attempt.continuation, username, LOGIN_FAILED).into());
        }
    };
    ctx.limits.login_failures_per_ip.refund(ip);
    if user.verify_before_sign_in && !user.email_verified {
        return Ok(target.page(attempt.continuation, Some(user.username.to_string()), VERIFY_FIRST).into());
    }
    let required = target.required_for(&user);
    let factors = SecondFactors::of(ctx, &user).await?;
    if factors.any() || required > AssuranceLevel::OneFactor {
        let step = start_challenge(ctx, &user, &factors, browser, None, &attempt.continuation, required).await?;
        return Ok(step.into());
    }
    let session = establish_session(ctx, browser.session.as_ref(), user, Authentication::password(now), meta).await?;
    ctx.metrics.login(LoginOutcome::Success);
    let mut event = AuditEvent::new("login_succeeded")
        .user(session.session.user.id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "amr": session.session.session.authentication.amr }));
    if let Some(client_id) = target.client_id {
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
