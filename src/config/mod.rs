//! Configuration: defaults, then an optional `wristband.toml`, then `WRISTBAND_*`
//! environment variables, validated once into [`Config`].
//!
//! Every setting has a dotted name (`tokens.access_token_seconds`) that is its TOML key and,
//! upper-cased with `_` for `.`, its environment variable
//! (`WRISTBAND_TOKENS_ACCESS_TOKEN_SECONDS`). Secrets also accept `WRISTBAND_<NAME>_FILE`,
//! a file holding the value (Docker and Kubernetes secrets). Errors name the setting and
//! say what is wrong.

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use ipnet::IpNet;
use raw::RawConfig;

use crate::security::master_key::MASTER_KEY_LEN;
use crate::security::rate_limit::RateLimit;
use crate::security::secret::SecretString;

pub const DEFAULT_CONFIG_FILE: &str = "wristband.toml";
const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_DATABASE_URL: &str = "sqlite://data/wristband.db?mode=rwc";
/// Where mail is written as `.eml` files when no SMTP server is configured.
const DEFAULT_MAIL_DIR: &str = "data/mail";
const DEFAULT_MASTER_KEY_FILE: &str = "keys/master.key";
/// The longest reuse grace window: sealed successors are erased after this.
pub const MAX_REUSE_GRACE_SECONDS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid setting `{setting}` ({env}): {message}")]
    Invalid { setting: &'static str, env: String, message: String },
}

impl ConfigError {
    fn invalid(setting: &'static str, message: impl Display) -> Self {
        Self::Invalid { setting, env: env_name(setting), message: message.to_string() }
    }
}

/// The environment variable that overrides a setting.
pub fn env_name(setting: &str) -> String {
    format!("WRISTBAND_{}", setting.replace('.', "_").to_uppercase())
}

/// Where the master key (the key-encryption key for private keys and TOTP secrets) comes from.
#[derive(Clone)]
pub enum MasterKeySource {
    /// A file of 32 raw bytes, created with mode 0600 when missing.
    File(PathBuf),
    /// The key itself, given base64-encoded in the configuration.
    Inline([u8; MASTER_KEY_LEN]),
}

impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Inline(_) => f.write_str("Inline(***)"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub access_token_seconds: i64,
    pub id_token_seconds: i64,
    pub authorization_code_seconds: i64,
}

#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// How long a browser session lasts from login (single sign-on window).
    pub lifetime_seconds: i64,
    /// A session unused for this long ends (0: never for being unused).
    pub idle_seconds: i64,
}

/// `[audit]`.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Audit events older than this are deleted by the clean-up (0: kept for ever).
    pub retention_days: i64,
}

#[derive(Debug, Clone)]
pub struct RefreshSettings {
    /// A family dies when unused this long.
    pub idle_seconds: i64,
    /// A family dies this long after the login, used or not.
    pub absolute_seconds: i64,
    /// How long a just-rotated token may be presented again and get the same successor
    /// (0: never; any second use is theft, as RFC 9700 §4.14.2 reads).
    pub reuse_grace_seconds: i64,
}

#[derive(Debug, Clone)]
pub struct KeySettings {
    pub rsa_bits: u32,
    pub jwks_max_age_seconds: u32,
    /// Scheduled rotation period; `None` turns scheduled rotation off.
    pub rotate_every_seconds: Option<i64>,
}

/// `keys.rotate_every` by default: 90 days.
pub const DEFAULT_ROTATE_EVERY_SECONDS: i64 = 90 * 86_400;

#[derive(Debug, Clone)]
pub struct PasswordSettings {
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
}

#[derive(Debug, Clone)]
pub struct MfaSettings {
    /// Wrong second-factor codes in a row that lock the factor.
    pub lockout_attempts: i32,
    /// How long a locked factor refuses every code.
    pub lockout_seconds: i64,
}

#[derive(Debug, Clone)]
pub struct LoginSettings {
    /// Failed sign-ins in a row, for one username (known or not), that lock it.
    pub lockout_attempts: i32,
    /// How long a locked username refuses every password.
    pub lockout_seconds: i64,
}

#[derive(Debug, Clone)]
pub struct PasskeySettings {
    /// Passkeys sign in on their own, without a password (else only as a second factor).
    pub passwordless: bool,
    /// Authenticator models (AAGUIDs) that may register a passkey; empty: any. With
    /// attestation `none` the authenticator reports its AAGUID itself: a policy for honest
    /// devices, not proof against a forged one.
    pub allowed_aaguids: Vec<uuid::Uuid>,
}

/// Where mail goes: an SMTP server, or `.eml` files in a directory (the default, so that a
/// trial needs no mail server; start-up says so).
#[derive(Debug, Clone)]
pub enum MailDelivery {
    Files(PathBuf),
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<SecretString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// `smtp://`: STARTTLS, required.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://` with `smtp.insecure_plaintext`: a relay on this machine only.
    None,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub delivery: MailDelivery,
    /// The sender, as a mailbox: `wristband <id@example.com>`.
    pub from: String,
}

/// Sign-up by the people themselves (off by default).
#[derive(Debug, Clone)]
pub struct RegistrationSettings {
    pub enabled: bool,
    /// Email domains that may sign up (lower-case); empty: any.
    pub allowed_domains: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// `/admin` needs a passkey login (`urn:wristband:acr:phr`), not just two factors.
    pub require_phishing_resistant: bool,
}

