use uuid::Uuid;

use super::{ApiIdentifier, AssuranceLevel, Authentication, ClientId, RedirectUri, Scope};
use crate::clock::UnixTime;

/// The `prompt` values of OIDC Core §3.1.2.1 that wristband acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    /// Sign-up instead of sign-in (OpenID Connect Initiating User Registration 1.0).
    pub create: bool,
}

impl Prompt {
    pub fn as_text(&self) -> String {
        let mut values = Vec::new();
        for (set, name) in
            [(self.none, "none"), (self.login, "login"), (self.consent, "consent"), (self.create, "create")]
        {
            if set {
                values.push(name);
            }
        }
        values.join(" ")
    }
}

/// A validated authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    pub redirect_uri: RedirectUri,
    pub scope: Scope,
    /// The APIs (RFC 8707 `resource`) the grant covers, in the order requested.
    pub resources: Vec<ApiIdentifier>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The S256 `code_challenge`; `plain` is never accepted.
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The weakest level `acr_values` named (OIDC Core §3.1.2.1); `OneFactor` when it
    /// named none wristband knows.
    pub requested_level: AssuranceLevel,
}

/// An authorization request waiting on the login or consent page.
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    pub request: AuthorizationRequest,
    /// SHA-256 of the browser's CSRF cookie: only that browser may continue it.
    pub browser_hash: String,
    /// Set once the person has logged in for this request.
    pub user_id: Option<Uuid>,
    pub sid: Option<Uuid>,
    /// When the request arrived: a login at or after it is fresh for `prompt=login`.
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// A live browser session (the `sid` of tokens), found by its cookie.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    pub sid: Uuid,
    pub user_id: Uuid,
    pub authentication: Authentication,
    pub expires_at: UnixTime,
    /// When the cookie was last used, recorded at most once a minute.
    pub last_seen_at: UnixTime,
}

/// What an authorization code stands for (RFC 6749 §4.1.2).
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub client_id: ClientId,
    pub user_id: Uuid,
    pub sid: Uuid,
    pub redirect_uri: String,
    pub scope: Scope,
    /// The APIs (RFC 8707 `resource`) the grant covers, in the order requested.
    pub resources: Vec<ApiIdentifier>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub authentication: Authentication,
    pub expires_at: UnixTime,
    pub used: bool,
    /// What the first exchange issued, revoked if the code is presented again.
    pub issued_family_id: Option<Uuid>,
    pub issued_jti: Option<(String, UnixTime)>,
}

/// Why a refresh-token family (and with a session, the session) was ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    /// A used refresh token came back: someone holds a copy (RFC 9700 §4.14.2).
    RefreshTokenReused,
    /// A used authorization code came back (RFC 6749 §4.1.2).
    AuthorizationCodeReused,
    /// The client revoked the token (RFC 7009).
    RevokedByClient,
    /// A reuse in one family ended the whole browser session it belongs to.
    SessionCompromised,
    Logout,
    ReplacedByLogin,
    PasswordChanged,
    UserDisabled,
    RevokedByAdmin,
    /// The person ended it from their account page.
    RevokedByUser,
    /// A second factor was turned on: sessions opened with the password alone end.
    SecondFactorEnabled,
    /// The session was not used for `sessions.idle_seconds`.
    SessionIdle,
}

impl RevocationReason {
    pub const ALL: [Self; 12] = [
        Self::RefreshTokenReused,
        Self::AuthorizationCodeReused,
        Self::RevokedByClient,
        Self::SessionCompromised,
        Self::Logout,
        Self::ReplacedByLogin,
        Self::PasswordChanged,
        Self::UserDisabled,
        Self::RevokedByAdmin,
        Self::RevokedByUser,
        Self::SecondFactorEnabled,
        Self::SessionIdle,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::AuthorizationCodeReused => "authorization_code_reused",
            Self::RevokedByClient => "revoked_by_client",
            Self::SessionCompromised => "session_compromised",
            Self::Logout => "logout",
            Self::ReplacedByLogin => "replaced_by_login",
            Self::PasswordChanged => "password_changed",
            Self::UserDisabled => "user_disabled",
            Self::RevokedByAdmin => "revoked_by_admin",
            Self::RevokedByUser => "revoked_by_user",
            Self::SecondFactorEnabled => "second_factor_enabled",
            Self::SessionIdle => "session_idle",
        }
    }

    /// Reasons that condemn the grant itself, so that every access token of the family's
    /// session and client stops being active. The others end sessions or accounts, which
    /// the session and user checks already see.
    pub fn condemns_grant(self) -> bool {
        matches!(
            self,
            Self::RefreshTokenReused
                | Self::AuthorizationCodeReused
                | Self::RevokedByClient
                | Self::RevokedByUser
                | Self::RevokedByAdmin
        )
    }
}

impl RefreshFamily {
    /// An `offline_access` family outlives its browser session.
    pub fn is_offline(&self) -> bool {
        self.scope.contains(super::OFFLINE_ACCESS)
    }
}

/// A refresh-token family: every token descending from one code exchange.
#[derive(Debug, Clone)]
pub struct RefreshFamily {
    pub id: Uuid,
    pub client_id: ClientId,
    pub user_id: Uuid,
    pub sid: Option<Uuid>,
    pub scope: Scope,
    /// The APIs (RFC 8707 `resource`) the grant covers, in the order requested.
    pub resources: Vec<ApiIdentifier>,
    pub authentication: Authentication,
    pub idle_expires_at: UnixTime,
    pub absolute_expires_at: UnixTime,
    pub revoked: bool,
}
