//! One table for every lockout: wrong passwords per username (keyed by a hash of the
//! username as typed) and wrong second-factor codes per user (`mfa:<user id>`). Attempts
//! are counted while they are checked (`in_flight`) as well as once they failed, so
//! concurrent attempts cannot outrun the limit. Replaces `login_throttles` and the
//! `users.mfa_failures` / `users.mfa_locked_until` columns, whose counts began only after
//! a check had finished.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000007_attempt_throttles"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AttemptThrottles::Table)
                    .col(string_len(AttemptThrottles::ThrottleKey, 64).primary_key())
                    .col(integer(AttemptThrottles::Failures))
                    .col(integer(AttemptThrottles::InFlight))
                    .col(big_integer_null(AttemptThrottles::LockedUntil))
                    .col(big_integer(AttemptThrottles::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("attempt_throttles_expires")
                    .table(AttemptThrottles::Table)
                    .col(AttemptThrottles::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        // Counts in flight when this runs are lost, like any count on restart: the
        // lockout window is minutes, and no lock outlives the old tables by more.
        manager.drop_table(Table::drop().table(LoginThrottles::Table).to_owned()).await?;
        // SQLite alters one column per statement.
        for column in [Users::MfaFailures, Users::MfaLockedUntil] {
            manager.alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum AttemptThrottles {
    Table,
    ThrottleKey,
    Failures,
    InFlight,
    LockedUntil,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    MfaFailures,
    MfaLockedUntil,
}
