//! The mail outbox and the links mail carries. A message is claimed with a lease before it
//! is sent (a conditional update checked by affected rows), so several instances send each
//! message once, and a crashed sender's claim runs out and another sends it. A link is
//! used once, by a conditional update.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use super::entities::{mail_link, mail_outbox};
use super::{Store, StoreError};
use crate::clock::UnixTime;
use crate::metrics::OutboxUsage;
use crate::model::{LinkPurpose, MailKind, MailLink, QueuedMail};

/// A message to queue: its body sealed already.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub id: Uuid,
    pub kind: MailKind,
    pub recipient: String,
    pub subject: String,
    pub sealed_body: Vec<u8>,
}

impl TryFrom<mail_outbox::Model> for QueuedMail {
    type Error = StoreError;

    fn try_from(row: mail_outbox::Model) -> Result<Self, StoreError> {
        Ok(QueuedMail {
            id: row.id,
            kind: MailKind::parse(&row.kind).ok_or_else(|| StoreError::Corrupt(format!("mail kind {}", row.kind)))?,
            recipient: row.recipient,
            subject: row.subject,
            sealed_body: row.sealed_body,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            created_at: row.created_at,
            sent_at: row.sent_at,
            failed_at: row.failed_at,
        })
    }
}

async fn insert_mail(conn: &impl ConnectionTrait, mail: NewMail, now: UnixTime) -> Result<(), StoreError> {
    mail_outbox::ActiveModel {
        id: Set(mail.id),
        kind: Set(mail.kind.as_str().to_owned()),
        recipient: Set(mail.recipient),
        subject: Set(mail.subject),
        sealed_body: Set(Some(mail.sealed_body)),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        failed_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

impl Store {
    pub async fn queue_mail(&self, mail: NewMail, now: UnixTime) -> Result<(), StoreError> {
        insert_mail(&self.db, mail, now).await
    }

    /// Keeps a link and queues the message that carries it, in one transaction; the
    /// person's older unused links of the same purpose stop working (superseded).
    pub async fn issue_mail_link(
        &self,
        token_hash: String,
        link: MailLink,
        mail: NewMail,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            mail_link::Entity::delete_many()
                .filter(mail_link::Column::UserId.eq(link.user_id))
                .filter(mail_link::Column::Purpose.eq(link.purpose.as_str()))
                .filter(mail_link::Column::UsedAt.is_null())
                .exec(&*txn)
                .await?;
            mail_link::ActiveModel {
                token_hash: Set(token_hash),
                purpose: Set(link.purpose.as_str().to_owned()),
                user_id: Set(link.user_id),
                binding: Set(link.binding),
                created_at: Set(now),
                expires_at: Set(link.expires_at),
                used_at: Set(None),
            }
            .insert(&*txn)
            .await?;
            insert_mail(&*txn, mail, now).await?;
            txn.commit().await?;
            Ok(())
        })
        .await
    }

    /// An unused, unexpired link.
    pub async fn find_mail_link(&self, token_hash: &str, now: UnixTime) -> Result<Option<MailLink>, StoreError> {
        let row = mail_link::Entity::find_by_id(token_hash.to_owned())
            .filter(mail_link::Column::UsedAt.is_null())
            .filter(mail_link::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?;
        row.map(|row| {
            Ok(MailLink {
                purpose: LinkPurpose::parse(&row.purpose)
                    .ok_or_else(|| StoreError::Corrupt(format!("link purpose {}", row.purpose)))?,
                user_id: row.user_id,
                binding: row.binding,
                expires_at: row.expires_at,
            })
        })
        .transpose()
    }

    /// Uses a link; `false` when it was used (or expired) meanwhile.
    pub async fn use_mail_link(&self, token_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
        let updated = mail_link::Entity::update_many()
            .col_expr(mail_link::Column::UsedAt, Expr::value(now))
            .filter(mail_link::Column::TokenHash.eq(token_hash))
            .filter(mail_link::Column::UsedAt.is_null())
            .filter(mail_link::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// How many messages wait to be sent, and how many were given up on (and not yet
    /// cleaned up), for `/metrics`.
    pub async fn outbox_usage(&self) -> Result<OutboxUsage, StoreError> {
        let queued = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::SentAt.is_null())
            .filter(mail_outbox::Column::FailedAt.is_null())
            .count(&self.db)
            .await?;
        let failed =
            mail_outbox::Entity::find().filter(mail_outbox::Column::FailedAt.is_not_null()).count(&self.db).await?;
        Ok(OutboxUsage { queued, failed })
    }

    /// Messages due to be sent, oldest first.
    pub async fn due_mail(&self, now: UnixTime, limit: u64) -> Result<Vec<QueuedMail>, StoreError> {
        let rows = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::SentAt.is_null())
            .filter(mail_outbox::Column::FailedAt.is_null())
            .filter(mail_outbox::Column::NextAttemptAt.lte(now))
            .order_by_asc(mail_outbox::Column::NextAttemptAt)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter().map(QueuedMail::try_from).collect()
    }

    /// Claims a due message until `lease_until`; `false` when another instance claimed it.
    pub async fn claim_mail(&self, mail: &QueuedMail, lease_until: UnixTime) -> Result<bool, StoreError> {
        let claimed = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(lease_until))
            .col_expr(mail_outbox::Column::Attempts, Expr::value(i32::try_from(mail.attempts + 1).unwrap_or(i32::MAX)))
            .filter(mail_outbox::Column::Id.eq(mail.id))
            .filter(mail_outbox::Column::NextAttemptAt.eq(mail.next_attempt_at))
            .filter(mail_outbox::Column::SentAt.is_null())
            .filter(mail_outbox::Column::FailedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    /// Sent: the body (and any link in it) is dropped; the record stays for the admin view.
    pub async fn mark_mail_sent(&self, id: Uuid, now: UnixTime) -> Result<(), StoreError> {
        mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::SentAt, Expr::value(now))
            .col_expr(mail_outbox::Column::SealedBody, Expr::value(Option::<Vec<u8>>::None))
            .col_expr(mail_outbox::Column::LastError, Expr::value(Option::<String>::None))
            .filter(mail_outbox::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn retry_mail(&self, id: Uuid, next_attempt_at: UnixTime, error: &str) -> Result<(), StoreError> {
        mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(next_attempt_at))
            .col_expr(mail_outbox::Column::LastError, Expr::value(error.chars().take(500).collect::<String>()))
            .filter(mail_outbox::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Given up on: the body is dropped too.
    pub async fn fail_mail(&self, id: Uuid, now: UnixTime, error: &str) -> Result<(), StoreError> {
        mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::FailedAt, Expr::value(now))
            .col_expr(mail_outbox::Column::SealedBody, Expr::value(Option::<Vec<u8>>::None))
            .col_expr(mail_outbox::Column::LastError, Expr::value(error.chars().take(500).collect::<String>()))
            .filter(mail_outbox::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The latest messages, newest first, for the admin view and tests.
    pub async fn recent_mail(&self, limit: u64) -> Result<Vec<QueuedMail>, StoreError> {
        let rows = mail_outbox::Entity::find()
            .order_by_desc(mail_outbox::Column::CreatedAt)
            .order_by_desc(mail_outbox::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter().map(QueuedMail::try_from).collect()
    }
}
