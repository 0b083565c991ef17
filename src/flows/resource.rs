//! Resource indicators (RFC 8707): which API a request, a grant and each access token are
//! for. A client may request only the APIs registered for it; a request that names none
//! gets the client's default API, or, without one, a token for the client itself.

use super::Context;
use super::error::{ErrorCode, FlowError, OAuthError};
use crate::model::{Api, ApiIdentifier, Client};

const NOT_FOR_THIS_CLIENT: &str = "The requested resource is not an API this client may use.";

fn invalid_target(reason: String) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidTarget, NOT_FOR_THIS_CLIENT, reason)
}

/// The APIs a request names (`resource`, RFC 8707 §2), each an API identifier registered
/// for `client`, in order and once each; none named: the client's default API, if any.
pub fn requested_resources(client: &Client, named: &[&str]) -> Result<Vec<ApiIdentifier>, OAuthError> {
    if named.is_empty() {
        return Ok(client.default_resource.iter().cloned().collect());
    }
    let mut resources: Vec<ApiIdentifier> = Vec::new();
    for value in named {
        let identifier = ApiIdentifier::parse(value).map_err(|e| {
            OAuthError::new(ErrorCode::InvalidTarget, "The resource must be an absolute URI.", e.to_string())
        })?;
        if !client.resources.contains(&identifier) {
            return Err(invalid_target(format!("resource {identifier} not registered for client {}", client.id)));
        }
        if !resources.contains(&identifier) {
            resources.push(identifier);
        }
    }
    Ok(resources)
}

/// The registered APIs of `identifiers`, in the same order; one that was removed since
/// the request named it is `invalid_target`.
pub async fn load_apis(ctx: &Context<'_>, identifiers: &[ApiIdentifier]) -> Result<Vec<Api>, FlowError> {
    let mut apis = Vec::with_capacity(identifiers.len());
    for identifier in identifiers {
        match ctx.store.find_api(identifier).await? {
            Some(api) => apis.push(api),
            None => return Err(invalid_target(format!("resource {identifier} is no longer registered")).into()),
        }
    }
    Ok(apis)
}

/// The API one access token of a grant is for (RFC 8707 §2.2): the one the token request
/// names, which the grant must cover; none named: the grant's first API; a grant without
/// APIs gives a token for the client itself.
pub async fn token_target(
    ctx: &Context<'_>,
    named: Option<&str>,
    granted: &[ApiIdentifier],
) -> Result<Option<Api>, FlowError> {
    let identifier = match named {
        None => match granted.first() {
            Some(first) => first.clone(),
            None => return Ok(None),
        },
        Some(value) => match ApiIdentifier::parse(value) {
            Ok(identifier) if granted.contains(&identifier) => identifier,
            _ => return Err(invalid_target(format!("resource {value} was not granted")).into()),
        },
    };
    Ok(load_apis(ctx, std::slice::from_ref(&identifier)).await?.pop())
}
