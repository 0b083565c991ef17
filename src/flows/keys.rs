//! The signing-key lifecycle: make sure keys exist, rotate, revoke, and keep this
//! instance's keystore in step with the database. A change made here (by the admin UI or
//! the CLI) is loaded into this instance's keystore before the flow returns; the other
//! instances follow within `KEY_REFRESH_INTERVAL`.

use crate::clock::{UnixTime, format_rfc3339};
use crate::flows::error::FlowError;
use crate::flows::{Actor, Context};
use crate::keys::{
    KeyPlan, generate_rsa_key, next_key_unseen_until, plan_ensure, plan_removals, plan_revoke, plan_rotation,
    rotation_due,
};
use crate::model::{KeyState, KeyTransition, NewSigningKey, SigningKeyRecord};
use crate::store::{AuditEvent, StoreError};
use crate::tokens::LEEWAY_SECONDS;

/// What a change of the keys came to: done, or not done because another instance changed
/// them between our read and our write (its change stands; nothing was done here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange<T> {
    Done(T),
    Raced,
}

impl<T> KeyChange<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> KeyChange<U> {
        match self {
            Self::Done(value) => KeyChange::Done(f(value)),
            Self::Raced => KeyChange::Raced,
        }
    }
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
pub async fn ensure_signing_keys(ctx: &Context<'_>) -> Result<(), FlowError> {
    for _ in 0..3 {
        let records = ctx.store.list_signing_keys().await?;
        let Some(plan) = plan_ensure(&records) else { return Ok(()) };
        let first_start = records.is_empty();
        let change = if first_start {
            // Both keys in one transaction, so no instance ever sees an active key alone.
            let active = generate(ctx).await?;
            let next = generate(ctx).await?;
            let kids = serde_json::json!({ "active": active.kid, "next": next.kid });
            let keys = vec![(active, KeyState::Active), (next, KeyState::Next)];
            unless_raced(ctx.store.insert_signing_keys(keys, ctx.clock.now()).await)?.map(|()| kids)
        } else {
            let promoted = plan.moves.iter().find(|m| m.to == KeyState::Active).map(|m| m.kid.clone());
            apply(ctx, plan).await?.map(|next| serde_json::json!({ "active": promoted, "next": next }))
        };
        if let KeyChange::Done(kids) = change {
            tracing::info!(first_start, "signing keys ready");
            let event = AuditEvent::new("signing_keys_created").details(kids);
            ctx.store.record_audit(Actor::System.stamp(event), ctx.clock.now()).await?;
            return Ok(());
        }
    }
    Err(FlowError::Internal("the signing keys kept changing under three attempts to ensure them".into()))
}

/// "Rotate now": `next` signs from now on, the old `active` is retired (still published),
/// and a new `next` is published for verifiers to cache before it signs anything. This
/// instance signs with the new key when the flow returns.
pub async fn rotate_signing_keys(ctx: &Context<'_>, actor: Actor) -> Result<KeyChange<KeyRotation>, FlowError> {
    let records = ctx.store.list_signing_keys().await?;
    let change = rotate_from(ctx, &records, actor).await?;
    if let KeyChange::Done(_) = change {
        ctx.metrics.key_rotated();
        reload_after_change(ctx).await;
    }
    Ok(change)
}

