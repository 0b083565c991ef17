//! Browser sessions and the refresh-token families bound to them.

use sea_orm::sea_query::{Expr, IntoColumnRef, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::backchannel::enqueue_logouts;
use super::entities::{browser_session, refresh_family};
use super::refresh::holds_offline_access;
use super::{Store, StoreError};
use crate::clock::UnixTime;
use crate::model::{Authentication, BrowserSession, RevocationReason};

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
            last_seen_at: row.last_seen_at,
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

    /// Records that the session's cookie was used at `now`, unless that was already done
    /// within the last minute (one write a minute at most, however busy the browser).
    pub async fn touch_session(&self, sid: Uuid, now: UnixTime) -> Result<(), StoreError> {
        browser_session::Entity::update_many()
            .col_expr(browser_session::Column::LastSeenAt, Expr::value(now))
            .filter(browser_session::Column::Sid.eq(sid))
            .filter(browser_session::Column::LastSeenAt.lte(now - 60))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Ends one session and revokes the refresh-token families bound to it, except
    /// `offline_access` families, which outlive it.
    pub async fn end_session(
        &self,
        sid: Uuid,
        reason: RevocationReason,
        now: UnixTime,
    ) -> Result<SessionsEnded, StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            let live = browser_session::Entity::find()
                .filter(browser_session::Column::Sid.eq(sid))
                .filter(browser_session::Column::EndedAt.is_null())
                .one(&*txn)
                .await?;
            let sessions = browser_session::Entity::update_many()
                .col_expr(browser_session::Column::EndedAt, Expr::value(now))
                .filter(browser_session::Column::Sid.eq(sid))
                .filter(browser_session::Column::EndedAt.is_null())
                .exec(&*txn)
                .await?
                .rows_affected;
            if let (Some(session), 1) = (live, sessions) {
                enqueue_logouts(&*txn, sid, session.user_id, now).await?;
            }
            let families = refresh_family::Entity::update_many()
                .col_expr(refresh_family::Column::RevokedAt, Expr::value(now))
                .col_expr(refresh_family::Column::RevokedReason, Expr::value(reason.as_str()))
                .filter(refresh_family::Column::Sid.eq(sid))
                .filter(refresh_family::Column::RevokedAt.is_null())
                .filter(holds_offline_access().not())
                .exec(&*txn)
                .await?
                .rows_affected;
            txn.commit().await?;
            Ok(SessionsEnded { sessions, families })
        })
        .await
    }

    /// Ends every session and revokes every refresh-token family of a user, but the
    /// session `keep` and its families.
    pub async fn end_user_sessions(
        &self,
        user_id: Uuid,
        keep: Option<Uuid>,
        reason: RevocationReason,
        now: UnixTime,
    ) -> Result<SessionsEnded, StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            let ended = end_user_sessions_and_families(&*txn, user_id, keep, reason, now).await?;
            txn.commit().await?;
            Ok(ended)
        })
        .await
    }

    /// Records a stronger authentication for a live session under a new cookie value; the
    /// `sid` (and so every token and family of the session) stays. `None` once it ended.
    pub async fn elevate_session(
        &self,
        sid: Uuid,
        new_id_hash: String,
        authentication: &Authentication,
        now: UnixTime,
    ) -> Result<Option<BrowserSession>, StoreError> {
        let updated = browser_session::Entity::update_many()
            .col_expr(browser_session::Column::IdHash, Expr::value(new_id_hash.clone()))
            .col_expr(browser_session::Column::AuthTime, Expr::value(authentication.auth_time))
            .col_expr(browser_session::Column::Acr, Expr::value(authentication.acr.clone()))
            .col_expr(browser_session::Column::Amr, Expr::value(authentication.amr_json()))
            .col_expr(browser_session::Column::LastSeenAt, Expr::value(now))
            .filter(browser_session::Column::Sid.eq(sid))
            .filter(browser_session::Column::EndedAt.is_null())
            .filter(browser_session::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(None);
        }
        self.find_live_session(&new_id_hash, now).await
    }

    /// A user's live sessions, newest first.
    pub async fn list_live_sessions(&self, user_id: Uuid, now: UnixTime) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = browser_session::Entity::find()
            .filter(browser_session::Column::UserId.eq(user_id))
            .filter(browser_session::Column::EndedAt.is_null())
            .filter(browser_session::Column::ExpiresAt.gt(now))
            .order_by_desc(browser_session::Column::CreatedAt)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| SessionRecord {
                sid: row.sid,
                acr: row.acr,
                amr: row.amr,
                user_agent: row.user_agent,
                ip: row.ip,
                created_at: row.created_at,
                last_seen_at: row.last_seen_at,
            })
            .collect())
    }
}

