//! `Authenticated`: an actix-web extractor that verifies the request's bearer token with
//! the `Verifier` in the app data, and answers RFC 6750 §3 errors itself.
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
//! # fn app(verifier: Verifier) {
//! App::new().app_data(web::Data::new(verifier)).route("/orders", web::get().to(orders));
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
pub struct Authenticated(pub AccessToken);

impl Deref for Authenticated {
    type Target = AccessToken;

    fn deref(&self) -> &AccessToken {
        &self.0
    }
}

impl Authenticated {
    /// `Ok` when the token was granted `scope`; else 403 `insufficient_scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), AuthError> {
        if self.has_scope(scope) { Ok(()) } else { Err(AuthError::InsufficientScope(scope.to_owned())) }
    }

    /// `Ok` when the token carries `role`; else 403.
    pub fn require_role(&self, role: &str) -> Result<(), AuthError> {
        if self.has_role(role) { Ok(()) } else { Err(AuthError::MissingRole(role.to_owned())) }
    }
}

/// Why a request was refused. The response tells the client what RFC 6750 lets it know;
/// the precise reason is in the `Display` text, for the service's log.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
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
        match self {
            Self::MissingToken | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) | Self::MissingRole(_) => StatusCode::FORBIDDEN,
            Self::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (challenge, error, description) = match self {
            Self::MissingToken => ("Bearer".to_owned(), "invalid_request", "A bearer token is required."),
            Self::InvalidToken(_) => (
                r#"Bearer error="invalid_token""#.to_owned(),
                "invalid_token",
                "The access token is invalid or expired.",
            ),
            Self::InsufficientScope(scope) => (
                format!(r#"Bearer error="insufficient_scope", scope="{scope}""#),
                "insufficient_scope",
                "The access token lacks the scope this request needs.",
            ),
            Self::MissingRole(_) => (
                r#"Bearer error="insufficient_scope""#.to_owned(),
                "insufficient_scope",
                "The access token lacks the role this request needs.",
            ),
            Self::NotConfigured => {
                return HttpResponse::InternalServerError().finish();
            }
        };
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
            let verifier = verifier.ok_or(AuthError::NotConfigured)?;
            let token = token.ok_or(AuthError::MissingToken)?;
            verifier.verify(&token).await.map(Authenticated).map_err(AuthError::InvalidToken)
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
