use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: i64,
    pub event: String,
    pub actor_user_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    /// A JSON object with event-specific fields; never a secret.
    pub details: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
