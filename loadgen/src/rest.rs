//! The REST calls that set a scenario up: logins, agents, chats.

use anyhow::Context;
use serde_json::{Value, json};

use crate::target::Target;

/// A started chat and the token of its guest.
pub struct GuestChat {
    pub chat_id: String,
    pub guest_token: String,
}

pub struct Rest {
    client: reqwest::Client,
    base: String,
}

impl Rest {
    pub fn new(target: &Target) -> Self {
        Rest {
            client: reqwest::Client::new(),
            base: target.base.clone(),
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> anyhow::Result<Value> {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "POST {path} answered {status}: {body}");
        Ok(body)
    }

    /// An access token for `email`.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let body = self
            .post(
                "/v1/auth/login",
                None,
                &json!({"email": email, "password": password}),
            )
            .await?;
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("login answer without access_token")
    }

    /// Creates an agent as `admin` and logs it in.
    pub async fn new_agent(&self, admin: &str, email: &str) -> anyhow::Result<String> {
        let password = "load generator agent password";
        let name = email.split('@').next().unwrap_or("agent");
        self.post(
            "/v1/agents",
            Some(admin),
            &json!({"email": email, "name": name, "role": "agent", "password": password}),
        )
        .await?;
        self.login(email, password).await
    }

    pub async fn start_chat(&self) -> anyhow::Result<GuestChat> {
        let body = self
            .post(
                "/v1/chats",
                None,
                &json!({"visitor": {"name": "Load"}, "subject": "Load test"}),
            )
            .await?;
        Ok(GuestChat {
            chat_id: body["chat"]["id"]
                .as_str()
                .context("chat answer without chat.id")?
                .to_owned(),
            guest_token: body["guest_token"]
                .as_str()
                .context("chat answer without guest_token")?
                .to_owned(),
        })
    }
}
