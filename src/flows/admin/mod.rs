//! Administrative actions on users and clients, shared by the CLI and the admin UI.
//! Every change is audited with its actor.

pub mod access;
mod clients;
mod users;

pub use clients::{
    ClientInput, CreatedClient, add_client, list_clients, remove_client, rotate_client_secret, update_client,
};
pub use users::{
    ProfileInput, UserInput, add_user, end_user_session, list_users, provision_totp, recover_admin, reset_mfa,
    revoke_refresh_family, revoke_user_sessions, set_user_disabled, set_user_password, update_user_profile,
};

use crate::model::InvalidValue;
use crate::security::master_key::SealError;
use crate::security::password::{PasswordError, PasswordPolicyError};
use crate::security::random::RandomError;
use crate::security::totp::TotpError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("user `{0}` already exists")]
    UserExists(String),
    #[error("no user `{0}`")]
    UnknownUser(String),
    #[error("client `{0}` already exists")]
    ClientExists(String),
    #[error("no client `{0}`")]
    UnknownClient(String),
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    #[error(transparent)]
    PasswordPolicy(#[from] PasswordPolicyError),
    /// A request that is well-formed but makes no sense, with the reason.
    #[error("{0}")]
    Rejected(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Totp(#[from] TotpError),
}

impl AdminError {
    /// The message for a mistake the administrator can fix (a taken or unknown name, an
    /// invalid value, a refused request); `Err` with the underlying failure for anything
    /// else (an outage, a broken seal), which is not theirs to fix and not shown.
    pub fn into_fixable(self) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        match self {
            fixable @ (Self::UserExists(_)
            | Self::UnknownUser(_)
            | Self::ClientExists(_)
            | Self::UnknownClient(_)
            | Self::Invalid(_)
            | Self::PasswordPolicy(_)
            | Self::Rejected(_)) => Ok(fixable.to_string()),
            Self::Store(err) => Err(Box::new(err)),
            Self::Password(err) => Err(Box::new(err)),
            Self::Random(err) => Err(Box::new(err)),
            Self::Seal(err) => Err(Box::new(err)),
            Self::Totp(err) => Err(Box::new(err)),
        }
    }
}
