//! Client authentication (RFC 6749 §2.3, OIDC Core §9): `client_secret_basic`,
//! `client_secret_post`, or `none` for public clients. Secrets are compared as SHA-256
//! digests in constant time.

use super::super::Context;
use super::super::error::{ErrorCode, FlowError, oauth};
use crate::model::{Client, ClientId};
use crate::security::random::{constant_time_eq, sha256_hex};
use crate::security::secret::SecretString;

/// How the client presented itself, as extracted from the request.
#[derive(Debug, Clone)]
pub enum ClientAuthentication {
    /// `Authorization: Basic` (already form-decoded).
    Basic { client_id: String, secret: SecretString },
    /// `client_id` and `client_secret` in the form body.
    Post { client_id: String, secret: SecretString },
    /// Only `client_id`: a public client.
    None { client_id: String },
    /// No client identification at all.
    Missing,
}

const INVALID_CLIENT: &str = "Client authentication failed.";

pub async fn authenticate_client(ctx: &Context<'_>, auth: &ClientAuthentication) -> Result<Client, FlowError> {
    let (client_id, secret) = match auth {
        ClientAuthentication::Basic { client_id, secret } | ClientAuthentication::Post { client_id, secret } => {
            (client_id, Some(secret))
        }
        ClientAuthentication::None { client_id } => (client_id, None),
        ClientAuthentication::Missing => {
            return oauth(ErrorCode::InvalidClient, INVALID_CLIENT, "no client identification");
        }
    };
    // Digested once: the cached record and, on a mismatch, the stored one are compared.
    let digest = secret.map(|secret| sha256_hex(secret.expose()));
    let matches = |client: &Client| match (&client.secret_hash, &digest) {
        (Some(stored), Some(digest)) => constant_time_eq(stored, digest),
        _ => false,
    };
    let client = match ClientId::parse(client_id) {
        Ok(id) => match ctx.store.find_client(&id).await? {
            // The record may be cached from before the CLI or another instance rotated
            // the secret: a new secret must work at once, so a mismatch is checked
            // against the stored record before it is refused.
            Some(cached) if digest.is_some() && !matches(&cached) => ctx.store.reload_client(&id).await?,
            found => found,
        },
        Err(_) => None,
    };
    let Some(client) = client else { return oauth(ErrorCode::InvalidClient, INVALID_CLIENT, "unknown client") };
    match (&client.secret_hash, secret) {
        (Some(_), Some(_)) if matches(&client) => Ok(client),
        (Some(_), Some(_)) => {
            oauth(ErrorCode::InvalidClient, INVALID_CLIENT, format!("wrong secret for {}", client.id))
        }
        (Some(_), None) => {
            oauth(ErrorCode::InvalidClient, INVALID_CLIENT, format!("no secret from confidential {}", client.id))
        }
        (None, Some(_)) => oauth(ErrorCode::InvalidClient, INVALID_CLIENT, format!("secret from public {}", client.id)),
        (None, None) => Ok(client),
    }
}
