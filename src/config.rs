//! Configuration: defaults, then an optional `wristband.toml`, then `WRISTBAND_*`
//! environment variables, validated once into [`Config`].
//!
//! Every setting has a dotted name (`tokens.access_token_seconds`) that is its TOML key and,
//! upper-cased with `_` for `.`, its environment variable
//! (`WRISTBAND_TOKENS_ACCESS_TOKEN_SECONDS`). Secrets also accept `WRISTBAND_<NAME>_FILE`,
//! a file holding the value (Docker and Kubernetes secrets). Errors name the setting and
//! say what is wrong.

use std::fmt::Display;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine;
use serde::Deserialize;
use url::Url;

use crate::security::master_key::MASTER_KEY_LEN;
use crate::security::secret::SecretString;

pub const DEFAULT_CONFIG_FILE: &str = "wristband.toml";
const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_DATABASE_URL: &str = "sqlite://data/wristband.db?mode=rwc";
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
}

#[derive(Debug, Clone)]
pub struct PasswordSettings {
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
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
    pub refresh: RefreshSettings,
    pub keys: KeySettings,
    pub password: PasswordSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    issuer: Option<String>,
    bind: Option<String>,
    database_url: Option<String>,
    master_key_file: Option<PathBuf>,
    master_key: Option<String>,
    allow_insecure_issuer: Option<bool>,
    bootstrap_admin_password: Option<String>,
    log_format: Option<String>,
    #[serde(default)]
    tokens: RawTokens,
    #[serde(default)]
    sessions: RawSessions,
    #[serde(default)]
    refresh: RawRefresh,
    #[serde(default)]
    keys: RawKeys,
    #[serde(default)]
    password: RawPassword,
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPassword {
    argon2_memory_kib: Option<u32>,
    argon2_iterations: Option<u32>,
    argon2_parallelism: Option<u32>,
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
            sessions: SessionSettings { lifetime_seconds: 43_200 },
            refresh: RefreshSettings { idle_seconds: 604_800, absolute_seconds: 2_592_000, reuse_grace_seconds: 0 },
            keys: KeySettings { rsa_bits: 2048, jwks_max_age_seconds: 300 },
            password: PasswordSettings { argon2_memory_kib: 19_456, argon2_iterations: 2, argon2_parallelism: 1 },
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose().starts_with("sqlite:")
    }
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })
}

impl RawConfig {
    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
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
        env.parse("tokens.access_token_seconds", &mut self.tokens.access_token_seconds)?;
        env.parse("tokens.id_token_seconds", &mut self.tokens.id_token_seconds)?;
        env.parse("tokens.authorization_code_seconds", &mut self.tokens.authorization_code_seconds)?;
        env.parse("sessions.lifetime_seconds", &mut self.sessions.lifetime_seconds)?;
        env.parse("refresh.idle_seconds", &mut self.refresh.idle_seconds)?;
        env.parse("refresh.absolute_seconds", &mut self.refresh.absolute_seconds)?;
        env.parse("refresh.reuse_grace_seconds", &mut self.refresh.reuse_grace_seconds)?;
        env.parse("keys.rsa_bits", &mut self.keys.rsa_bits)?;
        env.parse("keys.jwks_max_age_seconds", &mut self.keys.jwks_max_age_seconds)?;
        env.parse("password.argon2_memory_kib", &mut self.password.argon2_memory_kib)?;
        env.parse("password.argon2_iterations", &mut self.password.argon2_iterations)?;
        env.parse("password.argon2_parallelism", &mut self.password.argon2_parallelism)?;
        Ok(())
    }

    fn validate(self) -> Result<Config, ConfigError> {
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
            },
            refresh: validate_refresh(self.refresh)?,
            keys: KeySettings {
                rsa_bits: match self.keys.rsa_bits.unwrap_or(2048) {
                    bits @ (2048 | 3072 | 4096) => bits,
                    other => {
                        return Err(ConfigError::invalid(
                            "keys.rsa_bits",
                            format!("{other} is not 2048, 3072 or 4096"),
                        ));
                    }
                },
                jwks_max_age_seconds: in_range(
                    "keys.jwks_max_age_seconds",
                    self.keys.jwks_max_age_seconds,
                    300,
                    0,
                    86_400,
                )?,
            },
            password: validate_password(self.password)?,
        })
    }
}

