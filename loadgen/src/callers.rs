//! Who makes the open-loop calls: the guests of fresh chats, and agents if
//! asked, each with its token and the chat it writes to.

use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt, stream};

use crate::rest::Rest;
use crate::target::Target;

/// A principal's token and a chat it may write to.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: String,
    pub chat_id: String,
}

/// Starts `chats` chats (their guests call) and, with `agents` above
/// zero, creates and logs in that many agents, agent `a` writing to chat
/// `a % chats`: guests first, then agents.
pub async fn set_up(target: &Target, chats: usize, agents: usize) -> anyhow::Result<Vec<Caller>> {
    anyhow::ensure!(chats >= 1, "need at least one chat");
    let rest = Rest::new(target);
    let mut callers: Vec<Caller> = stream::iter(0..chats)
        .map(|_| rest.start_chat())
        .buffered(16)
        .map_ok(|chat| Caller {
            token: chat.guest_token,
            chat_id: chat.chat_id,
        })
        .try_collect()
        .await?;
    if agents > 0 {
        let admin = rest
            .login(&target.admin_email, &target.admin_password)
            .await
            .context("admin login")?;
        let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
        for a in 0..agents {
            let email = format!("loadgen-{run}-{a}@example.com");
            let chat_id = callers[a % chats].chat_id.clone();
            let token = rest.new_agent(&admin, &email).await?;
            callers.push(Caller { token, chat_id });
        }
    }
    eprintln!("set up {chats} chats and {agents} agents");
    Ok(callers)
}
