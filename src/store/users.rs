//! Users: accounts, their password hashes and roles.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::entities::user;
use super::sessions::{SessionsEnded, end_user_sessions_and_families};
use super::{Store, StoreError, from_json_list, to_json_list};
use crate::clock::UnixTime;
use crate::model::{DisplayName, Email, RevocationReason, Role, User, Username};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub email: Option<Email>,
    pub name: Option<DisplayName>,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub is_admin: bool,
}

impl TryFrom<user::Model> for User {
    type Error = StoreError;

    fn try_from(row: user::Model) -> Result<Self, StoreError> {
        Ok(User {
            id: row.id,
            username: Username::parse(&row.username)?,
            email: row.email.as_deref().map(Email::parse).transpose()?,
            email_verified: row.email_verified,
            name: row.name.as_deref().map(DisplayName::parse).transpose()?,
            password_hash: row.password_hash,
            roles: from_json_list(&row.roles, Role::parse)?,
            is_admin: row.is_admin,
            disabled: row.disabled,
            totp_secret: row.totp_secret,
            mfa_locked_until: row.mfa_locked_until,
            created_at: row.created_at,
        })
    }
}

impl Store {
    /// Inserts a user; `Conflict` when the username is taken.
    pub async fn insert_user(&self, new: NewUser, now: UnixTime) -> Result<User, StoreError> {
        let row = user::ActiveModel {
            id: Set(Uuid::new_v4()),
            username: Set(new.username.as_str().to_owned()),
            email: Set(new.email.map(|e| e.as_str().to_owned())),
            email_verified: Set(false),
            name: Set(new.name.map(|n| n.as_str().to_owned())),
            password_hash: Set(new.password_hash),
            roles: Set(to_json_list(&new.roles)),
            is_admin: Set(new.is_admin),
            disabled: Set(false),
            totp_secret: Set(None),
            totp_last_step: Set(None),
            mfa_failures: Set(0),
            mfa_locked_until: Set(None),
            password_changed_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        User::try_from(row)
    }

    pub async fn find_user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let row = user::Entity::find().filter(user::Column::Username.eq(username.as_str())).one(&self.db).await?;
        row.map(User::try_from).transpose()
    }

    pub async fn find_user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let row = user::Entity::find_by_id(id).one(&self.db).await?;
        row.map(User::try_from).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = user::Entity::find().order_by_asc(user::Column::Username).all(&self.db).await?;
        rows.into_iter().map(User::try_from).collect()
    }

    pub async fn admin_exists(&self) -> Result<bool, StoreError> {
        let count = user::Entity::find().filter(user::Column::IsAdmin.eq(true)).count(&self.db).await?;
        Ok(count > 0)
    }

    /// Disables or enables a user. Disabling ends every browser session and revokes every
    /// refresh-token family of the user in the same transaction.
    pub async fn set_user_disabled(
        &self,
        id: Uuid,
        disabled: bool,
        now: UnixTime,
    ) -> Result<SessionsEnded, StoreError> {
        let txn = self.write_transaction().await?;
        let updated = user::Entity::update_many()
            .col_expr(user::Column::Disabled, Expr::value(disabled))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        let ended = if disabled {
            end_user_sessions_and_families(&txn, id, None, RevocationReason::UserDisabled, now).await?
        } else {
            SessionsEnded::default()
        };
        txn.commit().await?;
        Ok(ended)
    }

    /// Replaces the password hash and, in the same transaction, ends every session and
    /// refresh-token family the old password opened, but for the session `keep` (the one
    /// the person changed it from) and its families.
    pub async fn set_user_password_hash(
        &self,
        id: Uuid,
        hash: String,
        keep: Option<Uuid>,
        now: UnixTime,
    ) -> Result<SessionsEnded, StoreError> {
        let txn = self.write_transaction().await?;
        let updated = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .col_expr(user::Column::PasswordChangedAt, Expr::value(now))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        let ended = end_user_sessions_and_families(&txn, id, keep, RevocationReason::PasswordChanged, now).await?;
        txn.commit().await?;
        Ok(ended)
    }
}
