//! Database schema for wristband, shared by SQLite and PostgreSQL.
//!
//! Migrations declare their own identifiers and never import the entities, so a shipped
//! migration keeps meaning the same thing when the entities move on. A migration that has
//! shipped is never edited; change the schema with a new one.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial_schema;
mod m20261123_000002_authorization_requests;
mod m20261123_000003_backchannel_logout;
mod m20261123_000004_mfa;
mod m20261123_000005_password_change_required;
mod m20261123_000006_login_throttles;
mod m20261204_000007_attempt_throttles;
mod m20261204_000008_session_participants;
mod m20261204_000009_drop_unused_audience;
mod m20261204_000010_apis;
mod m20261204_000011_passkeys;
mod m20261204_000012_mail;
mod m20261204_000013_self_registration;
mod m20261205_000014_upstreams;
mod m20261205_000015_refresh_families_grant_index;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial_schema::Migration),
            Box::new(m20261123_000002_authorization_requests::Migration),
            Box::new(m20261123_000003_backchannel_logout::Migration),
            Box::new(m20261123_000004_mfa::Migration),
            Box::new(m20261123_000005_password_change_required::Migration),
            Box::new(m20261123_000006_login_throttles::Migration),
            Box::new(m20261204_000007_attempt_throttles::Migration),
            Box::new(m20261204_000008_session_participants::Migration),
            Box::new(m20261204_000009_drop_unused_audience::Migration),
            Box::new(m20261204_000010_apis::Migration),
            Box::new(m20261204_000011_passkeys::Migration),
            Box::new(m20261204_000012_mail::Migration),
            Box::new(m20261204_000013_self_registration::Migration),
            Box::new(m20261205_000014_upstreams::Migration),
            Box::new(m20261205_000015_refresh_families_grant_index::Migration),
        ]
    }
}
