//! `auth.jwt.*`: every token attack of the catalogue, presented in each
//! place a token is read (spec: "Token format", "Handshake", and
//! `refresh_token` under "Frames"):
//!
//! - `rest`: `Authorization: Bearer` on `GET /v1/me`;
//! - `ws-query`: `/v1/ws?token=`;
//! - `ws-header`: `Authorization: Bearer` on the upgrade;
//! - `ws-refresh`: a `refresh_token` frame on an open socket of the same
//!   kind, answered with an `error` frame echoing `ref`, the socket alive.
//!
//! Plus the acceptance side: a valid token still works after a run of
//! forgeries (jwt_tool's persistence check), and `exp` has its leeway.

use serde_json::{Value, json};

use super::jwt_attacks::{Attack, Bases, Forge, Forged, Kind, Presented, catalogue};
use crate::case::{Capability, Case, CaseError, CaseResult, Failure};
use crate::checks::{self, expect_error};
use crate::context::{Ctx, Minter};
use crate::jwt;
use crate::wire::ws::{Handshake, TokenPlace, Ws};

#[derive(Debug, Clone, Copy)]
enum Presentation {
    Rest,
    WsQuery,
    WsHeader,
    WsRefresh,
}

impl Presentation {
    const ALL: [Presentation; 4] = [
        Presentation::Rest,
        Presentation::WsQuery,
        Presentation::WsHeader,
        Presentation::WsRefresh,
    ];

    fn slug(self) -> &'static str {
        match self {
            Presentation::Rest => "rest",
            Presentation::WsQuery => "ws-query",
            Presentation::WsHeader => "ws-header",
            Presentation::WsRefresh => "ws-refresh",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Presentation::Rest => "as the bearer token of GET /v1/me",
            Presentation::WsQuery => "in the query string of the WebSocket handshake",
            Presentation::WsHeader => "in the Authorization header of the WebSocket handshake",
            Presentation::WsRefresh => "in a `refresh_token` frame",
        }
    }

    fn takes_headers_only(self) -> bool {
        matches!(self, Presentation::Rest | Presentation::WsHeader)
    }
}

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (index, attack) in catalogue().into_iter().enumerate() {
        for presentation in Presentation::ALL {
            if attack.header_only && !presentation.takes_headers_only() {
                continue;
            }
            let mut case = Case::must(
                format!("auth.jwt.{}.{}", attack.slug, presentation.slug()),
                attack.section,
                format!("{} ({})", attack.expectation, presentation.describe()),
                move |ctx| run_attack(ctx, index, presentation),
            );
            if matches!(attack.forge, Forge::Keyed(_)) {
                case = case.needs(Capability::JwtSecret);
            }
            cases.push(case);
        }
    }
    cases.push(Case::must(
        "auth.jwt.token-missing",
        "token-format",
        "a protected endpoint or a handshake without any token answers 401 token_missing",
        token_missing,
    ));
    cases.push(Case::must(
        "auth.jwt.valid-after-invalid",
        "token-format",
        "a valid token is still accepted, over REST and the WebSocket, after a run of forgeries",
        valid_after_invalid,
    ));
    cases.push(
        Case::must(
            "auth.jwt.exp-leeway",
            "token-format",
            "a token a few seconds past `exp`, inside the clock leeway (30 s by default), is still accepted",
            exp_leeway,
        )
        .needs(Capability::JwtSecret),
    );
    cases
}

/// The valid tokens and claims the attacks start from.
async fn bases(ctx: &Ctx, minter: Option<&Minter<'_>>) -> Result<Bases, Failure> {
    let agent = ctx.agent().await?;
    let chat = ctx.shared_chat().await?;
    let (agent_claims, guest_claims) = match minter {
        Some(minter) => (minter.agent_claims(&agent), minter.guest_claims(&chat)),
        None => (Value::Null, Value::Null),
    };
    Ok(Bases {
        agent_token: agent.access_token,
        refresh_token: agent.refresh_token,
        guest_token: chat.guest_token,
        agent_claims,
        guest_claims,
    })
}

