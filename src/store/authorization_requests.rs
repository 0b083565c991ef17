//! Authorization requests waiting on the login or consent page.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entities::authorization_request as row;
use super::{Store, StoreError, from_json_list, to_json_list};
use crate::clock::UnixTime;
use crate::model::{
    ApiIdentifier, AssuranceLevel, AuthorizationRequest, ClientId, PendingAuthorization, Prompt, RedirectUri, Scope,
};

impl TryFrom<row::Model> for PendingAuthorization {
    type Error = StoreError;

    fn try_from(row: row::Model) -> Result<Self, StoreError> {
        let prompt = row.prompt.unwrap_or_default();
        let has = |value: &str| prompt.split(' ').any(|p| p == value);
        Ok(PendingAuthorization {
            request: AuthorizationRequest {
                client_id: ClientId::parse(&row.client_id)?,
                redirect_uri: RedirectUri::parse(&row.redirect_uri)?,
                scope: Scope::parse(&row.scope)?,
                resources: from_json_list(&row.resources, ApiIdentifier::parse)?,
                state: row.state,
                nonce: row.nonce,
                code_challenge: row.code_challenge,
                prompt: Prompt {
                    none: has("none"),
                    login: has("login"),
                    consent: has("consent"),
                    create: has("create"),
                },
                max_age: row.max_age,
                login_hint: row.login_hint,
                requested_level: row
                    .requested_acr
                    .as_deref()
                    .and_then(AssuranceLevel::from_acr)
                    .unwrap_or(AssuranceLevel::OneFactor),
            },
            browser_hash: row.browser_hash,
            user_id: row.user_id,
            sid: row.sid,
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }
}

impl Store {
    pub async fn insert_authorization_request(
        &self,
        id_hash: String,
        pending: &PendingAuthorization,
    ) -> Result<(), StoreError> {
        let request = &pending.request;
        row::ActiveModel {
            id_hash: Set(id_hash),
            browser_hash: Set(pending.browser_hash.clone()),
            client_id: Set(request.client_id.to_string()),
            redirect_uri: Set(request.redirect_uri.to_string()),
            scope: Set(request.scope.to_string()),
            resources: Set(to_json_list(&request.resources)),
            state: Set(request.state.clone()),
            nonce: Set(request.nonce.clone()),
            code_challenge: Set(request.code_challenge.clone()),
            prompt: Set(Some(request.prompt.as_text()).filter(|p| !p.is_empty())),
            max_age: Set(request.max_age),
            login_hint: Set(request.login_hint.clone()),
            requested_acr: Set(Some(request.requested_level)
                .filter(|level| *level > AssuranceLevel::OneFactor)
                .map(|level| level.acr().to_owned())),
            user_id: Set(pending.user_id),
            sid: Set(pending.sid),
            created_at: Set(pending.created_at),
            expires_at: Set(pending.expires_at),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// The request, unless it expired or was finished.
    pub async fn find_authorization_request(
        &self,
        id_hash: &str,
        now: UnixTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        let found =
            row::Entity::find_by_id(id_hash.to_owned()).filter(row::Column::ExpiresAt.gt(now)).one(&self.db).await?;
        found.map(PendingAuthorization::try_from).transpose()
    }

    /// Records who logged in for the request, so the consent page can continue it.
    pub async fn bind_authorization_request(&self, id_hash: &str, user_id: Uuid, sid: Uuid) -> Result<(), StoreError> {
        row::Entity::update_many()
            .col_expr(row::Column::UserId, Expr::value(user_id))
            .col_expr(row::Column::Sid, Expr::value(sid))
            .filter(row::Column::IdHash.eq(id_hash))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Removes a finished request; `false` when it was already gone (finished elsewhere),
    /// so one request can yield one code at most.
    pub async fn finish_authorization_request(&self, id_hash: &str) -> Result<bool, StoreError> {
        let deleted = row::Entity::delete_by_id(id_hash.to_owned()).exec(&self.db).await?;
        Ok(deleted.rows_affected == 1)
    }
}
