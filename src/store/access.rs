//! What the database says about a person's access token, read in one round trip: its user
//! and the checks of `flows::access` that are not in the token itself. Userinfo and
//! introspection ask it on every request, so it is one statement, not one per check: on
//! SQLite each statement is two hand-offs to a connection's thread, and those hand-offs,
//! not the queries, were most of a request's time.

use sea_orm::sea_query::{Expr, IntoTableRef, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QuerySelect, QueryTrait};
use uuid::Uuid;

use super::entities::{browser_session, client, refresh_family, revoked_access_token, user};
use super::refresh::holds_offline_access;
use super::sessions::live_session;
use super::{Store, StoreError};
use crate::clock::UnixTime;
use crate::model::{ClientId, RevocationReason, User};

/// The user behind an access token of one browser session and client, and the state of
/// the token's grant.
#[derive(Debug, Clone)]
pub struct GrantStatus {
    pub user: User,
    /// The token's `jti` was revoked (RFC 7009).
    pub jti_revoked: bool,
    /// A family of the session and client was revoked, at or after the token was issued,
    /// for a reason that condemns the grant (reuse, revocation by the client, the user or
    /// an administrator): the access tokens issued up to then stop being active too
    /// (RFC 7009 §2.1, RFC 9700 §4.14.2). Tokens of a later sign-in are not touched.
    pub grant_condemned: bool,
    /// The client still exists: the tokens of a removed client are not active.
    pub client_exists: bool,
    pub session_live: bool,
    /// A live `offline_access` family of the session and client exists: its access tokens
    /// stay active after the browser session ends.
    pub offline_family_live: bool,
}

impl Store {
    /// The grant behind the access token `jti` (issued at `issued_at`) of `user_id`,
    /// browser session `sid` and `client_id`, as of `now`; `None` when the user no longer
    /// exists.
    pub async fn grant_status(
        &self,
        jti: &str,
        issued_at: UnixTime,
        user_id: Uuid,
        sid: Uuid,
        client_id: &ClientId,
        now: UnixTime,
    ) -> Result<Option<GrantStatus>, StoreError> {
        let condemning: Vec<&str> =
            RevocationReason::ALL.into_iter().filter(|r| r.condemns_grant()).map(RevocationReason::as_str).collect();
        let of_grant = Condition::all()
            .add(refresh_family::Column::Sid.eq(sid))
            .add(refresh_family::Column::ClientId.eq(client_id.as_str()));
        let offline_family = of_grant
            .clone()
            .add(refresh_family::Column::RevokedAt.is_null())
            .add(holds_offline_access())
            .add(refresh_family::Column::IdleExpiresAt.gt(now))
            .add(refresh_family::Column::AbsoluteExpiresAt.gt(now));
        let query = user::Entity::find_by_id(user_id)
            .expr_as(
                exists(revoked_access_token::Entity, Condition::all().add(revoked_access_token::Column::Jti.eq(jti))),
                "jti_revoked",
            )
            .expr_as(
                exists(
                    refresh_family::Entity,
                    of_grant
                        .add(refresh_family::Column::RevokedReason.is_in(condemning))
                        .add(refresh_family::Column::RevokedAt.gte(issued_at)),
                ),
                "grant_condemned",
            )
            .expr_as(
                exists(client::Entity, Condition::all().add(client::Column::Id.eq(client_id.as_str()))),
                "client_exists",
            )
            .expr_as(exists(browser_session::Entity, live_session(sid, now)), "session_live")
            .expr_as(exists(refresh_family::Entity, offline_family), "offline_family_live");
        let Some(row) = self.db.query_one_raw(query.build(self.db.get_database_backend())).await? else {
            return Ok(None);
        };
        Ok(Some(GrantStatus {
            user: User::try_from(user::Model::from_query_result(&row, "")?)?,
            jti_revoked: row.try_get("", "jti_revoked")?,
            grant_condemned: row.try_get("", "grant_condemned")?,
            client_exists: row.try_get("", "client_exists")?,
            session_live: row.try_get("", "session_live")?,
            offline_family_live: row.try_get("", "offline_family_live")?,
        }))
    }
}

/// `EXISTS (SELECT 1 FROM table WHERE condition)`.
fn exists(table: impl IntoTableRef, condition: Condition) -> Expr {
    Expr::exists(Query::select().expr(Expr::val(1)).from(table).cond_where(condition).to_owned())
}
