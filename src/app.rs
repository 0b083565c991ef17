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
use crate::flows::Services;
use crate::flows::backchannel::{DELIVERY_TIMEOUT, Deliverer};
use crate::flows::bootstrap::{BootstrappedAdmin, bootstrap_admin};
use crate::flows::cleanup::clean_up;
use crate::flows::keys::{KeySchedule, Maintenance, ensure_signing_keys, maintain_signing_keys, refresh_keystore};
use crate::flows::mail::sender::{Transport, send_due};
use crate::flows::passkeys::RelyingParty;
use crate::flows::upstream::provider::DISCOVERY_SECONDS;
use crate::flows::upstream::refresh_discovery;
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
/// How often each instance looks for mail to send.
pub const MAIL_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How often an instance deletes expired rows.
pub const CLEANUP_INTERVAL: Duration = Duration::from_secs(600);

pub struct Application {
    port: u16,
    services: Services,
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
        let discovery = http::discovery_document(&config.issuer, config.registration.enabled)?;
        let services = open_services(config, clock).await?;
        let ctx = services.context();
        ensure_signing_keys(&ctx).await.context("cannot prepare signing keys")?;
        refresh_keystore(&ctx).await.context("cannot load the signing keys")?;
        let bootstrapped_admin = bootstrap_admin(&ctx, services.config.bootstrap_admin_password.as_ref())
            .await
            .context("cannot create the first administrator")?;
        spawn_key_maintenance(services.clone());
        spawn_cleanup(services.clone());
        spawn_backchannel_delivery(services.clone());
        spawn_mail_delivery(services.clone())?;
        spawn_upstream_discovery(services.clone());
        let state = web::Data::new(AppState { services: services.clone(), discovery: discovery.into() });
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
        Ok(Self { port, services, server, metrics, bootstrapped_admin })
    }

    /// What the server's flows use: for tests and tools in the same process that call a
    /// flow as this instance would.
    pub fn services(&self) -> &Services {
        &self.services
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

/// What the flows need, for the server and for each CLI command: the store, the master
/// key, the password hasher, the limits. The keystore starts empty; the server loads it
/// once the keys are ensured, and a key flow reloads it after each change.
pub async fn open_services(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Services> {
    let store = open_store(&config).await?;
    let master_key = MasterKey::load_or_create(&config.master_key)?;
    let keystore = Arc::new(Keystore::new(&[], master_key.clone())?);
    Ok(Services {
        relying_party: RelyingParty::for_issuer(&config.issuer),
        upstreams: Arc::default(),
        hasher: PasswordHasher::new(&config.password)?,
        limits: Arc::new(RateLimits::new(&config.rate_limits)),
        metrics: Arc::new(Metrics::default()),
        config: Arc::new(config),
        store,
        keystore,
        clock,
        master_key,
    })
}

/// Delivers back-channel logout notifications. The HTTP client is built on a blocking
/// thread once serving has begun: loading the system's trusted certificates takes longer
/// than the whole rest of start-up.
fn spawn_backchannel_delivery(services: Services) {
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
        let Services { store, keystore, clock, config, .. } = &services;
        let deliverer = Deliverer { store, keystore, clock: clock.as_ref(), issuer: &config.issuer, http: &http };
        let mut ticker = tokio::time::interval(BACKCHANNEL_POLL_INTERVAL);
        loop {
            ticker.tick().await;
            if let Err(err) = deliverer.deliver_due().await {
                tracing::warn!(error = %err, "back-channel logout delivery failed; it runs again shortly");
            }
        }
    });
}

/// Sends the mail outbox (any instance may send; each message is claimed once).
fn spawn_mail_delivery(services: Services) -> anyhow::Result<()> {
    let transport = Transport::new(&services.config.mail).context("cannot set up mail delivery")?;
    tracing::info!("{}", Transport::describe(&services.config.mail));
    tokio::spawn(async move {
        let ctx = services.context();
        let mut ticker = tokio::time::interval(MAIL_POLL_INTERVAL);
        loop {
            ticker.tick().await;
            if let Err(err) = send_due(&ctx, &transport).await {
                tracing::warn!(error = %err, "mail delivery failed; it runs again shortly");
            }
        }
    });
    Ok(())
}

