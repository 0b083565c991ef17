use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    /// JSON arrays of strings.
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub grant_types: String,
    pub first_party: bool,
    pub require_mfa: bool,
    pub require_phishing_resistant: bool,
    pub access_token_seconds: Option<i64>,
    pub refresh_idle_seconds: Option<i64>,
    pub refresh_absolute_seconds: Option<i64>,
    pub reuse_grace_seconds: Option<i64>,
    pub backchannel_logout_uri: Option<String>,
    /// JSON array of the API identifiers the client may request.
    pub resources: String,
    pub default_resource: Option<String>,
    /// The API this client introspects for (RFC 7662 §4), when it is one's credentials.
    pub resource_server_for: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
