use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub password_hash: String,
    /// JSON array of role names.
    pub roles: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    pub password_change_required: bool,
    pub verify_before_sign_in: bool,
    pub password_changed_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
