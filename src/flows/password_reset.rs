//! "Forgot your password?": a single-use link by mail, then a new password. Nothing tells
//! whether an account exists: the request page answers the same, at once, and the lookup
//! and the mail happen after the answer ([`send_reset_link`], spawned by the page). Limits
//! count per address and per typed name, known or not. The link (256 bits, stored hashed)
//! lasts 30 minutes, works once, dies when a newer one is sent or the password changes
//! otherwise, and goes only to a verified address. A reset never removes the second
//! factor: the reset page asks for a TOTP or recovery code before the password changes,
//! and signing in afterwards asks for the factor as before.

use super::Context;
use super::attempts;
use super::error::FlowError;
use super::mail::{self, messages};
use super::session::RequestMeta;
use super::totp::factor::{CodeCheck, check_code, explain};
use crate::model::{LinkPurpose, User, Username};
use crate::security::password::check_policy;
use crate::security::random::sha256_hex;
use crate::security::rate_limit::Throttled;
use crate::security::secret::SecretString;
use crate::store::{AuditEvent, LockoutPolicy};

/// How long a reset link works.
pub const RESET_LINK_SECONDS: i64 = 1_800;
/// How long an invitation works.
pub const INVITATION_SECONDS: i64 = 72 * 3_600;
/// The page both links open: a new password, by link.
const RESET_PATH: &str = "/password/reset";
/// Requests per typed name (an account or not) before it is refused for a while.
const REQUESTS_PER_NAME: LockoutPolicy = LockoutPolicy { max_failures: 3, lock_seconds: 900 };

/// What the request page says, whatever was typed.
pub const RESET_REQUESTED: &str = "If an account with a verified email address matches, a link to choose a new \
     password is on its way there. It works once, for 30 minutes.";

/// The typed name's counter: a hash (the 64 characters a throttle key holds) that a
/// prefix inside keeps apart from the login lockout of the same name.
fn throttle_key(identifier: &str) -> String {
    sha256_hex(&format!("reset:{}", identifier.trim().to_lowercase()))
}

/// Counts a request against the address's and the typed name's limits, the same whether
/// or not an account matches; `Throttled` beyond them.
pub async fn limit_reset_request(ctx: &Context<'_>, identifier: &str, meta: &RequestMeta) -> Result<(), FlowError> {
    ctx.limits.password_reset_per_ip.acquire(meta.rate_limit_key(), ctx.clock.now())?;
    let key = throttle_key(identifier);
    attempts::reserve(ctx, &key, REQUESTS_PER_NAME).await?;
    attempts::failed(ctx, &key, REQUESTS_PER_NAME).await?;
    Ok(())
}

/// Mails a reset link to each enabled account that `identifier` (a username, or a verified
/// email address) names and that has a verified address; how many were sent.
pub async fn send_reset_link(ctx: &Context<'_>, identifier: &str) -> Result<usize, FlowError> {
    let identifier = identifier.trim();
    let users = match Username::parse(identifier) {
        Ok(username) if !identifier.contains('@') => {
            ctx.store.find_user_by_username(&username).await?.into_iter().collect()
        }
        _ if identifier.contains('@') && identifier.len() <= 320 => {
            ctx.store.find_users_by_verified_email(identifier).await?
        }
        _ => Vec::new(),
    };
    let mut sent = 0;
    for user in users.into_iter().filter(|u| !u.disabled && u.email_verified) {
        let Some(email) = user.email.clone() else { continue };
        let username = user.username.as_str();
        mail::send_link(
            ctx,
            user.id,
            LinkPurpose::PasswordReset,
            &user.password_hash,
            RESET_LINK_SECONDS,
            RESET_PATH,
            |link| messages::password_reset(ctx, email.as_str(), username, link, RESET_LINK_SECONDS / 60),
        )
        .await?;
        ctx.store.record_audit(AuditEvent::new("password_reset_requested").user(user.id), ctx.clock.now()).await?;
        sent += 1;
    }
    Ok(sent)
}

/// The reset page for a link, if it still works: whose it is, and whether a code must
/// come with the new password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetPage {
    pub username: String,
    pub needs_code: bool,
    /// The first password of an invited account, rather than a new one.
    pub invitation: bool,
}

