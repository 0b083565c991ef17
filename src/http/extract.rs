//! Reading requests: form bodies as parameter pairs, client authentication (RFC 6749
//! §2.3.1), bearer tokens (RFC 6750 §2.1), cookies, and where a request came from.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;

use super::AppState;
use super::client_ip::client_ip;
use super::error::HttpError;
use crate::flows::error::{ErrorCode, FlowError, OAuthError, oauth};
use crate::flows::session::RequestMeta;
use crate::flows::token::ClientAuthentication;
use crate::security::secret::SecretString;

pub const SESSION_COOKIE: &str = "__Host-wristband_session";
pub const CSRF_COOKIE: &str = "__Host-wristband_csrf";

/// The longest name or value of one form field or query parameter, decoded. Long enough
/// for any ID token hint or `state`; short enough that no field costs real work.
pub const MAX_FIELD_BYTES: usize = 8 * 1024;
/// The most fields one form or query string may have.
pub const MAX_FIELDS: usize = 64;

/// A form or query string with a field or a number of fields past the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormTooLarge;

impl From<FormTooLarge> for HttpError {
    fn from(_: FormTooLarge) -> Self {
        HttpError::field_too_long()
    }
}

impl From<FormTooLarge> for FlowError {
    fn from(_: FormTooLarge) -> Self {
        FlowError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, "A parameter is too long.", "form too large"))
    }
}

/// An `application/x-www-form-urlencoded` body (or query string) as ordered pairs.
pub fn pairs(encoded: &[u8]) -> Result<Vec<(String, String)>, FormTooLarge> {
    let mut pairs = Vec::new();
    for (name, value) in url::form_urlencoded::parse(encoded) {
        if pairs.len() == MAX_FIELDS || name.len() > MAX_FIELD_BYTES || value.len() > MAX_FIELD_BYTES {
            return Err(FormTooLarge);
        }
        pairs.push((name.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

/// The query string of a request, as ordered pairs.
pub fn query(request: &HttpRequest) -> Result<Vec<(String, String)>, FormTooLarge> {
    pairs(request.query_string().as_bytes())
}

/// A form or query string that does not fit the fields its handler reads: one of them
/// sent more than once (which copy would count?). Nothing is done with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedForm(String);

impl From<MalformedForm> for HttpError {
    fn from(MalformedForm(reason): MalformedForm) -> Self {
        tracing::info!(%reason, "malformed form");
        HttpError::bad_page(
            "This form could not be read",
            "It was not sent the way wristband's page sends it, so nothing was done. Go back and try again.",
        )
    }
}

impl From<MalformedForm> for FlowError {
    fn from(MalformedForm(reason): MalformedForm) -> Self {
        FlowError::OAuth(OAuthError::new(ErrorCode::InvalidRequest, "A parameter was sent more than once.", reason))
    }
}

/// The fields a handler reads, as the struct `T` that names them: each at most once
/// (RFC 6749 §3.1 asks the same of every protocol parameter), missing ones as their
/// default (`#[serde(default)]` on `T`), fields `T` does not name ignored. `T`'s fields
/// are strings: what they mean is the flow's to judge.
pub fn read_form<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, MalformedForm> {
    let fields = pairs.iter().map(|(name, value)| (name.as_str(), value.as_str()));
    T::deserialize(MapDeserializer::<_, serde::de::value::Error>::new(fields)).map_err(|e| MalformedForm(e.to_string()))
}

/// The form of a machine endpoint's POST and how its client authenticated.
pub fn client_form(
    request: &HttpRequest,
    body: &[u8],
) -> Result<(ClientAuthentication, Vec<(String, String)>), FlowError> {
    require_form(request)?;
    let form = pairs(body)?;
    Ok((client_authentication(request, &form)?, form))
}

/// Requires a form content type on a machine endpoint's POST (RFC 6749 §3.2).
fn require_form(request: &HttpRequest) -> Result<(), FlowError> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(())
    } else {
        oauth(ErrorCode::InvalidRequest, "The body must be application/x-www-form-urlencoded.", "wrong content type")
    }
}

/// The `token` of a revocation (RFC 7009 §2.1) or introspection (RFC 7662 §2.1) request.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenField {
    pub token: String,
}

/// The client's credentials in a form body (RFC 6749 §2.3.1).
#[derive(Deserialize, Default)]
#[serde(default)]
struct ClientFields {
    client_id: String,
    client_secret: String,
}

/// How the client authenticated: the Authorization header or the form, never both.
fn client_authentication(request: &HttpRequest, form: &[(String, String)]) -> Result<ClientAuthentication, FlowError> {
    let credentials: ClientFields = read_form(form)?;
    let form_id = Some(credentials.client_id.as_str()).filter(|v| !v.is_empty());
    let form_secret = Some(credentials.client_secret.as_str()).filter(|v| !v.is_empty());
    let authorization = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(credentials) = authorization.and_then(|v| strip_scheme(v, "Basic")) {
        if form_secret.is_some() {
            return oauth(ErrorCode::InvalidRequest, "Use one client authentication method.", "basic and post");
        }
        let Some((client_id, secret)) = decode_basic(credentials) else {
            return oauth(ErrorCode::InvalidClient, "Client authentication failed.", "malformed basic credentials");
        };
        if form_id.is_some_and(|id| id != client_id) {
            return oauth(ErrorCode::InvalidClient, "Client authentication failed.", "client_id differs from basic");
        }
        return Ok(ClientAuthentication::Basic { client_id, secret: SecretString::new(secret) });
    }
    Ok(match (form_id, form_secret) {
        (Some(id), Some(secret)) => {
            ClientAuthentication::Post { client_id: id.to_owned(), secret: SecretString::new(secret) }
        }
        (Some(id), None) => ClientAuthentication::None { client_id: id.to_owned() },
        (None, _) => ClientAuthentication::Missing,
    })
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn decode_basic(credentials: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(credentials.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape =
        |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(id)?, unescape(secret)?)).filter(|(id, _)| !id.is_empty())
}

/// The token of `Authorization: Bearer <token>`; a malformed header counts as none.
pub fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    strip_scheme(value, "Bearer").map(str::trim).filter(|t| !t.is_empty())
}

