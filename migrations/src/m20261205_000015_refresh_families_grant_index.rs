//! Refresh-token families by browser session, client and revocation time. An access
//! token's grant check (`store::access`) asks whether a family of its session and client
//! was revoked after the token was issued; with only `sid` indexed, SQLite read every
//! family of the session to answer no, and a session that had exchanged thousands of codes
//! made each userinfo call take milliseconds. This index finds the answer in one probe
//! and, led by `sid`, serves every query the old one did.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000015_refresh_families_grant_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("refresh_families_grant")
                    .table(RefreshFamilies::Table)
                    .col(RefreshFamilies::Sid)
                    .col(RefreshFamilies::ClientId)
                    .col(RefreshFamilies::RevokedAt)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name("refresh_families_sid").table(RefreshFamilies::Table).to_owned()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum RefreshFamilies {
    Table,
    Sid,
    ClientId,
    RevokedAt,
}
