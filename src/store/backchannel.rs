//! The durable queue of Back-Channel Logout notifications. Jobs are written in the
//! transaction that ends a session, claimed with a lease (so a crashed instance's claim
//! expires and another instance delivers), and deleted once delivered or abandoned.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use super::entities::{backchannel_logout_job as job, client, session_participant};
use super::{Store, StoreError};
use crate::clock::UnixTime;
use crate::model::ClientId;

/// A notification to deliver: tell `client_id` that session `sid` of `user_id` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutJob {
    pub id: Uuid,
    pub client_id: ClientId,
    pub user_id: Uuid,
    pub sid: Uuid,
    pub attempts: u32,
    pub next_attempt_at: UnixTime,
}

impl TryFrom<job::Model> for LogoutJob {
    type Error = StoreError;

    fn try_from(row: job::Model) -> Result<Self, StoreError> {
        Ok(LogoutJob {
            id: row.id,
            client_id: ClientId::parse(&row.client_id)?,
            user_id: row.user_id,
            sid: row.sid,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            next_attempt_at: row.next_attempt_at,
        })
    }
}

/// Queues a notification for every client with a back-channel logout URI that took part
/// in session `sid` (a code was issued to it under the session; recorded on the session).
pub(super) async fn enqueue_logouts(
    conn: &impl ConnectionTrait,
    sid: Uuid,
    user_id: Uuid,
    now: UnixTime,
) -> Result<(), StoreError> {
    let participants: Vec<String> = session_participant::Entity::find()
        .select_only()
        .column(session_participant::Column::ClientId)
        .filter(session_participant::Column::Sid.eq(sid))
        .into_tuple()
        .all(conn)
        .await?;
    if participants.is_empty() {
        return Ok(());
    }
    let listening: Vec<String> = client::Entity::find()
        .select_only()
        .column(client::Column::Id)
        .filter(client::Column::Id.is_in(participants))
        .filter(client::Column::BackchannelLogoutUri.is_not_null())
        .into_tuple()
        .all(conn)
        .await?;
    for client_id in listening {
        job::ActiveModel {
            id: Set(Uuid::now_v7()),
            client_id: Set(client_id),
            user_id: Set(user_id),
            sid: Set(sid),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Jobs due now, oldest first.
    pub async fn due_logout_jobs(&self, now: UnixTime, limit: u64) -> Result<Vec<LogoutJob>, StoreError> {
        let rows = job::Entity::find()
            .filter(job::Column::NextAttemptAt.lte(now))
            .order_by_asc(job::Column::NextAttemptAt)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter().map(LogoutJob::try_from).collect()
    }

    /// Claims a due job until `lease_until`; `false` when another instance claimed it first.
    pub async fn claim_logout_job(&self, job: &LogoutJob, lease_until: UnixTime) -> Result<bool, StoreError> {
        let claimed = job::Entity::update_many()
            .col_expr(job::Column::NextAttemptAt, Expr::value(lease_until))
            .col_expr(job::Column::Attempts, Expr::value(i32::try_from(job.attempts + 1).unwrap_or(i32::MAX)))
            .filter(job::Column::Id.eq(job.id))
            .filter(job::Column::NextAttemptAt.eq(job.next_attempt_at))
            .exec(&self.db)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    /// Delivered, or given up on.
    pub async fn finish_logout_job(&self, id: Uuid) -> Result<(), StoreError> {
        job::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    pub async fn retry_logout_job(&self, id: Uuid, next_attempt_at: UnixTime, error: &str) -> Result<(), StoreError> {
        job::Entity::update_many()
            .col_expr(job::Column::NextAttemptAt, Expr::value(next_attempt_at))
            .col_expr(job::Column::LastError, Expr::value(error.chars().take(500).collect::<String>()))
            .filter(job::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Every queued job, for tests and the admin view.
    pub async fn pending_logout_jobs(&self) -> Result<Vec<LogoutJob>, StoreError> {
        let rows = job::Entity::find().order_by_asc(job::Column::CreatedAt).all(&self.db).await?;
        rows.into_iter().map(LogoutJob::try_from).collect()
    }
}
