//! Failed sign-ins per username (hashed), and the lockout they lead to.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue, ColumnTrait, Condition, EntityTrait, QueryFilter};

use super::entities::login_throttle;
use super::{Lockout, Store, StoreError};
use crate::clock::UnixTime;

impl Store {
    /// Until when sign-ins to this username are refused, if they are now.
    pub async fn login_locked_until(&self, username_hash: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError> {
        let row = login_throttle::Entity::find_by_id(username_hash).one(&self.db).await?;
        Ok(row.and_then(|row| row.locked_until).filter(|until| *until > now))
    }

    /// Counts a failed sign-in. Failures count within `lock_seconds` of the first one; the
    /// `max_failures`-th locks the username until `now + lock_seconds`. Safe when
    /// instances count the same username at once: the count is one atomic increment.
    pub async fn record_login_failure(
        &self,
        username_hash: &str,
        max_failures: i32,
        lock_seconds: i64,
        now: UnixTime,
    ) -> Result<Lockout, StoreError> {
        let username_hash = username_hash.to_owned();
        self.writing(move |store| async move {
            let username_hash = username_hash.as_str();
            let txn = store.write_transaction().await?;
            login_throttle::Entity::delete_many()
                .filter(login_throttle::Column::UsernameHash.eq(username_hash))
                .filter(login_throttle::Column::ExpiresAt.lte(now))
                .exec(&*txn)
                .await?;
            let fresh = login_throttle::ActiveModel {
                username_hash: ActiveValue::Set(username_hash.to_owned()),
                failures: ActiveValue::Set(0),
                locked_until: ActiveValue::Set(None),
                expires_at: ActiveValue::Set(now + lock_seconds),
            };
            login_throttle::Entity::insert(fresh)
                .on_conflict_do_nothing_on([login_throttle::Column::UsernameHash])
                .exec(&*txn)
                .await?;
            login_throttle::Entity::update_many()
                .col_expr(login_throttle::Column::Failures, Expr::col(login_throttle::Column::Failures).add(1))
                .filter(login_throttle::Column::UsernameHash.eq(username_hash))
                .exec(&*txn)
                .await?;
            let row =
                login_throttle::Entity::find_by_id(username_hash).one(&*txn).await?.ok_or(StoreError::NotFound)?;
            let outcome = if row.failures >= max_failures {
                let until = now + lock_seconds;
                login_throttle::Entity::update_many()
                    .col_expr(login_throttle::Column::Failures, Expr::value(0))
                    .col_expr(login_throttle::Column::LockedUntil, Expr::value(until))
                    .col_expr(login_throttle::Column::ExpiresAt, Expr::value(until))
                    .filter(login_throttle::Column::UsernameHash.eq(username_hash))
                    .exec(&*txn)
                    .await?;
                Lockout::Locked { until }
            } else {
                Lockout::Counted { remaining: max_failures - row.failures }
            };
            txn.commit().await?;
            Ok(outcome)
        })
        .await
    }

    /// A successful sign-in: the count starts again.
    pub async fn clear_login_failures(&self, username_hash: &str) -> Result<(), StoreError> {
        login_throttle::Entity::delete_many()
            .filter(
                Condition::all()
                    .add(login_throttle::Column::UsernameHash.eq(username_hash))
                    .add(login_throttle::Column::LockedUntil.is_null()),
            )
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
