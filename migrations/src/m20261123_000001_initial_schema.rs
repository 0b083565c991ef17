//! The tables of DESIGN.md. Timestamps are unix seconds (`BIGINT`), so range comparisons
//! behave the same on SQLite and PostgreSQL. Secrets are stored as SHA-256 hashes (hex) or
//! as AES-256-GCM ciphertexts under the master key, never in the clear.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_initial_schema"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        // "Exactly one active key" and "at most one next key" are enforced by the database,
        // so two instances rotating at once cannot both win. sea-query's index builder has
        // no partial indexes; this statement is valid on both SQLite and PostgreSQL.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active'",
        )
        .await?;
        db.execute_unprepared("CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next'")
            .await?;
        Ok(())
    }

    /// One transaction on every backend: a second instance starting at the same moment
    /// fails cleanly and retries instead of seeing half a schema.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(Users::Table)
            .col(uuid(Users::Id).primary_key())
            .col(string_len_uniq(Users::Username, 64))
            .col(string_len_null(Users::Email, 320))
            .col(boolean(Users::EmailVerified).default(false))
            .col(string_len_null(Users::Name, 200))
            .col(text(Users::PasswordHash))
            .col(text(Users::Roles).default("[]"))
            .col(boolean(Users::IsAdmin).default(false))
            .col(boolean(Users::Disabled).default(false))
            .col(blob_null(Users::TotpSecret))
            .col(big_integer_null(Users::TotpLastStep))
            .col(big_integer(Users::PasswordChangedAt))
            .col(big_integer(Users::CreatedAt))
            .col(big_integer(Users::UpdatedAt))
            .to_owned(),
        Table::create()
            .table(UserRecoveryCodes::Table)
            .col(uuid(UserRecoveryCodes::Id).primary_key())
            .col(uuid(UserRecoveryCodes::UserId))
            .col(string_len_uniq(UserRecoveryCodes::CodeHash, 64))
            .col(big_integer_null(UserRecoveryCodes::UsedAt))
            .col(big_integer(UserRecoveryCodes::CreatedAt))
            .foreign_key(&mut cascade(UserRecoveryCodes::Table, UserRecoveryCodes::UserId, Users::Table, Users::Id))
            .to_owned(),
        Table::create()
            .table(Clients::Table)
            .col(string_len(Clients::Id, 128).primary_key())
            .col(string_len(Clients::Name, 200))
            .col(string_len_null(Clients::SecretHash, 64))
            .col(text(Clients::RedirectUris))
            .col(text(Clients::PostLogoutRedirectUris))
            .col(text(Clients::GrantTypes))
            .col(text(Clients::Audiences).default("[]"))
            .col(boolean(Clients::FirstParty).default(false))
            .col(boolean(Clients::RequirePkce).default(true))
            .col(boolean(Clients::RequireMfa).default(false))
            .col(big_integer_null(Clients::AccessTokenSeconds))
            .col(big_integer_null(Clients::RefreshIdleSeconds))
            .col(big_integer_null(Clients::RefreshAbsoluteSeconds))
            .col(big_integer_null(Clients::ReuseGraceSeconds))
            .col(big_integer(Clients::CreatedAt))
            .col(big_integer(Clients::UpdatedAt))
            .to_owned(),
        Table::create()
            .table(SigningKeys::Table)
            .col(string_len(SigningKeys::Kid, 64).primary_key())
            .col(string_len(SigningKeys::State, 16))
            .col(string_len(SigningKeys::Algorithm, 16))
            .col(integer(SigningKeys::KeyBits))
            .col(blob(SigningKeys::PrivateKey))
            .col(text(SigningKeys::PublicJwk))
            .col(big_integer(SigningKeys::CreatedAt))
            .col(big_integer_null(SigningKeys::ActivatedAt))
            .col(big_integer_null(SigningKeys::RetiredAt))
            .col(big_integer_null(SigningKeys::RevokedAt))
            .to_owned(),
        Table::create()
            .table(BrowserSessions::Table)
            .col(string_len(BrowserSessions::IdHash, 64).primary_key())
            .col(uuid_uniq(BrowserSessions::Sid))
            .col(uuid(BrowserSessions::UserId))
            .col(big_integer(BrowserSessions::AuthTime))
            .col(string_len(BrowserSessions::Acr, 64))
            .col(string_len(BrowserSessions::Amr, 64))
            .col(string_len_null(BrowserSessions::UserAgent, 512))
            .col(string_len_null(BrowserSessions::Ip, 64))
            .col(big_integer(BrowserSessions::CreatedAt))
            .col(big_integer(BrowserSessions::LastSeenAt))
            .col(big_integer(BrowserSessions::ExpiresAt))
            .col(big_integer_null(BrowserSessions::EndedAt))
            .foreign_key(&mut cascade(BrowserSessions::Table, BrowserSessions::UserId, Users::Table, Users::Id))
            .to_owned(),
        Table::create()
            .table(AuthorizationCodes::Table)
            .col(string_len(AuthorizationCodes::CodeHash, 64).primary_key())
            .col(string_len(AuthorizationCodes::ClientId, 128))
            .col(uuid(AuthorizationCodes::UserId))
            .col(uuid(AuthorizationCodes::Sid))
            .col(text(AuthorizationCodes::RedirectUri))
            .col(text(AuthorizationCodes::Scope))
            .col(text_null(AuthorizationCodes::Nonce))
            .col(string_len_null(AuthorizationCodes::CodeChallenge, 128))
            .col(text_null(AuthorizationCodes::Audience))
            .col(big_integer(AuthorizationCodes::AuthTime))
            .col(string_len(AuthorizationCodes::Acr, 64))
            .col(string_len(AuthorizationCodes::Amr, 64))
            .col(big_integer(AuthorizationCodes::CreatedAt))
            .col(big_integer(AuthorizationCodes::ExpiresAt))
            .col(big_integer_null(AuthorizationCodes::UsedAt))
            .col(uuid_null(AuthorizationCodes::IssuedFamilyId))
            .col(string_len_null(AuthorizationCodes::IssuedJti, 64))
            .col(big_integer_null(AuthorizationCodes::IssuedJtiExpiresAt))
            .foreign_key(&mut cascade(
                AuthorizationCodes::Table,
                AuthorizationCodes::ClientId,
                Clients::Table,
                Clients::Id,
            ))
            .foreign_key(&mut cascade(AuthorizationCodes::Table, AuthorizationCodes::UserId, Users::Table, Users::Id))
            .to_owned(),
        Table::create()
            .table(Consents::Table)
            .col(uuid(Consents::UserId))
            .col(string_len(Consents::ClientId, 128))
            .col(text(Consents::Scope))
            .col(big_integer(Consents::CreatedAt))
            .col(big_integer(Consents::UpdatedAt))
            .primary_key(Index::create().col(Consents::UserId).col(Consents::ClientId))
            .foreign_key(&mut cascade(Consents::Table, Consents::UserId, Users::Table, Users::Id))
            .foreign_key(&mut cascade(Consents::Table, Consents::ClientId, Clients::Table, Clients::Id))
            .to_owned(),
        Table::create()
            .table(RefreshFamilies::Table)
            .col(uuid(RefreshFamilies::Id).primary_key())
            .col(string_len(RefreshFamilies::ClientId, 128))
            .col(uuid(RefreshFamilies::UserId))
            .col(uuid_null(RefreshFamilies::Sid))
            .col(text(RefreshFamilies::Scope))
            .col(big_integer(RefreshFamilies::AuthTime))
            .col(string_len(RefreshFamilies::Acr, 64))
            .col(string_len(RefreshFamilies::Amr, 64))
            .col(big_integer(RefreshFamilies::CreatedAt))
            .col(big_integer(RefreshFamilies::LastUsedAt))
            .col(big_integer(RefreshFamilies::IdleExpiresAt))
            .col(big_integer(RefreshFamilies::AbsoluteExpiresAt))
            .col(big_integer_null(RefreshFamilies::RevokedAt))
            .col(string_len_null(RefreshFamilies::RevokedReason, 64))
            .foreign_key(&mut cascade(RefreshFamilies::Table, RefreshFamilies::ClientId, Clients::Table, Clients::Id))
            .foreign_key(&mut cascade(RefreshFamilies::Table, RefreshFamilies::UserId, Users::Table, Users::Id))
            .to_owned(),
        Table::create()
            .table(RefreshTokens::Table)
            .col(string_len(RefreshTokens::TokenHash, 64).primary_key())
            .col(uuid(RefreshTokens::FamilyId))
            .col(big_integer(RefreshTokens::CreatedAt))
            .col(big_integer_null(RefreshTokens::UsedAt))
            .col(string_len_null(RefreshTokens::SuccessorHash, 64))
            .col(blob_null(RefreshTokens::SuccessorToken))
            .foreign_key(&mut cascade(
                RefreshTokens::Table,
                RefreshTokens::FamilyId,
                RefreshFamilies::Table,
                RefreshFamilies::Id,
            ))
            .to_owned(),
        Table::create()
            .table(RevokedAccessTokens::Table)
            .col(string_len(RevokedAccessTokens::Jti, 64).primary_key())
            .col(big_integer(RevokedAccessTokens::ExpiresAt))
            .col(big_integer(RevokedAccessTokens::RevokedAt))
            .to_owned(),
        Table::create()
            .table(AuditEvents::Table)
            .col(uuid(AuditEvents::Id).primary_key())
            .col(big_integer(AuditEvents::At))
            .col(string_len(AuditEvents::Event, 64))
            .col(uuid_null(AuditEvents::ActorUserId))
            .col(uuid_null(AuditEvents::UserId))
            .col(string_len_null(AuditEvents::ClientId, 128))
            .col(string_len_null(AuditEvents::Ip, 64))
            .col(text(AuditEvents::Details))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("user_recovery_codes_user", UserRecoveryCodes::Table, UserRecoveryCodes::UserId),
        index("signing_keys_state", SigningKeys::Table, SigningKeys::State),
        index("browser_sessions_user", BrowserSessions::Table, BrowserSessions::UserId),
        index("browser_sessions_expires", BrowserSessions::Table, BrowserSessions::ExpiresAt),
        index("authorization_codes_expires", AuthorizationCodes::Table, AuthorizationCodes::ExpiresAt),
        index("refresh_families_user", RefreshFamilies::Table, RefreshFamilies::UserId),
        index("refresh_families_client", RefreshFamilies::Table, RefreshFamilies::ClientId),
        index("refresh_families_sid", RefreshFamilies::Table, RefreshFamilies::Sid),
        index("refresh_families_idle_expires", RefreshFamilies::Table, RefreshFamilies::IdleExpiresAt),
        index("refresh_tokens_family", RefreshTokens::Table, RefreshTokens::FamilyId),
        index("revoked_access_tokens_expires", RevokedAccessTokens::Table, RevokedAccessTokens::ExpiresAt),
        index("audit_events_at", AuditEvents::Table, AuditEvents::At),
        index("audit_events_event", AuditEvents::Table, AuditEvents::Event),
        index("audit_events_user", AuditEvents::Table, AuditEvents::UserId),
    ]
}

