//! Upstream providers (wristband as an OpenID Connect / OAuth 2.0 relying party): the
//! providers configured, the upstream identities linked to local users, and the sign-ins
//! under way (a `state` waiting for the provider's answer).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000014_upstreams"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Upstreams::Table)
                    .col(string_len(Upstreams::Name, 32).primary_key())
                    .col(string(Upstreams::DisplayName))
                    // "oidc" (discovered from the issuer) or "oauth2" (explicit endpoints).
                    .col(string_len(Upstreams::Protocol, 8))
                    .col(string_null(Upstreams::Issuer))
                    .col(string_null(Upstreams::AuthorizationEndpoint))
                    .col(string_null(Upstreams::TokenEndpoint))
                    .col(string_null(Upstreams::UserinfoEndpoint))
                    // JSON: which userinfo member is the subject, username, name, email.
                    .col(text_null(Upstreams::Claims))
                    .col(string(Upstreams::ClientId))
                    // Sealed with the master key, base64url.
                    .col(text(Upstreams::ClientSecret))
                    .col(text(Upstreams::Scopes).default("[]"))
                    .col(boolean(Upstreams::LinkByVerifiedEmail).default(false))
                    .col(boolean(Upstreams::CreateUsers).default(false))
                    .col(boolean(Upstreams::TrustedForMfa).default(false))
                    .col(boolean(Upstreams::OfferEndSession).default(false))
                    .col(big_integer(Upstreams::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LinkedIdentities::Table)
                    .col(string_len(LinkedIdentities::Upstream, 32))
                    .col(string_len(LinkedIdentities::Subject, 255))
                    .col(uuid(LinkedIdentities::UserId))
                    // What the provider said last, for the person and administrators to
                    // recognise the identity; never used to sign in.
                    .col(string_null(LinkedIdentities::Email))
                    .col(string_null(LinkedIdentities::Username))
                    .col(big_integer(LinkedIdentities::CreatedAt))
                    .col(big_integer_null(LinkedIdentities::LastUsedAt))
                    .primary_key(Index::create().col(LinkedIdentities::Upstream).col(LinkedIdentities::Subject))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LinkedIdentities::Table, LinkedIdentities::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LinkedIdentities::Table, LinkedIdentities::Upstream)
                            .to(Upstreams::Table, Upstreams::Name)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    // One identity of each upstream per user.
                    .name("linked_identities_user_upstream")
                    .table(LinkedIdentities::Table)
                    .col(LinkedIdentities::UserId)
                    .col(LinkedIdentities::Upstream)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UpstreamLogins::Table)
                    .col(string_len(UpstreamLogins::StateHash, 64).primary_key())
                    .col(string_len(UpstreamLogins::Upstream, 32))
                    .col(string_len(UpstreamLogins::Purpose, 16))
                    .col(string_len(UpstreamLogins::BrowserHash, 64))
                    // The pending request's id, sealed with the master key: the callback carries only
                    // `state`, and the id is what finds the request.
                    .col(text_null(UpstreamLogins::SealedRequestId))
                    .col(string_len_null(UpstreamLogins::Destination, 32))
                    .col(uuid_null(UpstreamLogins::UserId))
                    .col(uuid_null(UpstreamLogins::Sid))
                    .col(string_len(UpstreamLogins::Nonce, 64))
                    .col(string_len(UpstreamLogins::CodeVerifier, 128))
                    .col(big_integer(UpstreamLogins::CreatedAt))
                    .col(big_integer(UpstreamLogins::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("upstream_logins_expires")
                    .table(UpstreamLogins::Table)
                    .col(UpstreamLogins::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Upstreams {
    Table,
    Name,
    DisplayName,
    Protocol,
    Issuer,
    AuthorizationEndpoint,
    TokenEndpoint,
    UserinfoEndpoint,
    Claims,
    ClientId,
    ClientSecret,
    Scopes,
    LinkByVerifiedEmail,
    CreateUsers,
    TrustedForMfa,
    OfferEndSession,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LinkedIdentities {
    Table,
    Upstream,
    Subject,
    UserId,
    Email,
    Username,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum UpstreamLogins {
    Table,
    StateHash,
    Upstream,
    Purpose,
    BrowserHash,
    SealedRequestId,
    Destination,
    UserId,
    Sid,
    Nonce,
    CodeVerifier,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
