//! The UserInfo endpoint (OIDC Core §5.3): claims about the person, per granted scope.
//! Any active access token of a person with the `openid` scope is accepted, whatever API
//! it is for: userinfo is wristband's own endpoint, and the `openid` scope the person
//! granted is the permission it checks (the audience keeps tokens out of *other* APIs).

use serde_json::{Map, Value, json};

use super::Context;
use super::access::active_access_token;
use super::error::{ErrorCode, FlowError, oauth};

pub async fn userinfo(ctx: &Context<'_>, bearer: Option<&str>) -> Result<Map<String, Value>, FlowError> {
    let Some(token) = bearer else {
        return oauth(ErrorCode::InvalidToken, "An access token is required.", "no bearer token");
    };
    let Some(active) = active_access_token(ctx, token).await? else {
        return oauth(ErrorCode::InvalidToken, "The access token is invalid, expired or revoked.", "inactive token");
    };
    let Some(user) = active.user else {
        return oauth(
            ErrorCode::InvalidToken,
            "The access token does not belong to a person.",
            "client token at userinfo",
        );
    };
    let scope = active.claims.scope.unwrap_or_default();
    let granted = |name: &str| scope.split(' ').any(|s| s == name);
    if !granted("openid") {
        return oauth(ErrorCode::InsufficientScope, "The openid scope is required.", "no openid scope");
    }
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id.to_string()));
    if granted("profile") {
        claims.insert("preferred_username".into(), json!(user.username));
        if let Some(name) = &user.name {
            claims.insert("name".into(), json!(name));
        }
    }
    if granted("email")
        && let Some(email) = &user.email
    {
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    if granted("roles") {
        claims.insert("roles".into(), json!(user.roles));
    }
    Ok(claims)
}
