//! The configuration as written: TOML and `WRISTBAND_*` values before validation, and
//! the checks that turn them into a [`Config`].

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine;
use serde::Deserialize;

use super::env::Env;
use super::network::{parse_issuer, parse_metrics_bind, parse_trusted_proxies};
use super::*;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    issuer: Option<String>,
    bind: Option<String>,
    database_url: Option<String>,
    master_key_file: Option<PathBuf>,
    master_key: Option<String>,
    allow_insecure_issuer: Option<bool>,
    bootstrap_admin_password: Option<String>,
    log_format: Option<String>,
    metrics_bind: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    #[serde(default)]
    tokens: RawTokens,
    #[serde(default)]
    sessions: RawSessions,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    refresh: RawRefresh,
    #[serde(default)]
    keys: RawKeys,
    #[serde(default)]
    password: RawPassword,
    #[serde(default)]
    mfa: RawLockout,
    #[serde(default)]
    login: RawLockout,
    #[serde(default)]
    rate_limits: RawRateLimits,
    #[serde(default)]
    passkeys: RawPasskeys,
    #[serde(default)]
    admin: RawAdmin,
    #[serde(default)]
    smtp: RawSmtp,
    #[serde(default)]
    registration: RawRegistration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistration {
    enabled: Option<bool>,
    allowed_domains: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    url: Option<String>,
    from: Option<String>,
    username: Option<String>,
    password: Option<String>,
    insecure_plaintext: Option<bool>,
    /// Where `.eml` files go when no `url` is set.
    mail_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPasskeys {
    passwordless: Option<bool>,
    allowed_aaguids: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    require_phishing_resistant: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTokens {
    access_token_seconds: Option<i64>,
    id_token_seconds: Option<i64>,
    authorization_code_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessions {
    lifetime_seconds: Option<i64>,
    idle_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    retention_days: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefresh {
    idle_seconds: Option<i64>,
    absolute_seconds: Option<i64>,
    reuse_grace_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    rsa_bits: Option<u32>,
    jwks_max_age_seconds: Option<u32>,
    rotate_every: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPassword {
    argon2_memory_kib: Option<u32>,
    argon2_iterations: Option<u32>,
    argon2_parallelism: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
/// `[mfa]` and `[login]`: a lockout after failures in a row.
struct RawLockout {
    lockout_attempts: Option<i32>,
    lockout_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimits {
    login_failures_per_ip: Option<String>,
    authorize_per_ip: Option<String>,
    token_per_client: Option<String>,
    token_per_ip: Option<String>,
    introspect_per_client: Option<String>,
    password_reset_per_ip: Option<String>,
    registration_per_ip: Option<String>,
}

impl RawConfig {
    pub(super) fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let env = Env(env);
        env.string("issuer", &mut self.issuer);
        env.string("bind", &mut self.bind);
        env.secret("database_url", &mut self.database_url)?;
        env.parse("master_key_file", &mut self.master_key_file)?;
        // Not `secret`: WRISTBAND_MASTER_KEY_FILE is the `master_key_file` setting, a file of raw bytes.
        env.string("master_key", &mut self.master_key);
        env.parse("allow_insecure_issuer", &mut self.allow_insecure_issuer)?;
        env.secret("bootstrap_admin_password", &mut self.bootstrap_admin_password)?;
        env.string("log_format", &mut self.log_format);
        env.string("metrics_bind", &mut self.metrics_bind);
        env.list("trusted_proxies", &mut self.trusted_proxies);
        env.parse("tokens.access_token_seconds", &mut self.tokens.access_token_seconds)?;
        env.parse("tokens.id_token_seconds", &mut self.tokens.id_token_seconds)?;
        env.parse("tokens.authorization_code_seconds", &mut self.tokens.authorization_code_seconds)?;
        env.parse("sessions.lifetime_seconds", &mut self.sessions.lifetime_seconds)?;
        env.parse("sessions.idle_seconds", &mut self.sessions.idle_seconds)?;
        env.parse("audit.retention_days", &mut self.audit.retention_days)?;
        env.parse("refresh.idle_seconds", &mut self.refresh.idle_seconds)?;
        env.parse("refresh.absolute_seconds", &mut self.refresh.absolute_seconds)?;
        env.parse("refresh.reuse_grace_seconds", &mut self.refresh.reuse_grace_seconds)?;
        env.parse("keys.rsa_bits", &mut self.keys.rsa_bits)?;
        env.parse("keys.jwks_max_age_seconds", &mut self.keys.jwks_max_age_seconds)?;
        env.string("keys.rotate_every", &mut self.keys.rotate_every);
        env.parse("password.argon2_memory_kib", &mut self.password.argon2_memory_kib)?;
        env.parse("password.argon2_iterations", &mut self.password.argon2_iterations)?;
        env.parse("password.argon2_parallelism", &mut self.password.argon2_parallelism)?;
        env.parse("mfa.lockout_attempts", &mut self.mfa.lockout_attempts)?;
        env.parse("mfa.lockout_seconds", &mut self.mfa.lockout_seconds)?;
        env.parse("login.lockout_attempts", &mut self.login.lockout_attempts)?;
        env.parse("login.lockout_seconds", &mut self.login.lockout_seconds)?;
        env.string("rate_limits.login_failures_per_ip", &mut self.rate_limits.login_failures_per_ip);
        env.string("rate_limits.authorize_per_ip", &mut self.rate_limits.authorize_per_ip);
        env.string("rate_limits.token_per_client", &mut self.rate_limits.token_per_client);
        env.string("rate_limits.token_per_ip", &mut self.rate_limits.token_per_ip);
        env.string("rate_limits.introspect_per_client", &mut self.rate_limits.introspect_per_client);
        env.string("rate_limits.password_reset_per_ip", &mut self.rate_limits.password_reset_per_ip);
        env.string("rate_limits.registration_per_ip", &mut self.rate_limits.registration_per_ip);
        env.parse("registration.enabled", &mut self.registration.enabled)?;
        env.list("registration.allowed_domains", &mut self.registration.allowed_domains);
        env.parse("passkeys.passwordless", &mut self.passkeys.passwordless)?;
        env.list("passkeys.allowed_aaguids", &mut self.passkeys.allowed_aaguids);
        env.parse("admin.require_phishing_resistant", &mut self.admin.require_phishing_resistant)?;
        env.string("smtp.url", &mut self.smtp.url);
        env.string("smtp.from", &mut self.smtp.from);
        env.string("smtp.username", &mut self.smtp.username);
        env.secret("smtp.password", &mut self.smtp.password)?;
        env.parse("smtp.insecure_plaintext", &mut self.smtp.insecure_plaintext)?;
        env.parse("smtp.mail_dir", &mut self.smtp.mail_dir)?;
        Ok(())
    }

    pub(super) fn validate(self) -> Result<Config, ConfigError> {
        let bind_text = self.bind.unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            ConfigError::invalid("bind", format!("`{bind_text}` is not an IP address and port, like 127.0.0.1:8080"))
        })?;
        let issuer = match self.issuer {
            Some(issuer) => parse_issuer(&issuer, self.allow_insecure_issuer.unwrap_or(false))?,
            None if bind.ip().is_loopback() => format!("http://{bind}"),
            None => {
                return Err(ConfigError::invalid(
                    "issuer",
                    format!(
                        "must be set when binding to the non-loopback address {bind}: the public https:// URL clients reach wristband at"
                    ),
                ));
            }
        };
        let mail = validate_smtp(self.smtp, &issuer)?;
        let registration = RegistrationSettings {
            enabled: self.registration.enabled.unwrap_or(false),
            allowed_domains: self
                .registration
                .allowed_domains
                .unwrap_or_default()
                .iter()
                .map(|d| d.trim().trim_start_matches('@').to_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
        };
        Ok(Config {
            issuer,
            bind,
            database_url: SecretString::new(parse_database_url(self.database_url)?),
            master_key: parse_master_key(self.master_key, self.master_key_file)?,
            bootstrap_admin_password: self.bootstrap_admin_password.map(SecretString::new),
            log_format: match self.log_format.as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(ConfigError::invalid("log_format", format!("`{other}` is not `text` or `json`")));
                }
            },
            tokens: TokenSettings {
                access_token_seconds: in_range(
                    "tokens.access_token_seconds",
                    self.tokens.access_token_seconds,
                    900,
                    60,
                    86_400,
                )?,
                id_token_seconds: in_range("tokens.id_token_seconds", self.tokens.id_token_seconds, 3_600, 60, 86_400)?,
                authorization_code_seconds: in_range(
                    "tokens.authorization_code_seconds",
                    self.tokens.authorization_code_seconds,
                    60,
                    10,
                    600,
                )?,
            },
            sessions: SessionSettings {
                lifetime_seconds: in_range(
                    "sessions.lifetime_seconds",
                    self.sessions.lifetime_seconds,
                    43_200,
                    300,
                    2_592_000,
                )?,
                idle_seconds: match in_range("sessions.idle_seconds", self.sessions.idle_seconds, 28_800, 0, 2_592_000)?
                {
                    short @ 1..60 => {
                        return Err(ConfigError::invalid(
                            "sessions.idle_seconds",
                            format!("{short} is too short: use 0 (off) or at least 60"),
                        ));
                    }
                    idle => idle,
                },
            },
            audit: AuditSettings {
                retention_days: in_range("audit.retention_days", self.audit.retention_days, 90, 0, 36_500)?,
            },
            refresh: validate_refresh(self.refresh)?,
            keys: validate_keys(self.keys)?,
            password: validate_password(self.password)?,
            mfa: MfaSettings {
                lockout_attempts: in_range("mfa.lockout_attempts", self.mfa.lockout_attempts, 5, 3, 20)?,
                lockout_seconds: in_range("mfa.lockout_seconds", self.mfa.lockout_seconds, 900, 60, 86_400)?,
            },
            login: LoginSettings {
                lockout_attempts: in_range("login.lockout_attempts", self.login.lockout_attempts, 5, 3, 20)?,
                lockout_seconds: in_range("login.lockout_seconds", self.login.lockout_seconds, 900, 60, 86_400)?,
            },
            rate_limits: validate_rate_limits(self.rate_limits)?,
            passkeys: PasskeySettings {
                passwordless: self.passkeys.passwordless.unwrap_or(true),
                allowed_aaguids: parse_aaguids(self.passkeys.allowed_aaguids.unwrap_or_default())?,
            },
            admin: AdminSettings { require_phishing_resistant: self.admin.require_phishing_resistant.unwrap_or(false) },
            mail,
            registration,
            trusted_proxies: parse_trusted_proxies(self.trusted_proxies.unwrap_or_default())?,
            metrics_bind: parse_metrics_bind(self.metrics_bind)?,
        })
    }
}

fn in_range<T>(setting: &'static str, value: Option<T>, default: T, min: T, max: T) -> Result<T, ConfigError>
where
    T: PartialOrd + Display + Copy,
{
    let value = value.unwrap_or(default);
    if value < min || value > max {
        return Err(ConfigError::invalid(setting, format!("{value} is outside {min}..={max}")));
    }
    Ok(value)
}

fn validate_smtp(raw: RawSmtp, issuer: &str) -> Result<MailSettings, ConfigError> {
    let from = match raw.from {
        Some(from) => from,
        None => {
            // An address on the issuer's host name; `localhost` when the issuer is an address.
            let host = url::Url::parse(issuer).ok().and_then(|u| u.domain().map(str::to_owned));
            format!("wristband <noreply@{}>", host.unwrap_or_else(|| "localhost".to_owned()))
        }
    };
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::invalid(
            "smtp.from",
            format!("`{from}` is not a mailbox like `wristband <id@example.com>`"),
        ));
    }
    let Some(text) = raw.url else {
        let dir = raw.mail_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_MAIL_DIR));
        return Ok(MailSettings { delivery: MailDelivery::Files(dir), from });
    };
    let invalid = |reason: String| ConfigError::invalid("smtp.url", reason);
    let url = url::Url::parse(&text)
        .map_err(|_| invalid(format!("`{text}` is not a URL like smtp://mail.example.com:587")))?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| invalid(format!("`{text}` names no host")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let plaintext = raw.insecure_plaintext.unwrap_or(false);
    let tls = match (url.scheme(), plaintext) {
        ("smtps", _) => SmtpTls::Implicit,
        ("smtp", false) => SmtpTls::StartTls,
        ("smtp", true) => {
            let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(ConfigError::invalid(
                    "smtp.insecure_plaintext",
                    format!("plaintext SMTP is allowed only to a relay on this machine, not to {host}"),
                ));
            }
            SmtpTls::None
        }
        (scheme, _) => return Err(invalid(format!("scheme `{scheme}`: use smtp:// (STARTTLS) or smtps://"))),
    };
    let port = url.port().unwrap_or(if tls == SmtpTls::Implicit { 465 } else { 587 });
    let username = raw.username.filter(|u| !u.is_empty());
    let password = raw.password.map(SecretString::new);
    if username.is_some() != password.is_some() {
        return Err(ConfigError::invalid("smtp.username", "set smtp.username and smtp.password together"));
    }
    Ok(MailSettings { delivery: MailDelivery::Smtp(SmtpSettings { host, port, tls, username, password }), from })
}

