//! Credentials: staff passwords, session ids and API tokens. Pure apart
//! from drawing randomness; storage keeps only what is derived here
//! (Argon2id hashes, SHA-256 of tokens), never the secrets themselves.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use rand::RngCore;
use ring::digest::{digest, SHA256};

/// Shortest password a person may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted; Argon2 hashes any length, but a bound keeps
/// a hostile form post from costing more than a normal sign-in.
pub const MAX_PASSWORD_BYTES: usize = 256;
/// Random bytes in a session id or API token.
const TOKEN_BYTES: usize = 32;
/// Prefix that makes an API token recognisable in a leak scan.
pub const API_TOKEN_PREFIX: &str = "tfk_";
/// Prefix of a session cookie's value.
const SESSION_PREFIX: &str = "tfs_";

/// Argon2id with OWASP's second recommended setting (19 MiB, t=2, p=1):
/// about 30 ms a sign-in on this class of machine.
fn argon2() -> Argon2<'static> {
    // These constants are within Argon2's limits, so `new` cannot fail.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A password as typed: never printed, never stored.
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("password must be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

impl Password {
    /// A password someone is choosing: long enough, not absurdly long.
    pub fn new_choice(s: &str) -> Result<Password, PasswordError> {
        if s.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        if s.chars().count() < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        Ok(Password(s.to_string()))
    }

    /// A password someone is signing in with; only the length bound applies.
    pub fn attempt(s: &str) -> Option<Password> {
        (s.len() <= MAX_PASSWORD_BYTES).then(|| Password(s.to_string()))
    }

    /// The PHC string (`$argon2id$v=19$m=…`) to store.
    pub fn hash(&self) -> String {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        // Hashing with valid params and a fresh salt cannot fail.
        argon2()
            .hash_password(self.0.as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    }

    /// Checks against a stored PHC string; a malformed one never matches.
    pub fn verify(&self, stored: &str) -> bool {
        match PasswordHash::new(stored) {
            Ok(h) => argon2().verify_password(self.0.as_bytes(), &h).is_ok(),
            Err(_) => false,
        }
    }
}

/// A hash to verify against when the account does not exist, so a wrong
/// login name costs as long as a wrong password and reveals nothing.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| Password("not a real password".into()).hash())
}

/// A bearer secret (session id or API token): shown once to its holder,
/// stored only as its SHA-256.
pub struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    fn generate(prefix: &str) -> Token {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Token(format!("{prefix}{}", B64URL.encode(bytes)))
    }

    pub fn new_session() -> Token {
        Token::generate(SESSION_PREFIX)
    }

    pub fn new_api() -> Token {
        Token::generate(API_TOKEN_PREFIX)
    }

    /// What the holder presented; hashing it is the only thing done with it.
    pub fn presented(s: &str) -> Token {
        Token(s.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Lowercase hex SHA-256: the only form the database ever sees.
    pub fn digest_hex(&self) -> String {
        hex::encode(digest(&SHA256, self.0.as_bytes()).as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip_and_mismatch() {
        let p = Password::new_choice("correct horse battery").unwrap();
        let stored = p.hash();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(p.verify(&stored));
        assert!(!Password::attempt("correct horse batterx")
            .unwrap()
            .verify(&stored));
        assert!(!p.verify("not a phc string"));
        assert!(!p.verify(dummy_hash()));
        // Salted: the same password hashes differently each time.
        assert_ne!(stored, p.hash());
    }

    #[test]
    fn password_bounds() {
        assert_eq!(
            Password::new_choice("short").err(),
            Some(PasswordError::TooShort)
        );
        assert_eq!(
            Password::new_choice(&"x".repeat(MAX_PASSWORD_BYTES + 1)).err(),
            Some(PasswordError::TooLong)
        );
        assert!(Password::attempt(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_none());
        assert_eq!(
            format!("{:?}", Password::attempt("secret").unwrap()),
            "Password(…)"
        );
    }

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let a = Token::new_api();
        let b = Token::new_api();
        assert!(a.expose().starts_with(API_TOKEN_PREFIX));
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.digest_hex().len(), 64);
        assert_eq!(
            Token::presented(a.expose()).digest_hex(),
            a.digest_hex(),
            "the digest of what is presented finds the stored row"
        );
        assert_eq!(format!("{a:?}"), "Token(…)");
    }
}
