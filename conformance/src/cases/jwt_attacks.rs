//! The catalogue of token attacks that apply to HS256 with a `kid`,
//! after jwt_tool's playbook and the PortSwigger JWT labs: each attack
//! turns valid tokens into the forgeries a hostile client would try, and
//! says which error code the spec's check order gives each one.
//!
//! Attacks that change only the signature or header work from the
//! server's own tokens. Attacks on the claims need the server's key, so
//! that each forgery is wrong for the one thing it changes.

use serde_json::{Value, json};

use crate::context::Minter;
use crate::jwt::{self, Hmac, Parts};

/// Which socket a forgery pretends to belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Agent,
    Guest,
}

/// How a forgery is presented.
#[derive(Debug, Clone)]
pub enum Presented {
    /// A token, wherever the presentation puts it.
    Token(String),
    /// An `Authorization` header value exactly as given.
    Authorization(String),
}

/// One forged token and the code the spec gives it.
#[derive(Debug, Clone)]
pub struct Forged {
    pub label: String,
    pub kind: Kind,
    pub presented: Presented,
    pub code: &'static str,
}

fn forged(label: impl Into<String>, kind: Kind, token: String, code: &'static str) -> Forged {
    Forged {
        label: label.into(),
        kind,
        presented: Presented::Token(token),
        code,
    }
}

/// The valid tokens attacks start from.
pub struct Bases {
    /// An agent (role `agent`) token the server issued at login.
    pub agent_token: String,
    /// That agent's refresh token (presented, never spent).
    pub refresh_token: String,
    /// A guest token the server issued at chat start.
    pub guest_token: String,
    /// Valid claims for the same agent and chat, for signing with the key.
    pub agent_claims: Value,
    pub guest_claims: Value,
}

impl Bases {
    fn issued(&self) -> [(Kind, &str); 2] {
        [
            (Kind::Agent, self.agent_token.as_str()),
            (Kind::Guest, self.guest_token.as_str()),
        ]
    }

    fn claims(&self) -> [(Kind, &Value); 2] {
        [
            (Kind::Agent, &self.agent_claims),
            (Kind::Guest, &self.guest_claims),
        ]
    }
}

