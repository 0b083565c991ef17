//! What the integration tests share: the spawned app and its environment, named seeds,
//! a browser (and a real Chromium), forged tokens, the binary as a process, a PostgreSQL cluster of a test's own.

pub mod app;
pub mod browser;
pub mod chromium;
pub mod fake_provider;
pub mod forge;
pub mod oauth;
pub mod pages;
pub mod postgres;
pub mod process;
pub mod seeds;
pub mod service;
pub mod smtp;
pub mod totp;

pub use app::{TestApp, TestEnv};
pub use seeds::{PASSWORD, app_with_alice, app_with_alice_and_bob, app_with_third_party_demo, spawn_app};
