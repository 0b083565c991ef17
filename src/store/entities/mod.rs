//! sea-orm entities, one per table. They never leave `store/`: repositories convert rows
//! into `model` types.

pub mod audit_event;
pub mod browser_session;
pub mod client;
pub mod refresh_family;
pub mod signing_key;
pub mod user;
