//! Consents: which scopes a person granted to a client, remembered until revoked.

use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use super::entities::consent;
use super::{Store, StoreError};
use crate::clock::UnixTime;
use crate::model::{ClientId, Scope};

impl Store {
    pub async fn find_consent(&self, user_id: Uuid, client_id: &ClientId) -> Result<Option<Scope>, StoreError> {
        let found = consent::Entity::find_by_id((user_id, client_id.to_string())).one(&self.db).await?;
        found.map(|row| Scope::parse(&row.scope).map_err(StoreError::from)).transpose()
    }

    /// Adds `scope` to what the person granted the client.
    pub async fn grant_consent(
        &self,
        user_id: Uuid,
        client_id: &ClientId,
        scope: &Scope,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let (client_id, scope) = (client_id.clone(), scope.clone());
        self.writing(move |store| async move {
            let (client_id, scope) = (&client_id, &scope);
            let txn = store.write_transaction().await?;
            let existing = consent::Entity::find_by_id((user_id, client_id.to_string())).one(&*txn).await?;
            match existing {
                Some(row) => {
                    let granted = Scope::parse(&row.scope)?.union(scope);
                    let mut active: consent::ActiveModel = row.into();
                    active.scope = Set(granted.to_string());
                    active.updated_at = Set(now);
                    active.update(&*txn).await?;
                }
                None => {
                    consent::ActiveModel {
                        user_id: Set(user_id),
                        client_id: Set(client_id.to_string()),
                        scope: Set(scope.to_string()),
                        created_at: Set(now),
                        updated_at: Set(now),
                    }
                    .insert(&*txn)
                    .await?;
                }
            }
            txn.commit().await?;
            Ok(())
        })
        .await
    }
}
