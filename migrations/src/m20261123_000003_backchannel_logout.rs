//! Back-Channel Logout 1.0: where each client wants to hear that a session ended, and a
//! durable queue of notifications, so a restart loses none and every instance can deliver.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000003_backchannel_logout"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Clients::Table).add_column(text_null(Clients::BackchannelLogoutUri)).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BackchannelLogoutJobs::Table)
                    .col(uuid(BackchannelLogoutJobs::Id).primary_key())
                    .col(string_len(BackchannelLogoutJobs::ClientId, 128))
                    .col(uuid(BackchannelLogoutJobs::UserId))
                    .col(uuid(BackchannelLogoutJobs::Sid))
                    .col(integer(BackchannelLogoutJobs::Attempts).default(0))
                    .col(big_integer(BackchannelLogoutJobs::NextAttemptAt))
                    .col(text_null(BackchannelLogoutJobs::LastError))
                    .col(big_integer(BackchannelLogoutJobs::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BackchannelLogoutJobs::Table, BackchannelLogoutJobs::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("backchannel_logout_jobs_due")
                    .table(BackchannelLogoutJobs::Table)
                    .col(BackchannelLogoutJobs::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    BackchannelLogoutUri,
}

#[derive(DeriveIden)]
enum BackchannelLogoutJobs {
    Table,
    Id,
    ClientId,
    UserId,
    Sid,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
}
