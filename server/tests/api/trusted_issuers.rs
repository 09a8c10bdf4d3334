//! Trusted issuers (README, "Trusted issuers"): agent tokens minted by a
//! backend with its own key, from a key file or a JWKS URL, over REST and
//! the WebSocket handshake. The agent a token names must exist, and its
//! role and name are the database's; forgeries (a public key as an HMAC
//! secret, key-carrying headers, `alg: none`, another issuer's key) are
//! refused; a JWKS is fetched over https, refetched on an unknown `kid` at
//! most once per interval, and its keys outlive the URL going down.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::helpers::{TestApp, error_code, json_body, now, spawn_app_with};
use crate::ws_client::{Handshake, WsClient};

/// A backend's signing key and its public half.
struct BackendKey {
    algorithm: Algorithm,
    private: EncodingKey,
    pair: KeyPair,
}

impl BackendKey {
    fn ed25519() -> Self {
        let pair = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let private = EncodingKey::from_ed_der(&pair.serialize_der());
        BackendKey {
            algorithm: Algorithm::EdDSA,
            private,
            pair,
        }
    }

    fn p256() -> Self {
        let pair = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let private = EncodingKey::from_ec_der(&pair.serialize_der());
        BackendKey {
            algorithm: Algorithm::ES256,
            private,
            pair,
        }
    }

    fn public_pem(&self) -> String {
        self.pair.public_key_pem()
    }

    /// The public key as a JWK (Ed25519 only, which is all the JWKS tests use).
    fn jwk(&self, kid: &str) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
               "x": URL_SAFE_NO_PAD.encode(self.pair.public_key_raw())})
    }

    fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = kid.map(str::to_owned);
        self.sign_with(header, claims)
    }

    fn sign_with(&self, header: Header, claims: &Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.private).unwrap()
    }
}

/// Agent claims as a backend mints them: it believes the agent an admin
/// called "Claimed".
fn agent_claims(iss: &str, agent_id: &str) -> Value {
    json!({
        "iss": iss, "aud": "byrd-agents", "type": "agent", "sub": agent_id,
        "role": "admin", "name": "Claimed", "iat": now(), "exp": now() + 300,
        "jti": uuid::Uuid::new_v4().to_string()
    })
}

fn issuer_table(iss: &str, algorithm: &str, keys: &str) -> String {
    format!(
        "[[issuer]]\niss = {iss:?}\naudience = \"byrd-agents\"\nalgorithms = [{algorithm:?}]\n\
         purposes = [\"agent_tokens\"]\n{keys}\n"
    )
}

fn key_file_table(dir: &Path, iss: &str, key: &BackendKey) -> String {
    let name: String = iss.chars().filter(char::is_ascii_alphanumeric).collect();
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, key.public_pem()).unwrap();
    let algorithm = format!("{:?}", key.algorithm);
    issuer_table(
        iss,
        &algorithm,
        &format!("keys_file = {:?}", path.display().to_string()),
    )
}

/// A server trusting the issuers of `file`, written into its own folder.
async fn spawn_trusting(dir: &Path, file: &str) -> TestApp {
    let path: PathBuf = dir.join("trusted-issuers.toml");
    std::fs::write(&path, file).unwrap();
    spawn_app_with(|settings| settings.trusted_issuers_file = Some(path)).await
}

async fn status_of(app: &TestApp, token: &str) -> u16 {
    app.get("/v1/me", Some(token)).await.status().as_u16()
}

