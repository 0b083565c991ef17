//! Pure planning of key state changes: given the stored keys, which moves make the
//! change, and whether a new `next` key is needed. The store applies a plan atomically,
//! refusing it if another instance changed the keys in between.

use crate::clock::UnixTime;
use crate::model::{KeyMove, KeyState, SigningKeyRecord};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPlan {
    pub moves: Vec<KeyMove>,
    pub needs_new_next: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no key with kid `{0}`")]
    UnknownKid(String),
    #[error("key `{0}` is already revoked")]
    AlreadyRevoked(String),
    #[error("key `{0}` was removed: every token it signed has expired, and it is no longer published")]
    AlreadyRemoved(String),
}

fn kid_in(records: &[SigningKeyRecord], state: KeyState) -> Option<&str> {
    records.iter().find(|r| r.state == state).map(|r| r.kid.as_str())
}

fn moved(kid: &str, from: KeyState, to: KeyState) -> KeyMove {
    KeyMove { kid: kid.to_owned(), from, to }
}

/// What start-up must do so that exactly one key is `active` and one is `next`; `None`
/// when both exist. With no `active` key, `next` is promoted (it is already published).
pub fn plan_ensure(records: &[SigningKeyRecord]) -> Option<KeyPlan> {
    match (kid_in(records, KeyState::Active), kid_in(records, KeyState::Next)) {
        (Some(_), Some(_)) => None,
        (Some(_), None) => Some(KeyPlan { moves: vec![], needs_new_next: true }),
        (None, Some(next)) => {
            Some(KeyPlan { moves: vec![moved(next, KeyState::Next, KeyState::Active)], needs_new_next: true })
        }
        (None, None) => Some(KeyPlan { moves: vec![], needs_new_next: true }),
    }
}

/// A rotation: `next` becomes `active`, the old `active` becomes `retired`, and a new
/// `next` is made. Without a `next` key (a damaged store), the new key is made `next`
/// and a later rotation promotes it.
pub fn plan_rotation(records: &[SigningKeyRecord]) -> KeyPlan {
    let mut moves = Vec::new();
    if let Some(next) = kid_in(records, KeyState::Next) {
        if let Some(active) = kid_in(records, KeyState::Active) {
            moves.push(moved(active, KeyState::Active, KeyState::Retired));
        }
        moves.push(moved(next, KeyState::Next, KeyState::Active));
    }
    KeyPlan { moves, needs_new_next: true }
}

/// An emergency revocation. Revoking the `active` key promotes `next` at once; revoking
/// `active` or `next` makes a new `next`.
pub fn plan_revoke(records: &[SigningKeyRecord], kid: &str) -> Result<KeyPlan, PlanError> {
    let record = records.iter().find(|r| r.kid == kid).ok_or_else(|| PlanError::UnknownKid(kid.to_owned()))?;
    let mut moves = vec![moved(kid, record.state, KeyState::Revoked)];
    match record.state {
        KeyState::Revoked => Err(PlanError::AlreadyRevoked(kid.to_owned())),
        KeyState::Removed => Err(PlanError::AlreadyRemoved(kid.to_owned())),
        KeyState::Retired => Ok(KeyPlan { moves, needs_new_next: false }),
        KeyState::Next => Ok(KeyPlan { moves, needs_new_next: true }),
        KeyState::Active => {
            if let Some(next) = kid_in(records, KeyState::Next) {
                moves.push(moved(next, KeyState::Next, KeyState::Active));
            }
            Ok(KeyPlan { moves, needs_new_next: true })
        }
    }
}

/// Removes the retired keys whose tokens have all expired: retired at least
/// `longest_token_seconds` ago. Published keys never shrink below `active` and `next`.
pub fn plan_removals(records: &[SigningKeyRecord], now: UnixTime, longest_token_seconds: i64) -> Option<KeyPlan> {
    let moves: Vec<KeyMove> = records
        .iter()
        .filter(|r| r.state == KeyState::Retired)
        .filter(|r| r.retired_at.is_some_and(|at| at + longest_token_seconds <= now))
        .map(|r| moved(&r.kid, KeyState::Retired, KeyState::Removed))
        .collect();
    (!moves.is_empty()).then_some(KeyPlan { moves, needs_new_next: false })
}

/// Whether the `active` key has signed for `rotate_every` seconds, so a scheduled
/// rotation is due.
pub fn rotation_due(records: &[SigningKeyRecord], now: UnixTime, rotate_every: i64) -> bool {
    let activated = records.iter().find(|r| r.state == KeyState::Active).and_then(|r| r.activated_at);
    activated.is_some_and(|at| at + rotate_every <= now)
}

