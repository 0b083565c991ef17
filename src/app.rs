//! Start-up: connect and migrate the store, load or create the master key, make sure
//! signing keys exist, bootstrap the first administrator, then serve. Shared by `main`
//! and the integration tests (which bind port 0).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::clock::Clock;
use crate::config::Config;
use crate::flows::backchannel::{DELIVERY_TIMEOUT, Deliverer};
use crate::flows::bootstrap::{BootstrappedAdmin, bootstrap_admin};
use crate::flows::cleanup::clean_up;
use crate::flows::keys::{
    KeyContext, KeySchedule, Maintenance, ensure_signing_keys, maintain_signing_keys, refresh_keystore,
};
use crate::http::{self, AppState, RequestSpan};
use crate::keys::Keystore;
use crate::metrics::Metrics;
use crate::security::master_key::MasterKey;
use crate::security::password::PasswordHasher;
use crate::security::rate_limit::RateLimits;
use crate::store::Store;

/// How often an instance re-reads the signing keys, so that a rotation or revocation made
/// by another instance or the CLI takes effect here within this time.
pub const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// How often an instance looks for back-channel logout notifications to deliver.
pub const BACKCHANNEL_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How often an instance deletes expired rows.
pub const CLEANUP_INTERVAL: Duration = Duration::from_secs(600);

pub struct Application {
    port: u16,
    server: Server,
    /// `/metrics` on `metrics_bind`, and the port it got.
    metrics: Option<(u16, Server)>,
    /// The administrator created by this start, if it created one.
    pub bootstrapped_admin: Option<BootstrappedAdmin>,
}

