//! TOTP as a second factor (RFC 6238): checking a typed code or recovery code under the
//! factor's lockout, and enrolling a new factor.

pub mod enrollment;
pub mod factor;