/// A link that sets a password, while it works: the account, the link's hash, and
/// whether it is an invitation (whose mail also proves the address).
async fn linked_user(ctx: &Context<'_>, token: &str) -> Result<Option<(User, String, bool)>, FlowError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let token_hash = sha256_hex(token);
    let Some(link) = ctx.store.find_mail_link(&token_hash, ctx.clock.now()).await? else { return Ok(None) };
    let invitation = match link.purpose {
        LinkPurpose::PasswordReset => false,
        LinkPurpose::Invitation => true,
        LinkPurpose::VerifyEmail => return Ok(None),
    };
    let user = ctx.store.find_user(link.user_id).await?;
    // A password changed since the link was sent makes it worthless.
    let user = user.filter(|u| !u.disabled && sha256_hex(&u.password_hash) == link.binding);
    Ok(user.map(|u| (u, token_hash, invitation)))
}

/// A second factor the reset must be answered with: TOTP or a recovery code (which a
/// passkey-only account got with its first passkey).
async fn needs_code(ctx: &Context<'_>, user: &User) -> Result<bool, FlowError> {
    Ok(user.has_totp() || !ctx.store.list_passkeys(user.id).await?.is_empty())
}

pub async fn open_reset(ctx: &Context<'_>, token: &str) -> Result<Option<ResetPage>, FlowError> {
    let Some((user, _, invitation)) = linked_user(ctx, token).await? else { return Ok(None) };
    Ok(Some(ResetPage { needs_code: needs_code(ctx, &user).await?, username: user.username.to_string(), invitation }))
}

/// The reset form as posted.
#[derive(Debug, Clone)]
pub struct NewPasswordByLink {
    pub token: String,
    pub new: SecretString,
    pub confirm: SecretString,
    pub code: String,
}

/// What a reset did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetOutcome {
    /// Changed; every session and refresh family of the account ended.
    Changed,
    /// The link expired, was used, or was superseded.
    Expired,
    /// Nothing changed, and why (the page shows it again).
    Refused { page: ResetPage, message: String },
}

pub async fn reset_password(
    ctx: &Context<'_>,
    form: NewPasswordByLink,
    meta: &RequestMeta,
) -> Result<ResetOutcome, FlowError> {
    let Some((user, token_hash, invitation)) = linked_user(ctx, &form.token).await? else {
        return Ok(ResetOutcome::Expired);
    };
    let page = ResetPage { needs_code: needs_code(ctx, &user).await?, username: user.username.to_string(), invitation };
    let refused = |message: String| Ok(ResetOutcome::Refused { page: page.clone(), message });
    if form.new.expose() != form.confirm.expose() {
        return refused("The new password and its confirmation differ. Nothing was changed.".into());
    }
    if let Err(policy) = check_policy(form.new.expose()) {
        return refused(format!("Nothing was changed: {policy}."));
    }
    if page.needs_code {
        let now = ctx.clock.now();
        match check_code(ctx, &user, &form.code, meta).await? {
            CodeCheck::Accepted(_) => {}
            CodeCheck::Locked { until } => return Err(Throttled::until(until, now).into()),
            wrong => return refused(explain(wrong, now).unwrap_or_default()),
        }
    }
    let hash = ctx.hasher.hash(&form.new).await?;
    let now = ctx.clock.now();
    if !ctx.store.use_mail_link(&token_hash, now).await? {
        return Ok(ResetOutcome::Expired);
    }
    let ended = ctx.store.set_user_password_hash(user.id, hash, false, None, now).await?;
    let event = AuditEvent::new(if invitation { "invitation_accepted" } else { "password_reset" })
        .user(user.id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "sessions_ended": ended.sessions, "families_revoked": ended.families }));
    ctx.store.record_audit(event, now).await?;
    match (&user.email, invitation) {
        // The invitation reached this address: it is proven.
        (Some(email), true) => {
            ctx.store.set_email_verified(user.id, email, now).await?;
        }
        (Some(email), false) if user.email_verified => {
            mail::queue(ctx, messages::password_changed(ctx, email.as_str(), user.username.as_str())?).await?;
        }
        _ => {}
    }
    Ok(ResetOutcome::Changed)
}