impl Application {
    /// Binds `config.bind` and prepares everything; `run_until_stopped` serves.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind).with_context(|| format!("cannot listen on {}", config.bind))?;
        Self::with_listener(config, listener, clock).await
    }

    /// Like `build`, on a listener the caller bound (tests bind port 0 and derive the
    /// issuer from the port they got).
    pub async fn with_listener(config: Config, listener: TcpListener, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let store = open_store(&config).await?;
        let master_key = MasterKey::load_or_create(&config.master_key)?;
        let key_context = KeyContext {
            store: &store,
            master_key: &master_key,
            clock: clock.as_ref(),
            rsa_bits: config.keys.rsa_bits,
        };
        ensure_signing_keys(&key_context).await.context("cannot prepare signing keys")?;
        let keystore = Arc::new(Keystore::new(&store.list_signing_keys().await?, master_key.clone())?);
        let hasher = PasswordHasher::new(&config.password)?;
        let bootstrapped_admin =
            bootstrap_admin(&store, clock.as_ref(), &hasher, config.bootstrap_admin_password.as_ref())
                .await
                .context("cannot create the first administrator")?;
        let discovery = http::discovery_document(&config.issuer)?;

        let limits = Arc::new(RateLimits::new(&config.rate_limits));
        let metrics = Arc::new(Metrics::default());
        let config = Arc::new(config);
        spawn_key_maintenance(
            store.clone(),
            Arc::clone(&keystore),
            master_key.clone(),
            Arc::clone(&clock),
            Arc::clone(&config),
            Arc::clone(&metrics),
        );
        spawn_cleanup(store.clone(), Arc::clone(&clock), Arc::clone(&config));
        spawn_backchannel_delivery(store.clone(), Arc::clone(&keystore), Arc::clone(&clock), config.issuer.clone());
        let state = web::Data::new(AppState {
            config,
            store,
            keystore,
            clock,
            hasher,
            master_key,
            limits,
            metrics,
            discovery: discovery.into(),
        });
        let metrics = match state.config.metrics_bind {
            Some(bind) => Some(serve_metrics(bind, state.clone())?),
            None => None,
        };
        let https = state.config.issuer.starts_with("https://");
        let server = HttpServer::new(move || {
            App::new()
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(state.clone())
                .configure(|cfg| http::configure(cfg, https))
        })
        .listen(listener)?
        .run();
        Ok(Self { port, server, metrics, bootstrapped_admin })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` is served on, when `metrics_bind` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until a signal (SIGTERM, SIGINT) stops the public listener: it stops
    /// accepting, finishes the requests in flight, and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        if let Some((_, metrics)) = self.metrics {
            tokio::spawn(metrics);
        }
        self.server.await
    }
}

/// `/metrics` on a listener of its own, so that the public one need not expose it.
fn serve_metrics(bind: std::net::SocketAddr, state: web::Data<AppState>) -> anyhow::Result<(u16, Server)> {
    let listener = TcpListener::bind(bind).with_context(|| format!("cannot listen on {bind} for metrics"))?;
    let port = listener.local_addr()?.port();
    let server =
        HttpServer::new(move || App::new().app_data(state.clone()).route("/metrics", web::get().to(http::metrics_get)))
            .workers(1)
            .listen(listener)?
            .run();
    Ok((port, server))
}

/// Connects to the configured database and brings its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url).await.context("cannot open the database")?;
    store.migrate().await.context("cannot migrate the database")?;
    Ok(store)
}

/// Delivers back-channel logout notifications. The HTTP client is built on a blocking
/// thread once serving has begun: loading the system's trusted certificates takes longer
/// than the whole rest of start-up.
fn spawn_backchannel_delivery(store: Store, keystore: Arc<Keystore>, clock: Arc<dyn Clock>, issuer: String) {
    tokio::spawn(async move {
        let built = tokio::task::spawn_blocking(|| {
            reqwest::Client::builder().timeout(DELIVERY_TIMEOUT).redirect(reqwest::redirect::Policy::none()).build()
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|built| built.map_err(|e| e.to_string()));
        let http = match built {
            Ok(http) => http,
            Err(error) => {
                tracing::error!(%error, "cannot build the back-channel logout HTTP client; no notification will be sent");
                return;
            }
        };
        let deliverer =
            Deliverer { store: &store, keystore: &keystore, clock: clock.as_ref(), issuer: &issuer, http: &http };
        let mut ticker = tokio::time::interval(BACKCHANNEL_POLL_INTERVAL);
        loop {
            ticker.tick().await;
            if let Err(err) = deliverer.deliver_due().await {
                tracing::warn!(error = %err, "back-channel logout delivery failed; it runs again shortly");
            }
        }
    });
}

fn spawn_cleanup(store: Store, clock: Arc<dyn Clock>, config: Arc<Config>) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(CLEANUP_INTERVAL);
        // The first tick is immediate; start-up has enough to do.
        ticker.tick().await;
        loop {
            ticker.tick().await;
            match clean_up(&store, clock.as_ref(), &config).await {
                Ok(report) => tracing::debug!(?report, "expired rows deleted"),
                Err(err) => tracing::warn!(error = %err, "clean-up failed; it runs again later"),
            }
        }
    });
}

/// Every few seconds: retire keys out of the JWKS and rotate on schedule (whichever
/// instance notices first), then load what the database holds, so that a rotation made
/// anywhere signs here within `KEY_REFRESH_INTERVAL`.
fn spawn_key_maintenance(
    store: Store,
    keystore: Arc<Keystore>,
    master_key: MasterKey,
    clock: Arc<dyn Clock>,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
) {
    tokio::spawn(async move {
        let ctx = KeyContext {
            store: &store,
            master_key: &master_key,
            clock: clock.as_ref(),
            rsa_bits: config.keys.rsa_bits,
        };
        let mut ticker = tokio::time::interval(KEY_REFRESH_INTERVAL);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let maintained = match KeySchedule::from_config(&store, &config).await {
                Ok(schedule) => maintain_signing_keys(&ctx, schedule).await.map_err(|e| e.to_string()),
                Err(err) => Err(err.to_string()),
            };
            match maintained {
                Ok(done) if done != Maintenance::default() => {
                    if done.rotated.is_some() {
                        metrics.key_rotated();
                    }
                    tracing::info!(?done, "signing keys maintained");
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "key maintenance failed; it runs again shortly"),
            }
            match refresh_keystore(&store, &keystore).await {
                Ok(true) => tracing::info!("signing keys changed; keystore reloaded"),
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, "cannot refresh signing keys; serving the last known set"),
            }
        }
    });
}
