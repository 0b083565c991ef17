//! Drops columns nothing ever set: `clients.audiences` (always `[]`),
//! `clients.require_pkce` (always true: PKCE is required of every client), and the
//! `audience` of authorization requests and codes (always null). Resource indicators
//! (RFC 8707) get tables and columns of their own.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000009_drop_unused_audience"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [Clients::Audiences, Clients::RequirePkce] {
            manager.alter_table(Table::alter().table(Clients::Table).drop_column(column).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationRequests::Table)
                    .drop_column(AuthorizationRequests::Audience)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(AuthorizationCodes::Table).drop_column(AuthorizationCodes::Audience).to_owned(),
            )
            .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Audiences,
    RequirePkce,
}

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
    Audience,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    Audience,
}