fn parse_aaguids(values: Vec<String>) -> Result<Vec<uuid::Uuid>, ConfigError> {
    values
        .iter()
        .map(|value| {
            uuid::Uuid::parse_str(value.trim()).map_err(|_| {
                ConfigError::invalid(
                    "passkeys.allowed_aaguids",
                    format!("`{value}` is not an AAGUID (a UUID like cb69481e-8ff7-4039-93ec-0a2729a154a8)"),
                )
            })
        })
        .collect()
}

fn parse_database_url(url: Option<String>) -> Result<String, ConfigError> {
    let url = url.unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let supported = ["sqlite:", "postgres://", "postgresql://"];
    if !supported.iter().any(|prefix| url.starts_with(prefix)) {
        return Err(ConfigError::invalid("database_url", "must start with sqlite:// or postgres://"));
    }
    Ok(url)
}

fn parse_master_key(inline: Option<String>, file: Option<PathBuf>) -> Result<MasterKeySource, ConfigError> {
    match (inline, file) {
        (Some(_), Some(_)) => {
            Err(ConfigError::invalid("master_key", "set either master_key or master_key_file, not both"))
        }
        (Some(encoded), None) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| ConfigError::invalid("master_key", "is not valid base64"))?;
            let key = <[u8; MASTER_KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| {
                ConfigError::invalid(
                    "master_key",
                    format!("must decode to {MASTER_KEY_LEN} bytes, not {}", bytes.len()),
                )
            })?;
            Ok(MasterKeySource::Inline(key))
        }
        (None, file) => Ok(MasterKeySource::File(file.unwrap_or_else(|| PathBuf::from(DEFAULT_MASTER_KEY_FILE)))),
    }
}

