//! What the admin pages read: users, clients, families and audit events one page at a
//! time, and a user with their live sessions and families. Reads only; nothing is audited.

use uuid::Uuid;

use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::model::{Client, ClientId, PasskeyRecord, QueuedMail, User, Username};
use crate::store::{AuditFilter, AuditRecord, FamilyAdminRecord, SessionRecord};

/// A page of users whose username, name or email contains `query`, and how many match.
pub async fn search_users(
    ctx: &Context<'_>,
    query: &str,
    offset: u64,
    limit: u64,
) -> Result<(Vec<User>, u64), FlowError> {
    Ok(ctx.store.search_users(query, offset, limit).await?)
}

/// The user with this `sub`; `None` for anything else.
pub async fn find_user(ctx: &Context<'_>, sub: &str) -> Result<Option<User>, FlowError> {
    let Ok(id) = Uuid::parse_str(sub) else { return Ok(None) };
    Ok(ctx.store.find_user(id).await?)
}

/// A user as the admin page shows them: their live sessions and newest families.
pub struct UserDetails {
    pub sessions: Vec<SessionRecord>,
    pub families: Vec<FamilyAdminRecord>,
    pub passkeys: Vec<PasskeyRecord>,
}

pub async fn user_details(ctx: &Context<'_>, user: &User, families: u64) -> Result<UserDetails, FlowError> {
    Ok(UserDetails {
        sessions: ctx.store.list_live_sessions(user.id, ctx.clock.now()).await?,
        families: ctx.store.search_families(Some(user.id), None, 0, families).await?,
        passkeys: ctx.store.list_passkeys(user.id).await?,
    })
}

/// The user a list filter names, by username or `sub`: `None` when the filter is empty;
/// an unknown name matches nobody (the nil id).
pub async fn user_filter(ctx: &Context<'_>, text: &str) -> Result<Option<Uuid>, FlowError> {
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(Some(id));
    }
    let found = match Username::parse(text) {
        Ok(username) => ctx.store.find_user_by_username(&username).await?,
        Err(_) => None,
    };
    Ok(Some(found.map_or(Uuid::nil(), |u| u.id)))
}

pub async fn find_client(ctx: &Context<'_>, client_id: &str) -> Result<Option<Client>, FlowError> {
    let Ok(id) = ClientId::parse(client_id) else { return Ok(None) };
    Ok(ctx.store.find_client(&id).await?)
}

/// Refresh-token families, newest first, filtered by user and client.
pub async fn search_families(
    ctx: &Context<'_>,
    user_id: Option<Uuid>,
    client_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Vec<FamilyAdminRecord>, FlowError> {
    Ok(ctx.store.search_families(user_id, client_id, offset, limit).await?)
}

/// Audit events matching `filter`, newest first.
pub async fn search_audit(
    ctx: &Context<'_>,
    filter: &AuditFilter,
    offset: u64,
    limit: u64,
) -> Result<Vec<AuditRecord>, FlowError> {
    Ok(ctx.store.search_audit(filter, offset, limit).await?)
}

/// The latest messages of the outbox, newest first: what was queued, sent or given up on.
pub async fn recent_mail(ctx: &Context<'_>, limit: u64) -> Result<Vec<QueuedMail>, FlowError> {
    Ok(ctx.store.recent_mail(limit).await?)
}