/// Reads every OpenID Connect upstream's discovery document at start and then hourly, so
/// a provider that moved its endpoints or keys is followed, and one that is unreachable is
/// reported in the log before people meet it.
fn spawn_upstream_discovery(services: Services) {
    tokio::spawn(async move {
        let ctx = services.context();
        let mut ticker = tokio::time::interval(Duration::from_secs(DISCOVERY_SECONDS.unsigned_abs()));
        loop {
            ticker.tick().await;
            match refresh_discovery(&ctx).await {
                Ok(failures) => {
                    for (name, error) in failures {
                        tracing::warn!(upstream = %name, %error, "upstream discovery failed; signing in with it fails until it answers");
                    }
                }
                Err(err) => tracing::warn!(error = %err, "upstream discovery failed; it runs again later"),
            }
        }
    });
}

fn spawn_cleanup(services: Services) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(CLEANUP_INTERVAL);
        // The first tick is immediate; start-up has enough to do.
        ticker.tick().await;
        loop {
            ticker.tick().await;
            match clean_up(&services.context()).await {
                Ok(report) => tracing::debug!(?report, "expired rows deleted"),
                Err(err) => tracing::warn!(error = %err, "clean-up failed; it runs again later"),
            }
        }
    });
}

/// Every few seconds: retire keys out of the JWKS and rotate on schedule (whichever
/// instance notices first), then load what the database holds, so that a rotation made
/// anywhere signs here within `KEY_REFRESH_INTERVAL`.
fn spawn_key_maintenance(services: Services) {
    tokio::spawn(async move {
        let ctx = services.context();
        let mut ticker = tokio::time::interval(KEY_REFRESH_INTERVAL);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let maintained = match KeySchedule::from_config(&ctx).await {
                Ok(schedule) => maintain_signing_keys(&ctx, schedule).await,
                Err(err) => Err(err),
            };
            match maintained {
                Ok(done) if done != Maintenance::default() => tracing::info!(?done, "signing keys maintained"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "key maintenance failed; it runs again shortly"),
            }
            match refresh_keystore(&ctx).await {
                Ok(true) => tracing::info!("signing keys changed; keystore reloaded"),
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, "cannot refresh signing keys; serving the last known set"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    //! The outbox worker's rule (`flows::mail::sender`), tested here because the flow
    //! test kit builds on the modules that queue mail.
    use crate::clock::Clock;
    use crate::flows::mail::sender::{MAX_ATTEMPTS, Transport, send_due};
    use crate::flows::mail::{messages, queue};
    use crate::flows::testkit::FlowTest;
    use crate::model::MailState;

    #[tokio::test]
    async fn a_message_that_cannot_be_delivered_is_retried_for_two_days_then_given_up_and_audited() {
        let t = FlowTest::new().await;
        // Messages cannot be written into a path that is a file, not a directory.
        let blocked = tempfile::NamedTempFile::new().unwrap();
        let transport = Transport::Files(blocked.path().to_owned());
        queue(&t.ctx(), messages::password_changed(&t.ctx(), "alice@example.com", "alice").unwrap()).await.unwrap();
        let started = t.clock.now();

        let mut states = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            assert_eq!(send_due(&t.ctx(), &transport).await.unwrap(), 0);
            let mail = t.store.recent_mail(1).await.unwrap().remove(0);
            states.push((mail.attempts, mail.state()));
            t.clock.advance(mail.next_attempt_at.max(t.clock.now()) - t.clock.now());
        }

        let last = t.store.recent_mail(1).await.unwrap().remove(0);
        assert!(states[..states.len() - 1].iter().all(|(_, state)| *state == MailState::Queued), "{states:?}");
        assert_eq!((last.attempts, last.state()), (MAX_ATTEMPTS, MailState::Failed));
        let days = (t.clock.now() - started) as f64 / 86_400.0;
        assert!((1.5..2.5).contains(&days), "retried for {days:.2} days");
        let events = t.store.recent_audit_events(10).await.unwrap();
        assert!(events.iter().any(|e| e.event == "mail_failed"));
    }
}
