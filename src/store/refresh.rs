//! Refresh-token families and their tokens (DESIGN.md, Tokens). A token is used once:
//! rotation is a conditional update checked by affected rows, never read-then-write.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, SelectA, SelectB, SelectC, Set,
};
use uuid::Uuid;

use super::entities::{refresh_family, refresh_token, revoked_access_token, user};
use super::sessions::{SessionLiveUntil, session_live_until};
use super::{Store, StoreError, from_json_list, to_json_list};
use crate::clock::UnixTime;
use crate::model::{
    ApiIdentifier, Authentication, ClientId, OFFLINE_ACCESS, RefreshFamily, RevocationReason, Scope, User,
};

/// The families whose scope holds `offline_access`. Scope tokens come from a fixed list,
/// so no other scope contains this text.
pub(super) fn holds_offline_access() -> Expr {
    refresh_family::Column::Scope.like(format!("%{OFFLINE_ACCESS}%"))
}

/// A family with its first token; `token_hash` is the SHA-256 of the refresh token.
#[derive(Debug, Clone)]
pub struct NewFamily {
    pub family: RefreshFamily,
    pub token_hash: String,
}

/// A refresh token as found: its family, when it was used, and what its use depends on
/// (the user, the browser session), read with it in one statement.
#[derive(Debug, Clone)]
pub struct FoundRefreshToken {
    pub family: RefreshFamily,
    pub used_at: Option<UnixTime>,
    /// Its successor, sealed under the master key, kept for the reuse grace window only.
    pub sealed_successor: Option<Vec<u8>>,
    /// The family's user; `None` once removed.
    pub user: Option<User>,
    /// The family's browser session.
    pub session: SessionLiveUntil,
}

impl FoundRefreshToken {
    pub fn used(&self) -> bool {
        self.used_at.is_some()
    }
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    Rotated,
    /// The token had been used already: another request rotated it first.
    AlreadyUsed,
}

impl TryFrom<refresh_family::Model> for RefreshFamily {
    type Error = StoreError;

    fn try_from(row: refresh_family::Model) -> Result<Self, StoreError> {
        Ok(RefreshFamily {
            id: row.id,
            client_id: ClientId::parse(&row.client_id)?,
            user_id: row.user_id,
            sid: row.sid,
            scope: Scope::parse(&row.scope)?,
            resources: from_json_list(&row.resources, ApiIdentifier::parse)?,
            authentication: Authentication::from_stored(row.auth_time, row.acr, &row.amr)?,
            idle_expires_at: row.idle_expires_at,
            absolute_expires_at: row.absolute_expires_at,
            revoked: row.revoked_at.is_some(),
        })
    }
}

