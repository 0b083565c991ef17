use uuid::Uuid;

use crate::flows::Actor;
use crate::flows::Context;
use crate::flows::email_address::{address_changed, send_verification};
use crate::flows::error::FlowError;
use crate::flows::mail::{self, messages};
use crate::flows::password_reset::INVITATION_SECONDS;
use crate::flows::totp::factor::{totp_issuer_label, totp_purpose};
use crate::model::{DisplayName, Email, LinkPurpose, RevocationReason, Role, User, Username};
use crate::security::password::check_policy;
use crate::security::random::generated_password;
use crate::security::secret::SecretString;
use crate::security::totp::TotpSecret;
use crate::store::{AuditEvent, NewUser, SessionsEnded, StoreError};

/// A new user as an administrator describes it; parsed here.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub roles: Vec<String>,
    pub is_admin: bool,
    /// `None`: generate one, to be shown once.
    pub password: Option<SecretString>,
    /// Signed up on its own: no sign-in until the address is verified.
    pub verify_before_sign_in: bool,
}

/// Creates a user; returns it with the generated password when none was given. An
/// address given is unverified, and gets a verification link.
pub async fn add_user(
    ctx: &Context<'_>,
    input: UserInput,
    actor: Actor,
) -> Result<(User, Option<SecretString>), FlowError> {
    let (user, password) = create_user(ctx, input, actor).await?;
    send_verification(ctx, &user).await?;
    Ok((user, password))
}

