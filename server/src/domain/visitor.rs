//! Visitors beyond one chat: the continuity token that lets an anonymous
//! visitor come back as themselves, and the identity a trusted issuer
//! vouched for.
//!
//! A [`VisitorToken`] is to a visitor what a refresh token is to an agent's
//! login: 32 random bytes behind a `byrd_vt_` prefix (easy to spot in logs
//! and secret scanners), of which the store keeps only the SHA-256. A
//! plain hash suffices since the token has 256 bits of entropy.
//!
//! A [`VerifiedIdentity`] is what an identity token says once its
//! signature, issuer, audience and lifetime are checked, bounded like
//! everything else a client can make an agent read: the issuer and the
//! visitor's id there on one line, the name and email as a visitor's own,
//! a few attributes of plain text.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byrd_spec::chat::VisitorAttribute;
use byrd_spec::claims::{
    MAX_IDENTITY_ATTRIBUTE_KEY_CHARS, MAX_IDENTITY_ATTRIBUTE_VALUE_CHARS, MAX_IDENTITY_ATTRIBUTES,
    MAX_IDENTITY_SUBJECT_CHARS,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::text::{parse_identifier, parse_line};
use super::{DisplayName, EmailAddress, ValidationError};

const TOKEN_PREFIX: &str = "byrd_vt_";
/// 32 bytes in base64url without padding.
const TOKEN_SECRET_CHARS: usize = 43;

/// A visitor's continuity token, as the widget holds it.
pub struct VisitorToken {
    /// What the widget gets.
    pub token: String,
    /// What the store keeps.
    pub hash: [u8; 32],
}

impl VisitorToken {
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
        let hash = Sha256::digest(token.as_bytes()).into();
        VisitorToken { token, hash }
    }

    /// The token presented, if it has the shape of one this server
    /// issues; `None` for anything else, which then names no visitor.
    pub fn presented(raw: &str) -> Option<Self> {
        let secret = raw.strip_prefix(TOKEN_PREFIX)?;
        let well_formed = secret.len() == TOKEN_SECRET_CHARS
            && URL_SAFE_NO_PAD
                .decode(secret)
                .is_ok_and(|bytes| bytes.len() == 32);
        well_formed.then(|| VisitorToken {
            token: raw.to_owned(),
            hash: Sha256::digest(raw.as_bytes()).into(),
        })
    }
}

impl std::fmt::Debug for VisitorToken {
    // The token is a credential: never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorToken(..)")
    }
}

/// Issuers are URLs or short names, and must equal a configured one.
const MAX_ISSUER: usize = 255;

/// A visitor's identity as a trusted issuer vouched for it: who they are
/// there (`issuer`, `subject`), what the issuer calls them, and a few
/// attributes, each parsed and bounded. These are the bounds
/// `v1/visitor-identity.schema.json` states, from the same constants: the
/// one rule for an identity's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    issuer: String,
    subject: String,
    name: Option<DisplayName>,
    email: Option<EmailAddress>,
    attributes: Vec<VisitorAttribute>,
}

impl VerifiedIdentity {
    /// Parses the claims of a verified identity token. `attributes` are
    /// (name, value) pairs; they are kept sorted by name, and a name given
    /// twice is refused rather than one of its values picked.
    pub fn parse(
        issuer: &str,
        subject: &str,
        name: Option<&str>,
        email: Option<&str>,
        attributes: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ValidationError> {
        let one_line = "must be 1 to 255 characters on one line, without control characters";
        let issuer = parse_identifier("identity.iss", issuer, MAX_ISSUER, one_line)?;
        let subject = parse_identifier(
            "identity.sub",
            subject,
            MAX_IDENTITY_SUBJECT_CHARS,
            one_line,
        )?;
        let name = name
            .map(|name| DisplayName::parse("identity.name", name))
            .transpose()?;
        let email = email
            .map(|email| EmailAddress::parse("identity.email", email))
            .transpose()?;
        let mut parsed = attributes
            .into_iter()
            .map(|(name, value)| attribute(&name, &value))
            .collect::<Result<Vec<_>, _>>()?;
        if parsed.len() > MAX_IDENTITY_ATTRIBUTES {
            return Err(ValidationError::new(
                "identity.attributes",
                "must hold at most 20 attributes",
            ));
        }
        parsed.sort_by(|a, b| a.name.cmp(&b.name));
        if parsed.windows(2).any(|pair| pair[0].name == pair[1].name) {
            return Err(ValidationError::new(
                "identity.attributes",
                "must not name an attribute twice",
            ));
        }
        Ok(VerifiedIdentity {
            issuer,
            subject,
            name,
            email,
            attributes: parsed,
        })
    }

    /// The issuer (`iss`) that vouched for the visitor.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The visitor's user id at the issuer.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn name(&self) -> Option<&DisplayName> {
        self.name.as_ref()
    }

