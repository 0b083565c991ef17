//! Second factors: TOTP secrets, the last accepted time step, recovery codes, the lockout
//! after wrong codes, and logins waiting for their second factor. Every "use once" rule is
//! a conditional update checked by affected rows, so two instances racing with the same
//! code cannot both accept it.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{mfa_challenge, user, user_recovery_code};
use super::{Lockout, Store, StoreError};
use crate::clock::UnixTime;
use crate::model::{Destination, MfaChallenge};

impl Store {
    /// Activates TOTP for a user who has none, with the step of the code that proved the
    /// enrollment and fresh recovery codes. `false` when the user already has a factor.
    pub async fn enable_totp(
        &self,
        user_id: Uuid,
        sealed_secret: Vec<u8>,
        accepted_step: Option<i64>,
        recovery_code_hashes: &[String],
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let recovery_code_hashes = recovery_code_hashes.to_vec();
        self.writing(move |store| async move {
            let recovery_code_hashes = recovery_code_hashes.as_slice();
            let txn = store.write_transaction().await?;
            let updated = user::Entity::update_many()
                .col_expr(user::Column::TotpSecret, Expr::value(sealed_secret))
                .col_expr(user::Column::TotpLastStep, Expr::value(accepted_step))
                .col_expr(user::Column::MfaFailures, Expr::value(0))
                .col_expr(user::Column::MfaLockedUntil, Expr::value(Option::<i64>::None))
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(user_id))
                .filter(user::Column::TotpSecret.is_null())
                .exec(&*txn)
                .await?;
            if updated.rows_affected != 1 {
                return Ok(false);
            }
            replace_recovery_codes(&*txn, user_id, recovery_code_hashes, now).await?;
            txn.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Removes TOTP, the recovery codes and any lockout; `false` when there was no factor.
    pub async fn remove_totp(&self, user_id: Uuid, now: UnixTime) -> Result<bool, StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            let updated = user::Entity::update_many()
                .col_expr(user::Column::TotpSecret, Expr::value(Option::<Vec<u8>>::None))
                .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
                .col_expr(user::Column::MfaFailures, Expr::value(0))
                .col_expr(user::Column::MfaLockedUntil, Expr::value(Option::<i64>::None))
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(user_id))
                .filter(user::Column::TotpSecret.is_not_null())
                .exec(&*txn)
                .await?;
            user_recovery_code::Entity::delete_many()
                .filter(user_recovery_code::Column::UserId.eq(user_id))
                .exec(&*txn)
                .await?;
            txn.commit().await?;
            Ok(updated.rows_affected == 1)
        })
        .await
    }

    /// Records `step` as used, if it is newer than every step accepted before (RFC 6238
    /// §5.2: a code is valid once). `false`: the code, or a later one, was used already.
    pub async fn accept_totp_step(&self, user_id: Uuid, step: i64) -> Result<bool, StoreError> {
        let updated = user::Entity::update_many()
            .col_expr(user::Column::TotpLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::TotpSecret.is_not_null())
            .filter(Condition::any().add(user::Column::TotpLastStep.is_null()).add(user::Column::TotpLastStep.lt(step)))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Spends a recovery code; `false` when it is unknown, used, or another user's.
    pub async fn use_recovery_code(&self, user_id: Uuid, code_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
        let updated = user_recovery_code::Entity::update_many()
            .col_expr(user_recovery_code::Column::UsedAt, Expr::value(now))
            .filter(user_recovery_code::Column::UserId.eq(user_id))
            .filter(user_recovery_code::Column::CodeHash.eq(code_hash))
            .filter(user_recovery_code::Column::UsedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Replaces every recovery code of a user with new ones.
    pub async fn replace_recovery_codes(
        &self,
        user_id: Uuid,
        code_hashes: &[String],
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let code_hashes = code_hashes.to_vec();
        self.writing(move |store| async move {
            let code_hashes = code_hashes.as_slice();
            let txn = store.write_transaction().await?;
            replace_recovery_codes(&*txn, user_id, code_hashes, now).await?;
            txn.commit().await?;
            Ok(())
        })
        .await
    }

    pub async fn unused_recovery_codes(&self, user_id: Uuid) -> Result<u64, StoreError> {
        Ok(user_recovery_code::Entity::find()
            .filter(user_recovery_code::Column::UserId.eq(user_id))
            .filter(user_recovery_code::Column::UsedAt.is_null())
            .count(&self.db)
            .await?)
    }

    /// Counts a wrong code; the `max_failures`-th in a row locks the factor until
    /// `now + lock_seconds` and starts the count again.
    pub async fn record_mfa_failure(
        &self,
        user_id: Uuid,
        max_failures: i32,
        lock_seconds: i64,
        now: UnixTime,
    ) -> Result<Lockout, StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            user::Entity::update_many()
                .col_expr(user::Column::MfaFailures, Expr::col(user::Column::MfaFailures).add(1))
                .filter(user::Column::Id.eq(user_id))
                .exec(&*txn)
                .await?;
            let row = user::Entity::find_by_id(user_id).one(&*txn).await?.ok_or(StoreError::NotFound)?;
            let outcome = if row.mfa_failures >= max_failures {
                let until = now + lock_seconds;
                user::Entity::update_many()
                    .col_expr(user::Column::MfaFailures, Expr::value(0))
                    .col_expr(user::Column::MfaLockedUntil, Expr::value(until))
                    .filter(user::Column::Id.eq(user_id))
                    .exec(&*txn)
                    .await?;
                Lockout::Locked { until }
            } else {
                Lockout::Counted { remaining: max_failures - row.mfa_failures }
            };
            txn.commit().await?;
            Ok(outcome)
        })
        .await
    }

    /// A correct code: the count of wrong ones starts again.
    pub async fn clear_mfa_failures(&self, user_id: Uuid) -> Result<(), StoreError> {
        user::Entity::update_many()
            .col_expr(user::Column::MfaFailures, Expr::value(0))
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::MfaFailures.gt(0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn insert_mfa_challenge(
        &self,
        id_hash: String,
        challenge: &MfaChallenge,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        mfa_challenge::ActiveModel {
            id_hash: Set(id_hash),
            user_id: Set(challenge.user_id),
            browser_hash: Set(challenge.browser_hash.clone()),
            sid: Set(challenge.sid),
            authorization_request_hash: Set(challenge.authorization_request_hash.clone()),
            destination: Set(challenge.destination.map(|d| d.as_str().to_owned())),
            created_at: Set(now),
            expires_at: Set(challenge.expires_at),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// The challenge, unless it expired or was completed.
    pub async fn find_mfa_challenge(&self, id_hash: &str, now: UnixTime) -> Result<Option<MfaChallenge>, StoreError> {
        let row = mfa_challenge::Entity::find_by_id(id_hash.to_owned())
            .filter(mfa_challenge::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?;
        Ok(row.map(|row| MfaChallenge {
            user_id: row.user_id,
            browser_hash: row.browser_hash,
            sid: row.sid,
            authorization_request_hash: row.authorization_request_hash,
            destination: row.destination.as_deref().and_then(Destination::parse),
            expires_at: row.expires_at,
        }))
    }

    /// Completes a challenge; `false` when another request completed it first.
    pub async fn complete_mfa_challenge(&self, id_hash: &str) -> Result<bool, StoreError> {
        let deleted = mfa_challenge::Entity::delete_many()
            .filter(mfa_challenge::Column::IdHash.eq(id_hash))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected == 1)
    }
}

async fn replace_recovery_codes(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    code_hashes: &[String],
    now: UnixTime,
) -> Result<(), StoreError> {
    user_recovery_code::Entity::delete_many().filter(user_recovery_code::Column::UserId.eq(user_id)).exec(conn).await?;
    for hash in code_hashes {
        user_recovery_code::ActiveModel {
            id: Set(Uuid::new_v4()),
            user_id: Set(user_id),
            code_hash: Set(hash.clone()),
            used_at: Set(None),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}
