//! Second factors: the lockout of a user's TOTP after repeated wrong codes, requests that
//! demand two factors (`acr_values`), and half-done logins waiting for their second factor.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000004_mfa"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one ADD COLUMN per ALTER TABLE.
        let add = |table: DynIden, column: ColumnDef| Table::alter().table(table).add_column(column).to_owned();
        manager.alter_table(add(Users::Table.into_iden(), integer(Users::MfaFailures).default(0).to_owned())).await?;
        manager.alter_table(add(Users::Table.into_iden(), big_integer_null(Users::MfaLockedUntil))).await?;
        manager
            .alter_table(add(
                AuthorizationRequests::Table.into_iden(),
                boolean(AuthorizationRequests::TwoFactorRequested).default(false).to_owned(),
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MfaChallenges::Table)
                    .col(string_len(MfaChallenges::IdHash, 64).primary_key())
                    .col(uuid(MfaChallenges::UserId))
                    .col(string_len(MfaChallenges::BrowserHash, 64))
                    .col(uuid_null(MfaChallenges::Sid))
                    .col(string_len_null(MfaChallenges::AuthorizationRequestHash, 64))
                    .col(string_len_null(MfaChallenges::Destination, 32))
                    .col(big_integer(MfaChallenges::CreatedAt))
                    .col(big_integer(MfaChallenges::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MfaChallenges::Table, MfaChallenges::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mfa_challenges_expires")
                    .table(MfaChallenges::Table)
                    .col(MfaChallenges::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    MfaFailures,
    MfaLockedUntil,
}

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
    TwoFactorRequested,
}

#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    IdHash,
    UserId,
    BrowserHash,
    Sid,
    AuthorizationRequestHash,
    Destination,
    CreatedAt,
    ExpiresAt,
}
