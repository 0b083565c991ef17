//! Who may open the admin pages: a signed-in administrator whose session proved two
//! factors. A one-factor session steps up (or enrols TOTP first) on the way in.

use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::interaction::{Browser, ChangePasswordPage, Continuation, Step, start_challenge};
use crate::flows::session::SessionUser;
use crate::model::{Destination, SigningKeyRecord};
use crate::store::{AuditFilter, AuditRecord};

#[derive(Debug)]
pub enum AdminAccess {
    /// No session: sign in first.
    SignIn,
    /// Signed in, but not an administrator.
    Forbidden,
    /// An administrator who must first step up to two factors, or replace a temporary
    /// password: that page comes first.
    Interaction(Step),
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
        return Ok(AdminAccess::Interaction(page));
    }
    if session.user.password_change_required {
        let continuation = Continuation::Page(Destination::Admin);
        return Ok(AdminAccess::Interaction(Step::ChangePassword(ChangePasswordPage { continuation, error: None })));
    }
    Ok(AdminAccess::Granted(Box::new(session.clone())))
}

/// What the dashboard summarises.
#[derive(Debug, Clone)]
pub struct AdminOverview {
    pub users: u64,
    pub clients: u64,
    pub live_families: u64,
    pub logins_24h: u64,
    pub failed_logins_24h: u64,
    pub keys: Vec<SigningKeyRecord>,
    pub latest_events: Vec<AuditRecord>,
}

pub async fn overview(ctx: &Context<'_>) -> Result<AdminOverview, FlowError> {
    let now = ctx.clock.now();
    let day = |event: &str| AuditFilter {
        event: Some(event.to_owned()),
        since: Some(now - 86_400),
        ..AuditFilter::default()
    };
    let mut keys = ctx.store.list_signing_keys().await?;
    keys.retain(|k| k.state.is_published());
    Ok(AdminOverview {
        users: ctx.store.count_users().await?,
        clients: ctx.store.count_clients().await?,
        live_families: ctx.store.count_live_families(now).await?,
        logins_24h: ctx.store.count_audit_events(&day("login_succeeded")).await?,
        failed_logins_24h: ctx.store.count_audit_events(&day("login_failed")).await?,
        keys,
        latest_events: ctx.store.recent_audit_events(10).await?,
    })
}
