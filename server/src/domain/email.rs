//! Email addresses: agents log in with one and visitors may leave one.

use super::ValidationError;

/// An email address, trimmed, with a lower-cased form for comparisons.
///
/// The check is deliberately loose (one `@`, a dotted domain, no spaces or
/// control characters, at most 254 bytes): the only real test of an address
/// is mail reaching it, and Byrd sends none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        if value.is_empty() || value.len() > 254 {
            return Err(ValidationError::new(field, "must be 1 to 254 characters"));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(ValidationError::new(field, "must be an email address"));
        };
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(ValidationError::new(field, "must be an email address"));
        }
        Ok(EmailAddress(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form unique constraints and logins compare.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_addresses_and_trims() {
        let email = EmailAddress::parse("email", "  Ada@Example.com ").unwrap();
        assert_eq!(email.as_str(), "Ada@Example.com");
        assert_eq!(email.normalized(), "ada@example.com");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "a@b@c.com",
            "ada@example",
            "a da@example.com",
            "ada@.com",
            "ada@example.com.",
        ] {
            assert!(
                EmailAddress::parse("email", bad).is_err(),
                "{bad:?} was accepted"
            );
        }
    }
}