/// Until when verifiers that cache the JWKS for `max_age` seconds may lack the `next` key
/// (it was published less than `max_age` ago); `None` when every cache has it by now.
pub fn next_key_unseen_until(records: &[SigningKeyRecord], now: UnixTime, max_age: i64) -> Option<UnixTime> {
    let next = records.iter().find(|r| r.state == KeyState::Next)?;
    let seen_by_all = next.created_at + max_age;
    (seen_by_all > now).then_some(seen_by_all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, state: KeyState) -> SigningKeyRecord {
        SigningKeyRecord {
            kid: kid.to_owned(),
            state,
            algorithm: "RS256".to_owned(),
            key_bits: 2048,
            sealed_private_key: vec![],
            public_jwk: "{}".to_owned(),
            created_at: 0,
            activated_at: None,
            retired_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn ensure_creates_keys_only_when_missing() {
        assert_eq!(plan_ensure(&[]), Some(KeyPlan { moves: vec![], needs_new_next: true }));
        assert_eq!(plan_ensure(&[key("a", KeyState::Active), key("n", KeyState::Next)]), None);
        let plan = plan_ensure(&[key("n", KeyState::Next)]).unwrap();
        assert_eq!(plan.moves, vec![moved("n", KeyState::Next, KeyState::Active)]);
    }

    #[test]
    fn rotation_promotes_next_and_retires_active() {
        let plan = plan_rotation(&[key("r", KeyState::Retired), key("a", KeyState::Active), key("n", KeyState::Next)]);
        assert_eq!(
            plan.moves,
            vec![moved("a", KeyState::Active, KeyState::Retired), moved("n", KeyState::Next, KeyState::Active)]
        );
        assert!(plan.needs_new_next);
    }

    #[test]
    fn revoking_the_active_key_promotes_next() {
        let keys = [key("a", KeyState::Active), key("n", KeyState::Next)];
        let plan = plan_revoke(&keys, "a").unwrap();
        assert_eq!(
            plan.moves,
            vec![moved("a", KeyState::Active, KeyState::Revoked), moved("n", KeyState::Next, KeyState::Active)]
        );
        assert!(plan.needs_new_next);
    }

    #[test]
    fn revoking_a_retired_key_changes_nothing_else() {
        let keys = [key("r", KeyState::Retired), key("a", KeyState::Active), key("n", KeyState::Next)];
        let plan = plan_revoke(&keys, "r").unwrap();
        assert_eq!(
            plan,
            KeyPlan { moves: vec![moved("r", KeyState::Retired, KeyState::Revoked)], needs_new_next: false }
        );
    }

    #[test]
    fn revoking_unknown_revoked_or_removed_keys_is_refused() {
        let keys = [key("x", KeyState::Revoked), key("y", KeyState::Removed)];
        assert_eq!(plan_revoke(&keys, "nope"), Err(PlanError::UnknownKid("nope".into())));
        assert_eq!(plan_revoke(&keys, "x"), Err(PlanError::AlreadyRevoked("x".into())));
        assert_eq!(plan_revoke(&keys, "y"), Err(PlanError::AlreadyRemoved("y".into())));
    }

    #[test]
    fn retired_keys_are_removed_once_their_longest_token_has_expired() {
        let retired = |kid: &str, at| SigningKeyRecord { retired_at: Some(at), ..key(kid, KeyState::Retired) };
        let keys = [retired("old", 1_000), retired("recent", 1_500), key("a", KeyState::Active)];
        assert_eq!(plan_removals(&keys, 1_959, 960), None);
        let plan = plan_removals(&keys, 1_960, 960).unwrap();
        assert_eq!(plan.moves, vec![moved("old", KeyState::Retired, KeyState::Removed)]);
        assert!(!plan.needs_new_next);
    }

    #[test]
    fn a_rotation_is_due_when_the_active_key_has_signed_long_enough() {
        let keys = [SigningKeyRecord { activated_at: Some(100), ..key("a", KeyState::Active) }];
        assert!(!rotation_due(&keys, 199, 100));
        assert!(rotation_due(&keys, 200, 100));
        assert!(!rotation_due(&[], 200, 100), "no active key, nothing to rotate");
    }

    #[test]
    fn a_next_key_is_unseen_until_every_cache_has_expired() {
        let keys = [SigningKeyRecord { created_at: 1_000, ..key("n", KeyState::Next) }];
        assert_eq!(next_key_unseen_until(&keys, 1_100, 300), Some(1_300));
        assert_eq!(next_key_unseen_until(&keys, 1_300, 300), None);
    }
}
