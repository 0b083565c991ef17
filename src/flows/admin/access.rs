//! Who may open the admin pages: a signed-in administrator whose session proved two
//! factors (a passkey, when `admin.require_phishing_resistant`). A weaker session steps up
//! (or enrols TOTP first) on the way in.

use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::interaction::{Browser, ChangePasswordPage, Continuation, SecondFactors, Step, start_challenge};
use crate::flows::session::SessionUser;
use crate::model::{AssuranceLevel, Destination, SigningKeyRecord};
use crate::store::{AuditFilter, AuditRecord};

#[derive(Debug)]
pub enum AdminAccess {
    /// No session: sign in first.
    SignIn,
    /// Signed in, but not an administrator.
    Forbidden,
    /// An administrator who must first step up to two factors, or replace a temporary
    /// password: [`admin_step`] makes that page.
    StepFirst,
    Granted(Box<SessionUser>),
}

/// Who the browser's session is to the admin pages. Decides only: nothing is written.
pub fn admin_access(ctx: &Context<'_>, browser: &Browser) -> AdminAccess {
    let Some(session) = &browser.session else { return AdminAccess::SignIn };
    if !session.user.is_admin {
        return AdminAccess::Forbidden;
    }
    if session.session.authentication.level() < admin_level(ctx) || session.user.password_change_required {
        return AdminAccess::StepFirst;
    }
    AdminAccess::Granted(Box::new(session.clone()))
}

fn admin_level(ctx: &Context<'_>) -> AssuranceLevel {
    Destination::Admin.required_level(ctx.config.admin.require_phishing_resistant)
}

/// The page an administrator's session must pass first: the second factor (or its
/// enrolment), then a new password if the current one is temporary. `None` when there is
/// nothing to do (no such session any more, or it is ready).
pub async fn admin_step(ctx: &Context<'_>, browser: &Browser) -> Result<Option<Step>, FlowError> {
    let Some(session) = browser.session.as_ref().filter(|s| s.user.is_admin) else { return Ok(None) };
    let continuation = Continuation::Page(Destination::Admin);
    if session.session.authentication.level() < admin_level(ctx) {
        let factors = SecondFactors::of(ctx, &session.user).await?;
        let sid = Some(session.session.sid);
        let step = start_challenge(ctx, &session.user, &factors, browser, sid, &continuation, admin_level(ctx)).await?;
        return Ok(Some(step));
    }
    if session.user.password_change_required {
        return Ok(Some(Step::ChangePassword(ChangePasswordPage { continuation, error: None })));
    }
    Ok(None)
}

/// What the dashboard summarises.
#[derive(Debug, Clone)]
pub struct AdminOverview {
    pub users: u64,
    pub clients: u64,
    pub apis: u64,
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
        apis: ctx.store.count_apis().await?,
        live_families: ctx.store.count_live_families(now).await?,
        logins_24h: ctx.store.count_audit_events(&day("login_succeeded")).await?,
        failed_logins_24h: ctx.store.count_audit_events(&day("login_failed")).await?,
        keys,
        latest_events: ctx.store.recent_audit_events(10).await?,
    })
}
