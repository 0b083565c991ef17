use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upstream_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    pub upstream: String,
    pub purpose: String,
    pub browser_hash: String,
    pub sealed_request_id: Option<String>,
    pub destination: Option<String>,
    pub user_id: Option<Uuid>,
    pub sid: Option<Uuid>,
    pub nonce: String,
    pub code_verifier: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