fn validate_refresh(raw: RawRefresh) -> Result<RefreshSettings, ConfigError> {
    let idle_seconds = in_range("refresh.idle_seconds", raw.idle_seconds, 604_800, 300, 31_536_000)?;
    let absolute_seconds = in_range("refresh.absolute_seconds", raw.absolute_seconds, 2_592_000, 300, 31_536_000)?;
    if idle_seconds > absolute_seconds {
        return Err(ConfigError::invalid("refresh.idle_seconds", "must not exceed refresh.absolute_seconds"));
    }
    let reuse_grace_seconds =
        in_range("refresh.reuse_grace_seconds", raw.reuse_grace_seconds, 0, 0, MAX_REUSE_GRACE_SECONDS)?;
    Ok(RefreshSettings { idle_seconds, absolute_seconds, reuse_grace_seconds })
}

fn validate_keys(raw: RawKeys) -> Result<KeySettings, ConfigError> {
    let rsa_bits = match raw.rsa_bits.unwrap_or(2048) {
        bits @ (2048 | 3072 | 4096) => bits,
        other => return Err(ConfigError::invalid("keys.rsa_bits", format!("{other} is not 2048, 3072 or 4096"))),
    };
    let jwks_max_age_seconds = in_range("keys.jwks_max_age_seconds", raw.jwks_max_age_seconds, 300, 0, 86_400)?;
    let rotate_every_seconds = match raw.rotate_every.as_deref().map(str::trim) {
        None => Some(DEFAULT_ROTATE_EVERY_SECONDS),
        Some("off") => None,
        Some(text) => Some(parse_duration(text).ok_or_else(|| {
            ConfigError::invalid(
                "keys.rotate_every",
                format!("`{text}` is not `off` or a duration like 90d, 12h or 3600s"),
            )
        })?),
    };
    // A key waits as `next` for a whole rotation period: that wait must outlast every
    // JWKS cache, or verifiers would meet tokens signed by a key they have never seen.
    if let Some(every) = rotate_every_seconds
        && (every < 3_600 || every <= i64::from(jwks_max_age_seconds))
    {
        return Err(ConfigError::invalid(
            "keys.rotate_every",
            format!("must be at least 1h and longer than keys.jwks_max_age_seconds ({jwks_max_age_seconds} s)"),
        ));
    }
    Ok(KeySettings { rsa_bits, jwks_max_age_seconds, rotate_every_seconds })
}

