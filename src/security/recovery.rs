//! Recovery codes: single-use codes that stand in for the TOTP app when it is lost.
//! Each carries 100 random bits as 20 base32 characters in groups of five, so a person
//! can type it; stored as its SHA-256 (at 2^100 guesses, no salt or stretching is needed).

use super::random::{RandomError, random_bytes, sha256_hex};

pub const RECOVERY_CODE_COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const CHARS: usize = 20;

/// Ten new codes, formatted for display (`ABCDE-FGHIJ-KLMNO-PQRST`).
pub fn generate_recovery_codes() -> Result<Vec<String>, RandomError> {
    (0..RECOVERY_CODE_COUNT).map(|_| generate_one()).collect()
}

fn generate_one() -> Result<String, RandomError> {
    // 13 bytes give 104 bits; 20 characters of 5 bits use the first 100.
    let bytes = random_bytes::<13>()?;
    let mut bits: u128 = 0;
    for byte in bytes {
        bits = (bits << 8) | u128::from(byte);
    }
    let chars: Vec<u8> = (0..CHARS).map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize]).collect();
    Ok(chars.chunks(5).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-"))
}

/// The canonical form of a typed code: case, spaces and dashes do not matter. `None`
/// when it cannot be a recovery code.
pub fn normalize_recovery_code(typed: &str) -> Option<String> {
    let code: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == CHARS && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The stored form of a code, from its display or typed form.
pub fn recovery_code_hash(code: &str) -> Option<String> {
    normalize_recovery_code(code).map(|c| sha256_hex(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_codes_in_groups_of_five() {
        let codes = generate_recovery_codes().unwrap();
        assert_eq!(codes.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 23, "{code}");
            assert_eq!(code.split('-').count(), 4, "{code}");
            assert!(normalize_recovery_code(code).is_some(), "{code}");
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
    }

    #[test]
    fn typing_variations_hash_alike_and_garbage_is_refused() {
        let code = "ABCDE-FGHIJ-KLMNO-PQRST";
        let hash = recovery_code_hash(code).unwrap();
        assert_eq!(recovery_code_hash("abcde fghij klmno pqrst").as_deref(), Some(hash.as_str()));
        assert_eq!(recovery_code_hash("ABCDEFGHIJKLMNOPQRST").as_deref(), Some(hash.as_str()));
        for bad in ["", "ABCDE-FGHIJ", "ABCDE-FGHIJ-KLMNO-PQRS1", "ABCDE-FGHIJ-KLMNO-PQRSTU", "123456"] {
            assert_eq!(recovery_code_hash(bad), None, "{bad}");
        }
    }
}
