//! Who may open the admin pages: a signed-in administrator whose session proved two
//! factors. A one-factor session steps up (or enrols TOTP first) on the way in.

use crate::flows::Context;
use crate::flows::authorize::{AuthorizeOutcome, Browser, Continuation};
use crate::flows::error::FlowError;
use crate::flows::mfa::start_challenge;
use crate::flows::session::SessionUser;
use crate::model::{Destination, KeyState};

#[derive(Debug)]
pub enum AdminAccess {
    /// No session: sign in first.
    SignIn,
    /// Signed in, but not an administrator.
    Forbidden,
    /// An administrator whose session has one factor: the second step comes first.
    SecondFactor(AuthorizeOutcome),
    Granted(Box<SessionUser>),
}

pub async fn admin_access(ctx: &Context<'_>, browser: &Browser) -> Result<AdminAccess, FlowError> {
    let Some(session) = &browser.session else { return Ok(AdminAccess::SignIn) };
    if !session.user.is_admin {
        return Ok(AdminAccess::Forbidden);
    }
    if !session.session.authentication.is_two_factor() {
        let continuation = Continuation::Page(Destination::Admin);
        let page = start_challenge(ctx, &session.user, browser, Some(session.session.sid), &continuation).await?;
        return Ok(AdminAccess::SecondFactor(page));
    }
    Ok(AdminAccess::Granted(Box::new(session.clone())))
}

/// What the admin home page summarises.
#[derive(Debug, Clone)]
pub struct AdminOverview {
    pub users: usize,
    pub clients: usize,
    pub active_kid: Option<String>,
}

pub async fn overview(ctx: &Context<'_>) -> Result<AdminOverview, FlowError> {
    let keys = ctx.store.list_signing_keys().await?;
    Ok(AdminOverview {
        users: ctx.store.list_users().await?.len(),
        clients: ctx.store.list_clients().await?.len(),
        active_kid: keys.into_iter().find(|k| k.state == KeyState::Active).map(|k| k.kid),
    })
}
