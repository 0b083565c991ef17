//! Where write transactions run, and the turn they take on SQLite.

use std::sync::Arc;

use sea_orm::{DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{Store, StoreError};

/// SQLite has one writer at a time, so this process's write transactions take turns, and
/// the turn is held across every statement of one. Held by a request's task, a turn
/// waited at each statement for that task's HTTP worker to finish whatever it was doing,
/// two RSA signatures for another request often enough: the turn was held 0.8-0.9 ms per
/// refresh rotation, the next in line waited 17 ms for it, and refreshes stopped at about
/// 720/s. On a thread of their own, the transactions go on as soon as each statement
/// answers (1,000/s with the same reads).
#[derive(Debug)]
pub(super) struct Writer {
    runtime: tokio::runtime::Handle,
    /// A connection that finds the write lock taken sleeps in SQLite's busy handler (1, 2,
    /// 5 … 100 ms) rather than queueing: under concurrent refreshes, 1 ms transactions
    /// waited up to 1.5 s. The transactions queue here instead.
    turn: Arc<Mutex<()>>,
    /// Dropped with the last clone of the store, which ends the thread.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Writer {
    pub(super) fn start() -> Result<Self, StoreError> {
        let failed = |e: std::io::Error| StoreError::Db(DbErr::Custom(format!("cannot start the writer thread: {e}")));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(failed)?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("wristband-writer".into())
            .spawn(move || {
                let _ = runtime.block_on(stopped);
            })
            .map_err(failed)?;
        Ok(Self { runtime: handle, turn: Arc::default(), _stop: stop })
    }
}

/// A write transaction holding this process's turn to write (SQLite) until it ends.
pub(super) struct WriteTransaction {
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTransaction {
    pub(super) async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

impl std::ops::Deref for WriteTransaction {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Store {
    /// Runs `work`, which writes in a transaction, on the writer thread (SQLite) or here
    /// (PostgreSQL).
    pub(super) async fn writing<T, W, F>(&self, work: W) -> Result<T, StoreError>
    where
        W: FnOnce(Store) -> F,
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
        T: Send + 'static,
    {
        let work = work(self.clone());
        match &self.writer {
            Some(writer) => writer
                .runtime
                .spawn(work)
                .await
                .map_err(|e| StoreError::Db(DbErr::Custom(format!("a write transaction did not finish: {e}"))))?,
            None => work.await,
        }
    }

    /// A transaction that writes, for `writing`. On SQLite it takes the write lock at BEGIN
    /// (IMMEDIATE): a deferred transaction that reads first cannot upgrade once another
    /// writer has committed, and would fail at once instead of waiting its turn.
    pub(super) async fn write_transaction(&self) -> Result<WriteTransaction, DbErr> {
        let turn = match &self.writer {
            Some(writer) => Some(Arc::clone(&writer.turn).lock_owned().await),
            None => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(WriteTransaction { txn: self.db.begin_with_options(options).await?, _turn: turn })
    }
}