async fn run_attack(ctx: Ctx, index: usize, presentation: Presentation) -> CaseResult {
    let attacks = catalogue();
    let attack: &Attack = &attacks[index];
    let forged = match attack.forge {
        Forge::Issued(forge) => forge(&bases(&ctx, None).await?),
        Forge::Keyed(forge) => {
            let minter = ctx.minter()?;
            forge(&bases(&ctx, Some(&minter)).await?, &minter)
        }
    };
    if forged.is_empty() {
        return Err(CaseError::Skipped(
            "the server's tokens are not compact JWS, so there is nothing to forge from".to_owned(),
        ));
    }
    present(&ctx, presentation, &forged).await?;
    Ok(())
}

/// Presents every forgery; collects every wrong answer into one failure.
async fn present(ctx: &Ctx, presentation: Presentation, forged: &[Forged]) -> Result<(), Failure> {
    let mut wrong = Vec::new();
    match presentation {
        Presentation::Rest => {
            for forgery in forged {
                let request = ctx.get("/v1/me");
                let request = match &forgery.presented {
                    Presented::Token(token) => request.bearer(token),
                    Presented::Authorization(value) => request.header("authorization", value),
                };
                let reply = request.send().await?;
                if reply.status != 401 || reply.error_code() != Some(forgery.code) {
                    wrong.push(format!("{}: {}", forgery.label, reply.describe()));
                }
            }
        }
        Presentation::WsQuery | Presentation::WsHeader => {
            for forgery in forged {
                let token = match (&forgery.presented, presentation) {
                    (Presented::Token(token), Presentation::WsQuery) => {
                        TokenPlace::Query(token.clone())
                    }
                    (Presented::Token(token), _) => TokenPlace::Header(token.clone()),
                    (Presented::Authorization(value), _) => TokenPlace::RawHeader(value.clone()),
                };
                let handshake = Handshake {
                    who: "forger",
                    token,
                    ticket: None,
                    after_seq: None,
                    origin: None,
                };
                match ctx.ws(handshake).await? {
                    Err(refusal)
                        if refusal.status == 401 && refusal.error_code() == Some(forgery.code) => {}
                    Err(refusal) => {
                        wrong.push(format!("{}: {}", forgery.label, refusal.describe()))
                    }
                    Ok(ws) => {
                        wrong.push(format!("{}: 101, the socket opened", forgery.label));
                        ws.close().await;
                    }
                }
            }
        }
        Presentation::WsRefresh => present_in_refresh_frames(ctx, forged, &mut wrong).await?,
    }
    let codes: std::collections::BTreeSet<&str> = forged.iter().map(|f| f.code).collect();
    let codes: Vec<String> = codes.into_iter().map(|code| format!("{code:?}")).collect();
    let answer = match presentation {
        Presentation::WsRefresh => format!(
            "an `error` frame with code {} echoing `ref`",
            codes.join(" or ")
        ),
        _ => format!("401 with error.code {}", codes.join(" or ")),
    };
    checks::ensure(
        wrong.is_empty(),
        format!(
            "presenting {} forged tokens {}",
            forged.len(),
            presentation.describe()
        ),
        format!("{answer} for every one"),
        || format!("{} wrong: {}", wrong.len(), grouped(&wrong)),
    )
}

