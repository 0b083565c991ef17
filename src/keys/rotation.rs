//! Pure planning of key state changes: given the stored keys, which moves make the
//! change, and whether a new `next` key is needed. The store applies a plan atomically,
//! refusing it if another instance changed the keys in between.

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
    fn revoking_unknown_or_revoked_keys_is_refused() {
        let keys = [key("x", KeyState::Revoked)];
        assert_eq!(plan_revoke(&keys, "nope"), Err(PlanError::UnknownKid("nope".into())));
        assert_eq!(plan_revoke(&keys, "x"), Err(PlanError::AlreadyRevoked("x".into())));
    }
}
