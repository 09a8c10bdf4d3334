//! Short free-text fields (display names, chat subjects): one line each,
//! trimmed, bounded, without control characters.

use super::ValidationError;

/// Trims `raw` and checks it is 1 to `max` characters with no control
/// characters; shared by the short free-text fields below.
fn parse_line(
    field: &'static str,
    raw: &str,
    max: usize,
    reason: &'static str,
) -> Result<String, ValidationError> {
    let value = raw.trim();
    let chars = value.chars().count();
    if chars == 0 || chars > max || value.chars().any(char::is_control) {
        return Err(ValidationError::new(field, reason));
    }
    Ok(value.to_owned())
}

/// A person's display name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        parse_line(
            field,
            raw,
            100,
            "must be 1 to 100 characters without control characters",
        )
        .map(DisplayName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A chat subject: 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        parse_line(
            field,
            raw,
            200,
            "must be 1 to 200 characters without control characters",
        )
        .map(Subject)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("name", "  Ada ").unwrap().as_str(),
            "Ada"
        );
        assert!(DisplayName::parse("name", "   ").is_err());
        assert!(DisplayName::parse("name", "a\u{0}b").is_err());
        assert!(DisplayName::parse("name", &"x".repeat(101)).is_err());
        assert!(Subject::parse("subject", &"x".repeat(200)).is_ok());
        assert!(Subject::parse("subject", &"x".repeat(201)).is_err());
    }
}
