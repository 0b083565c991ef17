//! Lockouts: wrong answers counted per throttle key (a username, a user's second factor),
//! in the database so that they hold on every instance. An attempt is reserved before it
//! is checked; while reserved it counts as in flight, and `failures + in_flight` never
//! exceeds the limit, so any number of concurrent attempts on any number of instances
//! check at most `max_failures` wrong answers before the lock.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue, ColumnTrait, EntityTrait, QueryFilter};

use super::entities::attempt_throttle as row;
use super::{Lockout, Store, StoreError};
use crate::clock::UnixTime;

/// The limit a key is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong answers within `lock_seconds` of the first that lock the key.
    pub max_failures: i32,
    /// How long the window, and then the lock, last.
    pub lock_seconds: i64,
}

/// What a reservation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt may be checked; report its outcome with `attempt_failed` or
    /// `attempt_succeeded`, or give it back with `release_attempt`.
    Reserved,
    /// Locked until then: refused unchecked.
    Locked { until: UnixTime },
    /// Every attempt left is being checked right now; one of them may clear the count.
    Busy,
}

impl Store {
    /// Reserves one attempt under `key`: one conditional update, taken only while the
    /// key is unlocked and `failures + in_flight` is below the limit.
    pub async fn reserve_attempt(
        &self,
        key: &str,
        policy: LockoutPolicy,
        now: UnixTime,
    ) -> Result<Reservation, StoreError> {
        let key = key.to_owned();
        self.writing(move |store| async move {
            let key = key.as_str();
            let txn = store.write_transaction().await?;
            row::Entity::delete_many()
                .filter(row::Column::ThrottleKey.eq(key))
                .filter(row::Column::ExpiresAt.lte(now))
                .exec(&*txn)
                .await?;
            let fresh = row::ActiveModel {
                throttle_key: ActiveValue::Set(key.to_owned()),
                failures: ActiveValue::Set(0),
                in_flight: ActiveValue::Set(0),
                locked_until: ActiveValue::Set(None),
                expires_at: ActiveValue::Set(now + policy.lock_seconds),
            };
            row::Entity::insert(fresh).on_conflict_do_nothing_on([row::Column::ThrottleKey]).exec(&*txn).await?;
            let reserved = row::Entity::update_many()
                .col_expr(row::Column::InFlight, Expr::col(row::Column::InFlight).add(1))
                .filter(row::Column::ThrottleKey.eq(key))
                .filter(row::Column::LockedUntil.is_null())
                .filter(Expr::col(row::Column::Failures).add(Expr::col(row::Column::InFlight)).lt(policy.max_failures))
                .exec(&*txn)
                .await?
                .rows_affected
                == 1;
            let found = row::Entity::find_by_id(key).one(&*txn).await?.ok_or(StoreError::NotFound)?;
            txn.commit().await?;
            Ok(match (reserved, found.locked_until) {
                (true, _) => Reservation::Reserved,
                (false, Some(until)) => Reservation::Locked { until },
                (false, None) => Reservation::Busy,
            })
        })
        .await
    }

    /// The reserved attempt was wrong. The one that reaches the limit locks the key until
    /// `now + lock_seconds` and alone is told `Locked`; the others learn how many wrong
    /// answers remain.
    pub async fn attempt_failed(&self, key: &str, policy: LockoutPolicy, now: UnixTime) -> Result<Lockout, StoreError> {
        let key = key.to_owned();
        self.writing(move |store| async move {
            let key = key.as_str();
            let txn = store.write_transaction().await?;
            row::Entity::update_many()
                .col_expr(row::Column::Failures, Expr::col(row::Column::Failures).add(1))
                .col_expr(row::Column::InFlight, Expr::col(row::Column::InFlight).sub(1))
                .filter(row::Column::ThrottleKey.eq(key))
                .filter(row::Column::InFlight.gt(0))
                .exec(&*txn)
                .await?;
            let until = now + policy.lock_seconds;
            let locked = row::Entity::update_many()
                .col_expr(row::Column::LockedUntil, Expr::value(until))
                .col_expr(row::Column::ExpiresAt, Expr::value(until))
                .filter(row::Column::ThrottleKey.eq(key))
                .filter(row::Column::Failures.gte(policy.max_failures))
                .filter(row::Column::LockedUntil.is_null())
                .exec(&*txn)
                .await?
                .rows_affected
                == 1;
            let failures = row::Entity::find_by_id(key).one(&*txn).await?.map_or(policy.max_failures, |r| r.failures);
            txn.commit().await?;
            Ok(if locked {
                Lockout::Locked { until }
            } else {
                Lockout::Counted { remaining: Ord::max(policy.max_failures - failures, 0) }
            })
        })
        .await
    }

