//! Random values from OpenSSL's CSPRNG, and the SHA-256 digests under which secrets are
//! stored (DESIGN.md: client secrets, refresh tokens, codes, session ids, recovery codes).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed: {0}")]
pub struct RandomError(#[from] openssl::error::ErrorStack);

pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut bytes = [0u8; N];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(bytes)
}

/// A 256-bit random value, base64url without padding, behind a short prefix that tells
/// secret scanners (and people) what it is: `wbs_` client secret, `wbr_` refresh token.
pub fn opaque_secret(prefix: &str) -> Result<String, RandomError> {
    let bytes = random_bytes::<32>()?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// A password for people to copy once: 120 random bits in 20 URL-safe characters.
pub fn generated_password() -> Result<String, RandomError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<15>()?))
}

/// Lower-case hex SHA-256: the stored form of a high-entropy secret. Unlike a password,
/// a 256-bit value needs no salt or stretching.
pub fn sha256_hex(value: &str) -> String {
    openssl::sha::sha256(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets' digests without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_secrets_carry_256_bits_behind_their_prefix() {
        let secret = opaque_secret("wbs_").unwrap();
        assert!(secret.starts_with("wbs_"));
        assert_eq!(URL_SAFE_NO_PAD.decode(&secret[4..]).unwrap().len(), 32);
        assert_ne!(secret, opaque_secret("wbs_").unwrap());
    }

    #[test]
    fn sha256_matches_the_known_vector() {
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