#[tokio::test]
async fn a_backend_minted_agent_token_works_over_rest_and_on_the_websocket() {
    let dir = tempfile::tempdir().unwrap();
    let (ed, es) = (BackendKey::ed25519(), BackendKey::p256());
    let file = format!(
        "{}{}",
        key_file_table(dir.path(), "https://shop.example", &ed),
        key_file_table(dir.path(), "https://crm.example", &es)
    );
    let app = spawn_trusting(dir.path(), &file).await;
    let (agent_id, _) = app.agent("tess@example.com", "agent").await;

    for (iss, key) in [("https://shop.example", &ed), ("https://crm.example", &es)] {
        let token = key.sign(None, &agent_claims(iss, &agent_id));
        // The role and name are the database's, not the token's.
        let me = json_body(app.get("/v1/me", Some(&token)).await, 200).await;
        assert_eq!(me["id"], agent_id.as_str());
        assert_eq!(me["role"], "agent");
        assert_eq!(me["name"], "tess");
        // The token says admin; only an admin may add an agent.
        let new_agent = json!({"email": "eve@example.com", "name": "Eve", "role": "admin",
                               "password": "a password of 12 or more"});
        let admins_only = app.post("/v1/agents", Some(&token), Some(&new_agent)).await;
        assert_eq!(error_code(admins_only, 403).await, "forbidden");

        let (_client, hello) = WsClient::connect(&app, &token).await;
        assert_eq!(hello["principal"]["type"], "agent", "{hello}");
        assert_eq!(hello["principal"]["id"], agent_id.as_str(), "{hello}");
    }
}

#[tokio::test]
async fn a_backend_minted_token_for_an_agent_that_does_not_exist_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = BackendKey::ed25519();
    let app = spawn_trusting(dir.path(), &key_file_table(dir.path(), "shop", &key)).await;
    let nobody = uuid::Uuid::new_v4().to_string();
    let token = key.sign(None, &agent_claims("shop", &nobody));
    let response = app.get("/v1/me", Some(&token)).await;
    assert_eq!(error_code(response, 401).await, "token_invalid");
    let handshake = Handshake {
        query_token: Some(&token),
        ..Handshake::default()
    };
    let refusal = WsClient::try_connect(&app, handshake).await.err().unwrap();
    assert_eq!(refusal.status, 401);
}

/// `payload` signed with HMAC-SHA256 under `secret`, with any header.
fn hmac_token(header: &Value, claims: &Value, secret: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn forged_backend_tokens_are_refused_over_rest_and_the_websocket() {
    let dir = tempfile::tempdir().unwrap();
    let (shop, other) = (BackendKey::ed25519(), BackendKey::ed25519());
    let file = format!(
        "{}{}",
        key_file_table(dir.path(), "shop", &shop),
        key_file_table(dir.path(), "other", &other)
    );
    let app = spawn_trusting(dir.path(), &file).await;
    let (agent_id, _) = app.agent("tess@example.com", "agent").await;
    let claims = agent_claims("shop", &agent_id);
    let genuine = shop.sign(None, &claims);
    assert_eq!(status_of(&app, &genuine).await, 200);

    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let mut forgeries = vec![
        // The public key, as PEM text and as bare bytes, used as an HMAC secret.
        hmac_token(&hs256, &claims, shop.public_pem().as_bytes()),
        hmac_token(&hs256, &claims, shop.pair.public_key_raw()),
        // No signature at all.
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        ),
        // Another trusted issuer's key, this issuer's name.
        other.sign(None, &claims),
    ];
    // Headers that point at or carry the key, on a genuine signature.
    let mut jku = Header::new(Algorithm::EdDSA);
    jku.jku = Some("https://attacker.example/jwks.json".into());
    let mut x5u = Header::new(Algorithm::EdDSA);
    x5u.x5u = Some("https://attacker.example/key.pem".into());
    let mut jwk = Header::new(Algorithm::EdDSA);
    jwk.jwk = Some(serde_json::from_value(shop.jwk("k")).unwrap());
    for header in [jku, x5u, jwk] {
        forgeries.push(shop.sign_with(header, &claims));
    }
    for forged in &forgeries {
        let response = app.get("/v1/me", Some(forged)).await;
        assert_eq!(error_code(response, 401).await, "token_invalid", "{forged}");
        let handshake = Handshake {
            query_token: Some(forged),
            ..Handshake::default()
        };
        let refusal = WsClient::try_connect(&app, handshake).await.err().unwrap();
        assert_eq!(refusal.status, 401, "{forged}");
    }
}

