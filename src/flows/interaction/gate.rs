//! The one gate every way of ending a login passes before an authorization request is
//! answered (DESIGN "Interaction"). It decides whether this browser's session may answer
//! the request now: the session is live (read from this browser's cookie) and belongs to
//! whoever the request was bound to; its level (one factor, two, or a passkey) satisfies the
//! client's minimum and the request's `acr_values`; and it authenticated recently enough for `prompt=login` and
//! `max_age` (OIDC Core §3.1.2.1, §3.1.2.3).
//!
//! The only value that lets a code be issued, [`Admitted`], is made here and nowhere
//! else: its fields are private, so a handler or flow that skipped the gate would not
//! compile.

use uuid::Uuid;

use crate::clock::UnixTime;
use crate::flows::session::SessionUser;
use crate::model::{AssuranceLevel, AuthorizationRequest, Client};

/// A request as the gate sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub client: &'a Client,
    pub request: &'a AuthorizationRequest,
    /// When a stored (pending) request arrived; `None` for a request being decided as it
    /// arrives, which no login can have answered yet.
    pub requested_at: Option<UnixTime>,
    /// The user a pending request was bound to, once someone signed in for it.
    pub bound_user: Option<Uuid>,
}

/// What stands between a request and its answer.
#[derive(Debug)]
pub enum Verdict {
    /// The request may be answered by this session.
    Admitted(Box<Admitted>),
    /// No session, or one that authenticated too long ago for `prompt=login` / `max_age`.
    Login,
    /// The session's level is below what the client or `acr_values` demand: a second
    /// factor, or a passkey.
    StepUp,
    /// The session's password is temporary and must be replaced first.
    ChangePassword,
    /// The request was bound to another user: this browser's session may not answer it.
    Refused,
}

/// Proof that the gate admitted `session` for `request`.
#[derive(Debug, Clone)]
pub struct Admitted {
    request: AuthorizationRequest,
    session: SessionUser,
}

impl Admitted {
    pub fn request(&self) -> &AuthorizationRequest {
        &self.request
    }

    pub fn session(&self) -> &SessionUser {
        &self.session
    }
}

/// The weakest login that may answer the request: the client's minimum, or the level
/// `acr_values` named, whichever is stronger.
pub fn required_level(client: &Client, request: &AuthorizationRequest) -> AssuranceLevel {
    client.required_level().max(request.requested_level)
}

/// The gate.
pub fn judge(request: Request<'_>, session: Option<&SessionUser>, now: UnixTime) -> Verdict {
    let Some(session) = session else { return Verdict::Login };
    if request.bound_user.is_some_and(|user_id| user_id != session.user.id) {
        return Verdict::Refused;
    }
    if !fresh_enough(request.request, request.requested_at, session, now) {
        return Verdict::Login;
    }
    if session.session.authentication.level() < required_level(request.client, request.request) {
        return Verdict::StepUp;
    }
    if session.user.password_change_required {
        return Verdict::ChangePassword;
    }
    Verdict::Admitted(Box::new(Admitted { request: request.request.clone(), session: session.clone() }))
}

