//! The first start: an administrator to sign in with, so the admin UI is reachable.

use crate::clock::Clock;
use crate::flows::Actor;
use crate::flows::admin::{AdminError, UserInput, add_user};
use crate::model::Username;
use crate::security::password::PasswordHasher;
use crate::security::secret::SecretString;
use crate::store::Store;

pub const BOOTSTRAP_ADMIN: &str = "admin";

/// The administrator made at first start; `password` is set when it was generated and
/// must be shown once.
#[derive(Debug, Clone)]
pub struct BootstrappedAdmin {
    pub username: Username,
    pub password: Option<SecretString>,
}

/// Creates the user `admin` when no administrator exists; does nothing otherwise, so a
/// restart (or a second instance) never makes another.
pub async fn bootstrap_admin(
    store: &Store,
    clock: &dyn Clock,
    hasher: &PasswordHasher,
    configured_password: Option<&SecretString>,
) -> Result<Option<BootstrappedAdmin>, AdminError> {
    if store.admin_exists().await? {
        return Ok(None);
    }
    let input = UserInput {
        username: BOOTSTRAP_ADMIN.to_owned(),
        is_admin: true,
        password: configured_password.cloned(),
        ..UserInput::default()
    };
    match add_user(store, clock, hasher, input, Actor::System).await {
        Ok((user, password)) => Ok(Some(BootstrappedAdmin { username: user.username, password })),
        // Another instance bootstrapped at the same moment.
        Err(AdminError::UserExists(_)) if store.admin_exists().await? => Ok(None),
        Err(AdminError::UserExists(_)) => Err(AdminError::Rejected(format!(
            "no administrator exists and the name `{BOOTSTRAP_ADMIN}` is taken by a non-admin user; \
             create one with `wristband user add <name> --admin`"
        ))),
        Err(err) => Err(err),
    }
}
