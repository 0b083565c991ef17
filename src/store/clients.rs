//! Clients: registered relying parties.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::client;
use super::{Store, StoreError, from_json_list, to_json_list};
use crate::clock::UnixTime;
use crate::model::{ApiIdentifier, Client, ClientId, GrantType, RedirectUri, RefreshOverrides};

#[derive(Debug, Clone)]
pub struct NewClient {
    pub id: ClientId,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub first_party: bool,
    pub require_mfa: bool,
    pub require_phishing_resistant: bool,
    pub access_token_seconds: Option<i64>,
    pub refresh: RefreshOverrides,
    pub backchannel_logout_uri: Option<RedirectUri>,
    pub resources: Vec<ApiIdentifier>,
    pub default_resource: Option<ApiIdentifier>,
    pub resource_server_for: Option<ApiIdentifier>,
}

impl TryFrom<client::Model> for Client {
    type Error = StoreError;

    fn try_from(row: client::Model) -> Result<Self, StoreError> {
        Ok(Client {
            id: ClientId::parse(&row.id)?,
            name: row.name,
            secret_hash: row.secret_hash,
            redirect_uris: from_json_list(&row.redirect_uris, RedirectUri::parse)?,
            post_logout_redirect_uris: from_json_list(&row.post_logout_redirect_uris, RedirectUri::parse)?,
            grant_types: from_json_list(&row.grant_types, GrantType::parse)?,
            first_party: row.first_party,
            require_mfa: row.require_mfa,
            require_phishing_resistant: row.require_phishing_resistant,
            access_token_seconds: row.access_token_seconds,
            refresh: RefreshOverrides {
                idle_seconds: row.refresh_idle_seconds,
                absolute_seconds: row.refresh_absolute_seconds,
                reuse_grace_seconds: row.reuse_grace_seconds,
            },
            backchannel_logout_uri: row.backchannel_logout_uri.as_deref().map(RedirectUri::parse).transpose()?,
            resources: from_json_list(&row.resources, ApiIdentifier::parse)?,
            default_resource: row.default_resource.as_deref().map(ApiIdentifier::parse).transpose()?,
            resource_server_for: row.resource_server_for.as_deref().map(ApiIdentifier::parse).transpose()?,
            created_at: row.created_at,
        })
    }
}

impl Store {
    /// Inserts a client; `Conflict` when the client_id is taken.
    pub async fn insert_client(&self, new: NewClient, now: UnixTime) -> Result<Client, StoreError> {
        let grant_names: Vec<&str> = new.grant_types.iter().map(|g| g.as_str()).collect();
        let row = client::ActiveModel {
            id: Set(new.id.as_str().to_owned()),
            name: Set(new.name),
            secret_hash: Set(new.secret_hash),
            redirect_uris: Set(to_json_list(&new.redirect_uris)),
            post_logout_redirect_uris: Set(to_json_list(&new.post_logout_redirect_uris)),
            grant_types: Set(to_json_list(&grant_names)),
            first_party: Set(new.first_party),
            require_mfa: Set(new.require_mfa),
            require_phishing_resistant: Set(new.require_phishing_resistant),
            access_token_seconds: Set(new.access_token_seconds),
            refresh_idle_seconds: Set(new.refresh.idle_seconds),
            refresh_absolute_seconds: Set(new.refresh.absolute_seconds),
            reuse_grace_seconds: Set(new.refresh.reuse_grace_seconds),
            backchannel_logout_uri: Set(new.backchannel_logout_uri.map(|uri| uri.to_string())),
            resources: Set(to_json_list(&new.resources)),
            default_resource: Set(new.default_resource.map(|api| api.to_string())),
            resource_server_for: Set(new.resource_server_for.map(|api| api.to_string())),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        Client::try_from(row)
    }

    /// The longest access-token lifetime any client overrides the default with.
    pub async fn longest_client_access_token_seconds(&self) -> Result<Option<i64>, StoreError> {
        let longest: Option<Option<i64>> = client::Entity::find()
            .select_only()
            .column_as(client::Column::AccessTokenSeconds.max(), "longest")
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(longest.flatten())
    }

    pub async fn find_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        let read = || async {
            let row = client::Entity::find_by_id(id.as_str().to_owned()).one(&self.db).await?;
            row.map(Client::try_from).transpose()
        };
        self.clients.get_or_load(id, read).await
    }

    /// The stored record, never a cached one (and the cache refreshed with it).
    pub async fn reload_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        self.clients.forget(id);
        self.find_client(id).await
    }

    pub async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        let rows = client::Entity::find().order_by_asc(client::Column::Id).all(&self.db).await?;
        rows.into_iter().map(Client::try_from).collect()
    }

    /// Deletes a client with its codes, consents and refresh-token families (cascade).
    pub async fn delete_client(&self, id: &ClientId) -> Result<(), StoreError> {
        let deleted = client::Entity::delete_by_id(id.as_str().to_owned()).exec(&self.db).await?;
        self.clients.forget(id);
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Replaces a client's settings (all but its id, secret and creation time).
    pub async fn update_client(&self, client: NewClient, now: UnixTime) -> Result<(), StoreError> {
        let grant_names: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
        let updated = client::Entity::update_many()
            .col_expr(client::Column::Name, Expr::value(client.name))
            .col_expr(client::Column::RedirectUris, Expr::value(to_json_list(&client.redirect_uris)))
            .col_expr(
                client::Column::PostLogoutRedirectUris,
                Expr::value(to_json_list(&client.post_logout_redirect_uris)),
            )
            .col_expr(client::Column::GrantTypes, Expr::value(to_json_list(&grant_names)))
            .col_expr(client::Column::FirstParty, Expr::value(client.first_party))
            .col_expr(client::Column::RequireMfa, Expr::value(client.require_mfa))
            .col_expr(client::Column::RequirePhishingResistant, Expr::value(client.require_phishing_resistant))
            .col_expr(client::Column::AccessTokenSeconds, Expr::value(client.access_token_seconds))
            .col_expr(client::Column::RefreshIdleSeconds, Expr::value(client.refresh.idle_seconds))
            .col_expr(client::Column::RefreshAbsoluteSeconds, Expr::value(client.refresh.absolute_seconds))
            .col_expr(client::Column::ReuseGraceSeconds, Expr::value(client.refresh.reuse_grace_seconds))
            .col_expr(
                client::Column::BackchannelLogoutUri,
                Expr::value(client.backchannel_logout_uri.map(|uri| uri.to_string())),
            )
            .col_expr(client::Column::Resources, Expr::value(to_json_list(&client.resources)))
            .col_expr(client::Column::DefaultResource, Expr::value(client.default_resource.map(|api| api.to_string())))
            .col_expr(client::Column::UpdatedAt, Expr::value(now))
            .filter(client::Column::Id.eq(client.id.as_str()))
            .exec(&self.db)
            .await?;
        self.clients.forget(&client.id);
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn count_clients(&self) -> Result<u64, StoreError> {
        Ok(client::Entity::find().count(&self.db).await?)
    }

    pub async fn set_client_secret_hash(&self, id: &ClientId, hash: String, now: UnixTime) -> Result<(), StoreError> {
        let updated = client::Entity::update_many()
            .col_expr(client::Column::SecretHash, Expr::value(hash))
            .col_expr(client::Column::UpdatedAt, Expr::value(now))
            .filter(client::Column::Id.eq(id.as_str()))
            .filter(client::Column::SecretHash.is_not_null())
            .exec(&self.db)
            .await?;
        self.clients.forget(id);
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
