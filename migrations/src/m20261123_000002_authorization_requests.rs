//! Authorization requests waiting for the person: an `/authorize` request that needs the
//! login or consent page is stored here, so the pages carry only an opaque id and the
//! parameters cannot be altered between the pages.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_authorization_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthorizationRequests::Table)
                    .col(string_len(AuthorizationRequests::IdHash, 64).primary_key())
                    .col(string_len(AuthorizationRequests::BrowserHash, 64))
                    .col(string_len(AuthorizationRequests::ClientId, 128))
                    .col(text(AuthorizationRequests::RedirectUri))
                    .col(text(AuthorizationRequests::Scope))
                    .col(text_null(AuthorizationRequests::State))
                    .col(text_null(AuthorizationRequests::Nonce))
                    .col(string_len_null(AuthorizationRequests::CodeChallenge, 128))
                    .col(string_len_null(AuthorizationRequests::Prompt, 64))
                    .col(big_integer_null(AuthorizationRequests::MaxAge))
                    .col(text_null(AuthorizationRequests::LoginHint))
                    .col(text_null(AuthorizationRequests::Audience))
                    .col(uuid_null(AuthorizationRequests::UserId))
                    .col(uuid_null(AuthorizationRequests::Sid))
                    .col(big_integer(AuthorizationRequests::CreatedAt))
                    .col(big_integer(AuthorizationRequests::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AuthorizationRequests::Table, AuthorizationRequests::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("authorization_requests_expires")
                    .table(AuthorizationRequests::Table)
                    .col(AuthorizationRequests::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
    IdHash,
    BrowserHash,
    ClientId,
    RedirectUri,
    Scope,
    State,
    Nonce,
    CodeChallenge,
    Prompt,
    MaxAge,
    LoginHint,
    Audience,
    UserId,
    Sid,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}
