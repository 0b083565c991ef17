//! `Authenticated`: an actix-web extractor that verifies the request's bearer token with
//! the `Verifier` in the app data, and answers RFC 6750 §3 errors itself, each naming the
//! service's RFC 9728 metadata in `resource_metadata`.
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, web};
//! use wristband_verifier::{AuthError, Authenticated, Verifier};
//!
//! async fn orders(auth: Authenticated) -> Result<HttpResponse, AuthError> {
//!     auth.require_scope("orders:read")?;
//!     Ok(HttpResponse::Ok().body(format!("orders of {}", auth.subject)))
//! }
//!
//! // RFC 9728: how a client that knows only this service's URL finds where to get a token.
//! async fn metadata(verifier: web::Data<Verifier>) -> HttpResponse {
//!     HttpResponse::Ok().json(verifier.resource_metadata(&["orders:read"]))
//! }
//!
//! # fn app(verifier: Verifier) {
//! App::new()
//!     .app_data(web::Data::new(verifier))
//!     .route("/.well-known/oauth-protected-resource", web::get().to(metadata))
//!     .route("/orders", web::get().to(orders));
//! # }
//! ```

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};

use crate::{AccessToken, Verifier, VerifyError};

/// The verified access token of the request.
#[derive(Debug, Clone)]
pub struct Authenticated {
    token: AccessToken,
    /// Where the service's RFC 9728 metadata is, for the refusals this request may get.
    resource_metadata: String,
}

impl Deref for Authenticated {
    type Target = AccessToken;

    fn deref(&self) -> &AccessToken {
        &self.token
    }
}

impl Authenticated {
    /// `Ok` when the token was granted `scope`; else 403 `insufficient_scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), AuthError> {
        match self.has_scope(scope) {
            true => Ok(()),
            false => Err(self.refuse(Refusal::InsufficientScope(scope.to_owned()))),
        }
    }

    /// `Ok` when the token carries `role`; else 403.
    pub fn require_role(&self, role: &str) -> Result<(), AuthError> {
        match self.has_role(role) {
            true => Ok(()),
            false => Err(self.refuse(Refusal::MissingRole(role.to_owned()))),
        }
    }

    fn refuse(&self, refusal: Refusal) -> AuthError {
        AuthError { refusal, resource_metadata: Some(self.resource_metadata.clone()) }
    }
}

/// Why a request was refused. The response tells the client what RFC 6750 lets it know,
/// and where the service's metadata is (RFC 9728 §5.1); the precise reason is in the
/// `Display` text, for the service's log.
#[derive(Debug, thiserror::Error)]
#[error("{refusal}")]
pub struct AuthError {
    pub refusal: Refusal,
    resource_metadata: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// 401 with a bare `Bearer` challenge (RFC 6750 §3.1: no error code when the request
    /// carried no credentials).
    #[error("no bearer token")]
    MissingToken,
    /// 401 `invalid_token`.
    #[error("invalid token: {0}")]
    InvalidToken(VerifyError),
    /// 403 `insufficient_scope`, naming the scope needed.
    #[error("the token lacks the scope {0}")]
    InsufficientScope(String),
    /// 403 `insufficient_scope`: roles are granted through the `roles` scope.
    #[error("the token lacks the role {0}")]
    MissingRole(String),
    /// 500: the app has no `web::Data<Verifier>`.
    #[error("no Verifier in the app data")]
    NotConfigured,
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self.refusal {
            Refusal::MissingToken | Refusal::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Refusal::InsufficientScope(_) | Refusal::MissingRole(_) => StatusCode::FORBIDDEN,
            Refusal::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (mut params, error, description) = match &self.refusal {
            Refusal::MissingToken => (vec![], "invalid_request", "A bearer token is required."),
            Refusal::InvalidToken(_) => (
                vec![r#"error="invalid_token""#.to_owned()],
                "invalid_token",
                "The access token is invalid or expired.",
            ),
            Refusal::InsufficientScope(scope) => (
                vec![r#"error="insufficient_scope""#.to_owned(), format!(r#"scope="{scope}""#)],
                "insufficient_scope",
                "The access token lacks the scope this request needs.",
            ),
            Refusal::MissingRole(_) => (
                vec![r#"error="insufficient_scope""#.to_owned()],
                "insufficient_scope",
                "The access token lacks the role this request needs.",
            ),
            Refusal::NotConfigured => return HttpResponse::InternalServerError().finish(),
        };
        if let Some(url) = &self.resource_metadata {
            params.push(format!(r#"resource_metadata="{url}""#));
        }
        let challenge = if params.is_empty() { "Bearer".to_owned() } else { format!("Bearer {}", params.join(", ")) };
        HttpResponse::build(self.status_code())
            .insert_header((header::WWW_AUTHENTICATE, challenge))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "error": error, "error_description": description }))
    }
}

impl FromRequest for Authenticated {
    type Error = AuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AuthError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = request.app_data::<web::Data<Verifier>>().map(|data| data.get_ref().clone());
        let token = bearer_token(request);
        Box::pin(async move {
            let Some(verifier) = verifier else {
                return Err(AuthError { refusal: Refusal::NotConfigured, resource_metadata: None });
            };
            let resource_metadata = verifier.resource_metadata_url();
            let refuse = |refusal| AuthError { refusal, resource_metadata: Some(resource_metadata.clone()) };
            let token = token.ok_or_else(|| refuse(Refusal::MissingToken))?;
            match verifier.verify(&token).await {
                Ok(token) => Ok(Authenticated { token, resource_metadata }),
                Err(err) => Err(refuse(Refusal::InvalidToken(err))),
            }
        })
    }
}

/// The token of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110
/// §11.1).
fn bearer_token(request: &HttpRequest) -> Option<String> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("Bearer") && !token.is_empty()).then(|| token.to_owned())
}
