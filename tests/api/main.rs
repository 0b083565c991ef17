//! One integration-test binary (each file under tests/ would cost its own link step).

mod bootstrap;
mod cli;
mod config;
mod discovery;
mod health;
mod helpers;
mod jwks;
mod keys;
mod process;
