//! Mail: the durable outbox (a message is a row written with the action that causes it,
//! sent by any instance's worker, its body sealed under the master key until sent) and the
//! single-use links mail carries (password reset), stored as SHA-256 hashes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000012_mail"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(uuid(MailOutbox::Id).primary_key())
                    .col(string_len(MailOutbox::Kind, 32))
                    .col(string(MailOutbox::Recipient))
                    .col(string(MailOutbox::Subject))
                    // The rendered message (text and HTML), sealed; cleared once sent.
                    .col(blob_null(MailOutbox::SealedBody))
                    .col(integer(MailOutbox::Attempts).default(0))
                    .col(big_integer(MailOutbox::NextAttemptAt))
                    .col(string_null(MailOutbox::LastError))
                    .col(big_integer(MailOutbox::CreatedAt))
                    .col(big_integer_null(MailOutbox::SentAt))
                    .col(big_integer_null(MailOutbox::FailedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mail_outbox_due")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailLinks::Table)
                    .col(string_len(MailLinks::TokenHash, 64).primary_key())
                    .col(string_len(MailLinks::Purpose, 16))
                    .col(uuid(MailLinks::UserId))
                    // SHA-256 of what the link is bound to (the password hash it may replace):
                    // a link stops working once that changes.
                    .col(string_len(MailLinks::Binding, 64))
                    .col(big_integer(MailLinks::CreatedAt))
                    .col(big_integer(MailLinks::ExpiresAt))
                    .col(big_integer_null(MailLinks::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MailLinks::Table, MailLinks::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("mail_links_user").table(MailLinks::Table).col(MailLinks::UserId).to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Kind,
    Recipient,
    Subject,
    SealedBody,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
    FailedAt,
}

#[derive(DeriveIden)]
enum MailLinks {
    Table,
    TokenHash,
    Purpose,
    UserId,
    Binding,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
