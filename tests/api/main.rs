//! One integration-test binary (each file under tests/ would cost its own link step).

mod account;
mod authorize;
mod backchannel;
mod bootstrap;
mod browser;
mod cleanup;
mod cli;
mod config;
mod discovery;
mod factor;
mod forge;
mod health;
mod helpers;
mod introspect;
mod jwks;
mod keys;
mod login;
mod logout;
mod mfa;
mod oidc_client;
mod process;
mod refresh;
mod revoke;
mod token;
mod userinfo;
mod verify_independently;
