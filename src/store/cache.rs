//! Records read on every request (clients at the token and introspection endpoints, APIs
//! named in `resource`), kept for a few seconds. A change made through this process takes
//! effect at once; one made by another instance or the CLI within [`RECORD_CACHE_TTL`]
//! (like a key rotation, `app::KEY_REFRESH_INTERVAL`).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::StoreError;

/// How long a record read from the database is trusted.
pub const RECORD_CACHE_TTL: Duration = Duration::from_secs(5);

/// Records as last read, by key. Only records that exist are kept, so its size is bounded
/// by what is registered, not by what requests name.
#[derive(Debug)]
pub(super) struct RecordCache<K, V>(Mutex<Cached<K, V>>);

#[derive(Debug)]
struct Cached<K, V> {
    /// Counts changes, so that a record read before a change is not kept after it.
    generation: u64,
    entries: HashMap<K, (Instant, V)>,
}

impl<K, V> Default for RecordCache<K, V> {
    fn default() -> Self {
        Self(Mutex::new(Cached { generation: 0, entries: HashMap::new() }))
    }
}

impl<K: Eq + Hash + Clone, V: Clone> RecordCache<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cached<K, V>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached record, else what `load` reads, kept when it exists and nothing changed
    /// meanwhile.
    pub(super) async fn get_or_load<F, Fut>(&self, key: &K, load: F) -> Result<Option<V>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<V>, StoreError>>,
    {
        let generation = {
            let cached = self.lock();
            match cached.entries.get(key) {
                Some((read_at, value)) if read_at.elapsed() < RECORD_CACHE_TTL => return Ok(Some(value.clone())),
                _ => cached.generation,
            }
        };
        let loaded = load().await?;
        if let Some(value) = &loaded {
            let mut cached = self.lock();
            if cached.generation == generation {
                cached.entries.insert(key.clone(), (Instant::now(), value.clone()));
            }
        }
        Ok(loaded)
    }

    /// Forgets every record, after a change that touched many.
    pub(super) fn forget_all(&self) {
        let mut cached = self.lock();
        cached.generation += 1;
        cached.entries.clear();
    }

    pub(super) fn forget(&self, key: &K) {
        let mut cached = self.lock();
        cached.generation += 1;
        cached.entries.remove(key);
    }
}
