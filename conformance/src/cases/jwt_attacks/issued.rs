//! Forgeries made from the server's own tokens alone: another `alg`, a
//! missing or broken signature, a guessed key, hostile `kid`, `jku`, `x5u`
//! and `jwk` headers, claims changed without re-signing, garbage, and
//! tokens presented where they do not belong. None needs the server's key.

use serde_json::{Value, json};

use super::{Bases, Forged, Kind, Presented, forged, label_of};
use crate::jwt::{self, Hmac, Parts};

/// Keys an attacker might guess: the empty one, and common secrets.
const GUESSED_KEYS: [&str; 9] = [
    "secret",
    "password",
    "byrd",
    "changeme",
    "your-256-bit-secret",
    "jwt-secret",
    "123456",
    "your-256-bit-secret-your-256-bit",
    "change-me-change-me-change-me-change-me",
];

/// A key no server holds, for tokens signed by "the attacker".
const ATTACKER_KEY: &[u8] = b"attacker-key-that-is-32-bytes-long!";

/// `token`'s parts, or nothing for a token the server did not issue in
/// compact form (then there is nothing to tamper with).
fn parts_of(token: &str) -> Option<(Value, Value, Parts)> {
    let parts = Parts::of(token)?;
    Some((parts.header_json()?, parts.claims_json()?, parts))
}

pub(super) fn alg_none(bases: &Bases) -> Vec<Forged> {
    let mut out = Vec::new();
    for (kind, token) in bases.issued() {
        let Some((header, claims, parts)) = parts_of(token) else {
            continue;
        };
        for alg in ["none", "None", "NONE", "nOnE"] {
            let header = jwt::with(header.clone(), "alg", json!(alg));
            let who = label_of(kind);
            out.push(forged(
                format!("{who}, alg {alg:?}, no signature"),
                kind,
                jwt::with_signature(&header, &claims, ""),
                "token_invalid",
            ));
            out.push(forged(
                format!("{who}, alg {alg:?}, no final dot"),
                kind,
                jwt::signing_input(&header, &claims),
                "token_invalid",
            ));
            out.push(forged(
                format!("{who}, alg {alg:?}, original signature"),
                kind,
                jwt::with_signature(&header, &claims, &jwt::b64(&parts.signature)),
                "token_invalid",
            ));
        }
    }
    out
}

pub(super) fn null_signature(bases: &Bases) -> Vec<Forged> {
    let mut out = Vec::new();
    for (kind, token) in bases.issued() {
        let Some(mut parts) = Parts::of(token) else {
            continue;
        };
        let who = label_of(kind);
        let length = parts.signature.len();
        parts.signature = Vec::new();
        out.push(forged(
            format!("{who}, empty signature"),
            kind,
            parts.join(),
            "token_invalid",
        ));
        parts.signature = vec![0; length.max(32)];
        out.push(forged(
            format!("{who}, all-zero signature"),
            kind,
            parts.join(),
            "token_invalid",
        ));
    }
    out
}

pub(super) fn tampered_signature(bases: &Bases) -> Vec<Forged> {
    let mut out = Vec::new();
    for (kind, token) in bases.issued() {
        let Some(parts) = Parts::of(token) else {
            continue;
        };
        let who = label_of(kind);
        let length = parts.signature.len();
        for (what, signature) in [
            ("first 16 bytes", parts.signature[..length.min(16)].to_vec()),
            (
                "one byte short",
                parts.signature[..length.saturating_sub(1)].to_vec(),
            ),
            ("first bit flipped", flip(&parts.signature, 0)),
            ("last bit flipped", flip(&parts.signature, length * 8 - 1)),
        ] {
            let token = Parts {
                signature,
                ..parts.clone()
            }
            .join();
            out.push(forged(
                format!("{who}, signature {what}"),
                kind,
                token,
                "token_invalid",
            ));
        }
    }
    out
}

fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let Some(byte) = out.get_mut(bit / 8) {
        *byte ^= 0x80 >> (bit % 8);
    }
    out
}

pub(super) fn guessed_key(bases: &Bases) -> Vec<Forged> {
    let mut out = Vec::new();
    for (kind, token) in bases.issued() {
        let Some((header, claims, _)) = parts_of(token) else {
            continue;
        };
        for key in std::iter::once("").chain(GUESSED_KEYS) {
            out.push(forged(
                format!("{}, key {key:?}", label_of(kind)),
                kind,
                jwt::sign(&header, &claims, &Hmac::Sha256, key.as_bytes()),
                "token_invalid",
            ));
        }
    }
    out
}

fn with_kid(bases: &Bases, kids: &[(&str, &[u8])]) -> Vec<Forged> {
    let mut out = Vec::new();
    for (kind, token) in bases.issued() {
        let Some((header, claims, _)) = parts_of(token) else {
            continue;
        };
        for (kid, key) in kids {
            let header = jwt::with(header.clone(), "kid", json!(kid));
            out.push(forged(
                format!("{}, kid {kid:?}", label_of(kind)),
                kind,
                jwt::sign(&header, &claims, &Hmac::Sha256, key),
                "token_invalid",
            ));
        }
    }
    out
}

