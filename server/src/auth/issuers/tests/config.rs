//! The trusted issuers file: what it accepts, and every refusal, each
//! naming the issuer and the field.

use super::super::config::{ConfigError, Problem};
use super::super::keys::KeyError;
use super::super::{TrustedIssuers, config};
use super::fixtures::*;

fn refusal(text: &str, dir: &std::path::Path) -> (String, &'static str, Problem) {
    match config::parse(text, dir, "byrd") {
        Err(ConfigError::Issuer {
            issuer,
            field,
            problem,
        }) => (issuer, field, problem),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("accepted:\n{text}"),
    }
}

#[test]
fn key_files_of_every_kind_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let ed = write(dir.path(), "ed.pem", &ed25519().public_pem);
    let both = write(
        dir.path(),
        "both.pem",
        &format!("{}{}", ed25519().public_pem, p256().public_pem),
    );
    let rsa = write(dir.path(), "rsa.pem", RSA_PUBLIC_PEM);
    let jwks = write(
        dir.path(),
        "keys.json",
        r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
    );
    let secret = write(dir.path(), "secret", &"s".repeat(40));
    let text = format!(
        "{}{}{}{}[[issuer]]\niss = \"hs\"\naudience = \"byrd\"\nalgorithms = [\"HS256\"]\n\
         purposes = [\"agent_tokens\"]\nhs256_secret_file = {:?}\n\
         [[issuer]]\niss = \"remote\"\naudience = \"byrd\"\nalgorithms = [\"EdDSA\"]\n\
         purposes = [\"visitor_identity\"]\njwks_url = \"https://keys.example/jwks.json\"\n\
         min_refresh_secs = 5\n",
        key_file_issuer("ed", r#"["EdDSA"]"#, &ed),
        key_file_issuer("both", r#"["EdDSA", "ES256"]"#, &both),
        key_file_issuer("rsa", r#"["PS256"]"#, &rsa),
        key_file_issuer("jwks", r#"["EdDSA"]"#, &jwks),
        secret.display().to_string(),
    );
    let issuers = TrustedIssuers::parse(&text, dir.path(), own()).unwrap();
    assert_eq!(issuers.len(), 6);
    // Relative paths are the file's folder's.
    let relative = key_file_issuer("ed", r#"["EdDSA"]"#, std::path::Path::new("ed.pem"));
    assert!(config::parse(&relative, dir.path(), "byrd").is_ok());
}

#[test]
fn duplicate_and_own_issuers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ed = write(dir.path(), "ed.pem", &ed25519().public_pem);
    let one = key_file_issuer("shop", r#"["EdDSA"]"#, &ed);
    let (issuer, field, problem) = refusal(&format!("{one}{one}"), dir.path());
    assert_eq!(
        (issuer.as_str(), field, problem),
        ("shop", "iss", Problem::DuplicateIssuer)
    );
    let own = key_file_issuer("byrd", r#"["EdDSA"]"#, &ed);
    assert_eq!(refusal(&own, dir.path()).2, Problem::OwnIssuer);
}

#[test]
fn a_jwks_url_must_be_https() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "http://keys.example/jwks.json",
        "ftp://keys.example/",
        "not a url",
    ] {
        let text = format!(
            "[[issuer]]\niss = \"shop\"\naudience = \"byrd\"\nalgorithms = [\"EdDSA\"]\n\
             purposes = [\"agent_tokens\"]\njwks_url = {url:?}\n"
        );
        let (issuer, field, problem) = refusal(&text, dir.path());
        assert_eq!(
            (issuer.as_str(), field, problem),
            ("shop", "jwks_url", Problem::NotHttps)
        );
    }
}

#[test]
fn hs256_needs_its_secret_and_the_secret_needs_hs256() {
    let dir = tempfile::tempdir().unwrap();
    let ed = write(dir.path(), "ed.pem", &ed25519().public_pem);
    let text = key_file_issuer("shop", r#"["EdDSA", "HS256"]"#, &ed);
    let (_, field, problem) = refusal(&text, dir.path());
    assert_eq!(
        (field, problem),
        ("algorithms", Problem::Hs256WithoutSecret)
    );

    let secret = write(dir.path(), "secret", &"s".repeat(40));
    let text = format!(
        "{}hs256_secret_file = {:?}\n",
        key_file_issuer("shop", r#"["EdDSA"]"#, &ed),
        secret.display().to_string()
    );
    let (_, field, problem) = refusal(&text, dir.path());
    assert_eq!(
        (field, problem),
        ("hs256_secret_file", Problem::SecretWithoutHs256)
    );

    let short = write(dir.path(), "short", "too short\n");
    let text = format!(
        "[[issuer]]\niss = \"shop\"\naudience = \"byrd\"\nalgorithms = [\"HS256\"]\n\
         purposes = [\"agent_tokens\"]\nhs256_secret_file = {:?}\n",
        short.display().to_string()
    );
    let (_, field, problem) = refusal(&text, dir.path());
    assert_eq!(
        (field, problem),
        ("hs256_secret_file", Problem::Key(KeyError::SecretTooShort))
    );
}

#[test]
fn algorithms_must_fit_the_keys_and_the_keys_the_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let ed = write(dir.path(), "ed.pem", &ed25519().public_pem);
    let text = key_file_issuer("shop", r#"["ES256"]"#, &ed);
    let (_, field, problem) = refusal(&text, dir.path());
    assert_eq!(field, "keys_file");
    assert!(
        matches!(
            problem,
            Problem::Key(KeyError::AlgorithmNotListed {
                key_type: "Ed25519",
                ..
            })
        ),
        "{problem}"
    );

    let text = key_file_issuer("shop", r#"["EdDSA", "ES256"]"#, &ed);
    let (_, field, problem) = refusal(&text, dir.path());
    assert_eq!(
        (field, problem),
        ("algorithms", Problem::AlgorithmWithoutKey("ES256".into()))
    );

    for unknown in ["none", "HS512", "ES512"] {
        let text = key_file_issuer("shop", &format!("[{unknown:?}]"), &ed);
        let (_, field, problem) = refusal(&text, dir.path());
        assert_eq!(
            (field, problem),
            ("algorithms", Problem::UnknownAlgorithm(unknown.into()))
        );
    }

    let rsa = write(dir.path(), "rsa.pem", RSA_PUBLIC_PEM);
    let text = key_file_issuer("shop", r#"["RS256", "PS256"]"#, &rsa);
    assert_eq!(
        refusal(&text, dir.path()).2,
        Problem::Key(KeyError::AmbiguousRsa)
    );
}

#[test]
fn a_jwk_declaring_another_algorithm_than_its_type_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let jwk = write(
        dir.path(),
        "key.json",
        r#"{"kty": "OKP", "crv": "Ed25519", "alg": "HS256",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    );
    let text = key_file_issuer("shop", r#"["EdDSA"]"#, &jwk);
    let (_, field, problem) = refusal(&text, dir.path());
    assert_eq!(field, "keys_file");
    assert!(
        matches!(problem, Problem::Key(KeyError::AlgorithmMismatch { .. })),
        "{problem}"
    );
}

#[test]
fn empty_private_and_secret_key_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("empty.pem", "\n".to_owned(), KeyError::Empty),
        ("empty.json", r#"{"keys": []}"#.to_owned(), KeyError::Empty),
        (
            "private.pem",
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
                .unwrap()
                .serialize_pem(),
            KeyError::PrivateKey,
        ),
        (
            "oct.json",
            r#"{"kty": "oct", "k": "c2VjcmV0"}"#.to_owned(),
            KeyError::SharedSecret,
        ),
        (
            "private.json",
            r#"{"kty": "OKP", "crv": "Ed25519", "d": "AA",
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
                .to_owned(),
            KeyError::PrivateKey,
        ),
    ];
    for (name, contents, expected) in cases {
        let path = write(dir.path(), name, &contents);
        let text = key_file_issuer("shop", r#"["EdDSA"]"#, &path);
        let (_, field, problem) = refusal(&text, dir.path());
        assert_eq!(
            (field, problem),
            ("keys_file", Problem::Key(expected)),
            "{name}"
        );
    }
}

#[test]
fn missing_or_doubled_key_sources_and_stray_fields_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ed = write(dir.path(), "ed.pem", &ed25519().public_pem);
    let none = "[[issuer]]\niss = \"shop\"\naudience = \"byrd\"\nalgorithms = [\"EdDSA\"]\n\
                purposes = [\"agent_tokens\"]\n";
    assert_eq!(refusal(none, dir.path()).2, Problem::NoKeys);
    let both = format!(
        "{}jwks_url = \"https://keys.example/\"\n",
        key_file_issuer("shop", r#"["EdDSA"]"#, &ed)
    );
    assert_eq!(refusal(&both, dir.path()).2, Problem::TwoKeySources);
    let ca = format!(
        "{}ca_file = \"ca.pem\"\n",
        key_file_issuer("shop", r#"["EdDSA"]"#, &ed)
    );
    assert_eq!(
        refusal(&ca, dir.path()),
        ("shop".into(), "ca_file", Problem::WithoutJwksUrl)
    );
    let purposes = key_file_issuer("shop", r#"["EdDSA"]"#, &ed)
        .replace("\"agent_tokens\", ", "\"guest_tokens\", ");
    assert_eq!(refusal(&purposes, dir.path()).1, "purposes");
    let missing = write(dir.path(), "nothing-here.pem", "");
    std::fs::remove_file(&missing).unwrap();
    let unreadable = key_file_issuer("shop", r#"["EdDSA"]"#, &missing);
    assert!(matches!(
        refusal(&unreadable, dir.path()).2,
        Problem::Unreadable(_)
    ));

    let stray = format!(
        "{}kid = \"k1\"\n",
        key_file_issuer("shop", r#"["EdDSA"]"#, &ed)
    );
    assert!(matches!(
        config::parse(&stray, dir.path(), "byrd"),
        Err(ConfigError::Syntax(_))
    ));
}

#[test]
fn the_error_names_the_issuer_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[issuer]]\niss = \"https://shop.example\"\naudience = \"byrd\"\n\
                algorithms = [\"EdDSA\"]\npurposes = [\"agent_tokens\"]\n\
                jwks_url = \"http://shop.example/jwks.json\"\n";
    let Err(error) = config::parse(text, dir.path(), "byrd") else {
        panic!("accepted");
    };
    let message = error.to_string();
    assert!(message.contains("\"https://shop.example\""), "{message}");
    assert!(message.contains("`jwks_url`"), "{message}");
}
