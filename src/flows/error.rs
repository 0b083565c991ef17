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

/// Any flow's failure: a protocol error for the caller, or an internal one (500, logged).
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// Too many requests or failures: refused unexamined; try again after this long.
    #[error("throttled for {} s", .0.retry_after_seconds)]
    Throttled(crate::security::rate_limit::Throttled),
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
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
    crate::store::StoreError,
    crate::keys::KeyError,
    crate::security::random::RandomError,
    crate::security::master_key::SealError,
    url::ParseError
);

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