/// `90d`, `12h`, `30m`, `45s` or a bare number of seconds.
fn parse_duration(text: &str) -> Option<i64> {
    let (number, unit) = match text.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let factor = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return None,
    };
    number.parse::<i64>().ok().filter(|n| *n > 0)?.checked_mul(factor)
}

fn validate_rate_limits(raw: RawRateLimits) -> Result<RateLimitSettings, ConfigError> {
    let defaults = RateLimitSettings::default();
    Ok(RateLimitSettings {
        login_failures_per_ip: rate_limit(
            "rate_limits.login_failures_per_ip",
            raw.login_failures_per_ip,
            defaults.login_failures_per_ip,
        )?,
        authorize_per_ip: rate_limit("rate_limits.authorize_per_ip", raw.authorize_per_ip, defaults.authorize_per_ip)?,
        token_per_client: rate_limit("rate_limits.token_per_client", raw.token_per_client, defaults.token_per_client)?,
        token_per_ip: rate_limit("rate_limits.token_per_ip", raw.token_per_ip, defaults.token_per_ip)?,
        introspect_per_client: rate_limit(
            "rate_limits.introspect_per_client",
            raw.introspect_per_client,
            defaults.introspect_per_client,
        )?,
        password_reset_per_ip: rate_limit(
            "rate_limits.password_reset_per_ip",
            raw.password_reset_per_ip,
            defaults.password_reset_per_ip,
        )?,
        registration_per_ip: rate_limit(
            "rate_limits.registration_per_ip",
            raw.registration_per_ip,
            defaults.registration_per_ip,
        )?,
    })
}

