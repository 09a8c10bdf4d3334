//! `rest.cors.*`: what a browser page on another origin may do (spec:
//! "Cross-origin requests"). Each case sends a preflight (`OPTIONS` for a
//! `POST` with a token and a JSON body) and a plain cross-origin `GET`,
//! and reads only their `Access-Control-*` answers.
//!
//! Tokens travel in `Authorization`, never in cookies, so nothing in the
//! section calls for credentials mode; and `Access-Control-Allow-Origin: *`
//! with `Access-Control-Allow-Credentials: true` is a pairing the Fetch
//! standard forbids, the telltale of a CORS layer set to admit anything.

use reqwest::Method;

use crate::case::{Capability, Case, CaseResult, Failure};
use crate::checks::ensure;
use crate::context::Ctx;
use crate::wire::http::Reply;

const SECTION: &str = "cross-origin-requests";

/// An origin no server under test allows.
const FOREIGN: &str = "https://not-allowed.invalid";

pub fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "rest.cors.allow-list",
            SECTION,
            "an origin on the allow-list is allowed GET and POST with Authorization and Content-Type, named in Access-Control-Allow-Origin and shown Retry-After; an origin off it is admitted by no answer, not even by `*`",
            allow_list,
        )
        .needs(Capability::AllowedOrigins),
        Case::must(
            "rest.cors.no-wildcard-credentials",
            SECTION,
            "no answer to a cross-origin request, preflight or not, pairs Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true",
            no_wildcard_credentials,
        ),
    ]
}

/// The preflight a browser sends before a `POST` with a token and a JSON
/// body from `origin`.
async fn preflight(ctx: &Ctx, origin: &str) -> Result<Reply, Failure> {
    ctx.request(Method::OPTIONS, "/v1/chats")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
}

/// A cross-origin `GET` with a token from `origin`.
async fn get_from(ctx: &Ctx, origin: &str) -> Result<Reply, Failure> {
    let admin = ctx.admin()?;
    ctx.get("/v1/me")
        .bearer(&admin.access_token)
        .header("origin", origin)
        .send()
        .await
}

/// The answer's `Access-Control-*` headers, for a failure message.
fn cors_headers(reply: &Reply) -> String {
    let shown: Vec<String> = reply
        .headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("access-control-"))
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("(not text)")))
        .collect();
    if shown.is_empty() {
        format!("{}, no Access-Control-* header", reply.status)
    } else {
        format!("{}, {}", reply.status, shown.join(", "))
    }
}

/// The lowercased items of a comma-separated header, empty when absent.
fn listed(reply: &Reply, name: &str) -> Vec<String> {
    reply
        .header(name)
        .unwrap_or_default()
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}

/// `item` is named, or covered by `*` (which never covers Authorization).
fn allows(list: &[String], item: &str) -> bool {
    list.iter()
        .any(|listed| listed == item || (listed == "*" && item != "authorization"))
}

async fn allow_list(ctx: Ctx) -> CaseResult {
    let allowed = ctx.config().ws_allowed_origins.clone().unwrap_or_default();
    let Some(origin) = allowed.first() else {
        return Ok(());
    };
    let reply = preflight(&ctx, origin).await?;
    let methods = listed(&reply, "access-control-allow-methods");
    let headers = listed(&reply, "access-control-allow-headers");
    ensure(
        (200..300).contains(&reply.status)
            && reply.header("access-control-allow-origin") == Some(origin.as_str())
            && ["get", "post"]
                .iter()
                .all(|method| allows(&methods, method))
            && ["authorization", "content-type"]
                .iter()
                .all(|header| allows(&headers, header)),
        format!("a preflight from {origin} for a POST with Authorization and Content-Type"),
        format!(
            "2xx, Access-Control-Allow-Origin: {origin}, methods GET and POST, headers authorization and content-type"
        ),
        || cors_headers(&reply),
    )?;
    let reply = get_from(&ctx, origin).await?;
    ensure(
        reply.header("access-control-allow-origin") == Some(origin.as_str())
            && allows(
                &listed(&reply, "access-control-expose-headers"),
                "retry-after",
            ),
        format!("a GET from {origin}"),
        format!("Access-Control-Allow-Origin: {origin} and Retry-After exposed"),
        || cors_headers(&reply),
    )?;
    for reply in [
        preflight(&ctx, FOREIGN).await?,
        get_from(&ctx, FOREIGN).await?,
    ] {
        let admitted = reply
            .header("access-control-allow-origin")
            .is_some_and(|value| value.trim() == "*" || value.trim() == FOREIGN);
        ensure(
            !admitted,
            format!("a request from {FOREIGN}, off the allow-list"),
            "no Access-Control-Allow-Origin admitting it",
            || cors_headers(&reply),
        )?;
    }
    Ok(())
}

async fn no_wildcard_credentials(ctx: Ctx) -> CaseResult {
    let mut origins = vec![FOREIGN.to_owned()];
    if let Some(allowed) = &ctx.config().ws_allowed_origins {
        origins.extend(allowed.first().cloned());
    }
    for origin in &origins {
        for (what, reply) in [
            ("a preflight", preflight(&ctx, origin).await?),
            ("a GET", get_from(&ctx, origin).await?),
        ] {
            let wildcard = reply
                .header("access-control-allow-origin")
                .is_some_and(|value| value.trim() == "*");
            let credentials = reply
                .header("access-control-allow-credentials")
                .is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
            ensure(
                !(wildcard && credentials),
                format!("{what} from {origin}"),
                "not both Access-Control-Allow-Origin: * and Access-Control-Allow-Credentials: true",
                || cors_headers(&reply),
            )?;
        }
    }
    Ok(())
}
