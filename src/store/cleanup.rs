//! Deleting what has expired, in bounded batches so no statement holds locks for long.
//! Every instance may run it at any time: it only removes rows nobody can use any more.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TryGetableMany, Value,
};

use super::entities::{
    attempt_throttle, audit_event, authorization_code, authorization_request, browser_session, mail_link, mail_outbox,
    mfa_challenge, passkey_ceremony, refresh_family, refresh_token, revoked_access_token, upstream_login,
};
use super::{Store, StoreError};
use crate::clock::UnixTime;

/// Rows deleted per statement.
pub const CLEANUP_BATCH: u64 = 500;

/// How many rows one clean-up removed, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    pub authorization_codes: u64,
    pub authorization_requests: u64,
    pub mfa_challenges: u64,
    pub passkey_ceremonies: u64,
    pub upstream_logins: u64,
    /// Outbox records sent or given up on more than `keep_seconds` ago.
    pub mail: u64,
    /// Mailed links expired more than `keep_seconds` ago, used or not.
    pub mail_links: u64,
    pub attempt_throttles: u64,
    pub browser_sessions: u64,
    pub refresh_families: u64,
    pub revoked_access_tokens: u64,
    pub sealed_successors: u64,
    pub audit_events: u64,
}

impl Store {
    /// Removes what expired before `now`. Codes, sessions and families are kept
    /// `keep_seconds` past their end: a late code replay still finds what to revoke, and
    /// no access token naming a session or a condemned family outlives its row. Revoked
    /// `jti`s go once the token would have expired anyway; sealed refresh successors once
    /// the reuse grace window (`grace_seconds`) is over; audit events once they are older
    /// than `audit_before`, when a retention is set.
    pub async fn clean_up(
        &self,
        now: UnixTime,
        keep_seconds: i64,
        grace_seconds: i64,
        audit_before: Option<UnixTime>,
    ) -> Result<CleanupReport, StoreError> {
        let before = now - keep_seconds;
        let db = &self.db;
        Ok(CleanupReport {
            authorization_codes: delete_in_batches::<authorization_code::Entity, String>(
                db,
                authorization_code::Column::CodeHash,
                Condition::all().add(authorization_code::Column::ExpiresAt.lt(before)),
            )
            .await?,
            authorization_requests: delete_in_batches::<authorization_request::Entity, String>(
                db,
                authorization_request::Column::IdHash,
                Condition::all().add(authorization_request::Column::ExpiresAt.lt(now)),
            )
            .await?,
            mfa_challenges: delete_in_batches::<mfa_challenge::Entity, String>(
                db,
                mfa_challenge::Column::IdHash,
                Condition::all().add(mfa_challenge::Column::ExpiresAt.lt(now)),
            )
            .await?,
            passkey_ceremonies: delete_in_batches::<passkey_ceremony::Entity, String>(
                db,
                passkey_ceremony::Column::IdHash,
                Condition::all().add(passkey_ceremony::Column::ExpiresAt.lt(now)),
            )
            .await?,
            upstream_logins: delete_in_batches::<upstream_login::Entity, String>(
                db,
                upstream_login::Column::StateHash,
                Condition::all().add(upstream_login::Column::ExpiresAt.lt(now)),
            )
            .await?,
            mail: delete_in_batches::<mail_outbox::Entity, uuid::Uuid>(
                db,
                mail_outbox::Column::Id,
                Condition::any()
                    .add(mail_outbox::Column::SentAt.lt(before))
                    .add(mail_outbox::Column::FailedAt.lt(before)),
            )
            .await?,
            mail_links: delete_in_batches::<mail_link::Entity, String>(
                db,
                mail_link::Column::TokenHash,
                Condition::all().add(mail_link::Column::ExpiresAt.lt(before)),
            )
            .await?,
            attempt_throttles: delete_in_batches::<attempt_throttle::Entity, String>(
                db,
                attempt_throttle::Column::ThrottleKey,
                Condition::all().add(attempt_throttle::Column::ExpiresAt.lt(now)),
            )
            .await?,
            browser_sessions: delete_in_batches::<browser_session::Entity, String>(
                db,
                browser_session::Column::IdHash,
                Condition::any()
                    .add(browser_session::Column::ExpiresAt.lt(before))
                    .add(browser_session::Column::EndedAt.lt(before)),
            )
            .await?,
            // Their tokens go with them (ON DELETE CASCADE).
            refresh_families: delete_in_batches::<refresh_family::Entity, uuid::Uuid>(
                db,
                refresh_family::Column::Id,
                Condition::any()
                    .add(refresh_family::Column::IdleExpiresAt.lt(before))
                    .add(refresh_family::Column::AbsoluteExpiresAt.lt(before)),
            )
            .await?,
            revoked_access_tokens: delete_in_batches::<revoked_access_token::Entity, String>(
                db,
                revoked_access_token::Column::Jti,
                Condition::all().add(revoked_access_token::Column::ExpiresAt.lt(now - crate::tokens::LEEWAY_SECONDS)),
            )
            .await?,
            sealed_successors: refresh_token::Entity::update_many()
                .col_expr(refresh_token::Column::SuccessorToken, Expr::value(Option::<Vec<u8>>::None))
                .filter(refresh_token::Column::SuccessorToken.is_not_null())
                .filter(refresh_token::Column::UsedAt.lt(now - grace_seconds))
                .exec(db)
                .await?
                .rows_affected,
            audit_events: match audit_before {
                Some(before) => {
                    delete_in_batches::<audit_event::Entity, uuid::Uuid>(
                        db,
                        audit_event::Column::Id,
                        Condition::all().add(audit_event::Column::At.lt(before)),
                    )
                    .await?
                }
                None => 0,
            },
        })
    }
}

/// Deletes the rows matching `condition`, `CLEANUP_BATCH` primary keys at a time.
async fn delete_in_batches<E, K>(
    db: &DatabaseConnection,
    key: E::Column,
    condition: Condition,
) -> Result<u64, StoreError>
where
    E: EntityTrait,
    K: TryGetableMany + Into<Value>,
{
    let mut deleted = 0;
    loop {
        let keys: Vec<K> = E::find()
            .select_only()
            .column(key)
            .filter(condition.clone())
            .limit(CLEANUP_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let found = keys.len() as u64;
        if found > 0 {
            deleted += E::delete_many().filter(key.is_in(keys)).exec(db).await?.rows_affected;
        }
        if found < CLEANUP_BATCH {
            return Ok(deleted);
        }
    }
}
