//! Session tokens: JWTs signed with HS256, carrying the session id so that revocation
//! (checked against the database on every request) works. Validation is pinned to HS256
//! and requires `exp`, `iss`, `aud` and `sub`: an `alg: none` or re-signed token fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "roster";
pub const AUDIENCE: &str = "roster-api";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The session.
    pub sid: String,
    /// The account signed in to.
    pub acc: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// The signing and verifying keys, made once from the configured secret, and the
/// tokens they verified lately.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    verified: Arc<Mutex<HashMap<String, Claims>>>,
}

/// How many verified tokens are remembered; past that the memory starts over. A client
/// sends the same token on every request, and verifying it (base64, JSON, HMAC) was a
/// fifth of the work of `GET /users/{id}`. Only a token whose signature verified is
/// remembered, so the table cannot be filled with forgeries.
const VERIFIED_TOKENS_KEPT: usize = 4096;

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is also checked against the session row with the server's clock; no
        // grace period here either.
        validation.leeway = 0;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: Arc::default(),
        }
    }

    pub fn issue(&self, claims: &Claims) -> Result<String, String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| format!("token signing failed: {e}"))
    }

    /// The claims of a token whose signature, algorithm, issuer, audience and expiry
    /// are right.
    /// A token verified before is looked up, and only its expiry checked again (the
    /// session row is checked on every request all the same).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let now = chrono::Utc::now().timestamp();
        if let Ok(verified) = self.verified.lock()
            && let Some(claims) = verified.get(token)
        {
            return (claims.exp > now).then(|| claims.clone());
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= VERIFIED_TOKENS_KEPT {
                verified.clear();
            }
            verified.insert(token.to_owned(), claims.clone());
        }
        Some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "u".into(),
            sid: "s".into(),
            acc: "a".into(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn round_trip_and_tampering() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let future = chrono::Utc::now().timestamp() + 60;
        let token = keys.issue(&claims(future)).unwrap();
        assert_eq!(keys.verify(&token), Some(claims(future)));

        let expired = keys
            .issue(&claims(chrono::Utc::now().timestamp() - 1))
            .unwrap();
        assert_eq!(keys.verify(&expired), None);

        let other = TokenKeys::new(b"another-secret-another-secret-xx");
        assert_eq!(other.verify(&token), None);
        // Remembered tokens are checked again: the same answers a second time.
        assert_eq!(keys.verify(&token), Some(claims(future)));
        assert_eq!(keys.verify(&expired), None);
        assert_eq!(other.verify(&token), None);

        // alg: none with the same claims
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = token.split('.').nth(1).unwrap();
        assert_eq!(keys.verify(&format!("{header}.{payload}.")), None);
    }

    #[test]
    fn a_remembered_token_stops_working_when_it_expires() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let soon = chrono::Utc::now().timestamp() + 1;
        let token = keys.issue(&claims(soon)).unwrap();
        assert_eq!(keys.verify(&token), Some(claims(soon)));
        std::thread::sleep(std::time::Duration::from_millis(2100));
        assert_eq!(keys.verify(&token), None);
    }
}
