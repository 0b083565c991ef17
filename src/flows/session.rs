//! Browser sessions: the cookie that makes single sign-on work. The cookie holds 256
//! random bits; the database keeps only their SHA-256.

use uuid::Uuid;

use super::Context;
use super::error::FlowError;
use crate::clock::UnixTime;
use crate::model::{Authentication, BrowserSession, RevocationReason, User};
use crate::security::random::{opaque_secret, sha256_hex};
use crate::store::{AuditEvent, NewSession};

/// How recent a sign-in must be to add a way into the account (a passkey, a linked
/// upstream identity) or remove one: made only by someone who just proved they own it, not
/// by whoever holds a stolen session.
pub const RECENT_SIGN_IN_SECONDS: i64 = 300;

/// A live session and its (enabled) user.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session: BrowserSession,
    pub user: User,
}

impl SessionUser {
    /// Whether this session signed in within [`RECENT_SIGN_IN_SECONDS`] of `now`.
    pub fn signed_in_recently(&self, now: UnixTime) -> bool {
        now - self.session.authentication.auth_time <= RECENT_SIGN_IN_SECONDS
    }
}

/// Where a request came from, for the session list and the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// What per-address limits count under; requests without an address share one count.
    pub fn rate_limit_key(&self) -> &str {
        self.ip.as_deref().unwrap_or("unknown")
    }
}

/// A new session: the secret for the cookie, and what it stands for.
#[derive(Debug, Clone)]
pub struct StartedSession {
    pub cookie_value: String,
    pub max_age_seconds: i64,
    pub session: SessionUser,
}

/// What a browser's session cookie stands for.
#[derive(Debug, Clone)]
pub enum CookieSession {
    /// No cookie, or one for a session that ended, expired, or whose user may not sign in.
    None,
    Live(Box<SessionUser>),
    /// The session was live but unused for longer than `sessions.idle_seconds`: it has
    /// just been ended, and the login page says why.
    EndedIdle,
}

/// The session behind a cookie. A session unused for longer than `sessions.idle_seconds`
/// ends now, like a logout (its families and back-channel notices included); a used one
/// records its use, at most once a minute.
pub async fn current_session(ctx: &Context<'_>, cookie_value: Option<&str>) -> Result<CookieSession, FlowError> {
    let Some(cookie_value) = cookie_value.filter(|v| v.len() <= 128) else { return Ok(CookieSession::None) };
    let now = ctx.clock.now();
    let Some(session) = ctx.store.find_live_session(&sha256_hex(cookie_value), now).await? else {
        return Ok(CookieSession::None);
    };
    let idle = ctx.config.sessions.idle_seconds;
    if idle > 0 && now - session.last_seen_at > idle {
        end_session(ctx, session.sid, session.user_id, RevocationReason::SessionIdle).await?;
        return Ok(CookieSession::EndedIdle);
    }
    if now - session.last_seen_at >= 60 {
        ctx.store.touch_session(session.sid, now).await?;
    }
    let user = ctx.store.find_user(session.user_id).await?;
    Ok(match user.filter(|u| !u.disabled) {
        Some(user) => CookieSession::Live(Box::new(SessionUser { session, user })),
        None => CookieSession::None,
    })
}

/// Starts a session for a person who just proved who they are. Always a new id, so a
/// session id planted before login is worthless after it (no fixation).
pub async fn start_session(
    ctx: &Context<'_>,
    user: User,
    authentication: Authentication,
    meta: &RequestMeta,
) -> Result<StartedSession, FlowError> {
    let cookie_value = opaque_secret("")?;
    let now = ctx.clock.now();
    let max_age_seconds = ctx.config.sessions.lifetime_seconds;
    let session = ctx
        .store
        .create_session(
            NewSession {
                id_hash: sha256_hex(&cookie_value),
                user_id: user.id,
                authentication,
                user_agent: meta.user_agent.clone(),
                ip: meta.ip.clone(),
                expires_at: now + max_age_seconds,
            },
            now,
        )
        .await?;
    Ok(StartedSession { cookie_value, max_age_seconds, session: SessionUser { session, user } })
}

/// The session a completed login leaves in this browser. The same person signing in again
/// (to re-authenticate, or for `prompt=login`) keeps their session — its `sid`, and the
/// applications signed in through it — under a new cookie and the new authentication;
/// anyone else's session here ends first.
pub async fn establish_session(
    ctx: &Context<'_>,
    current: Option<&SessionUser>,
    user: User,
    authentication: Authentication,
    meta: &RequestMeta,
) -> Result<StartedSession, FlowError> {
    match current {
        Some(current) if current.user.id == user.id => {
            let current = SessionUser { user, ..current.clone() };
            if let Some(raised) = elevate_session(ctx, &current, authentication.clone()).await? {
                return Ok(raised);
            }
            start_session(ctx, current.user, authentication, meta).await
        }
        Some(other) => {
            end_session(ctx, other.session.sid, other.user.id, RevocationReason::ReplacedByLogin).await?;
            start_session(ctx, user, authentication, meta).await
        }
        None => start_session(ctx, user, authentication, meta).await,
    }
}

/// Raises a live session to a stronger authentication (a step-up). The cookie value is
/// replaced, as after any change of privilege, while the `sid` stays. `None` when the
/// session ended meanwhile.
pub async fn elevate_session(
    ctx: &Context<'_>,
    current: &SessionUser,
    authentication: Authentication,
) -> Result<Option<StartedSession>, FlowError> {
    let cookie_value = opaque_secret("")?;
    let now = ctx.clock.now();
    let elevated =
        ctx.store.elevate_session(current.session.sid, sha256_hex(&cookie_value), &authentication, now).await?;
    Ok(elevated.map(|session| StartedSession {
        cookie_value,
        max_age_seconds: session.expires_at - now,
        session: SessionUser { session, user: current.user.clone() },
    }))
}

/// Ends a session and the refresh-token families bound to it; audited when a live session
/// actually ended.
pub async fn end_session(
    ctx: &Context<'_>,
    sid: Uuid,
    user_id: Uuid,
    reason: RevocationReason,
) -> Result<(), FlowError> {
    let now = ctx.clock.now();
    let ended = ctx.store.end_session(sid, reason, now).await?;
    if ended.sessions == 0 {
        return Ok(());
    }
    let event = AuditEvent::new("session_ended")
        .user(user_id)
        .details(serde_json::json!({ "sid": sid, "reason": reason.as_str(), "families_revoked": ended.families }));
    ctx.store.record_audit(event, now).await?;
    Ok(())
}