/// The auth scheme is case-insensitive (RFC 9110 §11.1).
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

pub fn cookie(request: &HttpRequest, name: &str) -> Option<String> {
    request.cookie(name).map(|c| c.value().to_owned())
}

/// The client's address and user agent, for rate limits and audit records.
pub fn request_meta(request: &HttpRequest) -> RequestMeta {
    let trusted = request.app_data::<web::Data<AppState>>().map(|state| state.config.trusted_proxies.as_slice());
    RequestMeta {
        ip: client_ip(request, trusted.unwrap_or_default()).map(|ip| ip.to_string()),
        user_agent: request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let encoded = STANDARD.encode("my%20client:p%3Ass+word");
        assert_eq!(decode_basic(&encoded), Some(("my client".into(), "p:ss word".into())));
        assert_eq!(decode_basic("not base64!"), None);
        assert_eq!(decode_basic(&STANDARD.encode("no-colon")), None);
    }

    #[test]
    fn forms_past_the_limits_are_refused_whole() {
        assert_eq!(
            pairs(b"a=1&b=%20&a=2").unwrap(),
            [("a", "1"), ("b", " "), ("a", "2")].map(|(n, v)| (n.into(), v.into()))
        );
        let long = format!("state={}", "x".repeat(MAX_FIELD_BYTES + 1));
        assert_eq!(pairs(long.as_bytes()), Err(FormTooLarge));
        let many = vec!["a=1"; MAX_FIELDS + 1].join("&");
        assert_eq!(pairs(many.as_bytes()), Err(FormTooLarge));
        assert!(pairs(&[0xff, b'=', 0xfe]).is_ok(), "invalid UTF-8 is replaced, never a panic");
    }

    #[derive(Deserialize, Default, Debug, PartialEq)]
    #[serde(default)]
    struct Login {
        username: String,
        password: String,
    }

    #[test]
    fn a_form_reads_the_fields_it_names_once_each_and_ignores_the_rest() {
        let read = |body: &[u8]| read_form::<Login>(&pairs(body).unwrap());
        assert_eq!(
            read(b"username=alice&csrf_token=x&password=pw&csrf_token=y"),
            Ok(Login { username: "alice".into(), password: "pw".into() })
        );
        assert_eq!(read(b"username=alice"), Ok(Login { username: "alice".into(), password: String::new() }));
        assert!(read(b"username=alice&username=admin&password=pw").is_err(), "which one would count?");
    }

    #[test]
    fn schemes_are_case_insensitive() {
        assert_eq!(strip_scheme("bearer abc", "Bearer"), Some("abc"));
        assert_eq!(strip_scheme("Basic abc", "Bearer"), None);
    }
}
