//! Password hashing with Argon2id at the OWASP parameters (19 MiB, 2 passes, 1 lane).
//!
//! Hashing takes tens of milliseconds on purpose, so callers run it off the HTTP worker
//! (`web::block`). Verifying against a hash stored with other parameters works: the
//! parameters travel inside the PHC string.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn owasp() -> Argon2<'static> {
    hasher(Params::default())
}

/// Hashes a password for storage.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    owasp()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Hashes on the blocking pool, so the HTTP worker keeps serving meanwhile.
pub async fn hash_off_worker(
    secret: crate::domain::Password,
) -> Result<String, crate::jsonapi::error::ApiError> {
    use crate::jsonapi::error::ApiError;
    actix_web::web::block(move || hash(secret.expose()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// A deliberately cheap hash for `roster seed`: its users are fake data whose passwords
/// are public (`password-<index>`), and a million OWASP-strength hashes would take hours.
pub fn hash_for_seed_data(password: &str) -> Result<String, String> {
    let params = Params::new(Params::MIN_M_COST.max(8), 1, 1, None)
        .map_err(|e| format!("argon2 parameters: {e}"))?;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Whether `password` matches `stored`. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => owasp()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of one verification without a user, so that an unknown email costs
/// what a wrong password costs and response times do not reveal which emails exist.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash(&super::random_secret()).unwrap_or_default());
    let _ = verify(password, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_verifies() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("x", "not a hash"));
        let seeded = hash_for_seed_data("password-1").unwrap();
        assert!(verify("password-1", &seeded));
    }
}
