//! The signing-key lifecycle: make sure keys exist, rotate, revoke, and keep this
//! instance's keystore in step with the database.

use crate::clock::Clock;
use crate::flows::Actor;
use crate::keys::{KeyError, KeyPlan, Keystore, PlanError, generate_rsa_key, plan_ensure, plan_revoke, plan_rotation};
use crate::model::{KeyState, KeyTransition};
use crate::security::master_key::MasterKey;
use crate::store::{AuditEvent, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum KeyFlowError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Another instance changed the keys between our read and our write; nothing was done.
    #[error("the signing keys were changed by another instance at the same moment; nothing was changed here")]
    Concurrent,
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(StoreError),
    #[error("key generation was cancelled")]
    Cancelled,
}

impl From<StoreError> for KeyFlowError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(_) => Self::Concurrent,
            other => Self::Store(other),
        }
    }
}

/// The key-related settings and secrets every key flow needs.
#[derive(Debug, Clone)]
pub struct KeyContext<'a> {
    pub store: &'a Store,
    pub master_key: &'a MasterKey,
    pub clock: &'a dyn Clock,
    pub rsa_bits: u32,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub activated: Option<String>,
    pub retired: Option<String>,
    pub new_next: String,
}

/// Makes sure exactly one key is `active` and one is `next`, creating what is missing.
/// Several instances may run this at once: the losers of the race re-read and find the
/// winner's keys.
pub async fn ensure_signing_keys(ctx: &KeyContext<'_>) -> Result<(), KeyFlowError> {
    for _ in 0..3 {
        let records = ctx.store.list_signing_keys().await?;
        let Some(plan) = plan_ensure(&records) else { return Ok(()) };
        let first_start = records.is_empty();
        let result = if first_start {
            // Both keys in one transaction, so no instance ever sees an active key alone.
            let active = generate(ctx).await?;
            let next = generate(ctx).await?;
            let keys = vec![(active, KeyState::Active), (next, KeyState::Next)];
            ctx.store.insert_signing_keys(keys, ctx.clock.now()).await.map_err(KeyFlowError::from)
        } else {
            apply(ctx, plan).await.map(|_| ())
        };
        match result {
            Ok(()) => {
                tracing::info!(first_start, "signing keys ready");
                return Ok(());
            }
            Err(KeyFlowError::Concurrent) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(KeyFlowError::Concurrent)
}

/// Rotates: `next` signs from now on, the old `active` is retired (still published), and a
/// new `next` is published for verifiers to cache before it signs anything.
pub async fn rotate_signing_keys(ctx: &KeyContext<'_>, actor: Actor) -> Result<Rotation, KeyFlowError> {
    let records = ctx.store.list_signing_keys().await?;
    let plan = plan_rotation(&records);
    let moved_to = |state: KeyState| plan.moves.iter().find(|m| m.to == state).map(|m| m.kid.clone());
    let activated = moved_to(KeyState::Active);
    let retired = moved_to(KeyState::Retired);
    let new_next = apply(ctx, plan).await?.unwrap_or_default();
    let rotation = Rotation { activated, retired, new_next };
    let event = AuditEvent::new("key_rotated").details(serde_json::json!({
        "activated": rotation.activated,
        "retired": rotation.retired,
        "next": rotation.new_next,
    }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(rotation)
}

/// Revokes a key at once: it leaves the JWKS and its tokens stop verifying. Revoking the
/// `active` key promotes `next` in the same transaction.
pub async fn revoke_signing_key(ctx: &KeyContext<'_>, kid: &str, actor: Actor) -> Result<(), KeyFlowError> {
    let records = ctx.store.list_signing_keys().await?;
    let plan = plan_revoke(&records, kid)?;
    let previous_state = plan.moves.first().map(|m| m.from.as_str());
    let event =
        AuditEvent::new("key_revoked").details(serde_json::json!({ "kid": kid, "previous_state": previous_state }));
    apply(ctx, plan).await?;
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(())
}

/// Reloads the stored keys into this instance's keystore; returns whether they changed.
pub async fn refresh_keystore(store: &Store, keystore: &Keystore) -> Result<bool, KeyFlowError> {
    let records = store.list_signing_keys().await?;
    Ok(keystore.update(&records)?)
}

/// Applies a plan, generating its new `next` key first; returns the new key's kid.
async fn apply(ctx: &KeyContext<'_>, plan: KeyPlan) -> Result<Option<String>, KeyFlowError> {
    let new_next = if plan.needs_new_next { Some(generate(ctx).await?) } else { None };
    let kid = new_next.as_ref().map(|k| k.kid.clone());
    ctx.store.apply_key_transition(KeyTransition { moves: plan.moves, new_next }, ctx.clock.now()).await?;
    Ok(kid)
}

async fn generate(ctx: &KeyContext<'_>) -> Result<crate::model::NewSigningKey, KeyFlowError> {
    let master_key = ctx.master_key.clone();
    let bits = ctx.rsa_bits;
    tokio::task::spawn_blocking(move || generate_rsa_key(bits, &master_key))
        .await
        .map_err(|_| KeyFlowError::Cancelled)?
        .map_err(KeyFlowError::from)
}
