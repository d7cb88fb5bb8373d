//! Who is calling: passwords (Argon2id), session tokens (JWT HS256), the [`Caller`]
//! extractor that checks a token against its live session on every request, and the
//! sign-in throttle.

pub mod caller;
pub mod password;
pub mod throttle;
pub mod token;

pub use caller::{Caller, OptionalCaller};

use base64::Engine;
use rand::RngCore;

/// Cryptographically random bytes from the OS generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A random URL-safe secret (256 bits), for invitation tokens and generated passwords.
pub fn random_secret() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(32))
}

/// SHA-256 of a secret, hex-encoded: what is stored instead of an invitation token.
pub fn digest(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}
