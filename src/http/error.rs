//! The one place where errors become HTTP responses.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde_json::json;

use crate::flows::error::{ErrorCode, FlowError, OAuthError};
use crate::security::rate_limit::Throttled;

/// An error on its way to the client, shaped by the kind of endpoint it came from.
pub enum HttpError {
    /// Token, introspection and revocation endpoints: RFC 6749 §5.2 JSON, `no-store`.
    /// `invalid_client` is 401 with `WWW-Authenticate: Basic`.
    Json(OAuthError),
    /// Bearer-protected endpoints: 401 or 403 with `WWW-Authenticate: Bearer` (RFC 6750 §3).
    Bearer(OAuthError),
    /// Browser pages: an HTML page that says what happened and what to do.
    Page { status: StatusCode, title: &'static str, message: Cow<'static, str> },
    /// A page that needs a signed-in person: 303 to the login page at `location`.
    SignIn { location: &'static str },
    /// Too many requests: 429 with `Retry-After`, as a page or as JSON.
    Throttled { html: bool, retry_after_seconds: i64 },
    /// The database cannot be reached: 503 with `Retry-After`; nothing was done, and the
    /// same request may succeed in a moment.
    Unavailable { html: bool, cause: Box<dyn std::error::Error + Send + Sync> },
    /// Anything unexpected: the cause goes to the log, the client gets a generic answer.
    Internal { html: bool, cause: Box<dyn std::error::Error + Send + Sync> },
}

/// How long a client is told to wait while the database is unreachable.
const UNAVAILABLE_RETRY_AFTER_SECONDS: i64 = 5;

impl HttpError {
    pub fn json(err: FlowError) -> Self {
        Self::from_flow(err, false, Self::Json)
    }

    pub fn bearer(err: FlowError) -> Self {
        Self::from_flow(err, false, Self::Bearer)
    }

    /// A flow's failure behind a page: a mistake is shown as what to fix; a protocol
    /// error as a generic page (its details are for the log).
    pub fn page(err: FlowError) -> Self {
        Self::from_flow(err, true, |_| Self::Page {
            status: StatusCode::BAD_REQUEST,
            title: "Something went wrong",
            message: "This request could not be completed. Go back to the application and try again.".into(),
        })
    }

    /// Each kind of flow error, answered as the endpoint answers: `protocol` shapes the
    /// protocol errors.
    fn from_flow(err: FlowError, html: bool, protocol: impl FnOnce(OAuthError) -> Self) -> Self {
        match err {
            FlowError::OAuth(oauth) => protocol(oauth),
            FlowError::Mistake(message) if html => {
                Self::Page { status: StatusCode::BAD_REQUEST, title: "Nothing was changed", message: message.into() }
            }
            FlowError::Mistake(message) => protocol(OAuthError::new(
                ErrorCode::InvalidRequest,
                "The request could not be completed as sent.",
                message,
            )),
            FlowError::Throttled(t) => Self::Throttled { html, retry_after_seconds: t.retry_after_seconds },
            FlowError::Unavailable(cause) => Self::Unavailable { html, cause },
            FlowError::Internal(cause) => Self::Internal { html, cause },
        }
    }

    /// An unexpected failure outside the flows (a page that would not render, a cookie
    /// that would not build) behind a page: logged, shown as the generic error page.
    pub fn internal_page(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal { html: true, cause: Box::new(err) }
    }

    pub fn bad_page(title: &'static str, message: &'static str) -> Self {
        Self::Page { status: StatusCode::BAD_REQUEST, title, message: message.into() }
    }

    /// A form posted from another site: nothing was done.
    pub fn cross_site() -> Self {
        Self::Page {
            status: StatusCode::FORBIDDEN,
            title: "This form was sent from another site",
            message: "For your safety nothing was done. Open wristband's page yourself and try again there.".into(),
        }
    }

    /// A form field or query parameter longer than wristband accepts: nothing was done.
    pub fn field_too_long() -> Self {
        Self::bad_page(
            "This request is too large",
            "A field is longer than wristband accepts, so nothing was done. Check what you typed and try again.",
        )
    }

