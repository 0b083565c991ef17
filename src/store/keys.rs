//! Signing keys and their state changes. Each change is one transaction of conditional
//! updates: a writer that finds the rows no longer in the state it read (another instance
//! rotated first) gets `Conflict` and changes nothing. The partial unique indexes on
//! `state` ('active', 'next') are the last word.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::signing_key;
use super::{Store, StoreError};
use crate::clock::UnixTime;
use crate::model::{KeyMove, KeyState, KeyTransition, NewSigningKey, SigningKeyRecord};

impl TryFrom<signing_key::Model> for SigningKeyRecord {
    type Error = StoreError;

    fn try_from(row: signing_key::Model) -> Result<Self, StoreError> {
        Ok(SigningKeyRecord {
            kid: row.kid,
            state: KeyState::parse(&row.state)?,
            algorithm: row.algorithm,
            key_bits: u32::try_from(row.key_bits).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            sealed_private_key: row.private_key,
            public_jwk: row.public_jwk,
            created_at: row.created_at,
            activated_at: row.activated_at,
            retired_at: row.retired_at,
            revoked_at: row.revoked_at,
        })
    }
}

impl Store {
    /// Every key, oldest first.
    pub async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let rows = signing_key::Entity::find()
            .order_by_asc(signing_key::Column::CreatedAt)
            .order_by_asc(signing_key::Column::Kid)
            .all(&self.db)
            .await?;
        rows.into_iter().map(SigningKeyRecord::try_from).collect()
    }

    /// Inserts keys in the given states in one transaction (the first start stores its
    /// `active` and `next` key together).
    pub async fn insert_signing_keys(
        &self,
        keys: Vec<(NewSigningKey, KeyState)>,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            for (key, state) in keys {
                insert_key(&*txn, key, state, now).await?;
            }
            txn.commit().await?;
            Ok(())
        })
        .await
    }

    /// Applies a transition atomically; `Conflict` when any key was no longer in the
    /// expected state (a concurrent writer won) or the new `next` collides.
    pub async fn apply_key_transition(&self, transition: KeyTransition, now: UnixTime) -> Result<(), StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            // Retire and revoke before promoting, so the one-active index never sees two.
            let mut moves = transition.moves;
            moves.sort_by_key(|m| m.to == KeyState::Active);
            for KeyMove { kid, from, to } in moves {
                let mut update =
                    signing_key::Entity::update_many().col_expr(signing_key::Column::State, Expr::value(to.as_str()));
                update = match to {
                    KeyState::Active => update.col_expr(signing_key::Column::ActivatedAt, Expr::value(now)),
                    KeyState::Retired => update.col_expr(signing_key::Column::RetiredAt, Expr::value(now)),
                    KeyState::Revoked => update.col_expr(signing_key::Column::RevokedAt, Expr::value(now)),
                    KeyState::Next | KeyState::Removed => update,
                };
                let result = update
                    .filter(signing_key::Column::Kid.eq(kid.as_str()))
                    .filter(signing_key::Column::State.eq(from.as_str()))
                    .exec(&*txn)
                    .await?;
                if result.rows_affected != 1 {
                    return Err(StoreError::Conflict(format!("key {kid} is no longer {from}")));
                }
            }
            if let Some(key) = transition.new_next {
                insert_key(&*txn, key, KeyState::Next, now).await?;
            }
            txn.commit().await?;
            Ok(())
        })
        .await
    }
}

async fn insert_key(
    conn: &impl ConnectionTrait,
    key: NewSigningKey,
    state: KeyState,
    now: UnixTime,
) -> Result<(), StoreError> {
    signing_key::ActiveModel {
        kid: Set(key.kid),
        state: Set(state.as_str().to_owned()),
        algorithm: Set(key.algorithm.to_owned()),
        key_bits: Set(i32::try_from(key.key_bits).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        private_key: Set(key.sealed_private_key),
        public_jwk: Set(key.public_jwk),
        created_at: Set(now),
        activated_at: Set((state == KeyState::Active).then_some(now)),
        retired_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}
