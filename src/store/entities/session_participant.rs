use sea_orm::entity::prelude::*;

/// A client a browser session signed in to (a code was issued for it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_participants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sid: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
