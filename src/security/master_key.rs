//! The master key: the key-encryption key under which private signing keys and TOTP
//! secrets are stored (AES-256-GCM), and from which MAC keys are derived. It never enters
//! the database.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};

use crate::config::MasterKeySource;
use crate::security::random::{RandomError, random_bytes};

pub const MASTER_KEY_LEN: usize = 32;
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("cannot read master key file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot create master key file {path}: {source}")]
    Create { path: String, source: std::io::Error },
    #[error("master key file {path} holds {len} bytes; it must hold exactly {MASTER_KEY_LEN} raw bytes")]
    WrongLength { path: String, len: usize },
    /// Anyone who can read the key can open every private key and TOTP secret stored.
    #[error("master key file {path} is readable by group or others (mode {mode:o}); run `chmod 600 {path}`")]
    Exposed { path: String, mode: u32 },
    #[error(transparent)]
    Random(#[from] RandomError),
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The ciphertext was altered, belongs to another purpose, or was sealed under a
    /// different master key.
    #[error("sealed value cannot be opened: wrong master key, wrong purpose, or tampered data")]
    Open,
    #[error("encryption failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    #[error(transparent)]
    Random(#[from] RandomError),
}

#[derive(Clone)]
pub struct MasterKey([u8; MASTER_KEY_LEN]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// Loads the key; a missing key file is created with 32 random bytes and mode 0600.
    pub fn load_or_create(source: &MasterKeySource) -> Result<Self, MasterKeyError> {
        match source {
            MasterKeySource::Inline(bytes) => Ok(Self(*bytes)),
            MasterKeySource::File(path) => match read_key_file(path)? {
                Some(key) => Ok(key),
                None => create_key_file(path),
            },
        }
    }

    /// Encrypts `plaintext`; `purpose` (e.g. `signing_key:<kid>`) is authenticated with
    /// it, so a ciphertext copied into another row or column will not open there.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let nonce = random_bytes::<NONCE_LEN>()?;
        let mut tag = [0u8; TAG_LEN];
        let ciphertext =
            encrypt_aead(Cipher::aes_256_gcm(), &self.0, Some(&nonce), purpose.as_bytes(), plaintext, &mut tag)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len() + TAG_LEN);
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed.extend_from_slice(&tag);
        Ok(sealed)
    }

    /// HMAC-SHA256 of `message` under a key derived for `purpose`, so a MAC made for one
    /// purpose never verifies for another and the AES key itself never keys an HMAC.
    pub fn mac(&self, purpose: &str, message: &[u8]) -> Result<[u8; 32], SealError> {
        let derived = hmac_sha256(&self.0, format!("wristband mac key:{purpose}").as_bytes())?;
        hmac_sha256(&derived, message)
    }

    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let (version, rest) = sealed.split_first().ok_or(SealError::Open)?;
        if *version != FORMAT_V1 || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Open);
        }
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        decrypt_aead(Cipher::aes_256_gcm(), &self.0, Some(nonce), purpose.as_bytes(), ciphertext, tag)
            .map_err(|_| SealError::Open)
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Result<[u8; 32], SealError> {
    let key = PKey::hmac(key)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key)?;
    signer.update(message)?;
    let mut mac = [0u8; 32];
    signer.sign(&mut mac)?;
    Ok(mac)
}

fn read_key_file(path: &Path) -> Result<Option<MasterKey>, MasterKeyError> {
    let shown = path.display().to_string();
    let mode = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o777,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(MasterKeyError::Read { path: shown, source }),
    };
    if mode & 0o077 != 0 {
        return Err(MasterKeyError::Exposed { path: shown, mode });
    }
    let bytes = std::fs::read(path).map_err(|source| MasterKeyError::Read { path: shown.clone(), source })?;
    let key = <[u8; MASTER_KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| MasterKeyError::WrongLength { path: shown, len: bytes.len() })?;
    Ok(Some(MasterKey(key)))
}

/// Writes the key to a private temporary file, then hard-links it into place: the link
/// fails if another process won the race, and no reader ever sees a half-written key.
fn create_key_file(path: &Path) -> Result<MasterKey, MasterKeyError> {
    let shown = path.display().to_string();
    let create_err = |source| MasterKeyError::Create { path: shown.clone(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(create_err)?;
    }
    let key = random_bytes::<MASTER_KEY_LEN>()?;
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut file| file.write_all(&key).and_then(|()| file.sync_all()));
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %shown, "created a new master key; back it up: without it, stored keys cannot be read");
            Ok(MasterKey(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path)?.ok_or_else(|| create_err(e)),
        Err(e) => Err(create_err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey([9u8; MASTER_KEY_LEN])
    }

    #[test]
    fn sealed_values_open_with_the_same_purpose() {
        let sealed = key().seal("signing_key:a", b"private").unwrap();
        assert_eq!(key().open("signing_key:a", &sealed).unwrap(), b"private");
        assert!(!sealed.windows(7).any(|w| w == b"private"));
    }

    #[test]
    fn sealed_values_do_not_open_for_another_purpose_or_key_or_after_tampering() {
        let sealed = key().seal("signing_key:a", b"private").unwrap();
        assert!(key().open("signing_key:b", &sealed).is_err());
        assert!(MasterKey([1u8; MASTER_KEY_LEN]).open("signing_key:a", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(key().open("signing_key:a", &tampered).is_err());
        assert!(key().open("signing_key:a", &sealed[..10]).is_err());
    }

    #[test]
    fn a_missing_key_file_is_created_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/master.key");
        let source = MasterKeySource::File(path.clone());
        let first = MasterKey::load_or_create(&source).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = MasterKey::load_or_create(&source).unwrap();
        assert_eq!(first.0, second.0);
        assert_eq!(std::fs::read_dir(dir.path().join("keys")).unwrap().count(), 1);
    }

    #[test]
    fn a_key_file_readable_by_group_or_others_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, [7u8; MASTER_KEY_LEN]).unwrap();
        for mode in [0o640, 0o604, 0o644] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = MasterKey::load_or_create(&MasterKeySource::File(path.clone())).unwrap_err().to_string();
            assert!(err.contains(&path.display().to_string()) && err.contains("chmod 600"), "{mode:o}: {err}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(MasterKey::load_or_create(&MasterKeySource::File(path)).unwrap().0, [7u8; MASTER_KEY_LEN]);
    }

    #[test]
    fn a_key_file_of_the_wrong_length_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, b"too short").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let err = MasterKey::load_or_create(&MasterKeySource::File(path)).unwrap_err();
        assert!(err.to_string().contains("exactly 32"), "{err}");
    }
}
