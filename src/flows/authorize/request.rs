//! Validating an authorization request (RFC 6749 §4.1.1 and §4.1.2.1, OIDC Core
//! §3.1.2.1-2, RFC 7636 §4.3, RFC 9700 §2.1.1). Until the client and its redirect URI are
//! verified, an error is a page and never a redirect; after that, errors go back to the
//! client.

use std::collections::HashMap;

use crate::flows::error::{ErrorCode, OAuthError};
use crate::flows::interaction::UntrustedRequest;
use crate::flows::pkce;
use crate::flows::resource::requested_resources;
use crate::model::{AssuranceLevel, AuthorizationRequest, Client, ClientId, Prompt, RedirectUri, Scope};

const MAX_STATE_BYTES: usize = 2048;
const MAX_NONCE_BYTES: usize = 512;
const MAX_LOGIN_HINT_BYTES: usize = 256;

/// Request parameters as received, from the query (GET) or the form (POST).
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams(HashMap<String, Vec<String>>);

impl AuthorizeParams {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in pairs {
            map.entry(name).or_default().push(value);
        }
        Self(map)
    }

    /// Every non-empty value of a parameter that may repeat (`resource`, RFC 8707 §2).
    fn get_all(&self, name: &'static str) -> Vec<&str> {
        self.0.get(name).into_iter().flatten().map(String::as_str).filter(|v| !v.is_empty()).collect()
    }

    /// A parameter sent at most once (RFC 6749 §3.1); an empty value counts as absent.
    fn get(&self, name: &'static str) -> Result<Option<&str>, &'static str> {
        match self.0.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([value]) => Ok(Some(value.as_str()).filter(|v| !v.is_empty())),
            Some(_) => Err(name),
        }
    }
}

/// Checks `client_id` and `redirect_uri`: the request may only redirect once both are
/// known and the redirect URI is exactly one the client registered.
pub fn trusted_redirect(params: &AuthorizeParams, client: Option<&Client>) -> Result<RedirectUri, UntrustedRequest> {
    let client_id = params.get("client_id").map_err(|_| UntrustedRequest::RepeatedParameter)?;
    client_id.ok_or(UntrustedRequest::MissingClientId)?;
    let client = client.ok_or(UntrustedRequest::UnknownClient)?;
    let redirect_uri = params
        .get("redirect_uri")
        .map_err(|_| UntrustedRequest::RepeatedParameter)?
        .ok_or(UntrustedRequest::MissingRedirectUri)?;
    if let Some(registered) = client.redirect_uris.iter().find(|registered| registered.as_str() == redirect_uri) {
        return Ok(registered.clone());
    }
    // RFC 8252 §7.3: a native (public) client's loopback IP redirect, on any port. The
    // code is then bound to the URI as requested, which the token request must repeat.
    let loopback = client.is_public() && client.redirect_uris.iter().any(|r| r.matches_with_any_port(redirect_uri));
    match loopback.then(|| RedirectUri::parse(redirect_uri)) {
        Some(Ok(requested)) => Ok(requested),
        _ => Err(UntrustedRequest::UnregisteredRedirectUri),
    }
}

/// The `client_id` parameter, to look the client up with (`None` when absent or malformed).
pub fn client_id(params: &AuthorizeParams) -> Option<ClientId> {
    params.get("client_id").ok().flatten().and_then(|id| ClientId::parse(id).ok())
}

/// The `state` to echo in an error response, when it was sent once.
pub fn state(params: &AuthorizeParams) -> Option<String> {
    params.get("state").ok().flatten().filter(|s| s.len() <= MAX_STATE_BYTES).map(str::to_owned)
}

