//! Upstream providers, the identities linked to local users, and the upstream sign-ins
//! under way. A sign-in is taken once (a delete checked by affected rows), so a `state`
//! answers one callback even when two instances receive it at once.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use url::Url;
use uuid::Uuid;

use super::entities::{linked_identity, upstream, upstream_login};
use super::users::new_user_row;
use super::{NewUser, Store, StoreError, from_json_list, to_json_list};
use crate::clock::UnixTime;
use crate::model::{
    ClaimMapping, Destination, LinkedIdentity, OAuth2Provider, Upstream, UpstreamLogin, UpstreamName, UpstreamProtocol,
    UpstreamPurpose, User,
};

fn url(field: &str, value: Option<String>) -> Result<Url, StoreError> {
    let value = value.ok_or_else(|| StoreError::Corrupt(format!("upstream without {field}")))?;
    Url::parse(&value).map_err(|e| StoreError::Corrupt(format!("upstream {field}: {e}")))
}

impl TryFrom<upstream::Model> for Upstream {
    type Error = StoreError;

    fn try_from(row: upstream::Model) -> Result<Self, StoreError> {
        let protocol = match row.protocol.as_str() {
            "oidc" => UpstreamProtocol::Oidc { issuer: url("issuer", row.issuer)? },
            "oauth2" => UpstreamProtocol::OAuth2(Box::new(OAuth2Provider {
                authorization_endpoint: url("authorization_endpoint", row.authorization_endpoint)?,
                token_endpoint: url("token_endpoint", row.token_endpoint)?,
                userinfo_endpoint: url("userinfo_endpoint", row.userinfo_endpoint)?,
                claims: serde_json::from_str::<ClaimMapping>(row.claims.as_deref().unwrap_or("null"))?,
            })),
            other => return Err(StoreError::Corrupt(format!("upstream protocol {other}"))),
        };
        Ok(Upstream {
            name: UpstreamName::parse(&row.name)?,
            display_name: row.display_name,
            protocol,
            client_id: row.client_id,
            client_secret_sealed: row.client_secret,
            scopes: from_json_list(&row.scopes, |s| Ok(s.to_owned()))?,
            link_by_verified_email: row.link_by_verified_email,
            create_users: row.create_users,
            trusted_for_mfa: row.trusted_for_mfa,
            offer_end_session: row.offer_end_session,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<linked_identity::Model> for LinkedIdentity {
    type Error = StoreError;

    fn try_from(row: linked_identity::Model) -> Result<Self, StoreError> {
        Ok(LinkedIdentity {
            upstream: UpstreamName::parse(&row.upstream)?,
            subject: row.subject,
            user_id: row.user_id,
            email: row.email,
            username: row.username,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        })
    }
}

/// The row linking `link`'s identity to `user_id`.
fn link_row(link: &LinkedIdentity, user_id: Uuid) -> linked_identity::ActiveModel {
    linked_identity::ActiveModel {
        upstream: Set(link.upstream.to_string()),
        subject: Set(link.subject.clone()),
        user_id: Set(user_id),
        email: Set(link.email.clone()),
        username: Set(link.username.clone()),
        created_at: Set(link.created_at),
        last_used_at: Set(link.last_used_at),
    }
}

impl Store {
    /// Adds an upstream; `Conflict` when the name is taken.
    pub async fn insert_upstream(&self, new: &Upstream) -> Result<(), StoreError> {
        let (issuer, authorization, token, userinfo, claims) = match &new.protocol {
            UpstreamProtocol::Oidc { issuer } => (Some(issuer.to_string()), None, None, None, None),
            UpstreamProtocol::OAuth2(provider) => (
                None,
                Some(provider.authorization_endpoint.to_string()),
                Some(provider.token_endpoint.to_string()),
                Some(provider.userinfo_endpoint.to_string()),
                Some(serde_json::to_string(&provider.claims)?),
            ),
        };
        let protocol = if issuer.is_some() { "oidc" } else { "oauth2" };
        upstream::ActiveModel {
            name: Set(new.name.to_string()),
            display_name: Set(new.display_name.clone()),
            protocol: Set(protocol.to_owned()),
            issuer: Set(issuer),
            authorization_endpoint: Set(authorization),
            token_endpoint: Set(token),
            userinfo_endpoint: Set(userinfo),
            claims: Set(claims),
            client_id: Set(new.client_id.clone()),
            client_secret: Set(new.client_secret_sealed.clone()),
            scopes: Set(to_json_list(&new.scopes)),
            link_by_verified_email: Set(new.link_by_verified_email),
            create_users: Set(new.create_users),
            trusted_for_mfa: Set(new.trusted_for_mfa),
            offer_end_session: Set(new.offer_end_session),
            created_at: Set(new.created_at),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    pub async fn find_upstream(&self, name: &UpstreamName) -> Result<Option<Upstream>, StoreError> {
        let row = upstream::Entity::find_by_id(name.to_string()).one(&self.db).await?;
        row.map(Upstream::try_from).transpose()
    }

    pub async fn list_upstreams(&self) -> Result<Vec<Upstream>, StoreError> {
        let rows = upstream::Entity::find().order_by_asc(upstream::Column::Name).all(&self.db).await?;
        rows.into_iter().map(Upstream::try_from).collect()
    }

    /// Removes an upstream with its links (ON DELETE CASCADE) and its sign-ins under way;
    /// `false` when there was none.
    pub async fn delete_upstream(&self, name: &UpstreamName) -> Result<bool, StoreError> {
        let name = name.to_string();
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            upstream_login::Entity::delete_many()
                .filter(upstream_login::Column::Upstream.eq(name.as_str()))
                .exec(&*txn)
                .await?;
            linked_identity::Entity::delete_many()
                .filter(linked_identity::Column::Upstream.eq(name.as_str()))
                .exec(&*txn)
                .await?;
            let deleted = upstream::Entity::delete_by_id(name).exec(&*txn).await?;
            txn.commit().await?;
            Ok(deleted.rows_affected == 1)
        })
        .await
    }

    pub async fn find_linked_identity(
        &self,
        upstream: &UpstreamName,
        subject: &str,
    ) -> Result<Option<LinkedIdentity>, StoreError> {
        let row = linked_identity::Entity::find_by_id((upstream.to_string(), subject.to_owned())).one(&self.db).await?;
        row.map(LinkedIdentity::try_from).transpose()
    }

    /// Links an identity; `Conflict` when it is linked already, or its user has an
    /// identity of this upstream already.
    pub async fn insert_linked_identity(&self, link: &LinkedIdentity) -> Result<(), StoreError> {
        link_row(link, link.user_id).insert(&self.db).await?;
        Ok(())
    }

    /// Makes a user and links `link`'s identity to it (its `user_id` is ignored), in one transaction: `Conflict`
    /// (and nothing made) when the username is taken or the identity was linked meanwhile.
    pub async fn insert_user_with_link(
        &self,
        new: NewUser,
        email_verified: bool,
        link: LinkedIdentity,
        now: UnixTime,
    ) -> Result<User, StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            let row = new_user_row(new, email_verified, now).insert(&*txn).await?;
            link_row(&link, row.id).insert(&*txn).await?;
            txn.commit().await?;
            User::try_from(row)
        })
        .await
    }

    /// Records a sign-in through a linked identity, with what the provider says of it now.
    pub async fn touch_linked_identity(&self, link: &LinkedIdentity, now: UnixTime) -> Result<(), StoreError> {
        linked_identity::Entity::update_many()
            .col_expr(linked_identity::Column::LastUsedAt, Expr::value(now))
            .col_expr(linked_identity::Column::Email, Expr::value(link.email.clone()))
            .col_expr(linked_identity::Column::Username, Expr::value(link.username.clone()))
            .filter(linked_identity::Column::Upstream.eq(link.upstream.as_str()))
            .filter(linked_identity::Column::Subject.eq(link.subject.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn list_linked_identities(&self, user_id: Uuid) -> Result<Vec<LinkedIdentity>, StoreError> {
        let rows = linked_identity::Entity::find()
            .filter(linked_identity::Column::UserId.eq(user_id))
            .order_by_asc(linked_identity::Column::Upstream)
            .all(&self.db)
            .await?;
        rows.into_iter().map(LinkedIdentity::try_from).collect()
    }

    /// Unlinks `user_id`'s identity of `upstream`; `false` when there was none.
    pub async fn delete_linked_identity(&self, user_id: Uuid, upstream: &UpstreamName) -> Result<bool, StoreError> {
        let deleted = linked_identity::Entity::delete_many()
            .filter(linked_identity::Column::UserId.eq(user_id))
            .filter(linked_identity::Column::Upstream.eq(upstream.as_str()))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected == 1)
    }

    pub async fn insert_upstream_login(
        &self,
        state_hash: String,
        login: &UpstreamLogin,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let (purpose, request_hash, destination, user_id, sid) = match &login.purpose {
            UpstreamPurpose::SignIn { sealed_request_id, destination } => {
                ("sign_in", sealed_request_id.clone(), destination.map(|d| d.as_str().to_owned()), None, None)
            }
            UpstreamPurpose::Link { user_id, sid } => ("link", None, None, Some(*user_id), Some(*sid)),
        };
        upstream_login::ActiveModel {
            state_hash: Set(state_hash),
            upstream: Set(login.upstream.to_string()),
            purpose: Set(purpose.to_owned()),
            browser_hash: Set(login.browser_hash.clone()),
            sealed_request_id: Set(request_hash),
            destination: Set(destination),
            user_id: Set(user_id),
            sid: Set(sid),
            nonce: Set(login.nonce.clone()),
            code_verifier: Set(login.code_verifier.clone()),
            created_at: Set(now),
            expires_at: Set(login.expires_at),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// Takes a sign-in under way, which no later callback can take again; `None` when it
    /// expired, was taken, or never was.
    pub async fn take_upstream_login(
        &self,
        state_hash: &str,
        now: UnixTime,
    ) -> Result<Option<UpstreamLogin>, StoreError> {
        let Some(row) = upstream_login::Entity::find_by_id(state_hash.to_owned())
            .filter(upstream_login::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let deleted = upstream_login::Entity::delete_by_id(state_hash.to_owned()).exec(&self.db).await?;
        if deleted.rows_affected != 1 {
            return Ok(None);
        }
        let purpose = match (row.purpose.as_str(), row.user_id, row.sid) {
            ("sign_in", None, None) => UpstreamPurpose::SignIn {
                sealed_request_id: row.sealed_request_id,
                destination: row.destination.as_deref().and_then(Destination::parse),
            },
            ("link", Some(user_id), Some(sid)) => UpstreamPurpose::Link { user_id, sid },
            (purpose, ..) => return Err(StoreError::Corrupt(format!("upstream sign-in of purpose {purpose}"))),
        };
        Ok(Some(UpstreamLogin {
            upstream: UpstreamName::parse(&row.upstream)?,
            purpose,
            browser_hash: row.browser_hash,
            nonce: row.nonce,
            code_verifier: row.code_verifier,
            expires_at: row.expires_at,
        }))
    }
}
