//! Persistence: one `Store` over SQLite or PostgreSQL, with repository functions that take
//! and return `model` types. SQL details (pool sizes, SQLite pragmas, unique-violation
//! mapping) live here and nowhere else.

mod access;
mod apis;
mod audit;
mod authorization_requests;
mod backchannel;
mod cache;
mod cleanup;
mod clients;
mod codes;
mod consents;
mod entities;
mod keys;
mod mail;
mod mfa;
mod passkeys;
mod refresh;
mod sessions;
mod stable_plans;
mod throttles;
mod upstreams;
mod users;
mod writer;

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::SqliteSynchronous;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr, SqlErr, Statement,
};

use crate::clock::UnixTime;
use crate::model::{Api, ApiIdentifier, Client, ClientId, InvalidValue};
use crate::security::secret::SecretString;

pub use access::{GrantStatus, TokenGrant};
pub use apis::NewApi;
pub use audit::{AuditEvent, AuditFilter, AuditRecord};
pub use backchannel::LogoutJob;
pub use cache::RECORD_CACHE_TTL;
use cache::RecordCache;
pub use cleanup::CleanupReport;
pub use clients::NewClient;
pub use codes::{CodeRedemption, FoundCode, NewCode};
pub use mail::NewMail;
pub use passkeys::{NewPasskey, PasskeyUse};
pub use refresh::{FamilyAdminRecord, FamilyRecord, FoundRefreshToken, NewFamily, Rotation};
pub use sessions::{NewSession, SessionLiveUntil, SessionRecord, SessionsEnded};
pub use throttles::{LockoutPolicy, Reservation, mfa_throttle_key};
pub use users::NewUser;
use writer::Writer;

/// What a wrong answer (a password, a code) did to its lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lockout {
    /// Counted; `remaining` more wrong answers lock.
    Counted { remaining: i32 },
    /// This wrong answer locked until then.
    Locked { until: UnixTime },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write: the thing exists already, or a concurrent
    /// writer won (e.g. two instances rotating keys at once).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value no longer parses: the database was edited by hand or is damaged.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database cannot be reached (stopped, restarting, unreachable): the request may
    /// succeed when it returns.
    #[error("database unreachable: {0}")]
    Unavailable(DbErr),
    #[error("database error: {0}")]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if unreachable(&err) {
            return Self::Unavailable(err);
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => Self::Conflict(message),
            _ => Self::Db(err),
        }
    }
}

/// Whether `err` says the database could not be reached rather than that a statement
/// failed: no connection to be had, a connection lost mid-way, or a server shutting down
/// (SQLSTATE class 08, connection exception, and 57P, operator intervention).
fn unreachable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as SqlxError;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => match sqlx.as_ref() {
            SqlxError::Io(_)
            | SqlxError::Tls(_)
            | SqlxError::PoolTimedOut
            | SqlxError::PoolClosed
            | SqlxError::WorkerCrashed => true,
            SqlxError::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
            _ => false,
        },
        _ => false,
    }
}

