use std::collections::HashMap;

use base64::Engine;

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
    let example = load(Some(include_str!("../../wristband.example.toml")), &[]).unwrap();
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

#[test]
fn scheduled_rotation_takes_durations_or_off_and_must_outlast_the_jwks_cache() {
    assert_eq!(load(None, &[]).unwrap().keys.rotate_every_seconds, Some(90 * 86_400));
    let every = |text: &str| load(None, &[("WRISTBAND_KEYS_ROTATE_EVERY", text)]).map(|c| c.keys.rotate_every_seconds);
    assert_eq!(every("off").unwrap(), None);
    assert_eq!(every("30d").unwrap(), Some(30 * 86_400));
    assert_eq!(every("12h").unwrap(), Some(43_200));
    assert_eq!(every("7200").unwrap(), Some(7_200));
    for bad in ["", "soon", "-5d", "0h", "10m", "3w"] {
        let message = every(bad).expect_err(bad).to_string();
        assert!(message.contains("keys.rotate_every"), "{bad}: {message}");
    }
    let message =
        error_text(None, &[("WRISTBAND_KEYS_ROTATE_EVERY", "1h"), ("WRISTBAND_KEYS_JWKS_MAX_AGE_SECONDS", "3600")]);
    assert!(message.contains("longer than keys.jwks_max_age_seconds"), "{message}");
}

#[test]
fn rate_limits_are_a_count_per_duration_or_off() {
    let limit =
        |text: &str| load(None, &[("WRISTBAND_RATE_LIMITS_TOKEN_PER_IP", text)]).map(|c| c.rate_limits.token_per_ip);
    assert_eq!(limit("10/30s").unwrap(), Some(RateLimit { burst: 10, period_seconds: 30 }));
    assert_eq!(limit(" 5 / 15m ").unwrap(), Some(RateLimit { burst: 5, period_seconds: 900 }));
    assert_eq!(limit("off").unwrap(), None);
    for bad in ["", "10", "0/1m", "ten/1m", "10/1w", "-1/1m"] {
        let message = limit(bad).expect_err(bad).to_string();
        assert!(message.contains("rate_limits.token_per_ip"), "{bad}: {message}");
    }
}

#[test]
fn trusted_proxies_are_addresses_or_ranges() {
    let from_env = load(None, &[("WRISTBAND_TRUSTED_PROXIES", "10.0.0.7, 10.1.0.0/16,2001:db8::/32")]).unwrap();
    let expected: Vec<IpNet> =
        ["10.0.0.7/32", "10.1.0.0/16", "2001:db8::/32"].iter().map(|n| n.parse().unwrap()).collect();
    assert_eq!(from_env.trusted_proxies, expected);
    let from_file = load(Some(r#"trusted_proxies = ["192.0.2.1"]"#), &[]).unwrap();
    assert_eq!(from_file.trusted_proxies, vec!["192.0.2.1/32".parse::<IpNet>().unwrap()]);
    assert!(load(None, &[]).unwrap().trusted_proxies.is_empty(), "nobody is trusted by default");
    let message = error_text(None, &[("WRISTBAND_TRUSTED_PROXIES", "10.0.0.0/33")]);
    assert!(message.contains("trusted_proxies") && message.contains("10.0.0.0/33"), "{message}");
}

#[test]
fn metrics_are_served_only_where_configured() {
    assert_eq!(load(None, &[]).unwrap().metrics_bind, None);
    let bound = load(None, &[("WRISTBAND_METRICS_BIND", "0.0.0.0:9464")]).unwrap();
    assert_eq!(bound.metrics_bind, Some("0.0.0.0:9464".parse().unwrap()));
    assert_eq!(load(None, &[("WRISTBAND_METRICS_BIND", "off")]).unwrap().metrics_bind, None);
    let message = error_text(None, &[("WRISTBAND_METRICS_BIND", "9464")]);
    assert!(message.contains("metrics_bind"), "{message}");
}

#[test]
fn idle_sessions_and_audit_retention_are_set_or_turned_off() {
    let defaults = load(None, &[]).unwrap();
    assert_eq!((defaults.sessions.idle_seconds, defaults.audit.retention_days), (28_800, 90));
    let off = load(None, &[("WRISTBAND_SESSIONS_IDLE_SECONDS", "0"), ("WRISTBAND_AUDIT_RETENTION_DAYS", "0")]).unwrap();
    assert_eq!((off.sessions.idle_seconds, off.audit.retention_days), (0, 0));
    let message = error_text(None, &[("WRISTBAND_SESSIONS_IDLE_SECONDS", "30")]);
    assert!(message.contains("sessions.idle_seconds") && message.contains("at least 60"), "{message}");
    let message = error_text(Some("[audit]\nretention_days = -1\n"), &[]);
    assert!(message.contains("audit.retention_days"), "{message}");
}

#[test]
fn passkey_settings_name_authenticator_models_by_aaguid() {
    let config = load(
        Some("[passkeys]\npasswordless = false\nallowed_aaguids = [\"cb69481e-8ff7-4039-93ec-0a2729a154a8\"]"),
        &[("WRISTBAND_ADMIN_REQUIRE_PHISHING_RESISTANT", "true")],
    )
    .unwrap();
    assert!(!config.passkeys.passwordless && config.admin.require_phishing_resistant);
    assert_eq!(
        config.passkeys.allowed_aaguids,
        vec![uuid::Uuid::parse_str("cb69481e-8ff7-4039-93ec-0a2729a154a8").unwrap()]
    );
    let message = error_text(None, &[("WRISTBAND_PASSKEYS_ALLOWED_AAGUIDS", "yubikey-5")]);
    assert!(message.contains("passkeys.allowed_aaguids") && message.contains("yubikey-5"), "{message}");
}
