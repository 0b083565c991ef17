//! A browser interaction: a pending authorization request (or a wristband page) and the
//! steps a person takes to answer it. This module owns their vocabulary — where a login
//! goes on ([`Continuation`]), the browser it runs in ([`Browser`]), the step shown next
//! ([`Step`]) and the data of each page — and the one gate every way of signing in passes
//! ([`gate`]). A way of proving who you are (password, second factor, passkey) is a module
//! that returns a `Step` and ends through [`continue_login`]; the gate alone decides
//! whether a request may be answered.

mod challenge;
pub mod gate;
mod pending;

pub use challenge::{ChallengeMethods, SecondFactors, start_challenge};
pub use pending::{
    describe_scopes, find_pending, finish_with_error, issue_code, judge_pending, needs_consent, redirect_error,
    resume_pending, store_pending,
};

use url::Url;

use super::Context;
use super::error::FlowError;
use super::session::{SessionUser, StartedSession};
use super::totp::enrollment::EnrollmentOffer;
use crate::model::Destination;

/// Where a login goes on once the person has proven who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuation {
    /// A pending authorization request, by its id (the login page's `request_id`).
    Authorization { request_id: String },
    /// A page of wristband itself.
    Page(Destination),
}

impl Continuation {
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Authorization { request_id } => Some(request_id),
            Self::Page(_) => None,
        }
    }

    pub fn destination(&self) -> Option<Destination> {
        match self {
            Self::Authorization { .. } => None,
            Self::Page(destination) => Some(*destination),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginPage {
    pub continuation: Continuation,
    /// Who the person signs in to: a client's name, or a wristband page's title.
    pub client_name: String,
    pub username: Option<String>,
    /// Shown above the form after a failed attempt.
    pub error: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentPage {
    pub request_id: String,
    pub client_name: String,
    /// What the client asks for, in words.
    pub scopes: Vec<String>,
}

/// The step a person sees next: a page of the login, or a redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Login(LoginPage),
    /// The TOTP code, recovery code or passkey after the password, or to step up a
    /// session.
    SecondFactor(MfaPage),
    /// The login must use a passkey (the client, `acr_values` or `/admin` demand the
    /// phishing-resistant level) and the person has none yet.
    PasskeyNeeded,
    /// Enrollment of a second factor that the request demands.
    Enroll(EnrollPage),
    /// Recovery codes of a factor just enrolled, shown once.
    RecoveryCodes(RecoveryCodesPage),
    /// A temporary password to replace before the login goes on.
    ChangePassword(ChangePasswordPage),
    Consent(ConsentPage),
    /// Back to the client, with a code or an error.
    Redirect(Url),
    /// On to a page of wristband itself.
    Destination(Destination),
    /// An error page: the redirect URI could not be trusted.
    Untrusted(UntrustedRequest),
    /// The login or consent page was for a request that expired, finished, or belongs to
    /// another browser.
    Expired,
}

/// The browser making the request: its CSRF cookie (which pending requests are bound
/// to) and its live session, if any.
#[derive(Debug, Clone)]
pub struct Browser {
    pub csrf_cookie: String,
    pub session: Option<SessionUser>,
}

/// Why `/authorize` shows an error page instead of redirecting (RFC 6749 §4.1.2.1): the
/// redirect URI cannot be trusted yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UntrustedRequest {
    MissingClientId,
    UnknownClient,
    MissingRedirectUri,
    UnregisteredRedirectUri,
    RepeatedParameter,
}

impl UntrustedRequest {
    /// What the person sees, and what to do.
    pub fn explanation(self) -> &'static str {
        match self {
            Self::MissingClientId | Self::UnknownClient => {
                "The application that sent you here is not registered with this sign-in service. \
                 Go back to the application and try again; if it keeps happening, tell its developers."
            }
            Self::MissingRedirectUri | Self::UnregisteredRedirectUri => {
                "The application that sent you here asked to return to an address it has not registered, \
                 so you were not sent back. Go back to the application and try again; if it keeps happening, tell its developers."
            }
            Self::RepeatedParameter => {
                "The sign-in request was malformed (a parameter was repeated). Go back to the application and try again."
            }
        }
    }
}

/// Where a step of a login leads, and the session cookie to set when the login completed.
#[derive(Debug)]
pub struct LoginStep {
    pub outcome: Step,
    pub session: Option<Box<StartedSession>>,
}

impl From<Step> for LoginStep {
    fn from(outcome: Step) -> Self {
        Self { outcome, session: None }
    }
}

/// The page that replaces a temporary password before the login goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePasswordPage {
    pub continuation: Continuation,
    pub error: Option<String>,
}

/// The page asking for a TOTP or recovery code, or a passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaPage {
    pub challenge: String,
    pub request_id: Option<String>,
    pub methods: ChallengeMethods,
    pub error: Option<String>,
}

/// The page enrolling a factor inside a login that demands two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollPage {
    pub challenge: String,
    pub request_id: Option<String>,
    pub offer: EnrollmentOffer,
    pub error: Option<&'static str>,
}

/// Recovery codes, shown once after an enrollment, then on to where the login leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryCodesPage {
    pub codes: Vec<String>,
    pub next: Continuation,
}

/// Goes on to where a completed login leads: the pending authorization request (through
/// the gate), or a wristband page; a temporary password is replaced first.
pub async fn continue_login(
    ctx: &Context<'_>,
    continuation: &Continuation,
    browser: &Browser,
    session: &SessionUser,
) -> Result<Step, FlowError> {
    match continuation {
        Continuation::Authorization { request_id } => resume_pending(ctx, request_id, browser, Some(session)).await,
        Continuation::Page(_) if session.user.password_change_required => {
            let page = ChangePasswordPage { continuation: continuation.clone(), error: None };
            Ok(Step::ChangePassword(page))
        }
        Continuation::Page(destination) => Ok(Step::Destination(*destination)),
    }
}
