//! Signing in through another provider: wristband as an OpenID Connect (or GitHub-style
//! OAuth 2.0) relying party of an upstream. The upstream proves who the person is there;
//! a linked identity (upstream, upstream subject) says who that is here; the login then
//! ends through the same gate as every other (`interaction::continue_login`), so a client
//! demanding two factors still gets wristband's second step. `sub` in wristband's tokens
//! stays the local user's id.
//!
//! - [`provider`]: discovery, keys, the code exchange and user documents over HTTP.
//! - [`id_token`]: the ID token's complete verification.
//! - [`signin`]: the redirect out (`state`, `nonce`, PKCE S256) and the callback.
//! - `proof`: what the upstream's answer proves (the code exchanged, the ID token verified).
//! - [`identity`]: who the upstream's person is here, and links made and removed.
//! - [`manage`]: configuring upstreams (CLI and admin pages).

pub mod id_token;
pub mod identity;
pub mod manage;
mod proof;
pub mod provider;
pub mod signin;

pub use identity::{EndSessionOffer, end_session_offers, linked_identities, unlink};
pub use manage::{UpstreamInput, add_upstream, list_upstreams, refresh_discovery, remove_upstream, show_upstream};
pub use provider::{LoginButton, UpstreamDirectory};
pub use signin::{Callback, CallbackOutcome, callback, callback_uri, start_link, start_sign_in};

/// How long a person has to come back from the upstream.
pub const LOGIN_SECONDS: i64 = 600;

/// Shown on the login page when the upstream said no (`error=access_denied`, or any
/// error it returned).
pub const UPSTREAM_DENIED: &str =
    "The other provider did not sign you in: it was cancelled or refused there. Try again, or sign in another way.";
/// Shown when the upstream could not be reached or answered nonsense.
pub const UPSTREAM_UNAVAILABLE: &str = "The provider you chose cannot be reached right now, so you were not signed in. \
     Try again in a few minutes, or sign in another way.";
/// Shown when the upstream's answer did not verify (signature, audience, nonce, ...).
pub const UPSTREAM_UNVERIFIED: &str = "The answer from the provider you chose could not be verified, so you were not \
     signed in. Try again; if it keeps happening, tell your administrator.";
/// Shown when the upstream identity is linked to no account and none may be made.
pub const NOT_LINKED: &str = "No account here is linked to that identity. Sign in another way and link it on your \
     account page, or ask your administrator for an account.";
/// Shown when the linked account may not sign in.
pub const ACCOUNT_UNAVAILABLE: &str = "The account linked to that identity cannot sign in. Ask your administrator.";
/// Shown when a callback matches no sign-in started in this browser.
pub const UNKNOWN_STATE: &str = "This answer from another provider does not match a sign-in started in this browser: \
     it expired, was used already, or came from somewhere else. Nothing was done. Go back to the application and \
     start again.";
