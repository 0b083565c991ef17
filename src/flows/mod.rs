//! Protocol and administration logic as plain async functions over the store, the keys
//! and a clock. Nothing here knows about HTTP.

pub mod admin;
pub mod bootstrap;
pub mod keys;

use uuid::Uuid;

use crate::store::AuditEvent;

/// Who asked for an administrative change, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The `wristband` command line, run by someone with access to the server.
    Cli,
    /// wristband itself: start-up bootstrap, scheduled work.
    System,
    /// A signed-in administrator.
    Admin(Uuid),
}

impl Actor {
    fn stamp(self, mut event: AuditEvent) -> AuditEvent {
        let via = match self {
            Self::Cli => "cli",
            Self::System => "system",
            Self::Admin(id) => {
                event.actor_user_id = Some(id);
                "admin_ui"
            }
        };
        if let Some(details) = event.details.as_object_mut() {
            details.insert("via".to_owned(), via.into());
        }
        event
    }
}