    /// A form without a valid CSRF token: nothing was done.
    pub fn csrf() -> Self {
        Self::Page {
            status: StatusCode::FORBIDDEN,
            title: "This form has expired",
            message: "For your safety nothing was done. Go back to the application and start again.".into(),
        }
    }
}

/// A page that failed to render is an internal error, shown as the generic HTML page.
impl From<askama::Error> for HttpError {
    fn from(err: askama::Error) -> Self {
        Self::Internal { html: true, cause: Box::new(err) }
    }
}

/// The error page template.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// Renders an error page with the headers every HTML page carries.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let body = ErrorPage { title, message }.render().unwrap_or_else(|_| message.to_owned());
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

impl fmt::Debug for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(e) | Self::Bearer(e) => write!(f, "{e}"),
            Self::Page { title, .. } => write!(f, "page: {title}"),
            Self::SignIn { location } => write!(f, "sign in first at {location}"),
            Self::Throttled { retry_after_seconds, .. } => write!(f, "throttled for {retry_after_seconds} s"),
            Self::Unavailable { cause, .. } | Self::Internal { cause, .. } => {
                write!(f, "internal error: {cause}")?;
                let mut source = cause.source();
                while let Some(inner) = source {
                    write!(f, "\n  caused by: {inner}")?;
                    source = inner.source();
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Json(e) if e.code == ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::Json(_) => StatusCode::BAD_REQUEST,
            Self::Bearer(e) if e.code == ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            Self::Bearer(e) if e.code == ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::Bearer(_) => StatusCode::UNAUTHORIZED,
            Self::Page { status, .. } => *status,
            Self::SignIn { .. } => StatusCode::SEE_OTHER,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::Json(e) => {
                tracing::info!(error = %e, "request refused");
                let mut response = HttpResponse::build(status);
                response.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
                if e.code == ErrorCode::InvalidClient {
                    response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="wristband""#));
                }
                response.json(json!({ "error": e.code.as_str(), "error_description": e.description }))
            }
            Self::Bearer(e) => {
                tracing::info!(error = %e, "bearer token refused");
                let challenge = format!(
                    r#"Bearer realm="wristband", error="{}", error_description="{}""#,
                    e.code.as_str(),
                    e.description
                );
                HttpResponse::build(status)
                    .insert_header((header::WWW_AUTHENTICATE, challenge))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .json(json!({ "error": e.code.as_str(), "error_description": e.description }))
            }
            Self::Page { title, message, .. } => error_page(status, title, message),
            Self::SignIn { location } => super::pages::see_other(location),
            Self::Throttled { html, retry_after_seconds } => {
                tracing::info!(retry_after_seconds, "request throttled");
                let response = if *html {
                    let wait = Throttled { retry_after_seconds: *retry_after_seconds }.wait_in_minutes();
                    let message = format!("Nothing was done. Wait {wait}, then try again.");
                    error_page(status, "Too many attempts", &message)
                } else {
                    temporarily_unavailable(status, "Too many requests; retry after the time Retry-After gives.")
                };
                with_retry_after(response, *retry_after_seconds)
            }
            Self::Unavailable { html, .. } => {
                tracing::warn!(error = ?self, "request failed: the database is unreachable");
                let response = if *html {
                    error_page(
                        status,
                        "wristband cannot reach its database",
                        "Nothing was changed. Try again in a minute; if it keeps happening, tell the administrator.",
                    )
                } else {
                    temporarily_unavailable(status, "The service cannot reach its database; retry later.")
                };
                with_retry_after(response, UNAVAILABLE_RETRY_AFTER_SECONDS)
            }
            Self::Internal { html, .. } => {
                tracing::error!(error = ?self, "request failed");
                if *html {
                    error_page(
                        status,
                        "Something went wrong on our side",
                        "Nothing was changed. Try again in a moment; if it keeps happening, tell the administrator.",
                    )
                } else {
                    HttpResponse::build(status)
                        .insert_header((header::CACHE_CONTROL, "no-store"))
                        .json(json!({ "error": "server_error", "error_description": "An internal error occurred." }))
                }
            }
        }
    }
}