pub(super) async fn insert_family(
    conn: &impl ConnectionTrait,
    new: NewFamily,
    now: UnixTime,
) -> Result<(), StoreError> {
    let family = new.family;
    refresh_family::ActiveModel {
        id: Set(family.id),
        client_id: Set(family.client_id.to_string()),
        user_id: Set(family.user_id),
        sid: Set(family.sid),
        scope: Set(family.scope.to_string()),
        resources: Set(to_json_list(&family.resources)),
        auth_time: Set(family.authentication.auth_time),
        acr: Set(family.authentication.acr.clone()),
        amr: Set(family.authentication.amr_json()),
        created_at: Set(now),
        last_used_at: Set(now),
        idle_expires_at: Set(family.idle_expires_at),
        absolute_expires_at: Set(family.absolute_expires_at),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(conn)
    .await?;
    insert_token(conn, &new.token_hash, family.id, now).await
}

async fn insert_token(
    conn: &impl ConnectionTrait,
    hash: &str,
    family_id: Uuid,
    now: UnixTime,
) -> Result<(), StoreError> {
    refresh_token::ActiveModel {
        token_hash: Set(hash.to_owned()),
        family_id: Set(family_id),
        created_at: Set(now),
        used_at: Set(None),
        successor_hash: Set(None),
        successor_token: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// A refresh-token family as an administrator sees it.
#[derive(Debug, Clone)]
pub struct FamilyAdminRecord {
    pub id: Uuid,
    pub client_id: String,
    pub user_id: Uuid,
    pub scope: String,
    pub created_at: UnixTime,
    pub last_used_at: UnixTime,
    /// The earlier of the idle and absolute expiry.
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
    pub revoked_reason: Option<String>,
}

/// A live refresh-token family as its user sees it: an application holding access.
#[derive(Debug, Clone)]
pub struct FamilyRecord {
    pub id: Uuid,
    pub client_name: String,
    pub scope: Scope,
    pub created_at: UnixTime,
    pub last_used_at: UnixTime,
}

impl Store {
    pub async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<FoundRefreshToken>, StoreError> {
        let query = refresh_token::Entity::find_by_id(token_hash.to_owned())
            .find_also_related(refresh_family::Entity)
            .and_also_related(user::Entity)
            .expr_as(session_live_until((refresh_family::Entity, refresh_family::Column::Sid)), "session_live_until")
            .build(self.db.get_database_backend());
        let Some(row) = self.db.query_one_raw(query).await? else { return Ok(None) };
        let token = refresh_token::Model::from_query_result(&row, SelectA.as_str())?;
        let family =
            refresh_family::Model::from_query_result_optional(&row, SelectB.as_str())?.ok_or(StoreError::NotFound)?;
        let user = user::Model::from_query_result_optional(&row, SelectC.as_str())?.map(User::try_from).transpose()?;
        Ok(Some(FoundRefreshToken {
            family: RefreshFamily::try_from(family)?,
            used_at: token.used_at,
            sealed_successor: token.successor_token,
            user,
            session: SessionLiveUntil(row.try_get("", "session_live_until")?),
        }))
    }

    /// Uses `old_hash` once and stores its successor `new_hash` in the same family, moving
    /// the family's idle expiry. `sealed_successor` is kept with the old token for the
    /// reuse grace window.
    pub async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        sealed_successor: Option<Vec<u8>>,
        family_id: Uuid,
        idle_expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        let (old_hash, new_hash) = (old_hash.to_owned(), new_hash.to_owned());
        self.writing(move |store| async move {
            let (old_hash, new_hash) = (old_hash.as_str(), new_hash.as_str());
            let txn = store.write_transaction().await?;
            let used = refresh_token::Entity::update_many()
                .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
                .col_expr(refresh_token::Column::SuccessorHash, Expr::value(new_hash))
                .col_expr(refresh_token::Column::SuccessorToken, Expr::value(sealed_successor))
                .filter(refresh_token::Column::TokenHash.eq(old_hash))
                .filter(refresh_token::Column::UsedAt.is_null())
                .exec(&*txn)
                .await?;
            if used.rows_affected != 1 {
                return Ok(Rotation::AlreadyUsed);
            }
            let family = refresh_family::Entity::update_many()
                .col_expr(refresh_family::Column::LastUsedAt, Expr::value(now))
                .col_expr(refresh_family::Column::IdleExpiresAt, Expr::value(idle_expires_at))
                .filter(refresh_family::Column::Id.eq(family_id))
                .filter(refresh_family::Column::RevokedAt.is_null())
                .exec(&*txn)
                .await?;
            if family.rows_affected != 1 {
                return Ok(Rotation::AlreadyUsed);
            }
            insert_token(&*txn, new_hash, family_id, now).await?;
            txn.commit().await?;
            Ok(Rotation::Rotated)
        })
        .await
    }

    /// Revokes a family; `false` when it was revoked already or does not exist.
    pub async fn revoke_family(
        &self,
        family_id: Uuid,
        reason: RevocationReason,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        self.revoke_family_where(family_id, None, reason, now).await
    }

    /// A user's live families with their clients' names, newest first.
    pub async fn list_live_families(&self, user_id: Uuid, now: UnixTime) -> Result<Vec<FamilyRecord>, StoreError> {
        let rows = refresh_family::Entity::find()
            .filter(refresh_family::Column::UserId.eq(user_id))
            .filter(refresh_family::Column::RevokedAt.is_null())
            .filter(refresh_family::Column::IdleExpiresAt.gt(now))
            .filter(refresh_family::Column::AbsoluteExpiresAt.gt(now))
            .order_by_desc(refresh_family::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            let client_id = ClientId::parse(&row.client_id)?;
            let client_name = self.find_client(&client_id).await?.map_or_else(|| row.client_id.clone(), |c| c.name);
            records.push(FamilyRecord {
                id: row.id,
                client_name,
                scope: Scope::parse(&row.scope)?,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
            });
        }
        Ok(records)
    }

    /// Families for the admin view: newest first, filtered by user and client.
    pub async fn search_families(
        &self,
        user_id: Option<Uuid>,
        client_id: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<FamilyAdminRecord>, StoreError> {
        let mut select = refresh_family::Entity::find();
        if let Some(user_id) = user_id {
            select = select.filter(refresh_family::Column::UserId.eq(user_id));
        }
        if let Some(client_id) = client_id {
            select = select.filter(refresh_family::Column::ClientId.eq(client_id));
        }
        let rows = select
            .order_by_desc(refresh_family::Column::CreatedAt)
            .order_by_desc(refresh_family::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| FamilyAdminRecord {
                id: row.id,
                client_id: row.client_id,
                user_id: row.user_id,
                scope: row.scope,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                expires_at: row.idle_expires_at.min(row.absolute_expires_at),
                revoked_at: row.revoked_at,
                revoked_reason: row.revoked_reason,
            })
            .collect())
    }

    /// Families neither revoked nor expired.
    pub async fn count_live_families(&self, now: UnixTime) -> Result<u64, StoreError> {
        Ok(refresh_family::Entity::find()
            .filter(refresh_family::Column::RevokedAt.is_null())
            .filter(refresh_family::Column::IdleExpiresAt.gt(now))
            .filter(refresh_family::Column::AbsoluteExpiresAt.gt(now))
            .count(&self.db)
            .await?)
    }

    /// Revokes a family of `user_id`; `false` when it is not theirs or already revoked.
    pub async fn revoke_user_family(
        &self,
        user_id: Uuid,
        family_id: Uuid,
        reason: RevocationReason,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        self.revoke_family_where(family_id, Some(user_id), reason, now).await
    }

    async fn revoke_family_where(
        &self,
        family_id: Uuid,
        owner: Option<Uuid>,
        reason: RevocationReason,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut update = refresh_family::Entity::update_many()
            .col_expr(refresh_family::Column::RevokedAt, Expr::value(now))
            .col_expr(refresh_family::Column::RevokedReason, Expr::value(reason.as_str()))
            .filter(refresh_family::Column::Id.eq(family_id))
            .filter(refresh_family::Column::RevokedAt.is_null());
        if let Some(owner) = owner {
            update = update.filter(refresh_family::Column::UserId.eq(owner));
        }
        Ok(update.exec(&self.db).await?.rows_affected == 1)
    }

    /// Whether a refresh token was used (rotated) already.
    pub async fn refresh_token_used(&self, token_hash: &str) -> Result<bool, StoreError> {
        let token = refresh_token::Entity::find_by_id(token_hash.to_owned()).one(&self.db).await?;
        Ok(token.is_some_and(|t| t.used_at.is_some()))
    }

    /// Records an access token's `jti` as revoked until the token expires anyway.
    pub async fn revoke_access_token(&self, jti: &str, expires_at: UnixTime, now: UnixTime) -> Result<(), StoreError> {
        let result = revoked_access_token::ActiveModel {
            jti: Set(jti.to_owned()),
            expires_at: Set(expires_at),
            revoked_at: Set(now),
        }
        .insert(&self.db)
        .await;
        match result {
            Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => Ok(()),
            Err(err) => match StoreError::from(err) {
                StoreError::Conflict(_) => Ok(()),
                other => Err(other),
            },
        }
    }

    pub async fn access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(revoked_access_token::Entity::find_by_id(jti.to_owned()).one(&self.db).await?.is_some())
    }
}