/// A TLS configuration for 127.0.0.1, certified by a CA made for the
/// test, and that CA's certificate in a file.
fn tls_config(dir: &Path) -> (rustls::ServerConfig, PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
    let ca = Issuer::new(ca_params, ca_key);
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let certificate = params.signed_by(&key, &ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let ca_file = dir.join("jwks-ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    (config, ca_file)
}

/// An https server of one JWKS, certified by a CA made for the test,
/// counting the requests it gets; `down` makes it answer 503.
struct JwksServer {
    url: String,
    ca_file: PathBuf,
    jwks: Arc<Mutex<Value>>,
    requests: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

impl JwksServer {
    async fn start(dir: &Path, jwks: Value) -> JwksServer {
        let (config, ca_file) = tls_config(dir);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = JwksServer {
            url: format!("https://{}/jwks.json", listener.local_addr().unwrap()),
            ca_file,
            jwks: Arc::new(Mutex::new(jwks)),
            requests: Arc::new(AtomicUsize::new(0)),
            down: Arc::new(AtomicBool::new(false)),
        };
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (jwks, requests, down) = (
            server.jwks.clone(),
            server.requests.clone(),
            server.down.clone(),
        );
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, jwks, requests, down) = (
                    acceptor.clone(),
                    jwks.clone(),
                    requests.clone(),
                    down.clone(),
                );
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
                        match tls.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    requests.fetch_add(1, Ordering::SeqCst);
                    let response = if down.load(Ordering::SeqCst) {
                        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned()
                    } else {
                        let body = jwks.lock().unwrap().to_string();
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                             cache-control: max-age=300\r\ncontent-length: {}\r\n\
                             connection: close\r\n\r\n{body}",
                            body.len()
                        )
                    };
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        server
    }

    fn table(&self, iss: &str, min_refresh_secs: u64) -> String {
        issuer_table(
            iss,
            "EdDSA",
            &format!(
                "jwks_url = {:?}\nca_file = {:?}\nmin_refresh_secs = {min_refresh_secs}",
                self.url,
                self.ca_file.display().to_string()
            ),
        )
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_jwks_issuer_picks_up_a_rotation_and_its_keys_outlive_the_url_going_down() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (BackendKey::ed25519(), BackendKey::ed25519());
    let server = JwksServer::start(dir.path(), json!({"keys": [first.jwk("k1")]})).await;
    let app = spawn_trusting(dir.path(), &server.table("shop", 1)).await;
    let (agent_id, _) = app.agent("tess@example.com", "agent").await;
    let claims = agent_claims("shop", &agent_id);

    let token = first.sign(Some("k1"), &claims);
    assert_eq!(status_of(&app, &token).await, 200);
    let (_client, hello) = WsClient::connect(&app, &token).await;
    assert_eq!(hello["principal"]["id"], agent_id.as_str());

    // The issuer rotates: its JWKS now holds `k2` only. The first token
    // naming `k2` brings it in.
    *server.jwks.lock().unwrap() = json!({"keys": [second.jwk("k2")]});
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let rotated = second.sign(Some("k2"), &claims);
    assert_eq!(status_of(&app, &rotated).await, 200);
    assert_eq!(status_of(&app, &token).await, 401, "k1 left the JWKS");

    // The URL goes down: the cached `k2` keeps working.
    server.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = server.requests();
    let unknown = second.sign(Some("k3"), &claims);
    assert_eq!(status_of(&app, &unknown).await, 401);
    assert_eq!(
        server.requests(),
        before + 1,
        "the unknown kid tried the URL"
    );
    assert_eq!(status_of(&app, &rotated).await, 200);
    assert_eq!(
        status_of(&app, &second.sign(Some("k2"), &claims)).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_interval() {
    let dir = tempfile::tempdir().unwrap();
    let key = BackendKey::ed25519();
    let server = JwksServer::start(dir.path(), json!({"keys": [key.jwk("k1")]})).await;
    let app = spawn_trusting(dir.path(), &server.table("shop", 2)).await;
    let (agent_id, _) = app.agent("tess@example.com", "agent").await;
    let claims = agent_claims("shop", &agent_id);
    assert_eq!(status_of(&app, &key.sign(Some("k1"), &claims)).await, 200);
    // Past the interval, so the flood may cause one fetch.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let before = server.requests();

    let started = Instant::now();
    let flood = (0..500).map(|i| {
        let token = key.sign(Some(&format!("made-up-{i}")), &claims);
        let app = &app;
        async move { status_of(app, &token).await }
    });
    let statuses = futures_util::future::join_all(flood).await;
    let elapsed = started.elapsed();

    assert!(statuses.iter().all(|status| *status == 401), "{statuses:?}");
    let fetches = server.requests() - before;
    let intervals = 1 + (elapsed.as_secs_f64() / 2.0) as usize;
    assert!(
        (1..=intervals).contains(&fetches),
        "{fetches} fetches for 500 unknown kids in {elapsed:?}"
    );
}

fn identity_claims(iss: &str, user: &str, lifetime: i64) -> Value {
    json!({
        "iss": iss, "aud": "byrd-visitors", "sub": user, "name": "Ada Shopper",
        "email": "ada@shop.example", "attributes": {"plan": "pro"},
        "iat": now() - 5, "exp": now() + lifetime
    })
}

#[tokio::test]
async fn a_verified_visitor_is_one_visitor_on_every_chat_and_forgeries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let shop = BackendKey::ed25519();
    let path = dir.path().join("shop.pem");
    std::fs::write(&path, shop.public_pem()).unwrap();
    let table = format!(
        "[[issuer]]\niss = \"https://shop.example\"\naudience = \"byrd-visitors\"\n\
         algorithms = [\"EdDSA\"]\npurposes = [\"visitor_identity\"]\nkeys_file = {:?}\n",
        path.display().to_string()
    );
    let app = spawn_trusting(dir.path(), &table).await;
    let start = |identity: String| {
        let app = &app;
        async move {
            let body = json!({"identity": identity, "visitor": {"name": "typed name"}});
            app.post("/v1/chats", None, Some(&body)).await
        }
    };
    let claims = identity_claims("https://shop.example", "user-42", 300);
    let laptop: Value = json_body(start(shop.sign(None, &claims)).await, 201).await;
    let phone: Value = json_body(start(shop.sign(None, &claims)).await, 201).await;
    let visitor = &laptop["chat"]["visitor"];
    assert_eq!(visitor["verified"], true);
    assert_eq!(visitor["external_id"], "user-42");
    assert_eq!(visitor["issuer"], "https://shop.example");
    assert_eq!(visitor["name"], "Ada Shopper");
    assert_eq!(phone["chat"]["visitor"]["id"], visitor["id"]);
    assert_ne!(phone["chat"]["id"], laptop["chat"]["id"]);

    // The verified visitor's guest session sees both chats.
    let guest = phone["guest_token"].as_str().unwrap();
    let own: Value = json_body(app.get("/v1/visitor/chats", Some(guest)).await, 200).await;
    assert_eq!(own["chats"].as_array().unwrap().len(), 2, "{own}");

    // Signed by a key the issuer does not hold, expired, or another
    // audience: refused, and no chat starts.
    let forger = BackendKey::ed25519();
    let refusals = [
        (forger.sign(None, &claims), "identity_invalid"),
        (
            shop.sign(
                None,
                &identity_claims("https://shop.example", "user-42", -120),
            ),
            "identity_expired",
        ),
        (
            shop.sign(None, &{
                let mut other = claims.clone();
                other["aud"] = json!("someone-else");
                other
            }),
            "identity_invalid",
        ),
        (
            shop.sign(
                None,
                &identity_claims("https://shop.example", "user-42", 3600),
            ),
            "identity_invalid",
        ),
    ];
    for (token, code) in refusals {
        assert_eq!(error_code(start(token).await, 401).await, code);
    }
}