/// `label: answer` lines grouped by answer, so one wrong answer given to
/// twenty forgeries reads once: `answer <- label, label, ...`.
fn grouped(wrong: &[String]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in wrong {
        let (label, answer) = line.split_once(": ").unwrap_or((line, ""));
        match groups.iter_mut().find(|(known, _)| *known == answer) {
            Some((_, labels)) => labels.push(label),
            None => groups.push((answer, vec![label])),
        }
    }
    groups
        .iter()
        .map(|(answer, labels)| format!("{answer} <- {}", labels.join("; ")))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// `refresh_token` frames on a socket of the forgery's kind. A socket
/// takes at most `ws_frames_per_second` frames before a fresh one
/// replaces it, so the per-connection frame limit (bursts of twice that)
/// is never what answers.
async fn present_in_refresh_frames(
    ctx: &Ctx,
    forged: &[Forged],
    wrong: &mut Vec<String>,
) -> Result<(), Failure> {
    let agent = ctx.agent().await?;
    let chat = ctx.shared_chat().await?;
    let per_socket = ctx.config().limits.ws_frames_per_second.max(1) as usize;
    let mut sockets: [Option<(Ws, usize)>; 2] = [None, None];
    for (n, forgery) in forged.iter().enumerate() {
        let Presented::Token(token) = &forgery.presented else {
            continue;
        };
        let slot = &mut sockets[match forgery.kind {
            Kind::Agent => 0,
            Kind::Guest => 1,
        }];
        if slot.as_ref().is_some_and(|(_, sent)| *sent >= per_socket)
            && let Some((mut ws, _)) = slot.take()
        {
            ws.barrier().await?;
            ws.close().await;
        }
        if slot.is_none() {
            let (who, token) = match forgery.kind {
                Kind::Agent => ("agent", agent.access_token.as_str()),
                Kind::Guest => ("guest", chat.guest_token.as_str()),
            };
            *slot = Some((ctx.connect(who, token).await?.0, 0));
        }
        let Some((ws, sent)) = slot.as_mut() else {
            continue;
        };
        *sent += 1;
        let reference = json!(format!("forgery-{n}"));
        ws.send(json!({"type": "refresh_token", "token": token, "ref": reference}))
            .await?;
        let answer = ws.next_frame().await?;
        if checks::expect_error_frame(&answer, forgery.code, &reference, "").is_err() {
            wrong.push(format!("{}: {}", forgery.label, checks::show(&answer)));
        }
    }
    for (mut ws, _) in sockets.into_iter().flatten() {
        ws.barrier().await?;
        ws.close().await;
    }
    Ok(())
}

async fn token_missing(ctx: Ctx) -> CaseResult {
    let reply = ctx.get("/v1/me").send().await?;
    expect_error(&reply, 401, "token_missing", "GET /v1/me without a token")?;
    checks::ensure(
        reply
            .header("www-authenticate")
            .is_some_and(|value| value.to_ascii_lowercase().starts_with("bearer")),
        "the 401 of GET /v1/me without a token",
        "a `WWW-Authenticate: Bearer` header",
        || format!("{:?}", reply.header("www-authenticate")),
    )?;
    let handshake = Handshake {
        who: "anonymous",
        token: TokenPlace::None,
        ticket: None,
        after_seq: None,
        origin: None,
    };
    checks::expect_refused(
        ctx.ws(handshake).await?,
        401,
        "token_missing",
        "a handshake without a token",
    )
    .await?;
    Ok(())
}

async fn valid_after_invalid(ctx: Ctx) -> CaseResult {
    let agent = ctx.agent().await?;
    let chat = ctx.shared_chat().await?;
    let Some(parts) = jwt::Parts::of(&agent.access_token) else {
        return Err(CaseError::Skipped(
            "the server's tokens are not compact JWS".to_owned(),
        ));
    };
    let header = parts.header_json().unwrap_or(Value::Null);
    let claims = parts.claims_json().unwrap_or(Value::Null);
    let none = jwt::with_signature(&jwt::with(header, "alg", json!("none")), &claims, "");
    for bad in ["garbage", none.as_str(), "a.b.c"] {
        ctx.get("/v1/me").bearer(bad).send().await?;
        let _ = ctx.ws(Handshake::query("forger", bad)).await?;
    }
    for (who, token) in [("agent", &agent.access_token), ("guest", &chat.guest_token)] {
        let reply = ctx.get("/v1/me").bearer(token).send().await?;
        checks::expect_status(
            &reply,
            200,
            &format!("GET /v1/me with the valid {who} token after forgeries"),
        )?;
        let (ws, _) = ctx.connect(who, token).await?;
        ws.close().await;
    }
    Ok(())
}

async fn exp_leeway(ctx: Ctx) -> CaseResult {
    let minter = ctx.minter()?;
    let agent = ctx.agent().await?;
    // Half the leeway in the past: inside it however the clocks drift.
    let past = i64::try_from(ctx.config().jwt.leeway.as_secs() / 2)
        .unwrap_or(0)
        .max(1);
    let claims = jwt::with(minter.agent_claims(&agent), "exp", json!(jwt::now() - past));
    let reply = ctx
        .get("/v1/me")
        .bearer(&minter.sign(&claims))
        .send()
        .await?;
    checks::expect_status(
        &reply,
        200,
        "GET /v1/me with a token inside the leeway past exp",
    )?;
    Ok(())
}
