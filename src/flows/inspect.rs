//! The token inspector: every check a verifier makes, each with its verdict in plain
//! words, for a JWT pasted into the admin UI or given to `wristband token inspect`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::clock::{UnixTime, format_rfc3339};
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::keys::{MAX_TOKEN_BYTES, RS256, signature_matches};
use crate::model::{ApiIdentifier, ClientId, SigningKeyRecord};
use crate::store::Store;
use crate::tokens::LEEWAY_SECONDS;

/// One check and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// The decoded header and claims, when the token has that much structure.
    pub header: Option<Value>,
    pub claims: Option<Value>,
    pub checks: Vec<Check>,
}

impl Inspection {
    pub fn all_passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

fn check(name: &'static str, passed: bool, detail: impl Into<String>) -> Check {
    Check { name, passed, detail: detail.into() }
}

fn decode_part(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.as_bytes()).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok().filter(Value::is_object)
}

/// Inspects `token` against the stored keys, the issuer and the clock.
pub async fn inspect_token(ctx: &Context<'_>, token: &str) -> Result<Inspection, FlowError> {
    let (store, issuer, now) = (ctx.store, ctx.config.issuer.as_str(), ctx.clock.now());
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    let decoded = match parts.as_slice() {
        [header, claims, _signature] if token.len() <= MAX_TOKEN_BYTES => decode_part(header).zip(decode_part(claims)),
        _ => None,
    };
    let Some((header, claims)) = decoded else {
        let detail = format!(
            "not a compact JWS: three base64url parts (header.claims.signature), the first two JSON objects, at most {MAX_TOKEN_BYTES} bytes"
        );
        return Ok(Inspection { header: None, claims: None, checks: vec![check("structure", false, detail)] });
    };
    let keys = store.list_signing_keys().await?;
    let mut checks = vec![check("structure", true, "three parts; header and claims are base64url JSON objects")];
    checks.push(algorithm(&header));
    let key = header["kid"].as_str().and_then(|kid| keys.iter().find(|k| k.kid == kid));
    checks.push(kid(&header, key));
    checks.push(match key {
        Some(key) if signature_matches(token, &key.public_jwk) => {
            check("signature", true, format!("verifies with the public key {}", key.kid))
        }
        Some(key) => check("signature", false, format!("does not verify with the public key {}", key.kid)),
        None => check("signature", false, "no stored key to verify it with"),
    });
    checks.push(match claims["iss"].as_str() {
        Some(iss) if iss == issuer => check("iss", true, format!("{iss}, this provider")),
        Some(iss) => check("iss", false, format!("{iss} is not this provider ({issuer})")),
        None => check("iss", false, "missing"),
    });
    checks.push(audience(store, &claims).await?);
    checks.extend(times(&claims, now));
    checks.push(match claims["jti"].as_str() {
        Some(jti) if store.access_token_revoked(jti).await? => {
            check("revocation", false, format!("jti {jti} was revoked"))
        }
        Some(jti) => check("revocation", true, format!("jti {jti} is not revoked")),
        None => check("revocation", true, "no jti: an ID token, which cannot be revoked by itself"),
    });
    Ok(Inspection { header: Some(header), claims: Some(claims), checks })
}

fn algorithm(header: &Value) -> Check {
    match header["alg"].as_str() {
        Some(alg) if alg == RS256 => check("algorithm", true, "RS256, the only algorithm wristband signs with"),
        Some(alg) => check("algorithm", false, format!("{alg}: only RS256 is accepted (never none or HS256)")),
        None => check("algorithm", false, "no alg in the header"),
    }
}

fn kid(header: &Value, key: Option<&SigningKeyRecord>) -> Check {
    match (header["kid"].as_str(), key) {
        (None, _) => check("kid", false, "no kid in the header: verifiers cannot pick a key"),
        (Some(kid), None) => check("kid", false, format!("{kid} is not a key of this provider")),
        (Some(kid), Some(key)) if key.state.is_published() => {
            check("kid", true, format!("{kid} is a {} key, published in the JWKS", key.state))
        }
        (Some(kid), Some(key)) => {
            check("kid", false, format!("{kid} is {}: no longer published, its tokens are refused", key.state))
        }
    }
}

async fn audience(store: &Store, claims: &Value) -> Result<Check, FlowError> {
    let audiences: Vec<&str> = match &claims["aud"] {
        Value::String(aud) => vec![aud.as_str()],
        Value::Array(values) => values.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(check("aud", false, "missing")),
    };
    if audiences.is_empty() {
        return Ok(check("aud", false, "empty"));
    }
    let mut named = Vec::new();
    for aud in &audiences {
        let api = match ApiIdentifier::parse(aud) {
            Ok(identifier) => store.find_api(&identifier).await?,
            Err(_) => None,
        };
        let client = match (&api, ClientId::parse(aud)) {
            (None, Ok(id)) => store.find_client(&id).await?,
            _ => None,
        };
        match (api, client) {
            (Some(api), _) if api.name == *aud => named.push(format!("the API {aud}")),
            (Some(api), _) => named.push(format!("the API {} ({aud})", api.name)),
            (None, Some(client)) => named.push(format!("the client {}", client.id)),
            (None, None) => return Ok(check("aud", false, format!("{aud} is neither a registered API nor a client"))),
        }
    }
    Ok(check("aud", true, named.join(", ")))
}

fn times(claims: &Value, now: UnixTime) -> Vec<Check> {
    let at = |t: UnixTime| format_rfc3339(t);
    let mut checks = vec![match claims["exp"].as_i64() {
        Some(exp) if exp + LEEWAY_SECONDS > now => {
            check("exp", true, format!("expires {} (with {LEEWAY_SECONDS} s leeway)", at(exp)))
        }
        Some(exp) => check("exp", false, format!("expired {}", at(exp))),
        None => check("exp", false, "missing"),
    }];
    checks.push(match claims["iat"].as_i64() {
        Some(iat) if iat - LEEWAY_SECONDS <= now => check("iat", true, format!("issued {}", at(iat))),
        Some(iat) => check("iat", false, format!("issued in the future, {}", at(iat))),
        None => check("iat", false, "missing"),
    });
    if let Some(nbf) = claims.get("nbf") {
        checks.push(match nbf.as_i64() {
            Some(nbf) if nbf - LEEWAY_SECONDS <= now => check("nbf", true, format!("valid since {}", at(nbf))),
            Some(nbf) => check("nbf", false, format!("not valid before {}", at(nbf))),
            None => check("nbf", false, "not a number"),
        });
    }
    checks
}
