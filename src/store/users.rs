//! Users: accounts, their password hashes and roles.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::user;
use super::sessions::{SessionsEnded, end_user_sessions_and_families};
use super::{Store, StoreError, escape_like, from_json_list, to_json_list};
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
    /// A generated (temporary) password, to be replaced at the next sign-in.
    pub password_change_required: bool,
    /// Signed up on its own: no sign-in until the address is verified.
    pub verify_before_sign_in: bool,
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
            password_change_required: row.password_change_required,
            verify_before_sign_in: row.verify_before_sign_in,
            created_at: row.created_at,
        })
    }
}

impl Store {
    /// Inserts a user; `Conflict` when the username is taken.
    pub async fn insert_user(&self, new: NewUser, now: UnixTime) -> Result<User, StoreError> {
        let row = new_user_row(new, false, now).insert(&self.db).await?;
        User::try_from(row)
    }

    pub async fn find_user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let row = user::Entity::find().filter(user::Column::Username.eq(username.as_str())).one(&self.db).await?;
        row.map(User::try_from).transpose()
    }

    /// The enabled users whose verified email is `email` (compared without case).
    pub async fn find_users_by_verified_email(&self, email: &str) -> Result<Vec<User>, StoreError> {
        let rows = user::Entity::find()
            .filter(Expr::expr(Func::lower(Expr::col(user::Column::Email))).eq(email.to_lowercase()))
            .filter(user::Column::EmailVerified.eq(true))
            .filter(user::Column::Disabled.eq(false))
            .all(&self.db)
            .await?;
        rows.into_iter().map(User::try_from).collect()
    }

    pub async fn find_user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let row = user::Entity::find_by_id(id).one(&self.db).await?;
        row.map(User::try_from).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = user::Entity::find().order_by_asc(user::Column::Username).all(&self.db).await?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Users whose username, name or email contains `query` (case-insensitive on the
    /// username, which is stored lower-cased), by username, one page at a time, with the
    /// number of matches.
    pub async fn search_users(&self, query: &str, offset: u64, limit: u64) -> Result<(Vec<User>, u64), StoreError> {
        let mut select = user::Entity::find();
        if !query.is_empty() {
            let pattern = format!("%{}%", escape_like(query));
            let lower = format!("%{}%", escape_like(&query.to_lowercase()));
            select = select.filter(
                Condition::any()
                    .add(Expr::col(user::Column::Username).like(LikeExpr::new(lower).escape('\\')))
                    .add(Expr::col(user::Column::Name).like(LikeExpr::new(pattern.clone()).escape('\\')))
                    .add(Expr::col(user::Column::Email).like(LikeExpr::new(pattern).escape('\\'))),
            );
        }
        let total = select.clone().count(&self.db).await?;
        let rows = select.order_by_asc(user::Column::Username).offset(offset).limit(limit).all(&self.db).await?;
        Ok((rows.into_iter().map(User::try_from).collect::<Result<_, _>>()?, total))
    }

    pub async fn count_users(&self) -> Result<u64, StoreError> {
        Ok(user::Entity::find().count(&self.db).await?)
    }

    /// Replaces a user's email (verified or not), name and roles.
    pub async fn update_user_profile(
        &self,
        id: Uuid,
        email: Option<Email>,
        email_verified: bool,
        name: Option<DisplayName>,
        roles: &[Role],
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let updated = user::Entity::update_many()
            .col_expr(user::Column::Email, Expr::value(email.map(|e| e.as_str().to_owned())))
            .col_expr(user::Column::EmailVerified, Expr::value(email_verified))
            .col_expr(user::Column::Name, Expr::value(name.map(|n| n.as_str().to_owned())))
            .col_expr(user::Column::Roles, Expr::value(to_json_list(roles)))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Replaces a user's email with an unverified one (or none).
    pub async fn set_user_email(&self, id: Uuid, email: Option<&Email>, now: UnixTime) -> Result<(), StoreError> {
        user::Entity::update_many()
            .col_expr(user::Column::Email, Expr::value(email.map(|e| e.as_str().to_owned())))
            .col_expr(user::Column::EmailVerified, Expr::value(false))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Marks `email` verified, if it is still the user's address; `false` otherwise. A
    /// signed-up account's first verified address lets it sign in from then on, whatever
    /// address it changes to later.
    pub async fn set_email_verified(&self, id: Uuid, email: &Email, now: UnixTime) -> Result<bool, StoreError> {
        let updated = user::Entity::update_many()
            .col_expr(user::Column::EmailVerified, Expr::value(true))
            .col_expr(user::Column::VerifyBeforeSignIn, Expr::value(false))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::Email.eq(email.as_str()))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
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
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            let updated = user::Entity::update_many()
                .col_expr(user::Column::Disabled, Expr::value(disabled))
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(id))
                .exec(&*txn)
                .await?;
            if updated.rows_affected == 0 {
                return Err(StoreError::NotFound);
            }
            let ended = if disabled {
                end_user_sessions_and_families(&*txn, id, None, RevocationReason::UserDisabled, now).await?
            } else {
                SessionsEnded::default()
            };
            txn.commit().await?;
            Ok(ended)
        })
        .await
    }

    /// Replaces the password hash and, in the same transaction, ends every session and
    /// refresh-token family the old password opened, but for the session `keep` (the one
    /// the person changed it from) and its families. `temporary`: the next sign-in must
    /// replace it.
    pub async fn set_user_password_hash(
        &self,
        id: Uuid,
        hash: String,
        temporary: bool,
        keep: Option<Uuid>,
        now: UnixTime,
    ) -> Result<SessionsEnded, StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            let updated = user::Entity::update_many()
                .col_expr(user::Column::PasswordHash, Expr::value(hash))
                .col_expr(user::Column::PasswordChangeRequired, Expr::value(temporary))
                .col_expr(user::Column::PasswordChangedAt, Expr::value(now))
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(id))
                .exec(&*txn)
                .await?;
            if updated.rows_affected == 0 {
                return Err(StoreError::NotFound);
            }
            let ended = end_user_sessions_and_families(&*txn, id, keep, RevocationReason::PasswordChanged, now).await?;
            txn.commit().await?;
            Ok(ended)
        })
        .await
    }
}

/// The row of a new user; `email_verified` only for an address someone else verified (an
/// upstream provider).
pub(super) fn new_user_row(new: NewUser, email_verified: bool, now: UnixTime) -> user::ActiveModel {
    user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(new.username.as_str().to_owned()),
        email_verified: Set(email_verified && new.email.is_some()),
        email: Set(new.email.map(|e| e.as_str().to_owned())),
        name: Set(new.name.map(|n| n.as_str().to_owned())),
        password_hash: Set(new.password_hash),
        roles: Set(to_json_list(&new.roles)),
        is_admin: Set(new.is_admin),
        disabled: Set(false),
        totp_secret: Set(None),
        totp_last_step: Set(None),
        password_change_required: Set(new.password_change_required),
        verify_before_sign_in: Set(new.verify_before_sign_in),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
}
