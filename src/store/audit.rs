//! The audit log: who did what, when, to whom. Details never contain a secret.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::audit_event;
use super::{Store, StoreError};
use crate::clock::UnixTime;

#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub event: &'static str,
    pub actor_user_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

/// A stored audit event.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub at: UnixTime,
    pub event: String,
    pub actor_user_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

impl AuditEvent {
    pub fn new(event: &'static str) -> Self {
        Self { event, actor_user_id: None, user_id: None, client_id: None, ip: None, details: serde_json::json!({}) }
    }

    pub fn user(mut self, user_id: Uuid) -> Self {
        self.user_id = Some(user_id);
        self
    }

    pub fn client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    pub fn ip(mut self, ip: Option<String>) -> Self {
        self.ip = ip;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Which audit events to show; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub event: Option<String>,
    pub user_id: Option<Uuid>,
    pub client_id: Option<String>,
    pub since: Option<UnixTime>,
    pub until: Option<UnixTime>,
}

impl AuditFilter {
    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if let Some(event) = &self.event {
            condition = condition.add(audit_event::Column::Event.eq(event.as_str()));
        }
        if let Some(user_id) = self.user_id {
            condition = condition.add(
                Condition::any()
                    .add(audit_event::Column::UserId.eq(user_id))
                    .add(audit_event::Column::ActorUserId.eq(user_id)),
            );
        }
        if let Some(client_id) = &self.client_id {
            condition = condition.add(audit_event::Column::ClientId.eq(client_id.as_str()));
        }
        if let Some(since) = self.since {
            condition = condition.add(audit_event::Column::At.gte(since));
        }
        if let Some(until) = self.until {
            condition = condition.add(audit_event::Column::At.lt(until));
        }
        condition
    }
}

impl Store {
    /// How many events match `filter` (the dashboard's logins and failures).
    pub async fn count_audit_events(&self, filter: &AuditFilter) -> Result<u64, StoreError> {
        Ok(audit_event::Entity::find().filter(filter.condition()).count(&self.db).await?)
    }

    pub async fn record_audit(&self, event: AuditEvent, at: UnixTime) -> Result<(), StoreError> {
        audit_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            at: Set(at),
            event: Set(event.event.to_owned()),
            actor_user_id: Set(event.actor_user_id),
            user_id: Set(event.user_id),
            client_id: Set(event.client_id),
            ip: Set(event.ip),
            details: Set(event.details.to_string()),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// The newest events first, for the admin views and the audit trail's tests.
    pub async fn recent_audit_events(&self, limit: u64) -> Result<Vec<AuditRecord>, StoreError> {
        self.search_audit(&AuditFilter::default(), 0, limit).await
    }

    /// Events matching `filter`, newest first, one page at a time.
    pub async fn search_audit(
        &self,
        filter: &AuditFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = audit_event::Entity::find()
            .filter(filter.condition())
            .order_by_desc(audit_event::Column::At)
            .order_by_desc(audit_event::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(AuditRecord {
                    at: row.at,
                    event: row.event,
                    actor_user_id: row.actor_user_id,
                    user_id: row.user_id,
                    client_id: row.client_id,
                    ip: row.ip,
                    details: serde_json::from_str(&row.details)?,
                })
            })
            .collect()
    }
}
