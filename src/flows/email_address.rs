//! Verified addresses: an address set or changed (by an administrator, the CLI, or the
//! person on `/account`) is unverified until the person follows the link mailed to it;
//! until then `email_verified` is false in ID tokens and userinfo, and no reset link goes
//! there. The old address, when it was verified, hears of the change.

use super::Context;
use super::error::FlowError;
use super::mail::{self, messages};
use crate::model::{Email, LinkPurpose, User};
use crate::security::random::sha256_hex;
use crate::store::AuditEvent;

/// How long a verification link works.
pub const VERIFY_LINK_SECONDS: i64 = 86_400;
const VERIFY_PATH: &str = "/email/verify";

/// Mails a verification link to the user's address, if it has one not yet verified.
pub async fn send_verification(ctx: &Context<'_>, user: &User) -> Result<(), FlowError> {
    let Some(email) = user.email.as_ref().filter(|_| !user.email_verified) else { return Ok(()) };
    let username = user.username.as_str();
    mail::send_link(ctx, user.id, LinkPurpose::VerifyEmail, email.as_str(), VERIFY_LINK_SECONDS, VERIFY_PATH, |link| {
        messages::verify_email(ctx, email.as_str(), username, link, VERIFY_LINK_SECONDS / 3_600)
    })
    .await
}

/// After an address changed from `before`'s to `after`'s: a link to the new one, and a
/// notice to the old one when it was verified.
pub async fn address_changed(ctx: &Context<'_>, before: &User, after: &User) -> Result<(), FlowError> {
    if before.email == after.email {
        return Ok(());
    }
    send_verification(ctx, after).await?;
    if let (Some(old), true) = (&before.email, before.email_verified) {
        let new = after.email.as_ref().map_or("(none)", Email::as_str);
        mail::queue(ctx, messages::email_changed(ctx, old.as_str(), after.username.as_str(), new)?).await?;
    }
    Ok(())
}

/// The address a verification link proves, while it works.
pub async fn open_verification(ctx: &Context<'_>, token: &str) -> Result<Option<(User, Email)>, FlowError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let link = ctx.store.find_mail_link(&sha256_hex(token), ctx.clock.now()).await?;
    let Some(link) = link.filter(|l| l.purpose == LinkPurpose::VerifyEmail) else { return Ok(None) };
    let Some(user) = ctx.store.find_user(link.user_id).await? else { return Ok(None) };
    // An address changed since the link was sent is not the one it proves.
    let email = user.email.clone().filter(|e| sha256_hex(e.as_str()) == link.binding);
    Ok(email.map(|email| (user, email)))
}

/// Follows a verification link; `false` when it no longer works.
pub async fn verify_email(ctx: &Context<'_>, token: &str) -> Result<bool, FlowError> {
    let Some((user, email)) = open_verification(ctx, token).await? else { return Ok(false) };
    let now = ctx.clock.now();
    if !ctx.store.use_mail_link(&sha256_hex(token), now).await?
        || !ctx.store.set_email_verified(user.id, &email, now).await?
    {
        return Ok(false);
    }
    ctx.store.record_audit(AuditEvent::new("email_verified").user(user.id), now).await?;
    Ok(true)
}
