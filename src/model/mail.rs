use uuid::Uuid;

use crate::clock::UnixTime;

/// What a message is for; each has its own template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// A link to choose a new password.
    PasswordReset,
    /// Notice that the password was changed by a reset.
    PasswordChanged,
    /// A link that proves the person reads this address.
    VerifyEmail,
    /// Notice to the old address that the account's address changed.
    EmailChanged,
    /// A link to set the first password of an account made for the person.
    Invitation,
    /// Notice to an address that has an account, that someone tried to sign up with it.
    SignUpAttempt,
}

impl MailKind {
    pub const ALL: [Self; 6] = [
        Self::PasswordReset,
        Self::PasswordChanged,
        Self::VerifyEmail,
        Self::EmailChanged,
        Self::Invitation,
        Self::SignUpAttempt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::VerifyEmail => "verify_email",
            Self::EmailChanged => "email_changed",
            Self::Invitation => "invitation",
            Self::SignUpAttempt => "sign_up_attempt",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

/// A message in the outbox. Its body (text and HTML, which may carry a single-use link) is
/// sealed under the master key, and dropped once sent.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub id: Uuid,
    pub kind: MailKind,
    pub recipient: String,
    pub subject: String,
    pub sealed_body: Option<Vec<u8>>,
    pub attempts: u32,
    pub next_attempt_at: UnixTime,
    pub last_error: Option<String>,
    pub created_at: UnixTime,
    pub sent_at: Option<UnixTime>,
    pub failed_at: Option<UnixTime>,
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailState {
    Queued,
    Sent,
    Failed,
}

impl MailState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

impl QueuedMail {
    pub fn state(&self) -> MailState {
        match (self.sent_at, self.failed_at) {
            (Some(_), _) => MailState::Sent,
            (None, Some(_)) => MailState::Failed,
            (None, None) => MailState::Queued,
        }
    }
}

/// A single-use link sent by mail, found by the SHA-256 of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLink {
    pub purpose: LinkPurpose,
    pub user_id: Uuid,
    /// SHA-256 of what the link is bound to (the password hash a reset replaces, the address
    /// a verification proves): once that changes, the link is dead.
    pub binding: String,
    pub expires_at: UnixTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Choose a new password; bound to the password hash it replaces.
    PasswordReset,
    /// Set the first password of an invited account; bound to its placeholder hash.
    Invitation,
    /// Prove the address; bound to the address.
    VerifyEmail,
}

impl LinkPurpose {
    const ALL: [Self; 3] = [Self::PasswordReset, Self::Invitation, Self::VerifyEmail];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::Invitation => "invitation",
            Self::VerifyEmail => "verify_email",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|purpose| purpose.as_str() == value)
    }
}
