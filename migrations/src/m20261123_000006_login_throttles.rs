//! Failed sign-ins per username, in the database so that a lockout holds on every
//! instance. Keyed by a hash of the username as typed (lower-cased), known or not: an
//! unknown username locks exactly like a real one, and no mistyped password that landed
//! in the username field is stored.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000006_login_throttles"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottles::Table)
                    .col(string_len(LoginThrottles::UsernameHash, 64).primary_key())
                    .col(integer(LoginThrottles::Failures))
                    .col(big_integer_null(LoginThrottles::LockedUntil))
                    .col(big_integer(LoginThrottles::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_throttles_expires")
                    .table(LoginThrottles::Table)
                    .col(LoginThrottles::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    UsernameHash,
    Failures,
    LockedUntil,
    ExpiresAt,
}
