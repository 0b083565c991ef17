//! The addresses in the configuration: the issuer URL, the metrics listener, and the
//! proxies whose forwarding headers are believed.

use std::net::{IpAddr, SocketAddr};

use url::Url;

use super::{ConfigError, IpNet};

pub(super) fn parse_issuer(text: &str, allow_insecure: bool) -> Result<String, ConfigError> {
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

/// Where `/metrics` is served: nowhere unless set (`off` or empty: nowhere).
pub(super) fn parse_metrics_bind(text: Option<String>) -> Result<Option<SocketAddr>, ConfigError> {
    match text.as_deref().map(str::trim) {
        None | Some("" | "off") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            ConfigError::invalid("metrics_bind", format!("`{text}` is not an IP address and port, like 127.0.0.1:9464"))
        }),
    }
}

/// Addresses (`10.0.0.7`) and ranges (`10.0.0.0/8`) whose `X-Forwarded-For` is believed.
pub(super) fn parse_trusted_proxies(entries: Vec<String>) -> Result<Vec<IpNet>, ConfigError> {
    entries
        .iter()
        .map(|entry| {
            let entry = entry.trim();
            entry.parse::<IpNet>().or_else(|_| entry.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
                ConfigError::invalid(
                    "trusted_proxies",
                    format!("`{entry}` is not an IP address or a range like 10.0.0.0/8"),
                )
            })
        })
        .collect()
}
