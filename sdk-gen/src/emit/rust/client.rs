//! The view of `client_behaviour.rs`: the client behaviour table as Rust
//! constants and two decision functions.

use serde::Serialize;

use crate::emit::pascal_case;
use crate::model::{Backoff, ClientBehaviour, Failure, FrameAction, RuleOperations, RuleWait};

#[derive(Serialize)]
pub struct ClientView {
    reconnect_backoff: String,
    reset_after_ms: u64,
    rest_max_retries: u32,
    rest_backoff: String,
    rest_max_retry_after_ms: u64,
    frame_backoff: String,
    margin: String,
    fallback_frames_per_second: u32,
    fallback_frame_burst: u32,
    fallback_max_frame_bytes: u32,
    refresh_margin_ms: u64,
    /// `true` or `false`, as both languages write it.
    send_refreshed_token: String,
    keep_position: String,
    send_queue: u32,
    gap_page: u32,
    rest_rules: Vec<RuleView>,
    frames: Vec<FrameView>,
}

#[derive(Serialize)]
struct RuleView {
    why: String,
    /// The condition on `failed`.
    test: String,
    operations: &'static str,
    wait: &'static str,
}

#[derive(Serialize)]
struct FrameView {
    why: String,
    /// `Some("send")` or `None`.
    frame: String,
    code: String,
    action: &'static str,
}

fn backoff(b: &Backoff) -> String {
    format!(
        "BackoffTable {{ base: Duration::from_millis({}), factor: {}, floor: Duration::from_millis({}), cap: Duration::from_millis({}) }}",
        b.base_ms, b.factor, b.floor_ms, b.cap_ms
    )
}

impl ClientView {
    pub fn new(table: &ClientBehaviour) -> ClientView {
        let rest_rules = table
            .rest
            .rules
            .iter()
            .map(|rule| RuleView {
                why: rule.why.clone(),
                test: match &rule.on {
                    Failure::Code(code) => format!(
                        "matches!(failed, Failed::Refused {{ code: ErrorCode::{}, .. }})",
                        pascal_case(code)
                    ),
                    Failure::Status(status) => {
                        format!("matches!(failed, Failed::Refused {{ status: {status}, .. }})")
                    }
                    Failure::Transport => "matches!(failed, Failed::Transport)".to_owned(),
                },
                operations: match rule.operations {
                    RuleOperations::Every => "Every",
                    RuleOperations::Safe => "Safe",
                },
                wait: match rule.wait {
                    RuleWait::TokenRefresh => "TokenRefresh",
                    RuleWait::RetryAfter => "RetryAfter",
                    RuleWait::Backoff => "Backoff",
                },
            })
            .collect();
        let frames = table
            .frames
            .iter()
            .map(|f| FrameView {
                why: f.why.clone(),
                frame: f
                    .frame
                    .as_ref()
                    .map_or_else(|| "None".to_owned(), |tag| format!("Some({tag:?})")),
                code: pascal_case(&f.code),
                action: match f.action {
                    FrameAction::SendAgain => "SendAgain",
                    FrameAction::Reconnect => "Reconnect",
                },
            })
            .collect();
        ClientView {
            reconnect_backoff: backoff(&table.reconnect.backoff),
            reset_after_ms: table.reconnect.reset_after_connected_ms,
            rest_max_retries: table.rest.max_retries,
            rest_backoff: backoff(&table.rest.backoff),
            rest_max_retry_after_ms: table.rest.max_retry_after_ms,
            frame_backoff: backoff(&table.frame_backoff),
            margin: format!("{:?}", table.pacing.margin),
            fallback_frames_per_second: table.pacing.fallback_frames_per_second,
            fallback_frame_burst: table.pacing.fallback_frame_burst,
            fallback_max_frame_bytes: table.pacing.fallback_max_frame_bytes,
            refresh_margin_ms: table.sessions.refresh_margin_ms,
            send_refreshed_token: table.sessions.send_refreshed_token_on_socket.to_string(),
            keep_position: (table.subscribe_again == "keep_position").to_string(),
            send_queue: table.send_queue,
            gap_page: table.gap_page,
            rest_rules,
            frames,
        }
    }
}