    /// The reserved attempt was right: the count of wrong answers starts again, and the
    /// row goes when nothing else is in flight (a lock another attempt set meanwhile stays).
    pub async fn attempt_succeeded(&self, key: &str) -> Result<(), StoreError> {
        self.release_attempt(key).await?;
        row::Entity::delete_many()
            .filter(row::Column::ThrottleKey.eq(key))
            .filter(row::Column::LockedUntil.is_null())
            .filter(row::Column::InFlight.eq(0))
            .exec(&self.db)
            .await?;
        row::Entity::update_many()
            .col_expr(row::Column::Failures, Expr::value(0))
            .filter(row::Column::ThrottleKey.eq(key))
            .filter(row::Column::LockedUntil.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Gives back a reserved attempt that was never checked.
    pub async fn release_attempt(&self, key: &str) -> Result<(), StoreError> {
        row::Entity::update_many()
            .col_expr(row::Column::InFlight, Expr::col(row::Column::InFlight).sub(1))
            .filter(row::Column::ThrottleKey.eq(key))
            .filter(row::Column::InFlight.gt(0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Until when `key` is locked, if it is now.
    pub async fn locked_until(&self, key: &str, now: UnixTime) -> Result<Option<UnixTime>, StoreError> {
        let found = row::Entity::find_by_id(key).one(&self.db).await?;
        Ok(found.and_then(|r| r.locked_until).filter(|until| *until > now))
    }
}

/// The throttle key of a user's second factor.
pub fn mfa_throttle_key(user_id: uuid::Uuid) -> String {
    format!("mfa:{user_id}")
}

/// `key` is not locked at `now`: for the statements that accept a code, so that no code
/// is accepted while the factor is locked, whatever a caller checked before.
pub(super) fn unlocked(key: String, now: UnixTime) -> sea_orm::sea_query::SimpleExpr {
    let locked = sea_orm::sea_query::Query::select()
        .expr(Expr::val(1))
        .from(row::Entity)
        .and_where(row::Column::ThrottleKey.eq(key))
        .and_where(row::Column::LockedUntil.gt(now))
        .to_owned();
    Expr::exists(locked).not()
}

/// Forgets `key`'s count and lock (inside the caller's transaction): a factor removed or
/// replaced starts with a clean slate.
pub(super) async fn forget(conn: &impl sea_orm::ConnectionTrait, key: &str) -> Result<(), StoreError> {
    row::Entity::delete_many().filter(row::Column::ThrottleKey.eq(key)).exec(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::secret::SecretString;

    const POLICY: LockoutPolicy = LockoutPolicy { max_failures: 3, lock_seconds: 60 };

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = SecretString::new(format!("sqlite://{}/w.db?mode=rwc", dir.path().display()));
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn attempts_in_flight_count_against_the_limit_until_they_end() {
        let (_dir, store) = store().await;
        for _ in 0..3 {
            assert_eq!(store.reserve_attempt("k", POLICY, 0).await.unwrap(), Reservation::Reserved);
        }
        assert_eq!(store.reserve_attempt("k", POLICY, 0).await.unwrap(), Reservation::Busy);
        store.attempt_succeeded("k").await.unwrap();
        assert_eq!(store.reserve_attempt("k", POLICY, 0).await.unwrap(), Reservation::Reserved, "a place came back");
        store.release_attempt("k").await.unwrap();
        assert_eq!(store.reserve_attempt("other", POLICY, 0).await.unwrap(), Reservation::Reserved, "keys apart");
    }

    #[tokio::test]
    async fn the_wrong_answer_that_reaches_the_limit_locks_once_until_the_lock_ends() {
        let (_dir, store) = store().await;
        for _ in 0..3 {
            store.reserve_attempt("k", POLICY, 0).await.unwrap();
        }
        assert_eq!(store.attempt_failed("k", POLICY, 10).await.unwrap(), Lockout::Counted { remaining: 2 });
        assert_eq!(store.attempt_failed("k", POLICY, 10).await.unwrap(), Lockout::Counted { remaining: 1 });
        assert_eq!(store.attempt_failed("k", POLICY, 10).await.unwrap(), Lockout::Locked { until: 70 });
        assert_eq!(store.reserve_attempt("k", POLICY, 69).await.unwrap(), Reservation::Locked { until: 70 });
        assert_eq!(store.locked_until("k", 69).await.unwrap(), Some(70));
        assert_eq!(store.reserve_attempt("k", POLICY, 70).await.unwrap(), Reservation::Reserved, "the lock ended");
    }

    #[tokio::test]
    async fn a_right_answer_starts_the_count_again() {
        let (_dir, store) = store().await;
        store.reserve_attempt("k", POLICY, 0).await.unwrap();
        store.attempt_failed("k", POLICY, 0).await.unwrap();
        store.reserve_attempt("k", POLICY, 0).await.unwrap();
        store.attempt_failed("k", POLICY, 0).await.unwrap();
        store.reserve_attempt("k", POLICY, 0).await.unwrap();
        store.attempt_succeeded("k").await.unwrap();
        for _ in 0..3 {
            assert_eq!(store.reserve_attempt("k", POLICY, 0).await.unwrap(), Reservation::Reserved);
        }
    }
}