/// A login made after the request arrived satisfies both `prompt=login` and any
/// `max_age` (including 0, which OIDC Core §3.1.2.1 treats like `prompt=login`). An older
/// one satisfies `max_age` alone, when it is recent enough, and never `prompt=login`.
fn fresh_enough(
    request: &AuthorizationRequest,
    requested_at: Option<UnixTime>,
    session: &SessionUser,
    now: UnixTime,
) -> bool {
    let auth_time = session.session.authentication.auth_time;
    if requested_at.is_some_and(|requested_at| auth_time >= requested_at) {
        return true;
    }
    !request.prompt.login && request.max_age.is_none_or(|max_age| max_age > 0 && now - auth_time <= max_age)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Authentication, BrowserSession, ClientId, PasskeyProof, Prompt, RedirectUri, RefreshOverrides, Scope, User,
        Username,
    };

    fn client(required: AssuranceLevel) -> Client {
        Client {
            id: ClientId::parse("app").unwrap(),
            name: "App".to_owned(),
            secret_hash: None,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            first_party: true,
            require_mfa: required == AssuranceLevel::TwoFactor,
            require_phishing_resistant: required == AssuranceLevel::PhishingResistant,
            access_token_seconds: None,
            refresh: RefreshOverrides::default(),
            backchannel_logout_uri: None,
            resources: vec![],
            default_resource: None,
            resource_server_for: None,
            created_at: 0,
        }
    }

    fn request(prompt: Prompt, max_age: Option<i64>, requested_level: AssuranceLevel) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: ClientId::parse("app").unwrap(),
            redirect_uri: RedirectUri::parse("https://app.example/cb").unwrap(),
            scope: Scope::parse("openid").unwrap(),
            resources: vec![],
            state: None,
            nonce: None,
            code_challenge: None,
            prompt,
            max_age,
            login_hint: None,
            requested_level,
        }
    }

    fn session(authentication: Authentication) -> SessionUser {
        let user = User {
            id: Uuid::new_v4(),
            username: Username::parse("alice").unwrap(),
            email: None,
            email_verified: false,
            name: None,
            password_hash: String::new(),
            roles: vec![],
            is_admin: false,
            disabled: false,
            totp_secret: None,
            password_change_required: false,
            verify_before_sign_in: false,
            created_at: 0,
        };
        let session = BrowserSession {
            sid: Uuid::new_v4(),
            user_id: user.id,
            authentication,
            expires_at: i64::MAX,
            last_seen_at: 0,
        };
        SessionUser { session, user }
    }

    fn verdict(client: &Client, request: &AuthorizationRequest, requested_at: Option<i64>, s: &SessionUser) -> Verdict {
        judge(Request { client, request, requested_at, bound_user: None }, Some(s), 1_000)
    }

    #[test]
    fn no_session_means_login() {
        let client = client(AssuranceLevel::OneFactor);
        let request = request(Prompt::default(), None, AssuranceLevel::OneFactor);
        let verdict =
            judge(Request { client: &client, request: &request, requested_at: None, bound_user: None }, None, 0);
        assert!(matches!(verdict, Verdict::Login));
    }

    #[test]
    fn prompt_login_is_satisfied_only_by_a_login_after_the_request() {
        let client = client(AssuranceLevel::OneFactor);
        let login = request(Prompt { login: true, ..Prompt::default() }, None, AssuranceLevel::OneFactor);
        let old = session(Authentication::password(900));
        assert!(matches!(verdict(&client, &login, None, &old), Verdict::Login));
        assert!(matches!(verdict(&client, &login, Some(950), &old), Verdict::Login));
        let fresh = session(Authentication::password(950));
        assert!(matches!(verdict(&client, &login, Some(950), &fresh), Verdict::Admitted(_)));
    }

    #[test]
    fn max_age_counts_from_auth_time_and_zero_needs_a_login_for_this_request() {
        let client = client(AssuranceLevel::OneFactor);
        let within = request(Prompt::default(), Some(200), AssuranceLevel::OneFactor);
        let zero = request(Prompt::default(), Some(0), AssuranceLevel::OneFactor);
        let old = session(Authentication::password(900));
        assert!(matches!(verdict(&client, &within, None, &old), Verdict::Admitted(_)));
        let this_second = session(Authentication::password(1_000));
        assert!(matches!(verdict(&client, &zero, None, &this_second), Verdict::Login), "0 is prompt=login");
        let too_old = request(Prompt::default(), Some(50), AssuranceLevel::OneFactor);
        assert!(matches!(verdict(&client, &too_old, Some(990), &old), Verdict::Login));
        assert!(matches!(verdict(&client, &zero, Some(990), &old), Verdict::Login));
        let fresh = session(Authentication::password(990));
        assert!(matches!(verdict(&client, &zero, Some(990), &fresh), Verdict::Admitted(_)));
    }

    #[test]
    fn two_factors_are_demanded_by_the_client_or_acr_values() {
        let one = session(Authentication::password(1_000));
        let two = session(Authentication::two_factor(1_000));
        let plain = request(Prompt::default(), None, AssuranceLevel::OneFactor);
        let acr = request(Prompt::default(), None, AssuranceLevel::TwoFactor);
        assert!(matches!(verdict(&client(AssuranceLevel::TwoFactor), &plain, None, &one), Verdict::StepUp));
        assert!(matches!(verdict(&client(AssuranceLevel::OneFactor), &acr, None, &one), Verdict::StepUp));
        assert!(matches!(verdict(&client(AssuranceLevel::TwoFactor), &acr, None, &two), Verdict::Admitted(_)));
    }

    #[test]
    fn a_passkey_login_satisfies_every_level_and_only_it_satisfies_phishing_resistance() {
        let passkey = session(Authentication::passkey(1_000, PasskeyProof { device_bound: false }, false));
        let totp = session(Authentication::two_factor(1_000));
        let phr = AssuranceLevel::PhishingResistant;
        let plain = request(Prompt::default(), None, AssuranceLevel::OneFactor);
        let asks_phr = request(Prompt::default(), None, phr);
        for client in [client(AssuranceLevel::TwoFactor), client(phr)] {
            assert!(matches!(verdict(&client, &plain, None, &passkey), Verdict::Admitted(_)));
        }
        assert!(matches!(verdict(&client(phr), &plain, None, &totp), Verdict::StepUp));
        assert!(matches!(verdict(&client(AssuranceLevel::OneFactor), &asks_phr, None, &totp), Verdict::StepUp));
        assert!(matches!(verdict(&client(AssuranceLevel::OneFactor), &asks_phr, None, &passkey), Verdict::Admitted(_)));
    }

    #[test]
    fn a_temporary_password_comes_before_the_answer() {
        let mut s = session(Authentication::password(1_000));
        s.user.password_change_required = true;
        let verdict = verdict(
            &client(AssuranceLevel::OneFactor),
            &request(Prompt::default(), None, AssuranceLevel::OneFactor),
            None,
            &s,
        );
        assert!(matches!(verdict, Verdict::ChangePassword));
    }

    #[test]
    fn a_request_bound_to_someone_else_is_refused() {
        let client = client(AssuranceLevel::OneFactor);
        let request = request(Prompt::default(), None, AssuranceLevel::OneFactor);
        let s = session(Authentication::two_factor(1_000));
        let other =
            Request { client: &client, request: &request, requested_at: Some(0), bound_user: Some(Uuid::new_v4()) };
        assert!(matches!(judge(other, Some(&s), 1_000), Verdict::Refused));
        let same = Request { bound_user: Some(s.user.id), ..other };
        assert!(matches!(judge(same, Some(&s), 1_000), Verdict::Admitted(_)));
    }
}
