//! The API registry (RFC 8707 resource servers) and which clients may request each API.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::{api, client};
use super::{Store, StoreError, from_json_list, to_json_list};
use crate::clock::UnixTime;
use crate::model::{Api, ApiIdentifier, ApiScope, ClientId};

/// A new API, validated by the flow that registers it.
#[derive(Debug, Clone)]
pub struct NewApi {
    pub identifier: ApiIdentifier,
    pub name: String,
    pub scopes: Vec<ApiScope>,
    pub access_token_seconds: Option<i64>,
}

impl TryFrom<api::Model> for Api {
    type Error = StoreError;

    fn try_from(row: api::Model) -> Result<Self, StoreError> {
        let scopes: Vec<ApiScope> = serde_json::from_str(&row.scopes)?;
        Ok(Api {
            identifier: ApiIdentifier::parse(&row.identifier)?,
            name: row.name,
            scopes,
            access_token_seconds: row.access_token_seconds,
            created_at: row.created_at,
        })
    }
}

impl Store {
    /// Registers an API; `Conflict` when the identifier is taken.
    pub async fn insert_api(&self, new: NewApi, now: UnixTime) -> Result<Api, StoreError> {
        let row = api::ActiveModel {
            identifier: Set(new.identifier.to_string()),
            name: Set(new.name),
            scopes: Set(serde_json::to_string(&new.scopes)?),
            access_token_seconds: Set(new.access_token_seconds),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        Api::try_from(row)
    }

    /// The API, from the cache of recent reads when there (see `RECORD_CACHE_TTL`): the
    /// token endpoint looks it up on every request that names one.
    pub async fn find_api(&self, identifier: &ApiIdentifier) -> Result<Option<Api>, StoreError> {
        let read = || async {
            let row = api::Entity::find_by_id(identifier.as_str().to_owned()).one(&self.db).await?;
            row.map(Api::try_from).transpose()
        };
        self.apis.get_or_load(identifier, read).await
    }

    pub async fn list_apis(&self) -> Result<Vec<Api>, StoreError> {
        let rows = api::Entity::find().order_by_asc(api::Column::Identifier).all(&self.db).await?;
        rows.into_iter().map(Api::try_from).collect()
    }

    pub async fn count_apis(&self) -> Result<u64, StoreError> {
        Ok(api::Entity::find().count(&self.db).await?)
    }

    /// The longest access-token lifetime any API overrides the default with.
    pub async fn longest_api_access_token_seconds(&self) -> Result<Option<i64>, StoreError> {
        let longest: Option<Option<i64>> = api::Entity::find()
            .select_only()
            .column_as(api::Column::AccessTokenSeconds.max(), "longest")
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(longest.flatten())
    }

    /// Removes an API, its introspection credentials, and every client's permission to
    /// request it, in one transaction; `false` when there was no such API. Families
    /// granted it stay, but a refresh for it is refused from now on.
    pub async fn delete_api(&self, identifier: &ApiIdentifier, now: UnixTime) -> Result<bool, StoreError> {
        let identifier = identifier.clone();
        let deleted = self
            .writing(move |store| async move {
                let txn = store.write_transaction().await?;
                let deleted = api::Entity::delete_by_id(identifier.as_str().to_owned()).exec(&*txn).await?;
                if deleted.rows_affected == 0 {
                    return Ok(false);
                }
                client::Entity::delete_many()
                    .filter(client::Column::ResourceServerFor.eq(identifier.as_str()))
                    .exec(&*txn)
                    .await?;
                let holders = client::Entity::find()
                    .filter(client::Column::Resources.contains(format!("\"{}\"", identifier.as_str())))
                    .all(&*txn)
                    .await?;
                for holder in holders {
                    let resources = from_json_list(&holder.resources, ApiIdentifier::parse)?;
                    let kept: Vec<&ApiIdentifier> = resources.iter().filter(|r| **r != identifier).collect();
                    let default = holder.default_resource.filter(|d| d != identifier.as_str());
                    client::Entity::update_many()
                        .col_expr(client::Column::Resources, Expr::value(to_json_list(&kept)))
                        .col_expr(client::Column::DefaultResource, Expr::value(default))
                        .col_expr(client::Column::UpdatedAt, Expr::value(now))
                        .filter(client::Column::Id.eq(holder.id))
                        .exec(&*txn)
                        .await?;
                }
                txn.commit().await?;
                Ok(true)
            })
            .await?;
        self.apis.forget_all();
        self.clients.forget_all();
        Ok(deleted)
    }

    /// Which APIs a client may request, and which one it gets when it names none.
    pub async fn set_client_resources(
        &self,
        id: &ClientId,
        resources: &[ApiIdentifier],
        default_resource: Option<&ApiIdentifier>,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let updated = client::Entity::update_many()
            .col_expr(client::Column::Resources, Expr::value(to_json_list(resources)))
            .col_expr(client::Column::DefaultResource, Expr::value(default_resource.map(|api| api.to_string())))
            .col_expr(client::Column::UpdatedAt, Expr::value(now))
            .filter(client::Column::Id.eq(id.as_str()))
            .exec(&self.db)
            .await?;
        self.clients.forget_all();
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