impl From<InvalidValue> for StoreError {
    fn from(err: InvalidValue) -> Self {
        Self::Corrupt(err.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        Self::Corrupt(err.to_string())
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    clients: Arc<RecordCache<ClientId, Client>>,
    apis: Arc<RecordCache<ApiIdentifier, Api>>,
    /// Where write transactions run on SQLite; `None` on PostgreSQL, which locks rows, not
    /// files, and runs them where they are asked for.
    writer: Option<Arc<Writer>>,
}

/// Database connections of this instance's pool: open now, idle among them, and the most
/// it will open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl Store {
    /// Connects to `sqlite://…` (creating the file and its folder) or `postgres://…`.
    pub async fn connect(url: &SecretString) -> Result<Self, StoreError> {
        let url = url.expose();
        let mut options = ConnectOptions::new(url);
        options.sqlx_logging(false).connect_timeout(Duration::from_secs(5)).acquire_timeout(Duration::from_secs(5));
        if let Some(path) = sqlite_path(url) {
            if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                // The database holds password hashes and sealed keys: private to its owner.
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| StoreError::Db(DbErr::Custom(format!("cannot create {}: {e}", dir.display()))))?;
            }
            // NORMAL is durable across process crashes in WAL mode; the busy timeout makes
            // concurrent writers queue instead of failing at once. The journal mode is not set
            // per connection: switching it needs a lock the busy timeout cannot wait for, so a
            // CLI connecting while a server writes would fail (see `ensure_wal`).
            //
            // sqlx pings a connection before lending it out, one more hand-off to the
            // connection's thread per statement: an in-process file cannot hang up.
            options
                .max_connections(sqlite_connections())
                .test_before_acquire(false)
                .map_sqlx_sqlite_opts(|o| {
                    o.synchronous(SqliteSynchronous::Normal).busy_timeout(SQLITE_BUSY_TIMEOUT).foreign_keys(true)
                })
                .map_sqlx_sqlite_pool_opts(|pool| {
                    pool.after_connect(|conn, _| Box::pin(async move { stable_plans::enable(conn).await }))
                });
        } else {
            // sqlx retries a refused connection until the acquire deadline, so this is how
            // long a request waits for its 503 while the server is down; a pool of 16 busy
            // for this long is overload, which 503 answers too.
            // A ping before every statement doubles its round trips; a connection used in the
            // last seconds is alive, and one that died since fails its statement with a 503.
            options
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(2))
                .test_before_acquire_if_idle_for(Duration::from_secs(10));
        }
        let db = Database::connect(options).await.map_err(StoreError::Db)?;
        let writer = match sqlite_path(url) {
            Some(_) => Some(Arc::new(Writer::start()?)),
            None => None,
        };
        let store = Self { db, clients: Arc::default(), apis: Arc::default(), writer };
        if sqlite_path(url).is_some() {
            store.ensure_wal().await?;
        }
        Ok(store)
    }

    /// WAL lets readers run beside the one writer. The mode is stored in the database file,
    /// so it is switched once, when the file is new, not on every connection.
    ///
    /// The switch needs the file to itself, and SQLite answers "busy" at once instead of
    /// calling the busy handler: two instances starting together on a new file both try it
    /// and one is refused (1 start in 20 failed so). The refused one waits and looks again,
    /// by then finding the other's switch done.
    async fn ensure_wal(&self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        loop {
            match self.switch_to_wal().await {
                Err(err) if sqlite_busy(&err) && started.elapsed() < SQLITE_BUSY_TIMEOUT => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                done => return Ok(done?),
            }
        }
    }

    async fn switch_to_wal(&self) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        let row = self.db.query_one_raw(Statement::from_string(backend, "PRAGMA journal_mode")).await?;
        let mode: String = match row {
            Some(row) => row.try_get("", "journal_mode")?,
            None => String::new(),
        };
        if !mode.eq_ignore_ascii_case("wal") {
            self.db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
        }
        Ok(())
    }

    /// Runs pending migrations. Two processes starting at once may race on the same
    /// migration; each migration is one transaction, so the loser rolls back and its retry
    /// finds the schema in place.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            match Migrator::up(&self.db, None).await {
                Ok(()) => return Ok(()),
                Err(err) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(error = %err, attempt, "migration failed; retrying in case another instance is migrating");
                    tokio::time::sleep(Duration::from_millis(250 * attempt)).await;
                }
                Err(err) => return Err(StoreError::Db(err)),
            }
        }
    }

    /// This instance's database connections, for the metrics.
    pub fn pool_usage(&self) -> PoolUsage {
        let (open, idle, max) = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
            DbBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
            // `connect` accepts no other database.
            _ => (0, 0, 0),
        };
        PoolUsage { open, idle: u32::try_from(idle).unwrap_or(u32::MAX), max }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }
}

/// SQLite connections of one process: two per core. Each is a thread that runs its
/// statements on the CPU, so more cannot go faster; each also keeps about 0.7 MiB of
/// caches, and on two cores 4 connections served userinfo and refreshes as fast as 8
/// (within the runs' noise) with 2.8 MiB less at peak.
fn sqlite_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    u32::try_from(cores * 2).unwrap_or(u32::MAX).clamp(4, 16)
}

/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether SQLite refused `err`'s statement because another connection held a lock it
/// needed (SQLITE_BUSY, with any extended code).
fn sqlite_busy(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx))) = err else {
        return false;
    };
    match sqlx.as_ref() {
        sea_orm::sqlx::Error::Database(db) => {
            db.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| code & 0xff == 5)
        }
        _ => false,
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// `text` for a LIKE pattern with `\` as the escape character: `%` and `_` match
/// themselves.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Encodes a list column (JSON array of strings).
fn to_json_list<T: AsRef<str>>(items: &[T]) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    serde_json::Value::from(items).to_string()
}

/// Decodes a list column, parsing every item into its model type.
fn from_json_list<T>(text: &str, parse: impl Fn(&str) -> Result<T, InvalidValue>) -> Result<Vec<T>, StoreError> {
    let items: Vec<String> = serde_json::from_str(text)?;
    items.iter().map(|item| parse(item).map_err(StoreError::from)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(sqlite_path("sqlite://data/wristband.db?mode=rwc"), Some("data/wristband.db"));
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn instances_opening_a_new_sqlite_file_together_all_get_it_in_wal_mode() {
        for _ in 0..30 {
            let dir = tempfile::tempdir().unwrap();
            let url = SecretString::new(format!("sqlite://{}/w.db?mode=rwc", dir.path().display()));
            // Each on its own task, so that they really race.
            let opening: Vec<_> = (0..4)
                .map(|_| {
                    let url = url.clone();
                    tokio::spawn(async move { Store::connect(&url).await })
                })
                .collect();
            for task in opening {
                let store = task.await.unwrap().expect("every instance opens the database");
                store.ping().await.expect("and can use it");
            }
            // A connection opened before the switch reports the old mode until its next
            // transaction; a new one reads what the file holds.
            let fresh = Store::connect(&url).await.unwrap();
            let backend = fresh.db.get_database_backend();
            let row = fresh.db.query_one_raw(Statement::from_string(backend, "PRAGMA journal_mode")).await;
            let mode: String = row.unwrap().unwrap().try_get("", "journal_mode").unwrap();
            assert_eq!(mode, "wal");
        }
    }

    #[test]
    fn list_columns_round_trip() {
        let text = to_json_list(&["a", "b\"c"]);
        let back = from_json_list(&text, |s| Ok(s.to_owned())).unwrap();
        assert_eq!(back, vec!["a".to_owned(), "b\"c".to_owned()]);
    }
}
