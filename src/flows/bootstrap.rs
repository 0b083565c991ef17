//! The first start: an administrator to sign in with, so the admin UI is reachable.

use crate::flows::admin::{UserInput, add_user};
use crate::flows::error::FlowError;
use crate::flows::{Actor, Context};
use crate::model::Username;
use crate::security::secret::SecretString;

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
    ctx: &Context<'_>,
    configured_password: Option<&SecretString>,
) -> Result<Option<BootstrappedAdmin>, FlowError> {
    if ctx.store.admin_exists().await? {
        return Ok(None);
    }
    let input = UserInput {
        username: BOOTSTRAP_ADMIN.to_owned(),
        is_admin: true,
        password: configured_password.cloned(),
        ..UserInput::default()
    };
    match add_user(ctx, input, Actor::System).await {
        Ok((user, password)) => Ok(Some(BootstrappedAdmin { username: user.username, password })),
        Err(mistake @ FlowError::Mistake(_)) => {
            // Another instance bootstrapped at the same moment, or the name is taken.
            if ctx.store.admin_exists().await? {
                return Ok(None);
            }
            let name = Username::parse(BOOTSTRAP_ADMIN)?;
            if ctx.store.find_user_by_username(&name).await?.is_some() {
                return Err(FlowError::mistake(format!(
                    "no administrator exists and the name `{BOOTSTRAP_ADMIN}` is taken by a non-admin user; \
                     create one with `wristband user add <name> --admin`"
                )));
            }
            Err(mistake)
        }
        Err(err) => Err(err),
    }
}
