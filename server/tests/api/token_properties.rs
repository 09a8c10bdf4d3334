//! Properties of token verification: no single-bit change to a real token
//! gets through, and no input makes the server fail
//! (`spec/v1/README.md#token-format`: tampered tokens get 401, none ever
//! causes a 5xx).

use proptest::prelude::*;

use crate::helpers::{jwt_join, jwt_parts, runtime, spawn_app};

#[test]
fn flipping_any_bit_of_a_tokens_payload_or_signature_is_refused() {
    // Any bit flipped in the payload or signature of a valid agent or guest
    // token makes it `token_invalid`, never accepted and never a 5xx.
    let rt = runtime();
    let app = rt.block_on(spawn_app());
    let (agent, guest) = rt.block_on(async {
        let guest = app.start_chat().await["guest_token"]
            .as_str()
            .unwrap()
            .to_owned();
        (app.admin_token().await, guest)
    });
    for token in [&agent, &guest] {
        let accepted = rt.block_on(app.get("/v1/me", Some(token)));
        assert_eq!(accepted.status(), 200, "the unflipped token is valid");
    }

    let config = ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    };
    proptest!(config, |(use_guest in any::<bool>(), in_signature in any::<bool>(), position in any::<usize>())| {
        let token = if use_guest { &guest } else { &agent };
        let (header, mut payload, mut signature) = jwt_parts(token);
        let part = if in_signature { &mut signature } else { &mut payload };
        let bit = position % (part.len() * 8);
        part[bit / 8] ^= 1 << (bit % 8);
        let flipped = jwt_join(&header, &payload, &signature);

        let (status, body) = rt.block_on(async {
            let response = app.get("/v1/me", Some(&flipped)).await;
            (response.status().as_u16(), response.text().await.unwrap())
        });

        prop_assert_eq!(status, 401, "{}", body);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        prop_assert_eq!(&body["error"]["code"], "token_invalid");
    });
}

#[test]
fn random_strings_as_tokens_never_cause_a_server_error() {
    // Whatever is sent as a bearer token, the answer is a 401 with an error
    // body, never a 5xx.
    let rt = runtime();
    let app = rt.block_on(spawn_app());
    let b64 = "[A-Za-z0-9_-]{0,80}";
    let regex = |pattern: &str| proptest::string::string_regex(pattern).unwrap();
    let token = prop_oneof![
        regex("[ -~]{1,200}"),
        regex(&format!("{b64}\\.{b64}\\.{b64}")),
        regex(&format!("eyJ{b64}\\.eyJ{b64}\\.{b64}")),
        regex("[A-Za-z0-9+/=._-]{1,400}"),
    ];

    let config = ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    };
    proptest!(config, |(token in token)| {
        let (status, body) = rt.block_on(async {
            let response = app
                .client
                .get(app.url("/v1/me"))
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        });

        prop_assert_eq!(status, 401, "{}", body);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        prop_assert!(body["error"]["code"].as_str().unwrap().starts_with("token_"));
    });
}