/// Per-instance request limits; `None` turns one off.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub login_failures_per_ip: Option<RateLimit>,
    /// New pending authorization requests (rows kept until the login ends) per address.
    pub authorize_per_ip: Option<RateLimit>,
    pub token_per_client: Option<RateLimit>,
    pub token_per_ip: Option<RateLimit>,
    pub introspect_per_client: Option<RateLimit>,
    pub password_reset_per_ip: Option<RateLimit>,
    pub registration_per_ip: Option<RateLimit>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            login_failures_per_ip: Some(RateLimit { burst: 30, period_seconds: 900 }),
            authorize_per_ip: Some(RateLimit { burst: 300, period_seconds: 300 }),
            token_per_client: Some(RateLimit { burst: 1_200, period_seconds: 60 }),
            token_per_ip: Some(RateLimit { burst: 1_200, period_seconds: 60 }),
            introspect_per_client: Some(RateLimit { burst: 6_000, period_seconds: 60 }),
            password_reset_per_ip: Some(RateLimit { burst: 10, period_seconds: 900 }),
            registration_per_ip: Some(RateLimit { burst: 10, period_seconds: 3_600 }),
        }
    }
}

/// Validated configuration: holding one means every setting made sense.
#[derive(Debug, Clone)]
pub struct Config {
    /// The issuer identifier: scheme, host and port, no trailing slash, no path.
    pub issuer: String,
    pub bind: SocketAddr,
    pub database_url: SecretString,
    pub master_key: MasterKeySource,
    pub bootstrap_admin_password: Option<SecretString>,
    pub log_format: LogFormat,
    pub tokens: TokenSettings,
    pub sessions: SessionSettings,
    pub audit: AuditSettings,
    pub refresh: RefreshSettings,
    pub keys: KeySettings,
    pub password: PasswordSettings,
    pub mfa: MfaSettings,
    pub login: LoginSettings,
    pub rate_limits: RateLimitSettings,
    pub passkeys: PasskeySettings,
    pub admin: AdminSettings,
    pub mail: MailSettings,
    pub registration: RegistrationSettings,
    /// Reverse proxies whose `X-Forwarded-For` names the client; empty: the TCP peer is
    /// the client, whatever the header says.
    pub trusted_proxies: Vec<IpNet>,
    /// Where Prometheus scrapes `/metrics`, apart from the public listener; `None`: not
    /// served.
    pub metrics_bind: Option<SocketAddr>,
}

impl Config {
    /// Loads the configuration the way `serve` and every CLI command do: `path` if given
    /// (it must exist), else `wristband.toml` when present, then the process environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let file = match path {
            Some(path) => Some(read_file(path)?),
            None => {
                let default = Path::new(DEFAULT_CONFIG_FILE);
                default.exists().then(|| read_file(default)).transpose()?
            }
        };
        Self::from_sources(file.as_deref(), &|name| std::env::var(name).ok())
    }

    /// Builds the configuration from TOML text and an environment lookup; `load` without I/O.
    pub fn from_sources(toml_text: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut raw: RawConfig = match toml_text {
            Some(text) => toml::from_str(text).map_err(|e| ConfigError::Parse {
                path: PathBuf::from(DEFAULT_CONFIG_FILE),
                message: e.message().to_owned(),
            })?,
            None => RawConfig::default(),
        };
        raw.apply_env(env)?;
        raw.validate()
    }

    /// A configuration for tests: everything under `dir`, the given database URL and bind.
    pub fn for_tests(dir: &Path, database_url: &str) -> Self {
        Self {
            issuer: "http://127.0.0.1:0".to_owned(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: SecretString::new(database_url),
            master_key: MasterKeySource::File(dir.join("keys/master.key")),
            bootstrap_admin_password: None,
            log_format: LogFormat::Text,
            tokens: TokenSettings { access_token_seconds: 900, id_token_seconds: 3600, authorization_code_seconds: 60 },
            sessions: SessionSettings { lifetime_seconds: 43_200, idle_seconds: 28_800 },
            audit: AuditSettings { retention_days: 90 },
            refresh: RefreshSettings { idle_seconds: 604_800, absolute_seconds: 2_592_000, reuse_grace_seconds: 0 },
            keys: KeySettings {
                rsa_bits: 2048,
                jwks_max_age_seconds: 300,
                rotate_every_seconds: Some(DEFAULT_ROTATE_EVERY_SECONDS),
            },
            password: PasswordSettings { argon2_memory_kib: 19_456, argon2_iterations: 2, argon2_parallelism: 1 },
            mfa: MfaSettings { lockout_attempts: 5, lockout_seconds: 900 },
            login: LoginSettings { lockout_attempts: 5, lockout_seconds: 900 },
            rate_limits: RateLimitSettings::default(),
            passkeys: PasskeySettings { passwordless: true, allowed_aaguids: Vec::new() },
            admin: AdminSettings { require_phishing_resistant: false },
            registration: RegistrationSettings { enabled: false, allowed_domains: Vec::new() },
            mail: MailSettings {
                delivery: MailDelivery::Files(dir.join("mail")),
                from: "wristband <noreply@localhost>".to_owned(),
            },
            trusted_proxies: Vec::new(),
            metrics_bind: None,
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose().starts_with("sqlite:")
    }
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })
}

mod env;
mod network;
mod raw;
#[cfg(test)]
mod tests;