    pub fn email(&self) -> Option<&EmailAddress> {
        self.email.as_ref()
    }

    /// Sorted by name, each name once.
    pub fn attributes(&self) -> &[VisitorAttribute] {
        &self.attributes
    }
}

/// One attribute: a short ASCII name, a one-line value.
fn attribute(name: &str, value: &str) -> Result<VisitorAttribute, ValidationError> {
    let name_ok = (1..=MAX_IDENTITY_ATTRIBUTE_KEY_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !name_ok {
        return Err(ValidationError::new(
            "identity.attributes",
            "names must be 1 to 40 ASCII letters, digits, '_', '-' or '.'",
        ));
    }
    let value = parse_line(
        "identity.attributes",
        value,
        MAX_IDENTITY_ATTRIBUTE_VALUE_CHARS,
        "values must be 1 to 200 characters on one line, without control characters",
    )?;
    Ok(VisitorAttribute {
        name: name.to_owned(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_generated_token_is_recognised_and_others_name_no_visitor() {
        let token = VisitorToken::generate();
        let presented = VisitorToken::presented(&token.token).unwrap();
        assert_eq!(presented.hash, token.hash);
        assert_ne!(VisitorToken::generate().hash, token.hash);
        let tail = &token.token[TOKEN_PREFIX.len()..];
        for garbage in [
            "",
            "byrd_vt_",
            tail,
            &format!("byrd_rt_{tail}"),
            &format!("{}x", token.token),
            &format!("byrd_vt_{}!", &tail[1..]),
        ] {
            assert!(VisitorToken::presented(garbage).is_none(), "{garbage:?}");
        }
        assert_eq!(format!("{token:?}"), "VisitorToken(..)");
    }

    #[test]
    fn an_identity_is_bounded_and_its_attributes_sorted() {
        let identity = VerifiedIdentity::parse(
            "https://shop.example",
            "user-42",
            Some("Ada"),
            Some("ada@example.com"),
            pairs(&[("plan", "pro"), ("account.id", "A-7")]),
        )
        .unwrap();
        assert_eq!(identity.subject(), "user-42");
        let names: Vec<_> = identity.attributes().iter().map(|a| &a.name).collect();
        assert_eq!(names, ["account.id", "plan"]);

        let refused = |issuer: &str, subject: &str, attributes: &[(&str, &str)]| {
            VerifiedIdentity::parse(issuer, subject, None, None, pairs(attributes)).unwrap_err()
        };
        assert_eq!(refused("", "u", &[]).field, "identity.iss");
        assert_eq!(refused("i", "u\u{202E}", &[]).field, "identity.sub");
        assert_eq!(refused("i", &"u".repeat(256), &[]).field, "identity.sub");
        // An id is taken exactly: " 42" is not "42" with a space trimmed.
        for spaced in [" 42", "42 ", "42\u{a0}"] {
            let error = refused("i", spaced, &[]);
            assert_eq!(error.field, "identity.sub");
            assert!(error.reason.contains("whitespace"), "{spaced:?}");
        }
        assert_eq!(refused(" i", "u", &[]).field, "identity.iss");
        for bad in [("", "v"), ("a b", "v"), ("plan", "a\nb"), ("plan", "")] {
            assert_eq!(refused("i", "u", &[bad]).field, "identity.attributes");
        }
        assert!(
            refused("i", "u", &[("plan", "a"), ("plan", "b")])
                .reason
                .contains("twice")
        );
        let many: Vec<(String, String)> = (0..=MAX_IDENTITY_ATTRIBUTES)
            .map(|n| (format!("a{n}"), "v".to_owned()))
            .collect();
        assert!(VerifiedIdentity::parse("i", "u", None, None, many).is_err());
        assert!(VerifiedIdentity::parse("i", "u", Some("a\u{0}"), None, []).is_err());
    }
}