/// Rotates from the keys as `records` saw them: if another instance changed them since,
/// the store refuses the whole transition and nothing happens here.
async fn rotate_from(
    ctx: &Context<'_>,
    records: &[SigningKeyRecord],
    actor: Actor,
) -> Result<KeyChange<KeyRotation>, FlowError> {
    let plan = plan_rotation(records);
    let moved_to = |state: KeyState| plan.moves.iter().find(|m| m.to == state).map(|m| m.kid.clone());
    let activated = moved_to(KeyState::Active);
    let retired = moved_to(KeyState::Retired);
    let KeyChange::Done(new_next) = apply(ctx, plan).await? else { return Ok(KeyChange::Raced) };
    let rotation = KeyRotation { activated, retired, new_next: new_next.unwrap_or_default() };
    let event = AuditEvent::new("key_rotated").details(serde_json::json!({
        "activated": rotation.activated,
        "retired": rotation.retired,
        "next": rotation.new_next,
    }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(KeyChange::Done(rotation))
}

/// Revokes a key at once: it leaves the JWKS and its tokens stop verifying. Revoking the
/// `active` key promotes `next` in the same transaction. An unknown or already revoked
/// key is the caller's mistake.
pub async fn revoke_signing_key(ctx: &Context<'_>, kid: &str, actor: Actor) -> Result<KeyChange<()>, FlowError> {
    let records = ctx.store.list_signing_keys().await?;
    let plan = plan_revoke(&records, kid)?;
    let previous_state = plan.moves.first().map(|m| m.from.as_str());
    let event =
        AuditEvent::new("key_revoked").details(serde_json::json!({ "kid": kid, "previous_state": previous_state }));
    if let KeyChange::Raced = apply(ctx, plan).await? {
        return Ok(KeyChange::Raced);
    }
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    reload_after_change(ctx).await;
    Ok(KeyChange::Done(()))
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
pub async fn early_rotation(ctx: &Context<'_>) -> Result<Option<EarlyRotation>, FlowError> {
    let records = ctx.store.list_signing_keys().await?;
    let next_kid = records.iter().find(|r| r.state == KeyState::Next).map(|r| r.kid.clone());
    let max_age = i64::from(ctx.config.keys.jwks_max_age_seconds);
    Ok(next_key_unseen_until(&records, ctx.clock.now(), max_age)
        .zip(next_kid)
        .map(|(cached_until, next_kid)| EarlyRotation { next_kid, cached_until }))
}

/// When keys leave the JWKS and when they rotate on their own.
#[derive(Debug, Clone, Copy)]
pub struct KeySchedule {
    /// `keys.rotate_every`; `None`: only on demand.
    pub rotate_every_seconds: Option<i64>,
    /// How long after retirement a key may still have valid tokens: the longest access or
    /// ID token lifetime (any client's and API's included) plus the verification leeway.
    pub longest_token_seconds: i64,
}

impl KeySchedule {
    pub async fn from_config(ctx: &Context<'_>) -> Result<Self, FlowError> {
        let tokens = &ctx.config.tokens;
        let client_longest = ctx.store.longest_client_access_token_seconds().await?.unwrap_or(0);
        let api_longest = ctx.store.longest_api_access_token_seconds().await?.unwrap_or(0);
        let longest = tokens.access_token_seconds.max(tokens.id_token_seconds).max(client_longest).max(api_longest);
        Ok(Self {
            rotate_every_seconds: ctx.config.keys.rotate_every_seconds,
            longest_token_seconds: longest + LEEWAY_SECONDS,
        })
    }
}

/// Every stored key, newest first, and the schedule that moves them: what the admin page
/// and `wristband keys list` show.
pub async fn signing_keys(ctx: &Context<'_>) -> Result<(Vec<SigningKeyRecord>, KeySchedule), FlowError> {
    let mut keys = ctx.store.list_signing_keys().await?;
    keys.reverse();
    Ok((keys, KeySchedule::from_config(ctx).await?))
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
pub async fn maintain_signing_keys(ctx: &Context<'_>, schedule: KeySchedule) -> Result<Maintenance, FlowError> {
    let now = ctx.clock.now();
    let mut done = Maintenance::default();
    let records = ctx.store.list_signing_keys().await?;
    if let Some(plan) = plan_removals(&records, now, schedule.longest_token_seconds) {
        let kids: Vec<String> = plan.moves.iter().map(|m| m.kid.clone()).collect();
        if let KeyChange::Done(_) = apply(ctx, plan).await? {
            for kid in &kids {
                let event = AuditEvent::new("key_removed").details(serde_json::json!({ "kid": kid }));
                ctx.store.record_audit(Actor::System.stamp(event), now).await?;
            }
            done.removed = kids;
        }
    }
    if let Some(every) = schedule.rotate_every_seconds
        && rotation_due(&records, now, every)
    {
        let records = ctx.store.list_signing_keys().await?;
        if rotation_due(&records, now, every)
            && let KeyChange::Done(rotation) = rotate_from(ctx, &records, Actor::System).await?
        {
            ctx.metrics.key_rotated();
            done.rotated = Some(rotation);
        }
    }
    Ok(done)
}

/// Reloads the stored keys into this instance's keystore; returns whether they changed.
pub async fn refresh_keystore(ctx: &Context<'_>) -> Result<bool, FlowError> {
    let records = ctx.store.list_signing_keys().await?;
    Ok(ctx.keystore.update(&records)?)
}

/// After a change made here: sign (or stop signing) as just decided. If loading fails now,
/// the key refresh loop loads the change within `KEY_REFRESH_INTERVAL`.
async fn reload_after_change(ctx: &Context<'_>) {
    if let Err(err) = refresh_keystore(ctx).await {
        tracing::warn!(error = %err, "keys changed but not reloaded yet; the key refresh loop will");
    }
}

/// Applies a plan, generating its new `next` key first; the new key's kid, if any.
async fn apply(ctx: &Context<'_>, plan: KeyPlan) -> Result<KeyChange<Option<String>>, FlowError> {
    let new_next = if plan.needs_new_next { Some(generate(ctx).await?) } else { None };
    let kid = new_next.as_ref().map(|k| k.kid.clone());
    let transition = KeyTransition { moves: plan.moves, new_next };
    Ok(unless_raced(ctx.store.apply_key_transition(transition, ctx.clock.now()).await)?.map(|()| kid))
}

/// A conditional key write refused because the keys changed since they were read.
fn unless_raced(written: Result<(), StoreError>) -> Result<KeyChange<()>, FlowError> {
    match written {
        Ok(()) => Ok(KeyChange::Done(())),
        Err(StoreError::Conflict(_)) => Ok(KeyChange::Raced),
        Err(err) => Err(err.into()),
    }
}

async fn generate(ctx: &Context<'_>) -> Result<NewSigningKey, FlowError> {
    let master_key = ctx.master_key.clone();
    let bits = ctx.config.keys.rsa_bits;
    let generated = tokio::task::spawn_blocking(move || generate_rsa_key(bits, &master_key))
        .await
        .map_err(|join| FlowError::Internal(Box::new(join)))?;
    Ok(generated?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::testkit::FlowTest;

    /// The kids the JWKS this instance serves publishes.
    fn published(t: &FlowTest) -> Vec<String> {
        let jwks: serde_json::Value = serde_json::from_slice(&t.keystore.current().jwks.body).unwrap();
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    }

    fn kid_in(keys: &[SigningKeyRecord], state: KeyState) -> String {
        keys.iter().find(|k| k.state == state).map(|k| k.kid.clone()).unwrap_or_default()
    }

    async fn stored(t: &FlowTest) -> Vec<SigningKeyRecord> {
        t.store.list_signing_keys().await.unwrap()
    }

    #[tokio::test]
    async fn a_rotation_promotes_next_retires_active_and_signs_here_when_it_returns() {
        let t = FlowTest::with_keys().await;
        let before = stored(&t).await;

        let KeyChange::Done(rotation) = rotate_signing_keys(&t.ctx(), Actor::Cli).await.unwrap() else {
            panic!("nothing else rotates")
        };

        let after = stored(&t).await;
        assert_eq!(rotation.activated.as_deref(), Some(kid_in(&before, KeyState::Next).as_str()));
        assert_eq!(rotation.retired.as_deref(), Some(kid_in(&before, KeyState::Active).as_str()));
        assert_eq!(kid_in(&after, KeyState::Next), rotation.new_next);
        assert_eq!(t.keystore.current().active_kid(), rotation.activated.as_deref(), "no wait for the refresh loop");
        assert_eq!(published(&t).len(), 3, "the retired key is still published");
    }

    #[tokio::test]
    async fn concurrent_rotations_leave_one_active_and_one_next_key_and_the_losers_change_nothing() {
        let t = FlowTest::with_keys().await;
        let ctx = t.ctx();

        let (a, b, c) = tokio::join!(
            rotate_signing_keys(&ctx, Actor::Cli),
            rotate_signing_keys(&ctx, Actor::Cli),
            rotate_signing_keys(&ctx, Actor::Cli)
        );

        let done = [a, b, c].into_iter().map(Result::unwrap).filter(|c| matches!(c, KeyChange::Done(_))).count();
        let keys = stored(&t).await;
        let count = |state| keys.iter().filter(|k| k.state == state).count();
        assert!(done >= 1);
        assert_eq!((count(KeyState::Active), count(KeyState::Next), count(KeyState::Retired)), (1, 1, done));
    }

    #[tokio::test]
    async fn rotating_before_every_jwks_cache_can_hold_the_next_key_is_flagged_until_it_can() {
        let t = FlowTest::with_keys().await;
        let next = stored(&t).await.into_iter().find(|k| k.state == KeyState::Next).unwrap();
        let max_age = i64::from(t.config.keys.jwks_max_age_seconds);

        let early = early_rotation(&t.ctx()).await.unwrap().expect("just published");
        t.clock.advance(max_age);
        let later = early_rotation(&t.ctx()).await.unwrap();

        assert_eq!((early.next_kid, early.cached_until), (next.kid, next.created_at + max_age));
        assert_eq!(later, None);
    }

    #[tokio::test]
    async fn revoking_the_active_key_promotes_next_at_once_and_a_second_revocation_is_a_mistake() {
        let t = FlowTest::with_keys().await;
        let before = stored(&t).await;
        let active = kid_in(&before, KeyState::Active);

        let revoked = revoke_signing_key(&t.ctx(), &active, Actor::Cli).await.unwrap();
        let again = revoke_signing_key(&t.ctx(), &active, Actor::Cli).await;
        let unknown = revoke_signing_key(&t.ctx(), "no-such-kid", Actor::Cli).await;

        assert_eq!(revoked, KeyChange::Done(()));
        assert_eq!(t.keystore.current().active_kid(), Some(kid_in(&before, KeyState::Next).as_str()));
        assert!(!published(&t).contains(&active), "it left the JWKS");
        assert!(matches!(again, Err(FlowError::Mistake(m)) if m.contains("already revoked")));
        assert!(matches!(unknown, Err(FlowError::Mistake(m)) if m.contains("no key with kid")));
    }

    #[tokio::test]
    async fn a_retired_key_leaves_the_jwks_only_once_its_longest_token_has_expired() {
        let t = FlowTest::with_keys().await;
        let old = kid_in(&stored(&t).await, KeyState::Active);
        rotate_signing_keys(&t.ctx(), Actor::Cli).await.unwrap();
        let schedule = KeySchedule::from_config(&t.ctx()).await.unwrap();

        t.clock.advance(schedule.longest_token_seconds - 1);
        let early = maintain_signing_keys(&t.ctx(), schedule).await.unwrap();
        t.clock.advance(1);
        let due = maintain_signing_keys(&t.ctx(), schedule).await.unwrap();

        assert_eq!(early, Maintenance::default());
        assert_eq!(due.removed, vec![old.clone()]);
        assert_eq!(stored(&t).await.iter().find(|k| k.kid == old).unwrap().state, KeyState::Removed);
    }
}
