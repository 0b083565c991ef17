//! sea-orm entities, one per table. They never leave `store/`: repositories convert rows
//! into `model` types.

pub mod api;
pub mod attempt_throttle;
pub mod audit_event;
pub mod authorization_code;
pub mod authorization_request;
pub mod backchannel_logout_job;
pub mod browser_session;
pub mod client;
pub mod consent;
pub mod linked_identity;
pub mod mail_link;
pub mod mail_outbox;
pub mod mfa_challenge;
pub mod passkey;
pub mod passkey_ceremony;
pub mod refresh_family;
pub mod refresh_token;
pub mod revoked_access_token;
pub mod session_participant;
pub mod signing_key;
pub mod upstream;
pub mod upstream_login;
pub mod user;
pub mod user_recovery_code;
