//! The signing-key lifecycle: make sure keys exist, rotate, revoke, and keep this
//! instance's keystore in step with the database.

use crate::clock::{Clock, UnixTime, format_rfc3339};
use crate::config::Config;
use crate::flows::Actor;
use crate::keys::{
    KeyError, KeyPlan, Keystore, PlanError, generate_rsa_key, next_key_unseen_until, plan_ensure, plan_removals,
    plan_revoke, plan_rotation, rotation_due,
};
use crate::model::{KeyState, KeyTransition, SigningKeyRecord};
use crate::security::master_key::MasterKey;
use crate::store::{AuditEvent, Store, StoreError};
use crate::tokens::LEEWAY_SECONDS;

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
pub struct KeyRotation {
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
            let kids = serde_json::json!({ "active": active.kid, "next": next.kid });
            let keys = vec![(active, KeyState::Active), (next, KeyState::Next)];
            ctx.store.insert_signing_keys(keys, ctx.clock.now()).await.map_err(KeyFlowError::from).map(|()| kids)
        } else {
            let promoted = plan.moves.iter().find(|m| m.to == KeyState::Active).map(|m| m.kid.clone());
            apply(ctx, plan).await.map(|next| serde_json::json!({ "active": promoted, "next": next }))
        };
        match result {
            Ok(kids) => {
                tracing::info!(first_start, "signing keys ready");
                let event = AuditEvent::new("signing_keys_created").details(kids);
                ctx.store.record_audit(Actor::System.stamp(event), ctx.clock.now()).await?;
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
pub async fn rotate_signing_keys(ctx: &KeyContext<'_>, actor: Actor) -> Result<KeyRotation, KeyFlowError> {
    let records = ctx.store.list_signing_keys().await?;
    rotate_from(ctx, &records, actor).await
}

/// Rotates from the keys as `records` saw them: if another instance changed them since,
/// the store refuses the whole transition and nothing happens here.
async fn rotate_from(
    ctx: &KeyContext<'_>,
    records: &[SigningKeyRecord],
    actor: Actor,
) -> Result<KeyRotation, KeyFlowError> {
    let plan = plan_rotation(records);
    let moved_to = |state: KeyState| plan.moves.iter().find(|m| m.to == state).map(|m| m.kid.clone());
    let activated = moved_to(KeyState::Active);
    let retired = moved_to(KeyState::Retired);
    let new_next = apply(ctx, plan).await?.unwrap_or_default();
    let rotation = KeyRotation { activated, retired, new_next };
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

/// A rotation now would activate a `next` key that some verifiers may not hold yet: it
/// was published less than one JWKS cache lifetime ago.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyRotation {
    pub next_kid: String,
    /// When the last JWKS cache that predates the key expires.
    pub cached_until: UnixTime,
}

impl EarlyRotation {
    pub fn explain(&self, now: UnixTime) -> String {
        format!(
            "The next key {} was published {} s before every JWKS cache has expired. Until {}, verifiers \
             that cache the JWKS and do not refetch it when they meet an unknown kid will reject tokens \
             signed after this rotation; verifiers that refetch on an unknown kid are not affected.",
            self.next_kid,
            self.cached_until - now,
            format_rfc3339(self.cached_until)
        )
    }
}

/// Whether rotating now would be early (see `EarlyRotation`).
pub async fn early_rotation(
    store: &Store,
    now: UnixTime,
    jwks_max_age_seconds: u32,
) -> Result<Option<EarlyRotation>, StoreError> {
    let records = store.list_signing_keys().await?;
    let next_kid = records.iter().find(|r| r.state == KeyState::Next).map(|r| r.kid.clone());
    Ok(next_key_unseen_until(&records, now, i64::from(jwks_max_age_seconds))
        .zip(next_kid)
        .map(|(cached_until, next_kid)| EarlyRotation { next_kid, cached_until }))
}

/// When keys leave the JWKS and when they rotate on their own.
#[derive(Debug, Clone, Copy)]
pub struct KeySchedule {
    /// `keys.rotate_every`; `None`: only on demand.
    pub rotate_every_seconds: Option<i64>,
    /// How long after retirement a key may still have valid tokens: the longest access or
    /// ID token lifetime (any client's included) plus the verification leeway.
    pub longest_token_seconds: i64,
}

impl KeySchedule {
    pub async fn from_config(store: &Store, config: &Config) -> Result<Self, StoreError> {
        let tokens = &config.tokens;
        let client_longest = store.longest_client_access_token_seconds().await?.unwrap_or(0);
        let longest = tokens.access_token_seconds.max(tokens.id_token_seconds).max(client_longest);
        Ok(Self {
            rotate_every_seconds: config.keys.rotate_every_seconds,
            longest_token_seconds: longest + LEEWAY_SECONDS,
        })
    }
}

/// What one round of key maintenance did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maintenance {
    pub removed: Vec<String>,
    pub rotated: Option<KeyRotation>,
}

/// Takes retired keys whose tokens have all expired out of the JWKS, and rotates when the
/// schedule says so. Every instance runs this; each change is conditional on the keys it
/// read, so when several notice at once exactly one acts and the others do nothing.
pub async fn maintain_signing_keys(ctx: &KeyContext<'_>, schedule: KeySchedule) -> Result<Maintenance, KeyFlowError> {
    let now = ctx.clock.now();
    let mut done = Maintenance::default();
    let records = ctx.store.list_signing_keys().await?;
    if let Some(plan) = plan_removals(&records, now, schedule.longest_token_seconds) {
        let kids: Vec<String> = plan.moves.iter().map(|m| m.kid.clone()).collect();
        match apply(ctx, plan).await {
            Ok(_) => {
                for kid in &kids {
                    let event = AuditEvent::new("key_removed").details(serde_json::json!({ "kid": kid }));
                    ctx.store.record_audit(Actor::System.stamp(event), now).await?;
                }
                done.removed = kids;
            }
            Err(KeyFlowError::Concurrent) => {}
            Err(err) => return Err(err),
        }
    }
    if let Some(every) = schedule.rotate_every_seconds
        && rotation_due(&records, now, every)
    {
        let records = ctx.store.list_signing_keys().await?;
        if rotation_due(&records, now, every) {
            match rotate_from(ctx, &records, Actor::System).await {
                Ok(rotation) => done.rotated = Some(rotation),
                Err(KeyFlowError::Concurrent) => {}
                Err(err) => return Err(err),
            }
        }
    }
    Ok(done)
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
