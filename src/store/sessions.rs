//! Browser sessions and the refresh-token families bound to them.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use super::backchannel::enqueue_logouts;
use super::entities::{browser_session, refresh_family};
use super::{Store, StoreError};
use crate::clock::UnixTime;
use crate::model::{Authentication, BrowserSession, OFFLINE_ACCESS, RevocationReason};

/// How many sessions and refresh-token families an action ended, for the audit log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionsEnded {
    pub sessions: u64,
    pub families: u64,
}

/// A session about to start; `id_hash` is the SHA-256 of the cookie value.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id_hash: String,
    pub user_id: Uuid,
    pub authentication: Authentication,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub expires_at: UnixTime,
}

impl TryFrom<browser_session::Model> for BrowserSession {
    type Error = StoreError;

    fn try_from(row: browser_session::Model) -> Result<Self, StoreError> {
        Ok(BrowserSession {
            sid: row.sid,
            user_id: row.user_id,
            authentication: Authentication::from_stored(row.auth_time, row.acr, &row.amr)?,
            expires_at: row.expires_at,
        })
    }
}

impl Store {
    pub async fn create_session(&self, new: NewSession, now: UnixTime) -> Result<BrowserSession, StoreError> {
        let row = browser_session::ActiveModel {
            id_hash: Set(new.id_hash),
            sid: Set(Uuid::new_v4()),
            user_id: Set(new.user_id),
            auth_time: Set(new.authentication.auth_time),
            acr: Set(new.authentication.acr.clone()),
            amr: Set(new.authentication.amr_json()),
            user_agent: Set(new.user_agent.map(|ua| ua.chars().take(512).collect())),
            ip: Set(new.ip),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(new.expires_at),
            ended_at: Set(None),
        }
        .insert(&self.db)
        .await?;
        BrowserSession::try_from(row)
    }

    /// The live session behind a cookie: not ended, not expired.
    pub async fn find_live_session(&self, id_hash: &str, now: UnixTime) -> Result<Option<BrowserSession>, StoreError> {
        let row = browser_session::Entity::find_by_id(id_hash.to_owned())
            .filter(browser_session::Column::EndedAt.is_null())
            .filter(browser_session::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?;
        row.map(BrowserSession::try_from).transpose()
    }

    /// Ends one session and revokes the refresh-token families bound to it, except
    /// `offline_access` families, which outlive it.
    pub async fn end_session(
        &self,
        sid: Uuid,
        reason: RevocationReason,
        now: UnixTime,
    ) -> Result<SessionsEnded, StoreError> {
        let txn = self.write_transaction().await?;
        let live = browser_session::Entity::find()
            .filter(browser_session::Column::Sid.eq(sid))
            .filter(browser_session::Column::EndedAt.is_null())
            .one(&txn)
            .await?;
        let sessions = browser_session::Entity::update_many()
            .col_expr(browser_session::Column::EndedAt, Expr::value(now))
            .filter(browser_session::Column::Sid.eq(sid))
            .filter(browser_session::Column::EndedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if let (Some(session), 1) = (live, sessions) {
            enqueue_logouts(&txn, sid, session.user_id, now).await?;
        }
        let families = refresh_family::Entity::update_many()
            .col_expr(refresh_family::Column::RevokedAt, Expr::value(now))
            .col_expr(refresh_family::Column::RevokedReason, Expr::value(reason.as_str()))
            .filter(refresh_family::Column::Sid.eq(sid))
            .filter(refresh_family::Column::RevokedAt.is_null())
            // Scope tokens come from a fixed list, so no other scope contains this text.
            .filter(refresh_family::Column::Scope.not_like(format!("%{OFFLINE_ACCESS}%")))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        Ok(SessionsEnded { sessions, families })
    }

    /// Ends every session and revokes every refresh-token family of a user.
    pub async fn end_user_sessions(
        &self,
        user_id: Uuid,
        reason: RevocationReason,
        now: UnixTime,
    ) -> Result<SessionsEnded, StoreError> {
        let txn = self.write_transaction().await?;
        let ended = end_user_sessions_and_families(&txn, user_id, reason, now).await?;
        txn.commit().await?;
        Ok(ended)
    }

    /// Whether the browser session `sid` is still live (an access token's `sid`).
    pub async fn session_is_live(&self, sid: Uuid, now: UnixTime) -> Result<bool, StoreError> {
        let row = browser_session::Entity::find()
            .filter(browser_session::Column::Sid.eq(sid))
            .filter(browser_session::Column::EndedAt.is_null())
            .filter(browser_session::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?;
        Ok(row.is_some())
    }
}

/// Ends every live browser session of a user and revokes every live refresh-token
/// family, inside the caller's transaction.
pub(super) async fn end_user_sessions_and_families(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    reason: RevocationReason,
    now: UnixTime,
) -> Result<SessionsEnded, StoreError> {
    let live: Vec<Uuid> = browser_session::Entity::find()
        .select_only()
        .column(browser_session::Column::Sid)
        .filter(browser_session::Column::UserId.eq(user_id))
        .filter(browser_session::Column::EndedAt.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    for sid in live {
        enqueue_logouts(conn, sid, user_id, now).await?;
    }
    let sessions = browser_session::Entity::update_many()
        .col_expr(browser_session::Column::EndedAt, Expr::value(now))
        .filter(browser_session::Column::UserId.eq(user_id))
        .filter(browser_session::Column::EndedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    let families = refresh_family::Entity::update_many()
        .col_expr(refresh_family::Column::RevokedAt, Expr::value(now))
        .col_expr(refresh_family::Column::RevokedReason, Expr::value(reason.as_str()))
        .filter(refresh_family::Column::UserId.eq(user_id))
        .filter(refresh_family::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    Ok(SessionsEnded { sessions, families })
}