/// What an attack needs to make its forgeries.
pub enum Forge {
    /// Only the server's own tokens.
    Issued(fn(&Bases) -> Vec<Forged>),
    /// The server's key as well (`jwt_secret`).
    Keyed(fn(&Bases, &Minter<'_>) -> Vec<Forged>),
}

pub struct Attack {
    pub slug: &'static str,
    /// Anchor of the section of `spec/v1/README.md` it checks.
    pub section: &'static str,
    pub expectation: &'static str,
    /// Only meaningful as an `Authorization` header.
    pub header_only: bool,
    pub forge: Forge,
}

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

pub fn catalogue() -> Vec<Attack> {
    vec![
        Attack {
            slug: "alg-none",
            section: "token-format",
            expectation: "`alg: none` in every spelling, signed or not, is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(alg_none),
        },
        Attack {
            slug: "null-signature",
            section: "token-format",
            expectation: "a token with an empty or all-zero signature is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(null_signature),
        },
        Attack {
            slug: "tampered-signature",
            section: "token-format",
            expectation: "a truncated or bit-flipped signature is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(tampered_signature),
        },
        Attack {
            slug: "guessed-key",
            section: "token-format",
            expectation: "tokens signed with a blank or common secret are refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(guessed_key),
        },
        Attack {
            slug: "kid-path-traversal",
            section: "token-format",
            expectation: "a `kid` naming a file (`../../dev/null`), signed with its empty contents, is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(kid_path_traversal),
        },
        Attack {
            slug: "kid-injection",
            section: "token-format",
            expectation: "a `kid` carrying SQL or shell injection, signed with the key it would select, is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(kid_injection),
        },
        Attack {
            slug: "key-url-headers",
            section: "token-format",
            expectation: "`jku` and `x5u` headers pointing at an attacker's keys are not followed: the token is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(key_url_headers),
        },
        Attack {
            slug: "embedded-jwk",
            section: "token-format",
            expectation: "a `jwk` header embedding the attacker's key is ignored: the token is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(embedded_jwk),
        },
        Attack {
            slug: "tampered-claims",
            section: "token-format",
            expectation: "claims changed without re-signing (role, sub, type, chat, exp) are refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(tampered_claims),
        },
        Attack {
            slug: "garbage",
            section: "token-format",
            expectation: "malformed tokens (not three base64url parts of JSON, over 8 KiB) are refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(garbage),
        },
        Attack {
            slug: "refresh-token-as-access",
            section: "agents-login-refresh-logout",
            expectation: "a refresh token presented where an access token belongs is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Issued(refresh_as_access),
        },
        Attack {
            slug: "authorization-format",
            section: "token-format",
            expectation: "an `Authorization` header that is not `Bearer <token>` is refused with 401 token_invalid",
            header_only: true,
            forge: Forge::Issued(authorization_format),
        },
        Attack {
            slug: "other-algorithms",
            section: "token-format",
            expectation: "HS384, HS512 and asymmetric `alg` headers, even over the server's own key, are refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(other_algorithms),
        },
        Attack {
            slug: "kid-mismatch",
            section: "token-format",
            expectation: "a token signed with the server's key but with a missing, empty, unknown or mis-typed `kid` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(kid_mismatch),
        },
        Attack {
            slug: "claim-types",
            section: "token-claims",
            expectation: "every claim set in turn to null, true, 0 or a stray string (where that is not a valid value) is refused with 401 token_invalid, or token_expired for exp: 0",
            header_only: false,
            forge: Forge::Keyed(claim_types),
        },
        Attack {
            slug: "missing-claims",
            section: "token-claims",
            expectation: "a token without one of its required claims is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(missing_claims),
        },
        Attack {
            slug: "wrong-issuer",
            section: "token-format",
            expectation: "a token for another `iss` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(wrong_issuer),
        },
        Attack {
            slug: "wrong-audience",
            section: "token-format",
            expectation: "a token for another `aud` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(wrong_audience),
        },
        Attack {
            slug: "expired",
            section: "token-format",
            expectation: "a token past `exp` (beyond the 30 s leeway) is refused with 401 token_expired",
            header_only: false,
            forge: Forge::Keyed(expired),
        },
        Attack {
            slug: "not-yet-valid",
            section: "token-format",
            expectation: "a token whose `nbf` or `iat` is in the future (beyond the leeway) is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(not_yet_valid),
        },
        Attack {
            slug: "lifetime-cap",
            section: "minting-agent-tokens-from-your-own-backend",
            expectation: "a token valid for more than 24 hours is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(lifetime_cap),
        },
        Attack {
            slug: "empty-jti",
            section: "token-claims",
            expectation: "a token with an empty `jti` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(empty_jti),
        },
        Attack {
            slug: "crossed-claims",
            section: "agent-or-guest-the-exclusion-rules",
            expectation: "agent and guest claims are exclusive: a token mixing them, relabelled, or of another `type` is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(crossed_claims),
        },
        Attack {
            slug: "unknown-claims",
            section: "agent-or-guest-the-exclusion-rules",
            expectation: "a token with a claim its `type` does not list is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(unknown_claims),
        },
        Attack {
            slug: "oversized",
            section: "token-format",
            expectation: "a correctly signed token over 8 KiB is refused with 401 token_invalid",
            header_only: false,
            forge: Forge::Keyed(oversized),
        },
    ]
}

fn label_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Agent => "agent",
        Kind::Guest => "guest",
    }
}

/// `token`'s parts, or nothing for a token the server did not issue in
/// compact form (then there is nothing to tamper with).
fn parts_of(token: &str) -> Option<(Value, Value, Parts)> {
    let parts = Parts::of(token)?;
    Some((parts.header_json()?, parts.claims_json()?, parts))
}