/// Validates everything but the client and redirect URI (already trusted).
pub fn validate(
    params: &AuthorizeParams,
    client: &Client,
    redirect_uri: RedirectUri,
) -> Result<AuthorizationRequest, OAuthError> {
    let get = |name| {
        params.get(name).map_err(|name| {
            OAuthError::new(
                ErrorCode::InvalidRequest,
                "A parameter was sent more than once.",
                format!("repeated {name}"),
            )
        })
    };
    let invalid =
        |description: &'static str, reason: String| OAuthError::new(ErrorCode::InvalidRequest, description, reason);

    if !client.allows(crate::model::GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "The client may not use the authorization code flow.",
            format!("client {} lacks authorization_code", client.id),
        ));
    }
    match get("response_type")? {
        Some("code") => {}
        None => return Err(invalid("response_type is required.", "no response_type".into())),
        Some(other) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "Only response_type=code is supported.",
                format!("response_type {other}"),
            ));
        }
    }
    if get("request")?.is_some() {
        return Err(OAuthError::new(ErrorCode::RequestNotSupported, "Request objects are not supported.", "request"));
    }
    if get("request_uri")?.is_some() {
        return Err(OAuthError::new(ErrorCode::RequestUriNotSupported, "request_uri is not supported.", "request_uri"));
    }
    if get("response_mode")?.is_some_and(|mode| mode != "query") {
        return Err(invalid("Only response_mode=query is supported.", "response_mode".into()));
    }
    let scope = Scope::parse(get("scope")?.unwrap_or_default()).map_err(|e| {
        OAuthError::new(ErrorCode::InvalidScope, "The requested scope is invalid or unsupported.", e.to_string())
    })?;
    if scope.is_empty() {
        return Err(OAuthError::new(ErrorCode::InvalidScope, "A scope is required.", "empty scope"));
    }
    let code_challenge = pkce_challenge(get("code_challenge")?, get("code_challenge_method")?)?;
    let prompt = parse_prompt(get("prompt")?)?;
    let max_age = match get("max_age")? {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|age| (0..=315_360_000).contains(age))
                .ok_or_else(|| invalid("max_age must be a number of seconds.", format!("max_age {text}")))?,
        ),
    };
    let state = get("state")?.map(str::to_owned);
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_BYTES) {
        return Err(invalid("state is too long.", "state over 2048 bytes".into()));
    }
    let nonce = get("nonce")?.map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE_BYTES) {
        return Err(invalid("nonce is too long.", "nonce over 512 bytes".into()));
    }
    // OIDC Core §3.1.2.1: values in order of preference; unknown ones are ignored. The
    // weakest level named is the one insisted on: a client listing "phr 2fa" accepts 2fa.
    let requested_level = get("acr_values")?
        .and_then(|values| values.split(' ').filter_map(AssuranceLevel::from_acr).min())
        .unwrap_or(AssuranceLevel::OneFactor);
    let login_hint = get("login_hint")?.filter(|h| h.len() <= MAX_LOGIN_HINT_BYTES).map(str::to_owned);
    let resources = requested_resources(client, &params.get_all("resource"))?;
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri,
        scope,
        state,
        nonce,
        code_challenge: Some(code_challenge),
        prompt,
        max_age,
        login_hint,
        resources,
        requested_level,
    })
}

/// PKCE is required of every client, confidential ones too (RFC 9700 §2.1.1).
fn pkce_challenge(challenge: Option<&str>, method: Option<&str>) -> Result<String, OAuthError> {
    let invalid =
        |description: &'static str, reason: &str| OAuthError::new(ErrorCode::InvalidRequest, description, reason);
    match (challenge, method) {
        (Some(challenge), Some("S256")) if pkce::is_valid_challenge(challenge) => Ok(challenge.to_owned()),
        (Some(_), Some("S256")) => Err(invalid("code_challenge is not a valid S256 challenge.", "malformed challenge")),
        (Some(_), None | Some(_)) => Err(invalid("code_challenge_method must be S256.", "plain or unknown method")),
        (None, Some(_)) => Err(invalid("code_challenge is missing.", "method without challenge")),
        (None, None) => Err(invalid("PKCE with code_challenge_method=S256 is required.", "no code_challenge")),
    }
}

fn parse_prompt(prompt: Option<&str>) -> Result<Prompt, OAuthError> {
    let mut parsed = Prompt::default();
    for value in prompt.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
        match value {
            "none" => parsed.none = true,
            "login" => parsed.login = true,
            "consent" => parsed.consent = true,
            "create" => parsed.create = true,
            "select_account" => {}
            _ => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "prompt has an unsupported value.",
                    "prompt value",
                ));
            }
        }
    }
    if parsed.none && (parsed.login || parsed.consent || parsed.create) {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "prompt=none cannot be combined with other values.",
            "prompt none with others",
        ));
    }
    Ok(parsed)
}