/// Creates a user who chooses their own password through a link mailed to `email`
/// (72 hours, once); until then nobody can sign in to the account. Following the link
/// also proves the address.
pub async fn invite_user(
    ctx: &Context<'_>,
    username: &str,
    email: &str,
    roles: Vec<String>,
    is_admin: bool,
    actor: Actor,
) -> Result<User, FlowError> {
    Email::parse(email)?;
    // A password nobody knows: the account opens only through the invitation.
    let placeholder = SecretString::new(generated_password()?);
    let input = UserInput {
        username: username.to_owned(),
        email: Some(email.to_owned()),
        roles,
        is_admin,
        password: Some(placeholder),
        ..UserInput::default()
    };
    let (user, _) = create_user(ctx, input, actor).await?;
    let to = user.email.clone().ok_or_else(|| FlowError::mistake("an invitation needs an email address"))?;
    let name = user.username.as_str();
    mail::send_link(
        ctx,
        user.id,
        LinkPurpose::Invitation,
        &user.password_hash,
        INVITATION_SECONDS,
        "/password/reset",
        |link| messages::invitation(ctx, to.as_str(), name, link, INVITATION_SECONDS / 3_600),
    )
    .await?;
    let event = AuditEvent::new("user_invited").user(user.id).details(serde_json::json!({ "email": to }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(user)
}

async fn create_user(
    ctx: &Context<'_>,
    input: UserInput,
    actor: Actor,
) -> Result<(User, Option<SecretString>), FlowError> {
    let username = Username::parse(&input.username)?;
    let email = input.email.as_deref().map(Email::parse).transpose()?;
    let name = input.name.as_deref().map(DisplayName::parse).transpose()?;
    let mut roles = input.roles.iter().map(|r| Role::parse(r)).collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    let (password, generated) = new_password(input.password)?;
    let password_hash = ctx.hasher.hash(&password).await?;
    let new = NewUser {
        username: username.clone(),
        email,
        name,
        password_hash,
        roles,
        is_admin: input.is_admin,
        password_change_required: generated,
        verify_before_sign_in: input.verify_before_sign_in,
    };
    let user = match ctx.store.insert_user(new, ctx.clock.now()).await {
        Err(StoreError::Conflict(_)) => {
            return Err(FlowError::Mistake(format!("user `{username}` already exists")));
        }
        other => other?,
    };
    let event = AuditEvent::new("user_created")
        .user(user.id)
        .details(serde_json::json!({ "username": user.username, "admin": user.is_admin }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok((user, generated.then_some(password)))
}

pub async fn list_users(ctx: &Context<'_>) -> Result<Vec<User>, FlowError> {
    Ok(ctx.store.list_users().await?)
}

/// Disables (ending all sessions and refresh-token families) or enables a user.
pub async fn set_user_disabled(
    ctx: &Context<'_>,
    username: &str,
    disabled: bool,
    actor: Actor,
) -> Result<SessionsEnded, FlowError> {
    let user = find(ctx, username).await?;
    if disabled && actor == Actor::Admin(user.id) {
        return Err(FlowError::Mistake(
            "you cannot disable your own account: another administrator can, or use the CLI".to_owned(),
        ));
    }
    let ended = ctx.store.set_user_disabled(user.id, disabled, ctx.clock.now()).await?;
    let event = AuditEvent::new(if disabled { "user_disabled" } else { "user_enabled" })
        .user(user.id)
        .details(serde_json::json!({ "sessions_ended": ended.sessions, "families_revoked": ended.families }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(ended)
}

/// Ends every browser session and revokes every refresh-token family of a user (a lost
/// device, a suspected compromise).
pub async fn revoke_user_sessions(ctx: &Context<'_>, username: &str, actor: Actor) -> Result<SessionsEnded, FlowError> {
    let user = find(ctx, username).await?;
    let ended = ctx.store.end_user_sessions(user.id, None, RevocationReason::RevokedByAdmin, ctx.clock.now()).await?;
    let event = AuditEvent::new("user_sessions_revoked")
        .user(user.id)
        .details(serde_json::json!({ "sessions_ended": ended.sessions, "families_revoked": ended.families }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(ended)
}

/// Sets a new password (generated when `None`), ending every session and refresh-token
/// family of the user; returns the generated password.
pub async fn set_user_password(
    ctx: &Context<'_>,
    username: &str,
    password: Option<SecretString>,
    actor: Actor,
) -> Result<Option<SecretString>, FlowError> {
    let user = find(ctx, username).await?;
    let (password, generated) = new_password(password)?;
    let hash = ctx.hasher.hash(&password).await?;
    let ended = ctx.store.set_user_password_hash(user.id, hash, generated, None, ctx.clock.now()).await?;
    let event = AuditEvent::new("user_password_set")
        .user(user.id)
        .details(serde_json::json!({ "sessions_ended": ended.sessions, "families_revoked": ended.families }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(generated.then_some(password))
}

/// Provisions TOTP for a user who has none, active at once (no code is asked: the
/// administrator hands the secret over); returns the `otpauth://` URI, to be shown once.
pub async fn provision_totp(ctx: &Context<'_>, username: &str, actor: Actor) -> Result<String, FlowError> {
    let user = find(ctx, username).await?;
    if user.has_totp() {
        return Err(FlowError::Mistake(format!(
            "{username} already has TOTP; run `wristband user reset-mfa {username}` first to replace it"
        )));
    }
    let secret = TotpSecret::generate(&totp_issuer_label(&ctx.config.issuer), user.username.as_str())?;
    let url = secret.otpauth_url()?;
    let sealed = ctx.master_key.seal(&totp_purpose(user.id), secret.as_bytes())?;
    let Some(ended) = ctx.store.enable_totp(user.id, sealed, None, &[], None, ctx.clock.now()).await? else {
        return Err(FlowError::Mistake(format!("{username} enrolled TOTP meanwhile; nothing was changed")));
    };
    let event = AuditEvent::new("mfa_enrolled")
        .user(user.id)
        .details(serde_json::json!({ "sessions_ended": ended.sessions, "families_revoked": ended.families }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(url)
}

/// Removes a user's TOTP, recovery codes and passkeys (a lost phone or key, with identity
/// checked by support), and ends their sessions and refresh-token families. `false`: no
/// factor.
pub async fn reset_mfa(ctx: &Context<'_>, username: &str, actor: Actor) -> Result<bool, FlowError> {
    let user = find(ctx, username).await?;
    let passkeys = ctx.store.delete_user_passkeys(user.id).await?;
    let removed = ctx.store.remove_totp(user.id, ctx.clock.now()).await? || passkeys > 0;
    let ended = ctx.store.end_user_sessions(user.id, None, RevocationReason::RevokedByAdmin, ctx.clock.now()).await?;
    let event = AuditEvent::new("mfa_reset").user(user.id).details(serde_json::json!({
        "had_factor": removed, "passkeys_removed": passkeys, "sessions_ended": ended.sessions, "families_revoked": ended.families
    }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(removed)
}

/// Break-glass for a locked-out administrator: a generated password, their second factor
/// and recovery codes removed, every session and family ended. Refused for anyone who is
/// not an administrator (`user set-password` is for them).
pub async fn recover_admin(ctx: &Context<'_>, username: &str, actor: Actor) -> Result<SecretString, FlowError> {
    let user = find(ctx, username).await?;
    if !user.is_admin {
        return Err(FlowError::Mistake(format!(
            "{username} is not an administrator; use `wristband user set-password` and `user reset-mfa`"
        )));
    }
    let password = SecretString::new(generated_password()?);
    let hash = ctx.hasher.hash(&password).await?;
    ctx.store.remove_totp(user.id, ctx.clock.now()).await?;
    ctx.store.delete_user_passkeys(user.id).await?;
    let ended = ctx.store.set_user_password_hash(user.id, hash, true, None, ctx.clock.now()).await?;
    let event = AuditEvent::new("admin_recovered")
        .user(user.id)
        .details(serde_json::json!({ "sessions_ended": ended.sessions, "families_revoked": ended.families }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(password)
}

/// A profile as an administrator edits it: empty email or name clear them; roles are
/// separated by commas or spaces.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub email: String,
    pub name: String,
    pub roles: String,
}

pub async fn update_user_profile(
    ctx: &Context<'_>,
    user_id: Uuid,
    input: ProfileInput,
    actor: Actor,
) -> Result<(), FlowError> {
    let email = Some(input.email.trim()).filter(|e| !e.is_empty()).map(Email::parse).transpose()?;
    let name = Some(input.name.trim()).filter(|n| !n.is_empty()).map(DisplayName::parse).transpose()?;
    let mut roles = input
        .roles
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|r| !r.is_empty())
        .map(Role::parse)
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    let before = ctx.store.find_user(user_id).await?.ok_or_else(|| unknown_user(user_id.to_string()))?;
    let verified = before.email_verified && before.email == email;
    match ctx.store.update_user_profile(user_id, email, verified, name, &roles, ctx.clock.now()).await {
        Err(StoreError::NotFound) => return Err(unknown_user(user_id.to_string())),
        other => other?,
    }
    if let Some(after) = ctx.store.find_user(user_id).await? {
        address_changed(ctx, &before, &after).await?;
    }
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    let event = AuditEvent::new("user_updated").user(user_id).details(serde_json::json!({ "roles": names }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(())
}

/// Ends one browser session of a user (and its refresh-token families); `false` when it
/// is not a live session of theirs.
pub async fn end_user_session(ctx: &Context<'_>, user_id: Uuid, sid: Uuid, actor: Actor) -> Result<bool, FlowError> {
    let live = ctx.store.list_live_sessions(user_id, ctx.clock.now()).await?;
    if !live.iter().any(|s| s.sid == sid) {
        return Ok(false);
    }
    let ended = ctx.store.end_session(sid, RevocationReason::RevokedByAdmin, ctx.clock.now()).await?;
    let event = AuditEvent::new("session_ended").user(user_id).details(serde_json::json!({
        "sid": sid, "reason": RevocationReason::RevokedByAdmin.as_str(), "families_revoked": ended.families
    }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(ended.sessions == 1)
}

/// Removes one of a user's passkeys (reported lost or cloned); `false` when it is not
/// theirs or is gone already.
pub async fn remove_user_passkey(
    ctx: &Context<'_>,
    user_id: Uuid,
    passkey_id: Uuid,
    actor: Actor,
) -> Result<bool, FlowError> {
    if !ctx.store.delete_passkey(user_id, passkey_id).await? {
        return Ok(false);
    }
    let event = AuditEvent::new("passkey_removed").user(user_id).details(serde_json::json!({ "passkey": passkey_id }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(true)
}

/// Revokes one refresh-token family, and with it the access tokens of its grant; `false`
/// when it was revoked already or does not exist.
pub async fn revoke_refresh_family(ctx: &Context<'_>, family_id: Uuid, actor: Actor) -> Result<bool, FlowError> {
    let revoked = ctx.store.revoke_family(family_id, RevocationReason::RevokedByAdmin, ctx.clock.now()).await?;
    if revoked {
        let event = AuditEvent::new("refresh_family_revoked")
            .details(serde_json::json!({ "family": family_id, "reason": RevocationReason::RevokedByAdmin.as_str() }));
        ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    }
    Ok(revoked)
}

async fn find(ctx: &Context<'_>, username: &str) -> Result<User, FlowError> {
    let unknown = || unknown_user(username.to_owned());
    let parsed = Username::parse(username).map_err(|_| unknown())?;
    ctx.store.find_user_by_username(&parsed).await?.ok_or_else(unknown)
}

fn new_password(given: Option<SecretString>) -> Result<(SecretString, bool), FlowError> {
    match given {
        Some(password) => {
            check_policy(password.expose())?;
            Ok((password, false))
        }
        None => Ok((SecretString::new(generated_password()?), true)),
    }
}

fn unknown_user(name: String) -> FlowError {
    FlowError::Mistake(format!("no user `{name}`"))
}