fn alg_none(bases: &Bases) -> Vec<Forged> {
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

fn null_signature(bases: &Bases) -> Vec<Forged> {
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

fn tampered_signature(bases: &Bases) -> Vec<Forged> {
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

fn guessed_key(bases: &Bases) -> Vec<Forged> {
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

fn kid_path_traversal(bases: &Bases) -> Vec<Forged> {
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

fn kid_injection(bases: &Bases) -> Vec<Forged> {
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

fn key_url_headers(bases: &Bases) -> Vec<Forged> {
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

fn embedded_jwk(bases: &Bases) -> Vec<Forged> {
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

fn tampered_claims(bases: &Bases) -> Vec<Forged> {
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

fn garbage(_: &Bases) -> Vec<Forged> {
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

fn refresh_as_access(bases: &Bases) -> Vec<Forged> {
    vec![forged(
        "the agent's refresh token",
        Kind::Agent,
        bases.refresh_token.clone(),
        "token_invalid",
    )]
}

fn authorization_format(bases: &Bases) -> Vec<Forged> {
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

fn keyed(
    bases: &Bases,
    variants: impl Fn(Kind, &Value) -> Vec<(String, Value, &'static str)>,
    minter: &Minter<'_>,
) -> Vec<Forged> {
    let mut out = Vec::new();
    for (kind, claims) in bases.claims() {
        for (what, changed, code) in variants(kind, claims) {
            out.push(forged(
                format!("{}, {what}", label_of(kind)),
                kind,
                minter.sign(&changed),
                code,
            ));
        }
    }
    out
}

fn other_algorithms(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    let mut out = Vec::new();
    for (kind, claims) in bases.claims() {
        let header = minter.header();
        for (alg, hmac) in [("HS384", Hmac::Sha384), ("HS512", Hmac::Sha512)] {
            out.push(forged(
                format!("{}, {alg} with the server's key", label_of(kind)),
                kind,
                minter.sign_with(&jwt::with(header.clone(), "alg", json!(alg)), claims, &hmac),
                "token_invalid",
            ));
        }
        for alg in ["RS256", "ES256", "PS256", "EdDSA", "hs256", "HS256 "] {
            out.push(forged(
                format!(
                    "{}, alg {alg:?} over HMAC-SHA256 with the server's key",
                    label_of(kind)
                ),
                kind,
                minter.sign_with_header(&jwt::with(header.clone(), "alg", json!(alg)), claims),
                "token_invalid",
            ));
        }
    }
    out
}

fn kid_mismatch(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    let mut out = Vec::new();
    let header = minter.header();
    let kid = header["kid"].as_str().unwrap_or_default().to_owned();
    let mut variants: Vec<(String, Value)> = vec![
        ("no kid".to_owned(), jwt::without(header.clone(), "kid")),
        (
            "kid \"\"".to_owned(),
            jwt::with(header.clone(), "kid", json!("")),
        ),
        (
            "kid null".to_owned(),
            jwt::with(header.clone(), "kid", Value::Null),
        ),
        (
            "kid 1".to_owned(),
            jwt::with(header.clone(), "kid", json!(1)),
        ),
        (
            "an unknown kid".to_owned(),
            jwt::with(header.clone(), "kid", json!(format!("{kid}-unknown"))),
        ),
    ];
    if kid.to_ascii_uppercase() != kid {
        variants.push((
            format!("kid {:?}", kid.to_ascii_uppercase()),
            jwt::with(header.clone(), "kid", json!(kid.to_ascii_uppercase())),
        ));
    }
    for (kind, claims) in bases.claims() {
        for (what, header) in &variants {
            out.push(forged(
                format!("{}, {what}", label_of(kind)),
                kind,
                minter.sign_with_header(header, claims),
                "token_invalid",
            ));
        }
    }
    out
}

fn claim_types(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    keyed(
        bases,
        |_, claims| {
            let mut keys: Vec<String> = claims
                .as_object()
                .map(|map| map.keys().cloned().collect())
                .unwrap_or_default();
            keys.push("nbf".to_owned());
            let mut out = Vec::new();
            for key in keys {
                for value in [Value::Null, json!(true), json!(0), json!("jwt_tool")] {
                    // A stray string is a fine `name` or `jti`; 0 a fine past `iat` or `nbf`.
                    let legitimate = matches!(
                        (&value, key.as_str()),
                        (Value::String(_), "name" | "jti") | (Value::Number(_), "iat" | "nbf")
                    );
                    if legitimate {
                        continue;
                    }
                    let code = if key == "exp" && value == json!(0) {
                        "token_expired"
                    } else {
                        "token_invalid"
                    };
                    out.push((
                        format!("{key}: {value}"),
                        jwt::with(claims.clone(), &key, value),
                        code,
                    ));
                }
            }
            out
        },
        minter,
    )
}

fn missing_claims(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    keyed(
        bases,
        |_, claims| {
            let keys: Vec<String> = claims
                .as_object()
                .map(|map| map.keys().cloned().collect())
                .unwrap_or_default();
            keys.into_iter()
                .map(|key| {
                    (
                        format!("without {key}"),
                        jwt::without(claims.clone(), &key),
                        "token_invalid",
                    )
                })
                .collect()
        },
        minter,
    )
}

fn wrong_issuer(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    keyed(
        bases,
        |_, claims| {
            [json!("someone-else"), json!("")]
                .into_iter()
                .map(|value| {
                    (
                        format!("iss {value}"),
                        jwt::with(claims.clone(), "iss", value),
                        "token_invalid",
                    )
                })
                .collect()
        },
        minter,
    )
}

fn wrong_audience(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    keyed(
        bases,
        |_, claims| {
            [json!("someone-else"), json!(["someone-else"]), json!("")]
                .into_iter()
                .map(|value| {
                    (
                        format!("aud {value}"),
                        jwt::with(claims.clone(), "aud", value),
                        "token_invalid",
                    )
                })
                .collect()
        },
        minter,
    )
}

fn expired(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    keyed(
        bases,
        |_, claims| {
            let now = jwt::now();
            let past = jwt::with(claims.clone(), "iat", json!(now - 3600));
            vec![
                (
                    "exp two minutes ago".to_owned(),
                    jwt::with(past.clone(), "exp", json!(now - 120)),
                    "token_expired",
                ),
                (
                    "exp a day ago".to_owned(),
                    jwt::with(
                        jwt::with(past, "iat", json!(now - 2 * 86_400)),
                        "exp",
                        json!(now - 86_400),
                    ),
                    "token_expired",
                ),
            ]
        },
        minter,
    )
}

fn not_yet_valid(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    keyed(
        bases,
        |_, claims| {
            let now = jwt::now();
            let later = jwt::with(claims.clone(), "exp", json!(now + 1200));
            vec![
                (
                    "nbf in ten minutes".to_owned(),
                    jwt::with(later.clone(), "nbf", json!(now + 600)),
                    "token_invalid",
                ),
                (
                    "iat in ten minutes".to_owned(),
                    jwt::with(later, "iat", json!(now + 600)),
                    "token_invalid",
                ),
            ]
        },
        minter,
    )
}

fn lifetime_cap(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    keyed(
        bases,
        |_, claims| {
            let now = jwt::now();
            vec![
                (
                    "exp in 25 hours".to_owned(),
                    jwt::with(claims.clone(), "exp", json!(now + 25 * 3600)),
                    "token_invalid",
                ),
                (
                    "exp in 30 days".to_owned(),
                    jwt::with(claims.clone(), "exp", json!(now + 30 * 86_400)),
                    "token_invalid",
                ),
            ]
        },
        minter,
    )
}

fn empty_jti(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    keyed(
        bases,
        |_, claims| {
            vec![(
                "jti \"\"".to_owned(),
                jwt::with(claims.clone(), "jti", json!("")),
                "token_invalid",
            )]
        },
        minter,
    )
}

fn crossed_claims(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    let chat = bases.guest_claims["chat"].clone();
    let sid = json!(uuid::Uuid::new_v4().to_string());
    keyed(
        bases,
        move |kind, claims| {
            let mut out: Vec<(String, Value, &'static str)> = match kind {
                Kind::Agent => vec![
                    (
                        "with a chat claim".to_owned(),
                        jwt::with(claims.clone(), "chat", chat.clone()),
                    ),
                    (
                        "relabelled type guest".to_owned(),
                        jwt::with(claims.clone(), "type", json!("guest")),
                    ),
                ],
                Kind::Guest => vec![
                    (
                        "with role admin".to_owned(),
                        jwt::with(claims.clone(), "role", json!("admin")),
                    ),
                    (
                        "with a name".to_owned(),
                        jwt::with(claims.clone(), "name", json!("Mallory")),
                    ),
                    (
                        "with a sid".to_owned(),
                        jwt::with(claims.clone(), "sid", sid.clone()),
                    ),
                    (
                        "relabelled type agent".to_owned(),
                        jwt::with(claims.clone(), "type", json!("agent")),
                    ),
                ],
            }
            .into_iter()
            .map(|(what, claims)| (what, claims, "token_invalid"))
            .collect();
            for value in [json!("admin"), json!("Agent"), json!("GUEST"), json!("")] {
                out.push((
                    format!("type {value}"),
                    jwt::with(claims.clone(), "type", value),
                    "token_invalid",
                ));
            }
            out.push((
                "without type".to_owned(),
                jwt::without(claims.clone(), "type"),
                "token_invalid",
            ));
            out
        },
        minter,
    )
}

fn unknown_claims(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    keyed(
        bases,
        |_, claims| {
            vec![
                (
                    "with scope \"everything\"".to_owned(),
                    jwt::with(claims.clone(), "scope", json!("everything")),
                    "token_invalid",
                ),
                (
                    "with admin true".to_owned(),
                    jwt::with(claims.clone(), "admin", json!(true)),
                    "token_invalid",
                ),
            ]
        },
        minter,
    )
}

fn oversized(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
    let padding = "x".repeat(9 * 1024);
    vec![forged(
        "agent, a 9 KiB name".to_owned(),
        Kind::Agent,
        minter.sign(&jwt::with(
            bases.agent_claims.clone(),
            "name",
            json!(padding),
        )),
        "token_invalid",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_lowercase() {
        let attacks = catalogue();
        let mut slugs: Vec<&str> = attacks.iter().map(|attack| attack.slug).collect();
        assert!(
            slugs
                .iter()
                .all(|slug| slug.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        );
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), attacks.len());
    }

    #[test]
    fn flipping_a_bit_changes_one_bit() {
        assert_eq!(flip(&[0, 0], 0), [0x80, 0]);
        assert_eq!(flip(&[0, 0], 15), [0, 1]);
    }
}
