//! Passkeys and their ceremonies. A ceremony is taken once (a delete checked by affected
//! rows), and a passkey's use is recorded only if its counter is still the one the check
//! saw, so two assertions racing with the same counter cannot both sign in.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::entities::{passkey, passkey_ceremony};
use super::{Store, StoreError};
use crate::clock::UnixTime;
use crate::model::{CeremonyPurpose, Destination, PasskeyCeremony, PasskeyName, PasskeyRecord};

/// A verified registration, to be kept.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    pub user_id: Uuid,
    pub credential_hash: String,
    pub name: PasskeyName,
    pub credential: webauthn_rs::prelude::Passkey,
    pub aaguid: Option<Uuid>,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub sign_count: u32,
}

/// A verified assertion: the passkey's new counter and flags.
#[derive(Debug, Clone)]
pub struct PasskeyUse {
    pub id: Uuid,
    /// The counter the check compared against: the update applies only if it is unchanged.
    pub previous_count: u32,
    pub credential: webauthn_rs::prelude::Passkey,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

impl Store {
    /// Keeps a passkey; `None` when its credential is registered already (to anyone).
    pub async fn insert_passkey(&self, new: NewPasskey, now: UnixTime) -> Result<Option<PasskeyRecord>, StoreError> {
        let id = Uuid::new_v4();
        let row = passkey::ActiveModel {
            id: Set(id),
            user_id: Set(new.user_id),
            credential_hash: Set(new.credential_hash),
            name: Set(new.name.to_string()),
            credential: Set(credential_json(&new.credential)?),
            aaguid: Set(new.aaguid),
            backup_eligible: Set(new.backup_eligible),
            backed_up: Set(new.backed_up),
            sign_count: Set(i64::from(new.sign_count)),
            created_at: Set(now),
            last_used_at: Set(None),
        };
        match row.insert(&self.db).await.map_err(StoreError::from) {
            Ok(row) => Ok(Some(record(row)?)),
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// A person's passkeys, oldest first.
    pub async fn list_passkeys(&self, user_id: Uuid) -> Result<Vec<PasskeyRecord>, StoreError> {
        let rows = passkey::Entity::find()
            .filter(passkey::Column::UserId.eq(user_id))
            .order_by_asc(passkey::Column::CreatedAt)
            .order_by_asc(passkey::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter().map(record).collect()
    }

    /// The passkey an assertion names, by the SHA-256 of its credential id.
    pub async fn find_passkey(&self, credential_hash: &str) -> Result<Option<PasskeyRecord>, StoreError> {
        let row =
            passkey::Entity::find().filter(passkey::Column::CredentialHash.eq(credential_hash)).one(&self.db).await?;
        row.map(record).transpose()
    }

    /// Records a verified use; `false` when another use changed the counter first.
    pub async fn record_passkey_use(&self, used: PasskeyUse, now: UnixTime) -> Result<bool, StoreError> {
        let updated = passkey::Entity::update_many()
            .col_expr(passkey::Column::Credential, Expr::value(credential_json(&used.credential)?))
            .col_expr(passkey::Column::SignCount, Expr::value(i64::from(used.sign_count)))
            .col_expr(passkey::Column::BackupEligible, Expr::value(used.backup_eligible))
            .col_expr(passkey::Column::BackedUp, Expr::value(used.backed_up))
            .col_expr(passkey::Column::LastUsedAt, Expr::value(now))
            .filter(passkey::Column::Id.eq(used.id))
            .filter(passkey::Column::SignCount.eq(i64::from(used.previous_count)))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Renames one of a person's passkeys; `false` when it is not theirs.
    pub async fn rename_passkey(&self, user_id: Uuid, id: Uuid, name: &PasskeyName) -> Result<bool, StoreError> {
        let updated = passkey::Entity::update_many()
            .col_expr(passkey::Column::Name, Expr::value(name.to_string()))
            .filter(passkey::Column::Id.eq(id))
            .filter(passkey::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Removes one of a person's passkeys; `false` when it is not theirs.
    pub async fn delete_passkey(&self, user_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let deleted = passkey::Entity::delete_many()
            .filter(passkey::Column::Id.eq(id))
            .filter(passkey::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected == 1)
    }

    /// Removes every passkey of a person; how many there were.
    pub async fn delete_user_passkeys(&self, user_id: Uuid) -> Result<u64, StoreError> {
        let deleted = passkey::Entity::delete_many().filter(passkey::Column::UserId.eq(user_id)).exec(&self.db).await?;
        Ok(deleted.rows_affected)
    }

    pub async fn insert_passkey_ceremony(
        &self,
        id_hash: String,
        ceremony: &PasskeyCeremony,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let (purpose, user_id, sid, request_hash, destination, challenge_hash) = match &ceremony.purpose {
            CeremonyPurpose::Register { user_id, sid } => ("register", Some(*user_id), Some(*sid), None, None, None),
            CeremonyPurpose::SignIn { authorization_request_hash, destination } => {
                ("sign_in", None, None, authorization_request_hash.clone(), destination.map(|d| d.as_str()), None)
            }
            CeremonyPurpose::SecondFactor { user_id, mfa_challenge_hash } => {
                ("second_factor", Some(*user_id), None, None, None, Some(mfa_challenge_hash.clone()))
            }
        };
        passkey_ceremony::ActiveModel {
            id_hash: Set(id_hash),
            purpose: Set(purpose.to_owned()),
            browser_hash: Set(ceremony.browser_hash.clone()),
            user_id: Set(user_id),
            sid: Set(sid),
            authorization_request_hash: Set(request_hash),
            destination: Set(destination.map(str::to_owned)),
            mfa_challenge_hash: Set(challenge_hash),
            state: Set(ceremony.state.clone()),
            created_at: Set(now),
            expires_at: Set(ceremony.expires_at),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// Takes a ceremony, which no later request can take again; `None` when it expired,
    /// was taken, or never was.
    pub async fn take_passkey_ceremony(
        &self,
        id_hash: &str,
        now: UnixTime,
    ) -> Result<Option<PasskeyCeremony>, StoreError> {
        let Some(row) = passkey_ceremony::Entity::find_by_id(id_hash.to_owned())
            .filter(passkey_ceremony::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let deleted = passkey_ceremony::Entity::delete_by_id(id_hash.to_owned()).exec(&self.db).await?;
        if deleted.rows_affected != 1 {
            return Ok(None);
        }
        let purpose = match (row.purpose.as_str(), row.user_id, row.sid, row.mfa_challenge_hash) {
            ("register", Some(user_id), Some(sid), _) => CeremonyPurpose::Register { user_id, sid },
            ("sign_in", None, None, None) => CeremonyPurpose::SignIn {
                authorization_request_hash: row.authorization_request_hash,
                destination: row.destination.as_deref().and_then(Destination::parse),
            },
            ("second_factor", Some(user_id), None, Some(mfa_challenge_hash)) => {
                CeremonyPurpose::SecondFactor { user_id, mfa_challenge_hash }
            }
            (purpose, ..) => return Err(StoreError::Corrupt(format!("passkey ceremony of purpose {purpose}"))),
        };
        Ok(Some(PasskeyCeremony {
            purpose,
            browser_hash: row.browser_hash,
            state: row.state,
            expires_at: row.expires_at,
        }))
    }
}

fn credential_json(credential: &webauthn_rs::prelude::Passkey) -> Result<String, StoreError> {
    serde_json::to_string(credential).map_err(|e| StoreError::Corrupt(format!("passkey: {e}")))
}

fn record(row: passkey::Model) -> Result<PasskeyRecord, StoreError> {
    Ok(PasskeyRecord {
        id: row.id,
        user_id: row.user_id,
        name: PasskeyName::parse(&row.name)?,
        credential: serde_json::from_str(&row.credential)
            .map_err(|e| StoreError::Corrupt(format!("passkey {}: {e}", row.id)))?,
        aaguid: row.aaguid,
        backup_eligible: row.backup_eligible,
        backed_up: row.backed_up,
        sign_count: u32::try_from(row.sign_count)
            .map_err(|_| StoreError::Corrupt(format!("passkey {} counter {}", row.id, row.sign_count)))?,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    })
}
