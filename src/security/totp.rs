//! TOTP (RFC 6238) as authenticator apps implement it: HMAC-SHA-1, 6 digits, 30-second
//! steps, one step of clock drift accepted either way. The caller stores the step a code
//! matched and refuses any step not newer than it, so each code works once (§5.2).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::random::{RandomError, random_bytes};
use crate::clock::UnixTime;

/// 160 bits, the length RFC 4226 §4 recommends.
const SECRET_BYTES: usize = 20;
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
const SKEW_STEPS: u16 = 1;

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("TOTP: {0}")]
    Totp(#[from] totp_rs::TotpError),
}

/// A TOTP shared secret with the account it belongs to (for the authenticator's label).
pub struct TotpSecret {
    totp: Totp,
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    pub fn generate(issuer: &str, account: &str) -> Result<Self, TotpError> {
        Self::from_bytes(random_bytes::<SECRET_BYTES>()?.to_vec(), issuer, account)
    }

    /// `issuer` and `account` label the entry in the app; a `:` in them would break the
    /// `otpauth://` label, so it is replaced.
    pub fn from_bytes(bytes: Vec<u8>, issuer: &str, account: &str) -> Result<Self, TotpError> {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::new(bytes.into_boxed_slice()))
            .with_issuer(Some(issuer.replace(':', " ")))
            .with_account_name(account.replace(':', " "))
            .build()?;
        Ok(Self { totp })
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.totp.secret().as_bytes()
    }

    /// For manual entry in an authenticator app.
    pub fn base32(&self) -> String {
        self.totp.secret().to_base32()
    }

    pub fn otpauth_url(&self) -> Result<String, TotpError> {
        Ok(self.totp.to_url()?)
    }

    /// A PNG of the `otpauth://` URL as a QR code, base64 for a `data:` image.
    pub fn qr_png_base64(&self) -> Result<String, TotpError> {
        Ok(STANDARD.encode(self.totp.to_qr_png()?))
    }

    /// The time step `code` matches at `now`, within one step either way. Anything that is
    /// not exactly six digits never matches.
    pub fn matching_step(&self, code: &str, now: UnixTime) -> Option<i64> {
        let now = u64::try_from(now).ok()?;
        if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp.check(code, now).and_then(|step| i64::try_from(step).ok())
    }

    /// The code an authenticator shows at `time`.
    pub fn code_at(&self, time: UnixTime) -> String {
        self.totp.generate(u64::try_from(time).unwrap_or_default()).to_string()
    }
}

/// Whether typed text looks like a TOTP code (six digits, spaces allowed) rather than a
/// recovery code; returns the digits.
pub fn as_totp_code(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == usize::from(DIGITS) && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows. The RFC prints 8 digits; a 6-digit code is the
    /// same truncated value modulo 10^6, so the last six digits are the expected codes.
    const RFC6238_SHA1: [(i64, &str); 6] = [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ];

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec(), "wristband", "alice").unwrap()
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = rfc_secret();
        for (time, eight_digits) in RFC6238_SHA1 {
            let expected = &eight_digits[2..];
            assert_eq!(secret.code_at(time), expected, "T = {time}");
            assert_eq!(secret.matching_step(expected, time), Some(time / 30), "T = {time}");
        }
    }

    #[test]
    fn one_step_of_drift_is_accepted_either_way_and_no_more() {
        let secret = rfc_secret();
        let code = secret.code_at(1111111111);
        let step = 1111111111 / 30;
        assert_eq!(secret.matching_step(&code, 1111111111 + 30), Some(step));
        assert_eq!(secret.matching_step(&code, 1111111111 - 30), Some(step));
        assert_eq!(secret.matching_step(&code, 1111111111 + 60), None);
        assert_eq!(secret.matching_step(&code, 1111111111 - 60), None);
    }

    #[test]
    fn malformed_codes_never_match() {
        let secret = rfc_secret();
        for bad in ["", "28708", "2870822", "28708a", "+28708", " 287082", "２８７０８２"] {
            assert_eq!(secret.matching_step(bad, 59), None, "{bad:?}");
        }
    }

    #[test]
    fn the_otpauth_url_names_the_issuer_account_and_parameters() {
        let secret = TotpSecret::generate("wristband", "ali:ce").unwrap();
        let url = secret.otpauth_url().unwrap();
        assert!(url.starts_with("otpauth://totp/wristband:ali%20ce?"), "{url}");
        assert!(url.contains(&format!("secret={}", secret.base32())), "{url}");
        assert!(url.contains("issuer=wristband"), "{url}");
        assert_eq!(secret.as_bytes().len(), 20);
        let png = STANDARD.decode(secret.qr_png_base64().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn typed_text_is_a_totp_code_only_when_it_is_six_digits() {
        assert_eq!(as_totp_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(as_totp_code("12345"), None);
        assert_eq!(as_totp_code("ABCDE-FGHIJ"), None);
    }
}
