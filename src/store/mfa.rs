//! Second factors: TOTP secrets, the last accepted time step, recovery codes, and logins
//! waiting for their second factor (the lockout after wrong codes is in `throttles`). Every "use once" rule is
//! a conditional update checked by affected rows, so two instances racing with the same
//! code cannot both accept it.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{mfa_challenge, user, user_recovery_code};
use super::sessions::end_user_sessions_and_families;
use super::throttles::{self, mfa_throttle_key};
use super::{SessionsEnded, Store, StoreError};
use crate::clock::UnixTime;
use crate::model::{AssuranceLevel, Destination, MfaChallenge, RevocationReason};

impl Store {
    /// Activates TOTP for a user who has none, with the step of the code that proved the
    /// enrollment and fresh recovery codes, and ends every session but `keep` with their
    /// refresh-token families: a session opened with a stolen password alone must not
    /// outlive the second factor. `None` when the user already has a factor.
    pub async fn enable_totp(
        &self,
        user_id: Uuid,
        sealed_secret: Vec<u8>,
        accepted_step: Option<i64>,
        recovery_code_hashes: &[String],
        keep: Option<Uuid>,
        now: UnixTime,
    ) -> Result<Option<SessionsEnded>, StoreError> {
        let recovery_code_hashes = recovery_code_hashes.to_vec();
        self.writing(move |store| async move {
            let recovery_code_hashes = recovery_code_hashes.as_slice();
            let txn = store.write_transaction().await?;
            let updated = user::Entity::update_many()
                .col_expr(user::Column::TotpSecret, Expr::value(sealed_secret))
                .col_expr(user::Column::TotpLastStep, Expr::value(accepted_step))
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(user_id))
                .filter(user::Column::TotpSecret.is_null())
                .exec(&*txn)
                .await?;
            if updated.rows_affected != 1 {
                return Ok(None);
            }
            throttles::forget(&*txn, &mfa_throttle_key(user_id)).await?;
            replace_recovery_codes(&*txn, user_id, recovery_code_hashes, now).await?;
            let ended =
                end_user_sessions_and_families(&*txn, user_id, keep, RevocationReason::SecondFactorEnabled, now)
                    .await?;
            txn.commit().await?;
            Ok(Some(ended))
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
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(user_id))
                .filter(user::Column::TotpSecret.is_not_null())
                .exec(&*txn)
                .await?;
            user_recovery_code::Entity::delete_many()
                .filter(user_recovery_code::Column::UserId.eq(user_id))
                .exec(&*txn)
                .await?;
            throttles::forget(&*txn, &mfa_throttle_key(user_id)).await?;
            txn.commit().await?;
            Ok(updated.rows_affected == 1)
        })
        .await
    }

    /// Records `step` as used, if it is newer than every step accepted before (RFC 6238
    /// §5.2: a code is valid once) and the factor is not locked. `false`: the code, or a
    /// later one, was used already, or the factor is locked.
    pub async fn accept_totp_step(&self, user_id: Uuid, step: i64, now: UnixTime) -> Result<bool, StoreError> {
        let updated = user::Entity::update_many()
            .col_expr(user::Column::TotpLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::TotpSecret.is_not_null())
            .filter(Condition::any().add(user::Column::TotpLastStep.is_null()).add(user::Column::TotpLastStep.lt(step)))
            .filter(throttles::unlocked(mfa_throttle_key(user_id), now))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Spends a recovery code; `false` when it is unknown, used, another user's, or the
    /// factor is locked.
    pub async fn use_recovery_code(&self, user_id: Uuid, code_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
        let updated = user_recovery_code::Entity::update_many()
            .col_expr(user_recovery_code::Column::UsedAt, Expr::value(now))
            .filter(user_recovery_code::Column::UserId.eq(user_id))
            .filter(user_recovery_code::Column::CodeHash.eq(code_hash))
            .filter(user_recovery_code::Column::UsedAt.is_null())
            .filter(throttles::unlocked(mfa_throttle_key(user_id), now))
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
            required_acr: Set(Some(challenge.required.acr().to_owned())),
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
            required: row
                .required_acr
                .as_deref()
                .and_then(AssuranceLevel::from_acr)
                .unwrap_or(AssuranceLevel::TwoFactor),
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
