//! Browser sessions and the refresh-token families bound to them.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::StoreError;
use super::entities::{browser_session, refresh_family};
use crate::clock::UnixTime;

/// How many sessions and refresh-token families an action ended, for the audit log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionsEnded {
    pub sessions: u64,
    pub families: u64,
}

/// Ends every live browser session of a user and revokes every live refresh-token
/// family, inside the caller's transaction.
pub(super) async fn end_user_sessions_and_families(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    reason: &str,
    now: UnixTime,
) -> Result<SessionsEnded, StoreError> {
    let sessions = browser_session::Entity::update_many()
        .col_expr(browser_session::Column::EndedAt, Expr::value(now))
        .filter(browser_session::Column::UserId.eq(user_id))
        .filter(browser_session::Column::EndedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    let families = refresh_family::Entity::update_many()
        .col_expr(refresh_family::Column::RevokedAt, Expr::value(now))
        .col_expr(refresh_family::Column::RevokedReason, Expr::value(reason))
        .filter(refresh_family::Column::UserId.eq(user_id))
        .filter(refresh_family::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    Ok(SessionsEnded { sessions, families })
}