/// `"30/15m"` (30 at once, refilled over 15 minutes) or `"off"`.
fn rate_limit(
    setting: &'static str,
    text: Option<String>,
    default: Option<RateLimit>,
) -> Result<Option<RateLimit>, ConfigError> {
    let Some(text) = text else { return Ok(default) };
    let text = text.trim();
    if text == "off" {
        return Ok(None);
    }
    let parsed = text.split_once('/').and_then(|(burst, period)| {
        let burst = burst.trim().parse::<u32>().ok().filter(|b| *b > 0)?;
        Some(RateLimit { burst, period_seconds: parse_duration(period.trim())? })
    });
    parsed.map(Some).ok_or_else(|| {
        ConfigError::invalid(setting, format!("`{text}` is not `off` or a limit like 30/15m (30 per 15 minutes)"))
    })
}

fn validate_password(raw: RawPassword) -> Result<PasswordSettings, ConfigError> {
    let settings = PasswordSettings {
        argon2_memory_kib: in_range("password.argon2_memory_kib", raw.argon2_memory_kib, 19_456, 8_192, 1_048_576)?,
        argon2_iterations: in_range("password.argon2_iterations", raw.argon2_iterations, 2, 1, 16)?,
        argon2_parallelism: in_range("password.argon2_parallelism", raw.argon2_parallelism, 1, 1, 16)?,
    };
    Ok(settings)
}
