//! `rest.agents.*`: an admin creates and lists agents (spec: "Endpoints").

use serde_json::json;

use crate::case::{Case, CaseResult};
use crate::checks::{self, array_at, ensure, expect_error, expect_status, str_at};
use crate::context::Ctx;

pub fn cases() -> Vec<Case> {
    vec![Case::must(
        "rest.agents.create",
        "endpoints",
        "an admin creates an agent (unknown body fields ignored) and lists it; the same email in other case answers 409 email_taken",
        create_agent,
    )]
}

async fn create_agent(ctx: Ctx) -> CaseResult {
    let admin = ctx.admin()?;
    let email = format!("new-{}@example.com", uuid::Uuid::new_v4());
    let created = ctx
        .post("/v1/agents")
        .bearer(&admin.access_token)
        .json(json!({"email": email, "name": "Grace", "role": "agent", "password": "a long enough password", "favourite_colour": "blue"}))
        .send()
        .await?;
    expect_status(&created, 201, "POST /v1/agents with an extra field")?;
    let agent = created.json();
    ensure(
        agent["email"] == email.as_str() && agent["name"] == "Grace" && agent["role"] == "agent",
        "the created agent",
        format!("email {email:?}, name \"Grace\", role \"agent\""),
        || checks::show(agent),
    )?;
    let id = str_at(agent, "/id", "the created agent")?.to_owned();
    let listed = ctx
        .get("/v1/agents")
        .bearer(&admin.access_token)
        .send()
        .await?;
    expect_status(&listed, 200, "GET /v1/agents")?;
    let agents = array_at(listed.json(), "/agents", "GET /v1/agents")?;
    ensure(
        agents.iter().any(|agent| agent["id"] == id.as_str()),
        "GET /v1/agents",
        format!("the new agent {id} listed"),
        || checks::show(listed.json()),
    )?;
    let again = ctx
        .post("/v1/agents")
        .bearer(&admin.access_token)
        .json(json!({"email": email.to_ascii_uppercase(), "name": "Grace", "role": "agent", "password": "a long enough password"}))
        .send()
        .await?;
    expect_error(
        &again,
        409,
        "email_taken",
        "creating an agent with the same email in upper case",
    )?;
    Ok(())
}