/// RFC 6749 §4.1.2.1's `temporarily_unavailable`, which machine clients already handle.
fn temporarily_unavailable(status: StatusCode, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": "temporarily_unavailable", "error_description": description }))
}

fn with_retry_after(mut response: HttpResponse, seconds: i64) -> HttpResponse {
    if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    fn oauth(code: ErrorCode) -> OAuthError {
        OAuthError::new(code, "described", "reason for the log only")
    }

    #[test]
    fn invalid_client_is_401_with_a_basic_challenge() {
        let response = HttpError::Json(oauth(ErrorCode::InvalidClient)).error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_some());
        assert_eq!(response.headers().get(header::CACHE_CONTROL).unwrap(), "no-store");
    }

    #[test]
    fn other_token_errors_are_400_without_challenge() {
        let response = HttpError::Json(oauth(ErrorCode::InvalidGrant)).error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn bearer_errors_carry_the_rfc6750_challenge() {
        let response = HttpError::Bearer(oauth(ErrorCode::InvalidToken)).error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers().get(header::WWW_AUTHENTICATE).unwrap().to_str().unwrap();
        assert!(challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#), "{challenge}");
        let forbidden = HttpError::Bearer(oauth(ErrorCode::InsufficientScope)).error_response();
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn throttled_is_429_with_retry_after_for_pages_and_machines() {
        for html in [true, false] {
            let response = HttpError::Throttled { html, retry_after_seconds: 90 }.error_response();
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "90");
        }
    }

    fn outage() -> FlowError {
        StoreError::Unavailable(sea_orm::DbErr::Custom("connection refused".into())).into()
    }

    async fn body_of(response: HttpResponse) -> String {
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap();
        String::from_utf8_lossy(&body).into_owned()
    }

    #[test]
    fn an_unreachable_database_is_503_with_retry_after_on_every_kind_of_endpoint() {
        for error in [HttpError::page(outage()), HttpError::json(outage()), HttpError::bearer(outage())] {
            let response = error.error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "5");
        }
        let other = HttpError::page(StoreError::NotFound.into()).error_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn a_mistake_is_a_400_that_says_what_to_fix_on_a_page_and_invalid_request_to_a_machine() {
        let mistake = || FlowError::mistake("no user `bob`");
        let page = HttpError::page(mistake()).error_response();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        let body = body_of(page).await;
        assert!(body.contains("Nothing was changed") && body.contains("no user `bob`"), "{body}");
        let json = HttpError::json(mistake()).error_response();
        assert_eq!(json.status(), StatusCode::BAD_REQUEST);
        let body = body_of(json).await;
        assert!(body.contains(r#""error":"invalid_request""#) && !body.contains("bob"), "{body}");
    }

    #[tokio::test]
    async fn a_protocol_error_behind_a_page_shows_no_details_and_throttling_says_how_long_to_wait() {
        let page = HttpError::page(FlowError::OAuth(oauth(ErrorCode::InvalidGrant))).error_response();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        let body = body_of(page).await;
        assert!(body.contains("Something went wrong") && !body.contains("reason for the log"), "{body}");
        let throttled = Throttled { retry_after_seconds: 120 };
        let page = HttpError::page(FlowError::Throttled(throttled)).error_response();
        assert_eq!(page.headers().get(header::RETRY_AFTER).unwrap(), "120");
        assert!(body_of(page).await.contains("Wait 2 minutes"));
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        for html in [false, true] {
            let cause: Box<dyn std::error::Error + Send + Sync> = "database password is hunter2".into();
            let response = HttpError::Internal { html, cause }.error_response();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let body = body_of(response).await;
            assert!(!body.contains("hunter2") && !body.contains("database"), "{html}: {body}");
            assert!(!body.is_empty(), "{html}: a body that says something went wrong");
        }
    }
}
