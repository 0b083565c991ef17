//! The ceiling of logins per second: argon2id verifications at the configured parameters
//! (`Config::load`, as `serve` reads them: ./wristband.toml and WRISTBAND_*) on every core,
//! through the same bounded hashing pool the server uses. `bench/run.sh` compares the
//! login scenario with this figure, as it compares tokens with `openssl speed`.
//!
//! `cargo bench --bench login_ceiling [-- SECONDS]` (default 5); the last line is
//! `verifications/s: N`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wristband::config::Config;
use wristband::security::password::PasswordHasher;
use wristband::security::secret::SecretString;

fn main() -> anyhow::Result<()> {
    let seconds = std::env::args().skip(1).find_map(|arg| arg.parse::<f64>().ok()).unwrap_or(5.0);
    let config = Config::load(None)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(cores).enable_all().build()?;
    runtime.block_on(async {
        let hasher = PasswordHasher::new(&config.password)?;
        let password = SecretString::new("correct horse battery staple");
        let stored: Arc<str> = hasher.hash(&password).await?.into();
        let done = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(seconds);
        // Twice as many callers as pool permits, so the pool is never idle.
        let callers: Vec<_> = (0..cores * 2)
            .map(|_| {
                let (hasher, password, stored, done) =
                    (hasher.clone(), password.clone(), Arc::clone(&stored), Arc::clone(&done));
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        if hasher.verify(&password, Some(&stored)).await? {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for caller in callers {
            caller.await??;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let count = done.load(Ordering::Relaxed);
        let p = &config.password;
        println!(
            "argon2id m={} KiB t={} p={}: {count} verifications in {elapsed:.2} s on {cores} cores",
            p.argon2_memory_kib, p.argon2_iterations, p.argon2_parallelism
        );
        println!("verifications/s: {:.1}", count as f64 / elapsed);
        anyhow::Ok(())
    })
}
