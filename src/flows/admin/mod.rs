//! Administrative actions on users and clients, shared by the CLI and the admin UI.
//! Every change is audited with its actor.

pub mod access;
mod apis;
mod clients;
pub mod lists;
mod users;

pub use apis::{ApiDetails, ApiInput, CreatedApi, add_api, list_apis, remove_api, show_api};
pub use clients::{
    ClientInput, CreatedClient, add_client, list_clients, remove_client, rotate_client_secret, set_client_resources,
    update_client,
};
pub use users::{
    ProfileInput, UserInput, add_user, end_user_session, invite_user, list_users, provision_totp, recover_admin,
    remove_user_passkey, reset_mfa, revoke_refresh_family, revoke_user_sessions, set_user_disabled, set_user_password,
    update_user_profile,
};