/// Reads overrides from the environment into the raw configuration.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn string(&self, setting: &str, slot: &mut Option<String>) {
        if let Some(value) = (self.0)(&env_name(setting)) {
            *slot = Some(value);
        }
    }

    fn parse<T: FromStr>(&self, setting: &'static str, slot: &mut Option<T>) -> Result<(), ConfigError>
    where
        T::Err: Display,
    {
        if let Some(value) = (self.0)(&env_name(setting)) {
            let parsed = value.trim().parse().map_err(|e| ConfigError::invalid(setting, format!("`{value}`: {e}")))?;
            *slot = Some(parsed);
        }
        Ok(())
    }

    /// A secret may come from `WRISTBAND_<NAME>` or from the file named by `WRISTBAND_<NAME>_FILE`.
    fn secret(&self, setting: &'static str, slot: &mut Option<String>) -> Result<(), ConfigError> {
        let name = env_name(setting);
        let direct = (self.0)(&name);
        let file = (self.0)(&format!("{name}_FILE"));
        match (direct, file) {
            (Some(_), Some(_)) => {
                Err(ConfigError::invalid(setting, format!("set either {name} or {name}_FILE, not both")))
            }
            (Some(value), None) => {
                *slot = Some(value);
                Ok(())
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError::invalid(setting, format!("cannot read {name}_FILE {path}: {e}")))?;
                *slot = Some(text.trim_end_matches(['\r', '\n']).to_owned());
                Ok(())
            }
            (None, None) => Ok(()),
        }
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

fn parse_issuer(text: &str, allow_insecure: bool) -> Result<String, ConfigError> {
    let url = Url::parse(text)
        .map_err(|e| ConfigError::invalid("issuer", format!("`{text}` is not an absolute URL: {e}")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::invalid("issuer", "must not have a query or fragment (OIDC Discovery §4.3)"));
    }
    if url.path() != "/" {
        return Err(ConfigError::invalid("issuer", "must not have a path: serve wristband at the root of its host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::invalid("issuer", "must not contain credentials"));
    }
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) || allow_insecure => {}
        "http" => {
            return Err(ConfigError::invalid(
                "issuer",
                format!(
                    "`{text}` uses http:// on a non-loopback host; use https://, or set allow_insecure_issuer = true for a closed test network"
                ),
            ));
        }
        other => return Err(ConfigError::invalid("issuer", format!("scheme `{other}` is not https or http"))),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
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

fn validate_password(raw: RawPassword) -> Result<PasswordSettings, ConfigError> {
    let settings = PasswordSettings {
        argon2_memory_kib: in_range("password.argon2_memory_kib", raw.argon2_memory_kib, 19_456, 8_192, 1_048_576)?,
        argon2_iterations: in_range("password.argon2_iterations", raw.argon2_iterations, 2, 1, 16)?,
        argon2_parallelism: in_range("password.argon2_parallelism", raw.argon2_parallelism, 1, 1, 16)?,
    };
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(toml_text: Option<&str>, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_sources(toml_text, &|name| vars.get(name).cloned())
    }

    fn error_text(toml_text: Option<&str>, vars: &[(&str, &str)]) -> String {
        load(toml_text, vars).expect_err("configuration should be refused").to_string()
    }

    #[test]
    fn defaults_serve_on_loopback_with_a_matching_issuer() {
        let config = load(None, &[]).unwrap();
        assert_eq!(config.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.issuer, "http://127.0.0.1:8080");
        assert!(config.is_sqlite());
        assert_eq!(config.tokens.access_token_seconds, 900);
        assert_eq!(config.keys.rsa_bits, 2048);
    }

    #[test]
    fn the_documented_example_file_is_valid_and_states_the_defaults() {
        let example = load(Some(include_str!("../wristband.example.toml")), &[]).unwrap();
        let defaults = load(None, &[]).unwrap();
        assert_eq!(format!("{example:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = load(
            Some("issuer = \"https://id.example.com\"\n[tokens]\naccess_token_seconds = 600\n"),
            &[("WRISTBAND_TOKENS_ACCESS_TOKEN_SECONDS", "300")],
        )
        .unwrap();
        assert_eq!(config.issuer, "https://id.example.com");
        assert_eq!(config.tokens.access_token_seconds, 300);
    }

    #[test]
    fn a_non_loopback_http_issuer_is_refused_unless_allowed() {
        let message = error_text(None, &[("WRISTBAND_ISSUER", "http://id.example.com")]);
        assert!(message.contains("`issuer`") && message.contains("allow_insecure_issuer"), "{message}");
        let config =
            load(None, &[("WRISTBAND_ISSUER", "http://id.example.com"), ("WRISTBAND_ALLOW_INSECURE_ISSUER", "true")])
                .unwrap();
        assert_eq!(config.issuer, "http://id.example.com");
    }

    #[test]
    fn loopback_http_issuers_are_accepted() {
        for issuer in ["http://localhost:9000", "http://127.0.0.2", "http://[::1]:8080"] {
            assert!(load(None, &[("WRISTBAND_ISSUER", issuer)]).is_ok(), "{issuer}");
        }
    }

    #[test]
    fn issuers_with_a_path_query_or_fragment_are_refused() {
        for issuer in
            ["https://id.example.com/tenant", "https://id.example.com/?a=b", "https://id.example.com/#x", "ftp://x"]
        {
            let message = error_text(None, &[("WRISTBAND_ISSUER", issuer)]);
            assert!(message.contains("`issuer`"), "{issuer}: {message}");
        }
    }

    #[test]
    fn a_public_bind_without_an_issuer_is_refused() {
        let message = error_text(None, &[("WRISTBAND_BIND", "0.0.0.0:8080")]);
        assert!(message.contains("`issuer`") && message.contains("must be set"), "{message}");
    }

    #[test]
    fn malformed_numbers_name_the_setting_and_its_variable() {
        let message = error_text(None, &[("WRISTBAND_TOKENS_ACCESS_TOKEN_SECONDS", "soon")]);
        assert!(message.contains("tokens.access_token_seconds"), "{message}");
        assert!(message.contains("WRISTBAND_TOKENS_ACCESS_TOKEN_SECONDS"), "{message}");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let message = error_text(None, &[("WRISTBAND_TOKENS_ACCESS_TOKEN_SECONDS", "5")]);
        assert!(message.contains("outside 60..=86400"), "{message}");
        let message = error_text(None, &[("WRISTBAND_KEYS_RSA_BITS", "1024")]);
        assert!(message.contains("keys.rsa_bits"), "{message}");
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let message = error_text(Some("isuer = \"https://x\"\n"), &[]);
        assert!(message.contains("isuer"), "{message}");
    }

    #[test]
    fn unsupported_database_urls_are_refused() {
        let message = error_text(None, &[("WRISTBAND_DATABASE_URL", "mysql://localhost/db")]);
        assert!(message.contains("database_url"), "{message}");
    }

    #[test]
    fn the_master_key_comes_from_base64_or_a_file_but_not_both() {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let config = load(None, &[("WRISTBAND_MASTER_KEY", &key)]).unwrap();
        assert!(matches!(config.master_key, MasterKeySource::Inline(k) if k == [7u8; 32]));
        let message = error_text(None, &[("WRISTBAND_MASTER_KEY", &key), ("WRISTBAND_MASTER_KEY_FILE", "/tmp/k")]);
        assert!(message.contains("not both"), "{message}");
        let message = error_text(None, &[("WRISTBAND_MASTER_KEY", "c2hvcnQ=")]);
        assert!(message.contains("32 bytes"), "{message}");
    }

    #[test]
    fn secrets_can_be_read_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("password");
        std::fs::write(&path, "correct horse battery staple\n").unwrap();
        let config = load(None, &[("WRISTBAND_BOOTSTRAP_ADMIN_PASSWORD_FILE", path.to_str().unwrap())]).unwrap();
        assert_eq!(config.bootstrap_admin_password.unwrap().expose(), "correct horse battery staple");
    }
}
