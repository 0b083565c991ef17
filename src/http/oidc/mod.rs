//! Machine endpoints: metadata and keys for relying parties and resource servers.

pub mod discovery;
pub mod jwks;
