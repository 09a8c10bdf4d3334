//! Forgeries signed with the server's key (`jwt_secret`): each is a
//! correctly signed token that is wrong for the one header or claim it
//! changes (algorithm, `kid`, claim types, missing or crossed claims,
//! issuer, audience, times, size), so a refusal can only be for that.

use serde_json::{Value, json};

use super::{Bases, Forged, Kind, forged, label_of};
use crate::context::Minter;
use crate::jwt::{self, Hmac};

/// Signs, for the agent's and the guest's claims in turn, each variant
/// `variants` makes of them, labelled with whose claims it changed.
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

pub(super) fn other_algorithms(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn kid_mismatch(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn claim_types(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn missing_claims(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn wrong_issuer(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn wrong_audience(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn expired(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn not_yet_valid(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn lifetime_cap(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn empty_jti(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn crossed_claims(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn unknown_claims(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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

pub(super) fn oversized(bases: &Bases, minter: &Minter<'_>) -> Vec<Forged> {
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
