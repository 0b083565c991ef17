//! Machine endpoints: metadata, keys, tokens and token status for relying parties and
//! resource servers.

pub mod discovery;
pub mod introspect;
pub mod jwks;
pub mod revoke;
pub mod token;
pub mod userinfo;
