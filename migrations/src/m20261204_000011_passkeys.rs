//! Passkeys (WebAuthn): the credentials people register, the ceremonies under way (a
//! challenge waiting for the browser's answer), and the phishing-resistant level: a
//! client may require it, an authorization request may ask for a level by `acr_values`,
//! and a second-factor challenge remembers the level it must reach.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000011_passkeys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(uuid(Passkeys::Id).primary_key())
                    .col(uuid(Passkeys::UserId))
                    // SHA-256 of the credential id (up to 1023 bytes): a fixed-size key for
                    // the unique index and for finding the passkey an assertion names.
                    .col(string_len(Passkeys::CredentialHash, 64).unique_key())
                    .col(string(Passkeys::Name))
                    // The credential as webauthn-rs keeps it (public key, counter, flags), JSON.
                    .col(text(Passkeys::Credential))
                    .col(uuid_null(Passkeys::Aaguid))
                    .col(boolean(Passkeys::BackupEligible))
                    .col(boolean(Passkeys::BackedUp))
                    .col(big_integer(Passkeys::SignCount))
                    .col(big_integer(Passkeys::CreatedAt))
                    .col(big_integer_null(Passkeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Passkeys::Table, Passkeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("passkeys_user").table(Passkeys::Table).col(Passkeys::UserId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasskeyCeremonies::Table)
                    .col(string_len(PasskeyCeremonies::IdHash, 64).primary_key())
                    .col(string_len(PasskeyCeremonies::Purpose, 16))
                    .col(string_len(PasskeyCeremonies::BrowserHash, 64))
                    .col(uuid_null(PasskeyCeremonies::UserId))
                    .col(uuid_null(PasskeyCeremonies::Sid))
                    .col(string_len_null(PasskeyCeremonies::AuthorizationRequestHash, 64))
                    .col(string_len_null(PasskeyCeremonies::Destination, 32))
                    .col(string_len_null(PasskeyCeremonies::MfaChallengeHash, 64))
                    // webauthn-rs's state of the ceremony (the challenge and its policy), JSON.
                    .col(text(PasskeyCeremonies::State))
                    .col(big_integer(PasskeyCeremonies::CreatedAt))
                    .col(big_integer(PasskeyCeremonies::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasskeyCeremonies::Table, PasskeyCeremonies::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("passkey_ceremonies_expires")
                    .table(PasskeyCeremonies::Table)
                    .col(PasskeyCeremonies::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        let columns = [
            (Clients::Table.into_iden(), boolean(Clients::RequirePhishingResistant).default(false).to_owned()),
            (MfaChallenges::Table.into_iden(), string_len_null(MfaChallenges::RequiredAcr, 64).to_owned()),
            (
                AuthorizationRequests::Table.into_iden(),
                string_len_null(AuthorizationRequests::RequestedAcr, 64).to_owned(),
            ),
        ];
        for (table, mut column) in columns {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        // A pending request (ten minutes at most) that asked for two factors keeps asking.
        manager
            .exec_stmt(
                Query::update()
                    .table(AuthorizationRequests::Table)
                    .value(AuthorizationRequests::RequestedAcr, "urn:wristband:acr:2fa")
                    .and_where(Expr::col(AuthorizationRequests::TwoFactorRequested).eq(true))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationRequests::Table)
                    .drop_column(AuthorizationRequests::TwoFactorRequested)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    CredentialHash,
    Name,
    Credential,
    Aaguid,
    BackupEligible,
    BackedUp,
    SignCount,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasskeyCeremonies {
    Table,
    IdHash,
    Purpose,
    BrowserHash,
    UserId,
    Sid,
    AuthorizationRequestHash,
    Destination,
    MfaChallengeHash,
    State,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    RequirePhishingResistant,
}

#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    RequiredAcr,
}

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
    RequestedAcr,
    TwoFactorRequested,
}
