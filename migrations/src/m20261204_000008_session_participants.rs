//! The clients a browser session signed in to, recorded on the session: back-channel
//! logout notifies them when it ends. They were found from authorization codes, which the
//! clean-up deletes after a day while sessions last longer. Rows go with their session
//! (ON DELETE CASCADE); existing sessions are filled in from their codes and families.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000008_session_participants"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SessionParticipants::Table)
                    .col(uuid(SessionParticipants::Sid))
                    .col(string_len(SessionParticipants::ClientId, 128))
                    .primary_key(Index::create().col(SessionParticipants::Sid).col(SessionParticipants::ClientId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SessionParticipants::Table, SessionParticipants::Sid)
                            .to(BrowserSessions::Table, BrowserSessions::Sid)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO session_participants (sid, client_id) \
                 SELECT c.sid, c.client_id FROM authorization_codes c \
                 JOIN browser_sessions s ON s.sid = c.sid \
                 UNION \
                 SELECT f.sid, f.client_id FROM refresh_families f \
                 JOIN browser_sessions s ON s.sid = f.sid",
            )
            .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum SessionParticipants {
    Table,
    Sid,
    ClientId,
}

#[derive(DeriveIden)]
enum BrowserSessions {
    Table,
    Sid,
}
