//! Authorization codes: one use, bound to what the authorization request said.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IdenStatic, QueryFilter, QuerySelect,
    QueryTrait, SelectA, SelectB, Set,
};
use uuid::Uuid;

use super::entities::{authorization_code as row, session_participant, user};
use super::refresh::{NewFamily, insert_family};
use super::sessions::{SessionLiveUntil, session_live_until};
use super::{Store, StoreError, from_json_list, to_json_list};
use crate::clock::UnixTime;
use crate::model::{ApiIdentifier, Authentication, ClientId, CodeGrant, Scope, User};

/// A code about to be handed out; `code_hash` is the SHA-256 of the code.
#[derive(Debug, Clone)]
pub struct NewCode {
    pub code_hash: String,
    pub grant: CodeGrant,
}

/// What the exchange of a code issues, recorded with the code so that a second use can
/// revoke it (RFC 6749 §4.1.2).
#[derive(Debug, Clone)]
pub struct CodeRedemption {
    pub jti: String,
    pub jti_expires_at: UnixTime,
    pub family: Option<NewFamily>,
}

/// A code as found, with what its exchange depends on (the user, the browser session),
/// read with it in one statement.
#[derive(Debug, Clone)]
pub struct FoundCode {
    pub grant: CodeGrant,
    /// The code's user; `None` once removed.
    pub user: Option<User>,
    /// The browser session the code was issued in.
    pub session: SessionLiveUntil,
}

impl TryFrom<row::Model> for CodeGrant {
    type Error = StoreError;

    fn try_from(row: row::Model) -> Result<Self, StoreError> {
        Ok(CodeGrant {
            client_id: ClientId::parse(&row.client_id)?,
            user_id: row.user_id,
            sid: row.sid,
            redirect_uri: row.redirect_uri,
            scope: Scope::parse(&row.scope)?,
            resources: from_json_list(&row.resources, ApiIdentifier::parse)?,
            nonce: row.nonce,
            code_challenge: row.code_challenge,
            authentication: Authentication::from_stored(row.auth_time, row.acr, &row.amr)?,
            expires_at: row.expires_at,
            used: row.used_at.is_some(),
            issued_family_id: row.issued_family_id,
            issued_jti: row.issued_jti.zip(row.issued_jti_expires_at),
        })
    }
}

impl Store {
    /// Stores a new code and records its client as a participant of the browser session
    /// (back-channel logout notifies it when the session ends, long after the code is gone).
    pub async fn insert_code(&self, new: NewCode, now: UnixTime) -> Result<(), StoreError> {
        self.writing(move |store| async move {
            let txn = store.write_transaction().await?;
            let participant = session_participant::ActiveModel {
                sid: Set(new.grant.sid),
                client_id: Set(new.grant.client_id.to_string()),
            };
            session_participant::Entity::insert(participant)
                .on_conflict_do_nothing_on([session_participant::Column::Sid, session_participant::Column::ClientId])
                .exec_without_returning(&*txn)
                .await?;
            code_row(new, now).insert(&*txn).await?;
            txn.commit().await?;
            Ok(())
        })
        .await
    }

    pub async fn find_code(&self, code_hash: &str) -> Result<Option<FoundCode>, StoreError> {
        let query = row::Entity::find_by_id(code_hash.to_owned())
            .find_also_related(user::Entity)
            .expr_as(session_live_until((row::Entity, row::Column::Sid)), "session_live_until")
            .build(self.db.get_database_backend());
        let Some(found) = self.db.query_one_raw(query).await? else { return Ok(None) };
        let user =
            user::Model::from_query_result_optional(&found, SelectB.as_str())?.map(User::try_from).transpose()?;
        Ok(Some(FoundCode {
            grant: CodeGrant::try_from(row::Model::from_query_result(&found, SelectA.as_str())?)?,
            user,
            session: SessionLiveUntil(found.try_get("", "session_live_until")?),
        }))
    }

    /// Marks a code used without issuing anything (its verification failed); `false` when
    /// it was used already.
    pub async fn burn_code(&self, code_hash: &str, now: UnixTime) -> Result<bool, StoreError> {
        let updated = row::Entity::update_many()
            .col_expr(row::Column::UsedAt, Expr::value(now))
            .filter(row::Column::CodeHash.eq(code_hash))
            .filter(row::Column::UsedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Uses a code once: in one transaction, marks it used if it was not, records what it
    /// issues and creates the refresh-token family. `false` when another exchange used
    /// the code first; then nothing is written.
    pub async fn redeem_code(
        &self,
        code_hash: &str,
        redemption: CodeRedemption,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let code_hash = code_hash.to_owned();
        self.writing(move |store| async move {
            let code_hash = code_hash.as_str();
            let txn = store.write_transaction().await?;
            let family_id: Option<Uuid> = redemption.family.as_ref().map(|f| f.family.id);
            let updated = row::Entity::update_many()
                .col_expr(row::Column::UsedAt, Expr::value(now))
                .col_expr(row::Column::IssuedJti, Expr::value(redemption.jti))
                .col_expr(row::Column::IssuedJtiExpiresAt, Expr::value(redemption.jti_expires_at))
                .col_expr(row::Column::IssuedFamilyId, Expr::value(family_id))
                .filter(row::Column::CodeHash.eq(code_hash))
                .filter(row::Column::UsedAt.is_null())
                .exec(&*txn)
                .await?;
            if updated.rows_affected != 1 {
                return Ok(false);
            }
            if let Some(family) = redemption.family {
                insert_family(&*txn, family, now).await?;
            }
            txn.commit().await?;
            Ok(true)
        })
        .await
    }
}

fn code_row(new: NewCode, now: UnixTime) -> row::ActiveModel {
    let grant = new.grant;
    row::ActiveModel {
        code_hash: Set(new.code_hash),
        client_id: Set(grant.client_id.to_string()),
        user_id: Set(grant.user_id),
        sid: Set(grant.sid),
        redirect_uri: Set(grant.redirect_uri),
        scope: Set(grant.scope.to_string()),
        resources: Set(to_json_list(&grant.resources)),
        nonce: Set(grant.nonce),
        code_challenge: Set(grant.code_challenge),
        auth_time: Set(grant.authentication.auth_time),
        acr: Set(grant.authentication.acr.clone()),
        amr: Set(grant.authentication.amr_json()),
        created_at: Set(now),
        expires_at: Set(grant.expires_at),
        used_at: Set(None),
        issued_family_id: Set(None),
        issued_jti: Set(None),
        issued_jti_expires_at: Set(None),
    }
}
