//! wristband: an OAuth 2.0 / OpenID Connect identity provider.
//!
//! Layers, outer to inner (DESIGN.md): `http` → `flows` → `keys`, `security`, `store`,
//! with `model` as the vocabulary they share.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo))]

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod flows;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod model;
pub mod security;
pub mod store;
pub mod telemetry;
pub mod tokens;
