//! New agent passwords, kept secret from the moment they are parsed.

use secrecy::{ExposeSecret, SecretString};

use super::ValidationError;

/// A new agent password: 12 to 1024 characters.
///
/// The upper bound keeps a hostile client from making the server hash
/// megabytes with argon2.
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(field: &'static str, raw: SecretString) -> Result<Self, ValidationError> {
        let chars = raw.expose_secret().chars().count();
        if chars < Self::MIN_CHARS {
            return Err(ValidationError::new(
                field,
                "must be at least 12 characters",
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(ValidationError::new(
                field,
                "must be at most 1024 characters",
            ));
        }
        Ok(Password(raw))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds_count_characters() {
        assert!(Password::parse("password", "short".into()).is_err());
        assert!(Password::parse("password", "twelve chars".into()).is_ok());
        assert!(Password::parse("password", "é".repeat(12).into()).is_ok());
        assert!(Password::parse("password", "x".repeat(1025).into()).is_err());
    }
}
