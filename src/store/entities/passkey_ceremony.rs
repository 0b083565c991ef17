use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkey_ceremonies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub purpose: String,
    pub browser_hash: String,
    pub user_id: Option<Uuid>,
    pub sid: Option<Uuid>,
    pub authorization_request_hash: Option<String>,
    pub destination: Option<String>,
    pub mfa_challenge_hash: Option<String>,
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