/// How long a browser session stays live, as read with something bound to it (a code, a
/// refresh-token family): its expiry while it has not ended; `None` once it ended, or
/// when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLiveUntil(pub Option<UnixTime>);

impl SessionLiveUntil {
    /// Whether the session is live at `now`: the rule of `live_session`.
    pub fn is_live(self, now: UnixTime) -> bool {
        self.0.is_some_and(|expires_at| now < expires_at)
    }
}

/// `SessionLiveUntil` of the session named by the column `sid` of the enclosing query.
pub(super) fn session_live_until(sid: impl IntoColumnRef) -> Expr {
    use sea_orm::sea_query::ExprTrait;
    let expires_at = Query::select()
        .column(browser_session::Column::ExpiresAt)
        .from(browser_session::Entity)
        .and_where(Expr::col((browser_session::Entity, browser_session::Column::Sid)).equals(sid))
        .and_where(browser_session::Column::EndedAt.is_null())
        .to_owned();
    Expr::SubQuery(None, Box::new(expires_at.into()))
}

/// The browser session `sid`, while it has neither ended nor expired.
pub(super) fn live_session(sid: Uuid, now: UnixTime) -> Condition {
    Condition::all()
        .add(browser_session::Column::Sid.eq(sid))
        .add(browser_session::Column::EndedAt.is_null())
        .add(browser_session::Column::ExpiresAt.gt(now))
}

/// Ends every live browser session of a user and revokes every live refresh-token
/// family, except the session `keep` and the families bound to it, inside the caller's
/// transaction.
pub(super) async fn end_user_sessions_and_families(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: RevocationReason,
    now: UnixTime,
) -> Result<SessionsEnded, StoreError> {
    let other_sessions = || {
        let mut condition = Condition::all()
            .add(browser_session::Column::UserId.eq(user_id))
            .add(browser_session::Column::EndedAt.is_null());
        if let Some(keep) = keep {
            condition = condition.add(browser_session::Column::Sid.ne(keep));
        }
        condition
    };
    let live: Vec<Uuid> = browser_session::Entity::find()
        .select_only()
        .column(browser_session::Column::Sid)
        .filter(other_sessions())
        .into_tuple()
        .all(conn)
        .await?;
    for sid in live {
        enqueue_logouts(conn, sid, user_id, now).await?;
    }
    let sessions = browser_session::Entity::update_many()
        .col_expr(browser_session::Column::EndedAt, Expr::value(now))
        .filter(other_sessions())
        .exec(conn)
        .await?
        .rows_affected;
    let mut families = Condition::all()
        .add(refresh_family::Column::UserId.eq(user_id))
        .add(refresh_family::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        families = families
            .add(Condition::any().add(refresh_family::Column::Sid.is_null()).add(refresh_family::Column::Sid.ne(keep)));
    }
    let families = refresh_family::Entity::update_many()
        .col_expr(refresh_family::Column::RevokedAt, Expr::value(now))
        .col_expr(refresh_family::Column::RevokedReason, Expr::value(reason.as_str()))
        .filter(families)
        .exec(conn)
        .await?
        .rows_affected;
    Ok(SessionsEnded { sessions, families })
}

/// A live session as its owner sees it on the account page.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub sid: Uuid,
    pub acr: String,
    /// RFC 8176 method references, JSON.
    pub amr: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: UnixTime,
    pub last_seen_at: UnixTime,
}