pub(super) fn kid_path_traversal(bases: &Bases) -> Vec<Forged> {
    with_kid(
        bases,
        &[
            ("../../../../../../../../dev/null", b""),
            ("/dev/null", b""),
            (
                "../../../../../../../../proc/sys/kernel/randomize_va_space",
                b"2\n",
            ),
        ],
    )
}

pub(super) fn kid_injection(bases: &Bases) -> Vec<Forged> {
    with_kid(
        bases,
        &[
            ("x' UNION SELECT '1';--", b"1"),
            ("byrd-1' OR '1'='1", b""),
            ("|sleep 10", b""),
            ("$(sleep 10)", b""),
        ],
    )
}

pub(super) fn key_url_headers(bases: &Bases) -> Vec<Forged> {
    let mut out = Vec::new();
    for (kind, token) in bases.issued() {
        let Some((header, claims, _)) = parts_of(token) else {
            continue;
        };
        for (name, url) in [
            ("jku", "http://127.0.0.1:9/.well-known/jwks.json"),
            ("x5u", "http://127.0.0.1:9/attacker.pem"),
        ] {
            let header = jwt::with(header.clone(), name, json!(url));
            out.push(forged(
                format!(
                    "{}, {name} {url:?}, signed with the attacker's key",
                    label_of(kind)
                ),
                kind,
                jwt::sign(&header, &claims, &Hmac::Sha256, ATTACKER_KEY),
                "token_invalid",
            ));
        }
    }
    out
}

pub(super) fn embedded_jwk(bases: &Bases) -> Vec<Forged> {
    let mut out = Vec::new();
    for (kind, token) in bases.issued() {
        let Some((header, claims, _)) = parts_of(token) else {
            continue;
        };
        let jwk = json!({"kty": "oct", "k": jwt::b64(ATTACKER_KEY), "alg": "HS256"});
        let header = jwt::with(header, "jwk", jwk);
        out.push(forged(
            format!("{}, jwk of the attacker's key", label_of(kind)),
            kind,
            jwt::sign(&header, &claims, &Hmac::Sha256, ATTACKER_KEY),
            "token_invalid",
        ));
    }
    out
}

pub(super) fn tampered_claims(bases: &Bases) -> Vec<Forged> {
    let mut out = Vec::new();
    let other = uuid::Uuid::new_v4().to_string();
    for (kind, token) in bases.issued() {
        let Some((_, claims, parts)) = parts_of(token) else {
            continue;
        };
        let changes: Vec<(&str, Value)> = match kind {
            Kind::Agent => vec![
                ("role", json!("admin")),
                ("sub", json!(other)),
                ("type", json!("guest")),
                ("exp", json!(claims["exp"].as_i64().unwrap_or(0) + 86_400)),
            ],
            Kind::Guest => vec![
                (
                    "chat",
                    json!({"id": other, "created_at": claims["chat"]["created_at"]}),
                ),
                ("sub", json!(other)),
                ("type", json!("agent")),
                ("exp", json!(claims["exp"].as_i64().unwrap_or(0) + 86_400)),
            ],
        };
        for (key, value) in changes {
            let changed = jwt::with(claims.clone(), key, value.clone());
            let token = Parts {
                claims: changed.to_string().into_bytes(),
                ..parts.clone()
            }
            .join();
            out.push(forged(
                format!(
                    "{}, {key} set to {value} without re-signing",
                    label_of(kind)
                ),
                kind,
                token,
                "token_invalid",
            ));
        }
    }
    out
}

pub(super) fn garbage(_: &Bases) -> Vec<Forged> {
    let header = jwt::b64_json(&json!({"alg": "HS256", "typ": "JWT"}));
    [
        ("a word", "garbage".to_owned()),
        ("three letters", "a.b.c".to_owned()),
        ("only dots", "...".to_owned()),
        ("empty objects", "e30.e30.".to_owned()),
        ("a header alone", header.clone()),
        ("four parts", format!("{header}.e30.e30.e30")),
        ("not base64url", "eyJ!.eyJ!.sig!".to_owned()),
        ("10 KiB", "A".repeat(10 * 1024)),
    ]
    .into_iter()
    .map(|(label, token)| forged(label, Kind::Agent, token, "token_invalid"))
    .collect()
}

pub(super) fn refresh_as_access(bases: &Bases) -> Vec<Forged> {
    vec![forged(
        "the agent's refresh token",
        Kind::Agent,
        bases.refresh_token.clone(),
        "token_invalid",
    )]
}

pub(super) fn authorization_format(bases: &Bases) -> Vec<Forged> {
    let token = &bases.agent_token;
    [
        format!("Basic {token}"),
        format!("Token {token}"),
        token.clone(),
        "Bearer".to_owned(),
        "Bearer    ".to_owned(),
    ]
    .into_iter()
    .map(|value| Forged {
        label: format!("Authorization: {}", crate::wire::redact::header(&value)),
        kind: Kind::Agent,
        presented: Presented::Authorization(value),
        code: "token_invalid",
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flipping_a_bit_changes_one_bit() {
        assert_eq!(flip(&[0, 0], 0), [0x80, 0]);
        assert_eq!(flip(&[0, 0], 15), [0, 1]);
    }
}
