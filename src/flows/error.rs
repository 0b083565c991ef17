//! Protocol errors, in the vocabulary of the specifications. `description` is a fixed
//! sentence safe to show the client; `reason` (with request details) goes to the log only.

/// Error codes of RFC 6749 §4.1.2.1 and §5.2, OIDC Core §3.1.2.6, RFC 6750 §3.1,
/// RFC 8707 §2 and RFC 7009 §2.2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    InvalidTarget,
    AccessDenied,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidToken,
    InsufficientScope,
    ServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::ServerError => "server_error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: &'static str,
    pub reason: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: &'static str, reason: impl Into<String>) -> Self {
        Self { code, description, reason: reason.into() }
    }
}

/// Any flow's failure, in the kinds a caller answers differently; `http/error.rs` maps
/// each to a response in one place.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// A protocol error for the client, in the vocabulary of the specifications.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// A mistake the person can fix (a taken name, an invalid value, a wrong current
    /// password), said in words they can act on. Nothing was changed.
    #[error("{0}")]
    Mistake(String),
    /// Too many requests or failures: refused unexamined; try again after this long.
    #[error("throttled for {} s", .0.retry_after_seconds)]
    Throttled(crate::security::rate_limit::Throttled),
    /// The database cannot be reached: nothing was done, and the same request may succeed
    /// in a moment.
    #[error("unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: not the caller's to fix, logged with its cause and never shown.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl FlowError {
    pub fn mistake(message: impl Into<String>) -> Self {
        Self::Mistake(message.into())
    }
}

/// The one place that tells an outage from other store failures.
impl From<crate::store::StoreError> for FlowError {
    fn from(err: crate::store::StoreError) -> Self {
        match err {
            crate::store::StoreError::Unavailable(_) => Self::Unavailable(Box::new(err)),
            other => Self::Internal(Box::new(other)),
        }
    }
}

macro_rules! internal_from {
    ($($source:ty),*) => {
        $(impl From<$source> for FlowError {
            fn from(err: $source) -> Self {
                Self::Internal(Box::new(err))
            }
        })*
    };
}
internal_from!(
    crate::keys::KeyError,
    crate::security::random::RandomError,
    crate::security::master_key::SealError,
    crate::security::totp::TotpError,
    url::ParseError
);

macro_rules! mistake_from {
    ($($source:ty),*) => {
        $(impl From<$source> for FlowError {
            fn from(err: $source) -> Self {
                Self::Mistake(err.to_string())
            }
        })*
    };
}
mistake_from!(crate::model::InvalidValue, crate::security::password::PasswordPolicyError, crate::keys::PlanError);

/// A full hashing queue is a limit like any other: refused at once, to be tried again in a
/// second. Every other hashing failure is internal.
impl From<crate::security::password::PasswordError> for FlowError {
    fn from(err: crate::security::password::PasswordError) -> Self {
        match err {
            crate::security::password::PasswordError::Busy => {
                Self::Throttled(crate::security::rate_limit::Throttled { retry_after_seconds: 1 })
            }
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<crate::security::rate_limit::Throttled> for FlowError {
    fn from(throttled: crate::security::rate_limit::Throttled) -> Self {
        Self::Throttled(throttled)
    }
}

/// Shorthand for returning a protocol error.
pub fn oauth<T>(code: ErrorCode, description: &'static str, reason: impl Into<String>) -> Result<T, FlowError> {
    Err(FlowError::OAuth(OAuthError::new(code, description, reason)))
}
