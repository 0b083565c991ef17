//! Passwords: argon2id PHC strings (RFC 9106), hashed and verified on threads of their
//! own, one per core, so logins never stall the async workers and a burst of logins
//! queues instead of allocating more than `cores × m_cost` of memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::config::PasswordSettings;
use crate::security::random::random_bytes;
use crate::security::secret::SecretString;

pub const MIN_PASSWORD_CHARS: usize = 8;
/// Argon2 accepts longer input, but nobody types this much; a bound keeps requests small.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the password hashing task was cancelled")]
    Cancelled,
    /// Every hashing thread is busy and the queue is full: refused at once, not queued.
    #[error("the password hashing queue is full")]
    Busy,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordPolicyError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

/// Checks a new password against the policy (NIST SP 800-63B: length, not composition).
pub fn check_policy(password: &str) -> Result<(), PasswordPolicyError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordPolicyError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordPolicyError::TooLong);
    }
    Ok(())
}

#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Arc<Argon2<'static>>,
    pool: HashingPool,
    /// Verified against when the user does not exist, so unknown users cost the same work.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("params", self.argon2.params()).finish()
    }
}

impl PasswordHasher {
    pub fn new(settings: &PasswordSettings) -> Result<Self, PasswordError> {
        let params =
            Params::new(settings.argon2_memory_kib, settings.argon2_iterations, settings.argon2_parallelism, None)
                .map_err(|e| PasswordError::Params(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = dummy_hash(argon2.params())?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let pool =
            HashingPool::start(threads, threads * QUEUE_PER_THREAD).map_err(|e| PasswordError::Hash(e.to_string()))?;
        Ok(Self { argon2: Arc::new(argon2), pool, dummy_hash: dummy_hash.into() })
    }

    pub async fn hash(&self, password: &SecretString) -> Result<String, PasswordError> {
        let argon2 = Arc::clone(&self.argon2);
        let password = password.clone();
        self.pool.run(move |memory| hash_with(&argon2, password.expose().as_bytes(), memory)).await?
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is no
    /// stored hash, so that the caller's timing does not reveal whether the user exists.
    pub async fn verify(&self, password: &SecretString, stored: Option<&str>) -> Result<bool, PasswordError> {
        let known = stored.is_some();
        let hash = stored.map_or_else(|| Arc::clone(&self.dummy_hash), Arc::from);
        let password = password.clone();
        let matched = self.pool.run(move |memory| verify_with(password.expose().as_bytes(), &hash, memory)).await?;
        Ok(known && matched)
    }
}

/// A job gets the argon2 memory of the thread that runs it.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Jobs that may wait for a hashing thread, per thread: about a second of waiting at the
/// default parameters. Past that a login is refused at once (429 with `Retry-After`)
/// rather than queued behind work nobody may wait for.
const QUEUE_PER_THREAD: usize = 32;

/// A fixed set of threads that run argon2, each reusing one memory block for every hash.
/// Not tokio's blocking pool: there, each hash allocated `m_cost` afresh and freed it into
/// the allocator arena of whichever thread ran it, and a changing crowd of threads kept
/// an arena each (RSS passed 1 GiB under login load). Unmapping after each hash instead
/// cost a third of the login rate in page faults.
#[derive(Clone)]
struct HashingPool {
    jobs: Sender<Job>,
    /// Jobs sent and not yet started.
    queued: Arc<AtomicUsize>,
    capacity: usize,
}

impl HashingPool {
    /// Threads end when the last clone of the pool is dropped.
    fn start(threads: usize, capacity: usize) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new().name("wristband-argon2".into()).spawn(move || work(&queue))?;
        }
        Ok(Self { jobs, queued: Arc::new(AtomicUsize::new(0)), capacity })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(PasswordError::Busy);
        }
        let (done, result) = oneshot::channel();
        let queued = Arc::clone(&self.queued);
        let job: Job = Box::new(move |memory| {
            queued.fetch_sub(1, Ordering::AcqRel);
            // A request that went away while its job waited (the client hung up) is not
            // hashed for: nobody would read the answer.
            if !done.is_closed() {
                let _ = done.send(work(memory));
            }
        });
        if self.jobs.send(job).is_err() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(PasswordError::Cancelled);
        }
        result.await.map_err(|_| PasswordError::Cancelled)
    }
}

/// How much a hashing thread defers to request handling (a nice value): a login waits
/// 30 ms for argon2 by design, a JWKS or token answer should not wait behind it. Not
/// SCHED_IDLE, which did cut JWKS p99 under logins from 4.2 to 2.9 ms: a hash then waits
/// for as long as anything else on the machine wants the core, and under the test suite's
/// load logins in flight starved past the 30 s a shutdown grants them.
const HASHING_NICENESS: libc::c_int = 10;

fn work(queue: &Mutex<Receiver<Job>>) {
    // SAFETY: gettid has no preconditions; setpriority on the calling thread's own id
    // changes only this thread's nice value (Linux keeps one per thread). Raising it needs
    // no privilege; if it fails anyway, hashing just keeps the default priority.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, HASHING_NICENESS);
    }
    let mut memory = Vec::new();
    loop {
        // The lock is held only while waiting for the next job, never while hashing.
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        match next {
            // A panicking job drops its result sender (the caller sees `Cancelled`); the
            // thread stays for the next one.
            Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)))),
            Err(_) => return,
        }
    }
}

