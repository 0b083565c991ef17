//! SQLite connections whose query plans never depend on bound values
//! (`SQLITE_DBCONFIG_ENABLE_QPSG`). Without it SQLite plans some statements around the
//! value bound at the time, and prepares the statement again whenever that value is bound
//! anew: a LIKE pattern (userinfo's grant check), and (3.51) every bound LIMIT, which
//! sea-orm binds for each `one()`.
//! Re-bound on every execution, such a statement was parsed and planned on every request
//! (once per introspection, by a probe on `sqlite3Reprepare`).

use std::ffi::c_int;

use libsqlite3_sys::{SQLITE_DBCONFIG_ENABLE_QPSG, SQLITE_OK, sqlite3_db_config};
use sea_orm::sqlx;
use sea_orm::sqlx::sqlite::SqliteConnection;

/// Turns the guarantee on for `conn`; run on every new connection.
pub(super) async fn enable(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    match qpsg(conn, 1).await? {
        1 => Ok(()),
        _ => Err(sqlx::Error::Configuration("SQLite refused SQLITE_DBCONFIG_ENABLE_QPSG".into())),
    }
}

/// Sets the guarantee (`1` on, `0` off, `-1` leaves it) and returns whether it holds.
async fn qpsg(conn: &mut SqliteConnection, value: c_int) -> Result<c_int, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let mut holds: c_int = -1;
    // SAFETY: the handle is a live connection, locked for the duration of the call; this
    // option takes an int and a pointer to an int that receives the new setting.
    let rc = unsafe {
        sqlite3_db_config(handle.as_raw_handle().as_ptr(), SQLITE_DBCONFIG_ENABLE_QPSG, value, &mut holds as *mut c_int)
    };
    if rc != SQLITE_OK {
        return Err(sqlx::Error::Configuration(format!("sqlite3_db_config failed: {rc}").into()));
    }
    Ok(holds)
}

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::Connection;

    use super::*;

    #[tokio::test]
    async fn a_new_connection_plans_without_looking_at_bound_values() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        assert_eq!(qpsg(&mut conn, -1).await.unwrap(), 0, "SQLite's default");
        enable(&mut conn).await.unwrap();
        assert_eq!(qpsg(&mut conn, -1).await.unwrap(), 1);
    }
}
