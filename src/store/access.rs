//! What the database says about a person's access token, read in one round trip: its user
//! and the checks of `flows::access` that are not in the token itself. Userinfo and
//! introspection ask it on every request, so it is one statement, not one per check: on
//! SQLite each statement is two hand-offs to a connection's thread, and those hand-offs,
//! not the queries, were most of a request's time.

use sea_orm::sea_query::{Expr, IntoTableRef, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QuerySelect, QueryTrait, Select};
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
    /// stay active after the browser session ends. Looked for only when the token holds
    /// `offline_access` (`TokenGrant::offline`); `false` for any other token.
    pub offline_family_live: bool,
}

/// The access token a grant check is about: who it was issued to, when, and whether it
/// holds `offline_access`.
#[derive(Debug, Clone, Copy)]
pub struct TokenGrant<'a> {
    pub jti: &'a str,
    pub issued_at: UnixTime,
    pub user_id: Uuid,
    pub sid: Uuid,
    pub client_id: &'a ClientId,
    pub offline: bool,
}

impl Store {
    /// The grant behind `token` as of `now`; `None` when the user no longer exists.
    pub async fn grant_status(&self, token: TokenGrant<'_>, now: UnixTime) -> Result<Option<GrantStatus>, StoreError> {
        let query = grant_status_query(token, now).build(self.db.get_database_backend());
        let Some(row) = self.db.query_one_raw(query).await? else {
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

/// Every check in one statement, each an `EXISTS` that one index probe answers (the
/// families through `refresh_families_grant`): a session with thousands of families costs
/// what a session with one does.
fn grant_status_query(token: TokenGrant<'_>, now: UnixTime) -> Select<user::Entity> {
    let condemning: Vec<&str> =
        RevocationReason::ALL.into_iter().filter(|r| r.condemns_grant()).map(RevocationReason::as_str).collect();
    let of_grant = Condition::all()
        .add(refresh_family::Column::Sid.eq(token.sid))
        .add(refresh_family::Column::ClientId.eq(token.client_id.as_str()));
    // Only a token with `offline_access` outlives its session; for any other the search
    // for a live offline family (a scan of the session's unrevoked families) is skipped.
    let offline_family_live = if token.offline {
        exists(
            refresh_family::Entity,
            of_grant
                .clone()
                .add(refresh_family::Column::RevokedAt.is_null())
                .add(holds_offline_access())
                .add(refresh_family::Column::IdleExpiresAt.gt(now))
                .add(refresh_family::Column::AbsoluteExpiresAt.gt(now)),
        )
    } else {
        Expr::val(false)
    };
    user::Entity::find_by_id(token.user_id)
        .expr_as(
            exists(revoked_access_token::Entity, Condition::all().add(revoked_access_token::Column::Jti.eq(token.jti))),
            "jti_revoked",
        )
        .expr_as(
            exists(
                refresh_family::Entity,
                of_grant
                    .add(refresh_family::Column::RevokedAt.gte(token.issued_at))
                    .add(refresh_family::Column::RevokedReason.is_in(condemning)),
            ),
            "grant_condemned",
        )
        .expr_as(
            exists(client::Entity, Condition::all().add(client::Column::Id.eq(token.client_id.as_str()))),
            "client_exists",
        )
        .expr_as(exists(browser_session::Entity, live_session(token.sid, now)), "session_live")
        .expr_as(offline_family_live, "offline_family_live")
}

/// `EXISTS (SELECT 1 FROM table WHERE condition)`.
fn exists(table: impl IntoTableRef, condition: Condition) -> Expr {
    Expr::exists(Query::select().expr(Expr::val(1)).from(table).cond_where(condition).to_owned())
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::*;
    use crate::security::secret::SecretString;

    /// How SQLite answers the grant check, one line per table it reads.
    async fn plan(token: TokenGrant<'_>) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let url = SecretString::new(format!("sqlite://{}/w.db?mode=rwc", dir.path().display()));
        Store::connect(&url).await.unwrap().migrate().await.unwrap();
        // A connection plans with the schema it read, and only a statement that runs (not
        // an EXPLAIN) notices the migration changed it: plan on fresh connections.
        let store = Store::connect(&url).await.unwrap();
        let query = grant_status_query(token, 1_000).build(store.db.get_database_backend());
        let explain = Statement::from_sql_and_values(
            store.db.get_database_backend(),
            format!("EXPLAIN QUERY PLAN {}", query.sql),
            query.values.map(|v| v.0).unwrap_or_default(),
        );
        let rows = store.db.query_all_raw(explain).await.unwrap();
        rows.iter().map(|row| row.try_get::<String>("", "detail").unwrap()).collect()
    }

    #[tokio::test]
    async fn the_grant_check_probes_an_index_for_each_table_and_never_scans_a_sessions_families() {
        let client_id = ClientId::parse("web").unwrap();
        for offline in [false, true] {
            let token = TokenGrant {
                jti: "j",
                issued_at: 900,
                user_id: Uuid::new_v4(),
                sid: Uuid::new_v4(),
                client_id: &client_id,
                offline,
            };
            let plan = plan(token).await;
            assert!(plan.iter().all(|line| !line.starts_with("SCAN")), "{plan:#?}");
            let families: Vec<_> = plan.iter().filter(|line| line.contains("refresh_families")).collect();
            assert!(
                families
                    .iter()
                    .any(|line| line.contains("refresh_families_grant (sid=? AND client_id=? AND revoked_at>?)")),
                "the revoked family is found by range, not by reading the session's families: {plan:#?}"
            );
            assert_eq!(families.len(), if offline { 2 } else { 1 }, "{plan:#?}");
        }
    }
}