/// A PHC string with the configured parameters, a random salt and a random output: checking
/// a password against it costs exactly what checking a real hash costs, and no password
/// matches it. Built, not computed, so start-up does not wait for a hash.
fn dummy_hash(params: &Params) -> Result<String, PasswordError> {
    let salt = random_bytes::<16>().map_err(failed)?;
    let output = random_bytes::<{ Params::DEFAULT_OUTPUT_LEN }>().map_err(failed)?;
    phc_string(params, &salt, &output)
}

fn phc_string(params: &Params, salt: &[u8], output: &[u8]) -> Result<String, PasswordError> {
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(failed)?,
        salt: Some(Salt::new(salt).map_err(failed)?),
        hash: Some(Output::new(output).map_err(failed)?),
    };
    Ok(hash.to_string())
}

fn failed(err: impl std::fmt::Display) -> PasswordError {
    PasswordError::Hash(err.to_string())
}

/// `memory`, grown to what `params` need and returned for the next hash.
fn blocks_for<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let count = params.block_count();
    if memory.len() < count {
        memory.resize(count, Block::default());
    }
    &mut memory[..count]
}

/// A PHC string for `password` under a fresh 16-byte salt.
fn hash_with(argon2: &Argon2<'_>, password: &[u8], memory: &mut Vec<Block>) -> Result<String, PasswordError> {
    let salt = random_bytes::<16>().map_err(failed)?;
    let params = argon2.params();
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2.hash_password_into_with_memory(password, &salt, &mut output, blocks_for(memory, params)).map_err(failed)?;
    phc_string(params, &salt, &output)
}

/// Whether `password` matches `stored`, a PHC string of any argon2 variant and parameters
/// (hashes made under older settings still verify).
fn verify_with(password: &[u8], stored: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else { return false };
    let Ok(version) = hash.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
    let Ok(params) = Params::try_from(&hash) else { return false };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut output = vec![0u8; expected.len()];
    argon2.hash_password_into_with_memory(password, salt.as_ref(), &mut output, blocks_for(memory, &params)).is_ok()
        // `Output` compares in constant time.
        && Output::new(&output).is_ok_and(|computed| &computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap_settings() -> PasswordSettings {
        PasswordSettings { argon2_memory_kib: 8_192, argon2_iterations: 1, argon2_parallelism: 1 }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = PasswordHasher::new(&cheap_settings()).unwrap();
        let hash = hasher.hash(&SecretString::new("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{hash}");
        assert!(hasher.verify(&SecretString::new("correct horse"), Some(&hash)).await.unwrap());
        assert!(!hasher.verify(&SecretString::new("correct horsf"), Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_users_and_corrupt_hashes_never_verify() {
        let hasher = PasswordHasher::new(&cheap_settings()).unwrap();
        assert!(!hasher.verify(&SecretString::new("anything"), None).await.unwrap());
        assert!(!hasher.verify(&SecretString::new("anything"), Some("not a phc string")).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_made_under_other_parameters_still_verify() {
        let older = PasswordHasher::new(&cheap_settings()).unwrap();
        let hash = older.hash(&SecretString::new("correct horse")).await.unwrap();
        let current = PasswordHasher::new(&PasswordSettings {
            argon2_memory_kib: 4_096,
            argon2_iterations: 2,
            argon2_parallelism: 2,
        })
        .unwrap();
        assert!(current.verify(&SecretString::new("correct horse"), Some(&hash)).await.unwrap());
        assert!(!current.verify(&SecretString::new("correct horsf"), Some(&hash)).await.unwrap());
        let new_hash = current.hash(&SecretString::new("correct horse")).await.unwrap();
        assert!(new_hash.starts_with("$argon2id$v=19$m=4096,t=2,p=2$"), "{new_hash}");
        assert!(older.verify(&SecretString::new("correct horse"), Some(&new_hash)).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_frees_its_places_as_jobs_start() {
        let pool = HashingPool::start(1, 2).unwrap();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, running) = oneshot::channel::<()>();
        let blocker = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move |_| {
                    let _ = started.send(());
                    hold.recv().is_ok()
                })
                .await
            })
        };
        // The thread is held by the first job; two more fill the queue.
        running.await.unwrap();
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.run(|_| 1).await })
            })
            .collect();
        while pool.queued.load(Ordering::Acquire) != 2 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(pool.run(|_| 1).await, Err(PasswordError::Busy)));
        release.send(()).unwrap();
        assert!(blocker.await.unwrap().unwrap());
        for job in queued {
            assert_eq!(job.await.unwrap().unwrap(), 1);
        }
        assert_eq!(pool.run(|_| 2).await.unwrap(), 2, "places come back");
    }

    #[test]
    fn the_policy_bounds_length() {
        assert_eq!(check_policy("short"), Err(PasswordPolicyError::TooShort));
        assert_eq!(check_policy("long enough"), Ok(()));
        assert_eq!(check_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)), Err(PasswordPolicyError::TooLong));
    }
}
