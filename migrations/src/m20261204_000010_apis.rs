//! APIs (resource servers, RFC 8707): the `apis` registry; which APIs a client may
//! request, its default one, and the API a client introspects for; the APIs an
//! authorization request, a code and a refresh-token family were granted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000010_apis"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Apis::Table)
                    .col(string(Apis::Identifier).primary_key())
                    .col(string(Apis::Name))
                    // A JSON array of {"name", "description"}.
                    .col(text(Apis::Scopes).default("[]"))
                    .col(big_integer_null(Apis::AccessTokenSeconds))
                    .col(big_integer(Apis::CreatedAt))
                    .col(big_integer(Apis::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement. JSON arrays of API identifiers.
        let columns = [
            (Clients::Table.into_iden(), text(Clients::Resources).default("[]").to_owned()),
            (Clients::Table.into_iden(), string_null(Clients::DefaultResource).to_owned()),
            (Clients::Table.into_iden(), string_null(Clients::ResourceServerFor).to_owned()),
            (AuthorizationRequests::Table.into_iden(), text(AuthorizationRequests::Resources).default("[]").to_owned()),
            (AuthorizationCodes::Table.into_iden(), text(AuthorizationCodes::Resources).default("[]").to_owned()),
            (RefreshFamilies::Table.into_iden(), text(RefreshFamilies::Resources).default("[]").to_owned()),
        ];
        for (table, mut column) in columns {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Apis {
    Table,
    Identifier,
    Name,
    Scopes,
    AccessTokenSeconds,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Resources,
    DefaultResource,
    ResourceServerFor,
}

#[derive(DeriveIden)]
enum AuthorizationRequests {
    Table,
    Resources,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    Resources,
}

#[derive(DeriveIden)]
enum RefreshFamilies {
    Table,
    Resources,
}
