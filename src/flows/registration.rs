//! Sign-up by the people themselves (`registration.enabled`, off by default): a username,
//! an address and a password make an account that signs in only once the address is
//! verified by the link mailed to it. An address that a verified account already uses
//! gets a notice instead, and the page answers the same: the form tells nobody which
//! addresses have accounts. (A taken *username* is said to be taken, as everywhere
//! usernames are chosen.)

use super::admin::{UserInput, add_user};
use super::error::FlowError;
use super::mail::{self, messages};
use super::session::RequestMeta;
use super::{Actor, Context};
use crate::model::{Email, Username};
use crate::security::password::check_policy;
use crate::security::secret::SecretString;
use crate::store::AuditEvent;

/// The sign-up form as posted.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub username: String,
    pub email: String,
    pub password: SecretString,
    pub confirm: SecretString,
}

/// The sign-up page exists only where sign-up is open.
pub fn registration_open(ctx: &Context<'_>) -> Result<(), FlowError> {
    if ctx.config.registration.enabled {
        Ok(())
    } else {
        Err(FlowError::mistake("Sign-up is not open here. Ask your administrator for an account."))
    }
}

/// Signs up; `Ok` means the page says "check your email", whatever happened to the address.
pub async fn sign_up(ctx: &Context<'_>, form: SignUp, meta: &RequestMeta) -> Result<(), FlowError> {
    registration_open(ctx)?;
    let settings = &ctx.config.registration;
    ctx.limits.registration_per_ip.acquire(meta.rate_limit_key(), ctx.clock.now())?;
    let username = Username::parse(&form.username)?;
    let email = Email::parse(form.email.trim())?;
    let domain = email.as_str().rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
    if !settings.allowed_domains.is_empty() && !settings.allowed_domains.contains(&domain) {
        return Err(FlowError::Mistake(format!("Addresses at {domain} cannot sign up here.")));
    }
    if form.password.expose() != form.confirm.expose() {
        return Err(FlowError::mistake("The password and its confirmation differ."));
    }
    check_policy(form.password.expose()).map_err(|policy| FlowError::Mistake(format!("{policy}.")))?;
    if let Some(owner) = ctx.store.find_users_by_verified_email(email.as_str()).await?.first() {
        // The notice goes to the address as the owner stored it, not as typed here.
        let to = owner.email.as_ref().map_or(email.as_str(), |stored| stored.as_str());
        let notice = messages::sign_up_attempt(ctx, to, owner.username.as_str())?;
        // The account that is made below costs a password hash; so does this answer,
        // or the page's timing would tell which addresses have accounts.
        ctx.hasher.hash(&form.password).await?;
        mail::queue(ctx, notice).await?;
        let event = AuditEvent::new("sign_up_refused").user(owner.id).ip(meta.ip.clone());
        ctx.store
            .record_audit(event.details(serde_json::json!({ "reason": "address in use" })), ctx.clock.now())
            .await?;
        return Ok(());
    }
    if ctx.store.find_user_by_username(&username).await?.is_some() {
        return Err(FlowError::Mistake(format!("The username {username} is taken. Choose another.")));
    }
    let input = UserInput {
        username: username.to_string(),
        email: Some(email.to_string()),
        password: Some(form.password),
        verify_before_sign_in: true,
        ..UserInput::default()
    };
    add_user(ctx, input, Actor::SignUp).await?;
    Ok(())
}