fn index(name: &str, table: impl IntoIden, column: impl IntoIden) -> IndexCreateStatement {
    Index::create().name(name).table(table).col(column).to_owned()
}

fn cascade(
    from: impl IntoIden,
    column: impl IntoIden,
    to: impl IntoIden,
    to_column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, column).to(to, to_column).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    Email,
    EmailVerified,
    Name,
    PasswordHash,
    Roles,
    IsAdmin,
    Disabled,
    TotpSecret,
    TotpLastStep,
    PasswordChangedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserRecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    Name,
    SecretHash,
    RedirectUris,
    PostLogoutRedirectUris,
    GrantTypes,
    Audiences,
    FirstParty,
    RequirePkce,
    RequireMfa,
    AccessTokenSeconds,
    RefreshIdleSeconds,
    RefreshAbsoluteSeconds,
    ReuseGraceSeconds,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    State,
    Algorithm,
    KeyBits,
    PrivateKey,
    PublicJwk,
    CreatedAt,
    ActivatedAt,
    RetiredAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum BrowserSessions {
    Table,
    IdHash,
    Sid,
    UserId,
    AuthTime,
    Acr,
    Amr,
    UserAgent,
    Ip,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    CodeHash,
    ClientId,
    UserId,
    Sid,
    RedirectUri,
    Scope,
    Nonce,
    CodeChallenge,
    Audience,
    AuthTime,
    Acr,
    Amr,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    IssuedFamilyId,
    IssuedJti,
    IssuedJtiExpiresAt,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    UserId,
    ClientId,
    Scope,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshFamilies {
    Table,
    Id,
    ClientId,
    UserId,
    Sid,
    Scope,
    AuthTime,
    Acr,
    Amr,
    CreatedAt,
    LastUsedAt,
    IdleExpiresAt,
    AbsoluteExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    FamilyId,
    CreatedAt,
    UsedAt,
    SuccessorHash,
    SuccessorToken,
}

#[derive(DeriveIden)]
enum RevokedAccessTokens {
    Table,
    Jti,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Event,
    ActorUserId,
    UserId,
    ClientId,
    Ip,
    Details,
}
