//! The messages wristband sends, one template pair (text and HTML) each.

use askama::Template;

use super::{Body, Message, site_name};
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::model::MailKind;

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct PasswordResetText<'a> {
    username: &'a str,
    site: &'a str,
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/password_reset.html")]
struct PasswordResetHtml<'a> {
    username: &'a str,
    site: &'a str,
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/password_changed.txt")]
struct PasswordChangedText<'a> {
    username: &'a str,
    site: &'a str,
    when: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.html")]
struct PasswordChangedHtml<'a> {
    username: &'a str,
    site: &'a str,
    when: &'a str,
}

fn rendered(result: askama::Result<String>) -> Result<String, FlowError> {
    result.map_err(|e| FlowError::Internal(Box::new(e)))
}

/// The link to choose a new password, valid for `minutes`.
pub fn password_reset(
    ctx: &Context<'_>,
    to: &str,
    username: &str,
    link: &str,
    minutes: i64,
) -> Result<Message, FlowError> {
    let site = site_name(&ctx.config.issuer);
    Ok(Message {
        kind: MailKind::PasswordReset,
        to: to.to_owned(),
        subject: format!("Choose a new password for {site}"),
        body: Body {
            text: rendered(PasswordResetText { username, site: &site, link, minutes }.render())?,
            html: rendered(PasswordResetHtml { username, site: &site, link, minutes }.render())?,
        },
    })
}

/// Notice that a reset changed the password.
pub fn password_changed(ctx: &Context<'_>, to: &str, username: &str) -> Result<Message, FlowError> {
    let site = site_name(&ctx.config.issuer);
    let when = crate::clock::format_rfc3339(ctx.clock.now());
    Ok(Message {
        kind: MailKind::PasswordChanged,
        to: to.to_owned(),
        subject: format!("Your password for {site} was changed"),
        body: Body {
            text: rendered(PasswordChangedText { username, site: &site, when: &when }.render())?,
            html: rendered(PasswordChangedHtml { username, site: &site, when: &when }.render())?,
        },
    })
}

#[derive(Template)]
#[template(path = "mail/verify_email.txt")]
struct VerifyEmailText<'a> {
    username: &'a str,
    site: &'a str,
    link: &'a str,
    hours: i64,
}

#[derive(Template)]
#[template(path = "mail/verify_email.html")]
struct VerifyEmailHtml<'a> {
    username: &'a str,
    site: &'a str,
    link: &'a str,
    hours: i64,
}

/// The link that proves an address.
pub fn verify_email(ctx: &Context<'_>, to: &str, username: &str, link: &str, hours: i64) -> Result<Message, FlowError> {
    let site = site_name(&ctx.config.issuer);
    Ok(Message {
        kind: MailKind::VerifyEmail,
        to: to.to_owned(),
        subject: format!("Confirm your email address for {site}"),
        body: Body {
            text: rendered(VerifyEmailText { username, site: &site, link, hours }.render())?,
            html: rendered(VerifyEmailHtml { username, site: &site, link, hours }.render())?,
        },
    })
}

#[derive(Template)]
#[template(path = "mail/email_changed.txt")]
struct EmailChangedText<'a> {
    username: &'a str,
    site: &'a str,
    new_address: &'a str,
    when: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_changed.html")]
struct EmailChangedHtml<'a> {
    username: &'a str,
    site: &'a str,
    new_address: &'a str,
    when: &'a str,
}

/// Notice to the old address that the account's address changed.
pub fn email_changed(ctx: &Context<'_>, to: &str, username: &str, new_address: &str) -> Result<Message, FlowError> {
    let site = site_name(&ctx.config.issuer);
    let when = crate::clock::format_rfc3339(ctx.clock.now());
    Ok(Message {
        kind: MailKind::EmailChanged,
        to: to.to_owned(),
        subject: format!("The email address of your {site} account changed"),
        body: Body {
            text: rendered(EmailChangedText { username, site: &site, new_address, when: &when }.render())?,
            html: rendered(EmailChangedHtml { username, site: &site, new_address, when: &when }.render())?,
        },
    })
}

#[derive(Template)]
#[template(path = "mail/invitation.txt")]
struct InvitationText<'a> {
    username: &'a str,
    site: &'a str,
    link: &'a str,
    hours: i64,
}

#[derive(Template)]
#[template(path = "mail/invitation.html")]
struct InvitationHtml<'a> {
    username: &'a str,
    site: &'a str,
    link: &'a str,
    hours: i64,
}

/// The link to choose the first password of an account made for the person.
pub fn invitation(ctx: &Context<'_>, to: &str, username: &str, link: &str, hours: i64) -> Result<Message, FlowError> {
    let site = site_name(&ctx.config.issuer);
    Ok(Message {
        kind: MailKind::Invitation,
        to: to.to_owned(),
        subject: format!("Your account at {site}"),
        body: Body {
            text: rendered(InvitationText { username, site: &site, link, hours }.render())?,
            html: rendered(InvitationHtml { username, site: &site, link, hours }.render())?,
        },
    })
}

#[derive(Template)]
#[template(path = "mail/sign_up_attempt.txt")]
struct SignUpAttemptText<'a> {
    username: &'a str,
    site: &'a str,
}

#[derive(Template)]
#[template(path = "mail/sign_up_attempt.html")]
struct SignUpAttemptHtml<'a> {
    username: &'a str,
    site: &'a str,
}

/// Notice to an address that already has an account, instead of a second account.
pub fn sign_up_attempt(ctx: &Context<'_>, to: &str, username: &str) -> Result<Message, FlowError> {
    let site = site_name(&ctx.config.issuer);
    Ok(Message {
        kind: MailKind::SignUpAttempt,
        to: to.to_owned(),
        subject: format!("Someone tried to sign up at {site} with your address"),
        body: Body {
            text: rendered(SignUpAttemptText { username, site: &site }.render())?,
            html: rendered(SignUpAttemptHtml { username, site: &site }.render())?,
        },
    })
}
